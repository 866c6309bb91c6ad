# SPDX-License-Identifier: MIT
"""The probe outside Gale: does Wine itself go deaf when N connections hang
up at once? Drives tests/tools/afd_drop.exe (one overlapped AFD poll per
socket on a completion port, and nothing else: no cancel, no re-poll of a
closing socket) under Wine 8, with Debian's stock wineserver or the fixed
one (tests/harness/wine8-poll-list.patch). Nothing here passes or fails on
a timing.

    python3 tests/bench/afd_drop_probe.py [--exe build/win-x64/afd_drop.exe]
        [--wineserver PATH] [--give-up 600] N [N ...]

For each N: a new probe; N plain TCP connections from a client process in
batches of 50; one echo on a new connection while they are open; SIGKILL
of the client (N hang-ups at once); then the time until a new connection's
echo comes back (the probe's `GET /`), and until the probe has closed all
N. Each run has a Wine prefix of its own (tests/integration/wineprefix.py),
served by --wineserver, or by the stock wineserver without it.
docs/windows-event-loop.md has the figures.
"""
import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402
from wineprefix import served_prefix  # noqa: E402

BATCH = 50


def client(port: int, count: int) -> None:
    """The client process: opens `count` connections, says READY, holds them."""
    conns = []
    while len(conns) < count:
        for _ in range(min(BATCH, count - len(conns))):
            conns.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(0.05)
    print("READY", flush=True)
    time.sleep(10**6)


def echo_time(port: int, timeout: float) -> float:
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"ping")
        assert s.recv(16) == b"ping"
    return time.monotonic() - start


def run(exe: str, count: int, env: dict, give_up: float) -> str:
    port = harness.free_port()
    probe = subprocess.Popen([harness.WineHost.WINE, exe, str(port)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []

    def follow() -> None:
        for line in probe.stdout:
            lines.append((time.monotonic(), line.rstrip()))
    threading.Thread(target=follow, daemon=True).start()
    held = None
    try:
        deadline = time.monotonic() + 120
        while not any(line == "listening" for _, line in lines):
            if probe.poll() is not None or time.monotonic() > deadline:
                return f"the probe did not listen: {lines[-5:]}"
            time.sleep(0.1)
        held = subprocess.Popen([sys.executable, __file__, "--client", str(port), str(count)],
                                stdout=subprocess.PIPE, text=True)
        if not held.stdout.readline().startswith("READY"):
            return "the client did not open its connections"
        while not any(line.startswith(f"open {count} ") for _, line in lines):
            time.sleep(0.1)
        before = echo_time(port, give_up)
        time.sleep(1)
        killed = time.monotonic()
        os.kill(held.pid, signal.SIGKILL)
        held.wait()
        try:
            after = f"{echo_time(port, give_up):.2f} s"
        except OSError:
            after = f"more than {give_up:.0f} s"
        deadline = time.monotonic() + give_up
        while not any(t > killed and line.startswith("open 0 ") for t, line in lines):
            if time.monotonic() > deadline:
                return f"N={count}: echo while open {before:.3f} s; after the drop {after}; " \
                       f"the probe had not closed them all after {give_up:.0f} s"
            time.sleep(0.1)
        closed = min(t for t, line in lines if t > killed and line.startswith("open 0 "))
        return (f"N={count}: echo while open {before:.3f} s; a new connection's echo after "
                f"the drop {after}; all {count} closed by the probe after "
                f"{closed - killed:.2f} s")
    finally:
        if held is not None and held.poll() is None:
            held.kill()
            held.wait()
        probe.kill()
        probe.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("counts", type=int, nargs="+", metavar="N")
    p.add_argument("--exe", default=os.path.join(ROOT, "build", "win-x64", "afd_drop.exe"))
    p.add_argument("--wineserver", help="the wineserver to serve the prefix (default: stock)")
    p.add_argument("--give-up", type=float, default=600.0)
    args = p.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = args.wineserver or harness.WineHost.WINESERVER
    print(f"wineserver: {server}", flush=True)
    for count in args.counts:
        work = tempfile.mkdtemp(prefix="gale-afd-probe-")
        prefix = os.path.join(work, "prefix")
        with served_prefix(prefix, server, os.path.join(work, "wine.log")) as extra:
            env = {**os.environ, **harness.wine_env(prefix), **extra}
            print(run(os.path.abspath(args.exe), count, env, args.give_up), flush=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        client(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
