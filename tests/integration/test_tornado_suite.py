# SPDX-License-Identifier: MIT
"""Tornado's own test suite, run by the embedded interpreter of a host whose
payload carries tornado.test: `gale python RUNNER MODULE...`, where RUNNER
marks the tests listed below as skipped (with their reasons) and then hands
over to tornado.test.runtests.

Excluded modules and skipped tests are printed with their reasons
(docs/tornado-suite.md groups them).
"""

import json
import re

# Test modules left out, and why. Keep this list short and honest.
EXCLUDED = {
    "tornado.test.autoreload_test":
        "starts sys.executable with PYTHONPATH and a script folder to import from; "
        "Gale's interpreter is isolated and ignores both by design (docs/reference.md, gale python)",
}

# Single tests that cannot pass on the Windows targets here, and why. They
# still run on the Linux target, and nothing else is skipped on Windows.
WINE_SKIPS = {
    "tornado.test.web_test.StaticFileVersionPathTest.test_symlink_to_device":
        "links to /dev/zero, a POSIX device: on Windows the link points at "
        "C:\\dev\\zero, which does not exist, so the handler logs a 404 "
        "instead of 'is not a file'",
    "tornado.test.ioloop_test.TestIOLoop.test_add_callback_wakeup":
        "a timing test (a wake-up from another thread within 10 ms); under "
        "Wine the wake-up goes through the wineserver and sometimes takes longer",
    "tornado.test.iostream_test.TestIOStreamCheckHostname.test_no_match":
        "on Windows the test does not wait for the server's 'bad certificate' "
        "warning (Tornado's comment: it does not happen there); under Wine the "
        "warning arrives after the ExpectLog block and fails the test",
    "tornado.test.simple_httpclient_test.SimpleHTTPSClientTestCase.test_ssl_context_handshake_fail":
        "the same race: the server's 'unknown ca' warning sometimes arrives "
        "under Wine after the ExpectLog block that expects it has closed",
    "tornado.test.simple_httpclient_test.SimpleHTTPSClientTestCase.test_error_logging":
        "the same race seen from the other side: under Wine a server's 'unknown "
        "ca' warning once arrived while this test, which allows no unexpected "
        "log, ran (one win-x64 run in about ten)",
}

# Tests that crash arm64 Wine under qemu-user, and why; win-x64 passes them.
# Five of them were seen to kill the process when run alone ('nested
# exception on signal stack' in Wine's fault handler, then a qemu segfault,
# then a hang); they keep a socket's send buffer full while the peer reads
# slowly. Plain large sends do not crash. The same tests of the three
# stream classes are skipped, as they share the code (docs/tornado-suite.md).
ARM64_CRASHERS = ["test_flow_control", "test_future_write", "test_large_read_until",
                  "test_write_bytearray_resizable_after_close_while_writing"]
ARM64_SKIPS = {
    f"tornado.test.iostream_test.{cls}.{name}":
        "kills arm64 Wine under qemu-user (a full socket send buffer; "
        "docs/tornado-suite.md); win-x64 runs it"
    for cls in ("TestIOStream", "TestIOStreamSSL", "TestIOStreamSSLContext")
    for name in ARM64_CRASHERS
}

# win-arm64 runs through qemu, about ten times slower: there the issue asks
# for these modules, the server and client paths a Gale app depends on.
ARM64_MODULES = ["tornado.test.httpserver_test", "tornado.test.web_test",
                 "tornado.test.websocket_test", "tornado.test.iostream_test"]

# Tornado's async tests fail after 5 s by default (ASYNC_TEST_TIMEOUT). A few
# push megabytes through a socket pair, with TLS in the SSL classes
# (test_future_write: 50 MB): under Wine every readiness event and send goes
# through the wineserver, and through qemu too on win-arm64, so on a loaded
# 2-core machine they ran out of time (win-x64 3 of 1513, win-arm64 1 of 602,
# 2026-12-01; run alone, iostream_test passed well inside 5 s). The Windows
# targets give every async test this long instead; a test that hangs still
# fails (docs/tornado-suite.md).
WINE_ASYNC_TEST_TIMEOUT = {"win-x64": 30, "win-arm64": 60}

# The suite runs on the loop Gale serves with: eventloop.install() as in
# `gale serve` (on Windows gale.winloop.EventLoop, readiness on the
# Proactor's completion port, and no selector thread). The runner prints
# which loop a new asyncio loop is, and the test checks it.
LOOP = {True: "iocp-afd EventLoop", False: "selector _UnixSelectorEventLoop"}
RUNNER = """\
import asyncio, importlib, sys, unittest
from gale import eventloop
kind = eventloop.install()
loop = asyncio.new_event_loop()
print("GALE-LOOP", kind, type(loop).__name__, flush=True)
loop.close()
skips = {skips!r}
for test_id, reason in skips.items():
    module, cls, name = test_id.rsplit(".", 2)
    owner = getattr(importlib.import_module(module), cls)
    setattr(owner, name, unittest.skip(reason)(getattr(owner, name)))
import tornado.test.runtests
sys.argv[0] = "runtests"
tornado.test.runtests.main()
"""


def test_tornado_suite_passes_inside_host(make_host, target, tornado_tests_exe, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    host = make_host(tornado_tests_exe, str(home))
    listed = host.run("python", "-c", "import json, tornado.test.runtests as r; "
                      "print(json.dumps(r.TEST_MODULES))")
    assert listed.returncode == 0, listed.stderr
    modules = json.loads(listed.stdout)
    assert set(EXCLUDED) <= set(modules) and set(ARM64_MODULES) <= set(modules)
    run = [m for m in modules if m not in EXCLUDED]
    if target == "win-arm64":
        run = ARM64_MODULES
    skips = WINE_SKIPS if host.windows else {}
    if target == "win-arm64":
        skips = {**skips, **ARM64_SKIPS}

    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER.format(skips=skips))
    env = {}
    if target in WINE_ASYNC_TEST_TIMEOUT:
        env["ASYNC_TEST_TIMEOUT"] = str(WINE_ASYNC_TEST_TIMEOUT[target])
    out = host.run("python", str(runner), "--verbose", *run, env=env, timeout=2400)
    tail = "\n".join(out.stderr.splitlines()[-60:])
    summary = re.search(r"^Ran (\d+) tests? in", out.stderr, re.M)
    assert summary, tail
    # unittest prints the reason's repr (in double quotes if it has a quote),
    # after the first line of the test's docstring if it has one.
    skipped = [(test, reason) for test, _, reason in re.findall(
        r"^\w+ \(([\w.]+)\)(?:\n[^\n]*)? \.\.\. skipped (['\"])(.*)\2$", out.stderr, re.M)]
    print(f"\nTornado suite inside the {target} host: {summary.group(1)} tests ran "
          f"from {len(run)} modules, {len(skipped)} skipped, {len(EXCLUDED)} module(s) excluded")
    for module, reason in EXCLUDED.items():
        print(f"  excluded {module}: {reason}")
    for test, reason in skipped:
        print(f"  skipped {test}: {reason}")
    assert out.returncode == 0, tail
    assert re.search(r"^GALE-LOOP (\S+ \S+)$", out.stdout, re.M).group(1) == LOOP[host.windows]
    # Every listed skip that belongs to a module that ran was reached.
    expected = {t for t in skips if t.rsplit(".", 2)[0] in run}
    assert expected <= {test for test, _ in skipped}, (expected, skipped)
    assert int(summary.group(1)) > (400 if target == "win-arm64" else 1000)
