# SPDX-License-Identifier: MIT
"""Runs one of CPython's own test modules (Lib/test/<module> of the pinned
source) inside the executable under test, with the embedded interpreter:
test_ctypes_suite.py and test_compression_suites.py use it. `run_suite`
copies the module (test_asyncio_suite.py picks its tests through a module
of its own) with the `test` package's support code beside it, runs
it through unittest inside the host and returns the outcome."""

import json
import shutil

# Runs inside the executable: argv[1] is the folder holding the copied
# `test` package, argv[2] the module, the other arguments name test
# modules, classes or single tests to leave out. Prints one JSON line with the outcome.
RUNNER = r"""
import json, sys, unittest
sys.path.insert(0, sys.argv[1])
module = sys.argv[2]
left_out = tuple(name + "." for name in sys.argv[3:])


def tests(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from tests(test)
        elif not (test.id() + ".").startswith(left_out):
            yield test


suite = unittest.TestSuite(tests(unittest.defaultTestLoader.loadTestsFromName(module)))
result = unittest.TestResult()
suite.run(result)
print("GALE-SUITE " + json.dumps({
    "ran": result.testsRun,
    "skipped": len(result.skipped),
    "failed": sorted(test.id() for test, _ in result.failures + result.errors),
    "details": {test.id(): text.splitlines()[-1] for test, text in result.failures + result.errors},
}))
"""


def copy_tests(build_python, dest, name, data=()):
    """The `test` package's __init__, support and `name` (a module or a
    package) from the build's CPython source, into dest/test, with the
    files and folders of Lib/test that the glob patterns `data` match."""
    lib = build_python.parent / "Lib" / "test"
    (dest / "test").mkdir(parents=True)
    shutil.copyfile(lib / "__init__.py", dest / "test" / "__init__.py")
    for pattern in data:
        for path in sorted(lib.glob(pattern)):
            (shutil.copytree if path.is_dir() else shutil.copyfile)(path, dest / "test" / path.name)
    shutil.copytree(lib / "support", dest / "test" / "support")
    if (lib / name).is_dir():
        shutil.copytree(lib / name, dest / "test" / name)
    else:
        shutil.copyfile(lib / f"{name}.py", dest / "test" / f"{name}.py")


def run_suite(host, build_python, tmp_path, name, left_out=(), data=(), timeout=900,
              entry=None) -> dict:
    """{"ran", "skipped", "failed": [test ids], "details": {id: last line}}
    of CPython's test.`name` run inside `host`, without `left_out`
    (`data`: as for copy_tests). `entry`, a module of ours, is copied beside
    the `test` package and run instead: it picks tests from test.`name`."""
    lib = tmp_path / f"lib-{name}"
    copy_tests(build_python, lib, name, data)
    module = f"test.{name}"
    if entry is not None:
        module = entry.stem
        shutil.copyfile(entry, lib / entry.name)
    runner = tmp_path / "run_suite.py"
    runner.write_text(RUNNER)
    out = host.run("python", host.path(runner), host.path(lib), module, *left_out,
                   timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(l for l in out.stdout.splitlines() if l.startswith("GALE-SUITE "))
    return json.loads(line[len("GALE-SUITE "):])
