# SPDX-License-Identifier: MIT
"""Entry point: the launcher runs this module for every command but `python`.

``sys.argv`` is ``[<executable>, <args>...]``; the exit code is the one
carried by SystemExit.
"""

import sys

from gale.cli import main

if __name__ == "__main__":
    sys.exit(main())
