# SPDX-License-Identifier: MIT
"""Per-user folders: where extracted resources are cached and apps keep data.

Linux follows the XDG base-directory spec; Windows uses %LOCALAPPDATA%:

    cache  $XDG_CACHE_HOME/gale/apps/<name>   %LOCALAPPDATA%\\Gale\\apps\\<name>
    data   $XDG_DATA_HOME/gale/<name>         %LOCALAPPDATA%\\Gale\\<name>\\data

A Windows service keeps everything in the folder `gale service install`
made for it, with an ACL for the service alone (launcher/service.c):

    %ProgramData%\\<service>\\data, \\logs and \\cache
"""

import os
import sys

WINDOWS = sys.platform == "win32"
_service_root = None  # %ProgramData%\\<service> while running as a service


def service_root(name: str) -> str:
    """%ProgramData%\\<name>: the folder of service `name`."""
    import _gale  # Windows records it in the registry; a service's environment may differ

    return os.path.join(_gale.program_data(), name)


def use_service_root(root: str) -> None:
    """From now on the cache and the default data folder are under `root`."""
    global _service_root
    _service_root = root


def _xdg(var: str, fallback: str) -> str:
    value = os.environ.get(var, "")
    # The spec says relative values are invalid and must be ignored.
    if value and os.path.isabs(value):
        return value
    return os.path.join(os.path.expanduser("~"), fallback)


def _local_appdata() -> str:
    value = os.environ.get("LOCALAPPDATA", "")
    if value:
        return value
    return os.path.join(os.path.expanduser("~"), "AppData", "Local")


def cache_root() -> str:
    """The folder that holds one sub-folder of extracted resources per app."""
    if _service_root:
        return os.path.join(_service_root, "cache")
    if WINDOWS:
        return os.path.join(_local_appdata(), "Gale", "apps")
    return os.path.join(_xdg("XDG_CACHE_HOME", ".cache"), "gale", "apps")


def code_cache() -> str:
    """Where libimport keeps the unpacked code chunks, shared by every app
    packed from the same library (app names cannot start with a dot)."""
    return os.path.join(cache_root(), ".code")


def data_root() -> str:
    """The folder under which relative data_dir values of an embedded config land."""
    if _service_root:
        return _service_root
    if WINDOWS:
        return os.path.join(_local_appdata(), "Gale")
    return os.path.join(_xdg("XDG_DATA_HOME", os.path.join(".local", "share")), "gale")


def default_data_dir(name: str) -> str:
    """The app's default data folder (exported as GALE_DATA_DIR)."""
    if _service_root:
        return os.path.join(_service_root, "data")
    if WINDOWS:
        return os.path.join(data_root(), name, "data")
    return os.path.join(data_root(), name)
