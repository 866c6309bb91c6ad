# SPDX-License-Identifier: MIT
"""Mass hang-ups: how long after N WebSocket clients drop at once does
GET / answer again? Measured in one run for gale.exe (win-x64) under Wine 8
with Debian's stock wineserver and with the fixed one
(tests/harness/wine8-poll-list.patch), against the Linux gale as the
baseline. Nothing here passes or fails on a timing; test_mass_disconnect.py
holds the bound.

    python3 tests/bench/disconnect_bench.py [--counts 1000 2000 3000]
        [--stock-max N] [--give-up S] [--rounds R] [--json FILE]

For each N and side: a new server of the demo app (`serve
--max-connections 4N`), N WebSockets opened from a client process
(tests/integration/wsflood.py) in batches of 50 with one echo each, one
GET / while they are open, then the client is SIGKILLed (the kernel closes
every socket at once) and one GET / is sent at once; its answer time is the
figure. A side that has not answered after --give-up seconds is reported as
"> S s". Each Wine side has a prefix of its own, served by its wineserver
(tests/integration/wineprefix.py); the fixed wineserver comes from
--wineserver-fixed, or tests/harness/wineserver-fixed.sh (built once, then
cached). Stock Wine 8 takes minutes past 2,000 (252 s for 3,000 here):
--stock-max leaves the larger N out for that side.

Under Wine every socket event goes through the single-threaded wineserver:
the Windows figures are about Wine, not a forecast for Windows.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench import log
from loop_bench import ROOT, Server

import harness  # noqa: E402 (loop_bench put tests/integration on the path)
from wineprefix import served_prefix  # noqa: E402
from wsflood import Flood, answer_time  # noqa: E402

SIDES = ("linux", "fixed", "stock")
TITLES = {"linux": "Linux gale", "fixed": "Wine 8, fixed wineserver",
          "stock": "Wine 8, stock wineserver"}
OPEN_TIMEOUT = 600.0
ENV = {"GALE_DEBUG": "0"}


def one_drop(host, exe, side, count, give_up, workdir, extra_env) -> dict:
    """One server, N WebSockets, one drop: the figures of that run."""
    srv = Server(host, exe, side, workdir, options=["--max-connections", str(4 * count)],
                 env={**ENV, **extra_env})
    flood = Flood(srv.port, count)
    url = f"http://127.0.0.1:{srv.port}/"
    try:
        opened = flood.wait_open(OPEN_TIMEOUT)
        held = harness.timed_get(url)
        took = answer_time(url, flood.drop(), give_up)
        if took is None:
            srv.proc.popen.kill()  # still busy; its drain would take as long
        return {"opened_s": opened, "get_open_s": held, "after_drop_s": took}
    except (AssertionError, OSError) as exc:
        return {"failed": f"{type(exc).__name__}: {exc}"}
    finally:
        flood.close()
        srv.stop()


def run_side(side, exe, counts, args, workdir, wineserver=None) -> dict:
    home = os.path.join(workdir, f"home-{side}")
    os.makedirs(home, exist_ok=True)
    results = {}

    def runs(host, extra_env):
        for count in counts:
            got = []
            for _ in range(args.rounds):
                got.append(one_drop(host, exe, side, count, args.give_up, workdir, extra_env))
                log(f"{side} N={count}: {got[-1]}")
            results[count] = got

    if wineserver is None:
        host = harness.Host(exe, home)
        try:
            runs(host, {})
        finally:
            host.cleanup()
        return results
    prefix = os.path.join(workdir, f"prefix-{side}")
    with served_prefix(prefix, wineserver, os.path.join(workdir, f"wine-{side}.log")) as extra:
        host = harness.WineHost(exe, home, prefix)
        try:
            runs(host, extra)
        finally:
            host.cleanup()
    return results


def fixed_wineserver(given) -> str:
    """The fixed wineserver's path, or "" with the reason logged."""
    if given:
        return given
    script = os.path.join(ROOT, "tests", "harness", "wineserver-fixed.sh")
    out = subprocess.run(["bash", script], stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        log(f"no fixed wineserver ({script} exited with {out.returncode}); that side is left out")
        return ""
    return out.stdout.strip().splitlines()[-1]


def figure(runs, give_up):
    """The median answer time over rounds (a give-up counts as give_up), a
    string for a side that did not reach the drop, and whether any gave up."""
    if any("failed" in r for r in runs):
        return "failed", False
    times = [give_up if r["after_drop_s"] is None else r["after_drop_s"] for r in runs]
    return statistics.median(times), any(r["after_drop_s"] is None for r in runs)


def print_table(res, sides, counts, give_up):
    head = f"{'N dropped at once':<20}" + "".join(f"{s:>12}" for s in sides)
    head += "".join(f"{s + '/linux':>14}" for s in sides if s != "linux")
    print("seconds until GET / answers again (median); ratio against the Linux gale")
    print(head)
    print("-" * len(head))
    for count in counts:
        vals = {}
        line = f"{count:<20,}"
        for s in sides:
            runs = res[s].get(count)
            if runs is None:
                vals[s], text = None, "skipped"
            else:
                v, gave_up = figure(runs, give_up)
                vals[s] = v
                text = (f"> {give_up:.0f}" if gave_up else
                        v if isinstance(v, str) else f"{v:.2f}")
            line += f"{text:>12}"
        base = vals.get("linux")
        for s in sides:
            if s == "linux":
                continue
            v = vals[s]
            ok = isinstance(v, float) and isinstance(base, float) and base > 0
            line += f"{(f'{v / base:.1f}' if ok else '-'):>14}"
        print(line)
    for s in sides:
        print(f"  {s}: {TITLES[s]}")
    for s in sides:
        for count, runs in res[s].items():
            for r in runs:
                if "failed" in r:
                    print(f"  {s} N={count}: {r['failed']}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--counts", type=int, nargs="+", default=[1000, 2000, 3000])
    p.add_argument("--stock-max", type=int, default=None,
                   help="the largest N for stock Wine 8 (default: every N); 3,000 takes minutes")
    p.add_argument("--give-up", type=float, default=400.0,
                   help="seconds to wait for GET / after a drop (default 400)")
    p.add_argument("--rounds", type=int, default=1, help="drops per N and side; the median")
    p.add_argument("--only", action="append", choices=SIDES, help="a side (repeatable)")
    p.add_argument("--win-exe", default=os.path.join(ROOT, "dist", "win-x64", "gale.exe"))
    p.add_argument("--linux-exe", default=os.path.join(ROOT, "dist", "linux-x86_64", "gale"))
    p.add_argument("--wineserver-fixed", help="default: tests/harness/wineserver-fixed.sh's")
    p.add_argument("--json", help="also write the raw results here")
    args = p.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    counts = sorted(args.counts)
    sides = [s for s in SIDES if not args.only or s in args.only]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < max(counts) + 500:
        sys.exit(f"bench: RLIMIT_NOFILE is {hard}; {max(counts)} WebSockets need more")
    fixed = fixed_wineserver(args.wineserver_fixed) if "fixed" in sides else ""
    if "fixed" in sides and not fixed:
        sides.remove("fixed")
    workdir = tempfile.mkdtemp(prefix="gale-disconnect-bench-")
    log(f"work folder {workdir} (server and Wine logs)")
    print(f"{os.cpu_count()} CPUs; win-x64 {args.win_exe}; linux {args.linux_exe}; "
          f"fixed wineserver {fixed or '-'}; give up after {args.give_up:.0f} s")
    res = {}
    start = time.monotonic()
    for side in sides:
        side_counts = [c for c in counts
                       if side != "stock" or args.stock_max is None or c <= args.stock_max]
        log(f"{side}: N = {side_counts}")
        if side == "linux":
            res[side] = run_side(side, args.linux_exe, side_counts, args, workdir)
        else:
            server = fixed if side == "fixed" else harness.WineHost.WINESERVER
            res[side] = run_side(side, args.win_exe, side_counts, args, workdir, server)
    log(f"done in {time.monotonic() - start:.0f} s")
    print_table(res, sides, counts, args.give_up)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sides": sides, "results": res, "args": vars(args)}, f, indent=2)
    if not any("failed" in r for side in res.values() for runs in side.values() for r in runs):
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
