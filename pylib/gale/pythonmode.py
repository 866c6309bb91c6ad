# SPDX-License-Identifier: MIT
"""What `gale python` sets up before it runs python's own command line.

* The payload's data files, as for an app (resources.activate), so that
  `gale python -m tornado.test.runtests` or `-m myapp` find them through
  ``__file__``.
* python's -W options (and those -X dev and -b add), which the launcher
  holds back until the payload's code archive can be imported from.
* A damaged payload met by the code python runs (an import from a damaged
  code chunk) ends it with one line and the PAYLOAD exit code, as it ends
  Gale's own commands, not with a traceback and exit code 1: the hook
  prints the line and tells the launcher, which turns python's 1 into
  PAYLOAD. In the interactive interpreter the line replaces the
  traceback and the session goes on.
* The interactive builtins that site.py would add (exit, quit, help,
  copyright, credits, license) and the REPL's completion hook. site.py
  itself is not run: on Windows it would put the executable's folder on
  sys.path, and sys.path must stay the payload alone.

The launcher calls prepare() once the interpreter is up (launcher/interp.c).
"""

import gc
import site
import sys

from gale import libimport, resources


def prepare(warnoptions=()) -> None:
    resources.activate()
    sys.excepthook = _excepthook(sys.excepthook)
    gc.enable()  # off since gale/__init__.py; python's own code runs as usual
    if warnoptions:
        sys.warnoptions[:] = warnoptions
        if "warnings" in sys.modules:
            sys.modules["warnings"]._processoptions(sys.warnoptions)
        else:
            import warnings  # noqa: F401 (processes sys.warnoptions as it loads)
    site.setquit()
    site.setcopyright()
    site.sethelper()
    site.enablerlcompleter()


def _excepthook(previous):
    def hook(kind, value, tb) -> None:
        damaged = libimport.damage_in(value)
        if damaged is None:
            previous(kind, value, tb)
            return
        import _gale

        print(f"gale: error: {damaged}", file=sys.stderr, flush=True)
        if not hasattr(sys, "ps1"):  # not the interactive prompt
            _gale.payload_damaged()
    return hook
