# SPDX-License-Identifier: MIT
"""Tornado's own test suite, run by the embedded interpreter of a host whose
payload carries tornado.test. Skipped tests are printed with their reasons."""

import re
import subprocess

from harness import Host


def test_tornado_suite_passes_inside_host(tornado_tests_exe, tmp_path):
    host = Host(tornado_tests_exe, str(tmp_path))
    out = host.run("python", "-m", "tornado.test.runtests", "--verbose", timeout=900)
    tail = "\n".join(out.stderr.splitlines()[-40:])
    summary = re.search(r"^Ran (\d+) tests? in", out.stderr, re.M)
    assert summary, tail
    skipped = re.findall(r"^(\S+ \([\w.]+\)).*\.\.\. skipped '(.*)'$", out.stderr, re.M)
    print(f"\nTornado suite: {summary.group(1)} tests, {len(skipped)} skipped")
    for test, reason in skipped:
        print(f"  skipped {test}: {reason}")
    assert out.returncode == 0, tail
    assert int(summary.group(1)) > 1000
