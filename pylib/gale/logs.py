# SPDX-License-Identifier: MIT
"""Logging: timestamped lines to stderr and, if configured, to a file.

    2026-11-27 10:00:00,123 INFO gale: Serving hello on http://127.0.0.1:8888/

Gale logs as "gale"; Tornado's loggers (tornado.access, tornado.application,
tornado.general) and the app's own propagate to the same root handlers.
"""

import logging
import os
import sys

from gale.errors import GaleError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_handlers = []


def setup(level: str = "info", file: str | None = None) -> None:
    """(Re)configures the root logger; may be called again once config is known."""
    root = logging.getLogger()
    for handler in _handlers:
        root.removeHandler(handler)
        handler.close()
    _handlers.clear()
    formatter = logging.Formatter(FORMAT)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    _handlers.append(console)
    if file:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(file)), exist_ok=True)
            to_file = logging.FileHandler(file, encoding="utf-8")
        except OSError as exc:
            raise GaleError("CONFIG", f"cannot open log file {file}: {exc.strerror or exc}") from None
        to_file.setFormatter(formatter)
        _handlers.append(to_file)
    for handler in _handlers:
        root.addHandler(handler)
    root.setLevel(level.upper())
