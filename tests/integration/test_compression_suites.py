# SPDX-License-Identifier: MIT
"""CPython's own test_bz2, test_lzma and test_zlib (of the pinned source),
run by the embedded interpreter of the executable under test. On Windows
this is the check that the bzip2, liblzma and zlib cmake/thirdparty.sh
builds are linked in and work as CPython expects; on Linux the same suites
run against Debian's libbz2 and liblzma and the pinned zlib.

Every test must pass; the ones the host's platform cannot run skip
themselves (the count is printed)."""

import pytest

from stdlib_suite import run_suite

# At least this many tests run in each module (a module that fails to
# import, or finds no tests, must not pass).
MINIMUM = {"test_bz2": 80, "test_lzma": 100, "test_zlib": 60}
# test_bz2 compresses every .py file beside it as its big sample; upstream
# that is all of Lib/test (16 MB). A few of them (650 KB) give the chunked
# decompressor tests what they need, in a fraction of the time under qemu.
DATA = {"test_bz2": ("test_b*.py",)}


@pytest.mark.parametrize("module", sorted(MINIMUM))
def test_cpython_compression_suite(host, build_python, tmp_path, module):
    result = run_suite(host, build_python, tmp_path, module, data=DATA.get(module, ()))
    print(f"{module}: {result['ran']} ran, {result['skipped']} skipped")
    assert not result["failed"], result["details"]
    assert result["ran"] >= MINIMUM[module], result
