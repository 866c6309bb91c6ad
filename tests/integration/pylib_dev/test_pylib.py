# SPDX-License-Identifier: MIT
"""Dev tests for pylib/gale, driven through a gale executable.

GALE_CMD is the command that runs gale, split on spaces: the real
executable (default: dist/linux-x86_64/gale) or a launcher emulation. Apps are
packed with `gale pack`, so the runtime pack is exercised too. Needs tornado
in the test interpreter (for the WebSocket client).
"""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
import zipfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples")
DEFAULT_EXE = os.path.join(ROOT, "dist", "linux-x86_64", "gale")
GALE = os.environ.get("GALE_CMD", DEFAULT_EXE).split()
if not os.path.exists(GALE[-1]):
    pytest.skip(f"no gale executable at {GALE[-1]} (set GALE_CMD)", allow_module_level=True)
CODES = dict(OK=0, ERROR=1, USAGE=2, CONFIG=3, APP=4, ADDRESS=5, TLS=6, PAYLOAD=7,
             PACK=9, DATA=10)


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"),
             XDG_DATA_HOME=str(tmp_path / "data"))
    e.pop("GALE_DEBUG", None)
    e.pop("PORT", None)
    return e


def run(args, env, exe=None, cwd=None, timeout=60):
    cmd = (GALE[:-1] + [exe] if exe else GALE) + list(args)
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def start(args, env, exe):
    cmd = GALE[:-1] + [exe] + list(args)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=15, context=None):
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as r:
                return r.read().decode()
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def one_error_line(proc):
    lines = proc.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("gale: error: "), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return lines[-1]


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    out = tmp_path_factory.mktemp("packed")
    e = dict(os.environ, XDG_CACHE_HOME=str(out / "cache"))
    apps = {}
    for name in ("hello", "plain_tornado"):
        exe = str(out / name)
        p = run(["pack", os.path.join(EXAMPLES, name), "-o", exe], e)
        assert p.returncode == 0, p.stderr
        apps[name] = exe
    return apps


def test_version(env):
    p = run(["--version"], env)
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert re.match(r"Gale \S+", lines[0])
    assert re.match(r"CPython 3\.13\.\d+", lines[1])
    assert lines[2] == "Tornado 6.6.1"
    assert [l.split()[0] for l in lines[3:6]] == ["OpenSSL", "SQLite", "zlib"]


def test_pack_layout_and_trailer(packed, tmp_path, env):
    exe = packed["hello"]
    data = open(exe, "rb").read()
    magic, offset, size, digest = struct.unpack("<8sQQ32s", data[-56:])
    eocd = len(data) - 56 - 22
    assert magic == b"GALEPAY1" and data[eocd:eocd + 4] == b"PK\x05\x06"
    assert offset + size == len(data)
    assert hashlib.sha256(data[offset:eocd]).digest() == digest
    with zipfile.ZipFile(exe) as z:
        assert z.testzip() is None
        names = z.namelist()
        assert names == sorted(names)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        pyc = z.read("__gale_app__/hello/app.pyc")
        assert struct.unpack("<I", pyc[4:8])[0] == 0b01  # hash-based, unchecked
        assert not any(n.endswith(".py") for n in names)
        assert "__gale_app__/hello/templates/index.html" in names
        assert not any(n.startswith(("tornado/test/", "test/", "tkinter/")) for n in names)
        m = json.loads(z.read("__gale__/manifest.json"))
    assert m["format"] == 1 and m["name"] == "hello" and m["extract"] == ["__gale_app__"]
    assert 'app = "hello.app:make_app"' in m["config"]
    paths = {r["path"] for r in m["resources"]}
    assert "__gale_app__/hello/static/style.css" in paths
    # Reproducible, and never a partial output on failure.
    again = str(tmp_path / "again")
    assert run(["pack", os.path.join(EXAMPLES, "hello"), "-o", again], env).returncode == 0
    assert open(again, "rb").read() == data
    assert os.access(again, os.X_OK)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "gale.toml").write_text('app = "x:app"\n')
    (bad / "x.py").write_text("def (:\n")
    p = run(["pack", str(bad), "-o", str(tmp_path / "out")], env)
    assert p.returncode == CODES["PACK"] and "x.py, line 1" in one_error_line(p)
    assert sorted(os.listdir(tmp_path)) == ["again", "bad"]


@pytest.mark.parametrize("args, code, text", [
    (["pack", "/nonexistent-dir", "-o", "x"], "PACK", "not found"),
    (["pack", EXAMPLES, "-o", "x"], "CONFIG", "no gale.toml"),
    (["pack", os.path.join(EXAMPLES, "hello"), "-o", "x", "--target", "nope"], "PACK", "unknown target"),
    (["pack", os.path.join(EXAMPLES, "hello"), "-o", "x", "--target", "win-arm64"], "PACK", "no host template"),
    (["frobnicate"], "USAGE", "invalid choice"),
    (["serve", "--port", "x"], "USAGE", "--port"),
    (["check", "--key", "k.pem"], "USAGE", "--key needs --cert"),
])
def test_command_errors(env, tmp_path, args, code, text):
    p = run(args, env, cwd=tmp_path)
    assert p.returncode == CODES[code], p.stderr
    assert text in one_error_line(p)
    assert not (tmp_path / "x").exists()


def test_check_and_precedence(packed, env, tmp_path):
    exe = packed["hello"]
    p = run(["check"], env, exe)
    assert p.returncode == 0, p.stderr
    cfg = dict(l.split(" = ", 1) for l in p.stdout.splitlines() if " = " in l)
    assert cfg["port"] == "8888" and cfg["host"] == '"127.0.0.1"'
    assert cfg["data_dir"] == json.dumps(str(tmp_path / "data" / "gale" / "hello"))
    assert json.loads(cfg["origin"]).startswith(str(tmp_path / "cache" / "gale" / "apps" / "hello"))
    # A gale.toml next to the executable beats the packed one; --config beats
    # that; flags beat everything.
    local = tmp_path / "exe"
    local.mkdir()
    copy = str(local / "hello")
    shutil.copy(exe, copy)
    (local / "gale.toml").write_text('port = 9001\ndrain_timeout = 3\n[log]\nlevel = "warning"\n')
    (tmp_path / "other.toml").write_text("port = 9002\n[tls]\ncert = \"c.pem\"\n")
    p = run(["check"], env, copy)
    assert "port = 9001" in p.stdout and "drain_timeout = 3.0" in p.stdout
    p = run(["check", "--config", str(tmp_path / "other.toml")], env, copy)
    assert "port = 9002" in p.stdout and "drain_timeout = 10.0" in p.stdout
    assert f'tls.cert = "{tmp_path / "c.pem"}"' in p.stdout
    p = run(["check", "--config", str(tmp_path / "other.toml"), "--port", "9003"], env, copy)
    assert "port = 9003" in p.stdout


@pytest.mark.parametrize("toml, code, text", [
    ('app = "hello.app:make_app"\nbogus = 1\n', "CONFIG", "unknown key 'bogus'"),
    ("[tls]\nkee = 'x'\n", "CONFIG", "unknown key 'tls.kee'"),
    ("port = 'x'\n", "CONFIG", "'port' must be an integer"),
    ("port = [\n", "CONFIG", "other.toml"),
    ('app = "a:b"\nmain = "c:d"\n', "CONFIG", "only one of"),
    ('app = "nope:app"\n', "APP", "cannot find app module 'nope'"),
    ('app = "hello.app:nope"\n', "APP", "no attribute 'nope'"),
    ('data_dir = "/proc/nope"\n', "DATA", "not usable"),
])
def test_config_errors(packed, env, tmp_path, toml, code, text):
    (tmp_path / "other.toml").write_text(toml)
    p = run(["check", "--config", str(tmp_path / "other.toml")], env, packed["hello"])
    assert p.returncode == CODES[code], p.stderr
    assert text in one_error_line(p)


def test_debug_shows_traceback(packed, env):
    p = run(["check", "--app", "nope:app", "--debug"], env, packed["hello"])
    assert p.returncode == CODES["APP"] and "Traceback" in p.stderr


def test_serve_api_ws_and_drain(packed, env):
    import tornado.websocket
    from tornado.ioloop import IOLoop

    port = free_port()
    proc = start(["serve", "--port", str(port)], env, packed["hello"])
    try:
        base = f"http://127.0.0.1:{port}"
        assert "Hello from Gale" in wait_http(base + "/")
        assert "font-family" in wait_http(base + "/static/style.css")
        req = urllib.request.Request(base + "/api/notes", data=b'{"text": "one"}', method="POST")
        with urllib.request.urlopen(req) as r:
            assert r.status == 201 and json.loads(r.read())["text"] == "one"
        assert json.loads(wait_http(base + "/api/notes"))["notes"][-1]["text"] == "one"

        async def echo():
            ws = await tornado.websocket.websocket_connect(
                f"ws://127.0.0.1:{port}/ws", max_message_size=16 << 20)
            payload = os.urandom(1 << 20)
            await ws.write_message(payload, binary=True)
            got = await ws.read_message()
            ws.close()
            return got == payload
        assert IOLoop.current().run_sync(echo, timeout=30)

        import threading
        result = {}

        def slow():
            with urllib.request.urlopen(base + "/slow?seconds=2", timeout=10) as r:
                result["body"] = r.read().decode()
        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.6)
        proc.send_signal(signal.SIGTERM)
        t.join(10)
        assert result.get("body") == "done"
        assert proc.wait(15) == 0
        err = proc.stderr.read()
        assert "draining 1 request" in err and "stopped" in err
        assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO gale: Serving hello on "
                         rf"http://127\.0\.0\.1:{port}/$", err, re.M)
    finally:
        proc.kill()
        proc.wait()
    # The note survived the restart (SQLite in GALE_DATA_DIR).
    proc = start(["serve", "--port", str(port)], env, packed["hello"])
    try:
        notes = json.loads(wait_http(f"http://127.0.0.1:{port}/api/notes"))["notes"]
        assert [n["text"] for n in notes] == ["one"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        proc.kill()
        proc.wait()


def test_port_in_use(packed, env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        p = run(["serve", "--port", str(s.getsockname()[1])], env, packed["hello"])
    assert p.returncode == CODES["ADDRESS"]
    assert "address already in use" in one_error_line(p)


def test_tls(packed, env, tmp_path):
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    p = run(["serve", "--port", "0", "--cert", str(key), "--key", str(cert)], env, packed["hello"])
    assert p.returncode == CODES["TLS"] and "TLS" in one_error_line(p)
    p = run(["serve", "--port", "0", "--cert", str(tmp_path / "none.pem")], env, packed["hello"])
    assert p.returncode == CODES["TLS"]
    port = free_port()
    proc = start(["serve", "--port", str(port), "--cert", str(cert), "--key", str(key)],
                 env, packed["hello"])
    try:
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        assert "notes" in wait_http(f"https://127.0.0.1:{port}/api/notes", context=ctx)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert f"https://127.0.0.1:{port}/" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_plain_tornado_main(packed, env, sig):
    port = free_port()
    proc = start([], dict(env, PORT=str(port)), packed["plain_tornado"])
    try:
        assert "<h1>Plain Tornado</h1>" in wait_http(f"http://127.0.0.1:{port}/")
        assert "b45309" in wait_http(f"http://127.0.0.1:{port}/static/site.css")
        proc.send_signal(sig)
        assert proc.wait(15) == 0
    finally:
        proc.kill()
        proc.wait()


SCRIPT = """
import asyncio, os, sys
import tornado.ioloop, tornado.web

HERE = os.path.dirname(__file__)
PORT = int(os.environ["PORT"])


class H(tornado.web.RequestHandler):
    def get(self):
        assert sys.argv[1:] == [], sys.argv
        self.render("index.html", title="Plain Tornado")


def make_app():
    return tornado.web.Application([(r"/", H)], template_path=os.path.join(HERE, "templates"),
                                   static_path=os.path.join(HERE, "static"))


async def main():
    make_app().listen(PORT, "127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    BODY
"""


@pytest.mark.parametrize("body", [
    "asyncio.run(main())",
    "make_app().listen(PORT, '127.0.0.1'); tornado.ioloop.IOLoop.current().start()",
])
def test_script_mode(env, tmp_path, body):
    app = tmp_path / "app"
    shutil.copytree(os.path.join(EXAMPLES, "plain_tornado"), app)
    (app / "gale.toml").write_text('script = "server.py"\nname = "scripted"\n')
    (app / "server.py").write_text(SCRIPT.replace("BODY", body))
    exe = str(tmp_path / "scripted")
    assert run(["pack", str(app), "-o", exe], env).returncode == 0
    port = free_port()
    proc = start(["--port", "1"], dict(env, PORT=str(port)), exe)
    try:
        assert "Plain Tornado" in wait_http(f"http://127.0.0.1:{port}/")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        proc.kill()
        proc.wait()


def test_extraction_cache(packed, env, tmp_path):
    exe = packed["hello"]
    procs = [subprocess.Popen(GALE[:-1] + [exe, "check"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    apps = tmp_path / "cache" / "gale" / "apps" / "hello"
    dirs = [d for d in os.listdir(apps) if not d.startswith(".")]
    assert len(dirs) == 1 and not [d for d in os.listdir(apps) if d.startswith(".")]
    css = apps / dirs[0] / "app" / "hello" / "static" / "style.css"
    css.unlink()
    assert run(["check"], env, exe).returncode == 0
    assert css.exists()
    # An unusable cache falls back to a temporary folder, with a warning.
    blocked = dict(env, XDG_CACHE_HOME=str(tmp_path / "file"))
    (tmp_path / "file").write_text("not a folder")
    p = run(["check"], blocked, exe)
    assert p.returncode == 0 and "WARNING" in p.stderr and "temporary" in p.stderr
