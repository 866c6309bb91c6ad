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

Zip layout (names in layout.py):
    __gale__/code      first, stored: the code archive of the library (the
                       stdlib, tornado/, gale/); libimport.py reads it
    __gale__/manifest  second, stored: marshalled dict (name, gale.toml, the
                       files to extract)
    <root>             data files of the library, and in test builds
                       tornado/ whole (the BOOT_MODULES, imported before the
                       archive's finder exists, are frozen into the host)
    __gale_app__/      the app: .py compiled to .pyc and kept as source,
                       everything else as is

Code archive (``__gale__/code``):
    b"GALECOD1" | u32 LE header size | u32 LE CRC-32 of header | header | chunks
header: marshal (version 2, so equal input gives equal bytes) of
    {"chunks": [(compressed size, size, method, SHA-256 of the compressed bytes)],
     "modules": {name: (chunk, offset, size, CRC-32, is_package)}}
Chunk 0, zlib, holds the modules a start needs (the hot set pack computes);
chunk 1, xz, everything else. A chunk is the modules' marshalled code
objects (a .pyc without its 16-byte header) one after another, by name.

This module is stdlib-only: the packer (gale.pack) uses it under a stock CPython.
"""

import hashlib
import io
import marshal
import os
import zlib
import struct
import tempfile
import zipfile

from gale.layout import (APP_DIR, BOOT_MODULES, CODE_MAGIC, CODE_MEMBER,  # noqa: F401 (re-exported)
                         MANIFEST, MANIFEST_FORMAT, META_DIR, SITE_DIR)

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
    first = [n for n in (CODE_MEMBER, MANIFEST) if n in entries]
    with zipfile.ZipFile(buf, "w") as zf:
        for name in first + sorted(n for n in entries if n not in first):
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.create_system = 3  # otherwise it depends on the packing OS
            if name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10
                info.compress_type = zipfile.ZIP_STORED
                zf.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                # The first two are read in place, and the code archive's
                # chunks are compressed already.
                info.compress_type = zipfile.ZIP_STORED if name in first else zipfile.ZIP_DEFLATED
                zf.writestr(info, entries[name])
        zf.comment = bytes(TRAILER_SIZE)
    data = bytearray(buf.getvalue())
    eocd = len(data) - TRAILER_SIZE - EOCD_SIZE
    if data[eocd:eocd + 4] != EOCD_SIG:
        raise PayloadError("zip writer produced an unexpected layout")
    digest = hashlib.sha256(data[:eocd]).digest()
    data[eocd + EOCD_SIZE:] = TRAILER.pack(MAGIC, host_size, len(data), digest)
    return bytes(data)


def build_manifest(name: str, config_text: str, entries: dict, roots: list,
                   version: str | None = None, site: dict | None = None) -> bytes:
    """``__gale__/manifest`` for `entries`; `version` is the app's, when it
    declares one (gale.toml's version, or pack's --version).

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
                "config_doc": _parsed(config_text),
                "extract": sorted(roots), "resources": resources, "dirs": dirs}
    if version is not None:
        manifest["version"] = version
    if site is not None:  # the dependencies: their .pth import lines, and what they are
        manifest["site"] = site
    return marshal.dumps(manifest, 2)


def dist_info_name(path: str):
    """(name, version) if `path` is a top-level ``NAME-VERSION.dist-info/METADATA``."""
    parts = path.split("/")
    if len(parts) == 2 and parts[1] == "METADATA" and parts[0].endswith(".dist-info"):
        stem = parts[0][:-len(".dist-info")]
        name, _, version = stem.rpartition("-")
        if name:
            return name.lower().replace("_", "-"), version
    return None


def _parsed(config_text: str):
    """gale.toml parsed at pack time, so that a start needs no tomllib; None
    when it holds what marshal cannot carry (TOML dates) and the runtime
    parses the text itself."""
    if not config_text:
        return None
    import tomllib

    doc = tomllib.loads(config_text)
    try:
        marshal.dumps(doc, 2)
    except ValueError:
        return None
    return doc


def read_manifest(data: bytes) -> dict:
    """The manifest dict from the bytes of its member."""
    try:
        manifest = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise PayloadError("the payload manifest is damaged or of another format")
    return manifest


def module_name(path: str):
    """(module name, is package) of zip path `path` if it is a .pyc, else None."""
    if not path.endswith(".pyc"):
        return None
    parts = path[:-4].split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def build_code_archive(modules: dict, hot) -> bytes:
    """The ``__gale__/code`` member for `modules` (name -> (.pyc bytes,
    is_package)); the names in `hot` go to chunk 0."""
    groups = ([n for n in sorted(modules) if n in hot], [n for n in sorted(modules) if n not in hot])
    chunks, index = [], {}
    for number, names in enumerate(groups):
        raw = bytearray()
        for name in names:
            pyc, is_package = modules[name]
            code = pyc[16:]
            index[name] = (number, len(raw), len(code), zlib.crc32(code), is_package)
            raw += code
        if number == 0:
            packed, method = zlib.compress(bytes(raw), 9), "zlib"
        else:
            import lzma

            packed, method = lzma.compress(bytes(raw), format=lzma.FORMAT_XZ, preset=6), "xz"
        chunks.append((packed, len(raw), method))
    header = marshal.dumps({"chunks": [(len(p), size, method, hashlib.sha256(p).hexdigest())
                                       for p, size, method in chunks],
                            "modules": index}, 2)
    return b"".join([CODE_MAGIC, struct.pack("<II", len(header), zlib.crc32(header)), header]
                    + [p for p, _, _ in chunks])


def code_index(data: bytes) -> tuple[dict, int]:
    """(the checked index, where the chunks start) of a code archive's bytes."""
    if data[:8] != CODE_MAGIC or len(data) < 16:
        raise PayloadError("the code archive is of another format")
    size, crc = struct.unpack("<II", data[8:16])
    header = data[16:16 + size]
    if zlib.crc32(header) != crc:
        raise PayloadError("the code archive's index is damaged")
    return marshal.loads(header), 16 + size


# In a host, "GALE-BOOT-ID:" and boot_id() of its frozen boot modules
# (cmake/freeze_boot.py), which pack compares with its library's.
BOOT_ID_MARKER = b"GALE-BOOT-ID:"


def boot_id(crcs: dict) -> str:
    """32 hex digits naming the code of the boot modules, {name: CRC-32}."""
    text = "".join(f"{name}={crcs[name]}\n" for name in sorted(crcs))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def library_boot_id(code_member: bytes) -> str:
    """boot_id() of the BOOT_MODULES in a code archive's bytes."""
    modules = code_index(code_member)[0]["modules"]
    return boot_id({name: modules[name][3] for name in BOOT_MODULES if name in modules})


def host_boot_id(host: bytes) -> str | None:
    """The boot id a host carries, or None if it has none."""
    at = host.find(BOOT_ID_MARKER)
    if at < 0:
        return None
    at += len(BOOT_ID_MARKER)
    return host[at:at + 32].decode("ascii", "replace")


def read_code_archive(data: bytes) -> dict:
    """name -> (marshalled code, is_package) of a code archive's bytes, every
    chunk and module checked (for tests and tools; the runtime has libimport)."""
    index, at = code_index(data)
    unpacked = []
    for number, (csize, usize, method, sha) in enumerate(index["chunks"]):
        packed = data[at:at + csize]
        at += csize
        if hashlib.sha256(packed).hexdigest() != sha:
            raise PayloadError(f"code chunk {number} is damaged")
        if method == "xz":
            import lzma

            unpacked.append(lzma.decompress(packed, format=lzma.FORMAT_XZ))
        else:
            unpacked.append(zlib.decompress(packed))
    out = {}
    for name, (number, offset, length, crc, is_package) in index["modules"].items():
        code = unpacked[number][offset:offset + length]
        if zlib.crc32(code) != crc:
            raise PayloadError(f"module {name} is damaged")
        out[name] = (code, is_package)
    return out


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
    """Every entry of a payload except the app and its manifest; the code
    archive comes as its member's bytes, to be carried over as it is."""
    out = {}
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
            for info in zf.infolist():
                name = info.filename
                if name.startswith((APP_DIR + "/", META_DIR + "/")) and name != CODE_MEMBER:
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
