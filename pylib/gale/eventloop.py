# SPDX-License-Identifier: MIT
"""The event loop Gale's app modes run on, and the connection limit.

`install()` runs before the app starts (serve, in all three entry modes):

* Windows: asyncio's policy makes gale.winloop.EventLoop, the Proactor with
  readiness on its completion port, so Tornado registers its sockets there
  and starts no selector thread. ``GALE_DEBUG_EVENT_LOOP=selector-thread``
  keeps stock asyncio (Tornado's select() thread), for the benchmark that
  compares the two; a selector thread that dies then ends Gale too.
* POSIX: the soft RLIMIT_NOFILE is raised to the hard limit, and the
  selector loop's select() is guarded so that a failing epoll ends Gale.

Either way a broken loop raises EventLoopFailure, which ends Gale with the
EVENT_LOOP exit code and the cause logged, instead of leaving a process that
is alive and serves nothing (a service's recovery actions restart it).

`default_max_connections()` sizes the connection cap from what the loop
can hold. ``GALE_DEBUG_LOOP_FAULT=N`` (tests only) makes the loop's N-th
wait from now fail, to show the failure path.
"""

import asyncio
import errno
import logging
import os
import selectors
import sys
import threading

from gale.errors import GaleError

log = logging.getLogger("gale")
LOOP_ENV = "GALE_DEBUG_EVENT_LOOP"
FAULT_ENV = "GALE_DEBUG_LOOP_FAULT"
SELECTOR_THREAD = "selector-thread"
# Sockets kept free of the cap for everything else (listeners, the loop's
# own wake-up socket pair, log files, SQLite, the app's clients).
RESERVE = 64
# select() in CPython's Windows build: FD_SETSIZE 512.
WINDOWS_SELECT_LIMIT = 512
# With readiness on the port Windows sets no per-process socket limit; the
# default keeps the memory of Tornado connections (about 50-100 KB each)
# near 1-2 GB. Set max_connections to go further.
WINDOWS_DEFAULT = 16384


class EventLoopFailure(GaleError):
    """The loop's readiness machinery broke: Gale exits, loudly."""

    def __init__(self, message: str):
        super().__init__("EVENT_LOOP", message)


def log_failure(failure: EventLoopFailure) -> None:
    log.critical("%s; stopping", failure)


def kind() -> str:
    """Which loop install() sets up: "iocp-afd", "selector-thread" or "selector"."""
    if sys.platform != "win32":
        return "selector"
    chosen = os.environ.get(LOOP_ENV, "")
    if chosen and chosen not in ("iocp-afd", SELECTOR_THREAD):
        raise GaleError("CONFIG", f"{LOOP_ENV}={chosen!r}: expected iocp-afd or "
                                  f"{SELECTOR_THREAD}")
    return chosen or "iocp-afd"


def fault_after():
    """The debugging fault's countdown, or None."""
    value = os.environ.get(FAULT_ENV, "")
    if not value:
        return None
    if not value.isdigit():
        raise GaleError("CONFIG", f"{FAULT_ENV}={value!r} is not a count")
    os.environ.pop(FAULT_ENV)  # one loop only: not the app's own loops or children
    return int(value)


def _fd_limits():
    """(the soft RLIMIT_NOFILE now, the one Gale runs with: the hard limit),
    or None where there is no such limit. An unlimited one counts as 1 M."""
    try:
        import resource
    except ImportError:
        return None
    unlimited = resource.RLIM_INFINITY
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == unlimited:
        return 1 << 20, 1 << 20
    return soft, max(soft, hard if hard != unlimited else 1 << 20)


def raise_fd_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit: the cap is sized from it."""
    limits = _fd_limits()
    if limits is None or limits[0] == limits[1]:
        return
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (limits[1], resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    except (OSError, ValueError) as exc:
        log.warning("cannot raise the open-file limit from %d to %d: %s", *limits, exc)


def default_max_connections() -> int:
    """What the loop can hold, less a reserve for everything else."""
    if sys.platform == "win32":
        if kind() == SELECTOR_THREAD:
            return WINDOWS_SELECT_LIMIT - RESERVE
        return WINDOWS_DEFAULT
    limits = _fd_limits()
    limit = limits[1] if limits else 1024
    return max(limit - max(RESERVE, limit // 16), 1)


class _GuardedSelector(selectors.DefaultSelector):
    """The platform selector; a failing select() is the loop breaking."""

    def __init__(self, fault=None):
        super().__init__()
        self._fault = fault

    def select(self, timeout=None):
        try:
            if self._fault is not None:
                self._fault -= 1
                if self._fault < 0:
                    self._fault = None
                    raise OSError(errno.EBADF, "injected by " + FAULT_ENV)
            return super().select(timeout)
        except OSError as exc:
            failure = EventLoopFailure(f"the event loop's select() failed: "
                                       f"{exc.strerror or exc}")
            log_failure(failure)
            raise failure from exc


class _PosixPolicy(asyncio.DefaultEventLoopPolicy):
    def _loop_factory(self):
        return asyncio.SelectorEventLoop(_GuardedSelector(fault_after()))


def _selector_thread_guard() -> None:
    """Stock Tornado on Windows: its select() thread dying leaves a server
    that answers nothing, so it ends the process."""
    previous = threading.excepthook

    def hook(args) -> None:
        previous(args)
        if args.thread is not None and args.thread.name == "Tornado selector":
            failure = EventLoopFailure(f"Tornado's selector thread died: "
                                       f"{args.exc_type.__name__}: {args.exc_value}")
            log_failure(failure)
            print(f"gale: error: {failure}", file=sys.stderr, flush=True)
            logging.shutdown()
            os._exit(failure.exit_code)
    threading.excepthook = hook


def install() -> str:
    """Sets the loop up for the app (see the module's text); returns kind()."""
    chosen = kind()
    if sys.platform == "win32":
        if chosen == SELECTOR_THREAD:
            _selector_thread_guard()
        else:
            from gale import winloop

            asyncio.set_event_loop_policy(winloop.EventLoopPolicy())
    else:
        raise_fd_limit()
        asyncio.set_event_loop_policy(_PosixPolicy())
    return chosen
