# SPDX-License-Identifier: MIT
"""Thousands of WebSocket clients hanging up at once: gale.exe (win-x64)
must answer GET / again within seconds.

Under Debian 12's Wine 8 it cannot: its wineserver takes about N^2 steps to
digest N hang-ups (80 s for 2,000; docs/windows-event-loop.md), and Gale
has no say in that. Wine 10 fixed it with one line, which
tests/harness/wine8-poll-list.patch adds to Wine 8's wineserver. This test
runs gale.exe, unchanged, against that wineserver
(tests/harness/wineserver-fixed.sh builds it; --gale-wineserver-fixed names
it) in a Wine prefix of its own, so that what it measures is Gale's share.
With the stock wineserver it fails, after GIVE_UP seconds.
"""

import os
import re

import pytest

from harness import WineHost, timed_get
from wineprefix import served_prefix
from wsflood import Flood, answer_time

COUNT = 2000
LIMIT = 10.0  # seconds until GET / answers again: the bound
GIVE_UP = 60.0  # the stock wineserver takes about 80 s: a failure, not a hang
OPEN_TIMEOUT = 300.0  # 2,000 WebSockets open in about 5 s under Wine
STATS = {"GALE_DEBUG": "0", "GALE_DEBUG_CONNECTIONS": "1"}


@pytest.fixture
def fixed_wineserver(request, target):
    if target != "win-x64":
        pytest.skip("win-x64 only: the fix is for Wine 8's wineserver (win-arm64 runs Wine 10, "
                    "Linux has no wineserver)")
    path = request.config.getoption("--gale-wineserver-fixed")
    if not path:
        pytest.skip("no fixed wineserver given (--gale-wineserver-fixed): "
                    "tests/harness/wineserver-fixed.sh builds one for Debian 12's wine64 "
                    "8.0~repack-4 only, and tests/run.sh said why it did not")
    path = os.path.abspath(path)
    assert os.access(path, os.X_OK), f"--gale-wineserver-fixed {path}: not an executable"
    return path


def test_mass_disconnect_then_get_answers(request, tmp_path, fixed_wineserver):
    exe = os.path.abspath(request.config.getoption("--gale-exe"))
    prefix = str(tmp_path / "prefix")
    home = tmp_path / "home"
    home.mkdir()
    with served_prefix(prefix, fixed_wineserver, str(tmp_path / "wine.log")) as wine_extra:
        host = WineHost(exe, str(home), prefix)
        flood = None
        try:
            proc = host.serve("--max-connections", str(4 * COUNT), env={**STATS, **wine_extra})
            proc.follow_stderr()
            flood = Flood(proc.port, COUNT)
            try:
                opened = flood.wait_open(OPEN_TIMEOUT)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; the server's stderr:\n{proc.stderr[-3000:]}") from None
            held = timed_get(proc.url + "/")

            took = answer_time(proc.url + "/", flood.drop(), GIVE_UP)
            print(f"{COUNT} WebSockets opened in {opened:.1f} s; GET / with them open: "
                  f"{held:.3f} s; after they all hung up, GET / answered again after "
                  + (f"{took:.2f} s" if took is not None else f"more than {GIVE_UP:.0f} s"))
            assert took is not None, (f"GET / did not answer within {GIVE_UP:.0f} s after {COUNT} "
                                      f"WebSockets hung up at once (bound: {LIMIT:.0f} s)")
            assert took < LIMIT, (f"GET / took {took:.1f} s to answer after {COUNT} WebSockets "
                                  f"hung up at once (bound: {LIMIT:.0f} s)")
            # Every hang-up was seen (the peak counts the test's two GETs too).
            proc.wait_stderr(re.compile(
                rf"connections: open 0, peak ({COUNT}|{COUNT + 1}|{COUNT + 2}),"), timeout=30)
            assert proc.stop(timeout=60) == 0, proc.stderr[-3000:]
        finally:
            if flood is not None:
                flood.close()
            host.cleanup()
