# SPDX-License-Identifier: MIT
"""Imports the app's modules from the payload with a ``__file__`` on disk.

Apps find their templates and static files next to their code, through
``os.path.dirname(__file__)``. Their code stays in the zip, but their data
files are extracted (resources.py); this finder serves the modules of each
extraction root from the zip while giving them ``__file__`` (spec.origin),
``__path__`` and ``co_filename`` inside the extraction folder, where those
data files are. Roots:

    __gale_app__/   -> <dir>/app/       the app's top-level modules and packages
    __gale_site__/  -> <dir>/site/      its dependencies, installed from wheels
    tornado/        -> <dir>/tornado/   test builds only: tornado.test and
                                        tornado.testing read data via __file__

Binary extension modules (.pyd, .so) under a root are real files in the
extraction folder: this finder hands them to CPython's own extension
loader, after checking the file against its SHA-256 from the payload (a
changed file is refused with PAYLOAD), so ``__file__`` and
``importlib.machinery`` behave as in python. The DLLs and shared libraries
beside them are checked once, before the first extension loads.

Submodules of every package it served also go through it. A path hook maps
those folders back to the zip, so ``pkgutil.iter_modules(pkg.__path__)``
still lists the modules.
"""

import os
import sys
import zipimport
from importlib._bootstrap_external import _NamespacePath  # what PathFinder uses
from importlib.machinery import ExtensionFileLoader, ModuleSpec

from gale.layout import APP_DIR, SITE_DIR

try:
    from _imp import _fix_co_filename
except ImportError:  # not part of any promise; tracebacks just name the zip path
    _fix_co_filename = None


class _Root:
    """One extraction root: which modules it holds and where they live."""

    def __init__(self, zip_dir: str, extract_dir: str):
        top = zip_dir.split("/", 1)[0]
        if top in (APP_DIR, SITE_DIR):  # top-level modules (a .pth's folder too)
            self.prefix = ""
            self.zip_base = zip_dir
            self.local_base = os.path.join(extract_dir, "app" if top == APP_DIR else "site",
                                           *zip_dir.split("/")[1:])
        else:
            self.prefix = zip_dir.replace("/", ".")
            self.zip_base = ""
            self.local_base = extract_dir

    def locate(self, fullname: str):
        """(zip folder, local folder) that hold module `fullname`."""
        parents = fullname.split(".")[:-1]
        zip_dir = "/".join(([self.zip_base] if self.zip_base else []) + parents)
        return zip_dir, os.path.join(self.local_base, *parents)


class PayloadLoader:
    """Runs a module's code from the zip; reports its extracted location."""

    def __init__(self, importer: zipimport.zipimporter, origin: str, is_package: bool):
        self._importer = importer
        self._is_package = is_package
        self.path = origin

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        exec(self.get_code(module.__name__), module.__dict__)

    def get_code(self, fullname: str):
        code = self._importer.get_code(fullname)
        if _fix_co_filename is not None:
            _fix_co_filename(code, self.path)
        return code

    def is_package(self, fullname: str) -> bool:
        return self._is_package

    def get_source(self, fullname: str):
        return None  # only .pyc is packed

    def get_filename(self, fullname: str) -> str:
        return self.path

    def get_data(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def get_resource_reader(self, fullname: str):
        # importlib.resources.files(pkg) then reads the extracted folder.
        if not self._is_package:
            return None
        from importlib.resources.readers import FileReader  # costly; rarely needed

        return FileReader(self)


class PayloadFinder:
    """The meta-path finder for the extraction roots of one payload."""

    def __init__(self, archive: str, extract_dir: str, roots: list, resources=(),
                 site_paths=()):
        self._archive = archive
        self._extract_dir = os.path.abspath(extract_dir)
        self._top = []  # the app, then its dependencies, as sys.path would order them
        self._by_prefix = {}
        for zip_dir in sorted(roots, key=lambda r: r != APP_DIR):
            root = _Root(zip_dir, self._extract_dir)
            if root.prefix:
                self._by_prefix[root.prefix] = root
            else:
                self._top.append(root)
        # Folders that the dependencies' .pth files add, after the site folder.
        self._top += [_Root(f"{SITE_DIR}/{p}", self._extract_dir) for p in site_paths]
        self._extensions, self._native_files = _extensions(resources, self._extract_dir,
                                                           site_paths)
        self._natives_checked = False
        self._packages = {}  # package name -> _Root, for its submodules
        self._importers = {}

    def install(self) -> None:
        sys.meta_path.insert(0, self)
        sys.path_hooks.insert(0, self.path_hook)

    def _importer(self, zip_dir: str) -> zipimport.zipimporter:
        importer = self._importers.get(zip_dir)
        if importer is None:
            path = f"{self._archive}/{zip_dir}/" if zip_dir else self._archive
            importer = zipimport.zipimporter(path)
            self._importers[zip_dir] = importer
        return importer

    def _roots_for(self, fullname: str) -> list:
        parent, dot, _ = fullname.rpartition(".")
        if dot:
            roots = [self._packages.get(parent)]
        elif fullname in sys.builtin_module_names:
            return []  # as on sys.path, built-ins are not shadowed
        else:
            roots = list(self._top)  # the app first, as if it were sys.path[0]
        roots.append(self._by_prefix.get(fullname))
        return [r for r in roots if r is not None]

    def find_spec(self, fullname, path=None, target=None):
        found = self._extensions.get(fullname)
        if found is not None:
            from importlib.util import spec_from_file_location

            return spec_from_file_location(fullname, found[0],
                                           loader=CheckedExtensionLoader(fullname, *found, self))
        for root in self._roots_for(fullname):
            spec = self._find_in(root, fullname)
            if spec is not None:
                return spec
        return None

    def _find_in(self, root: _Root, fullname: str):
        zip_dir, local_dir = root.locate(fullname)
        try:
            importer = self._importer(zip_dir)
            found = importer.find_spec(fullname)
        except zipimport.ZipImportError:
            return None
        if found is None:
            return None
        leaf = fullname.rpartition(".")[2]
        package_dir = os.path.join(local_dir, leaf)
        if found.loader is None:  # a folder without __init__: namespace package
            spec = ModuleSpec(fullname, None, is_package=True)
            # As PathFinder does: importlib.resources' NamespaceReader accepts
            # only a _NamespacePath, not a plain list.
            spec.submodule_search_locations = _NamespacePath(
                fullname, [package_dir], lambda name, path: self.find_spec(name, path))
            self._packages[fullname] = root
            return spec
        is_package = found.submodule_search_locations is not None
        if is_package:
            origin = os.path.join(package_dir, "__init__.py")
        else:
            origin = os.path.join(local_dir, leaf + ".py")
        spec = ModuleSpec(fullname, PayloadLoader(importer, origin, is_package),
                          origin=origin, is_package=is_package)
        spec.has_location = True
        if is_package:
            spec.submodule_search_locations = [package_dir]
            self._packages[fullname] = root
        return spec

    def invalidate_caches(self) -> None:
        pass

    def check_natives(self) -> None:
        """Checks the DLLs and shared libraries beside the extensions, once."""
        if self._natives_checked:
            return
        for path, sha256 in self._native_files:
            check_file(path, sha256)
        self._natives_checked = True

    def find_distributions(self, context=None):
        """importlib.metadata's distributions of the dependencies (their
        extracted dist-info folders)."""
        from importlib.metadata import DistributionFinder, MetadataPathFinder

        site = [r.local_base for r in self._top if r.zip_base.startswith(SITE_DIR)]
        if not site:
            return iter(())
        context = context or DistributionFinder.Context()
        return MetadataPathFinder.find_distributions(
            DistributionFinder.Context(name=context.name, path=site))

    def path_hook(self, path: str) -> zipimport.zipimporter:
        """A zipimporter for an extracted package folder (for pkgutil)."""
        try:
            rel = os.path.relpath(os.path.abspath(path), self._extract_dir)
        except ValueError:  # another drive on Windows
            raise ImportError("not an extracted folder") from None
        rel = rel.replace(os.sep, "/")
        if rel in (".", "..") or rel.startswith("../"):
            raise ImportError("not an extracted folder")
        if rel == "app" or rel.startswith("app/"):
            rel = APP_DIR + rel[3:]
        elif rel == "site" or rel.startswith("site/"):
            rel = SITE_DIR + rel[4:]
        try:
            return self._importer(rel)
        except zipimport.ZipImportError as exc:
            raise ImportError(str(exc)) from None


def _extensions(resources, extract_dir: str, site_paths=()):
    """({module name: (extracted path, sha256)} for the extension modules
    among `resources`, [(path, sha256)] of the other native files under the
    dependencies and the app: DLLs, shared libraries)."""
    from importlib.machinery import EXTENSION_SUFFIXES

    modules, natives = {}, []
    for res in resources:
        zip_path = res["path"]
        for root, local in ((SITE_DIR + "/", "site"), (APP_DIR + "/", "app")):
            if zip_path.startswith(root):
                rel = zip_path[len(root):]
                path = os.path.join(extract_dir, local, *rel.split("/"))
                break
        else:
            continue
        suffix = next((s for s in EXTENSION_SUFFIXES if rel.endswith(s)), None)
        if suffix is not None:
            modules[rel[:-len(suffix)].replace("/", ".")] = (path, res["sha256"])
            for folder in site_paths if root == SITE_DIR + "/" else ():
                if rel.startswith(folder + "/"):  # also top-level through a .pth's folder
                    inner = rel[len(folder) + 1:-len(suffix)].replace("/", ".")
                    modules.setdefault(inner, (path, res["sha256"]))
        elif rel.endswith((".dll", ".so", ".dylib")) or ".so." in rel.rsplit("/", 1)[-1]:
            natives.append((path, res["sha256"]))
    return modules, natives


def check_file(path: str, sha256: str) -> None:
    """Refuses, with PAYLOAD, an extracted native file that is no longer
    the payload's: binary code is only ever loaded as packed."""
    import hashlib

    from gale.errors import GaleError

    try:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise GaleError("PAYLOAD", f"cannot read the extracted {path}: "
                                   f"{exc.strerror or exc}") from None
    if digest != sha256:
        raise GaleError("PAYLOAD", f"{path} was changed after extraction (its SHA-256 is "
                                   "not the payload's); delete the folder to extract it again")


class CheckedExtensionLoader(ExtensionFileLoader):
    """CPython's extension loader, after a check of the file (check_file)
    and, once, of the native files beside the extensions."""

    def __init__(self, fullname: str, path: str, sha256: str, finder: "PayloadFinder"):
        super().__init__(fullname, path)
        self._sha256 = sha256
        self._finder = finder

    def create_module(self, spec):
        self._finder.check_natives()
        check_file(self.path, self._sha256)
        return super().create_module(spec)
