# SPDX-License-Identifier: MIT
"""Runs the app in one of three ways, and stops it cleanly.

``app = "module:attr"``: Gale owns the server. It builds the Application,
loads TLS, binds host:port and serves with drain.DrainingHTTPServer. On the
first stop request it stops accepting, lets requests in flight finish for up
to drain_timeout seconds, closes the connections and exits 0. A second stop
request during the drain ends the wait at once: unfinished requests are cut
off, a warning is logged and the exit code is still 0 (the process did what
it was asked to do). Two stop requests closer together than DUPLICATE_WINDOW
count as one: one signal can reach the process twice (directly and through
its process group, as `timeout` sends it).

``main = "module:function"``: the app owns its servers. An async function
runs as a task; on the first stop request it is cancelled and given
drain_timeout seconds to finish (a second request stops waiting). A plain
function runs like a script.

``script = "server.py"``: runs as ``__main__`` (runpy), in this thread. A
stop request is delivered as SIGINT, so ``asyncio.run(main())`` cancels its
main task and ``IOLoop.current().start()`` gets KeyboardInterrupt; either way
Gale exits 0. SIGTERM is forwarded to whatever handles SIGINT.

`request_stop()` is the one way in for every stop trigger: the POSIX signal
handlers installed here, and the Windows console and service handlers (the
service's STOP, SHUTDOWN and PRESHUTDOWN reach it through the same
callable as Ctrl+C; launcher/win/service_run_win.c). In service mode the
app's start is reported to the service manager (RUNNING) once it listens,
or, for main and script, once it has been started; under a systemd unit
of Type=notify, READY=1 is sent at the same moment, and STOPPING=1 when a
stop begins (notify_systemd). It is
safe to call from any thread. On Windows, Ctrl+C, Ctrl+Break, closing the
console and shutdown arrive through the launcher's console handler
(`_native.set_console_stop_handler`), set while an app runs in any mode: left
to the UCRT's SIGINT/SIGBREAK emulation, closing the console would end the
process before the drain, and Ctrl+Break would kill a script. Outside that
window (`gale python`) Ctrl+C raises KeyboardInterrupt, as with python.exe.
"""

import _thread
import asyncio
import errno
import gc
import inspect
import logging
import os
import signal
import socket
import sys
import threading

from gale import _native, appload
from gale.errors import GaleError

log = logging.getLogger("gale")
_stop = None  # the running mode's stop function
# A second stop request this soon after the first is taken as the same one.
DUPLICATE_WINDOW = 0.25


def request_stop() -> None:
    """Asks the running app to stop gracefully; a second call stops it now.

    Safe from any thread and from signal handlers; does nothing when no app
    is running."""
    stop = _stop
    if stop is not None:
        stop()


def request_graceful_stop() -> None:
    """Asks the running app to stop gracefully, and does nothing more if a
    stop is already under way (a worker told by its supervisor and by a
    signal of its own). Safe from any thread."""
    stop = _stop
    if stop is not None:
        getattr(stop, "request_once", stop)()


class _AsyncStop:
    """Stop requests for the modes that run Gale's own event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.requested = asyncio.Event()
        self.forced = asyncio.Event()
        self.count = 0
        self.first = 0.0

    def __call__(self) -> None:
        try:
            self.loop.call_soon_threadsafe(self.on_request)
        except RuntimeError:  # the loop has already closed
            pass

    def request_once(self) -> None:
        """A stop request that never escalates: nothing once one is under way."""
        try:
            self.loop.call_soon_threadsafe(lambda: self.count or self.on_request())
        except RuntimeError:
            pass

    def on_request(self) -> None:
        now = self.loop.time()
        if self.count and now - self.first < DUPLICATE_WINDOW:
            return  # one stop delivered twice (e.g. to the process and its group)
        self.count += 1
        if self.count == 1:
            self.first = now
            log.info("stop requested")
            notify_systemd("STOPPING=1", "STATUS=draining")
            self.requested.set()
        elif not self.forced.is_set():
            log.warning("second stop request: stopping now")
            self.forced.set()


def _stop_signals() -> list:
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    return [getattr(signal, n) for n in names if hasattr(signal, n)]


def install_stop(stop, loop: asyncio.AbstractEventLoop | None = None):
    """Routes every stop trigger to `stop` (the POSIX signals through
    `loop`'s signal handling when it has one, else the signal module; on
    Windows the console's events and the service's controls); returns a
    function that undoes it."""
    global _stop
    _stop = stop
    _native.set_console_stop_handler(request_stop)
    added, replaced = [], []
    for sig in _stop_signals():
        try:
            if loop is None:
                raise NotImplementedError
            loop.add_signal_handler(sig, stop.on_request)
            added.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not main thread
            try:
                replaced.append((sig, signal.signal(sig, lambda s, f: request_stop())))
            except ValueError:
                pass

    def undo() -> None:
        global _stop
        _native.set_console_stop_handler(None)
        _stop = None
        for sig in added:
            loop.remove_signal_handler(sig)
        for sig, old in replaced:
            signal.signal(sig, old)
    return undo


def _install_async(stop: _AsyncStop):
    return install_stop(stop, stop.loop)


def tls_context(cert: str | None, key: str | None):
    if not cert:
        return None
    try:
        import ssl
    except ImportError as exc:
        raise GaleError("TLS", f"TLS is not available: {exc}") from None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        # An encrypted key fails here instead of prompting for a pass phrase.
        ctx.load_cert_chain(cert, key, password=lambda: b"")
    except ssl.SSLError as exc:
        text = str(exc.args[1] if len(exc.args) > 1 else exc)
        if exc.reason == "KEY_VALUES_MISMATCH":
            why = "the key does not match the certificate"
        elif "PEM lib" in text:
            why = "not a PEM certificate and unencrypted key"
        else:
            why = text.split(" (_ssl.c:")[0]
        raise GaleError("TLS", f"cannot load TLS certificate {cert}"
                               f"{' with key ' + key if key else ''}: {why}") from None
    except OSError as exc:
        raise GaleError("TLS", f"cannot load TLS certificate {cert}: "
                               f"{exc.strerror or exc} ({exc.filename or cert})") from None
    return ctx


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# Tornado's backlog for bind_sockets, which Gale's bind replaces.
BACKLOG = 128


def bind(host: str, port: int) -> list:
    """Listening sockets for host:port, one per address it resolves to (IPv6
    ones IPv6-only, and all on one port when `port` is 0), as Tornado's
    bind_sockets makes them, except that on Windows each is bound with
    SO_EXCLUSIVEADDRUSE: no other program can bind the same port, with
    SO_REUSEADDR or otherwise, and take its connections (Tornado sets no
    option there). ADDRESS error with the cause if not possible."""
    try:
        found = socket.getaddrinfo(host or None, port,
                                   socket.AF_UNSPEC if socket.has_ipv6 else socket.AF_INET,
                                   socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise GaleError("ADDRESS", f"cannot listen on {hostport(host, port)}: "
                                   f"unknown host ({exc.strerror})") from None
    sockets, bound_port = [], None
    try:
        for family, kind, proto, _name, address in sorted(set(found), key=lambda a: a[0]):
            try:
                sock = socket.socket(family, kind, proto)
            except OSError as exc:
                if exc.errno == errno.EAFNOSUPPORT:
                    continue
                raise
            sockets.append(sock)
            if os.name == "nt":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if address[1] == 0 and bound_port is not None:
                address = (address[0], bound_port) + tuple(address[2:])
            sock.setblocking(False)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL and host == "localhost" \
                        and address[0] == "::1":  # IPv6 half there (containers)
                    sockets.pop().close()
                    continue
                raise
            bound_port = sock.getsockname()[1]
            sock.listen(BACKLOG)
            log.debug("listening on %s: %s", hostport(*sock.getsockname()[:2]),
                      socket_options(sock))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        code = getattr(exc, "winerror", None) or exc.errno
        reason = {errno.EADDRINUSE: "address already in use", WSAEADDRINUSE: "address "
                  "already in use", errno.EACCES: "permission denied", WSAEACCES: "permission "
                  "denied", errno.EADDRNOTAVAIL: "no such address on this machine",
                  WSAEADDRNOTAVAIL: "no such address on this machine"}.get(code)
        raise GaleError("ADDRESS", f"cannot listen on {hostport(host, port)}: "
                                   f"{reason or exc.strerror or exc}") from None
    if not sockets:
        raise GaleError("ADDRESS", f"cannot listen on {hostport(host, port)}: "
                                   "no address of a kind this machine supports")
    return sockets


# Winsock's codes for bind's failures (OSError.winerror on Windows).
WSAEACCES, WSAEADDRINUSE, WSAEADDRNOTAVAIL = 10013, 10048, 10049


def socket_options(sock) -> str:
    """What a listening socket's address options say, read back from it
    (logged at debug level, for the tests and for anyone who wonders)."""
    if os.name == "nt":
        value = sock.getsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE)
        return f"SO_EXCLUSIVEADDRUSE = {value}"
    return f"SO_REUSEADDR = {sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)}"


def url_for(host: str, port: int, tls: bool) -> str:
    """The URL a browser on this machine would use."""
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"{'https' if tls else 'http'}://{shown}:{port}/"


def open_browser(url: str) -> None:
    def run() -> None:
        try:
            import webbrowser

            if not webbrowser.open(url):
                log.warning("no browser could be opened for %s", url)
        except Exception as exc:
            log.warning("cannot open a browser: %s", exc)
    threading.Thread(target=run, name="gale-browser", daemon=True).start()


def start_done() -> None:
    """Ends the start-up: moves every object made so far (modules, classes,
    the app) out of the cyclic collector's sight for good (gc.freeze) and
    turns the collector on. Collecting during start-up finds almost nothing
    to free and costs about 5 % of it; later collections need not look at
    what the start made either."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def notify_systemd(*fields: str) -> None:
    """systemd's readiness protocol (sd_notify) for a `Type=notify` unit:
    sends `fields` ("READY=1", "STOPPING=1", "STATUS=...") as one datagram
    to the socket systemd names in NOTIFY_SOCKET. Without it, as everywhere
    but under systemd, it does nothing. These are the Linux twins of the
    Windows service manager's RUNNING and STOP_PENDING; a failure is logged,
    never fatal, as systemd then reports the start itself."""
    named = os.environ.get("NOTIFY_SOCKET", "")
    if not named or not hasattr(socket, "AF_UNIX"):
        return
    # "@name" is in the abstract namespace.
    address = "\0" + named[1:] if named.startswith("@") else named
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode("utf-8"))
    except OSError as exc:
        log.warning("cannot notify systemd through NOTIFY_SOCKET=%s: %s",
                    named, exc.strerror or exc)


def announce(cfg, text: str, url: str | None = None) -> None:
    """The app is up: RUNNING to the service manager (in service mode),
    READY=1 to systemd (under a Type=notify unit), and the name and URL in
    the console's title. A console that Gale owns (a double-click) gets the
    URL printed too, as its window shows only stderr's log lines otherwise.
    The collector, off since the start (gale/__init__.py), is turned on,
    with what the start made frozen."""
    start_done()
    _native.service_ready(text)
    notify_systemd("READY=1", f"STATUS={text}")
    if _native.console != "none":
        _native.set_console_title(f"{cfg.name} - {url}" if url else cfg.name)
    if url and _native.console == "owned":
        print(f"{cfg.name} is running at {url}\nClose this window or press Ctrl+C to stop it.",
              flush=True)


async def _serve_application(cfg, obj, target: str, sockets=None, worker=None) -> int:
    stop = _AsyncStop(asyncio.get_running_loop())
    undo = _install_async(stop)
    try:
        ssl_ctx = tls_context(cfg.tls_cert, cfg.tls_key)
        if sockets is None:
            sockets = bind(cfg.host, cfg.port)
        try:
            app = await appload.make_application(obj, target)
            from gale import eventloop
            from gale.connlimit import ConnectionLimit
            from gale.drain import DrainingHTTPServer
            from gale.limits import Limits

            limit = ConnectionLimit(cfg.connection_cap,
                                    on_change=worker.publish if worker else None)
            # GALE_DEBUG_LIMITS=tornado: Tornado's own timeouts and body
            # limit, for the benchmark (tests/bench/limits_bench.py).
            tornado_limits = os.environ.get("GALE_DEBUG_LIMITS") == "tornado"
            server = DrainingHTTPServer(app, ssl_options=ssl_ctx, limit=limit, worker=worker,
                                        limits=None if tornado_limits else Limits(cfg))
        except BaseException:
            for sock in sockets:
                sock.close()
            raise
        server.add_sockets(sockets)
        url = url_for(cfg.host, sockets[0].getsockname()[1], ssl_ctx is not None)
        log.info("Serving %s on %s", cfg.name, url)
        log.info("holding up to %d connections (%s event loop)", limit.limit, eventloop.kind())
        if worker is not None:  # its supervisor announces
            start_done()
            worker.ready(url)
        else:
            announce(cfg, f"{cfg.name} is serving on {url}", url)
            if cfg.open_browser:
                open_browser(url)
        await stop.requested.wait()
        log.info("stopping: no longer accepting connections")
        await server.drain(cfg.drain_timeout, stop.forced)
    finally:
        undo()
    log.info("stopped")
    return 0


async def _run_main_async(cfg, make, what: str) -> int:
    stop = _AsyncStop(asyncio.get_running_loop())
    undo = _install_async(stop)
    try:
        task = asyncio.ensure_future(make())
        waiter = asyncio.ensure_future(stop.requested.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():
            if not task.cancelled() and task.exception() is not None:
                _app_crashed(what, task.exception())
            log.info("%s returned; stopped", what)
            return 0
        log.info("stopping %s (waiting up to %gs)", what, cfg.drain_timeout)
        task.cancel()
        force = asyncio.ensure_future(stop.forced.wait())
        await asyncio.wait({task, force}, timeout=cfg.drain_timeout,
                           return_when=asyncio.FIRST_COMPLETED)
        force.cancel()
        if not task.done():
            log.warning("%s did not finish in time; leaving it", what)
        elif not task.cancelled() and task.exception() is not None:
            log.warning("%s failed while stopping", what, exc_info=task.exception())
    finally:
        undo()
    log.info("stopped")
    return 0


def _app_crashed(what: str, exc: BaseException):
    log.error("%s raised an exception", what, exc_info=exc)
    raise GaleError("APP", f"{what} raised {type(exc).__name__}: {exc}") from exc


def _forward_to_sigint(signum, frame) -> None:
    notify_systemd("STOPPING=1", "STATUS=stopping")
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


def _exit_status(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run_blocking(cfg, call, what: str) -> int:
    """Runs `call` in this thread; stop requests arrive as SIGINT."""
    global _stop

    def stop() -> None:
        notify_systemd("STOPPING=1", "STATUS=stopping")
        _thread.interrupt_main(signal.SIGINT)
    _stop = stop
    _native.set_console_stop_handler(request_stop)
    old_term = None
    if hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _forward_to_sigint)
    try:
        result = call()
    except KeyboardInterrupt:
        log.info("stopped")
        return 0
    except SystemExit as exc:
        return _exit_status(exc.code)
    except Exception as exc:
        _app_crashed(what, exc)
    finally:
        _native.set_console_stop_handler(None)
        _stop = None
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    if inspect.isawaitable(result):  # a plain function that returned a coroutine
        return _run_async(_run_main_async(cfg, lambda: result, what))
    log.info("%s returned; stopped", what)
    return 0


def _run_async(coro) -> int:
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        log.info("stopped")
        return 0
    except SystemExit as exc:
        return _exit_status(exc.code)


def serve_app(cfg, obj, target: str, sockets=None, worker=None) -> int:
    """``app =``: serve the Application until a stop request, then drain.
    A worker passes the sockets its supervisor bound, and itself
    (workers.Worker: its start is told to the supervisor instead of
    announced, and it accepts as drain.DrainingHTTPServer.add_sockets says)."""
    return _run_async(_serve_application(cfg, obj, target, sockets, worker))


def run_main(cfg, fn, target: str) -> int:
    """``main =``: run the app's own entry point."""
    what = f"main {target}"
    log.info("Running %s (%s)", cfg.name, what)
    announce(cfg, f"{cfg.name} is running ({what})")
    if inspect.iscoroutinefunction(fn):
        return _run_async(_run_main_async(cfg, fn, what))
    return _run_blocking(cfg, fn, what)


def run_script(cfg, module_name: str, path: str) -> int:
    """``script =``: run the app's script as ``__main__``."""
    what = f"script {path}"
    log.info("Running %s (%s)", cfg.name, what)
    announce(cfg, f"{cfg.name} is running ({what})")
    def run():
        import runpy  # only scripts need it

        runpy.run_module(module_name, run_name="__main__", alter_sys=True)

    return _run_blocking(cfg, run, what)
