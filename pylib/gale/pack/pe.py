# SPDX-License-Identifier: MIT
"""Reads the import and export tables of Windows PE files (.pyd, .dll, .exe),
and prepares extension modules to bind to the executable that hosts them.

A .pyd from a wheel imports the C API from python313.dll (or python3.dll for
the stable ABI). A Gale executable has no such DLL: it exports the C API
itself. `hide_python_imports` moves those import descriptors to just past
the empty entry that ends the import directory. The Windows loader stops
at that entry, so it never searches for python3*.dll (a planted one is never
loaded, and a renamed executable still works). The host's loader
(native/win/extload_win.c) then finds the moved entries there and fills
their import address table from the running executable's exports.

Nothing else in the file changes: sizes, sections and the other imports stay
as they were, so the result is the same bytes on every pack.
"""

import struct

from gale.errors import GaleError

MACHINES = {0x8664: "win-x64", 0xAA64: "win-arm64"}  # PE machine -> Gale target
_DESCRIPTOR = struct.Struct("<IIIII")  # OriginalFirstThunk, TimeDateStamp, ForwarderChain, Name, FirstThunk
_IMPORT, _EXPORT, _DELAY = 1, 0, 13  # data directory indexes


def is_python_dll(name: str) -> bool:
    low = name.lower()
    return low.startswith("python3") and low.endswith(".dll") and len(low) <= 16


class PEFile:
    """The parts of a PE image this module needs. `what` names it in errors."""

    def __init__(self, data: bytes, what: str):
        self.data = data
        self.what = what
        try:
            self._parse()
        except (struct.error, IndexError, ValueError) as exc:
            raise GaleError("PACK", f"{what}: not a valid Windows PE file ({exc})") from None

    def _checked(self, read):
        try:
            return read()
        except (struct.error, IndexError, ValueError) as exc:
            raise GaleError("PACK", f"{self.what}: not a valid Windows PE file ({exc})") from None

    def _fail(self, why: str):
        raise GaleError("PACK", f"{self.what}: not a valid Windows PE file ({why})")

    def _parse(self) -> None:
        data = self.data
        if data[:2] != b"MZ":
            self._fail("no MZ header")
        pe = struct.unpack_from("<I", data, 0x3C)[0]
        if data[pe:pe + 4] != b"PE\0\0":
            self._fail("no PE signature")
        self.machine, nsections = struct.unpack_from("<HH", data, pe + 4)
        opt_size = struct.unpack_from("<H", data, pe + 20)[0]
        opt = pe + 24
        magic = struct.unpack_from("<H", data, opt)[0]
        if magic != 0x20B:
            self._fail("not a 64-bit image")
        ndirs = struct.unpack_from("<I", data, opt + 108)[0]
        self.dir_offset = opt + 112  # file offset of DataDirectory[0]
        self.dirs = [struct.unpack_from("<II", data, self.dir_offset + 8 * i)
                     for i in range(min(ndirs, 16))]
        self.sections = []
        table = opt + opt_size
        for i in range(nsections):
            _name, vsize, va, raw_size, raw_ptr = struct.unpack_from("<8sIIII", data, table + 40 * i)
            self.sections.append((va, max(vsize, raw_size), raw_ptr, raw_size))

    @property
    def target(self) -> str | None:
        return MACHINES.get(self.machine)

    def offset(self, rva: int) -> int:
        for va, size, raw_ptr, raw_size in self.sections:
            if va <= rva < va + size:
                if rva - va >= raw_size:
                    self._fail(f"RVA {rva:#x} is not backed by the file")
                return raw_ptr + rva - va
        self._fail(f"RVA {rva:#x} is in no section")

    def cstr(self, rva: int) -> str:
        start = self.offset(rva)
        end = self.data.index(b"\0", start)
        return self.data[start:end].decode("ascii", "replace")

    def directory(self, index: int) -> tuple:
        return self.dirs[index] if index < len(self.dirs) else (0, 0)

    def import_descriptors(self) -> list:
        return self._checked(self._import_descriptors)

    def _import_descriptors(self) -> list:
        """[(dll name, file offset of its descriptor, hidden)]: the loader's
        entries, then any hidden past the terminator (hide_python_imports)."""
        rva, size = self.directory(_IMPORT)
        if not rva:
            return []
        base = self.offset(rva)
        # The loader reads up to the empty entry; the directory's size (which
        # linkers set to cover that entry) bounds what may follow it.
        count = size // _DESCRIPTOR.size
        out, hidden, i = [], False, 0
        while hidden is False or i < count:
            at = base + i * _DESCRIPTOR.size
            i += 1
            if at + _DESCRIPTOR.size > len(self.data):
                break
            _, _, _, name, first = _DESCRIPTOR.unpack_from(self.data, at)
            if name == 0 or first == 0:
                if hidden:
                    break
                hidden = True  # Gale's hidden entries may follow
                continue
            dll = self.cstr(name)
            if hidden and not is_python_dll(dll):
                break
            out.append((dll, at, hidden))
        return out

    def imports(self) -> list:
        """The DLL names the loader will resolve, in order."""
        return [name for name, _, hidden in self.import_descriptors() if not hidden]

    def delay_imports(self) -> list:
        return self._checked(self._delay_imports)

    def _delay_imports(self) -> list:
        rva, _ = self.directory(_DELAY)
        names = []
        if not rva:
            return names
        at = self.offset(rva)
        while True:
            attrs, name = struct.unpack_from("<II", self.data, at)
            if name == 0:
                return names
            names.append(self.cstr(name))
            at += 32

    def exports(self) -> list:
        return self._checked(self._exports)

    def _exports(self) -> list:
        """The names this image exports."""
        rva, _ = self.directory(_EXPORT)
        if not rva:
            return []
        at = self.offset(rva)
        count = struct.unpack_from("<I", self.data, at + 24)[0]  # NumberOfNames
        names_rva = struct.unpack_from("<I", self.data, at + 32)[0]  # AddressOfNames
        table = self.offset(names_rva) if count else 0
        return [self.cstr(struct.unpack_from("<I", self.data, table + 4 * i)[0])
                for i in range(count)]


def hide_python_imports(data: bytes, what: str) -> bytes:
    """`data` with its python3*.dll import descriptors moved past the import
    directory's terminator (see the module docstring). A file without them
    comes back unchanged; one that delay-loads them is refused."""
    pe = PEFile(data, what)
    if any(is_python_dll(n) for n in pe.delay_imports()):
        raise GaleError("PACK", f"{what} delay-loads the Python DLL, which Gale cannot bind")
    found = pe.import_descriptors()
    if any(hidden for _, _, hidden in found):
        return data  # done already (a wheel from a Gale pack?)
    python = [at for name, at, _ in found if is_python_dll(name)]
    if not python:
        return data
    others = [at for name, at, _ in found if not is_python_dll(name)]
    size = _DESCRIPTOR.size
    entries = [data[at:at + size] for at in others] + [bytes(size)] + \
        [data[at:at + size] for at in python]
    start = min(at for _, at, _ in found)
    end = start + len(entries) * size
    for at in others + python:  # the names and thunks must not sit where entries move
        _, _, _, name, first = _DESCRIPTOR.unpack_from(data, at)
        if any(start <= pe.offset(rva) < end for rva in (name, first)):
            raise GaleError("PACK", f"{what}: not a valid Windows PE file "
                                    "(its import names overlap the import directory)")
    out = bytearray(data)
    out[start:start + len(entries) * size] = b"".join(entries)
    # The directory's size must cover the moved entries (it covered the old
    # terminator, whose slot the last of them now takes), so the host's
    # loader reads them.
    rva, dir_size = pe.directory(_IMPORT)
    needed = len(entries) * size
    if dir_size < needed:
        struct.pack_into("<I", out, pe.dir_offset + 8 * _IMPORT + 4, needed)
    return bytes(out)
