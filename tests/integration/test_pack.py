# SPDX-License-Identifier: MIT
"""gale pack: new executables from app folders, with no compiler involved."""

import os

from harness import exit_codes, free_port, get, one_error_line


def test_packed_example_serves(host, source_dir, tmp_path):
    out_exe = host.exe_path(tmp_path / "hello2")
    out = host.run("pack", os.path.join(source_dir, "examples", "hello"), "-o", str(out_exe),
                   "--name", "hello2")
    assert out.returncode == 0, out.stderr
    assert os.path.isfile(out_exe)
    if not host.windows:
        assert os.access(out_exe, os.X_OK)
    proc = host.serve(exe=str(out_exe))
    assert get(proc.url + "/")[0] == 200
    assert proc.stop() == 0
    check = host.run("check", exe=str(out_exe))
    assert check.returncode == 0 and 'name = "hello2"' in check.stdout, check.stdout


def test_plain_tornado_app_finds_its_files(host, source_dir, tmp_path):
    app = os.path.join(source_dir, "examples", "plain_tornado")
    out_exe = host.exe_path(tmp_path / "plain")
    out = host.run("pack", app, "-o", str(out_exe))
    assert out.returncode == 0, out.stderr
    # Nothing Gale-specific in the app's code.
    for name in os.listdir(app):
        if name.endswith(".py"):
            with open(os.path.join(app, name)) as f:
                assert "gale" not in f.read().lower(), name

    port = free_port()
    proc = host.spawn("serve", exe=str(out_exe), env={"PORT": str(port)})
    proc.url = f"http://127.0.0.1:{port}"
    proc.wait_http(proc.url + "/")
    status, page = get(proc.url + "/")
    assert status == 200
    # The page is the rendered template, and the static file is the real one.
    with open(os.path.join(app, "templates", "index.html"), "rb") as f:
        literal = [line.strip() for line in f if len(line.strip()) > 20
                   and b"{" not in line]
    assert literal and all(line in page for line in literal), page
    static = sorted(os.listdir(os.path.join(app, "static")))[0]
    status, body = get(f"{proc.url}/static/{static}")
    with open(os.path.join(app, "static", static), "rb") as f:
        assert (status, body) == (200, f.read())
    assert proc.stop() == 0, proc.stderr

    # The resources were extracted once, under the user's cache, not a temp dir.
    cache = host.cache_root()
    found = [os.path.join(d, f) for d, _, files in os.walk(cache) for f in files
             if f == static]
    assert len(found) == 1, found


def test_pack_errors_leave_nothing_behind(host, tmp_path):
    out_exe = tmp_path / ("never" + host.suffix)
    out = host.run("pack", str(tmp_path / "missing"), "-o", str(out_exe))
    codes = exit_codes(host)
    assert out.returncode in (codes["CONFIG"], codes["PACK"]), out.stderr
    assert out.stderr.startswith("gale: error: ") and out.stderr.count("\n") == 1
    assert not out_exe.exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    out = host.run("pack", str(empty), "-o", str(out_exe))
    assert out.returncode in (codes["CONFIG"], codes["PACK"]), out.stderr
    assert not out_exe.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("never", ".never"))]


def test_pack_refuses_a_host_from_another_build(host, source_dir, tmp_path):
    """A host template whose frozen boot modules are not the library's code
    (here its boot id is altered) would make an executable that refuses to
    start: pack says so instead, and writes nothing."""
    template = os.path.join(os.path.dirname(host.exe), "gale-host" + host.suffix)
    with open(template, "rb") as f:
        data = bytearray(f.read())
    at = data.find(b"GALE-BOOT-ID:") + len(b"GALE-BOOT-ID:")
    assert at > len(b"GALE-BOOT-ID:") and data.count(b"GALE-BOOT-ID:") == 1
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    other = tmp_path / ("other-host" + host.suffix)
    other.write_bytes(bytes(data))
    out_exe = tmp_path / ("never" + host.suffix)
    out = host.run("pack", os.path.join(source_dir, "examples", "hello"), "--host-template",
                   host.path(other), "-o", host.path(out_exe))
    assert out.returncode == exit_codes(host)["PACK"], out.stderr
    assert "different Gale builds" in one_error_line(out.stderr), out.stderr
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(("never", ".never"))]


def test_pack_does_not_need_a_compiler(host, source_dir, tmp_path):
    env = {"PATH": str(tmp_path / "empty-path"), "CC": "/nonexistent"}
    out = host.run("pack", os.path.join(source_dir, "examples", "hello"),
                   "-o", host.exe_path(tmp_path / "h"), env=env)
    assert out.returncode == 0, out.stderr
