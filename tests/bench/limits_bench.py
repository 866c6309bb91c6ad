# SPDX-License-Identifier: MIT
"""What Gale's timeouts and body limit cost (pylib/gale/limits.py): the
hello app served by one executable twice, with Gale's limits and with
Tornado's own (GALE_DEBUG_LIMITS=tornado), side by side in one run; the
ratio is gale / tornado (nothing here passes or fails on a timing).

    python3 tests/bench/limits_bench.py [--target linux-x86_64|win-x64]
        [--wrk-rounds 5] [--wrk-seconds 5] [--wrk-connections 32]

  - requests/s: both servers up; a 1 s warm-up each, then
    `wrk -t1 -c32 -dS` (keep-alive: every request after a connection's
    first starts its idle and header clocks), R rounds per side,
    alternating; the median;
  - new connections/s: the same with `Connection: close` on every
    request, so each request is a new connection and a new clock.

Uses the test harness (tests/integration/harness.py) and the event-loop
benchmark's server wrapper.
"""
import argparse
import sys
import tempfile

from bench import log, print_rows
from loop_bench import Server, end_host, make_host, pack, wrk_rounds

SIDES = ("gale", "tornado")


def serve(host, exe, side, workdir) -> Server:
    env = {"GALE_DEBUG_LIMITS": "tornado"} if side == "tornado" else {}
    return Server(host, exe, f"limits-{side}", workdir,
                  options=["--max-connections", "100000"], env=env)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", default="linux-x86_64", choices=("linux-x86_64", "win-x64"))
    p.add_argument("--wrk-rounds", type=int, default=5)
    p.add_argument("--wrk-seconds", type=int, default=5)
    p.add_argument("--wrk-connections", type=int, default=32)
    args = p.parse_args()
    args.no_pin, args.wrk_cpu, args.wrk_threads = True, None, 1
    sys.stdout.reconfigure(line_buffering=True)
    workdir = tempfile.mkdtemp(prefix="gale-limits-bench-")
    log(f"work folder {workdir} (server logs)")
    exe = pack(args.target, workdir)
    host = make_host(args.target, exe, workdir, args)
    rows = []
    try:
        for what, close in (("keep-alive requests/s", False), ("new connections/s", True)):
            log(what)
            args.wrk_header = "Connection: close" if close else None
            got = wrk_rounds({side: serve(host, exe, side, workdir) for side in SIDES},
                             SIDES, args)
            rps = {side: got[side]["median_rps"] for side in SIDES}
            rows.append((f"hello, {what}, wrk -c{args.wrk_connections}, median of "
                         f"{args.wrk_rounds}", "req/s", "higher", rps))
    finally:
        end_host(host, args)
    print(f"target {args.target}: {exe}")
    print_rows(rows, SIDES)
    for name, _, _, rps in rows:
        print(f"{name}: gale / tornado = {rps['gale'] / rps['tornado']:.3f}")


if __name__ == "__main__":
    main()
