# SPDX-License-Identifier: MIT
"""CPython's own test_asyncio (Lib/test/test_asyncio of the pinned source)
for the loop Gale serves with on Windows, run by the embedded interpreter
of the Windows executable under test: gale_asyncio_suite.py takes the stock
Proactor test classes (events, subprocesses, socket operations, sendfile,
servers, buffered protocols, start_tls, streams) and changes only their
loop to gale.winloop.EventLoop, and turns on the add_reader/add_writer
tests the Proactor skips.

The tests that fail by design are listed below with their reasons; every
other test must pass, and every listed one must still fail (so the list
cannot go stale).
"""

import pathlib

import pytest

from stdlib_suite import run_suite

ENTRY = pathlib.Path(__file__).with_name("gale_asyncio_suite.py")

# Failures, and why, on both Windows targets.
EXPECTED_WINDOWS = {}

# Test classes not run on a target, and why.
LEFT_OUT = {}


def test_cpython_asyncio_suite_on_gale_loop(host, build_python, tmp_path):
    if not host.windows:
        pytest.skip("the Windows loop (Linux serves on asyncio's own selector loop)")
    left_out = LEFT_OUT.get(host.target, {})
    for name in sorted(left_out):
        print(f"left out: {name}: {left_out[name]}")
    result = run_suite(host, build_python, tmp_path, "test_asyncio", left_out,
                       entry=ENTRY, timeout=1800)
    expected = {name: why for name, why in EXPECTED_WINDOWS.items()
                if not name.startswith(tuple(m + "." for m in left_out))}
    for name in sorted(expected):
        print(f"expected to fail: {name}: {expected[name]}")
    print(f"ran {result['ran']}, skipped {result['skipped']}, failed {len(result['failed'])}")
    assert result["ran"] >= 300, result
    unexpected = {t: result["details"][t] for t in result["failed"] if t not in expected}
    assert not unexpected, unexpected
    assert sorted(expected) == result["failed"], "listed failures that now pass"
