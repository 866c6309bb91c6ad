# SPDX-License-Identifier: MIT
"""The app's identity in a Windows executable: its version resource and
its icon, written by `gale pack` through a rebuilt resource section
(peresources.py).

The version resource (VS_VERSIONINFO) is built from scratch. Its blocks
all share one shape (wLength, wValueLength, wType, a NUL-terminated UTF-16
key, padding to 4 bytes, the value, padding, the children), described in
Microsoft's "VS_VERSIONINFO", "StringFileInfo" and "VarFileInfo":

    VS_VERSION_INFO   VS_FIXEDFILEINFO (the numbers Explorer shows)
      StringFileInfo
        040904B0      U.S. English, Unicode: CompanyName, FileDescription, ...
      VarFileInfo
        Translation   0x0409, 1200

FileDescription is what Task Manager and Explorer show as the program's
name, so it is the display name. The template's Comments (what the host is
built from: Python, Tornado, OpenSSL, ...) are kept after the app's
description.
"""

import dataclasses
import struct

from gale.pack import icons, peresources
from gale.errors import GaleError

LANGUAGE = 1033  # the resources' language: U.S. English
_FIXED_SIGNATURE = 0xFEEF04BD


@dataclasses.dataclass
class Identity:
    """What a packed executable says about itself."""

    name: str
    version: str = "0.0.0"
    display_name: str | None = None
    publisher: str | None = None
    description: str | None = None
    copyright: str | None = None
    url: str | None = None
    icon: str | None = None  # a .ico or .png file

    @property
    def filename(self) -> str:
        """OriginalFilename: the app's name, whatever OUT is, so that the
        bytes do not depend on where they are written."""
        return f"{self.name}.exe"

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name

    def numbers(self) -> tuple:
        parts = [int(p) for p in self.version.split(".")]
        return tuple(parts + [0] * (4 - len(parts)))


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _block(key: str, value: bytes = b"", value_length: int = 0, text: bool = True,
           children=()) -> bytes:
    head = struct.pack("<HHH", 0, value_length, 1 if text else 0) + (key + "\0").encode("utf-16-le")
    body = _pad(head) + value
    for child in children:
        body = _pad(body) + child
    return struct.pack("<H", len(body)) + body[2:]


def _string(key: str, value: str) -> bytes:
    encoded = (value + "\0").encode("utf-16-le")
    return _block(key, encoded, len(encoded) // 2)


def version_info(identity: Identity, comments: str = "") -> bytes:
    """The VS_VERSIONINFO resource for `identity`."""
    a, b, c, d = identity.numbers()
    ms, ls = (a << 16) | b, (c << 16) | d
    fixed = struct.pack("<13I", _FIXED_SIGNATURE, 0x00010000, ms, ls, ms, ls, 0x3F, 0,
                        0x00040004, 1, 0, 0, 0)  # VOS_NT_WINDOWS32, VFT_APP
    strings = [
        ("CompanyName", identity.publisher or identity.shown_name),
        ("FileDescription", identity.shown_name),
        ("FileVersion", identity.version),
        ("InternalName", identity.name),
        ("LegalCopyright", identity.copyright or ""),
        ("OriginalFilename", identity.filename),
        ("ProductName", identity.shown_name),
        ("ProductVersion", identity.version),
        ("Comments", " - ".join(t for t in (identity.description, comments) if t)),
    ]
    table = _block("040904B0", children=[_string(k, v) for k, v in strings if v])
    var = _block("VarFileInfo", children=[
        _block("Translation", struct.pack("<HH", 0x0409, 1200), 4, text=False)])
    return _block("VS_VERSION_INFO", fixed, len(fixed), text=False,
                  children=[_block("StringFileInfo", children=[table]), var])


def _parse(data: bytes, at: int):
    """(key, value bytes, [(child offset)], end) of the block at `at`."""
    length, value_length, kind = struct.unpack_from("<HHH", data, at)
    key_end = at + 6
    while data[key_end:key_end + 2] not in (b"\0\0", b""):
        key_end += 2
    key = data[at + 6:key_end].decode("utf-16-le")
    value_at = key_end + 2
    value_at += -value_at % 4
    size = 2 * value_length if kind == 1 else value_length
    child, end, children = value_at + size, at + length, []
    child += -child % 4
    while child + 6 <= end:
        children.append(child)
        child_length, = struct.unpack_from("<H", data, child)
        if child_length == 0:
            break
        child += child_length + (-child_length % 4)
    return key, data[value_at:value_at + size], children


def read_strings(resource: bytes) -> dict:
    """The StringFileInfo values of a VS_VERSIONINFO resource."""
    try:
        return _read_strings(resource)
    except (struct.error, UnicodeDecodeError) as exc:
        raise GaleError("PACK", f"the host template's version resource is damaged ({exc})") from None


def _read_strings(resource: bytes) -> dict:
    out = {}
    for block in _parse(resource, 0)[2]:
        key, _, tables = _parse(resource, block)
        if key != "StringFileInfo":
            continue
        for table in tables:
            for entry in _parse(resource, table)[2]:
                name, value, _ = _parse(resource, entry)
                out[name] = value.decode("utf-16-le").rstrip("\0")
    return out


def apply(host: bytes, identity: Identity) -> bytes:
    """`host` (a Windows host's image) carrying `identity`: a new version
    resource and, if `identity.icon` is set, a new icon group."""
    tree = peresources.read(host)
    try:
        template = next(iter(tree[peresources.RT_VERSION][1].values()))
    except (KeyError, StopIteration):
        raise GaleError("PACK", "the host template has no version resource "
                                "(not a Gale Windows host?)") from None
    comments = read_strings(template).get("Comments", "")
    tree[peresources.RT_VERSION] = {1: {LANGUAGE: version_info(identity, comments)}}
    if identity.icon:
        images, group = icons.resources(icons.load(identity.icon))
        tree[peresources.RT_ICON] = {n: {LANGUAGE: body} for n, body in images.items()}
        tree[peresources.RT_GROUP_ICON] = {1: {LANGUAGE: group}}
    return peresources.replace(host, tree)
