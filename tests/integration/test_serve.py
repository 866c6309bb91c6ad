# SPDX-License-Identifier: MIT
"""The demo app served by the real executable: HTTP, WebSocket, SQLite
persistence, graceful drain, and the errors a user can cause."""

import json
import os
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

from harness import exit_codes, free_port, get, one_error_line


def test_get_root_returns_page_and_static(host):
    proc = host.serve()
    status, body = get(proc.url + "/")
    assert status == 200
    assert b"<html" in body.lower()
    # The template names its stylesheet through static_url; fetch it.
    css = body.split(b'href="', 1)[1].split(b'"', 1)[0].decode()
    status, sheet = get(proc.url + css)
    assert status == 200 and len(sheet) > 0
    assert proc.stop() == 0


def test_websocket_echo_including_1mib(host):
    proc = host.serve()

    async def roundtrip():
        conn = await websocket_connect(proc.url.replace("http", "ws") + "/ws",
                                       max_message_size=8 << 20)
        conn.write_message("hello")
        assert await conn.read_message() == "hello"
        big = os.urandom(1 << 20)
        conn.write_message(big, binary=True)
        assert await conn.read_message() == big
        conn.close()

    IOLoop.current().run_sync(roundtrip, timeout=60)
    assert proc.stop() == 0


def post_note(url, text):
    req = urllib.request.Request(url + "/api/notes", data=json.dumps({"text": text}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


def test_note_survives_restart(host, tmp_path):
    data = tmp_path / "data"
    proc = host.serve("--data-dir", str(data))
    status, note = post_note(proc.url, "remember the milk")
    assert status == 201 and note["text"] == "remember the milk"
    assert proc.stop() == 0

    dbs = [p for p in data.iterdir() if p.suffix in (".db", ".sqlite", ".sqlite3")]
    assert len(dbs) == 1, list(data.iterdir())
    with sqlite3.connect(dbs[0]) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    proc = host.serve("--data-dir", str(data))
    status, body = get(proc.url + "/api/notes")
    assert [n["text"] for n in json.loads(body)["notes"]] == ["remember the milk"]
    assert proc.stop() == 0


def test_stop_drains_slow_request(host, stop_event):
    proc = host.serve("--drain-timeout", "20")
    result = {}

    def slow():
        try:
            result["reply"] = get(proc.url + "/slow?seconds=3")
        except Exception as exc:  # reported below
            result["error"] = exc

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(1.0)  # the request is in flight
    proc.request_stop(stop_event)
    code = proc.wait(30)
    t.join(30)
    assert result.get("reply") == (200, b"done"), (result, proc.stderr)
    assert code == 0, proc.stderr
    assert f"Serving hello on {proc.url}/" in proc.stderr
    for step in ("stop requested", "draining 1 request", "stopped"):
        assert step in proc.stderr, (step, proc.stderr)


def test_port_in_use(host):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = host.run("serve", "--port", str(port), timeout=60)
    assert out.returncode == exit_codes(host)["ADDRESS"]
    line = one_error_line(out.stderr)
    assert str(port) in line


@pytest.mark.parametrize("variable", ["HTTP_PLATFORM_PORT", "ASPNETCORE_PORT"])
def test_iis_port_variables(host, variable):
    """Behind IIS (HttpPlatformHandler, ASP.NET Core Module) the port comes
    from the environment and wins over gale.toml, on 127.0.0.1."""
    port = free_port()
    proc = host.spawn("serve", env={variable: str(port)})
    proc.wait_http(f"http://127.0.0.1:{port}/")
    assert get(f"http://127.0.0.1:{port}/")[0] == 200
    assert proc.stop() == 0
    assert f"on http://127.0.0.1:{port}/" in proc.stderr


def test_iis_port_variable_must_be_a_port(host):
    out = host.run("serve", env={"HTTP_PLATFORM_PORT": "eighty"})
    assert out.returncode == exit_codes(host)["CONFIG"], out.stderr
    assert "HTTP_PLATFORM_PORT='eighty' is not a port number" in one_error_line(out.stderr)


def test_websocket_gets_1001_when_the_server_stops(host):
    proc = host.serve()

    async def stopped_while_open():
        conn = await websocket_connect(proc.url.replace("http", "ws") + "/ws")
        conn.write_message("hello")
        assert await conn.read_message() == "hello"
        proc.request_stop()
        assert await conn.read_message() is None  # closed by the server
        return conn.close_code, conn.close_reason

    code, reason = IOLoop.current().run_sync(stopped_while_open, timeout=60)
    assert (code, reason) == (1001, "server shutting down")
    assert proc.wait() == 0, proc.stderr
    assert "closing 1 WebSocket connection(s) (1001 going away)" in proc.stderr


def test_unknown_app_module(host, tmp_path):
    cfg = tmp_path / "gale.toml"
    cfg.write_text('app = "nope:app"\n')
    out = host.run("serve", "--config", str(cfg), "--port", str(free_port()))
    assert out.returncode == exit_codes(host)["APP"]
    assert "nope" in one_error_line(out.stderr)
    out = host.run("check", "--app", "nope:app")
    assert out.returncode == exit_codes(host)["APP"]


def test_bad_config_is_one_line(host, tmp_path):
    cfg = tmp_path / "gale.toml"
    cfg.write_text('app = "hello.app:make_app"\nprot = 80\n')
    out = host.run("check", "--config", str(cfg))
    assert out.returncode == exit_codes(host)["CONFIG"]
    assert "prot" in one_error_line(out.stderr)


def test_python_environment_is_ignored(host, tmp_path):
    garbage = {"PYTHONPATH": str(tmp_path / "nowhere"), "PYTHONHOME": "/garbage/home",
               "PYTHONSTARTUP": str(tmp_path / "boom.py"), "PYTHONINSPECT": "1",
               "PYTHONSAFEPATH": "0"}
    (tmp_path / "boom.py").write_text("raise SystemExit(99)\n")
    (tmp_path / "nowhere").mkdir()
    (tmp_path / "nowhere" / "hello").mkdir()
    (tmp_path / "nowhere" / "hello" / "__init__.py").write_text("raise SystemExit(98)\n")
    clean = host.run("check")
    dirty = host.run("check", env=garbage)
    assert clean.returncode == 0, clean.stderr
    assert (dirty.returncode, dirty.stdout) == (clean.returncode, clean.stdout)
    code = "import sys; print(sys.path, sys.flags.isolated, sys.flags.ignore_environment)"
    assert host.run("python", "-c", code, env=garbage).stdout == host.run("python", "-c", code).stdout
    proc = host.serve(env=garbage)
    assert get(proc.url + "/")[0] == 200
    assert proc.stop() == 0


def make_cert(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_https_with_self_signed_cert(host, tmp_path):
    cert, key = make_cert(tmp_path)
    ctx = ssl.create_default_context(cafile=str(cert))
    proc = host.serve("--cert", str(cert), "--key", str(key), scheme="https", context=ctx)
    status, body = get(proc.url + "/", context=ctx)
    assert status == 200 and b"<html" in body.lower()
    # Plain HTTP on the TLS port is not served.
    with pytest.raises(Exception):
        get(proc.url.replace("https", "http") + "/")
    assert proc.stop() == 0


def test_bad_tls_key(host, tmp_path):
    cert, _ = make_cert(tmp_path)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    out = host.run("serve", "--port", str(free_port()), "--cert", str(cert), "--key", str(bad))
    assert out.returncode == exit_codes(host)["TLS"]
    one_error_line(out.stderr)
