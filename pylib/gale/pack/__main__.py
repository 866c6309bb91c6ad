# SPDX-License-Identifier: MIT
"""The build's packer, run as a script by a stock CPython 3.13:

    python3.13 pylib/gale/pack build|app|msi ...   (see build.py)
"""

import os
import sys

# Run as a script, sys.path[0] is this folder: make `gale` importable from
# pylib/ instead, and not this folder's modules as top-level ones.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
sys.path.insert(0, os.path.dirname(os.path.dirname(_here)))

from gale.pack.build import main  # noqa: E402 (needs the path above)

sys.exit(main())
