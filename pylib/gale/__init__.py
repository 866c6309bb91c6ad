# SPDX-License-Identifier: MIT
"""Gale's Python runtime, carried inside the `gale` executable's payload.

It owns configuration (gale.toml plus command-line overrides), loading the
app, serving it with Tornado, the graceful drain, logging, extracting the
app's data files, and `gale pack`. The C launcher owns the process and hands
over by running this package as ``__main__``; see ``__main__.py``.

In the executable, importing this package is the first thing every Gale
process does, so it installs the finder of the payload's code archive
(libimport.py) from which everything else is imported. A damaged payload
ends the process here with the PAYLOAD exit code. Under a stock CPython
(the packer (gale.pack)), which has no built-in `_gale`, nothing is installed.
"""

import sys as _sys

if "_gale" in _sys.builtin_module_names:  # the executable, not a stock CPython
    def _boot() -> None:
        import gc

        import _gale

        # Off while starting: server.start_done() turns it on once serving,
        # cli.py for other commands, pythonmode.py before python's own.
        gc.disable()

        from gale import libimport, paths

        if _gale.service_name is not None:
            paths.use_service_root(paths.service_root(_gale.service_name))
        try:
            libimport.install(_gale.executable, _gale.payload_offset)
        except (libimport.PayloadDamaged, OSError, ValueError, EOFError) as exc:
            try:
                _sys.stderr.write(f"gale: error: {exc}\n")
            except (OSError, AttributeError, ValueError):
                pass
            raise SystemExit(_gale.exit_codes["PAYLOAD"]) from None

    _boot()
    del _boot
