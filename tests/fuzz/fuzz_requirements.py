# SPDX-License-Identifier: MIT
"""Fuzz target: an app's declared dependencies (pylib/gale/pack/deps.py).

The input is a dependency file's bytes, planned three ways as `gale pack`
plans them: as --requirements requirements.txt, as --requirements
pylock.toml, and as an APPDIR's pyproject.toml. --wheels names an empty
folder, so planning never reaches the network or uv: every lock ends in
"no wheel in the folder", which is fine. Expected: a plan (or None), or
GaleError("PACK").
"""

import os
import tempfile

from fuzzcommon import expected, instrumented, require, run

with instrumented("gale", "tomllib", "packaging"):
    import tomllib  # noqa: F401  (instrumented here; deps imports these late)

    import packaging.markers  # noqa: F401
    import packaging.requirements  # noqa: F401
    import packaging.specifiers  # noqa: F401
    import packaging.tags  # noqa: F401
    import packaging.utils  # noqa: F401
    import packaging.version  # noqa: F401
    from gale.errors import GaleError
    from gale.pack import deps

_TMP = tempfile.mkdtemp(prefix="gale-fuzz-deps-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
_WHEELS = os.path.join(_TMP, "wheels")
_APP = os.path.join(_TMP, "app")
_DIR = os.path.join(_TMP, "files")
for _d in (_WHEELS, _APP, _DIR):
    os.makedirs(_d)
_BUILTIN = {"tornado": "6.6.1"}  # what the library carries


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _plan(appdir: str, requirements) -> None:
    try:
        result = deps.plan(appdir, "win-x64", requirements=requirements, wheels_dir=_WHEELS,
                           builtin=_BUILTIN, log=lambda line: None)
    except GaleError as exc:
        if not expected(exc, "PACK"):
            raise
        return
    if result is not None:
        _, plan = result
        require(plan.wheels == [], "a plan with wheels from an empty --wheels folder")


def test_one_input(data: bytes) -> None:
    for name in ("requirements.txt", "pylock.toml"):
        path = os.path.join(_DIR, name)
        _write(path, data)
        _plan(_APP, path)
    pyproject = os.path.join(_APP, "pyproject.toml")
    _write(pyproject, data)
    _plan(_APP, None)


if __name__ == "__main__":
    run(test_one_input)
