# SPDX-License-Identifier: MIT
"""A Wine prefix of its own, served by a wineserver the caller names (the
stock one or tests/harness/wineserver-fixed.sh's), for win-x64 runs that
must know which wineserver they got: test_mass_disconnect.py and
tests/bench/disconnect_bench.py.

    with served_prefix(path, wineserver, log) as extra_env:
        host = harness.WineHost(exe, home, path)
        host.serve(..., env={**extra_env, ...})

The server is started first and kept up (-p) for the whole block; at its
end `wineserver -k` stops it and every Windows process of the prefix, and
`-w` waits until it has gone. Wine's own ways, by prefix: the server runs
detached, so this module has no PID of it.
"""

import contextlib
import os
import resource
import subprocess

from harness import WineHost, wine_env

WINE_TIMEOUT = 300.0  # making the prefix, or waiting for its server to end


@contextlib.contextmanager
def served_prefix(prefix: str, wineserver: str, log: str):
    """Makes `prefix` (which must not hold a prefix yet) with `wineserver`
    serving it; yields what every Wine run in it must add to its
    environment. What Wine prints goes to the file `log`."""
    os.makedirs(prefix, exist_ok=True)
    # Each Wine run names the server too, so that one which finds none
    # running starts this one, never the stock one.
    extra = {"WINESERVER": wineserver}
    env = {**os.environ, **wine_env(prefix), **extra}
    # The server inherits this process's descriptor limit (a Wine process
    # raises its own, and a server it starts inherits that), and holds a
    # descriptor for every socket of the prefix.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def run(argv, timeout):
        with open(log, "ab") as out:
            return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=out, timeout=timeout).returncode

    def log_text():
        with open(log, encoding="utf-8", errors="replace") as f:
            return f.read()[-3000:]

    # It forks; the first process exits once the server listens.
    assert run([wineserver, "-p"], 60) == 0, f"{wineserver} -p failed:\n{log_text()}"
    try:
        # The prefix is made now, and Wine's services started, with their
        # std handles on the log: the server keeps them up (-p), and they
        # would hold a later run's pipes open.
        assert run([WineHost.WINE, "wineboot", "--init"], WINE_TIMEOUT) == 0, (
            f"wineboot failed:\n{log_text()}")
        yield extra
    finally:
        run([wineserver, "-k"], 60)
        run([wineserver, "-w"], WINE_TIMEOUT)
