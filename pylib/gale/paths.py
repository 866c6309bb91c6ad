# SPDX-License-Identifier: MIT
"""Per-user folders: where extracted resources are cached and apps keep data.

Linux follows the XDG base-directory spec; Windows uses %LOCALAPPDATA%:

    cache  $XDG_CACHE_HOME/gale/apps/<name>   %LOCALAPPDATA%\\Gale\\apps\\<name>
    data   $XDG_DATA_HOME/gale/<name>         %LOCALAPPDATA%\\Gale\\<name>\\data
"""

import os
import sys

WINDOWS = sys.platform == "win32"


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
    if WINDOWS:
        return os.path.join(_local_appdata(), "Gale", "apps")
    return os.path.join(_xdg("XDG_CACHE_HOME", ".cache"), "gale", "apps")


def data_root() -> str:
    """The folder under which relative data_dir values of an embedded config land."""
    if WINDOWS:
        return os.path.join(_local_appdata(), "Gale")
    return os.path.join(_xdg("XDG_DATA_HOME", os.path.join(".local", "share")), "gale")


def default_data_dir(name: str) -> str:
    """The app's default data folder (exported as GALE_DATA_DIR)."""
    if WINDOWS:
        return os.path.join(data_root(), name, "data")
    return os.path.join(data_root(), name)
