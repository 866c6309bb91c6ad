# SPDX-License-Identifier: MIT
"""Gale's asyncio event loop on Windows: the Proactor, plus add_reader.

asyncio's ProactorEventLoop has no add_reader/add_writer, so stock Tornado
on Windows runs select() in a helper thread (AddThreadSelectorEventLoop),
with select()'s 512-socket limit and a thread hop for every event. This
loop is the Proactor (IOCP: subprocesses, pipes and overlapped sockets work
as before) with readiness added to the same completion port: one AFD poll
per registered socket (`_gale.Readiness`, native/readiness_win.c). The
Proactor's wait dequeues both kinds of packet; the poll packets become
reader and writer callbacks, the others finish their futures as in
IocpProactor.

The loop is not a subclass of asyncio.ProactorEventLoop, because that is
exactly what Tornado checks for (tornado.platform.asyncio) before it wraps
a loop in its selector thread. The Windows-specific methods that need
nothing of that class are borrowed from it.

If the readiness machinery fails (a wait on the port or a poll that cannot
start), the Proactor raises eventloop.EventLoopFailure out of the loop's
run, so Gale ends with the EVENT_LOOP exit code instead of serving nothing.
After that the Proactor keeps finishing overlapped operations, so the
shutdown that follows can run. docs/windows-event-loop.md has the details.
"""

import math
import time
from asyncio import events, proactor_events, windows_events
from selectors import _fileobj_to_fd

import _gale
import _overlapped
import _winapi

from gale import eventloop

READ, WRITE = 1, 2
# How long closing the loop waits for cancelled polls to come back.
CLOSE_WAIT = 5.0


class Proactor(windows_events.IocpProactor):
    """IocpProactor whose wait also collects socket readiness."""

    def __init__(self):
        super().__init__()
        self.readiness = _gale.Readiness(self._iocp)
        self._readiness_key = id(self.readiness)  # the key of its packets (its address)
        self.on_ready = None  # the loop's dispatcher: called with [(fd, mask), ...]
        self._failure = None
        after = eventloop.fault_after()
        if after is not None:
            self.readiness.inject_fault(after)

    @staticmethod
    def _ms(timeout) -> int:
        """A wait's milliseconds: at least `timeout`, as IocpProactor rounds."""
        if timeout is None:
            return _winapi.INFINITE
        if timeout < 0:
            raise ValueError("negative timeout")
        ms = math.ceil(timeout * 1e3)
        if ms >= _winapi.INFINITE:
            raise ValueError("timeout too big")
        return ms

    def _finish(self, completions) -> None:
        for _err, transferred, key, address in completions:
            self._complete(transferred, key, address)

    def _forget_unregistered(self) -> None:
        for ov in self._unregistered:
            self._cache.pop(ov.address, None)
        self._unregistered.clear()

    def _complete(self, transferred, key, address) -> None:
        """One packet of an overlapped operation, as IocpProactor finishes it."""
        try:
            fut, ov, obj, callback = self._cache.pop(address)
        except KeyError:
            # Not ours: key is 0, a late poll packet, or a pipe handle that
            # must not leak.
            if key not in (0, _overlapped.INVALID_HANDLE_VALUE, self._readiness_key):
                _winapi.CloseHandle(key)
            return
        if obj in self._stopped_serving:
            fut.cancel()
        elif not fut.done():  # done: read at once, or cancelled
            try:
                value = callback(transferred, key, ov)
            except OSError as exc:
                fut.set_exception(exc)
            else:
                fut.set_result(value)
            self._results.append(fut)

    def _poll(self, timeout=None):
        ms = self._ms(timeout)
        if self._failure is not None or self.readiness is None:
            return self._poll_overlapped(ms)
        arm = True  # once per loop iteration: see _gale.Readiness.wait
        try:
            while True:
                completions, ready, more = self.readiness.wait(ms, arm)
                arm = False
                if ready:
                    self.on_ready(ready)
                self._finish(completions)
                if not more:
                    break
                ms = 0
        except OSError as exc:
            self._failure = eventloop.EventLoopFailure(
                f"the event loop's readiness wait failed: {exc.strerror or exc}"
                f" (Windows error {exc.winerror})")
            eventloop.log_failure(self._failure)
            raise self._failure from exc
        self._forget_unregistered()

    def _poll_overlapped(self, ms: int) -> None:
        """After a failure or close: finish overlapped operations only (not
        IocpProactor._poll, which would close a poll packet's key as if it
        were a pipe handle)."""
        while (status := _overlapped.GetQueuedCompletionStatus(self._iocp, ms)) is not None:
            ms = 0
            self._finish([status])
        self._forget_unregistered()

    def close(self):
        if self._iocp is None:
            return
        readiness, self.readiness = self.readiness, None
        if readiness is not None:
            try:
                readiness.cancel_all()
                deadline = time.monotonic() + CLOSE_WAIT
                while readiness.pending and time.monotonic() < deadline:
                    self._finish(readiness.wait(100, False)[0])
            except OSError:
                pass  # already reported; what is left stays allocated
            finally:
                readiness.close()
        super().close()


class EventLoop(proactor_events.BaseProactorEventLoop):
    """The Proactor event loop with add_reader/add_writer for any number of
    sockets (level-triggered, like the selector loops)."""

    def __init__(self, proactor=None):
        proactor = proactor or Proactor()
        super().__init__(proactor)
        self._io = {}  # fd -> [reader Handle | None, writer Handle | None]
        proactor.on_ready = self._on_ready

    # These use nothing of ProactorEventLoop but the module they live in.
    create_pipe_connection = windows_events.ProactorEventLoop.create_pipe_connection
    start_serving_pipe = windows_events.ProactorEventLoop.start_serving_pipe
    _make_subprocess_transport = windows_events.ProactorEventLoop._make_subprocess_transport

    def _run_forever_setup(self):
        assert self._self_reading_future is None
        self.call_soon(self._loop_self_reading)
        super()._run_forever_setup()

    def _run_forever_cleanup(self):
        super()._run_forever_cleanup()
        future, self._self_reading_future = self._self_reading_future, None
        if future is not None:
            ov = future._ov
            future.cancel()
            # A cancelled read's packet may still be due; the Proactor must
            # keep the OVERLAPPED until it has come.
            if ov is not None and not ov.pending:
                self._proactor._unregister(ov)

    def _on_ready(self, ready) -> None:
        for fd, mask in ready:
            pair = self._io.get(fd)
            if pair is not None:
                if mask & READ and pair[0] is not None:
                    self._add_callback(pair[0])
                if mask & WRITE and pair[1] is not None:
                    self._add_callback(pair[1])

    def _set(self, fileobj, slot: int, handle) -> bool:
        """Puts `handle` (or None) in fd's reader or writer slot; True if
        one was there."""
        fd = _fileobj_to_fd(fileobj)
        pair = self._io.get(fd)
        if pair is None:
            if handle is None:
                return False
            pair = self._io[fd] = [None, None]
        old = pair[slot]
        pair[slot] = handle
        mask = (READ if pair[0] is not None else 0) | (WRITE if pair[1] is not None else 0)
        try:
            self._proactor.readiness.modify(fd, mask)
        except OSError:
            pair[slot] = old
            if pair == [None, None]:
                del self._io[fd]
            raise
        if not mask:
            del self._io[fd]
        if old is not None:
            old.cancel()
        return old is not None

    def add_reader(self, fd, callback, *args):
        self._check_closed()
        self._set(fd, 0, events.Handle(callback, args, self, None))

    def add_writer(self, fd, callback, *args):
        self._check_closed()
        self._set(fd, 1, events.Handle(callback, args, self, None))

    def remove_reader(self, fd):
        return False if self.is_closed() else self._set(fd, 0, None)

    def remove_writer(self, fd):
        return False if self.is_closed() else self._set(fd, 1, None)

    def close(self):
        for pair in self._io.values():
            for handle in pair:
                if handle is not None:
                    handle.cancel()
        self._io.clear()
        super().close()


class EventLoopPolicy(windows_events.WindowsProactorEventLoopPolicy):
    _loop_factory = EventLoop
