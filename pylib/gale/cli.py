# SPDX-License-Identifier: MIT
"""The command line: parses arguments, runs a command, turns failures into exit codes.

    gale [serve] [options]     serve the app (the default; double-click lands here)
    gale check [options]       load config and app, print the resolved config
    gale pack APPDIR -o OUT    build an executable for APPDIR (--target for another platform)
    gale sbom                  print what this executable contains (CycloneDX 1.6 JSON)
    gale --version

`gale python` and `gale service` are handled by the launcher before Python
runs this. Every failure prints exactly one line, ``gale: error: <cause>``,
and exits with the code named in the launcher's header; a traceback follows
only with --debug or GALE_DEBUG=1, which also turn on debug logging.
"""

import argparse
import asyncio
import os
import sys
import traceback

from gale import config
from gale.errors import GaleError

COMMANDS = ("serve", "check", "pack", "sbom")
EPILOG = ("also: 'gale python ...' runs the embedded interpreter; 'gale service ...' "
          "manages the Windows service")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise GaleError("USAGE", f"{message} (see gale --help)")


def _add_app_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="a gale.toml to use (default: one "
                   "next to the executable, if present)")
    p.add_argument("--app", metavar="MODULE:ATTR", help="the tornado Application (or a "
                   "callable returning one) to serve")
    p.add_argument("--host", help="address to listen on (app = only; default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on, 0 for any (app = only; default 8888)")
    p.add_argument("--cert", metavar="FILE", help="TLS certificate chain (PEM)")
    p.add_argument("--key", metavar="FILE", help="TLS private key (PEM)")
    p.add_argument("--data-dir", metavar="DIR", help="the app's data folder (GALE_DATA_DIR)")
    p.add_argument("--drain-timeout", type=float, metavar="SECONDS",
                   help="how long a stop waits for requests in flight (default 10)")
    p.add_argument("--log-level", choices=config.LOG_LEVELS)
    p.add_argument("--open-browser", action="store_true", default=None,
                   help="open the app's URL in a browser once serving")


def _parser() -> argparse.ArgumentParser:
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="debug logging and tracebacks for errors (or set GALE_DEBUG=1)")
    parser = _Parser(prog="gale", parents=[debug], epilog=EPILOG,
                     description="Serve a Tornado app packed into this executable.")
    parser.add_argument("--version", action="store_true", help="print versions and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", parents=[debug], help="serve the app (default)")
    _add_app_options(serve)
    check = sub.add_parser("check", parents=[debug],
                           help="load config and app, print the resolved configuration")
    _add_app_options(check)
    pack = sub.add_parser("pack", parents=[debug], help="build an executable for an app folder")
    pack.add_argument("appdir", metavar="APPDIR")
    pack.add_argument("-o", "--out", required=True, metavar="OUT",
                      help="the executable to write; for a Windows target .exe is added "
                           "unless OUT ends in .exe")
    pack.add_argument("--name", help="app name (default: gale.toml's name, else the folder's)")
    pack.add_argument("--target", help="linux-x86_64, win-x64 or win-arm64 (default: this "
                      "executable's); another target's host template is gale-host[.exe] in "
                      "the folder beside this one's, as in dist/<target>/")
    pack.add_argument("--host-template", metavar="PATH",
                      help="the host to build on instead (a gale-host[.exe] built for the target)")
    pack.add_argument("--sbom", metavar="FILE",
                      help="also write the new executable's SBOM (what it prints for "
                           "'gale sbom') to FILE")
    sub.add_parser("sbom", parents=[debug],
                   help="print this executable's software bill of materials (CycloneDX 1.6 JSON)")
    return parser


def _versions() -> list:
    from gale import _native, sbom

    return sbom.version_lines(sbom.running_document()) + [f"Target {_native.target}"]


def _cli_values(args) -> dict:
    values = {}
    for key, attr in (("app", "app"), ("host", "host"), ("port", "port"),
                      ("tls.cert", "cert"), ("tls.key", "key"), ("data_dir", "data_dir"),
                      ("drain_timeout", "drain_timeout"), ("log.level", "log_level"),
                      ("open_browser", "open_browser")):
        value = getattr(args, attr)
        if value is not None:
            values[key] = value
    if "tls.key" in values and "tls.cert" not in values:
        raise GaleError("USAGE", "--key needs --cert (see gale --help)")
    return values


def _configure(args, debug: bool):
    """Extracts resources, resolves the config, sets up logging, data dir and environment."""
    from gale import _native, logs, resources

    logs.setup("debug" if debug else args.log_level or "info")
    res = resources.activate()
    layers = []
    if res.config_text:
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
    layers.append(config.make_layer(_cli_values(args), "command line", os.getcwd()))
    cfg = config.resolve(layers, res.name)
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
    from gale import server

    cfg = _configure(args, debug)
    kind, obj, _ = _load(cfg)
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
        asyncio.run(appload.make_application(obj, cfg.app))
    for line in cfg.describe():
        print(line)
    print(f"origin = {config._toml_value(where)}")
    return 0


def cmd_pack(args, debug: bool) -> int:
    from gale import _native, pack

    target = args.target or _native.target
    info = pack.pack_app(args.appdir, args.out, name=args.name, target=target,
                         exe=_native.executable, running_target=_native.target,
                         offset=_native.payload_offset, size=_native.payload_size,
                         template=args.host_template, sbom_out=args.sbom)
    print(f"wrote {info['out']} ({info['name']} for {target}, {info['size']} bytes)")
    if args.sbom:
        print(f"wrote {info['sbom']} (its SBOM)")
    return 0


def cmd_sbom(args, debug: bool) -> int:
    from gale import sbom

    sys.stdout.write(sbom.dumps(sbom.running_document()))
    return 0


def _dispatch(argv: list, debug: bool) -> int:
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")
                    and "--version" not in argv):
        argv = ["serve"] + argv
    args = _parser().parse_args(argv)
    if args.version:
        print("\n".join(_versions()))
        return 0
    return {"serve": cmd_serve, "check": cmd_check, "pack": cmd_pack,
            "sbom": cmd_sbom}[args.command](args, debug)


def _report(message: str, exc: BaseException, debug: bool) -> None:
    if debug:
        traceback.print_exception(exc)
    sys.stdout.flush()
    print(f"gale: error: {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    """Runs one command; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("GALE_DEBUG", "") not in ("", "0")
    try:
        return _dispatch(argv, debug)
    except GaleError as exc:
        _report(exc.message, exc, debug)
        return exc.exit_code
    except KeyboardInterrupt:
        return 0  # interrupted while starting: nothing to drain
    except Exception as exc:
        hint = "" if debug else " (run with --debug for the traceback)"
        _report(f"unexpected {type(exc).__name__}: {exc}{hint}", exc, debug)
        from gale import _native

        return _native.exit_code("ERROR")
