# SPDX-License-Identifier: MIT
"""``workers = N``: one supervisor and N worker processes that share its
listening sockets (docs/workers.md).

The process that was started (a console, a double-click, a service, IIS)
becomes the supervisor. It binds host:port once, then starts N copies of
its own executable with the internal command ``worker`` and hands each the
sockets. It serves nothing and never imports the app.

* Sockets. Windows: ``socket.share(pid)`` (WSADuplicateSocket) for each
  worker, which makes the socket again with ``socket.fromshare``. Linux:
  the descriptors are inherited (``pass_fds``). Either way the workers
  accept from one listening socket and one accept queue, which survives a
  worker's death; Linux's SO_REUSEPORT would give each its own queue, and
  drop what waits in a dead worker's.
* Channels. The worker's stdin carries the handoff (one JSON line: its
  number, the resolved config, the sockets), then ``stop`` lines; end of
  file means the supervisor has gone. Its stdout carries JSON lines back
  (``ready``, ``error``); everything it logs or prints goes to stderr,
  tagged ``[worker N]``, and the supervisor relays it (logs.relay).
* Lifetime. Windows: each worker goes into a Job Object that ends it when
  the supervisor's handle closes, as it does when the supervisor dies.
  Linux: each worker asks for SIGKILL when its parent dies
  (native/workers.c). Workers run in a session (Linux) or process group
  and hidden console (Windows) of their own, so Ctrl+C and the console's
  events reach the supervisor only, which passes the stop on.
* Supervision. A worker that exits while serving is started again after
  a back-off (BACKOFF_FIRST doubling up to BACKOFF_MAX, reset once a worker
  has served for STABLE_S). One that fails START_TRIES times in a row
  before serving ends the supervisor with its exit code and its one-line
  error.
* Stop. Every stop trigger reaches `request` (server.install_stop): each
  worker gets ``stop`` and drains as a single process does (a stop signal
  of its own as well counts once); a second request is passed on as
  ``force`` and cuts the drains short. Workers still
  running drain_timeout + KILL_MARGIN seconds after the stop are ended.
"""

import base64
import json
import logging
import os
import queue
import struct
import subprocess
import sys
import threading
import time

from gale import _native, logs, server
from gale.errors import GaleError

log = logging.getLogger("gale")
COMMAND = "worker"
START_TRIES = 3
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0
STABLE_S = 30.0
# Beyond drain_timeout: closing connections (drain.CLOSE_TIMEOUT) and exiting.
KILL_MARGIN = 10.0
RELAY_CHUNK = 65536
RELAY_PAUSE = 0.01
# How long an exited worker's last message may still be on its way.
LAST_WORDS_S = 2.0
# How workers accept (drain.DrainingHTTPServer.add_sockets): "balanced", or
# "tornado" (Tornado's own accept handler, for the benchmark to compare).
ACCEPT_ENV = "GALE_DEBUG_WORKER_ACCEPT"
WINDOWS = sys.platform == "win32"
# Not passed to workers: they act as neither python nor systemd's main process.
_DROPPED_ENV = ("GALE_PYTHON_EXE", "NOTIFY_SOCKET")


class Board:
    """How many connections each worker holds: one 32-bit count per worker
    in memory the supervisor and every worker map (Linux: a memfd the
    workers inherit; Windows: a named mapping, named in the handoff). The
    supervisor marks a worker that is not serving EMPTY."""

    EMPTY = 0xFFFFFFFF

    def __init__(self, mem, count: int, name):
        self.mem, self.name = mem, name
        self._format = f"={count}I"

    @classmethod
    def create(cls, count: int) -> "Board":
        import mmap

        size = 4 * count
        if WINDOWS:
            import secrets

            name = f"gale-workers-{os.getpid()}-{secrets.token_hex(8)}"
            mem = mmap.mmap(-1, size, tagname=name)
        else:
            name = os.memfd_create("gale-workers")
            os.ftruncate(name, size)
            mem = mmap.mmap(name, size)
        board = cls(mem, count, name)
        for i in range(count):
            board.set(i, cls.EMPTY)
        return board

    @classmethod
    def attach(cls, name, count: int) -> "Board":
        import mmap

        if WINDOWS:
            return cls(mmap.mmap(-1, 4 * count, tagname=name), count, name)
        mem = mmap.mmap(name, 4 * count)
        os.close(name)
        return cls(mem, count, None)

    def set(self, index: int, value: int) -> None:
        struct.pack_into("=I", self.mem, 4 * index, value)

    def counts(self) -> tuple:
        return struct.unpack_from(self._format, self.mem)


class _Slot:
    """Worker number `index` and the process that is, or was last, it."""

    def __init__(self, index: int):
        self.index = index
        self.proc = None
        self.generation = 0
        self.ready = False
        self.started = 0.0
        self.start_failures = 0  # in a row, before serving
        self.quick_exits = 0  # in a row, after serving for less than STABLE_S
        self.restart_at = None
        self.error = None  # (message, code) the worker reported last

    @property
    def running(self) -> bool:
        return self.proc is not None


class Supervisor:
    def __init__(self, cfg, debug: bool):
        self.cfg = cfg
        self.debug = debug
        self.slots = [_Slot(i) for i in range(1, cfg.workers + 1)]
        self.board = Board.create(cfg.workers)
        self.events = queue.SimpleQueue()  # put() is safe from signal handlers
        self.sockets = []
        self.url = None
        self.announced = False
        self.stopping = False
        self.stop_count = 0
        self.first_stop = 0.0
        self.deadline = None
        self.fatal = None

    # -- stop requests, from any thread or a signal handler -------------------
    def request(self) -> None:
        self.events.put(("stop", None, 0, time.monotonic()))

    def _on_stop(self, at: float) -> None:
        if self.stop_count and at - self.first_stop < server.DUPLICATE_WINDOW:
            return  # one stop delivered twice
        self.stop_count += 1
        if self.stop_count == 1:
            self.first_stop = at
            log.info("stop requested: stopping %d worker(s)", self._running())
            server.notify_systemd("STOPPING=1", "STATUS=draining")
            self._stop_all(self.cfg.drain_timeout + KILL_MARGIN)
        elif self.stop_count == 2:
            log.warning("second stop request: stopping the workers now")
            self._stop_all(KILL_MARGIN, "force")

    def _stop_all(self, within: float, word: str = "stop") -> None:
        self.stopping = True
        self.deadline = time.monotonic() + within
        for slot in self.slots:
            slot.restart_at = None
            if slot.running:
                self._send(slot, word)

    # -- the workers ------------------------------------------------------------
    def _handoff(self, slot: _Slot, pid: int) -> dict:
        if WINDOWS:
            sockets = [base64.b64encode(s.share(pid)).decode("ascii") for s in self.sockets]
        else:
            sockets = [s.fileno() for s in self.sockets]
        fields = {key: getattr(self.cfg, key) for key in self.cfg.__slots__ if key != "name"}
        return {"worker": slot.index, "workers": len(self.slots), "supervisor": os.getpid(),
                "name": self.cfg.name, "config": fields, "sockets": sockets,
                "board": self.board.name, "debug": self.debug}

    def _spawn(self, slot: _Slot) -> None:
        """Starts worker `slot`. From the main thread only (native/workers.c)."""
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        env.update(GALE_WORKER=str(slot.index), GALE_WORKERS=str(len(self.slots)))
        argv = [_native.executable] + ["--debug"] * self.debug + [COMMAND]
        extra = {}
        if WINDOWS:
            extra["creationflags"] = (subprocess.CREATE_NO_WINDOW
                                      | subprocess.CREATE_NEW_PROCESS_GROUP)
        else:
            extra["pass_fds"] = [s.fileno() for s in self.sockets] + [self.board.name]
            extra["start_new_session"] = True
        slot.generation += 1
        slot.ready = False
        slot.error = None
        slot.restart_at = None
        slot.started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, **extra)
        slot.proc = proc
        if WINDOWS:
            try:
                _native.worker_job_add(proc.pid)
            except OSError as exc:
                log.warning("worker %d (pid %d) is not tied to this process's lifetime: "
                            "%s", slot.index, proc.pid, exc)
        gen = slot.generation
        readers = [threading.Thread(target=self._read_messages, args=(slot, gen, proc),
                                    name=f"gale-worker-{slot.index}-messages", daemon=True),
                   threading.Thread(target=self._relay_output, args=(slot.index, proc),
                                    name=f"gale-worker-{slot.index}-output", daemon=True)]
        for thread in readers:
            thread.start()
        threading.Thread(target=self._wait_exit, args=(slot, gen, proc, readers),
                         name=f"gale-worker-{slot.index}-wait", daemon=True).start()
        self._send(slot, json.dumps(self._handoff(slot, proc.pid)))
        log.debug("worker %d started (pid %d)", slot.index, proc.pid)

    def _send(self, slot: _Slot, line: str) -> None:
        try:
            slot.proc.stdin.write((line + "\n").encode("utf-8"))
            slot.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # it has exited: its exit is on the way

    def _read_messages(self, slot: _Slot, gen: int, proc) -> None:
        for raw in proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if isinstance(message, dict):
                self.events.put(("message", slot, gen, message))

    def _relay_output(self, index: int, proc) -> None:
        """The worker's output to the log, as many whole lines at a time as
        have arrived: a write per RELAY_PAUSE at most, not one per line (a
        busy worker logs a line per request), keeps the supervisor's share
        of the CPU small."""
        fd, pending = proc.stderr.fileno(), b""
        while chunk := os.read(fd, RELAY_CHUNK):
            if len(chunk) < RELAY_CHUNK:
                time.sleep(RELAY_PAUSE)  # let more lines come: they are written together
            pending += chunk
            cut = pending.rfind(b"\n") + 1
            if cut or len(pending) >= RELAY_CHUNK:
                cut = cut or len(pending)
                logs.relay(index, pending[:cut])
                pending = pending[cut:]
        if pending:
            logs.relay(index, pending)

    def _wait_exit(self, slot: _Slot, gen: int, proc, readers: list) -> None:
        code = proc.wait()
        deadline = time.monotonic() + LAST_WORDS_S
        for thread in readers:  # what it wrote before exiting comes first
            thread.join(max(0.0, deadline - time.monotonic()))
        self.events.put(("exit", slot, gen, code))

    def _running(self) -> int:
        return sum(slot.running for slot in self.slots)

    # -- events ---------------------------------------------------------------
    def _on_message(self, slot: _Slot, message: dict) -> None:
        if "ready" in message:
            slot.ready = True
            slot.start_failures = 0
            self.url = message["ready"]
            log.info("worker %d (pid %d) is serving", slot.index, slot.proc.pid)
            if not self.announced and all(s.ready for s in self.slots) and not self.stopping:
                self.announced = True
                log.info("Serving %s on %s with %d workers", self.cfg.name, self.url,
                         len(self.slots))
                server.announce(self.cfg, f"{self.cfg.name} is serving on {self.url} "
                                          f"with {len(self.slots)} workers", self.url)
                if self.cfg.open_browser:
                    server.open_browser(self.url)
        elif "error" in message:
            slot.error = (str(message["error"]), int(message.get("code", 1)))

    def _on_exit(self, slot: _Slot, code: int) -> None:
        pid = slot.proc.pid
        try:
            slot.proc.stdin.close()
        except OSError:
            pass
        slot.proc = None
        self.board.set(slot.index - 1, Board.EMPTY)
        now = time.monotonic()
        if self.stopping:
            if code != 0:
                log.warning("worker %d (pid %d) exited with %s while stopping",
                            slot.index, pid, _exit_text(code))
            return
        if not slot.ready:
            slot.start_failures += 1
            message, _ = slot.error or (f"worker {slot.index} exited with "
                                        f"{_exit_text(code)} while starting", code)
            if slot.start_failures >= START_TRIES:
                log.error("worker %d failed to start %d times in a row; stopping",
                          slot.index, slot.start_failures)
                self.fatal = GaleError(_code_name(code), message)
                self._stop_all(self.cfg.drain_timeout + KILL_MARGIN)
                return
            delay = _backoff(slot.start_failures)
            log.warning("worker %d (pid %d) failed to start (%s): %s; "
                        "trying again in %gs", slot.index, pid, _exit_text(code), message, delay)
        else:
            served = now - slot.started
            slot.quick_exits = 1 if served >= STABLE_S else slot.quick_exits + 1
            delay = _backoff(slot.quick_exits)
            log.warning("worker %d (pid %d) exited with %s after %.0fs; starting it "
                        "again in %gs", slot.index, pid, _exit_text(code), served, delay)
        slot.restart_at = now + delay

    def _timeout(self) -> float:
        times = [s.restart_at for s in self.slots if s.restart_at is not None]
        if self.deadline is not None:
            times.append(self.deadline)
        return max(0.0, min(times) - time.monotonic()) if times else 3600.0

    def _loop(self) -> None:
        while not (self.stopping and not self._running()):
            try:
                kind, slot, gen, value = self.events.get(timeout=self._timeout())
            except queue.Empty:
                kind = None
            if kind == "stop":
                self._on_stop(value)
            elif kind is not None and gen == slot.generation:
                if kind == "message":
                    self._on_message(slot, value)
                else:
                    self._on_exit(slot, value)
            now = time.monotonic()
            for s in self.slots:
                if s.restart_at is not None and s.restart_at <= now and not self.stopping:
                    self._spawn(s)
            if self.deadline is not None and now >= self.deadline:
                self._end_stragglers()

    def _end_stragglers(self) -> None:
        for slot in self.slots:
            if slot.running:
                log.warning("worker %d (pid %d) did not stop in time; ending it",
                            slot.index, slot.proc.pid)
                slot.proc.kill()
        self.deadline = None  # their exits arrive as events

    def run(self) -> int:
        cfg = self.cfg
        server.tls_context(cfg.tls_cert, cfg.tls_key)  # a bad certificate fails here, once
        self.sockets = server.bind(cfg.host, cfg.port)
        undo = server.install_stop(self.request)
        try:
            log.info("starting %d workers for %s", len(self.slots), cfg.name)
            for slot in self.slots:
                self._spawn(slot)
            self._loop()
        finally:
            undo()
            for slot in self.slots:
                if slot.running:
                    slot.proc.kill()
            for sock in self.sockets:
                sock.close()
        if self.fatal is not None:
            raise self.fatal
        log.info("stopped")
        return 0


def _exit_text(code: int) -> str:
    """A worker's exit status in words: "code 4", "signal SIGKILL" (POSIX),
    "code 0xC0000005" (a Windows exception)."""
    if code < 0:
        import signal

        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code:#010X}".replace("0X", "0x") if code > 0xFFFF else f"code {code}"


def _backoff(count: int) -> float:
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (count - 1))


def _code_name(code: int) -> str:
    for name, value in _native.exit_codes.items():
        if value == code and name != "OK":
            return name
    return "ERROR"


def supervise(cfg, debug: bool) -> int:
    return Supervisor(cfg, debug).run()


# -- the worker's side ------------------------------------------------------------
_control = None  # the pipe to the supervisor, in a worker
_serving = False  # this worker has served (its stop handler may be gone again)


def _tell(message: dict) -> None:
    if _control is not None:
        try:
            _control.write(json.dumps(message) + "\n")
            _control.flush()
        except (OSError, ValueError):
            pass


def report_error(message: str, code: int) -> None:
    """In a worker: the one-line error it ends with, for its supervisor."""
    _tell({"error": message, "code": code})


def _listen(stdin) -> None:
    """Stop requests from the supervisor: ``stop`` starts the drain, unless
    one is under way (systemd's stop signals every process of the unit,
    the workers too), ``force`` cuts it short. End of file means the
    supervisor has gone."""
    import _thread

    for line in stdin:
        word = line.strip()
        if word in ("stop", "force") and not _serving and server._stop is None:
            _thread.interrupt_main()  # still starting: nothing to drain
        elif word == "stop":
            server.request_graceful_stop()
        elif word == "force":
            server.request_stop()
    log.warning("the supervisor has gone: stopping")
    server.request_stop()


def _sockets(handoff: dict) -> list:
    """The supervisor's listening sockets, made again in this process, and
    non-blocking: a worker woken for a connection that another took must
    find the queue empty, not wait in accept()."""
    import socket

    if WINDOWS:
        sockets = [socket.fromshare(base64.b64decode(s)) for s in handoff["sockets"]]
    else:
        sockets = [socket.socket(fileno=fd) for fd in handoff["sockets"]]
    for sock in sockets:
        sock.setblocking(False)
        log.debug("serving on the shared socket %s: %s",
                  server.hostport(*sock.getsockname()[:2]), server.socket_options(sock))
    return sockets


class Worker:
    """This process as a worker: what server.serve_app needs to know."""

    def __init__(self, handoff: dict):
        self.index = handoff["worker"]
        self.board = Board.attach(handoff["board"], handoff["workers"])
        self.balanced = os.environ.get(ACCEPT_ENV, "balanced") != "tornado"
        self.accept_batch = 1
        self.open = 0

    def ready(self, url: str) -> None:
        global _serving
        _serving = True
        self.publish(self.open)
        _tell({"ready": url})

    def publish(self, count: int) -> None:
        """connlimit.ConnectionLimit's on_change: this worker's open connections."""
        self.open = count
        self.board.set(self.index - 1, count)

    def may_accept(self) -> bool:
        """Whether to accept now: not while another serving worker holds
        fewer connections than this one (it was woken too, and takes it)."""
        counts = self.board.counts()
        mine = counts[self.index - 1]
        return all(mine <= n for n in counts)


def worker_main(debug: bool) -> int:
    """`gale worker`: what a supervisor starts; see the module's doc."""
    global _control
    from gale import appload, config, eventloop, resources

    # The message channel is the stdout the supervisor gave; the app's
    # prints go to stderr with the log.
    refused = GaleError("USAGE", "`gale worker` is started by a supervisor, for workers > 1; "
                                 "use `gale serve --workers N`")
    if sys.stdin is None or sys.stdin.isatty():
        raise refused
    _control = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    line = sys.stdin.readline()
    try:
        handoff = json.loads(line)
    except ValueError:
        handoff = None
    if not isinstance(handoff, dict):
        raise refused
    index = handoff["worker"]
    logs.start_worker_log(index)
    cfg = config.Config(handoff["name"], **handoff["config"])
    logs.setup("debug" if debug else cfg.log_level, worker=index)
    if not _native.die_with_parent(handoff["supervisor"]):
        raise GaleError("ERROR", "the supervisor had gone before this worker started")
    threading.Thread(target=_listen, args=(sys.stdin,), name="gale-supervisor",
                     daemon=True).start()
    sockets = _sockets(handoff)
    worker = Worker(handoff)
    resources.activate()
    obj, _ = appload.resolve(cfg.app)
    eventloop.install()
    sys.argv[1:] = []  # the app sees no Gale arguments
    return server.serve_app(cfg, obj, cfg.app, sockets, worker)
