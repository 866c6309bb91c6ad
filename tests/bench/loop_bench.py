# SPDX-License-Identifier: MIT
"""Gale's event-loop benchmark: on one target's gale executable, Gale's loop
("gale": on Windows readiness on the Proactor's completion port,
docs/windows-event-loop.md) side by side with stock Tornado's loop
("stock": GALE_DEBUG_EVENT_LOOP=selector-thread, Tornado's select() thread
over asyncio's Proactor). Prints a table of ratios gale/stock; nothing here
passes or fails on a timing.

This file owns the measurements:
  - hello-world requests/s under wrk (median of R rounds, sides alternating);
  - WebSocket echo round trips, p50 and p99, with 100 and 1,000 connections
    open: S sequential round trips, each on a connection picked at random;
  - the most connections held: WebSockets opened in batches of 50 until a
    batch fails to open or echo, GET / takes 1 s or more, the server exits,
    or the bound (--held-max) is reached.
Both sides run with --max-connections 1000000, so what stops them is the
loop, not Gale's cap. On Linux there is one loop, so only "gale" runs.

Driven by the machine's python3 (3.11 or later); tests/bench/loop.sh calls
it with the target's executable. The Windows targets run through the test
harness (tests/integration/harness.py): win-x64 under wine64 in a fresh
prefix, win-arm64 in the arm64 root through qemu.
"""
import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402
import wsclient  # noqa: E402
from bench import log, order, print_rows, run_wrk  # noqa: E402

LOOPS = {"gale": {}, "stock": {"GALE_DEBUG_EVENT_LOOP": "selector-thread"}}
# The harness starts Windows servers with GALE_DEBUG=1 (for their Windows
# pid); the benchmark serves as a user would, so it runs without. SIGINT
# (CTRL_C_EVENT) stops them.
PLAIN = {"GALE_DEBUG": "0"}
NO_CAP = ["--max-connections", "1000000"]
HELD_MAX = {"linux-x86_64": 18000, "win-x64": 15000, "win-arm64": 15000}


class Server:
    """`serve` of the packed hello app on one side's loop. Its output is
    drained by threads into a log file (Wine's CPython cannot write to a
    regular file as its std handle, so the harness gives it pipes)."""

    def __init__(self, host, exe, side, workdir, options=None, env=None):
        """`options` and `env` replace the loop side's (for workers_bench.py)."""
        self.side = side
        self.port = harness.free_port()
        self.proc = host.spawn("serve", "--port", str(self.port),
                               *(NO_CAP if options is None else options), exe=exe,
                               env={**PLAIN, **(LOOPS[side] if env is None else env)})
        self.logfile = os.path.join(workdir, f"{side}-{self.port}.log")
        self.sink = sink = open(self.logfile, "ab")

        def drain(pipe):
            fd = pipe.fileno()
            while chunk := os.read(fd, 65536):
                sink.write(chunk)

        self.threads = [threading.Thread(target=drain, args=(p,), daemon=True)
                        for p in (self.proc.popen.stdout, self.proc.popen.stderr)]
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + 120
        while not self.answers():
            if self.proc.popen.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{side} server did not serve; see {self.logfile}")
            time.sleep(0.1)

    def answers(self) -> bool:
        try:
            return harness.get(f"http://127.0.0.1:{self.port}/")[0] == 200
        except OSError:
            return False

    def stop(self):
        if self.proc.popen.poll() is None:
            self.proc.request_stop()
            try:
                self.proc.popen.wait(300)  # a drain of thousands of closes under Wine
            except subprocess.TimeoutExpired:
                log(f"{self.side} server (pid {self.proc.pid}) did not stop; killing it")
                self.proc.popen.kill()
                self.proc.popen.wait()
        for t in self.threads:
            t.join(10)
        self.sink.close()


def bench_wrk(host, exe, sides, args, workdir):
    return wrk_rounds({side: Server(host, exe, side, workdir) for side in sides}, sides, args)


def wrk_rounds(servers, sides, args):
    """wrk on each running server (Server, one per side), R rounds with the
    sides alternating, after a warm-up each; stops the servers."""
    rps = {side: [] for side in sides}
    try:
        for side in sides:
            run_wrk(servers[side].port, 1, args)  # warm-up, not counted
        for i in range(args.wrk_rounds):
            for side in order(i, sides):
                rps[side].append(run_wrk(servers[side].port, args.wrk_seconds, args))
    finally:
        for srv in servers.values():
            srv.stop()
    return {side: {"median_rps": statistics.median(r), "runs": r} for side, r in rps.items()}


async def round_trips(conns, samples) -> dict:
    times = []
    for i in range(samples):
        conn = random.choice(conns)
        start = time.perf_counter()
        assert await wsclient.ws_echo(conn, f"r{i}") == f"r{i}"
        times.append(time.perf_counter() - start)
    q = statistics.quantiles(times, n=100)
    return {"p50_ms": q[49] * 1e3, "p99_ms": q[98] * 1e3}


async def ws_levels(srv, levels, samples) -> dict:
    """Round-trip percentiles with each count in `levels` open; a level the
    server cannot reach records why instead."""
    conns, out = [], {}
    try:
        for level in levels:
            try:
                while len(conns) < level:  # a batch at a time, so a failure knows the count
                    conns += await asyncio.wait_for(wsclient.ws_open_batches(
                        srv.port, min(wsclient.BATCH, level - len(conns))), 120)
                out[level] = await asyncio.wait_for(round_trips(conns, samples), 600)
            except (OSError, AssertionError, asyncio.IncompleteReadError,
                    asyncio.TimeoutError) as exc:
                out[level] = {"failed": describe_failure(srv, len(conns), exc)}
                break
    finally:
        wsclient.close_all(conns)
    return out


def describe_failure(srv, held, exc) -> str:
    time.sleep(1)
    code = srv.proc.popen.poll()
    why = f"server exited with {code}" if code is not None else f"{type(exc).__name__}"
    return f"{why} with about {held} open"


async def most_held(srv, bound, seconds) -> dict:
    conns, deadline = [], time.monotonic() + seconds
    loop = asyncio.get_running_loop()
    try:
        while True:
            if len(conns) >= bound:
                return {"held": len(conns), "stopped": f"the bound ({bound})"}
            if time.monotonic() > deadline:
                return {"held": len(conns), "stopped": f"the time limit ({seconds} s)"}
            try:
                batch = await asyncio.wait_for(wsclient.ws_open_batches(
                    srv.port, min(wsclient.BATCH, bound - len(conns))), 120)
                await asyncio.wait_for(wsclient.echo_all(batch), 120)
                conns += batch
                took = await loop.run_in_executor(None, harness.timed_get,
                                                  f"http://127.0.0.1:{srv.port}/")
            except (OSError, AssertionError, asyncio.IncompleteReadError,
                    asyncio.TimeoutError) as exc:
                return {"held": len(conns), "stopped": describe_failure(srv, len(conns), exc)}
            if took >= 1.0:
                return {"held": len(conns), "stopped": f"GET / took {took:.1f} s"}
    finally:
        wsclient.close_all(conns)


def bench_ws(host, exe, sides, kind, args, workdir):
    result = {side: {} for side in sides}
    for i in range(args.rounds):
        for side in order(i, sides):
            srv = Server(host, exe, side, workdir)
            try:
                if kind == "ws":
                    got = asyncio.run(ws_levels(srv, args.levels, args.samples))
                else:
                    got = asyncio.run(most_held(srv, args.held_max, args.held_seconds))
            finally:
                srv.stop()
            log(f"{kind} {side}: {got}")
            result[side].setdefault("runs", []).append(got)
    return result


def make_host(target, exe, workdir, args):
    home = os.path.join(workdir, "home")
    os.makedirs(home, exist_ok=True)
    if target == "linux-x86_64":
        return harness.Host(exe, home)
    if target == "win-x64":
        return harness.WineHost(exe, home, os.path.join(workdir, "wineprefix"))
    if not args.arm64_root:
        sys.exit("bench: win-arm64 needs --arm64-root (tests/harness/arm64-root.sh prints it)")
    return harness.Arm64Host(exe, home, os.path.join(ROOT, "tests", "harness", "arm64-run.sh"),
                             args.arm64_root, [workdir, ROOT])


def warn_strays(root, wait=90):
    """Names Wine processes still running in the arm64 root once the runs
    are over (seen after this benchmark: services.exe and winedevice.exe
    outliving their wineserver); they are left for the user to end."""
    root = os.path.realpath(root)
    deadline = time.monotonic() + wait
    while True:
        strays = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{pid}/root") == root:
                    strays.append(pid)
            except OSError:
                pass
        if not strays or time.monotonic() > deadline:
            break
        time.sleep(5)
    if strays:
        log(f"Wine processes still run in {root}: pids {' '.join(strays)}; "
            f"end them (kill PID) before the next run")


def end_host(host, args) -> None:
    """Stops what the runs left: the host's processes, and Wine's."""
    host.cleanup()
    if args.target == "win-x64":
        subprocess.run([harness.WineHost.WINESERVER, "-k"],
                       env={**os.environ, **harness.wine_env(host.prefix)}, timeout=60)
    elif args.target == "win-arm64":
        warn_strays(args.arm64_root)


def pack(target, workdir) -> str:
    packer = os.path.join(ROOT, "dist", "linux-x86_64", "gale")
    out = os.path.join(workdir, "hellobench")
    r = subprocess.run([packer, "pack", os.path.join(HERE, "helloapp"), "-o", out,
                        "--target", target], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench: gale pack failed ({r.returncode}): {r.stderr.strip()}")
    return out + (".exe" if target.startswith("win") else "")


def print_table(res, sides, args):
    rows = []
    if "wrk" in res:
        rows.append((f"hello req/s, wrk -c{args.wrk_connections} -d{args.wrk_seconds}s, "
                     f"median of {args.wrk_rounds}", "req/s", "higher",
                     {s: res["wrk"][s]["median_rps"] for s in sides}))
    for level in args.levels if "ws" in res else ():
        for q in ("p50", "p99"):
            rows.append((f"WebSocket round trip {q}, {level:,} open", "ms", "lower",
                         {s: pick(res["ws"][s]["runs"], level, f"{q}_ms") for s in sides}))
    if "held" in res:
        rows.append((f"most WebSockets held (bound {args.held_max:,})", "conns", "higher",
                     {s: min(r["held"] for r in res["held"][s]["runs"]) for s in sides}))
    print_rows(rows, sides)
    for kind in ("ws", "held"):
        for side in sides if kind in res else ():
            for run in res[kind][side]["runs"]:
                notes = ([f"{lv}: {r['failed']}" for lv, r in run.items() if "failed" in r]
                         if kind == "ws" else [f"held {run['held']}, stopped by {run['stopped']}"])
                for note in notes:
                    print(f"  {kind} {side}: {note}")


def pick(runs, level, key):
    """The median over runs, or "failed" if any run did not reach the level."""
    vals = [r.get(level, {}).get(key) for r in runs]
    return statistics.median(vals) if None not in vals else "failed"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="win-x64",
                   choices=("linux-x86_64", "win-x64", "win-arm64"))
    p.add_argument("--arm64-root", help="the arm64 root (win-arm64 only)")
    p.add_argument("--only", action="append", choices=("wrk", "ws", "held"))
    p.add_argument("--rounds", type=int, default=1, help="server runs per side for ws and held")
    p.add_argument("--levels", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--samples", type=int, default=500, help="round trips per level")
    p.add_argument("--held-max", type=int, help="the most-held bound (default per target)")
    p.add_argument("--held-seconds", type=int, default=900)
    p.add_argument("--wrk-rounds", type=int, default=3)
    p.add_argument("--wrk-seconds", type=int, default=5)
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--wrk-connections", type=int, default=32)
    p.add_argument("--json", help="also write the raw results here")
    args = p.parse_args()
    args.no_pin, args.wrk_cpu = True, None  # Wine's wineserver needs both CPUs
    args.held_max = args.held_max or HELD_MAX[args.target]
    args.levels = sorted(args.levels)
    sys.stdout.reconfigure(line_buffering=True)
    wanted = args.only or ["wrk", "ws", "held"]
    sides = ("gale", "stock") if args.target.startswith("win") else ("gale",)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    args.held_max = min(args.held_max, hard - 200)

    workdir = tempfile.mkdtemp(prefix="gale-loop-bench-")
    log(f"work folder {workdir} (server logs)")
    exe = pack(args.target, workdir)
    host = make_host(args.target, exe, workdir, args)
    warm = host.run("--version", timeout=600)  # makes the Wine prefix
    if warm.returncode != 0:
        sys.exit(f"bench: {exe} --version failed: {warm.stderr.strip()}")
    version = warm.stdout.splitlines()[0] if warm.stdout else "?"
    print(f"target {args.target}: {exe} ({version}), {os.cpu_count()} CPUs; sides: "
          + ", ".join(f"{s} {LOOPS[s] or 'default'}" for s in sides))
    res = {}
    try:
        if "wrk" in wanted:
            log("wrk hello-world")
            res["wrk"] = bench_wrk(host, exe, sides, args, workdir)
        for kind in ("ws", "held"):
            if kind in wanted:
                log(f"{kind}")
                res[kind] = bench_ws(host, exe, sides, kind, args, workdir)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        sys.exit(f"bench: {e} (logs in {workdir})")
    finally:
        end_host(host, args)
    print_table(res, sides, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sides": sides, "results": res, "args": vars(args)}, f, indent=2,
                      default=str)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
