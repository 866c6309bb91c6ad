# SPDX-License-Identifier: MIT
"""Tornado's own test suite, run by the embedded interpreter of a host whose
payload carries tornado.test: `gale python -m tornado.test.runtests`.

Excluded modules and skipped tests are printed with their reasons.
"""

import json
import re

from harness import Host

# Test modules left out, and why. Keep this list short and honest.
EXCLUDED = {
    "tornado.test.autoreload_test":
        "starts sys.executable with PYTHONPATH and a script folder to import from; "
        "Gale's interpreter is isolated and ignores both by design (DESIGN.md, decision 5)",
}


def test_tornado_suite_passes_inside_host(tornado_tests_exe, tmp_path):
    host = Host(tornado_tests_exe, str(tmp_path))
    listed = host.run("python", "-c", "import json, tornado.test.runtests as r; "
                      "print(json.dumps(r.TEST_MODULES))")
    assert listed.returncode == 0, listed.stderr
    modules = json.loads(listed.stdout)
    assert set(EXCLUDED) <= set(modules)
    run = [m for m in modules if m not in EXCLUDED]

    out = host.run("python", "-m", "tornado.test.runtests", "--verbose", *run, timeout=1200)
    tail = "\n".join(out.stderr.splitlines()[-60:])
    summary = re.search(r"^Ran (\d+) tests? in", out.stderr, re.M)
    assert summary, tail
    skipped = re.findall(r"^\w+ \(([\w.]+)\) \.\.\. skipped '(.*)'$", out.stderr, re.M)
    print(f"\nTornado suite inside the host: {summary.group(1)} tests ran, "
          f"{len(skipped)} skipped, {len(EXCLUDED)} module(s) excluded")
    for module, reason in EXCLUDED.items():
        print(f"  excluded {module}: {reason}")
    for test, reason in skipped:
        print(f"  skipped {test}: {reason}")
    assert out.returncode == 0, tail
    assert int(summary.group(1)) > 1000
