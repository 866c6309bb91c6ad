# SPDX-License-Identifier: MIT
"""The payload format: a deterministic zip appended to a host executable.

An executable is ``host + zip``. The zip's End-Of-Central-Directory comment is
a 56-byte trailer that the launcher reads:

    b"GALEPAY1" | u64 LE offset | u64 LE size | 32-byte SHA-256

offset is where the zip starts in the file (the host's length), size is the
zip's whole length (EOCD and trailer included), and the digest covers the zip
bytes before the EOCD record. Offsets inside the zip are relative to its own
start; zipimport and zipfile both allow prepended data. Authenticode may
append a certificate table after the zip, so readers search for the trailer
rather than assume it ends the file.

Zip layout:
    <root>             stdlib, tornado/, gale/ as .pyc, plus their data files
    __gale_app__/      the app: .py compiled to .pyc, everything else as is
    __gale__/manifest.json

This module is stdlib-only: ``pack.py`` uses it under a stock CPython.
"""

import hashlib
import io
import json
import os
import struct
import tempfile
import zipfile

from gale.layout import APP_DIR, MANIFEST, MANIFEST_FORMAT, META_DIR  # noqa: F401 (re-exported)

MAGIC = b"GALEPAY1"
TRAILER = struct.Struct("<8sQQ32s")
TRAILER_SIZE = TRAILER.size  # 56
EOCD_SIG = b"PK\x05\x06"
EOCD_SIZE = 22
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
# How far back from the end of a file to look for the trailer: room for an
# Authenticode certificate table after the zip. The same as the launcher's
# GALE_PAYLOAD_SCAN (launcher/payload.h), so both accept the same files.
_SEARCH_TAIL = 1 << 20


class PayloadError(Exception):
    """The file holds no payload, or a damaged one."""


def with_parent_dirs(entries: dict) -> dict:
    """`entries` plus a ``dir/`` entry for every folder; zipimport needs
    them to see namespace packages."""
    out = dict(entries)
    for name in entries:
        parts = name.rstrip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.setdefault("/".join(parts[:i]) + "/", None)
    return out


def build_zip(entries: dict, host_size: int) -> bytes:
    """The zip for `entries` (name -> bytes, or None for ``dir/``), trailer included.

    Sorted names, a fixed timestamp and fixed attributes make equal inputs
    give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.create_system = 3  # otherwise it depends on the packing OS
            if name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10
                info.compress_type = zipfile.ZIP_STORED
                zf.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, entries[name])
        zf.comment = bytes(TRAILER_SIZE)
    data = bytearray(buf.getvalue())
    eocd = len(data) - TRAILER_SIZE - EOCD_SIZE
    if data[eocd:eocd + 4] != EOCD_SIG:
        raise PayloadError("zip writer produced an unexpected layout")
    digest = hashlib.sha256(data[:eocd]).digest()
    data[eocd + EOCD_SIZE:] = TRAILER.pack(MAGIC, host_size, len(data), digest)
    return bytes(data)


def build_manifest(name: str, config_text: str, entries: dict, roots: list) -> bytes:
    """``__gale__/manifest.json`` for `entries`.

    `roots` are the zip folders whose modules get a real ``__file__``; every
    non-code file under them is listed (with size and SHA-256) for
    extraction, and their folders under ``dirs``."""
    resources, dirs = [], []
    for path in sorted(entries):
        if not any(path.startswith(root + "/") for root in roots):
            continue
        if path.endswith("/"):
            dirs.append(path.rstrip("/"))
        elif not path.endswith(".pyc"):
            data = entries[path]
            resources.append({"path": path, "size": len(data),
                              "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"format": MANIFEST_FORMAT, "name": name, "config": config_text,
                "extract": sorted(roots), "resources": resources, "dirs": dirs}
    return json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")


def find_trailer(data: bytes):
    """(offset, size, digest hex) of the payload in executable bytes `data`,
    or None when there is none."""
    marker = struct.pack("<H", TRAILER_SIZE) + MAGIC
    start = max(0, len(data) - _SEARCH_TAIL)
    pos = data.rfind(marker, start)
    while pos >= 0:
        eocd = pos - (EOCD_SIZE - 2)
        if eocd >= 0 and data[eocd:eocd + 4] == EOCD_SIG:
            trailer = data[eocd + EOCD_SIZE:eocd + EOCD_SIZE + TRAILER_SIZE]
            if len(trailer) == TRAILER_SIZE:
                _, offset, size, digest = TRAILER.unpack(trailer)
                if offset + size == eocd + EOCD_SIZE + TRAILER_SIZE:
                    return offset, size, digest.hex()
        pos = data.rfind(marker, start, pos)
    return None


def library_entries(zip_bytes: bytes) -> dict:
    """Every entry of a payload except the app and its manifest."""
    out = {}
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
            for info in zf.infolist():
                name = info.filename
                if name.startswith((APP_DIR + "/", META_DIR + "/")):
                    continue
                out[name] = None if name.endswith("/") else zf.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise PayloadError(f"damaged payload: {exc}") from None
    return out


def strip_signature(host: bytes) -> bytes:
    """A PE host with its Authenticode directory entry and checksum cleared.

    A signed gale.exe names its certificate table (which follows the
    payload) in the PE header; a new executable built from its first bytes
    must not point at a table that is no longer there."""
    if host[:2] != b"MZ" or len(host) < 0x40:
        return host
    pe = int.from_bytes(host[0x3C:0x40], "little")
    if host[pe:pe + 4] != b"PE\0\0":
        return host
    opt = pe + 24
    magic = int.from_bytes(host[opt:opt + 2], "little")
    if magic == 0x10B:
        count_at, dirs_at = opt + 92, opt + 96
    elif magic == 0x20B:
        count_at, dirs_at = opt + 108, opt + 112
    else:
        return host
    if int.from_bytes(host[count_at:count_at + 4], "little") <= 4:
        return host
    security = dirs_at + 4 * 8
    if host[security:security + 8] == bytes(8):
        return host
    out = bytearray(host)
    out[security:security + 8] = bytes(8)
    out[opt + 64:opt + 68] = bytes(4)  # CheckSum: optional for executables
    return bytes(out)


def write_executable(path: str, host: bytes, zip_bytes: bytes) -> None:
    """Writes ``host + zip`` to `path` atomically, mode 0755; on failure
    nothing is left behind."""
    os.replace(stage_file(path, (host, zip_bytes), 0o755), os.path.abspath(path))


def stage_file(path: str, chunks, mode: int = 0o644) -> str:
    """Writes `chunks` to a new temporary file beside `path` (creating its
    folder) and returns the temporary's name, for the caller to move into
    place with os.replace or remove; on failure nothing is left behind."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".gale-pack-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return tmp
