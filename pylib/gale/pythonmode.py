# SPDX-License-Identifier: MIT
"""What `gale python` sets up before it runs python's own command line.

* The payload's data files, as for an app (resources.activate), so that
  `gale python -m tornado.test.runtests` or `-m myapp` find them through
  ``__file__``.
* python's -W options (and those -X dev and -b add), which the launcher
  holds back until the payload's code archive can be imported from.
* The interactive builtins that site.py would add (exit, quit, help,
  copyright, credits, license) and the REPL's completion hook. site.py
  itself is not run: on Windows it would put the executable's folder on
  sys.path, and sys.path must stay the payload alone.

The launcher calls prepare() once the interpreter is up (launcher/interp.c).
"""

import gc
import site
import sys

from gale import resources


def prepare(warnoptions=()) -> None:
    resources.activate()
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
