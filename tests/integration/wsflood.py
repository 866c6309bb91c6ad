# SPDX-License-Identifier: MIT
"""Many WebSocket clients that hang up at the same moment: a client process
that holds them, and the driver side that starts it, waits for it and kills
it. The kernel closes every socket of a SIGKILLed process at once, as when a
proxy or a client machine goes away. Used by test_mass_disconnect.py and
tests/bench/disconnect_bench.py.

    python3 wsflood.py PORT COUNT

opens COUNT WebSockets to 127.0.0.1:PORT/ws (the demo's echo) in batches of
wsclient.BATCH, echoes once on each, prints `OPEN COUNT SECONDS` and then
waits to be killed. A failure prints `FAILED <why>` and exits 1. It raises
its own soft RLIMIT_NOFILE to the hard one first.
"""

import asyncio
import os
import resource
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from wsclient import echo_all, ws_open_batches


class Flood:
    """The client process, from the driver's side; killed by its PID."""

    def __init__(self, port: int, count: int, python=sys.executable):
        self.count = count
        self.proc = subprocess.Popen([python, os.path.abspath(__file__), str(port), str(count)],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)

    def wait_open(self, timeout: float) -> float:
        """Seconds the client took to open and echo on every WebSocket;
        AssertionError with its reason if it did not within timeout."""
        ready = select.select([self.proc.stdout], [], [], timeout)[0]
        line = self.proc.stdout.readline() if ready else ""
        words = line.split()
        assert words[:2] == ["OPEN", str(self.count)], (
            f"the client did not open {self.count} WebSockets in {timeout:.0f} s: "
            f"{line.strip() or 'no answer'} (exit status {self.proc.poll()})")
        return float(words[2])

    def drop(self) -> float:
        """SIGKILL: every WebSocket hangs up at once. Returns the moment of
        the kill (time.monotonic())."""
        killed = time.monotonic()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        return killed

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.proc.stdout.close()


def answer_time(url: str, since: float, give_up: float):
    """Seconds from `since` until one GET of url, sent now, is answered with
    200; None if that takes more than give_up seconds."""
    try:
        with urllib.request.urlopen(url, timeout=give_up) as r:
            r.read()
            assert r.status == 200, r.status
    except TimeoutError:
        return None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return None
        raise
    return time.monotonic() - since


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
