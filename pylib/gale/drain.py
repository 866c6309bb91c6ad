# SPDX-License-Identifier: MIT
"""The graceful drain: stop accepting, let requests in flight finish, then close.

Tornado's HTTPServer can stop listening and close its connections, but it
cannot tell a connection that is busy from one idling in keep-alive, and
closing a busy one cuts its response. So `DrainingHTTPServer` counts
requests itself:

* a request is in flight from the moment its headers arrive;
* it ends when its response is finished and the last write has been flushed,
  when its connection is taken over (``detach()``, as WebSockets do), or when
  the connection closes.

It does so by wrapping, per request, the message delegate Tornado calls and
the connection object the app writes to; both only forward, using Tornado's
public interfaces. Detached streams (WebSockets) are not waited for.

Open WebSockets are told at the start of the drain: each gets a close
frame with code 1001 (going away), so a browser's ``onclose`` sees an
orderly shutdown, not a dropped connection. The server finds them when
their connection is detached: the request's handler, reached through the
delegates Tornado made for it (``.delegate`` down to
``_HandlerDelegate.handler``, the same since Tornado 4.5), is kept in a
weak set if it is a WebSocketHandler.
"""

import asyncio
import logging
import sys
import weakref

from tornado import httputil
from tornado.httpserver import HTTPServer

from gale import limits

log = logging.getLogger("gale")
CLOSE_TIMEOUT = 5.0  # seconds to close what is left after the drain
GOING_AWAY = 1001  # RFC 6455: the server is going down
DEFER_S = 0.005  # how long a worker leaves a new connection to a less busy one


class InflightTracker:
    """How many requests are in flight, and a way to wait until none are."""

    def __init__(self):
        self.count = 0
        self._idle = None

    def begin(self) -> None:
        self.count += 1

    def end(self) -> None:
        self.count -= 1
        if self.count == 0 and self._idle is not None:
            self._idle.set()

    async def wait_idle(self) -> None:
        while self.count:
            self._idle = asyncio.Event()
            await self._idle.wait()


class _Flight:
    """One request's life; begin() and end() count once each. It also
    carries what the request's body may be (limits.py)."""

    __slots__ = ("_tracker", "_state", "delegate", "on_detach", "guard", "max_body",
                 "received", "refused", "responded")

    def __init__(self, tracker: InflightTracker, on_detach=None, guard=None, max_body=None):
        self._tracker = tracker
        self._state = 0  # 0 waiting for headers, 1 in flight, 2 over
        self.delegate = None  # the app's delegate, once Tornado has made it
        self.on_detach = on_detach
        self.guard = guard  # the connection's limits.Guard, or None
        self.max_body = max_body  # bytes, or None: Tornado's own limit applies
        self.received = 0  # body bytes so far
        self.refused = False  # answered 413
        self.responded = False  # the app has written its response's headers

    def begin(self) -> None:
        if self._state == 0:
            self._state = 1
            self._tracker.begin()

    def end(self) -> None:
        if self._state == 1:
            self._tracker.end()
        self._state = 2


class _TrackedConnection:
    """Forwards to the request's HTTP1Connection; notes when the response ends."""

    def __init__(self, conn, flight: _Flight):
        self._conn = conn
        self._flight = flight
        self._last_write = None

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def write_headers(self, start_line, headers, chunk=None):
        self._flight.responded = True
        self._last_write = self._conn.write_headers(start_line, headers, chunk)
        return self._last_write

    def set_max_body_size(self, max_body_size: int) -> None:
        if self._flight.max_body is None:
            self._conn.set_max_body_size(max_body_size)
        else:  # Gale enforces it (limits.py)
            self._flight.max_body = max_body_size

    def write(self, chunk):
        self._last_write = self._conn.write(chunk)
        return self._last_write

    def finish(self) -> None:
        try:
            self._conn.finish()
        except BaseException:
            self._flight.end()
            raise
        last = self._last_write
        if last is None or last.done():
            self._flight.end()
        else:
            last.add_done_callback(lambda _: self._flight.end())

    def detach(self):
        try:
            return self._conn.detach()
        finally:
            if self._flight.guard is not None:
                self._flight.guard.release()
            self._flight.end()
            if self._flight.on_detach is not None:
                self._flight.on_detach(self._flight.delegate)


class _TrackedDelegate(httputil.HTTPMessageDelegate):
    """Forwards to the app's delegate; notes when the request starts, and
    applies the body limit (limits.py)."""

    def __init__(self, inner: httputil.HTTPMessageDelegate, flight: _Flight, conn):
        self._inner = inner
        self._flight = flight
        self._conn = conn  # Tornado's HTTP1Connection
        self._start_line = None

    def headers_received(self, start_line, headers):
        self._start_line = start_line
        flight = self._flight
        flight.begin()
        declared = limits.declared_length(headers)
        if flight.guard is not None:
            flight.guard.headers_done(bool(declared) or "Transfer-Encoding" in headers)
        result = self._inner.headers_received(start_line, headers)
        if flight.max_body is None:
            return result
        if declared is None or declared <= flight.max_body and result is None:
            return result
        if result is None:
            self._refuse_declared(declared)
            return None
        return self._after_prepare(result, declared)

    async def _after_prepare(self, result, declared: int) -> None:
        await result  # a streaming handler's prepare(), which may change the limit
        self._refuse_declared(declared)

    def _refuse_declared(self, declared: int) -> None:
        flight = self._flight
        if declared <= flight.max_body or flight.responded or self._conn.stream is None:
            return
        flight.refused = True
        stream = self._conn.detach()
        if flight.guard is not None:
            flight.guard.release()
        flight.end()
        self._inner.on_connection_close()
        limits.log_refusal(self._start_line, stream, f"a {declared}-byte body", flight.max_body)
        limits.refuse_detached(stream)

    def data_received(self, chunk):
        flight = self._flight
        if flight.max_body is not None:
            if flight.refused:
                return None
            flight.received += len(chunk)
            if flight.received > flight.max_body:
                flight.refused = True
                limits.log_refusal(self._start_line, self._conn.stream, "a chunked body",
                                   flight.max_body)
                limits.refuse_in_flight(self._conn.stream, flight.responded)
                return None
        return self._inner.data_received(chunk)

    def finish(self) -> None:
        flight = self._flight
        if flight.guard is not None:
            flight.guard.body_done()
        if flight.refused:
            flight.end()
            limits.close_after_write(self._conn.stream)
            return
        self._inner.finish()

    def on_connection_close(self) -> None:
        try:
            self._inner.on_connection_close()
        finally:
            self._flight.end()


def _accept_some(loop, sock, callback, worker):
    """Accepts up to `worker.accept_batch` connections per readiness event
    of `sock`, and none while `worker.may_accept()` says another worker
    should take them: then it stops listening for DEFER_S, and the next
    event after that accepts whatever it says. Returns the function that
    stops it."""
    removed = False
    insist = False

    def on_ready(fd, events) -> None:
        nonlocal insist
        if not insist and not worker.may_accept():
            loop.remove_handler(sock)
            loop.call_later(DEFER_S, resume)
            return
        insist = False
        for _ in range(worker.accept_batch):
            if removed:
                return
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            callback(connection, address)

    def resume() -> None:
        nonlocal insist
        if not removed:
            insist = True
            loop.add_handler(sock, on_ready, loop.READ)

    def remove() -> None:
        nonlocal removed
        if not removed:
            removed = True
            try:
                loop.remove_handler(sock)
            except (KeyError, ValueError):
                pass  # waiting out a deferral

    loop.add_handler(sock, on_ready, loop.READ)
    return remove


class DrainingHTTPServer(HTTPServer):
    """An HTTPServer that knows its requests in flight and can drain them."""

    def initialize(self, *args, limit=None, worker=None, limits=None, **kwargs) -> None:
        super().initialize(*args, **kwargs)
        self.tracker = InflightTracker()
        self.websockets = weakref.WeakSet()
        self.limit = limit  # a connlimit.ConnectionLimit, or None
        self.worker = worker  # a workers.Worker, or None
        self.limits = limits  # a limits.Limits, or None for Tornado's timeouts and limit
        if limits is not None:
            # Gale's clocks and body limit replace Tornado's (limits.py).
            self.conn_params.header_timeout = None
            self.conn_params.body_timeout = None
            self.conn_params.max_body_size = sys.maxsize

    def add_sockets(self, sockets) -> None:
        """Tornado's add_sockets, except in a worker. Workers (workers.py)
        share one listening socket, and every one of them is woken for a
        new connection. Tornado's handler accepts until the queue is empty,
        so the first one awake took a whole burst; and as the same worker
        tends to be first when all are idle, it also took every connection
        of a slow trickle, long-lived ones such as WebSockets included. A
        worker accepts `accept_batch` (1) at a time instead, and leaves a
        connection to the others while it holds more connections than the
        least busy of them (_accept_some)."""
        if self.worker is None or not self.worker.balanced:
            super().add_sockets(sockets)
            return
        from tornado.ioloop import IOLoop

        loop = IOLoop.current()
        for sock in sockets:
            # The two maps TCPServer.stop() reads (the same since Tornado 4).
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = _accept_some(loop, sock, self._handle_connection,
                                                         self.worker)

    def handle_stream(self, stream, address) -> None:
        if self.limit is None or self.limit.admit(stream):
            if self.limits is not None:
                stream.gale_guard = limits.Guard(stream, self.limits, asyncio.get_running_loop())
            super().handle_stream(stream, address)

    def start_request(self, server_conn, request_conn):
        guard = getattr(server_conn.stream, "gale_guard", None)
        if guard is not None:
            guard.request_expected()
        flight = _Flight(self.tracker, self._detached, guard,
                         self.limits.max_body_size if self.limits is not None else None)
        delegate = super().start_request(server_conn, _TrackedConnection(request_conn, flight))
        flight.delegate = delegate
        return _TrackedDelegate(delegate, flight, request_conn)

    def _detached(self, delegate) -> None:
        from tornado.websocket import WebSocketHandler

        # _ProxyAdapter (xheaders) -> _RoutingDelegate -> _HandlerDelegate
        for _ in range(4):
            handler = getattr(delegate, "handler", None)
            if isinstance(handler, WebSocketHandler):
                self.websockets.add(handler)
                return
            delegate = getattr(delegate, "delegate", None)

    def close_websockets(self) -> int:
        """Sends every open WebSocket a 1001 close frame; returns how many."""
        count = 0
        for handler in list(self.websockets):
            if handler.ws_connection is not None and not handler.ws_connection.is_closing():
                handler.close(GOING_AWAY, "server shutting down")
                count += 1
        return count

    async def drain(self, timeout: float, forced: asyncio.Event) -> int:
        """Stops listening, waits up to `timeout` seconds (or until `forced`
        is set) for requests in flight, then closes every connection.
        Returns how many requests were cut off."""
        self.stop()
        closed = self.close_websockets()
        if closed:
            log.info("closing %d WebSocket connection(s) (1001 going away)", closed)
        if self.tracker.count:
            log.info("draining %d request(s), waiting up to %gs", self.tracker.count, timeout)
            idle = asyncio.ensure_future(self.tracker.wait_idle())
            force = asyncio.ensure_future(forced.wait())
            try:
                await asyncio.wait({idle, force}, timeout=timeout,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                idle.cancel()
                force.cancel()
        left = self.tracker.count
        if left:
            log.warning("closing %d unfinished request(s)", left)
        try:
            await asyncio.wait_for(self.close_all_connections(), CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("some connections did not close within %gs", CLOSE_TIMEOUT)
        return left
