# SPDX-License-Identifier: MIT
"""The Python runtime (pylib/gale) through the real executable: configuration
layers and errors, stop signals in each run mode, the drain's limits, the
resource cache, imports from the payload, and the bytes `gale pack` writes.

Apps are small throwaway folders written into tmp_path and packed with the
executable under test.
"""

import hashlib
import json
import marshal
import os
import shutil
import struct
import threading
import time
import tomllib
import zipfile

import pytest

from harness import exit_codes, free_port, get, one_error_line

TINY = {
    "tiny.py": '''\
import tornado.web


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("tiny")


def make_app():
    return tornado.web.Application([(r"/", Hello)])


other_app = make_app


def serve():
    pass
''',
}

TRAILER = struct.Struct("<8sQQ32s")  # magic, offset, size, SHA-256 (payload.py)
EOCD_SIZE = 22


def write_app(folder, files: dict):
    """Writes {relative path: text} under `folder` and returns it."""
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def pack(host, appdir, out, *args) -> str:
    """Packs `appdir` into `out` (plus the target's suffix); returns the path."""
    out = host.exe_path(out)
    result = host.run("pack", str(appdir), "-o", out, *args)
    assert result.returncode == 0, result.stderr
    return out


def check(host, *args, exe=None) -> dict:
    """What `gale check` prints (TOML-like lines), parsed."""
    out = host.run("check", *args, exe=exe)
    assert out.returncode == 0, out.stderr
    return tomllib.loads(out.stdout)


def slow_request(url):
    """GETs `url` in a thread; returns the thread and where its outcome lands."""
    result = {}

    def run():
        try:
            result["reply"] = get(url)
        except Exception as exc:  # the server cut it off; reported by the test
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


# --- configuration ---------------------------------------------------------

def test_config_layers_in_order(host, tmp_path):
    app = write_app(tmp_path / "tiny", {**TINY, "gale.toml": '''\
app = "tiny:make_app"
port = 7001
drain_timeout = 7
data_dir = "tinystore"
[log]
level = "warning"
'''})
    (tmp_path / "bin").mkdir()
    exe = pack(host, app, tmp_path / "bin" / "tiny")
    data_root = host.exe_data_root()

    cfg = check(host, exe=exe)
    assert (cfg["app"], cfg["host"], cfg["port"], cfg["drain_timeout"], cfg["log"]["level"]) == \
        ("tiny:make_app", "127.0.0.1", 7001, 7.0, "warning")
    # A relative data_dir in the packed gale.toml lands under the data root.
    assert cfg["data_dir"] == host.pathmod.join(data_root, "tinystore")
    assert cfg["sources"] == ["gale.toml (packed)"]

    # A gale.toml next to the executable beats the packed one, key by key.
    beside = tmp_path / "bin" / "gale.toml"
    beside.write_text("port = 7002\ndrain_timeout = 8\n")
    cfg = check(host, exe=exe)
    assert (cfg["port"], cfg["drain_timeout"], cfg["log"]["level"]) == (7002, 8.0, "warning")
    assert cfg["sources"] == ["gale.toml (packed)", host.path(beside)]

    # --config replaces the one next to the executable; its relative paths
    # resolve against its own folder.
    other = tmp_path / "etc" / "other.toml"
    other.parent.mkdir()
    other.write_text('port = 7003\ndata_dir = "store"\n')
    cfg = check(host, "--config", str(other), exe=exe)
    assert (cfg["port"], cfg["drain_timeout"]) == (7003, 7.0)
    assert cfg["data_dir"] == host.path(tmp_path / "etc" / "store")
    assert cfg["sources"] == ["gale.toml (packed)", host.path(other)]

    # Flags beat everything.
    cfg = check(host, "--config", str(other), "--port", "7004", "--drain-timeout", "4",
                "--log-level", "error", "--app", "tiny:other_app", exe=exe)
    assert (cfg["app"], cfg["port"], cfg["drain_timeout"], cfg["log"]["level"]) == \
        ("tiny:other_app", 7004, 4.0, "error")
    assert cfg["sources"][-1] == "command line"

    # An entry point in a higher layer replaces the packed one.
    entry = tmp_path / "entry.toml"
    entry.write_text('main = "tiny:serve"\n')
    cfg = check(host, "--config", str(entry), exe=exe)
    assert cfg["main"] == "tiny:serve" and "app" not in cfg


def test_pack_name_option_wins(host, tmp_path):
    app = write_app(tmp_path / "folder", {**TINY,
                                          "gale.toml": 'app = "tiny:make_app"\nname = "fromtoml"\n'})
    exe = pack(host, app, tmp_path / "exe", "--name", "fromflag")
    cfg = check(host, exe=exe)
    assert cfg["name"] == "fromflag"
    assert cfg["data_dir"] == host.exe_default_data_dir("fromflag")
    assert cfg["origin"].startswith(host.pathmod.join(host.exe_cache_root(), "fromflag", ""))
    assert check(host, exe=pack(host, app, tmp_path / "exe2"))["name"] == "fromtoml"


def test_service_is_windows_only(host):
    if host.windows:
        pytest.skip("tests/integration/test_service.py tests the service")
    for args in (["service", "status"], ["service", "run", "--name", "x"]):
        out = host.run(*args)
        assert out.returncode == exit_codes(host)["USAGE"], out.stderr
        assert "`gale service` is for Windows" in one_error_line(out.stderr)


def test_open_browser_auto_follows_the_console(host, tmp_path):
    """open_browser = "auto" (the default) opens one only on a console Gale
    owns (a double-click); the tests' pipes are no console at all. The
    service and log keys show up resolved too."""
    cfg = check(host)
    assert cfg["open_browser"] is False
    assert (cfg["log"]["max_bytes"], cfg["log"]["backups"]) == (10 * 1024 * 1024, 5)
    assert check(host, "--open-browser")["open_browser"] is True
    other = tmp_path / "other.toml"
    other.write_text('open_browser = "auto"\n[service]\nstart = "delayed"\n')
    cfg = check(host, "--config", str(other))
    assert cfg["open_browser"] is False and cfg["service"] == {"start": "delayed"}


@pytest.mark.parametrize("toml, code, text", [
    ('[tls]\nkee = "x"\n', "CONFIG", "unknown key 'tls.kee'"),
    ("[server]\nport = 1\n", "CONFIG", "unknown key 'server'"),
    ('port = "x"\n', "CONFIG", "'port' must be an integer"),
    ("port = [\n", "CONFIG", "other.toml"),
    ('app = "a:b"\nmain = "c:d"\n', "CONFIG", "only one of"),
    ('app = "hello.app:nope"\n', "APP", "no attribute 'nope'"),
    ('[service]\nstart = "later"\n', "CONFIG", "service.start must be one of auto, delayed"),
    ('[service]\nname = "a b"\n', "CONFIG", "service.name 'a b' must be"),
    ('[service]\naccount = "alice"\n', "CONFIG", "accounts with passwords are not supported"),
    ('[service]\ncolour = "red"\n', "CONFIG", "unknown key 'service.colour'"),
    ("[log]\nmax_bytes = 100\n", "CONFIG", "log.max_bytes must be at least 65536"),
    ("[log]\nbackups = -1\n", "CONFIG", "log.backups must be 0-100"),
    ('open_browser = "sometimes"\n', "CONFIG", 'open_browser must be true, false or "auto"'),
])
def test_config_errors(host, tmp_path, toml, code, text):
    other = tmp_path / "other.toml"
    other.write_text(toml)
    out = host.run("check", "--config", str(other))
    assert out.returncode == exit_codes(host)[code], out.stderr
    assert text in one_error_line(out.stderr)


@pytest.mark.parametrize("args, code, text", [
    (["check", "--key", "k.pem"], "USAGE", "--key needs --cert"),
    (["pack", "APPDIR", "-o", "x", "--target", "nope"], "PACK", "unknown target"),
    (["service", "frobnicate"], "USAGE", "invalid choice: 'frobnicate'"),
])
def test_command_errors(host, source_dir, tmp_path, args, code, text):
    args = [os.path.join(source_dir, "examples", "hello") if a == "APPDIR" else a for a in args]
    out = host.run(*args, cwd=str(tmp_path))
    assert out.returncode == exit_codes(host)[code], out.stderr
    assert text in one_error_line(out.stderr)
    assert not (tmp_path / "x").exists()


def test_unusable_data_dir(host, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    port = free_port()
    for data_dir in (blocker, blocker / "sub"):
        out = host.run("serve", "--port", str(port), "--data-dir", str(data_dir))
        assert out.returncode == exit_codes(host)["DATA"], out.stderr
        assert host.path(data_dir) in one_error_line(out.stderr)
    assert blocker.read_text() == "not a folder\n"


def test_debug_shows_the_traceback(host):
    code = exit_codes(host)["APP"]
    for args, env in ((["--debug"], None), ([], {"GALE_DEBUG": "1"})):
        out = host.run("check", "--app", "nope:app", *args, env=env)
        assert out.returncode == code, out.stderr
        assert "Traceback" in out.stderr and "gale: error: " in out.stderr


# --- stopping ----------------------------------------------------------------

def test_second_stop_during_drain_cuts_requests_off(host):
    proc = host.serve("--drain-timeout", "60")
    thread, result = slow_request(proc.url + "/slow?seconds=20")
    time.sleep(1.0)  # the request is in flight
    first, second = host.STOP_EVENTS[:2]
    proc.request_stop(first)
    proc.wait_stderr("draining 1 request")
    time.sleep(0.5)  # past the window in which a repeat counts as the same signal
    started = time.monotonic()
    proc.request_stop(second)
    assert proc.wait(15) == 0, proc.stderr
    assert time.monotonic() - started < 10
    thread.join(30)
    assert "error" in result, result
    assert "second stop request" in proc.stderr
    assert "closing 1 unfinished request" in proc.stderr


def test_stop_delivered_twice_counts_once(host):
    proc = host.serve("--drain-timeout", "30")
    thread, result = slow_request(proc.url + "/slow?seconds=2")
    time.sleep(1.0)
    proc.request_stop()
    time.sleep(0.05)  # as `timeout` does: to the process, then to its group
    proc.request_stop()
    assert proc.wait(30) == 0, proc.stderr
    thread.join(30)
    assert result.get("reply") == (200, b"done"), (result, proc.stderr)
    assert "second stop request" not in proc.stderr


def test_drain_timeout_expires(host):
    proc = host.serve("--drain-timeout", "1")
    thread, result = slow_request(proc.url + "/slow?seconds=20")
    time.sleep(1.0)
    started = time.monotonic()
    proc.request_stop()
    assert proc.wait(15) == 0, proc.stderr
    assert 0.9 <= time.monotonic() - started < 10
    thread.join(30)
    assert "error" in result, result
    assert "closing 1 unfinished request" in proc.stderr


MAIN_APP = {
    "gale.toml": 'main = "server:main"\n',
    "server.py": '''\
import asyncio
import os

import tornado.web


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("main mode")


async def main():
    server = tornado.web.Application([(r"/", Hello)]).listen(
        int(os.environ["PORT"]), "127.0.0.1")
    try:
        await asyncio.Event().wait()
    finally:
        server.stop()
        print("app: cleaned up", flush=True)
''',
}


def test_main_mode_stops_cleanly(host, tmp_path, stop_event):
    exe = pack(host, write_app(tmp_path / "mainmode", MAIN_APP), tmp_path / "mainmode-exe")
    port = free_port()
    proc = host.spawn(exe=exe, env={"PORT": str(port)})
    proc.wait_http(f"http://127.0.0.1:{port}/")
    assert get(f"http://127.0.0.1:{port}/") == (200, b"main mode")
    proc.request_stop(stop_event)
    assert proc.wait(30) == 0, proc.stderr
    assert "app: cleaned up" in proc.stdout, proc.stderr


SCRIPT = '''\
import asyncio
import os
import sys

import tornado.ioloop
import tornado.web

PORT = int(os.environ["PORT"])


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write(f"{__name__} {sys.argv[1:]}")


def make_app():
    return tornado.web.Application([(r"/", Hello)])


async def main():
    make_app().listen(PORT, "127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        {run}
    finally:
        print("app: cleaned up", flush=True)
'''
SCRIPT_RUNS = {
    "asyncio.run": "asyncio.run(main())",
    "IOLoop.start": "make_app().listen(PORT, '127.0.0.1'); tornado.ioloop.IOLoop.current().start()",
}


@pytest.mark.parametrize("run", sorted(SCRIPT_RUNS))
def test_script_mode_stops_cleanly(host, tmp_path, run, stop_event):
    app = write_app(tmp_path / "scripted", {
        "gale.toml": 'script = "server.py"\n',
        "server.py": SCRIPT.replace("{run}", SCRIPT_RUNS[run]),
    })
    exe = pack(host, app, tmp_path / "scripted-exe")
    port = free_port()
    # Gale's --port is not the script's: it only exports GALE_PORT.
    proc = host.spawn("--port", "1", exe=exe, env={"PORT": str(port)})
    proc.wait_http(f"http://127.0.0.1:{port}/")
    assert get(f"http://127.0.0.1:{port}/") == (200, b"__main__ []")
    proc.request_stop(stop_event)
    assert proc.wait(30) == 0, proc.stderr
    assert "app: cleaned up" in proc.stdout, proc.stderr


# --- resources and imports -----------------------------------------------------

def test_resource_cache(host, source_dir, tmp_path):
    # Concurrent first starts share one extraction and leave no temporaries.
    procs = [host.spawn("check") for _ in range(6)]
    for proc in procs:
        assert proc.wait(60) == 0, proc.stderr
    apps = os.path.join(host.cache_root(), "hello")
    entries = os.listdir(apps)
    assert len(entries) == 1 and not entries[0].startswith("."), entries

    # A deleted or changed file is extracted again.
    static = os.path.join(apps, entries[0], "app", "hello", "static", "style.css")
    template = os.path.join(apps, entries[0], "app", "hello", "templates", "index.html")
    os.remove(static)
    with open(template, "w") as f:
        f.write("x")
    assert host.run("check").returncode == 0
    for extracted, rel in ((static, "static/style.css"), (template, "templates/index.html")):
        with open(extracted, "rb") as a, open(os.path.join(source_dir, "examples", "hello",
                                                           "hello", rel), "rb") as b:
            assert a.read() == b.read(), rel
    assert os.listdir(apps) == entries

    # An unusable cache falls back to a per-user temporary folder, with a warning.
    if host.windows:
        # Wine sets %LOCALAPPDATA% and %TEMP% from the prefix whatever the
        # environment says, so the cache is blocked where it lives.
        shutil.rmtree(host.cache_root())
        with open(host.cache_root(), "w"):
            pass
        probe = host.run("python", "-c", "import tempfile; print(tempfile.gettempdir())")
        tmp = host.linux_path(probe.stdout.strip())
        user, env = "root", None
    else:
        blocker, tmp = tmp_path / "a-file", tmp_path / "tmp"
        blocker.write_text("")
        tmp.mkdir()
        user, env = os.getuid(), {"XDG_CACHE_HOME": str(blocker), "TMPDIR": str(tmp)}
    out = host.run("check", env=env)
    assert out.returncode == 0, out.stderr
    assert "WARNING" in out.stderr and "temporary folder" in out.stderr
    assert os.path.isfile(os.path.join(tmp, f"gale-{user}", "apps", "hello", entries[0],
                                       "app", "hello", "static", "style.css"))
    if host.windows:
        os.remove(host.cache_root())
        shutil.rmtree(os.path.join(tmp, f"gale-{user}"))


PROBE = '''\
import importlib.resources
import json
import os
import pkgutil

import nspkg.mod
import regpkg


def main():
    here = os.path.dirname(regpkg.__file__)
    print(json.dumps({
        "namespace": nspkg.mod.VALUE,
        "namespace modules": sorted(m.name for m in pkgutil.iter_modules(nspkg.__path__)),
        "modules": sorted(m.name for m in pkgutil.walk_packages(regpkg.__path__, "regpkg.")),
        "files()": importlib.resources.files("regpkg").joinpath("data/info.txt").read_text(),
        "get_data": pkgutil.get_data("regpkg", "data/info.txt").decode(),
        "__file__": open(os.path.join(here, "data", "info.txt")).read(),
        "namespace files()": importlib.resources.files("nspkg").joinpath("ns.txt").read_text(),
    }))
'''


def test_namespace_packages_and_package_data(host, tmp_path):
    app = write_app(tmp_path / "probe", {
        "gale.toml": 'main = "probe:main"\n',
        "probe.py": PROBE,
        "nspkg/mod.py": 'VALUE = "from a namespace package"\n',
        "nspkg/other.py": "",
        "nspkg/ns.txt": "namespace data\n",
        "regpkg/__init__.py": "",
        "regpkg/a.py": "",
        "regpkg/sub/__init__.py": "",
        "regpkg/data/info.txt": "package data\n",
    })
    out = host.run(exe=pack(host, app, tmp_path / "probe-exe"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "namespace": "from a namespace package",
        "namespace modules": ["mod", "other"],
        "modules": ["regpkg.a", "regpkg.sub"],
        "files()": "package data\n",
        "get_data": "package data\n",
        "__file__": "package data\n",
        "namespace files()": "namespace data\n",
    }


# --- what pack writes ----------------------------------------------------------

def test_pack_output_is_deterministic_and_checks_out(host, tmp_path):
    app = write_app(tmp_path / "tiny", {**TINY, "gale.toml": 'app = "tiny:make_app"\n',
                                        "static/note.txt": "a note\n"})
    first = pack(host, app, tmp_path / "first")
    for path in app.rglob("*"):  # file times must not reach the output
        os.utime(path, (1_000_000_000, 1_000_000_000))
    second = pack(host, app, tmp_path / "second")
    with open(first, "rb") as f:
        data = f.read()
    with open(second, "rb") as f:
        assert f.read() == data

    # The trailer is the zip comment and describes the zip it ends.
    magic, offset, size, digest = TRAILER.unpack(data[-TRAILER.size:])
    eocd = len(data) - TRAILER.size - EOCD_SIZE
    assert magic == b"GALEPAY1"
    assert data[eocd:eocd + 4] == b"PK\x05\x06"
    assert struct.unpack("<H", data[eocd + 20:eocd + 22])[0] == TRAILER.size
    assert offset + size == len(data)
    assert hashlib.sha256(data[offset:eocd]).digest() == digest
    with open(host.exe, "rb") as f:
        own = f.read()
    own = own[:TRAILER.unpack(own[-TRAILER.size:])[1]]
    packed = data[:offset]
    if host.windows:
        # The same host, except for the resource section pack rebuilt with
        # this app's version resource (pylib/gale/pack/peversion.py): every other
        # section's bytes are the template's.
        import pefile

        def sections(image):
            pe = pefile.PE(data=image, fast_load=True)
            return {sec.Name.rstrip(b"\0"): sec.get_data() for sec in pe.sections}
        mine, template = sections(packed), sections(own)
        assert mine.keys() == template.keys()
        assert {k: v for k, v in mine.items() if k != b".rsrc"} == \
            {k: v for k, v in template.items() if k != b".rsrc"}
        assert "tiny".encode("utf-16-le") in mine[b".rsrc"]
    else:
        assert packed == own

    # The launcher reads the same numbers, and names the resource cache after the digest.
    probe = host.run("python", "-c", "import _gale, importlib.util, json, sys; print(json.dumps("
                     "[_gale.payload_offset, _gale.payload_size, _gale.payload_digest, "
                     "importlib.util.MAGIC_NUMBER.hex(), "
                     "importlib.util.source_hash(open(sys.argv[1], 'rb').read()).hex()]))",
                     str(app / "tiny.py"), exe=first)
    assert probe.returncode == 0, probe.stderr
    *where, magic_number, source_hash = json.loads(probe.stdout)
    assert where == [offset, size, digest.hex()]
    assert check(host, exe=first)["origin"] == host.pathmod.join(
        host.exe_cache_root(), "tiny", digest.hex()[:16], "app", "tiny.py")

    with zipfile.ZipFile(first) as z:
        assert z.testzip() is None
        infos = z.infolist()
        names = [i.filename for i in infos]
        # The code archive and the manifest first (read in place, stored),
        # then everything else by name.
        assert names[:2] == ["__gale__/code", "__gale__/manifest"]
        assert [i.compress_type for i in infos[:2]] == [zipfile.ZIP_STORED] * 2
        assert names[2:] == sorted(names[2:])
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        app_names = [n for n in names if n.startswith("__gale_app__/")]
        assert "__gale_app__/tiny.pyc" in app_names
        assert "__gale_app__/tiny.py" in app_names  # for tracebacks and inspect
        pyc = z.read("__gale_app__/tiny.pyc")
        # This interpreter's magic, unchecked hash-based, hash of the source.
        assert pyc[:4].hex() == magic_number
        assert struct.unpack("<I", pyc[4:8])[0] == 0b01
        assert pyc[8:16].hex() == source_hash
        manifest = marshal.loads(z.read("__gale__/manifest"))
        assert manifest["name"] == "tiny" and manifest["extract"] == ["__gale_app__"]
        assert 'app = "tiny:make_app"' in manifest["config"]
        resources = {r["path"]: r for r in manifest["resources"]}
        assert set(resources) == {"__gale_app__/gale.toml", "__gale_app__/static/note.txt",
                                  "__gale_app__/tiny.py"}
        for path, res in resources.items():
            body = z.read(path)
            assert (len(body), hashlib.sha256(body).hexdigest()) == (res["size"], res["sha256"])


@pytest.mark.parametrize("files, code, text", [
    ({"gale.toml": 'app = "x:app"\n', "x.py": "def (:\n"}, "PACK", "x.py, line 1"),
    ({"gale.toml": 'app = "x:app"\nbogus = 1\n', "x.py": ""}, "CONFIG", "unknown key 'bogus'"),
])
def test_pack_rejects_a_bad_app(host, tmp_path, files, code, text):
    app = write_app(tmp_path / "bad", files)
    out = host.run("pack", str(app), "-o", str(tmp_path / "out" / "exe"))
    assert out.returncode == exit_codes(host)[code], out.stderr
    assert text in one_error_line(out.stderr)
    assert sorted(os.listdir(tmp_path)) == ["bad", "home"]
