# SPDX-License-Identifier: MIT
"""Gale's command line, parsed: the argparse definition of every command,
and a quick path for the two that start a server.

`gale serve` (and a double-click, and `gale --port N`) and `gale service
run` are what every start goes through, and building the whole argparse
tree costs more than the rest of Gale's own start-up. quick() parses those
two when every argument is one of their options, spelled out, with a value
that does not start with "-"; it returns what argparse would, or None, and
then argparse parses the line as usual (and gives the usual errors and help).
test_importer's test_quick_arguments_match_argparse holds the two to the
same answers.
"""

from types import SimpleNamespace as Namespace  # noqa: F401 (what cli.py builds by hand)

from gale import config
from gale.errors import GaleError

COMMANDS = ("serve", "check", "pack", "sbom", "service")
EPILOG = "also: 'gale python ...' runs the embedded interpreter"


def _add_app_options(p) -> None:
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
    p.add_argument("--max-connections", type=int, metavar="N",
                   help="open client connections to hold; past it new ones are closed at "
                        "once (app = only; default: sized from the platform)")
    p.add_argument("--workers", type=config.workers_option, metavar="N",
                   help='processes that serve the app, a number or "auto" (one per '
                        'logical CPU); default 1 (app = only)')
    limits = p.add_argument_group("what a client may take and send (app = only)")
    limits.add_argument("--header-timeout", type=float, metavar="SECONDS",
                        help="a request's headers must arrive within this, from its first "
                             "byte (default 30)")
    limits.add_argument("--idle-timeout", type=float, metavar="SECONDS",
                        help="close a keep-alive connection idle this long (default 75)")
    limits.add_argument("--body-timeout", type=float, metavar="SECONDS",
                        help="close a connection whose request body stalls this long "
                             "between reads (default 60)")
    limits.add_argument("--max-body-size", type=int, metavar="BYTES",
                        help="refuse larger request bodies with 413 (default 10485760, "
                             "10 MiB)")
    p.add_argument("--log-level", choices=config.LOG_LEVELS, help="what to log (default info)")
    p.add_argument("--open-browser", action="store_true", default=None,
                   help="open the app's URL in a browser once serving (default: only "
                        "when started by a double-click)")
    p.add_argument("--no-open-browser", dest="open_browser", action="store_false",
                   help="never open a browser")


def _parser():
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message):
            raise GaleError("USAGE", f"{message} (see gale --help)")

    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="debug logging and tracebacks for errors (or set GALE_DEBUG=1)")
    parser = _Parser(prog="gale", parents=[debug], epilog=EPILOG,
                     description="Serve a Tornado app packed into this executable.")
    parser.add_argument("-V", "--version", action="store_true", help="print versions and exit")
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
    pack.add_argument("--msi", action="store_true",
                      help="also write <Name>-<version>-<arch>.msi next to OUT (Windows "
                           "targets; needs wixl and msibuild)")
    deps = pack.add_argument_group("the app's dependencies (default: APPDIR's pylock.toml, "
                                   "else requirements.txt, else pyproject.toml's "
                                   "[project] dependencies)")
    deps.add_argument("--requirements", metavar="FILE",
                      help="install what FILE names (a pylock.toml or a requirements file)")
    deps.add_argument("--no-deps", action="store_true",
                      help="pack APPDIR alone, whatever it declares")
    deps.add_argument("--wheels", metavar="DIR",
                      help="install a lock from the wheels in DIR only, with no network")
    deps.add_argument("--index-url", metavar="URL",
                      help="the package index (simple API; default: PIP_INDEX_URL or "
                           "UV_INDEX_URL, else uv's)")
    deps.add_argument("--write-lock", metavar="FILE",
                      help="write the resolved pins to FILE as a pylock.toml")
    deps.add_argument("--msvc-runtime", metavar="PATH",
                      help="carry the Visual C++ runtime DLLs from PATH (the msvc-runtime "
                           "wheel, or a folder holding them); Windows targets")
    ident = pack.add_argument_group("the app's identity (Windows targets; each overrides "
                                    "the gale.toml key of the same name)")
    ident.add_argument("--version", dest="app_version", metavar="A.B.C[.D]",
                       help="the app's version (default 0.0.0)")
    ident.add_argument("--display-name", help="the name people see (default: the name)")
    ident.add_argument("--publisher", help="who makes it (CompanyName)")
    ident.add_argument("--description", help="one line about it")
    ident.add_argument("--copyright", help="LegalCopyright")
    ident.add_argument("--icon", metavar="FILE", help="a .ico, or a square PNG made into one")
    ident.add_argument("--url", help="the app's web page")
    sub.add_parser("sbom", parents=[debug],
                   help="print this executable's software bill of materials (CycloneDX 1.6 JSON)")
    _add_service_parser(sub, debug)
    return parser


def _add_service_parser(sub, debug) -> None:
    service = sub.add_parser("service", parents=[debug], help="the Windows service: install, "
                             "uninstall, start, stop, status")
    ssub = service.add_subparsers(dest="service_command", metavar="SERVICE_COMMAND",
                                  required=True)
    name_help = "the service's name (default: [service] name in gale.toml, else the app's)"
    install = ssub.add_parser("install", parents=[debug], help="register this executable "
                              "as a service (needs an elevated prompt)")
    install.add_argument("--name", help=name_help)
    install.add_argument("--display-name", help="what services.msc shows (default: the name)")
    install.add_argument("--description", help="the service's description")
    install.add_argument("--start", choices=config.SERVICE_STARTS,
                         help="when it starts (default: auto)")
    install.add_argument("--account", help="NT SERVICE\\<name> (the default), LocalService, "
                         "NetworkService, LocalSystem or a gMSA (DOMAIN\\name$)")
    install.add_argument("--host", help="address to listen on (written into the service's "
                         "command line)")
    install.add_argument("--port", type=int, help="port to listen on (likewise)")
    install.add_argument("--config", metavar="FILE", help="a gale.toml the service reads "
                         "(likewise)")
    install.add_argument("--workers", type=config.workers_option, metavar="N",
                         help='processes that serve the app, a number or "auto" (likewise)')
    for word, text in (("uninstall", "stop and remove the service (data and logs stay)"),
                       ("start", "start the service and wait until it serves"),
                       ("stop", "stop the service gracefully and wait until it has stopped"),
                       ("status", "print the service's state and configuration")):
        p = ssub.add_parser(word, parents=[debug], help=text)
        p.add_argument("--name", help=name_help)
        if word in ("start", "stop", "uninstall"):
            p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                           help="how long to wait for the service (default 120)")
        if word in ("start", "stop"):
            p.add_argument("--no-wait", action="store_true", help="do not wait")
    # For the MSI's custom actions (installer/gale.wxs): empty values, as an
    # unset MSI property gives them, mean the default.
    configure = ssub.add_parser("configure", parents=[debug], help="install the service "
                                "again with these settings, and start it (for the MSI)")
    configure.add_argument("--name", required=True, help="the service's name")
    for opt, text in (("--port", "port to listen on"), ("--host", "address to listen on"),
                      ("--account", "as install's --account"), ("--start", "auto, delayed or "
                                                                "manual")):
        configure.add_argument(opt, default="", help=f"{text} (empty: the default)")
    wait = ssub.add_parser("wait-stopped", parents=[debug], help="wait until no other process "
                           "runs this executable (for the MSI)")
    wait.add_argument("--name", help="the service's name (accepted for the MSI's command "
                      "line; the wait is for this executable's file)")
    wait.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                      help="how long to wait (default 30)")
    run = ssub.add_parser("run", parents=[debug], help="what the service manager starts "
                          "(not for use from a console)")
    run.add_argument("--name", required=True, help="the service's name")
    run.add_argument("--host", help="address to listen on")
    run.add_argument("--port", type=int, help="port to listen on")
    run.add_argument("--config", metavar="FILE", help="a gale.toml to read")
    run.add_argument("--workers", type=config.workers_option, metavar="N",
                     help="processes that serve the app")


# The options of `serve` and of `service run`: option -> (dest, kind), kind
# being a type, "flag" (store_true), "no-flag" (store_false) or a tuple of
# choices. They must say what _add_app_options and _add_service_parser say.
_SERVE = {
    "--config": ("config", str), "--app": ("app", str), "--host": ("host", str),
    "--port": ("port", int), "--cert": ("cert", str), "--key": ("key", str),
    "--data-dir": ("data_dir", str), "--drain-timeout": ("drain_timeout", float),
    "--max-connections": ("max_connections", int), "--log-level": ("log_level", config.LOG_LEVELS),
    "--workers": ("workers", config.workers_option),
    "--header-timeout": ("header_timeout", float), "--idle-timeout": ("idle_timeout", float),
    "--body-timeout": ("body_timeout", float), "--max-body-size": ("max_body_size", int),
    "--open-browser": ("open_browser", "flag"), "--no-open-browser": ("open_browser", "no-flag"),
    "--debug": ("debug", "flag"),
}
_SERVICE_RUN = {
    "--name": ("name", str), "--host": ("host", str), "--port": ("port", int),
    "--config": ("config", str), "--workers": ("workers", config.workers_option),
    "--debug": ("debug", "flag"),
}


def quick(argv: list):
    """The parsed `serve` or `service run` line `argv`, or None when only
    argparse can tell (anything unusual, including every error)."""
    if argv[:1] == ["serve"]:
        options, rest = _SERVE, argv[1:]
        values = {"command": "serve", "version": False, "open_browser": None}
        values.update((dest, None) for dest, kind in options.values() if dest != "debug"
                      and kind not in ("flag", "no-flag"))
    elif argv[:2] == ["service", "run"]:
        options, rest = _SERVICE_RUN, argv[2:]
        values = {"command": "service", "service_command": "run", "version": False,
                  "name": None, "host": None, "port": None, "config": None, "workers": None}
    else:
        return None
    i = 0
    while i < len(rest):
        opt, eq, value = rest[i].partition("=")
        if opt not in options:
            return None
        dest, kind = options[opt]
        if kind in ("flag", "no-flag"):
            if eq:
                return None
            values[dest] = kind == "flag"
            i += 1
            continue
        if not eq:
            if i + 1 >= len(rest):
                return None
            value = rest[i + 1]
            i += 1
        i += 1
        if value.startswith("-") or (not value and not eq):
            return None
        if isinstance(kind, tuple):
            if value not in kind:
                return None
        else:
            try:
                value = kind(value)
            except ValueError:
                return None
        values[dest] = value
    if values["command"] == "service" and values["name"] is None:
        return None  # required: argparse says so
    return Namespace(**values)


def parse(argv: list):
    """argv parsed: quickly when it can be, else by argparse."""
    return quick(argv) or _parser().parse_args(argv)
