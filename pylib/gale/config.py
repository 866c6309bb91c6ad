# SPDX-License-Identifier: MIT
"""gale.toml: the keys, their checks, and how the layers combine.

Layers, highest first:
  1. command-line flags;
  2. ``--config FILE``, or else a ``gale.toml`` next to the executable;
  3. the gale.toml packed with the app;
  4. defaults.

A layer that sets one of app/main/script replaces all three from lower layers,
and one that sets tls.cert or tls.key replaces the whole [tls] table, so a
certificate is never paired with another layer's key.

Relative paths in a config file are resolved against that file's folder. The
packed gale.toml lives in the read-only resource cache, so there ``tls`` paths
resolve against the app's extracted folder, ``data_dir`` under the per-user
data root and ``log.file`` under the data dir. Command-line paths are
relative to the current directory.

This module needs no `_gale`: the packer (gale.pack) uses it to check a gale.toml.
"""

import os
import re

from gale import paths
from gale.errors import GaleError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
TARGET_RE = re.compile(rf"^{_DOTTED}:{_DOTTED}$")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
ENTRY_KEYS = ("app", "main", "script")
TLS_KEYS = ("tls.cert", "tls.key")
PATH_KEYS = ("tls.cert", "tls.key", "data_dir", "log.file", "icon")
IDENTITY_KEYS = ("version", "display_name", "publisher", "description", "copyright", "icon",
                 "url")
VERSION_RE = re.compile(r"^(0|[1-9][0-9]{0,4})(\.(0|[1-9][0-9]{0,4})){2,3}$")
# What a file or folder name cannot hold on Windows (publisher and display
# name become folder names in an MSI install).
_FILE_NAME_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                   *(f"LPT{i}" for i in range(1, 10))}

# Every key gale.toml may hold, flattened ("tls.cert"), with its TOML type.
KEYS = {
    "name": str,
    "app": str,
    "main": str,
    "script": str,
    "host": str,
    "port": int,
    "tls.cert": str,
    "tls.key": str,
    "drain_timeout": (int, float),
    "max_connections": int,
    "workers": (int, str),
    "header_timeout": (int, float),
    "idle_timeout": (int, float),
    "body_timeout": (int, float),
    "max_body_size": int,
    "data_dir": str,
    "log.level": str,
    "log.file": str,
    "log.max_bytes": int,
    "log.backups": int,
    "open_browser": (bool, str),
    # The app's identity (pack writes it into Windows executables; peversion.py).
    "version": str,
    "display_name": str,
    "publisher": str,
    "description": str,
    "copyright": str,
    "icon": str,
    "url": str,
    # [msi]: gale pack --msi (msi.py).
    "msi.upgrade_code": str,
    # [service]: the defaults of `gale service install` (Windows).
    "service.name": str,
    "service.display_name": str,
    "service.description": str,
    "service.start": str,
    "service.account": str,
}
TABLES = ("tls", "log", "service", "msi")
GUID_RE = re.compile(r"^\{?[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}?$")
SERVICE_STARTS = ("auto", "delayed", "manual")
DEFAULTS = {
    "host": "127.0.0.1",
    "port": 8888,
    "drain_timeout": 10.0,
    "log.level": "info",
    "log.max_bytes": 10 * 1024 * 1024,
    "log.backups": 5,
    "open_browser": "auto",
    "workers": 1,
    # What a client may take and send (limits.py); nginx's and uvicorn's
    # defaults are of the same order.
    "header_timeout": 30.0,
    "idle_timeout": 75.0,
    "body_timeout": 60.0,
    "max_body_size": 10 * 1024 * 1024,
}
# The keys that bound a client, each in seconds (more than 0) but the size.
TIMEOUT_KEYS = ("header_timeout", "idle_timeout", "body_timeout")
# The longest timeout (a day): past it, asyncio's timers lose their meaning
# long before a client does.
MAX_TIMEOUT = 86400.0
# The most workers one executable starts.
MAX_WORKERS = 256
# The smallest log.max_bytes: below it a log would rotate every few lines.
MIN_LOG_BYTES = 64 * 1024


class Layer:
    """The settings one source provides, already checked and with absolute paths."""

    __slots__ = ("label", "values", "embedded")

    def __init__(self, label: str, values: dict, embedded: bool = False):
        self.label = label
        self.values = values
        self.embedded = embedded


# Config's attributes and their defaults. (Plain classes, not dataclasses:
# making a dataclass compiles code at import time, and this module is on
# every start's path.)
_CONFIG_FIELDS = {
    "app": None, "main": None, "script": None,
    "host": DEFAULTS["host"], "port": DEFAULTS["port"],
    "tls_cert": None, "tls_key": None,
    "drain_timeout": DEFAULTS["drain_timeout"],
    "max_connections": None,  # None: sized from the platform (eventloop.py)
    "workers": DEFAULTS["workers"],  # a number; "auto" is resolved by resolve()
    "header_timeout": DEFAULTS["header_timeout"], "idle_timeout": DEFAULTS["idle_timeout"],
    "body_timeout": DEFAULTS["body_timeout"], "max_body_size": DEFAULTS["max_body_size"],
    "data_dir": "",
    "log_level": DEFAULTS["log.level"], "log_file": None,
    "log_max_bytes": DEFAULTS["log.max_bytes"], "log_backups": DEFAULTS["log.backups"],
    "open_browser": DEFAULTS["open_browser"],  # True, False or "auto"
    "service": None,  # [service], keys without "service." (a new dict each)
    "sources": None,  # a new list each
}


class Config:
    """The resolved configuration a command runs with."""

    __slots__ = ("name",) + tuple(_CONFIG_FIELDS)

    def __init__(self, name: str, **values):
        unknown = set(values) - set(_CONFIG_FIELDS)
        if unknown:
            raise TypeError(f"Config() got unknown settings {sorted(unknown)}")
        self.name = name
        for key, default in _CONFIG_FIELDS.items():
            setattr(self, key, values.get(key, default))
        if self.service is None:
            self.service = {}
        if self.sources is None:
            self.sources = []

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"Config({fields})"

    @property
    def entry(self) -> tuple:
        """("app" | "main" | "script", value) for the configured entry point."""
        for key in ENTRY_KEYS:
            if getattr(self, key):
                return key, getattr(self, key)
        raise AssertionError("resolve() guarantees an entry point")

    @property
    def connection_cap(self) -> int:
        """max_connections, or the platform's default (eventloop.py)."""
        if self.max_connections is not None:
            return self.max_connections
        from gale import eventloop

        return eventloop.default_max_connections()

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def describe(self) -> list:
        """TOML-like ``key = value`` lines, as `gale check` prints them."""
        kind, value = self.entry
        rows = [("name", self.name), (kind, value)]
        if kind == "app":
            rows += [("host", self.host), ("port", self.port)]
        if self.tls_cert:
            rows.append(("tls.cert", self.tls_cert))
        if self.tls_key:
            rows.append(("tls.key", self.tls_key))
        if kind == "app":
            rows += [("max_connections", self.connection_cap), ("workers", self.workers)]
            rows += [(key, getattr(self, key)) for key in TIMEOUT_KEYS + ("max_body_size",)]
        rows += [("drain_timeout", self.drain_timeout), ("data_dir", self.data_dir),
                 ("log.level", self.log_level)]
        if self.log_file:
            rows.append(("log.file", self.log_file))
        rows += [("log.max_bytes", self.log_max_bytes), ("log.backups", self.log_backups),
                 ("open_browser", self.open_browser)]
        rows += [(f"service.{key}", value) for key, value in sorted(self.service.items())]
        rows.append(("sources", self.sources))
        lines = [f"{key} = {_toml_value(val)}" for key, val in rows]
        if kind != "app":
            lines.insert(2, "# host and port are chosen by the app itself; "
                            "Gale only exports GALE_HOST and GALE_PORT")
        return lines


def _toml_value(value) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _flatten(doc: dict, label: str) -> dict:
    flat = {}
    for key, value in doc.items():
        if key in TABLES:
            if not isinstance(value, dict):
                raise GaleError("CONFIG", f"{label}: '{key}' must be a table ([{key}])")
            for sub, subvalue in value.items():
                flat[f"{key}.{sub}"] = subvalue
        else:
            flat[key] = value
    return flat


def _check_value(key: str, value, label: str):
    if key not in KEYS:
        raise GaleError("CONFIG", f"{label}: unknown key '{key}'")
    want = KEYS[key]
    if isinstance(value, bool) and want not in (bool, (bool, str)):
        ok = False
    else:
        ok = isinstance(value, want)
    if not ok:
        names = {str: "a string", int: "an integer", bool: "true or false",
                 (int, float): "a number", (bool, str): 'true, false or "auto"',
                 (int, str): 'a number or "auto"'}
        raise GaleError("CONFIG", f"{label}: '{key}' must be {names[want]}")
    if key == "name" and not NAME_RE.match(value):
        raise GaleError("CONFIG", f"{label}: name {value!r} must be 1-64 letters, digits, '.', '_' or '-'")
    if key in ("app", "main") and not TARGET_RE.match(value):
        raise GaleError("CONFIG", f"{label}: '{key}' must look like \"module:attribute\", not {value!r}")
    if key == "script":
        script_module(value, label)
    if key == "host" and not value:
        raise GaleError("CONFIG", f"{label}: 'host' must not be empty")
    if key == "port" and not 0 <= value <= 65535:
        raise GaleError("CONFIG", f"{label}: port {value} is outside 0-65535")
    if key == "max_connections" and value < 1:
        raise GaleError("CONFIG", f"{label}: max_connections must be 1 or more")
    if key == "workers":
        workers_count(value, label)
    if key in TIMEOUT_KEYS and not (0 < value <= MAX_TIMEOUT):
        raise GaleError("CONFIG", f"{label}: {key} must be more than 0 and at most "
                                  f"{MAX_TIMEOUT:g} seconds, not {value!r}")
    if key == "max_body_size" and value < 0:
        raise GaleError("CONFIG", f"{label}: max_body_size must be 0 or more bytes")
    if key == "drain_timeout" and not value >= 0:
        raise GaleError("CONFIG", f"{label}: drain_timeout must be 0 or more seconds")
    if key == "log.level" and value.lower() not in LOG_LEVELS:
        raise GaleError("CONFIG", f"{label}: log.level must be one of {', '.join(LOG_LEVELS)}")
    if key == "open_browser" and isinstance(value, str) and value != "auto":
        raise GaleError("CONFIG", f'{label}: open_browser must be true, false or "auto"')
    if key == "log.max_bytes" and value < MIN_LOG_BYTES:
        raise GaleError("CONFIG", f"{label}: log.max_bytes must be at least {MIN_LOG_BYTES}")
    if key == "log.backups" and not 0 <= value <= 100:
        raise GaleError("CONFIG", f"{label}: log.backups must be 0-100")
    if key in IDENTITY_KEYS:
        _check_identity(key, value, label)
    if key == "service.name" and not NAME_RE.match(value):
        raise GaleError("CONFIG", f"{label}: service.name {value!r} must be 1-64 letters, "
                                  "digits, '.', '_' or '-'")
    if key == "msi.upgrade_code" and not GUID_RE.match(value):
        raise GaleError("CONFIG", f"{label}: msi.upgrade_code {value!r} must be a GUID "
                                  "such as {{12345678-9ABC-DEF0-1234-56789ABCDEF0}}")
    if key == "service.start" and value not in SERVICE_STARTS:
        raise GaleError("CONFIG", f"{label}: service.start must be one of "
                                  f"{', '.join(SERVICE_STARTS)}")
    if key == "service.account":
        service_account(value, "x", label)
    if key in ("service.display_name", "service.description"):
        _check_service_text(key, value, label)
    if key in PATH_KEYS and not value:
        raise GaleError("CONFIG", f"{label}: '{key}' must not be empty")
    if key in PATH_KEYS + ("host",) and "\0" in value:
        raise GaleError("CONFIG", f"{label}: '{key}' must not hold a NUL character")
    return value.lower() if key == "log.level" else value


def check_identity(key: str, value, label: str, kind: str = "CONFIG") -> None:
    """The rules for the app's identity keys (and pack's flags for them);
    `kind` is the exit code's name for a bad value."""
    try:
        _check_identity(key, value, label)
    except GaleError as exc:
        raise GaleError(kind, exc.message) from None


def _check_identity(key: str, value, label: str) -> None:
    if not isinstance(value, str):
        raise GaleError("CONFIG", f"{label}: '{key}' must be a string")
    if key == "version":
        if not VERSION_RE.match(value) or any(int(p) > 65535 for p in value.split(".")):
            raise GaleError("CONFIG", f"{label}: version {value!r} must be a.b.c or a.b.c.d, "
                                      "each part a number from 0 to 65535")
    elif key in ("display_name", "publisher"):
        if (not value.strip() or len(value) > 128 or _FILE_NAME_BAD.search(value)
                or value != value.strip() or value.endswith(".")
                or value.split(".")[0].upper() in _RESERVED_NAMES):
            raise GaleError("CONFIG", f"{label}: {key} {value!r} must be 1-128 characters "
                                      "that can name a Windows folder (none of <>:\"/\\|?*, "
                                      "no leading or trailing space or trailing dot)")
    elif key == "url":
        if not re.match(r"^https?://[^\s]+$", value):
            raise GaleError("CONFIG", f"{label}: url {value!r} must be an http:// or https:// URL")
    elif key == "icon":
        if not value.lower().endswith((".ico", ".png")):
            raise GaleError("CONFIG", f"{label}: icon {value!r} must be a .ico or .png file")
    elif not value.strip() or len(value) > 1024 or any(ord(c) < 32 for c in value):
        raise GaleError("CONFIG", f"{label}: {key} must be 1-1024 characters on one line")


def _check_service_text(key: str, value: str, label: str) -> None:
    limit = 256 if key == "service.display_name" else 2048
    if not value.strip() or len(value) > limit or any(ord(c) < 32 for c in value):
        raise GaleError("CONFIG", f"{label}: {key} must be 1-{limit} characters on one line")


# How --account and service.account may name an account; each maps to what
# CreateServiceW is given. None of these has a password to store.
ACCOUNT_ALIASES = {
    "localservice": "NT AUTHORITY\\LocalService",
    "nt authority\\localservice": "NT AUTHORITY\\LocalService",
    "networkservice": "NT AUTHORITY\\NetworkService",
    "nt authority\\networkservice": "NT AUTHORITY\\NetworkService",
    "localsystem": "LocalSystem",
}
_GMSA_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\\[A-Za-z0-9][A-Za-z0-9._-]{0,19}\$$")
_VIRTUAL_RE = re.compile(r"^NT SERVICE\\([A-Za-z0-9][A-Za-z0-9._-]{0,63})$", re.I)


def service_account(value: str | None, name: str, label: str = "--account") -> str:
    """The account CreateServiceW gets for `value`: by default the service's
    own virtual account, NT SERVICE\\<name>. Accounts with a password are
    refused: Gale never stores one."""
    if not value:
        return f"NT SERVICE\\{name}"
    alias = ACCOUNT_ALIASES.get(value.lower())
    if alias:
        return alias
    if _VIRTUAL_RE.match(value) or _GMSA_RE.match(value):
        return value
    raise GaleError("CONFIG" if label != "--account" else "USAGE",
                    f"{label}: {value!r} is not an account Gale can install a service as: use "
                    "NT SERVICE\\<name> (the default), LocalService, NetworkService, "
                    "LocalSystem or a gMSA (DOMAIN\\name$); accounts with passwords are not supported")


def workers_count(value, label: str = "workers") -> int:
    """How many worker processes `value` (a number, or "auto" for every
    logical CPU this process may use) means; CONFIG error if none."""
    if value == "auto":
        return max(1, min(MAX_WORKERS, os.process_cpu_count() or 1))
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKERS:
        raise GaleError("CONFIG", f'{label}: workers must be a number from 1 to {MAX_WORKERS} '
                                  f'or "auto", not {value!r}')
    return value


def workers_option(text: str):
    """--workers N|auto as the command line spells it (argparse's type)."""
    if text == "auto":
        return text
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


workers_option.__name__ = "workers"  # argparse: "invalid workers value: 'x'"


def script_module(path: str, label: str = "script") -> str:
    """The module name for a ``script = "pkg/server.py"`` path inside the app."""
    parts = path.replace("\\", "/").split("/")
    ok = path.endswith(".py") and not os.path.isabs(path) and all(
        re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in parts[:-1] + [parts[-1][:-3]])
    if not ok:
        raise GaleError("CONFIG", f"{label}: script must be a relative path to a .py file "
                                  f"inside the app, such as \"server.py\", not {path!r}")
    return ".".join(parts)[:-3]


def make_layer(values: dict, label: str, base_dir: str | None, embedded: bool = False) -> Layer:
    """Checks `values` (flat keys) and resolves relative paths against `base_dir`."""
    checked = {}
    for key, value in values.items():
        checked[key] = _check_value(key, value, label)
    present = [k for k in ENTRY_KEYS if k in checked]
    if len(present) > 1:
        raise GaleError("CONFIG", f"{label}: set only one of app, main or script (found {', '.join(present)})")
    for key in PATH_KEYS:
        if key not in checked or os.path.isabs(checked[key]):
            continue
        if embedded and key == "data_dir":
            checked[key] = os.path.join(paths.data_root(), checked[key])
        elif embedded and key == "log.file":
            continue  # resolved against the final data_dir in resolve()
        elif base_dir is not None:
            checked[key] = os.path.normpath(os.path.join(base_dir, checked[key]))
    return Layer(label, checked, embedded)


def parse_text(text: str, label: str, base_dir: str | None, embedded: bool = False) -> Layer:
    """A layer from the text of a gale.toml."""
    import tomllib  # not on the path of an executable whose gale.toml pack parsed

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GaleError("CONFIG", f"{label}: {exc}") from None
    except RecursionError:
        raise GaleError("CONFIG", f"{label}: arrays or tables nest too deep") from None
    return parse_doc(doc, label, base_dir, embedded)


def parse_doc(doc: dict, label: str, base_dir: str | None, embedded: bool = False) -> Layer:
    """A layer from a parsed gale.toml (what tomllib.loads returns)."""
    return make_layer(_flatten(doc, label), label, base_dir, embedded)


def load_file(path: str) -> Layer:
    """A layer from a gale.toml on disk."""
    path = os.path.abspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise GaleError("CONFIG", f"cannot read config {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise GaleError("CONFIG", f"{path}: not UTF-8 text") from None
    return parse_text(text, path, os.path.dirname(path))


def resolve(layers: list, default_name: str) -> Config:
    """Combines `layers` (lowest first) over the defaults into one Config."""
    merged = dict(DEFAULTS)
    sources = []
    embedded_log_file = False
    for layer in layers:
        if not layer.values:
            continue
        values = layer.values
        if any(k in values for k in ENTRY_KEYS):
            for key in ENTRY_KEYS:
                merged.pop(key, None)
        if any(k in values for k in TLS_KEYS):
            for key in TLS_KEYS:
                merged.pop(key, None)
        if "log.file" in values:
            embedded_log_file = layer.embedded and not os.path.isabs(values["log.file"])
        merged.update(values)
        sources.append(layer.label)
    if not any(k in merged for k in ENTRY_KEYS):
        raise GaleError("CONFIG", "no app configured: set app, main or script in gale.toml, "
                                  "or pass --app module:attribute")
    if "tls.key" in merged and "tls.cert" not in merged:
        raise GaleError("CONFIG", "tls.key is set but tls.cert is not")
    name = merged.get("name", default_name)
    if not NAME_RE.match(name):
        raise GaleError("CONFIG", f"app name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    workers = workers_count(merged["workers"])
    if workers > 1 and not merged.get("app"):
        raise GaleError("CONFIG", f"workers = {workers} needs app = \"module:attribute\": "
                                  "a main or script app binds its own sockets, which Gale "
                                  "cannot share with workers")
    data_dir = merged.get("data_dir") or paths.default_data_dir(name)
    service = {key[len("service."):]: value for key, value in merged.items()
               if key.startswith("service.")}
    log_file = merged.get("log.file")
    if log_file and embedded_log_file:
        log_file = os.path.join(data_dir, log_file)
    return Config(
        name=name,
        app=merged.get("app"),
        main=merged.get("main"),
        script=merged.get("script"),
        host=merged["host"],
        port=merged["port"],
        tls_cert=merged.get("tls.cert"),
        tls_key=merged.get("tls.key"),
        drain_timeout=float(merged["drain_timeout"]),
        max_connections=merged.get("max_connections"),
        workers=workers,
        header_timeout=float(merged["header_timeout"]),
        idle_timeout=float(merged["idle_timeout"]),
        body_timeout=float(merged["body_timeout"]),
        max_body_size=merged["max_body_size"],
        data_dir=os.path.abspath(data_dir),
        log_level=merged["log.level"],
        log_file=log_file,
        log_max_bytes=merged["log.max_bytes"],
        log_backups=merged["log.backups"],
        open_browser=merged["open_browser"],
        service=service,
        sources=sources or ["defaults"],
    )


def prepare_data_dir(path: str) -> None:
    """Creates the data folder if needed and proves it writable (exit DATA if not)."""
    probe = os.path.join(path, f".gale-probe-{os.getpid()}")
    try:
        os.makedirs(path, exist_ok=True)
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as exc:
        raise GaleError("DATA", f"data dir {path} is not usable: {exc.strerror or exc}") from None
