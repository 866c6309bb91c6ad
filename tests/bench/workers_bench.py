# SPDX-License-Identifier: MIT
"""What workers buy: the hello app served with workers = 1, 2 and "auto",
side by side in one run, as ratios against workers = 1 (nothing here
passes or fails on a timing).

    python3 tests/bench/workers_bench.py [--target linux-x86_64|win-x64]
        [--wrk-rounds 3] [--wrk-seconds 5] [--starts 5] [--json FILE]

  - requests/s: all servers up; a 1 s warm-up each, then
    `wrk -t1 -c32 -dS`, R rounds per side, alternating; the median. Not
    pinned: the workers need every CPU (wrk shares them);
  - spread: the busiest of 2 workers' share (from the access log) of
    (a) the requests of a wrk run, whose 32 connections open in a burst,
    and (b) 20 keep-alive connections opened one at a time, 50 ms apart,
    and held, as WebSockets are; with Gale's balanced accept and with
    Tornado's own accept handler (GALE_DEBUG_WORKER_ACCEPT=tornado);
  - start to first 200: spawn, poll GET / every 2 ms; N runs per side,
    alternating, after a warm-up start; the median.

Under Wine every socket call goes through the one wineserver, which limits
all the workers together: the win-x64 figures are context, not a forecast
for Windows. Uses the test harness (tests/integration/harness.py) and the
event-loop benchmark's server wrapper.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from bench import http_status, log, order, print_rows, run_wrk
from loop_bench import PLAIN, Server, end_host, make_host, pack, wrk_rounds

import harness  # noqa: E402 (loop_bench put it on the path)

SIDES = ("1", "2", "auto")


def serve(host, exe, side, workdir, accept=None) -> Server:
    env = {"GALE_DEBUG_WORKER_ACCEPT": accept} if accept else {}
    return Server(host, exe, f"workers-{side}", workdir,
                  options=["--workers", side, "--max-connections", "100000"], env=env)


def access_lines(srv) -> dict:
    """{worker: requests it logged} from the server's log so far."""
    with open(srv.logfile, encoding="utf-8", errors="replace") as f:
        text = f.read()
    counts = {}
    for n in re.findall(r"\[worker (\d+)\] tornado\.access", text):
        counts[n] = counts.get(n, 0) + 1
    return counts


def bench_rps(host, exe, args, workdir) -> dict:
    return wrk_rounds({side: serve(host, exe, side, workdir) for side in SIDES}, SIDES, args)


def held_trickle(port, count=20, gap=0.05) -> None:
    """Opens `count` keep-alive connections one at a time, each asking for
    / once, and holds them all until the last has its answer."""
    import http.client

    conns = []
    try:
        for _ in range(count):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/")
            conn.getresponse().read()
            conns.append(conn)
            time.sleep(gap)
    finally:
        for conn in conns:
            conn.close()


def bench_spread(host, exe, args, workdir) -> dict:
    """The busiest worker's share of each load's requests, per accept mode."""
    out = {}
    for accept in ("balanced", "tornado"):
        for load in ("burst", "trickle"):
            shares = []
            for _ in range(args.wrk_rounds):
                srv = serve(host, exe, "2", workdir, accept)
                try:
                    before = access_lines(srv)
                    if load == "burst":
                        run_wrk(srv.port, args.wrk_seconds, args)
                    else:
                        held_trickle(srv.port)
                finally:
                    srv.stop()
                after = access_lines(srv)
                counts = [after.get(n, 0) - before.get(n, 0) for n in ("1", "2")]
                shares.append(max(counts) / max(1, sum(counts)))
            out[f"{accept}-{load}"] = {"median_busiest_share": statistics.median(shares),
                                       "runs": shares}
    return out


def first_200(host, exe, side) -> float:
    port = harness.free_port()
    start = time.perf_counter()
    proc = host.spawn("serve", "--port", str(port), "--workers", side, exe=exe, env=PLAIN)
    try:
        while http_status(port) != 200:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"workers={side} exited with {proc.popen.returncode}")
            time.sleep(0.002)
        return time.perf_counter() - start
    finally:
        proc.stop(timeout=120)


def bench_start(host, exe, args) -> dict:
    sides = ("1", "2")
    for side in sides:
        first_200(host, exe, side)  # warm-up: caches, and the Wine prefix
    times = {side: [] for side in sides}
    for i in range(args.starts):
        for side in order(i, sides):
            times[side].append(first_200(host, exe, side))
    return {side: {"median_s": statistics.median(t), "runs": t} for side, t in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="linux-x86_64", choices=("linux-x86_64", "win-x64"))
    p.add_argument("--only", action="append", choices=("rps", "spread", "start"))
    p.add_argument("--wrk-rounds", type=int, default=3)
    p.add_argument("--wrk-seconds", type=int, default=5)
    p.add_argument("--starts", type=int, default=5)
    p.add_argument("--json", help="also write the raw results here")
    args = p.parse_args()
    args.no_pin, args.wrk_cpu, args.wrk_threads, args.wrk_connections = True, None, 1, 32
    sys.stdout.reconfigure(line_buffering=True)
    wanted = args.only or ["rps", "spread", "start"]
    workdir = tempfile.mkdtemp(prefix="gale-workers-bench-")
    log(f"work folder {workdir} (server logs)")
    exe = pack(args.target, workdir)
    host = make_host(args.target, exe, workdir, args)
    warm = host.run("check", "--workers", "auto", timeout=600)
    if warm.returncode != 0:
        sys.exit(f"bench: {exe} check failed: {warm.stderr.strip()}")
    auto = re.search(r"^workers = (\d+)", warm.stdout, re.M).group(1)
    print(f"target {args.target}: {exe}, {os.cpu_count()} CPUs; workers = auto is {auto}")
    res = {}
    try:
        if "rps" in wanted:
            log("requests/s")
            res["rps"] = bench_rps(host, exe, args, workdir)
        if "spread" in wanted:
            log("spread")
            res["spread"] = bench_spread(host, exe, args, workdir)
        if "start" in wanted:
            log("start to first 200")
            res["start"] = bench_start(host, exe, args)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        sys.exit(f"bench: {e} (logs in {workdir})")
    finally:
        end_host(host, args)
    print_table(res)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


def print_table(res):
    if "rps" in res:
        rps = {side: res["rps"][side]["median_rps"] for side in SIDES}
        print_rows([("hello req/s (median)", "req/s", "higher", rps)], SIDES)
        base = rps["1"]
        print("ratio to workers = 1: " + ", ".join(f"{s}: {rps[s] / base:.2f}" for s in SIDES))
    if "spread" in res:
        print("the busiest of 2 workers' share (0.50 is even):")
        for load, what in (("burst", "a wrk run (32 connections at once)"),
                           ("trickle", "20 held connections, one at a time")):
            b, t = (res["spread"][f"{a}-{load}"]["median_busiest_share"]
                    for a in ("balanced", "tornado"))
            print(f"  {what}: Gale's balanced accept {b:.2f}, Tornado's accept {t:.2f}")
    if "start" in res:
        t = {side: res["start"][side]["median_s"] * 1000 for side in ("1", "2")}
        print(f"start to first 200 (median ms): 1 worker {t['1']:.0f}, 2 workers {t['2']:.0f}, "
              f"2/1 = {t['2'] / t['1']:.2f}")


if __name__ == "__main__":
    main()
