# SPDX-License-Identifier: MIT
"""What a client may take and send (pylib/gale/limits.py, docs/exposed.md):
header_timeout, idle_timeout, body_timeout, max_body_size, and the
listening socket's SO_EXCLUSIVEADDRUSE on Windows.

tests/fixtures/svcapp takes bodies at /upload (buffered) and /stream
(streamed, with the limit its ?max= sets). The timeouts run on linux-x86_64
and win-x64; memory under big uploads is read from /proc, so Linux only;
the socket option is read back on every target.
"""

import json
import os
import re
import socket
import threading
import time

import pytest

from harness import free_port, get

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs")


def not_arm64(target):
    if target == "win-arm64":
        pytest.skip("the limits are Python code, the same on every target; win-arm64 "
                    "(Wine 10 under qemu) checks the socket option only")


def serve(host, target, *args):
    proc = host.serve(*args, "--log-level", "debug")
    proc.follow_stderr()
    return proc


def connect(proc) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proc.port), timeout=30)
    return sock


def closed_by_server(sock, timeout: float) -> bool:
    """True if the server closes `sock` within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, ConnectionAbortedError):
        return True
    except socket.timeout:
        return False


def response(sock, timeout=30.0) -> bytes:
    """Everything the server sends until it closes (or resets) `sock`."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, ConnectionAbortedError):
        pass
    return data


def status(data: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    assert match, data[:200]
    return int(match.group(1))


def test_slow_clients_hold_no_slot_after_header_timeout(apphost, target):
    not_arm64(target)
    proc = serve(apphost, target, "--max-connections", "200", "--header-timeout", "3")
    slow = []
    for batch in range(4):  # batches, so that Wine's accept keeps up
        for _ in range(50):
            sock = connect(proc)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            slow.append(sock)
        time.sleep(0.2)
    started = time.monotonic()
    # Every slot is taken: a new connection is closed without an answer.
    assert _refused(proc)
    proc.wait_stderr("connection limit reached", timeout=10)
    time.sleep(max(0.0, 5.0 - (time.monotonic() - started)))
    still_open = [s for s in slow if not closed_by_server(s, 0.05)]
    assert not still_open, f"{len(still_open)} of 200 slow clients still connected after 5 s"
    assert get(proc.url + "/")[0] == 200
    for sock in slow:
        sock.close()
    assert proc.stop() == 0
    assert "took longer than header_timeout" in proc.stderr


def _refused(proc) -> bool:
    """Tries one more connection; True if the server closed it unanswered."""
    sock = connect(proc)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return response(sock, 10) == b""
    except (BrokenPipeError, ConnectionResetError):
        return True
    finally:
        sock.close()


def test_idle_keep_alive_is_closed_after_idle_timeout(apphost, target):
    not_arm64(target)
    proc = serve(apphost, target, "--idle-timeout", "2")
    sock = connect(proc)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(30)
    assert status(sock.recv(65536)) == 200
    answered = time.monotonic()
    # Kept alive at first: a second request on it is answered.
    time.sleep(1.0)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status(sock.recv(65536)) == 200
    answered = time.monotonic()
    assert not closed_by_server(sock, 1.0)
    assert closed_by_server(sock, 5.0)
    idle = time.monotonic() - answered
    assert 1.5 < idle < 4.5, idle
    assert proc.stop() == 0
    assert "idle longer than idle_timeout" in proc.stderr


def test_stalled_body_is_cut_off_after_body_timeout(apphost, target):
    not_arm64(target)
    proc = serve(apphost, target, "--body-timeout", "2")
    # A slow body that keeps coming is not cut: the clock runs between reads.
    sock = connect(proc)
    sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 b"Connection: close\r\n\r\n")
    for byte in b"slow!":
        time.sleep(1.0)
        sock.sendall(bytes([byte]))
    answer = response(sock)
    assert status(answer) == 200 and answer.endswith(b'{"length": 5}'), answer
    # A body that stops is.
    sock = connect(proc)
    sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    sent = time.monotonic()
    assert response(sock) == b""
    assert 1.5 < time.monotonic() - sent < 4.5
    assert proc.stop() == 0
    assert "stalled longer than body_timeout" in proc.stderr


def _reference_defaults() -> dict:
    """The defaults docs/reference.md's gale.toml table gives for the keys."""
    with open(os.path.join(DOCS, "reference.md"), encoding="utf-8") as f:
        text = f.read()
    found = {}
    for key in ("header_timeout", "idle_timeout", "body_timeout", "max_body_size"):
        match = re.search(rf"^\| `{key}` \| `?([0-9.]+)", text, re.M)
        assert match, f"docs/reference.md has no row for {key}"
        found[key] = float(match.group(1))
    return found


def test_defaults_are_the_documented_ones(apphost, target):
    if target != "linux-x86_64":
        pytest.skip("configuration is the same on every target")
    out = apphost.run("check")
    assert out.returncode == 0, out.stderr
    shown = dict(re.findall(r"^(\w+) = (.*)$", out.stdout, re.M))
    for key, value in _reference_defaults().items():
        assert float(shown[key]) == value, (key, shown[key], value)
    out = apphost.run("check", "--header-timeout", "7", "--max-body-size", "1000")
    assert "header_timeout = 7.0" in out.stdout and "max_body_size = 1000" in out.stdout
    for bad in (["--idle-timeout", "0"], ["--body-timeout", "-1"], ["--max-body-size", "-1"],
                ["--header-timeout", "nan"]):
        out = apphost.run("check", *bad)
        assert out.returncode == 3, (bad, out.stderr)  # CONFIG
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def _post(proc, path: str, size: int, results: list, chunked=False) -> None:
    """POSTs `size` bytes of zeros and appends the answer; the body goes
    from a second thread, as the answer may come before it is all sent."""
    sock = connect(proc)
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % size
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n\r\n"
                 % (path.encode(), framing))

    def send() -> None:
        block = bytes(1024 * 1024)
        left = size
        try:
            while left:
                piece = block[:min(left, len(block))]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                left -= len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # refused and closed: the answer says so
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    results.append(response(sock, 60))
    sender.join(60)
    sock.close()


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M).group(1)) / 1024


def test_big_bodies_get_413_and_memory_stays_bounded(apphost, target):
    if target != "linux-x86_64":
        pytest.skip("memory is read from /proc, the server's own on Linux only")
    proc = serve(apphost, target)
    results = []
    posts = [threading.Thread(target=_post, args=(proc, "/", 95 * 1000 * 1000, results))
             for _ in range(10)]
    for post in posts:
        post.start()
    for post in posts:
        post.join(120)
    assert [status(r) for r in results] == [413] * 10, results
    assert b"Connection: close" in results[0]
    peak = _peak_rss_mb(proc.pid)
    assert peak < 150, f"peak RSS {peak:.0f} MB"
    assert proc.stop() == 0
    assert proc.stderr.count("over max_body_size") == 10, proc.stderr


def test_body_limit_and_a_streaming_handlers_own(apphost, target):
    not_arm64(target)
    proc = serve(apphost, target, "--max-body-size", "4000000")
    results = []
    _post(proc, "/upload", 3 * 1000 * 1000, results)  # under the limit: arrives whole
    _post(proc, "/upload", 6 * 1000 * 1000, results)  # declared over it
    _post(proc, "/upload", 6 * 1000 * 1000, results, chunked=True)  # grows past it
    _post(proc, "/stream?max=8000000", 6 * 1000 * 1000, results)  # the handler's own, higher
    _post(proc, "/stream?max=1000", 2000, results)  # and lower
    assert [status(r) for r in results] == [200, 413, 413, 200, 413], results
    assert json.loads(results[0].split(b"\r\n\r\n", 1)[1]) == {"length": 3 * 1000 * 1000}
    assert json.loads(results[3].split(b"\r\n\r\n", 1)[1]) == {"length": 6 * 1000 * 1000}
    assert b"413: Payload Too Large" in results[1]
    assert proc.stop() == 0
    assert proc.stderr.count("over max_body_size") == 3, proc.stderr


def test_listening_socket_is_exclusive_on_windows(apphost, target):
    """Read back with getsockopt from the sockets Gale serves on (logged at
    debug level): SO_EXCLUSIVEADDRUSE on Windows, in one process and in
    every worker; SO_REUSEADDR on Linux. Wine refuses a second bind of
    the port even without the option, so only the option itself can show
    the difference there."""
    windows = target.startswith("win-")
    option = "SO_EXCLUSIVEADDRUSE = 1" if windows else "SO_REUSEADDR = 1"
    proc = serve(apphost, target)
    proc.wait_stderr(re.compile(rf"listening on 127\.0\.0\.1:{proc.port}: "), timeout=30)
    assert re.search(rf"listening on 127\.0\.0\.1:{proc.port}: {option}", proc.stderr), \
        proc.stderr
    assert proc.stop() == 0
    if target == "win-arm64":
        return
    port = free_port()
    proc = apphost.spawn("serve", "--port", str(port), "--workers", "2", "--log-level", "debug")
    proc.follow_stderr()
    proc.wait_stderr("with 2 workers", timeout=120)
    for index in (1, 2):
        proc.wait_stderr(re.compile(rf"\[worker {index}\] gale: serving on the shared socket"),
                         timeout=30)
    shared = re.findall(rf"\[worker (\d)\] gale: serving on the shared socket "
                        rf"127\.0\.0\.1:{port}: {option}", proc.stderr)
    assert sorted(shared) == ["1", "2"], proc.stderr
    assert proc.stop() == 0
