# SPDX-License-Identifier: MIT
"""Fuzz target: gale.toml (pylib/gale/config.py).

The input is a gale.toml file's bytes. It goes the way `--config FILE` and
the packed gale.toml go: UTF-8 text, parsed into a layer (as a file beside
the executable, and as the packed one, whose relative paths resolve
differently), then resolved into a Config and described as `gale check`
prints it. Expected: a Config, or GaleError("CONFIG"). A Config must also
hold what the rest of Gale assumes of it: paths the OS can take (no NUL),
a port, a worker count and numbers in their ranges.
"""

import math
import os

from fuzzcommon import expected, instrumented, require, run

with instrumented("gale", "tomllib"):
    import tomllib  # noqa: F401  (config imports it late; instrumented here)

    from gale import config
    from gale.errors import GaleError

BASE = os.path.join(os.sep, "fuzz", "app")


def check(cfg) -> None:
    require(sum(bool(getattr(cfg, k)) for k in config.ENTRY_KEYS) == 1, "one entry point")
    for name in ("data_dir", "log_file", "tls_cert", "tls_key"):
        value = getattr(cfg, name)
        if value is not None:
            require(isinstance(value, str) and value and "\0" not in value,
                    f"{name} {value!r} is not a usable path")
    require(isinstance(cfg.host, str) and cfg.host and "\0" not in cfg.host, "host")
    require(type(cfg.port) is int and 0 <= cfg.port <= 65535, "port")
    require(type(cfg.workers) is int and 1 <= cfg.workers <= config.MAX_WORKERS, "workers")
    require(isinstance(cfg.drain_timeout, float) and not math.isnan(cfg.drain_timeout)
            and cfg.drain_timeout >= 0, "drain_timeout")
    require(cfg.max_connections is None or
            (type(cfg.max_connections) is int and cfg.max_connections >= 1), "max_connections")
    require(cfg.log_level in config.LOG_LEVELS, "log.level")
    require(config.NAME_RE.match(cfg.name), "name")
    for line in cfg.describe():
        require(isinstance(line, str) and "\n" not in line, "describe() gives one line per key")


def test_one_input(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # load_file's own "not UTF-8 text" error
    for embedded in (False, True):
        try:
            layer = config.parse_text(text, "gale.toml", BASE, embedded)
            cfg = config.resolve([layer], "fuzz-app")
        except GaleError as exc:
            if not expected(exc, "CONFIG"):
                raise
            continue
        check(cfg)


if __name__ == "__main__":
    run(test_one_input)
