# SPDX-License-Identifier: MIT
"""The event loop's edge cases, run inside the executable under test
(`gale python loop_cases.py`) on the loop Gale serves with
(gale.eventloop.install()). test_eventloop.py runs it; each case prints
one JSON line: {"case": name, "ok": bool, "detail": text}.

All sockets are on 127.0.0.1 and every wait is bounded.
"""

import asyncio
import json
import socket
import struct
import sys
import threading
import traceback

from gale import eventloop

TIMEOUT = 20.0
CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def pair():
    """A connected (server side, client side) pair of non-blocking sockets."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    server.setblocking(False)
    client.setblocking(False)
    return server, client


async def readable(loop, sock) -> None:
    """Waits until add_reader says sock is readable."""
    fut = loop.create_future()
    loop.add_reader(sock, lambda: fut.done() or fut.set_result(None))
    try:
        await asyncio.wait_for(fut, TIMEOUT)
    finally:
        loop.remove_reader(sock)


@case
async def loop_type(loop):
    """Tornado takes the loop as it is: no selector thread."""
    from tornado.ioloop import IOLoop

    io = IOLoop.current()
    names = [t.name for t in threading.enumerate()]
    assert io.selector_loop is io.asyncio_loop, type(io.selector_loop).__name__
    assert "Tornado selector" not in names, names
    return f"{eventloop.kind()}: {type(loop).__module__}.{type(loop).__name__}"


@case
async def level_triggered(loop):
    """Unread data keeps a reader firing, once per loop iteration."""
    server, client = pair()
    client.send(b"x")
    calls = []
    done = loop.create_future()

    def on_read():
        calls.append(1)
        if len(calls) == 3:
            loop.remove_reader(server)
            done.set_result(None)
    loop.add_reader(server, on_read)
    await asyncio.wait_for(done, TIMEOUT)
    assert server.recv(10) == b"x"
    server.close(), client.close()
    return f"{len(calls)} calls"


@case
async def peer_reset(loop):
    """A reset peer wakes the reader; recv() says EOF or ECONNRESET."""
    server, client = pair()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()
    await readable(loop, server)
    try:
        data = server.recv(10)
        outcome = f"recv {data!r}"
        assert data == b""
    except ConnectionResetError:
        outcome = "ECONNRESET"
    server.close()
    return outcome


@case
async def half_close(loop):
    """A peer's shutdown(SHUT_WR) reads as EOF, and we can still send."""
    server, client = pair()
    client.send(b"last")
    client.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        await readable(loop, server)
        chunk = server.recv(100)
        if not chunk:
            break
        got += chunk
    assert got == b"last", got
    server.send(b"reply")
    await readable(loop, client)
    assert client.recv(100) == b"reply"
    server.close(), client.close()
    return "EOF after data; reply delivered"


@case
async def closed_while_registered(loop):
    """The app closes a socket with a reader registered: no callback, no
    crash, and other sockets keep working."""
    doomed, peer = pair()
    fd = doomed.fileno()
    fired = []
    loop.add_reader(doomed, lambda: fired.append(1))
    await asyncio.sleep(0.05)  # the poll is in flight
    doomed.close()
    peer.send(b"x")  # would wake the reader, were it still there
    other, other_peer = pair()
    other_peer.send(b"y")
    await readable(loop, other)
    assert other.recv(10) == b"y"
    await asyncio.sleep(0.1)
    assert not fired, fired
    loop.remove_reader(fd)  # the app's late clean-up is harmless
    peer.close(), other.close(), other_peer.close()
    return "no callback"


@case
async def remove_inside_callback(loop):
    """remove_reader from inside its own callback: it never fires again."""
    server, client = pair()
    client.send(b"x")
    calls = []

    def on_read():
        calls.append(1)
        assert loop.remove_reader(server) is True
    loop.add_reader(server, on_read)
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert calls == [1], calls
    assert loop.remove_reader(server) is False
    server.close(), client.close()
    return "fired once"


@case
async def reader_and_writer(loop):
    """A reader and a writer on one socket each get their own callback, and
    removing one leaves the other."""
    server, client = pair()
    client.send(b"x")
    seen = set()
    both = loop.create_future()

    def mark(what):
        seen.add(what)
        if seen == {"r", "w"} and not both.done():
            both.set_result(None)
    loop.add_reader(server, mark, "r")
    loop.add_writer(server, mark, "w")
    await asyncio.wait_for(both, TIMEOUT)
    loop.remove_writer(server)
    seen.clear()
    await asyncio.sleep(0.05)
    assert seen <= {"r"}, seen
    assert loop.remove_reader(server) is True
    server.close(), client.close()
    return "both fired; reader kept"


@case
async def listening_backlog(loop):
    """A listener with connections already queued: one wake-up accepts them all."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(20)]
    accepted = []
    while len(accepted) < len(clients):
        await readable(loop, listener)
        while True:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                break
            accepted.append(conn)
    for s in clients + accepted:
        s.close()
    listener.close()
    return f"{len(accepted)} accepted"


@case
async def subprocess_runs(loop):
    """asyncio subprocesses (Proactor pipes on Windows) still work."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; print(sys.stdin.read().upper())",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(b"hello"), 60)
    assert proc.returncode == 0 and out.strip() == b"HELLO", (proc.returncode, out)
    return "exit 0, HELLO"


async def run_all():
    loop = asyncio.get_running_loop()
    for fn in CASES:
        try:
            detail = await fn(loop)
            result = {"case": fn.__name__, "ok": True, "detail": detail}
        except BaseException as exc:  # noqa: BLE001 - reported, not raised
            result = {"case": fn.__name__, "ok": False,
                      "detail": "".join(traceback.format_exception(exc))[-1500:]}
        print("GALE-CASE " + json.dumps(result), flush=True)


if __name__ == "__main__":
    eventloop.install()
    asyncio.run(run_all())
