# SPDX-License-Identifier: MIT
"""Imports the library (the stdlib, Tornado, Gale's runtime) from the
payload's code archive, and reads the payload's manifest.

The first member of the payload zip is ``__gale__/code`` (payload.py
writes it), stored, so its bytes sit at a fixed place:

    b"GALECOD1" | u32 LE header size | u32 LE CRC-32 of the header | header | chunks

The header is a marshalled dict: ``chunks``, a list of
``(compressed size, size, method, SHA-256 of the compressed bytes)``, and
``modules``, ``name -> (chunk, offset, size, CRC-32, is_package)`` where the
offset and size locate the module's marshalled code in the unpacked chunk.
Chunk 0 holds what a start needs (zlib, quick to unpack), chunk 1 the rest
(xz, smaller).

A chunk is unpacked once per machine: the first process that needs it checks
its SHA-256, unpacks it and writes it to ``<cache root>/.code/<sha>.bin``;
later processes map that file. Every module's CRC-32 is checked before its
code is used, so a damaged cache file is caught too. The member after it,
``__gale__/manifest``, is a marshalled dict (the app's name, its gale.toml,
the files to extract) checked against its zip CRC-32.

Only built-in and frozen modules may be imported here: everything else is
what this module serves. This module, and the others a start needs before
it is installed (layout.BOOT_MODULES), come frozen from the host.
``gale/__init__.py`` runs install() in the executable, before anything else
of Gale's is imported; under a stock CPython (gale.pack) nothing here runs.
"""

import marshal
import os
import sys
import zlib
from _frozen_importlib import ModuleSpec

from gale import paths
from gale.layout import CODE_MAGIC, CODE_MEMBER, MANIFEST

_LOCAL_HEADER = 30  # a zip local file header without its name and extra field
_FIRST_READ = 1 << 16


class PayloadDamaged(Exception):
    """The payload fails its check (cli.py turns it into the PAYLOAD exit code).

    Not an ImportError, on purpose: code that falls back when an optional
    module is missing (``except ImportError``) must not take a damaged
    executable for one without the module and go on."""

    def __init__(self, message: str, name: str | None = None):
        super().__init__(message)
        self.name = name  # the module whose code is damaged, if one


def damage_in(exc: BaseException | None) -> PayloadDamaged | None:
    """The PayloadDamaged that `exc` is, or was raised from or while
    handling (an app's import that failed because the payload is
    damaged), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, PayloadDamaged):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _u32(data, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def _u16(data, at: int) -> int:
    return int.from_bytes(data[at:at + 2], "little")


class _Member:
    """A stored zip member: where its data starts and how long it is."""

    def __init__(self, head: bytes, at: int, name: str, where: str):
        if head[:4] != b"PK\x03\x04" or len(head) < _LOCAL_HEADER:
            raise PayloadDamaged(f"{where}: no zip member where {name} should be")
        name_len, extra_len = _u16(head, 26), _u16(head, 28)
        if head[_LOCAL_HEADER:_LOCAL_HEADER + name_len] != name.encode() or _u16(head, 8) != 0:
            raise PayloadDamaged(f"{where}: {name} is not the stored member expected here")
        self.crc = _u32(head, 14)
        self.size = _u32(head, 18)
        self.data = at + _LOCAL_HEADER + name_len + extra_len  # offset of its data in the file
        self.end = self.data + self.size


def _read_at(f, at: int, size: int) -> bytes:
    f.seek(at)
    data = f.read(size)
    if len(data) != size:
        raise PayloadDamaged(f"{f.name}: the payload is cut short")
    return data


class Library:
    """The code archive of one executable, and its manifest."""

    def __init__(self, exe: str, offset: int):
        self.exe = exe
        with open(exe, "rb") as f:
            first = _read_at(f, offset, min(_FIRST_READ, os.fstat(f.fileno()).st_size - offset))
            code = _Member(first, offset, CODE_MEMBER, exe)
            start = code.data - offset
            if first[start:start + 8] != CODE_MAGIC or code.size < 16:
                raise PayloadDamaged(f"{exe}: the code archive is of another format")
            size, crc = _u32(first, start + 8), _u32(first, start + 12)
            header = first[start + 16:start + 16 + size]
            if len(header) < size:
                header = _read_at(f, code.data + 16, size)
            if zlib.crc32(header) != crc:
                raise PayloadDamaged(f"{exe}: the code archive's index is damaged")
            index = marshal.loads(header)
            self.modules = index["modules"]
            self._chunks = []
            at = code.data + 16 + size
            for csize, usize, method, sha in index["chunks"]:
                self._chunks.append((at, csize, usize, method, sha))
                at += csize
            if at != code.end:
                raise PayloadDamaged(f"{exe}: the code archive's chunks do not fill it")
            self._loaded = [None] * len(self._chunks)
            man = _Member(_read_at(f, code.end, _LOCAL_HEADER + len(MANIFEST)),
                          code.end, MANIFEST, exe)
            raw = _read_at(f, man.data, man.size)
        if zlib.crc32(raw) != man.crc:
            raise PayloadDamaged(f"{exe}: the payload manifest is damaged")
        self.manifest = marshal.loads(raw)

    def code(self, name: str):
        """The code object of module `name`, after checking its CRC-32."""
        chunk, offset, size, crc, _ = self.modules[name]
        data = self._chunk(chunk)[offset:offset + size]
        if zlib.crc32(data) != crc and not isinstance(self._loaded[chunk], bytes):
            # The cached copy is damaged: unpack the chunk from the
            # executable again (checked there) and write a new copy, once
            # the map is closed (Windows cannot replace a mapped file).
            self._loaded[chunk].close()
            self._loaded[chunk] = self._unpack(chunk)
            data = self._loaded[chunk][offset:offset + size]
        if zlib.crc32(data) != crc:
            raise PayloadDamaged(f"{self.exe}: the payload is damaged (module {name})", name=name)
        return marshal.loads(data)

    def _cache_path(self, i: int) -> str:
        return os.path.join(paths.code_cache(), self._chunks[i][4][:32] + ".bin")

    def _chunk(self, i: int):
        data = self._loaded[i]
        if data is None:
            data = self._loaded[i] = self._map(i) or self._unpack(i)
        return data

    def _map(self, i: int):
        """The cached unpacked chunk, mapped, or None if it is not there."""
        import mmap

        try:
            with open(self._cache_path(i), "rb") as f:
                if os.fstat(f.fileno()).st_size != self._chunks[i][2]:
                    return None
                return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None

    def _unpack(self, i: int) -> bytes:
        at, csize, usize, method, sha = self._chunks[i]
        with open(self.exe, "rb") as f:
            packed = _read_at(f, at, csize)
        if _sha256(packed) != sha:
            raise PayloadDamaged(f"{self.exe}: the payload is damaged (code chunk {i})")
        if method == "zlib":
            data = zlib.decompress(packed)
        elif method == "xz":
            import _lzma

            data = _lzma.LZMADecompressor(_lzma.FORMAT_XZ).decompress(packed)
        else:
            raise PayloadDamaged(f"{self.exe}: code chunk {i} uses unknown method {method!r}")
        if len(data) != usize:
            raise PayloadDamaged(f"{self.exe}: code chunk {i} unpacks to the wrong size")
        self._store(i, data)
        return data

    def _store(self, i: int, data: bytes) -> None:
        """Writes the unpacked chunk to the cache for later processes; a cache
        that cannot be written only costs them the unpacking."""
        path = self._cache_path(i)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError:
            try:
                os.remove(tmp)
            except OSError:
                pass


def _sha256(data: bytes) -> str:
    try:
        from _hashlib import openssl_sha256 as sha256
    except ImportError:
        from _sha2 import sha256
    return sha256(data).hexdigest()


class _ZipView:
    """What importlib's ZipReader needs of a loader: the package's folder in
    the payload zip, whose data files it then reads with zipfile."""

    def __init__(self, archive: str, prefix: str, is_package: bool):
        self.archive = archive
        self.prefix = prefix
        self._is_package = is_package

    def is_package(self, fullname: str) -> bool:
        return self._is_package


class LibraryFinder:
    """Meta-path finder and loader for the modules of the code archive.

    Modules get ``__file__`` = ``<exe>/<package path>/<name>.pyc``, as
    zipimport gave them, and packages a ``__path__`` of the same form, which
    path_hook() maps back here so that pkgutil can list them."""

    def __init__(self, library: Library):
        self._lib = library
        self._modules = library.modules
        self._root = library.exe + os.sep

    # -- finder --------------------------------------------------------------
    def find_spec(self, fullname, path=None, target=None):
        entry = self._modules.get(fullname)
        if entry is None:
            return None
        is_package = entry[4]
        rel = fullname.replace(".", os.sep)
        origin = self._root + rel + (os.sep + "__init__.pyc" if is_package else ".pyc")
        spec = ModuleSpec(fullname, self, origin=origin, is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [self._root + rel]
        return spec

    def invalidate_caches(self) -> None:
        pass

    # -- loader --------------------------------------------------------------
    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        exec(self._lib.code(module.__spec__.name), module.__dict__)

    def get_code(self, fullname: str):
        return self._lib.code(fullname)

    def get_source(self, fullname: str):
        return None  # the library is carried as code only

    def is_package(self, fullname: str) -> bool:
        return self._modules[fullname][4]

    def get_filename(self, fullname: str) -> str:
        return self.find_spec(fullname).origin

    def get_resource_reader(self, fullname: str):
        from importlib.resources.readers import ZipReader  # costly; rarely needed

        is_package = self._modules[fullname][4]
        parent = fullname.rpartition(".")[0]
        prefix = parent.replace(".", "/") + "/" if parent else ""
        return ZipReader(_ZipView(self._lib.exe, prefix, is_package), fullname)

    # -- path entries (pkgutil) ------------------------------------------------
    def path_hook(self, path: str):
        if path != self._lib.exe and not path.startswith(self._root):
            raise ImportError("not inside the executable")
        return _LibraryPath(self, path[len(self._root):].replace(os.sep, "."))


class _LibraryPath:
    """The path-entry finder for ``<exe>`` or one of its package folders."""

    def __init__(self, finder: LibraryFinder, package: str):
        self._finder = finder
        self._prefix = package + "." if package else ""

    def find_spec(self, fullname, target=None):
        if not fullname.startswith(self._prefix):
            return None
        return self._finder.find_spec(fullname)

    def invalidate_caches(self) -> None:
        pass

    def iter_modules(self, prefix: str = ""):
        """(name, is_package) of the modules directly in this folder, for pkgutil."""
        n = len(self._prefix)
        for name, entry in sorted(self._finder._modules.items()):
            if name.startswith(self._prefix) and "." not in name[n:]:
                yield prefix + name[n:], entry[4]


_library = None


def install(exe: str, offset: int) -> Library:
    """Reads the code archive of `exe` and puts its finder ahead of the path
    finder (once per process). Raises PayloadDamaged."""
    global _library
    if _library is not None:
        return _library
    library = Library(exe, offset)
    library._chunk(0)  # every start needs it: a damaged one stops the start here
    finder = LibraryFinder(library)
    at = len(sys.meta_path)
    for i, entry in enumerate(sys.meta_path):
        if getattr(entry, "__name__", "") == "PathFinder":
            at = i
            break
    _adopt_frozen(library, finder)
    sys.meta_path.insert(at, finder)
    sys.path_hooks.insert(0, finder.path_hook)
    sys.path_importer_cache.pop(exe, None)
    _library = library
    return library


def _adopt_frozen(library: Library, finder: LibraryFinder) -> None:
    """The boot modules came frozen from the host (native/frozen_boot.c).
    Checks that they are the library's own code, so that the rest of Gale
    matches them, and gives those imported so far the library's spec, as if
    they had come from the archive (``__file__``, a ``__path__`` that
    pkgutil can list); the others will come from the archive. Raises
    PayloadDamaged."""
    import _gale
    from _frozen_importlib import _init_module_attrs

    for name, crc in _gale.frozen_boot.items():
        entry = library.modules.get(name)
        if entry is None or entry[3] != crc:
            raise PayloadDamaged(f"{library.exe}: the payload's library is not the one this "
                                 f"host was built with (module {name} differs)")
        module = sys.modules.get(name)
        if module is not None and getattr(module.__spec__, "origin", None) == "frozen":
            _init_module_attrs(finder.find_spec(name), module, override=True)
    _gale.end_frozen_boot()


def active() -> Library | None:
    return _library
