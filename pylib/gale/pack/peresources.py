# SPDX-License-Identifier: MIT
"""A Windows executable's resource section, read and rebuilt in pure Python.

`read(image)` gives the resource tree as {type: {name: {language: bytes}}}
(types and names are ints, or strings for named ones); `replace(image,
tree)` returns the image with a new .rsrc section built from the tree.
Nothing is patched in place: the section is laid out again from scratch
(directories, then name strings, then data entries, then the data, each
piece aligned as the PE format asks), and the sections after it (in
Gale's hosts only .reloc, whose contents do not depend on where it sits)
move to make room. The result is byte-for-byte the same for the same
input, so packing stays deterministic.

Only what a linker leaves is handled: .rsrc followed by nothing, or by
.reloc alone; a signed image must have its signature removed first. The
image's CheckSum is left as it is (0 in Gale's hosts; Windows checks it
only for drivers).

PE/COFF layout (Microsoft's "PE Format", .rsrc section): a directory is 16
bytes (characteristics, time stamp, version, named count, id count)
followed by 8-byte entries, named ones first (sorted by name) then ids in
ascending order. An entry's high bit marks a sub-directory; a name's high
bit marks a string (a length and UTF-16). A leaf is a 16-byte data entry
whose first field is an RVA.
"""

import struct

from gale.errors import GaleError

RT_ICON, RT_GROUP_ICON, RT_VERSION, RT_MANIFEST, RT_MESSAGETABLE = 3, 14, 16, 24, 11
_DIR_RESOURCE, _DIR_BASERELOC, _DIR_SECURITY = 2, 5, 4
_HIGH = 0x80000000


class _Pe:
    """The header fields this module reads and writes."""

    def __init__(self, image: bytes):
        if image[:2] != b"MZ":
            raise GaleError("PACK", "the host template is not a Windows executable")
        self.pe = struct.unpack_from("<I", image, 0x3C)[0]
        if image[self.pe:self.pe + 4] != b"PE\0\0":
            raise GaleError("PACK", "the host template is not a Windows executable")
        coff = self.pe + 4
        self.nsections, = struct.unpack_from("<H", image, coff + 2)
        opt_size, = struct.unpack_from("<H", image, coff + 16)
        self.opt = coff + 20
        if struct.unpack_from("<H", image, self.opt)[0] != 0x20B:
            raise GaleError("PACK", "the host template is not a 64-bit (PE32+) executable")
        self.section_align, self.file_align = struct.unpack_from("<II", image, self.opt + 32)
        if not (self.file_align and self.section_align >= self.file_align
                and not self.file_align & (self.file_align - 1)
                and not self.section_align & (self.section_align - 1)):
            raise GaleError("PACK", "the host template's section alignment is damaged")
        self.dirs = self.opt + 112  # PE32+: the data directories start here
        self.sections = self.opt + opt_size

    def directory(self, image, index):
        return struct.unpack_from("<II", image, self.dirs + 8 * index)

    def section(self, image, i):
        """(name, virtual size, RVA, raw size, raw pointer) of section i."""
        at = self.sections + 40 * i
        name = image[at:at + 8].rstrip(b"\0").decode("ascii", "replace")
        vsize, rva, raw_size, raw_ptr = struct.unpack_from("<IIII", image, at + 8)
        return name, vsize, rva, raw_size, raw_ptr


def _align(n: int, to: int) -> int:
    return (n + to - 1) // to * to


def _rsrc_index(pe: _Pe, image: bytes) -> int:
    rva, _ = pe.directory(image, _DIR_RESOURCE)
    headers_end = pe.sections + 40 * pe.nsections
    for i in range(pe.nsections):
        _, _, section_rva, raw_size, raw_ptr = pe.section(image, i)
        if rva and section_rva == rva:
            if raw_ptr < headers_end or raw_ptr + raw_size > len(image):
                raise GaleError("PACK", "the host template's resource section lies outside its data")
            return i
    raise GaleError("PACK", "the host template has no resource section of its own")


def read(image: bytes) -> dict:
    """The resource tree of `image`: {type: {name: {language: bytes}}}."""
    try:
        return _read(image)
    except (struct.error, UnicodeDecodeError) as exc:
        raise GaleError("PACK", f"the host template's resources are damaged ({exc})") from None


def _read(image: bytes) -> dict:
    pe = _Pe(image)
    index = _rsrc_index(pe, image)
    _, vsize, base_rva, _, raw_ptr = pe.section(image, index)

    def at(offset):  # an offset in the section -> a file offset
        return raw_ptr + offset

    def name_of(field):
        if not field & _HIGH:
            return field
        off = at(field & ~_HIGH)
        length, = struct.unpack_from("<H", image, off)
        return image[off + 2:off + 2 + 2 * length].decode("utf-16-le")

    def directory(offset, depth):
        named, ids = struct.unpack_from("<HH", image, at(offset) + 12)
        out = {}
        for k in range(named + ids):
            field, target = struct.unpack_from("<II", image, at(offset) + 16 + 8 * k)
            key = name_of(field)
            if target & _HIGH:
                if depth == 2:
                    raise GaleError("PACK", "the host template's resources nest too deep")
                out[key] = directory(target & ~_HIGH, depth + 1)
            else:
                if depth != 2:
                    raise GaleError("PACK", "the host template's resources nest too shallow")
                data_rva, size = struct.unpack_from("<II", image, at(target))
                start = at(data_rva - base_rva)
                out[key] = image[start:start + size]
        return out

    return directory(0, 0)


def _sorted(keys):
    """Named entries first, by name (as Windows compares them), then ids."""
    names = sorted((k for k in keys if isinstance(k, str)), key=str.upper)
    return names + sorted(k for k in keys if isinstance(k, int))


def build_section(tree: dict, base_rva: int) -> bytes:
    """The bytes of a .rsrc section at `base_rva` holding `tree`."""
    # Pass 1: where every directory, name and data entry goes.
    dirs = []  # (node, depth) in layout order: breadth-first, as linkers do

    def walk(level):
        queue = [level]
        while queue:
            node = queue.pop(0)
            dirs.append(node)
            queue.extend(node[k] for k in _sorted(node) if isinstance(node[k], dict))
    walk(tree)
    dir_offset, offset = {}, 0
    for node in dirs:
        dir_offset[id(node)] = offset
        offset += 16 + 8 * len(node)
    name_offset, names = {}, b""
    for node in dirs:
        for key in _sorted(node):
            if isinstance(key, str) and key not in name_offset:
                name_offset[key] = offset + len(names)
                encoded = key.encode("utf-16-le")
                names += struct.pack("<H", len(encoded) // 2) + encoded
    offset = _align(offset + len(names), 4)
    leaves = [node[k] for node in dirs for k in _sorted(node) if not isinstance(node[k], dict)]
    entry_offset = offset
    offset += 16 * len(leaves)
    data_offsets = []
    for blob in leaves:
        offset = _align(offset, 8)
        data_offsets.append(offset)
        offset += len(blob)
    # Pass 2: write it.
    out = bytearray(offset)
    leaf = 0
    for node in dirs:
        keys = _sorted(node)
        named = sum(isinstance(k, str) for k in keys)
        at = dir_offset[id(node)]
        struct.pack_into("<IIHHHH", out, at, 0, 0, 0, 0, named, len(keys) - named)
        for n, key in enumerate(keys):
            field = _HIGH | name_offset[key] if isinstance(key, str) else key
            child = node[key]
            if isinstance(child, dict):
                target = _HIGH | dir_offset[id(child)]
            else:
                target = entry_offset + 16 * leaf
                struct.pack_into("<IIII", out, target, base_rva + data_offsets[leaf],
                                 len(child), 0, 0)
                out[data_offsets[leaf]:data_offsets[leaf] + len(child)] = child
                leaf += 1
            struct.pack_into("<II", out, at + 16 + 8 * n, field, target)
    start = min(name_offset.values(), default=None)
    if start is not None:
        out[start:start + len(names)] = names
    return bytes(out)


def replace(image: bytes, tree: dict) -> bytes:
    """`image` with its resource section rebuilt from `tree`."""
    try:
        return _replace(image, tree)
    except struct.error as exc:
        raise GaleError("PACK", f"the host template's headers are damaged ({exc})") from None


def _replace(image: bytes, tree: dict) -> bytes:
    pe = _Pe(image)
    if pe.directory(image, _DIR_SECURITY) != (0, 0):
        raise GaleError("PACK", "the host template is signed: remove the signature first")
    index = _rsrc_index(pe, image)
    later = [pe.section(image, i) for i in range(index + 1, pe.nsections)]
    if [s[0] for s in later] not in ([], [".reloc"]):
        raise GaleError("PACK", "the host template's resource section is not last "
                                "(only .reloc may follow it)")
    _, _, rva, raw_size, raw_ptr = pe.section(image, index)
    section = build_section(tree, rva)
    new_raw = _align(len(section), pe.file_align)
    out = bytearray(image[:raw_ptr])
    out += section + b"\0" * (new_raw - len(section))
    header = pe.sections + 40 * index
    struct.pack_into("<I", out, header + 8, len(section))   # VirtualSize
    struct.pack_into("<I", out, header + 16, new_raw)       # SizeOfRawData
    struct.pack_into("<II", out, pe.dirs + 8 * _DIR_RESOURCE, rva, len(section))
    next_rva = _align(rva + len(section), pe.section_align)
    end_rva = next_rva
    for n, (name, vsize, old_rva, size, ptr) in enumerate(later, start=index + 1):
        header = pe.sections + 40 * n
        struct.pack_into("<I", out, header + 12, next_rva)    # VirtualAddress
        struct.pack_into("<I", out, header + 20, len(out))    # PointerToRawData
        reloc_rva, reloc_size = pe.directory(image, _DIR_BASERELOC)
        if reloc_rva == old_rva:
            struct.pack_into("<II", out, pe.dirs + 8 * _DIR_BASERELOC, next_rva, reloc_size)
        out += image[ptr:ptr + size]
        end_rva = _align(next_rva + vsize, pe.section_align)
        next_rva = end_rva
    # SizeOfInitializedData changes with the raw sizes; SizeOfImage with the end.
    init, = struct.unpack_from("<I", out, pe.opt + 8)
    struct.pack_into("<I", out, pe.opt + 8, max(0, init + new_raw - raw_size))
    struct.pack_into("<I", out, pe.opt + 56, end_rva)
    return bytes(out)
