# SPDX-License-Identifier: MIT
"""Python's one view of `_gale`, the built-in module the C launcher provides.

Everything the launcher knows about the process - Gale's version, the target,
the running executable and where its payload sits, what the host is built
from, and the exit-code table from the launcher's single header - is read here and nowhere else, so the
rest of the package imports plain names from this module. The platform
services `_gale` offers (the Windows console's stop handler and title, the
service's RUNNING report and Event Log) are wrapped here too, as functions
that do nothing where the platform or the mode has no such thing.

the packer (gale.pack) must also run under a stock CPython without `_gale`; it never
imports this module.
"""

import _gale

version: str = _gale.version
target: str = _gale.target
executable: str = _gale.executable
payload_offset: int = _gale.payload_offset
payload_size: int = _gale.payload_size
payload_digest: str = _gale.payload_digest
exit_codes: dict = dict(_gale.exit_codes)
components: str = _gale.components  # JSON: what the host is built from (sbom.py)
linked_versions: dict = dict(_gale.linked_versions)  # {library: its own version answer}


def set_console_stop_handler(handler) -> None:
    """Windows: Ctrl+C, Ctrl+Break, closing the console and shutdown call
    `handler` (on a thread of their own) until it is set back to None, which
    hands them to the signal module again. Elsewhere stop requests arrive as
    POSIX signals, and this does nothing."""
    setter = getattr(_gale, "set_console_stop_handler", None)
    if setter is not None:
        setter(handler)


def exit_code(name: str) -> int:
    """The process exit code called `name` in the launcher's header."""
    return exit_codes[name]


# The Windows service (launcher/win/service_*_win.c) and the console.
service_name: str | None = _gale.service_name  # set while running as a service
console: str = _gale.console  # "owned" (a double-click), "shared" or "none"


def service_ready(text: str) -> None:
    """In service mode: reports RUNNING to the service manager and `text` to
    the Event Log. Elsewhere it does nothing."""
    if service_name is not None:
        _gale.service_report_running()
        _gale.service_event("info", text)


def service_event(kind: str, text: str) -> None:
    """In service mode: `text` to the Event Log as info, warning or error."""
    if service_name is not None:
        _gale.service_event(kind, text)


def set_console_title(text: str) -> None:
    """Windows: the console window's title; elsewhere nothing."""
    setter = getattr(_gale, "set_console_title", None)
    if setter is not None:
        setter(text)


def worker_job_add(pid: int) -> None:
    """Windows: ties process `pid` to this one's lifetime (a Job Object that
    ends it when this process ends; native/workers.c). Elsewhere nothing."""
    _gale.worker_job_add(pid)


def die_with_parent(ppid: int) -> bool:
    """Linux: SIGKILL for this process when its parent `ppid` dies; False if
    it has already. Elsewhere True."""
    return _gale.die_with_parent(ppid)
