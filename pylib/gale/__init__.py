# SPDX-License-Identifier: MIT
"""Gale's Python runtime, carried inside the `gale` executable's payload.

It owns configuration (gale.toml plus command-line overrides), loading the
app, serving it with Tornado, the graceful drain, logging, extracting the
app's data files, and `gale pack`. The C launcher owns the process and hands
over by running this package as ``__main__``; see ``__main__.py``.

Nothing here imports `_gale` at package import time, so ``pack.py`` can use
the package under a stock CPython.
"""
