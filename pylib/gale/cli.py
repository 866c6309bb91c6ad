# SPDX-License-Identifier: MIT
"""The command line: parses arguments, runs a command, turns failures into exit codes.

    gale [serve] [options]     serve the app (the default; double-click lands here)
    gale check [options]       load config and app, print the resolved config
    gale pack APPDIR -o OUT    build an executable for APPDIR (--target for another platform)
    gale sbom                  print what this executable contains (CycloneDX 1.6 JSON)
    gale --version

`gale python` and `gale service run` are handled by the launcher before
Python runs this; `service run` reaches cmd_service_run only in a process the
service manager started. Every failure prints exactly one line, ``gale: error: <cause>``,
and exits with the code named in the launcher's header; a traceback follows
only with --debug or GALE_DEBUG=1, which also turn on debug logging.
"""

import os
import sys
import traceback

from gale import cliargs, config, libimport
from gale.errors import GaleError

def _versions() -> list:
    from gale import _native
    from gale.pack import sbom

    return sbom.version_lines(sbom.running_document()) + [f"Target {_native.target}"]


def _cli_values(args) -> dict:
    values = {}
    for key, attr in (("app", "app"), ("host", "host"), ("port", "port"),
                      ("tls.cert", "cert"), ("tls.key", "key"), ("data_dir", "data_dir"),
                      ("drain_timeout", "drain_timeout"), ("max_connections", "max_connections"),
                      ("workers", "workers"), ("header_timeout", "header_timeout"),
                      ("idle_timeout", "idle_timeout"), ("body_timeout", "body_timeout"),
                      ("max_body_size", "max_body_size"),
                      ("log.level", "log_level"),
                      ("open_browser", "open_browser")):
        value = getattr(args, attr, None)
        if value is not None:
            values[key] = value
    if "tls.key" in values and "tls.cert" not in values:
        raise GaleError("USAGE", "--key needs --cert (see gale --help)")
    return values


def _layers(args, res) -> list:
    """The packed gale.toml, then --config or a gale.toml beside the executable."""
    from gale import _native

    layers = []
    if res.config_text:
        if res.config_doc is not None:
            packed = config.parse_doc(res.config_doc, "gale.toml (packed)", res.app_dir,
                                      embedded=True)
        else:
            packed = config.parse_text(res.config_text, "gale.toml (packed)", res.app_dir,
                                       embedded=True)
        packed.values.pop("name", None)  # pack resolved it: --name, else this, else the folder
        layers.append(packed)
    external = args.config
    if external is None:
        beside = os.path.join(os.path.dirname(_native.executable), "gale.toml")
        external = beside if os.path.isfile(beside) else None
    if external is not None:
        layers.append(config.load_file(external))
    return layers


def _hosted_port() -> dict:
    """Behind IIS: HttpPlatformHandler or the ASP.NET Core Module (out of
    process) starts the app with the port to listen on, on 127.0.0.1."""
    for var in ("HTTP_PLATFORM_PORT", "ASPNETCORE_PORT"):
        value = os.environ.get(var, "")
        if value:
            if not value.isdigit() or not 0 < int(value) <= 65535:
                raise GaleError("CONFIG", f"{var}={value!r} is not a port number")
            return {"host": "127.0.0.1", "port": int(value)}
    return {}


def _configure(args, debug: bool):
    """Extracts resources, resolves the config, sets up logging, data dir and environment."""
    from gale import _native, logs, resources

    logs.setup("debug" if debug else getattr(args, "log_level", None) or "info")
    res = resources.activate()
    layers = _layers(args, res)
    hosted = _hosted_port()
    if hosted:
        layers.append(config.make_layer(hosted, "IIS (HTTP_PLATFORM_PORT/ASPNETCORE_PORT)", None))
    layers.append(config.make_layer(_cli_values(args), "command line", os.getcwd()))
    cfg = config.resolve(layers, res.name)
    if _native.service_name is not None or hosted:
        cfg.open_browser = False
    elif cfg.open_browser == "auto":
        cfg.open_browser = _native.console == "owned"
    logs.setup("debug" if debug else cfg.log_level, cfg.log_file)
    config.prepare_data_dir(cfg.data_dir)
    os.environ.update(GALE_APP_NAME=cfg.name, GALE_DATA_DIR=cfg.data_dir,
                      GALE_HOST=cfg.host, GALE_PORT=str(cfg.port))
    return cfg


def _load(cfg):
    """(kind, object, module origin) for the configured entry point."""
    from gale import appload

    kind, value = cfg.entry
    if kind == "app":
        obj, module = appload.resolve(value)
        return kind, obj, appload.origin(module)
    if kind == "main":
        fn, module = appload.main_function(value)
        return kind, fn, appload.origin(module)
    name, spec = appload.script_spec(value)
    return kind, name, spec.origin


def cmd_serve(args, debug: bool) -> int:
    return _serve(_configure(args, debug), debug)


def _serve(cfg, debug: bool) -> int:
    from gale import eventloop, server

    if cfg.workers > 1:
        from gale import workers

        return workers.supervise(cfg, debug)
    os.environ.update(GALE_WORKER="1", GALE_WORKERS="1")
    kind, obj, _ = _load(cfg)
    eventloop.install()
    sys.argv[1:] = []  # the app sees no Gale arguments
    if kind == "app":
        return server.serve_app(cfg, obj, cfg.app)
    if kind == "main":
        return server.run_main(cfg, obj, cfg.main)
    return server.run_script(cfg, obj, cfg.script)


def cmd_check(args, debug: bool) -> int:
    from gale import appload

    cfg = _configure(args, debug)
    kind, obj, where = _load(cfg)
    if kind == "app":
        import asyncio

        asyncio.run(appload.make_application(obj, cfg.app))
    for line in cfg.describe():
        print(line)
    print(f"origin = {config._toml_value(where)}")
    return 0


def cmd_pack(args, debug: bool) -> int:
    from gale import _native
    from gale.pack import build as pack

    target = args.target or _native.target
    info = pack.pack_app(args.appdir, args.out, name=args.name, target=target,
                         exe=_native.executable, running_target=_native.target,
                         offset=_native.payload_offset, size=_native.payload_size,
                         template=args.host_template, sbom_out=args.sbom,
                         identity_flags={
                             "version": args.app_version, "display_name": args.display_name,
                             "publisher": args.publisher, "description": args.description,
                             "copyright": args.copyright, "icon": args.icon, "url": args.url},
                         make_msi=args.msi,
                         deps={"requirements": args.requirements, "no_deps": args.no_deps,
                               "wheels": args.wheels, "index_url": args.index_url,
                               "write_lock": args.write_lock,
                               "msvc_runtime": args.msvc_runtime})
    print(f"wrote {info['out']} ({info['name']} for {target}, {info['size']} bytes)")
    if args.sbom:
        print(f"wrote {info['sbom']} (its SBOM)")
    if args.msi:
        print(f"wrote {info['msi']} (UpgradeCode {info['upgrade_code']}: pin it as "
              f"[msi] upgrade_code in gale.toml; ProductCode {info['product_code']})")
    return 0


def cmd_sbom(args, debug: bool) -> int:
    from gale.pack import sbom

    sys.stdout.write(sbom.dumps(sbom.running_document()))
    return 0


def cmd_service(args, debug: bool) -> int:
    from gale import resources, service

    if args.service_command == "run":
        return cmd_service_run(args, debug)
    service._require_windows()
    res = resources.activate()
    if args.service_command == "install":
        cfg = config.resolve(_layers(args, res), res.name)
        return service.install(cfg, args)
    if args.service_command == "configure":
        cfg = config.resolve(_layers(cliargs.Namespace(config=None), res), res.name)
        return service.configure(cfg, args)
    if args.service_command == "wait-stopped":
        return service.wait_stopped(args.timeout)
    layers = _layers(cliargs.Namespace(config=None), res)
    svc = config.resolve(layers, res.name).service if layers else {}
    name = args.name or svc.get("name") or res.name
    if args.service_command == "uninstall":
        return service.uninstall(name, args.timeout)
    if args.service_command == "start":
        return service.start(name, not args.no_wait, args.timeout)
    if args.service_command == "stop":
        return service.stop(name, not args.no_wait, args.timeout)
    return service.status(name)


def cmd_service_run(args, debug: bool) -> int:
    """In a process the service manager started (launcher/win/service_run_win.c):
    log to %ProgramData%\\<name>\\logs, keep data there, serve, and let the
    launcher report RUNNING once listening (server.py)."""
    from gale import _native, logs, paths

    if _native.service_name is None:
        raise GaleError("USAGE", "`service run` is what the Windows service manager starts; "
                                 "use `gale service start`, or `gale serve`")
    root = paths.service_root(args.name)
    paths.use_service_root(root)
    log = logs.start_service_log(os.path.join(root, "logs", f"{args.name}.log"),
                                 config.DEFAULTS["log.max_bytes"], config.DEFAULTS["log.backups"])
    logs.setup("debug" if debug else "info")
    import logging

    logging.getLogger("gale").info("service %s starting (pid %d, %s)", args.name, os.getpid(),
                                   _native.executable)
    cfg = _configure(args, debug)
    log.configure(cfg.log_max_bytes, cfg.log_backups)
    return _serve(cfg, debug)


def _dispatch(argv: list, debug: bool) -> int:
    while argv[:1] == ["--debug"]:  # `gale --debug COMMAND`: main() has read it
        argv = argv[1:]
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "-V")
                    and "--version" not in argv):
        argv = ["serve"] + argv
    elif not argv[0].startswith("-") and argv[0] not in cliargs.COMMANDS + ("worker",):
        raise GaleError("USAGE", f"unknown command {argv[0]!r}; the commands are "
                                 f"{', '.join(cliargs.COMMANDS + ('python',))}, and "
                                 f"--version and --help (see gale --help)")
    if argv == ["worker"]:  # what a supervisor starts (workers.py)
        from gale import workers

        return workers.worker_main(debug)
    args = cliargs.parse(argv)
    if not (args.command == "serve" or getattr(args, "service_command", None) == "run"):
        import gc

        gc.enable()  # off while starting (gale/__init__.py); only a server waits longer
    if args.version:
        print("\n".join(_versions()))
        return 0
    return {"serve": cmd_serve, "check": cmd_check, "pack": cmd_pack,
            "sbom": cmd_sbom, "service": cmd_service}[args.command](args, debug)


def _report(message: str, exc: BaseException, debug: bool, code: int) -> None:
    from gale import _native

    if "gale.workers" in sys.modules:
        sys.modules["gale.workers"].report_error(message, code)
    if debug:
        traceback.print_exception(exc)
    if sys.stdout is not None:
        sys.stdout.flush()
    if sys.stderr is not None:
        print(f"gale: error: {message}", file=sys.stderr, flush=True)
    _native.service_event("error", f"{_native.service_name} failed: {message}")


class _Forgiving:
    """sys.stdout or sys.stderr that gives up, silently, once the OS refuses
    a write. A Windows Installer custom action under Wine 10 gets standard
    handles that fail on every write; left alone, the first print would
    end the command with a traceback nobody sees and CPython's exit code
    120, and the install would roll back."""

    def __init__(self, stream):
        self._stream = stream
        self._broken = False

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def write(self, text):
        if not self._broken:
            try:
                return self._stream.write(text)
            except (OSError, ValueError):
                self._broken = True
        return len(text)

    def flush(self):
        if not self._broken:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._broken = True


def main(argv=None) -> int:
    """Runs one command; returns the process exit code."""
    if sys.platform == "win32":
        for name in ("stdout", "stderr"):
            if getattr(sys, name) is not None:
                setattr(sys, name, _Forgiving(getattr(sys, name)))
    return _main(argv)


def _main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("GALE_DEBUG", "") not in ("", "0")
    try:
        return _dispatch(argv, debug)
    except KeyboardInterrupt:
        return 0  # interrupted while starting: nothing to drain
    except Exception as exc:
        from gale import _native

        damaged = libimport.damage_in(exc)
        if damaged is not None:  # met anywhere, an app's import included
            code = _native.exit_code("PAYLOAD")
            _report(str(damaged), exc, debug, code)
        elif isinstance(exc, GaleError):
            code = exc.exit_code
            _report(exc.message, exc, debug, code)
        else:
            code = _native.exit_code("ERROR")
            hint = "" if debug else " (run with --debug for the traceback)"
            _report(f"unexpected {type(exc).__name__}: {exc}{hint}", exc, debug, code)
        return code
