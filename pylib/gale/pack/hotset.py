# SPDX-License-Identifier: MIT
"""Which library modules a start imports: the hot set, which `gale.pack.build`
puts in the code archive's quick chunk (payload.py). Everything else goes to
the small, slower xz chunk, unpacked only when one of its modules is first
imported on a machine. A module in the wrong chunk costs time, never
correctness.

The set is measured, not listed: a child interpreter (the build's CPython
3.13, the same version as the host's) with only the payload's libraries on
its path imports Gale's serve and `python` paths and the parts of Tornado
apps use, and reports sys.modules. `_gale` is replaced by a stand-in with
the launcher's constants. Modules that exist only on Windows are named here
because Linux cannot import them.
"""

import json
import subprocess
import sys

ROOTS = (
    "gale.cli", "gale.config", "gale.appload", "gale.server", "gale.eventloop", "gale.drain",
    "gale.logs", "gale.connlimit", "gale.resources", "gale.importer", "gale.pythonmode",
    "tornado.web", "tornado.websocket", "tornado.template", "tornado.locale", "tornado.escape",
    "tornado.httpserver", "tornado.ioloop", "tornado.platform.asyncio", "tornado.options",
    "shutil", "tempfile", "zipimport",  # the first start extracts the app's data files
)
WINDOWS = (
    "gale.winloop", "gale.service", "asyncio.windows_events", "asyncio.windows_utils",
    "asyncio.proactor_events", "encodings.cp1252", "encodings.mbcs", "encodings.cp437",
)

_CHILD = r"""
import json, sys, types
libs, roots = json.loads(sys.argv[1])
sys.path[:0] = libs
stand_in = types.ModuleType("_gale")
stand_in.__dict__.update(version="0", target="linux-x86_64", executable=sys.executable,
    payload_offset=0, payload_size=0, payload_digest="0" * 64, exit_codes={},
    components="[]", linked_versions={}, service_name=None, console="none")
sys.modules["_gale"] = stand_in
for name in roots:
    __import__(name)
print(json.dumps(sorted(set(sys.modules) - {"_gale", "__main__"})))
"""


def measure(libs: list) -> set:
    """The hot set for libraries `libs` (folders holding gale/ and tornado/)."""
    out = subprocess.run([sys.executable, "-I", "-S", "-c", _CHILD, json.dumps([libs, ROOTS])],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"measuring the hot set failed:\n{out.stderr}")
    return set(json.loads(out.stdout)) | set(WINDOWS)
