# SPDX-License-Identifier: MIT
"""What a client may take and send: the timeouts and the body limit of an
``app =`` server (drain.DrainingHTTPServer).

Tornado has one timer for a request's start, ``idle_connection_timeout``,
which runs from the end of the previous response to the end of the next
request's headers; and ``body_timeout`` is a deadline for the whole body.
Neither tells a client that dribbles a header every few seconds from one
that is merely idle, and neither cuts a body that stalls only when it
stalls. So Gale turns both off and keeps its own clock per connection
(`Guard`), in one of these states:

* HEADERS: from the connection's start (its first request) or from the
  first byte of a later one, the headers must be in within
  ``header_timeout``;
* IDLE: between requests, a keep-alive connection is closed after
  ``idle_timeout``; its next request's first byte turns it into HEADERS;
* BODY: a request body is cut off when no byte of it arrives for
  ``body_timeout``;
* none: while the app works on a request and writes its response, and
  for good once the connection is taken over (WebSockets). Those are the
  app's to bound.

A byte's arrival is seen by wrapping the stream's ``read_from_fd`` (the
method every IOStream reads through); the clock is one asyncio timer per
connection, moved only when a deadline comes before it, so a read costs a
clock reading and a keep-alive request no timer at all.

``max_body_size`` is enforced here too, so that the answer is 413 (Tornado
answers 400 and closes): a request whose Content-Length is over the limit
is refused once its headers are in, before any of its body is read; a
chunked body is refused when it passes the limit, and what it sent so far
(less than the limit) is dropped. A handler that streams its body
(``@stream_request_body``) may raise or lower the limit for its request
with ``self.request.connection.set_max_body_size()`` in ``prepare()``, as
in Tornado. After a refusal the connection lingers for up to LINGER_S,
reading and dropping what the client still sends, so that a client busy
sending its body gets to read the 413 instead of a reset.
"""

import asyncio
import logging
import socket

from tornado import gen, iostream

log = logging.getLogger("gale")
access_log = logging.getLogger("tornado.access")
# How long a refused connection reads and drops what the client still sends.
LINGER_S = 5.0
LINGER_CHUNK = 64 * 1024
RESPONSE_413 = (b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n"
                b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 23\r\n\r\n"
                b"413: Payload Too Large\n")
HEADERS, IDLE, BODY, NONE = "headers", "idle", "body", None
OVER = "over"  # closed or taken over: the clock is stopped for good
_lingering = set()  # the refused connections' tasks (asyncio keeps only weak references)


class Limits:
    """The settings, from a config.Config."""

    __slots__ = ("header_timeout", "idle_timeout", "body_timeout", "max_body_size")

    def __init__(self, cfg):
        self.header_timeout = cfg.header_timeout
        self.idle_timeout = cfg.idle_timeout
        self.body_timeout = cfg.body_timeout
        self.max_body_size = cfg.max_body_size


class Guard:
    """One connection's clock (see the module's docstring)."""

    __slots__ = ("stream", "limits", "loop", "state", "deadline", "timer", "requests")

    def __init__(self, stream, limits: Limits, loop):
        self.stream = stream
        self.limits = limits
        self.loop = loop
        self.state = NONE
        self.deadline = None
        self.timer = None
        self.requests = 0
        read_from_fd = stream.read_from_fd
        close_fd = stream.close_fd

        def watched_read(buf):
            count = read_from_fd(buf)
            if count and (self.state is BODY or self.state is IDLE):
                self._bytes_arrived()
            return count

        def watched_close_fd() -> None:  # IOStream.close() calls it once
            self._stop()
            close_fd()
        stream.read_from_fd = watched_read
        stream.close_fd = watched_close_fd
        self._set(HEADERS, limits.header_timeout)

    def _set(self, state, timeout) -> None:
        """Moves to `state`, with a deadline `timeout` seconds from now (None:
        no deadline). The timer is moved only when the deadline comes before
        it: otherwise it fires first, finds the deadline later and waits
        again (_expire), so a keep-alive request costs no timer."""
        if self.state is OVER:
            return  # Tornado may wait for a request on a stream it has closed
        self.state = state
        if timeout is None:
            self.deadline = None
            return
        self.deadline = self.loop.time() + timeout
        if self.timer is None or self.timer.when() > self.deadline:
            if self.timer is not None:
                self.timer.cancel()
            self.timer = self.loop.call_at(self.deadline, self._expire)

    def _stop(self) -> None:
        self.state, self.deadline = OVER, None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _bytes_arrived(self) -> None:
        if self.state is BODY:
            self.deadline = self.loop.time() + self.limits.body_timeout
        elif self.state is IDLE:
            self._set(HEADERS, self.limits.header_timeout)

    def _expire(self) -> None:
        self.timer = None
        if self.deadline is None or self.stream.closed():
            return
        if self.loop.time() < self.deadline:
            self.timer = self.loop.call_at(self.deadline, self._expire)
            return
        log.debug("closing a connection from %s: %s", _peer(self.stream), {
            HEADERS: "its request's headers took longer than header_timeout",
            IDLE: "idle longer than idle_timeout",
            BODY: "its request body stalled longer than body_timeout"}[self.state])
        self.stream.close()

    # What the server tells it.
    def request_expected(self) -> None:
        """Tornado waits for the connection's next request."""
        self.requests += 1
        if self.requests > 1:
            self._set(IDLE, self.limits.idle_timeout)

    def headers_done(self, has_body: bool) -> None:
        if has_body:
            self._set(BODY, self.limits.body_timeout)
        else:
            self._set(NONE, None)

    def body_done(self) -> None:
        self._set(NONE, None)

    def release(self) -> None:
        """The connection is taken over (detached): no clock any more (the
        wrappers stay, and only forward)."""
        self._stop()


def _peer(stream) -> str:
    try:
        host, port = stream.socket.getpeername()[:2]
        return f"{host}:{port}"
    except (OSError, AttributeError, TypeError, ValueError):
        return "a client"


def log_refusal(start_line, stream, what: str, limit: int) -> None:
    """One line in Tornado's access log, as it logs its own 4xx answers."""
    method, path = (start_line.method, start_line.path) if start_line else ("?", "?")
    access_log.warning("413 %s %s (%s): %s, over max_body_size (%d bytes)", method, path,
                       _peer(stream), what, limit)


def declared_length(headers):
    """The request's Content-Length as a number, or None when it has none
    or Tornado would refuse it anyway (several, or not a number)."""
    value = headers.get("Content-Length")
    if value is None or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def refuse_detached(stream) -> None:
    """Answers 413 on a stream taken from Tornado, then lingers and closes it."""
    async def run() -> None:
        try:
            await stream.write(RESPONSE_413)
            if not isinstance(stream, iostream.SSLIOStream):
                stream.socket.shutdown(socket.SHUT_WR)
            deadline = stream.io_loop.time() + LINGER_S
            while True:
                await gen.with_timeout(deadline, stream.read_bytes(LINGER_CHUNK, partial=True),
                                      quiet_exceptions=iostream.StreamClosedError)
        except (iostream.StreamClosedError, OSError, TimeoutError):
            pass
        finally:
            stream.close()
    task = asyncio.ensure_future(run())
    _lingering.add(task)
    task.add_done_callback(_lingering.discard)


def refuse_in_flight(stream, responded: bool) -> None:
    """Answers 413 (unless the app has begun its own response) on a stream
    whose body Tornado goes on reading, and closes it after LINGER_S at
    most; the body's end closes it sooner (close_after_write)."""
    if not responded and not stream.closed():
        stream.write(RESPONSE_413)
    stream.io_loop.call_later(LINGER_S, stream.close)


def close_after_write(stream) -> None:
    if stream.closed():
        return
    if stream.writing():
        future = stream.write(b"")
        future.add_done_callback(lambda _: stream.close())
    else:
        stream.close()
