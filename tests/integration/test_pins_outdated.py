# SPDX-License-Identifier: MIT
"""`bash cmake/pins.sh outdated` against a made-up archive and PyPI index
(tests/fixtures/pins-outdated), served on 127.0.0.1: a newer version that is
served, one that is listed but not served, and pins that are current. The
command reads the real archive otherwise, whose answer changes, so the
suite never runs it that way. Runs once, with the linux-x86_64 target."""

import functools
import http.server
import lzma
import os
import re
import subprocess
import sys
import threading

import pytest

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "fixtures", "pins-outdated")


@pytest.fixture(scope="module")
def archive(target, tmp_path_factory):
    """The base URL of a server with /debian, /debian-security and /simple."""
    if target != "linux-x86_64":
        pytest.skip("target independent: runs with linux-x86_64")
    root = tmp_path_factory.mktemp("archive")
    for base, suite in (("debian", "test"), ("debian-security", "test-security")):
        index = root / base / "dists" / suite / "main" / "source"
        index.mkdir(parents=True)
        with open(os.path.join(FIXTURE, f"Sources-{suite}"), "rb") as f:
            (index / "Sources.xz").write_bytes(lzma.compress(f.read()))
    # What the pools serve: zlib 1.3.2 (security) and the pinned CPython;
    # the index's CPython 3.13.18 is not there.
    for path in ("debian-security/pool/updates/main/z/zlib/zlib_1.3.dfsg+really1.3.2.orig.tar.gz",
                 "debian/pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"tarball")
    simple = root / "simple" / "tornado"
    simple.mkdir(parents=True)
    (simple / "index.html").write_text(
        '<!DOCTYPE html><html><body>'
        '<a href="tornado-6.5.2.tar.gz">tornado-6.5.2.tar.gz</a>'
        '<a href="tornado-6.6.1.tar.gz">tornado-6.6.1.tar.gz</a>'
        '</body></html>')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def outdated(source_dir, archive, suites):
    env = {**os.environ, "PIP_NO_CACHE_DIR": "1", "PIP_CONFIG_FILE": os.devnull}
    # pins_outdated.py runs pip as its own interpreter's module; the
    # test's python (the venv's) has pip.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    out = subprocess.run(
        ["bash", os.path.join(source_dir, "cmake", "pins.sh"), "outdated",
         "--pins", os.path.join(FIXTURE, "pins.txt"),
         "--archive", f"{archive}/debian", "--security-archive", f"{archive}/debian-security",
         "--suites", suites, "--pypi-index-url", f"{archive}/simple"],
        capture_output=True, text=True, timeout=120, env=env)
    rows = {}
    for line in out.stdout.splitlines()[1:]:
        if not line.strip():
            break
        name, pinned, served, listed, status = re.split(r"\s{2,}", line.strip(), maxsplit=4)
        rows[name] = (pinned, served, listed, status)
    return out, rows


def test_newer_patch_release_served(source_dir, archive):
    out, rows = outdated(source_dir, archive, "test test-security")
    assert out.returncode == 1, out.stdout + out.stderr
    # Served (from the security archive; "1.3.dfsg+really1.3.2" is 1.3.2).
    assert rows["zlib"] == ("1.3.1", "1.3.2", "1.3.2", "newer patch release served"), out.stdout
    # Listed but not served: not a reason to bump.
    assert rows["cpython"] == ("3.13.15", "3.13.15", "3.13.18", "current"), out.stdout
    assert "cpython 3.13.18: listed, not served" in out.stdout
    assert "zlib 1.3.2: served" in out.stdout
    # Current; an older release and another package with the same prefix
    # (sqlite3-pcre 3.60.0) change nothing.
    assert rows["sqlite"] == ("3.53.4", "3.53.4", "3.53.4", "current"), out.stdout
    assert rows["tornado"] == ("6.6.1", "6.6.1", "6.6.1", "current"), out.stdout


def test_all_current(source_dir, archive):
    out, rows = outdated(source_dir, archive, "test")
    assert out.returncode == 0, out.stdout + out.stderr
    assert rows["zlib"] == ("1.3.1", "1.3.1", "1.3.1", "current"), out.stdout
    assert rows["cpython"][3] == "current" and rows["cpython"][2] == "3.13.18"


def test_unreadable_index(source_dir, archive):
    out, _ = outdated(source_dir, archive, "no-such-suite")
    assert out.returncode == 2
    assert "no source index could be read" in out.stderr
