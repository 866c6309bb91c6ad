# SPDX-License-Identifier: MIT
"""The app's name in a Windows host's version resource.

launcher/win/gale.rc gives FileDescription (what Task Manager and Explorer
show as the program's name) a fixed-size value, "Gale" padded with spaces.
`set_app_name` overwrites that value in place with the app's name and NULs:
the resource keeps its size, so nothing else in the file moves. Readers stop
at the first NUL.

In a VS_VERSIONINFO String block the key comes 6 bytes after the block's
start (wLength, wValueLength, wType), as NUL-terminated UTF-16; the value
follows at the next 4-byte boundary, wValueLength UTF-16 units long,
including its NUL.
"""

from gale.errors import GaleError

_KEY = "FileDescription\0".encode("utf-16-le")
SLOT_UNITS = 65  # gale.rc's GALE_APP_NAME_SLOT, 64 characters, and the NUL


def set_app_name(host: bytes, name: str) -> bytes:
    """`host` (a Windows host's bytes) with FileDescription set to `name`,
    cut to the slot's length if need be."""
    at = host.find(_KEY)
    if at < 6 or host.find(_KEY, at + 1) != -1:
        raise GaleError("PACK", "the host template has no single FileDescription in its "
                                "version resource (not a Gale Windows host?)")
    start = at - 6
    units = int.from_bytes(host[start + 2:start + 4], "little")
    value = at + len(_KEY)
    value += -(value - start) % 4
    if units != SLOT_UNITS:
        raise GaleError("PACK", "the host template's FileDescription is not Gale's name slot")
    # Whole characters, leaving room for at least one NUL: a surrogate pair
    # is not cut in half.
    encoded = name.encode("utf-16-le")[:2 * (units - 1)]
    if encoded and 0xD800 <= int.from_bytes(encoded[-2:], "little") <= 0xDBFF:
        encoded = encoded[:-2]
    filled = encoded.ljust(2 * units, b"\0")
    return host[:value] + filled + host[value + 2 * units:]
