# SPDX-License-Identifier: MIT
"""Holds many WebSockets to a Gale server until it is killed: the client side
of test_mass_disconnect.py and tests/bench/disconnect_bench.py, which SIGKILL
it so that the kernel closes every connection at the same moment.

    python3 wsflood.py PORT COUNT

Opens COUNT WebSockets to 127.0.0.1:PORT/ws (the demo's echo) in batches of
wsclient.BATCH, echoes once on each, prints `OPEN COUNT SECONDS` on stdout
and then waits. A failure prints `FAILED <why>` and exits 1. Raises its own
soft RLIMIT_NOFILE to the hard one first.
"""

import asyncio
import resource
import sys
import time

from wsclient import echo_all, ws_open_batches


async def hold(port: int, count: int) -> None:
    start = time.monotonic()
    conns = await ws_open_batches(port, count)
    await echo_all(conns)
    print(f"OPEN {len(conns)} {time.monotonic() - start:.2f}", flush=True)
    await asyncio.Event().wait()  # until SIGKILL


def main() -> int:
    port, count = int(sys.argv[1]), int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < count + 50:
        print(f"FAILED RLIMIT_NOFILE is {hard}; {count} WebSockets need more", flush=True)
        return 1
    try:
        asyncio.run(hold(port, count))
    except (OSError, AssertionError, asyncio.IncompleteReadError) as exc:
        print(f"FAILED {type(exc).__name__}: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
