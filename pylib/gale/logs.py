# SPDX-License-Identifier: MIT
"""Logging: timestamped lines to stderr and, if configured, to a file.

    2026-11-27 10:00:00,123 INFO gale: Serving hello on http://127.0.0.1:8888/

Gale logs as "gale"; Tornado's loggers (tornado.access, tornado.application,
tornado.general) and the app's own propagate to the same root handlers.

With workers (workers.py) each worker writes its lines to a pipe, tagged
``[worker N]`` after the level (``[worker N] stdout:`` for what it
prints), and the supervisor relays them, whole lines, to its own
handlers: it is the one writer of the console, the log file and the
service log.

A Windows service has no console and no std handles. There `ServiceLog`
is everything: the log records, ``sys.stdout`` and ``sys.stderr`` (each
line timestamped and marked ``stdout:`` or ``stderr:``), and file
descriptor 2, so that faulthandler, CPython's fatal errors and the
launcher's own messages land in it too. Every line goes to the OS as it is
written, so a process killed right after a print has not lost it. The file
is rotated by size: at ``log.max_bytes`` it becomes ``NAME.log.1``, the
older ones move up, and ``log.backups`` of them are kept.
"""

import io
import logging
import os
import sys
import threading
import time

from gale import libimport
from gale.errors import GaleError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_handlers = []
_service_log = None
_worker_stderr = None  # in a worker: file descriptor 2 as text, for the log records
_RELAYED = "gale_relayed"  # a LogRecord attribute: the message is a whole line already


def worker_tag(index: int) -> str:
    return f"[worker {index}]"


class _Formatter(logging.Formatter):
    """FORMAT, except for a worker's relayed lines, which are written as they came."""

    def format(self, record) -> str:
        if getattr(record, _RELAYED, False):
            return record.msg
        return super().format(record)


class _PayloadDamage(logging.Filter):
    """A record of an exception that a damaged payload caused (a request
    whose handler imports a module from a damaged code chunk: Tornado
    answers 500 and logs the traceback) becomes one PAYLOAD line, once per
    process and damage; later ones are dropped. The decision is kept on the
    record, so that every handler makes the same one."""

    def __init__(self):
        super().__init__()
        self.seen = set()

    def filter(self, record) -> bool:
        keep = getattr(record, "gale_payload_keep", None)
        if keep is None:
            keep = True
            exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
            damaged = libimport.damage_in(exc)
            if damaged is not None:
                keep = str(damaged) not in self.seen
                self.seen.add(str(damaged))
                record.msg = "PAYLOAD: %s: what needs that code fails until the executable " \
                             "is replaced"
                record.args = (str(damaged),)
                record.exc_info = record.exc_text = None
                record.levelno, record.levelname = logging.ERROR, "ERROR"
            record.gale_payload_keep = keep
        return keep


_payload_filter = _PayloadDamage()


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f",{int(now % 1 * 1000):03d}"


class ServiceLog:
    """A size-rotated log file that is written through at once."""

    def __init__(self, path: str, max_bytes: int, backups: int):
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.lock = threading.RLock()
        self.fd = -1
        self.size = 0
        self.on_reopen = []  # called with the new fd after each (re)open
        self._open()

    def _open(self) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self.fd = os.open(self.path, flags, 0o644)
        self.size = os.fstat(self.fd).st_size
        for call in self.on_reopen:
            call(self.fd)

    def configure(self, max_bytes: int, backups: int) -> None:
        with self.lock:
            self.max_bytes, self.backups = max_bytes, backups

    def write(self, data: bytes) -> None:
        with self.lock:
            if self.size and self.size + len(data) > self.max_bytes:
                self._rotate()
            _write_all(self.fd, data)
            self.size += len(data)

    def _rotate(self) -> None:
        # Windows cannot rename a file that is open without FILE_SHARE_DELETE,
        # which the CRT never asks for: close every descriptor of it first.
        os.close(self.fd)
        for call in self.on_reopen:
            call(-1)
        try:
            if self.backups == 0:
                os.remove(self.path)
            else:
                for i in range(self.backups - 1, 0, -1):
                    older = f"{self.path}.{i}"
                    if os.path.exists(older):
                        os.replace(older, f"{self.path}.{i + 1}")
                os.replace(self.path, f"{self.path}.1")
        except OSError:
            pass  # keep writing to the same file rather than lose lines
        self._open()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _FdWriter:
    """A worker's file descriptor 2 (a pipe to the supervisor), as _LineStream's sink."""

    def __init__(self, fd: int):
        self.fd = fd

    def write(self, data: bytes) -> None:
        _write_all(self.fd, data)


class _LineStream(io.TextIOBase):
    """sys.stdout or sys.stderr in service mode, or in a worker: whole
    lines, timestamped."""

    def __init__(self, log: ServiceLog, label: str):
        self._log = log
        self._label = label
        self._partial = ""
        self._lock = threading.Lock()

    @property
    def encoding(self) -> str:
        return "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
            for line in lines:
                self._emit(line)
        return len(text)

    def _emit(self, line: str) -> None:
        self._log.write(f"{_timestamp()} {self._label}: {line}\n".encode("utf-8", "replace"))

    def flush(self) -> None:
        with self._lock:
            if self._partial:
                self._emit(self._partial)
                self._partial = ""


class _ServiceHandler(logging.Handler):
    def __init__(self, log: ServiceLog):
        super().__init__()
        self._log = log

    def emit(self, record) -> None:
        try:
            self._log.write((self.format(record) + "\n").encode("utf-8", "replace"))
        except Exception:
            self.handleError(record)


def _point_fd2(fd: int) -> None:
    """File descriptor 2 (C's stderr) follows the log across rotations."""
    if fd < 0:
        try:
            os.close(2)
        except OSError:
            pass
        return
    os.dup2(fd, 2)
    try:
        import faulthandler

        faulthandler.enable(2)
    except (ImportError, RuntimeError, ValueError, OSError):
        pass


def start_service_log(path: str, max_bytes: int, backups: int) -> ServiceLog:
    """Service mode: `path` becomes the log, sys.stdout, sys.stderr and fd 2."""
    global _service_log
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        log = ServiceLog(path, max_bytes, backups)
    except OSError as exc:
        raise GaleError("DATA", f"cannot open the service log {path}: "
                                f"{exc.strerror or exc}") from None
    log.on_reopen.append(_point_fd2)
    _point_fd2(log.fd)
    sys.stdout = _LineStream(log, "stdout")
    sys.stderr = _LineStream(log, "stderr")
    _service_log = log
    return log


def start_worker_log(index: int) -> None:
    """In worker `index`: sys.stdout and sys.stderr become tagged lines on
    file descriptor 2, the pipe the supervisor relays."""
    global _worker_stderr
    _worker_stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False,
                          buffering=1)
    sink = _FdWriter(2)
    sys.stdout = _LineStream(sink, f"{worker_tag(index)} stdout")
    sys.stderr = _LineStream(sink, f"{worker_tag(index)} stderr")


def relay(index: int, raw: bytes) -> None:
    """In the supervisor: whole lines of worker `index`'s output, to every
    handler at once. A line the worker did not tag (a crash's dump, C's
    own output) is timestamped and tagged here."""
    tag = worker_tag(index)
    lines = raw.decode("utf-8", "replace").splitlines()
    if not all(tag in line for line in lines):
        stamp = _timestamp()
        lines = [line if tag in line else f"{stamp} {tag} stderr: {line}" for line in lines]
    record = logging.LogRecord("gale.worker", logging.INFO, __file__, 0, "\n".join(lines),
                               None, None)
    setattr(record, _RELAYED, True)
    for handler in list(_handlers):
        handler.handle(record)


def setup(level: str = "info", file: str | None = None, worker: int | None = None) -> None:
    """(Re)configures the root logger; may be called again once config is known.
    In service mode the records go to the service log (and `file` is not
    opened again); in worker `worker`, tagged, to stderr only."""
    root = logging.getLogger()
    for handler in _handlers:
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
    formatter = _Formatter(FORMAT if worker is None else
                           FORMAT.replace("%(name)s", f"{worker_tag(worker)} %(name)s"))
    if worker is not None:
        file = None  # the supervisor writes it
    if _service_log is not None:
        _handlers.append(_ServiceHandler(_service_log))
    else:
        console = logging.StreamHandler(_worker_stderr or sys.stderr)
        _handlers.append(console)
    if file and _service_log is None:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(file)), exist_ok=True)
            to_file = logging.FileHandler(file, encoding="utf-8")
        except OSError as exc:
            raise GaleError("CONFIG", f"cannot open log file {file}: {exc.strerror or exc}") from None
        _handlers.append(to_file)
    for handler in _handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_payload_filter)
        root.addHandler(handler)
    root.setLevel(level.upper())
