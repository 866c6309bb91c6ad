# SPDX-License-Identifier: MIT
"""`gale service install | uninstall | start | stop | status`: the thin
Python side of the Windows service.

The calls to the service manager are C (launcher/win/service_config_win.c,
through `_gale`); this module resolves what to install from the command
line and the packed gale.toml's [service] table, waits for state changes,
and turns Win32 errors into one-line messages with documented exit codes.
`service run`, what the service manager starts, is cli.cmd_service_run.
"""

import time

from gale import _native, config
from gale.errors import GaleError

# dwCurrentState values and their names.
STATES = {1: "STOPPED", 2: "START_PENDING", 3: "STOP_PENDING", 4: "RUNNING",
          5: "CONTINUE_PENDING", 6: "PAUSE_PENDING", 7: "PAUSED"}
STOPPED, RUNNING = 1, 4
START_TYPES = {2: "auto", 3: "manual", 4: "disabled", 0: "boot", 1: "system"}
SID_TYPES = {0: "none", 1: "unrestricted", 3: "restricted"}
ERROR_SERVICE_SPECIFIC_ERROR = 1066
# What a stop may take beyond drain_timeout: closing connections (5 s),
# finalizing the interpreter, and the service manager's own polling.
PRESHUTDOWN_MARGIN_S = 15
POLL_S = 0.2


def _win32_text(code: int) -> str:
    import ctypes

    return ctypes.FormatError(code).strip().rstrip(".")


def _error(exc: OSError, name: str, display_name: str = "") -> GaleError:
    """The GaleError for a failed call into the service manager."""
    code = getattr(exc, "winerror", None) or 0
    if code == 5:  # ERROR_ACCESS_DENIED, from the service manager itself
        return GaleError("NOT_ELEVATED", "the service manager denied access: run this from "
                                         "an elevated (Run as administrator) prompt")
    if code == 1073:
        return GaleError("SERVICE_EXISTS", f"service {name} already exists: uninstall it "
                                           f"first, or choose another --name")
    if code == 1078:
        return GaleError("SERVICE_EXISTS", f"the display name {display_name!r} is taken by "
                                           f"another service: choose another --display-name")
    if code == 1060:
        return GaleError("NO_SERVICE", f"there is no service named {name}")
    if code == 1072:
        return GaleError("SERVICE_DELETED", f"service {name} is marked for deletion: it goes "
                                            "once its process has ended and every program "
                                            "holding it open (services.msc, Event Viewer) is "
                                            "closed; then try again")
    step = exc.filename or "the service manager"
    return GaleError("SERVICE_FAILED", f"service {name}: {step} failed: "
                                       f"{exc.strerror or _win32_text(code)} (error {code})")


def _require_windows() -> None:
    if not hasattr(_native._gale, "service_install"):
        raise GaleError("USAGE", "`gale service` is for Windows; on Linux run `gale serve` "
                                 "under systemd")


def _warn(text: str) -> None:
    import sys

    print(f"gale: warning: {text}", file=sys.stderr, flush=True)


def install(cfg, args) -> int:
    """Registers this executable as service NAME (see the module doc)."""
    _require_windows()
    svc = cfg.service
    name = args.name or svc.get("name") or cfg.name
    if not config.NAME_RE.match(name):
        raise GaleError("USAGE", f"--name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    display = args.display_name or svc.get("display_name") or name
    description = (args.description or svc.get("description")
                   or f"{cfg.name}, a Tornado app served by Gale")
    for key, value in (("service.display_name", display), ("service.description", description)):
        config._check_service_text(key, value, f"--{key[8:].replace('_', '-')}")
    start = args.start or svc.get("start") or "auto"
    account = config.service_account(args.account or svc.get("account"), name)
    if account == "LocalSystem":
        _warn("LocalSystem has full control of this machine; a service's own "
              "account (the default) is enough for a web app")
    run_args = ["service", "run", "--name", name]
    if args.host:
        run_args += ["--host", args.host]
    if args.port is not None:
        run_args += ["--port", str(args.port)]
    if getattr(args, "workers", None) is not None:
        run_args += ["--workers", str(args.workers)]
    if args.config:
        import os

        run_args += ["--config", os.path.abspath(args.config)]
    command_line = _native._gale.service_command_line(_native.executable, run_args)
    preshutdown_ms = int((cfg.drain_timeout + PRESHUTDOWN_MARGIN_S) * 1000)
    try:
        warnings = _native._gale.service_install(
            name=name, display_name=display, description=description, start=start,
            account=account, command_line=command_line, preshutdown_ms=preshutdown_ms,
            exe=_native.executable)
    except OSError as exc:
        raise _error(exc, name, display) from None
    for line in warnings:
        _warn(line)
    from gale import paths

    root = paths.service_root(name)
    print(f"installed service {name} ({display!r}), start {start}, as {account}")
    print(f"  command  {command_line}")
    print(f"  data     {root}\\data")
    print(f"  logs     {root}\\logs\\{name}.log")
    print(f"start it with: {_native.executable} service start --name {name}")
    return 0


def configure(cfg, args) -> int:
    """The MSI's `service configure`: (re)install with these settings, then
    start. An empty value, or "default" for the account, is the default."""
    import argparse

    if args.port and not args.port.isdigit():
        raise GaleError("USAGE", f"--port={args.port!r} is not a port number")
    settings = argparse.Namespace(
        name=args.name, display_name=None, description=None, config=None,
        start=args.start or None, host=args.host or None,
        port=int(args.port) if args.port else None,
        account=None if args.account in ("", "default") else args.account)
    if settings.start and settings.start not in config.SERVICE_STARTS:
        raise GaleError("USAGE", f"--start={settings.start!r}: use one of "
                                 f"{', '.join(config.SERVICE_STARTS)}")
    _require_windows()
    try:
        _native._gale.service_uninstall(args.name, 60_000)
        print(f"removed the previous service {args.name}")
    except OSError as exc:
        if getattr(exc, "winerror", 0) != 1060:  # anything but "no such service"
            raise _error(exc, args.name) from None
    install(cfg, settings)
    return start(args.name, True, 120.0)


def wait_stopped(timeout: float) -> int:
    """Waits until no other process runs this executable."""
    _require_windows()
    try:
        left = _native._gale.service_wait_exe_exit(_native.executable, int(timeout * 1000))
    except OSError as exc:
        raise _error(exc, "wait-stopped") from None
    if left:
        raise GaleError("SERVICE_FAILED", f"{left} process(es) of {_native.executable} still "
                                          f"running after {timeout:g}s")
    return 0


def uninstall(name: str, wait_s: float) -> int:
    _require_windows()
    try:
        _native._gale.service_uninstall(name, int(wait_s * 1000))
    except OSError as exc:
        raise _error(exc, name) from None
    print(f"removed service {name} (its data and logs folders are kept)")
    return 0


def query(name: str) -> dict:
    try:
        return _native._gale.service_query(name)
    except OSError as exc:
        raise _error(exc, name) from None


def exit_meaning(status: dict) -> str:
    """The last exit code as `sc query` reports it, in words."""
    win32, specific = status["win32_exit"], status["specific_exit"]
    if win32 == 0:
        return "0"
    if win32 == ERROR_SERVICE_SPECIFIC_ERROR:
        names = {code: n for n, code in _native.exit_codes.items()}
        meaning = _native._gale.exit_code_meanings.get(names.get(specific, ""), "")
        return f"{win32} (service-specific {specific}{': ' + meaning if meaning else ''})"
    return f"{win32} ({_win32_text(win32)})"


def _wait(name: str, want: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = query(name)
        if status["state"] == want or status["state"] == STOPPED:
            return status
        if time.monotonic() > deadline:
            raise GaleError("SERVICE_FAILED", f"service {name} is still "
                                              f"{STATES.get(status['state'], status['state'])} "
                                              f"after {timeout:g}s")
        time.sleep(POLL_S)


def _control(name: str, call, already: int, already_text: str) -> bool:
    """Calls `call(name)`; False (after saying so) if the service was
    already where it was asked to go (Win32 error `already`)."""
    _require_windows()
    try:
        call(name)
    except OSError as exc:
        code = getattr(exc, "winerror", 0)
        if code == already:
            print(f"service {name} {already_text}")
            return False
        if code == 1061:  # ERROR_SERVICE_CANNOT_ACCEPT_CTRL
            raise GaleError("SERVICE_FAILED", f"service {name} is starting or stopping and "
                                              "cannot take that now: try again") from None
        raise _error(exc, name) from None
    return True


def start(name: str, wait: bool, timeout: float) -> int:
    # 1056: ERROR_SERVICE_ALREADY_RUNNING
    if not _control(name, _native._gale.service_start, 1056, "is already running"):
        return 0
    if not wait:
        print(f"service {name}: start requested")
        return 0
    status = _wait(name, RUNNING, timeout)
    if status["state"] != RUNNING:
        from gale import paths

        raise GaleError("SERVICE_FAILED", f"service {name} failed to start: exit code "
                                          f"{exit_meaning(status)}; see "
                                          f"{paths.service_root(name)}\\logs\\{name}.log")
    print(f"service {name} is running (pid {status['pid']})")
    return 0


def stop(name: str, wait: bool, timeout: float) -> int:
    # 1062: ERROR_SERVICE_NOT_ACTIVE
    if not _control(name, _native._gale.service_stop, 1062, "is not running"):
        return 0
    if not wait:
        print(f"service {name}: stop requested")
        return 0
    status = _wait(name, STOPPED, timeout)
    print(f"service {name} stopped (exit code {exit_meaning(status)})")
    return 0


NOT_REPORTED = "not reported by this system"


def _recovery(status: dict) -> str:
    actions = status["actions"]
    if actions is None:
        return NOT_REPORTED
    if not actions:
        return "none"
    names = {0: "none", 1: "restart", 2: "reboot", 3: "run a command"}
    steps = ", ".join(f"{names.get(kind, kind)} after {delay / 1000:g} s" for kind, delay in actions)
    reset = status["reset_period_s"]
    flag = status["failure_actions_flag"]
    extra = ("; a non-zero exit counts as a failure" if flag else
             "; only crashes count" if flag == 0 else f"; non-zero exits: {NOT_REPORTED}")
    return f"{steps}; reset after {reset} s{extra}"


def status_lines(name: str, status: dict) -> list:
    state = STATES.get(status["state"], str(status["state"]))
    if status["state"] != STOPPED and status["pid"]:
        state += f", pid {status['pid']}"
    if state.split(",")[0].endswith("_PENDING"):
        state += f", checkpoint {status['checkpoint']}, wait hint {status['wait_hint']} ms"
    start = START_TYPES.get(status["start_type"], str(status["start_type"]))
    if status["start_type"] == 2:
        delayed = status["delayed"]
        start += (" (delayed)" if delayed else "" if delayed == 0
                  else f" (delayed start: {NOT_REPORTED})")
    rows = [
        ("service", f"{name} ({status['display_name']!r})"),
        ("state", state),
        ("start", start),
        ("account", status["account"] or NOT_REPORTED),
        ("command", status["image_path"] or NOT_REPORTED),
        ("description", status["description"] if status["description"] is not None
         else NOT_REPORTED),
        ("recovery", _recovery(status)),
        ("sid type", SID_TYPES.get(status["sid_type"], str(status["sid_type"]))
         if status["sid_type"] is not None else NOT_REPORTED),
        ("preshutdown", f"{status['preshutdown_ms']} ms" if status["preshutdown_ms"] is not None
         else NOT_REPORTED),
        ("last exit", exit_meaning(status)),
    ]
    return [f"{key:<12} {value}" for key, value in rows]


def status(name: str) -> int:
    _require_windows()
    for line in status_lines(name, query(name)):
        print(line)
    return 0
