# SPDX-License-Identifier: MIT
"""Extracts the payload's data files once, into a per-app cache.

Code runs from the zip, but templates, static files and other data must be
real files next to where ``__file__`` says the code is. At start-up the
non-code files under each extraction root in the manifest are extracted, once
per payload digest, to

    <cache root>/<name>/<digest[:16]>/     (paths.cache_root())

Each file is checked against its SHA-256 from the manifest. Extraction goes
into a temporary folder that is renamed into place, so concurrent starts are
safe: the first rename wins and the others use its result. A marker file
records completion; later starts only check it and the files' sizes. Other
digests' folders of the same app that have not been used for a day are
removed after a new extraction. If the cache is not writable, a per-user
temporary folder is used instead, with a warning.

Then importer.PayloadFinder makes the modules' ``__file__`` point there.
"""

import os

from gale import layout, paths
from gale.errors import GaleError
from gale.importer import PayloadFinder

# Start-up cost matters here (`gale python -c pass` runs this), so modules
# needed only to extract or to warn are imported where they are used.

MARKER = ".gale-complete"
PRUNE_AFTER = 24 * 3600  # seconds since a digest folder was last used


def _log():
    import logging

    return logging.getLogger("gale")


def _remove_tree(path: str) -> None:
    """Removes folder `path` if it can. On Windows a deleted file can stay
    "delete pending" for a moment while another process (a virus scanner,
    the indexer, a concurrent start reading the same files) still has it
    open, and the folder's removal then fails as not empty: try again for
    up to about a second. Whatever is left is pruned later (_prune)."""
    import shutil
    import time

    for attempt in range(10 if os.name == "nt" else 1):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return
        time.sleep(0.02 * (attempt + 1))


def _is_digest_dir(name: str) -> bool:
    return len(name) == 16 and all(c in "0123456789abcdef" for c in name)


class Resources:
    """What start-up learnt from the payload's manifest."""

    __slots__ = ("name", "config_text", "config_doc", "extract_dir")

    def __init__(self, name: str, config_text: str, extract_dir: str | None,
                 config_doc: dict | None = None):
        self.name = name
        self.config_text = config_text
        self.config_doc = config_doc  # the text parsed at pack time, if it could be
        self.extract_dir = extract_dir

    @property
    def app_dir(self) -> str | None:
        """The extracted app folder: base for the packed gale.toml's paths."""
        return os.path.join(self.extract_dir, "app") if self.extract_dir else None


_active = None


def local_rel(zip_path: str) -> str:
    """Where zip path `zip_path` goes inside the extraction folder."""
    parts = zip_path.split("/")
    if (".." in parts or os.path.isabs(zip_path) or os.path.splitdrive(zip_path)[0]
            or (os.sep == "\\" and "\\" in zip_path)):
        raise GaleError("PAYLOAD", f"payload path {zip_path!r} points outside its folder")
    if zip_path == layout.APP_DIR or zip_path.startswith(layout.APP_DIR + "/"):
        return "app" + zip_path[len(layout.APP_DIR):]
    if zip_path == layout.SITE_DIR or zip_path.startswith(layout.SITE_DIR + "/"):
        return "site" + zip_path[len(layout.SITE_DIR):]
    return zip_path


def read_manifest() -> dict:
    """The manifest libimport read with the code archive, checked for what
    this module needs."""
    from gale import libimport

    library = libimport.active()
    manifest = library.manifest if library is not None else None
    ok = (isinstance(manifest, dict) and manifest.get("format") == layout.MANIFEST_FORMAT
          and isinstance(manifest.get("name"), str)
          and isinstance(manifest.get("resources"), list))
    if not ok:
        raise GaleError("PAYLOAD", "the payload manifest is damaged or of another format")
    return manifest


def activate() -> Resources:
    """Extracts the data files if needed and installs the finder (once per process)."""
    global _active
    if _active is not None:
        return _active
    from gale import _native

    exe, digest = _native.executable, _native.payload_digest
    manifest = read_manifest()
    roots = manifest.get("extract") or []
    extract_dir = None
    if roots:
        extract_dir = _extract(exe, digest, manifest)
        site = manifest.get("site") or {}
        PayloadFinder(exe, extract_dir, roots, manifest["resources"],
                      site.get("paths") or ()).install()
        _add_dll_directory(extract_dir)
        _run_pth(site.get("pth") or ())
    _active = Resources(manifest["name"], manifest.get("config") or "", extract_dir,
                        manifest.get("config_doc"))
    return _active


_dll_directory = None  # kept: the folder stays added while the handle lives


def _add_dll_directory(extract_dir: str) -> None:
    """The Visual C++ runtime that `gale pack --msvc-runtime` carried, where
    the extension loader looks (native/win/extload_win.c)."""
    global _dll_directory
    folder = os.path.join(extract_dir, "site", layout.VC_RUNTIME_DIR)
    if os.name == "nt" and os.path.isdir(folder):
        _dll_directory = os.add_dll_directory(folder)


def _run_pth(lines) -> None:
    """The `import` lines of the dependencies' .pth files, run as site.py
    runs them at start-up (pywin32's, for instance, sets up its DLLs)."""
    for line in lines:
        try:
            exec(line)  # noqa: S102 (what site.py does with these lines)
        except Exception as exc:
            _log().warning("a dependency's .pth line %r failed: %s", line, exc)


def _temp_parent(name: str) -> str:
    """A per-user folder under the system temp dir that only this user owns."""
    import tempfile

    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    base = os.path.join(tempfile.gettempdir(), f"gale-{user}")
    os.makedirs(base, mode=0o700, exist_ok=True)
    if hasattr(os, "getuid"):
        st = os.lstat(base)
        if st.st_uid != os.getuid() or not os.path.isdir(base) or os.path.islink(base):
            raise OSError(f"{base} belongs to someone else")
    return os.path.join(base, "apps", name)


def _extract(exe: str, digest: str, manifest: dict) -> str:
    key = (digest or "0" * 16)[:16].lower()
    name = manifest["name"]
    primary = os.path.join(paths.cache_root(), name)
    try:
        return _extract_into(primary, key, digest, exe, manifest)
    except OSError as exc:
        _log().warning("cannot use the resource cache %s (%s); using a temporary folder",
                       primary, exc.strerror or exc)
    try:
        return _extract_into(_temp_parent(name), key, digest, exe, manifest)
    except OSError as exc:
        raise GaleError("DATA", f"cannot extract the app's files: {exc.strerror or exc}") from None


def _is_complete(folder: str, digest: str, manifest: dict) -> bool:
    try:
        with open(os.path.join(folder, MARKER), encoding="utf-8") as f:
            if f.readline().strip() != digest:
                return False
        for res in manifest["resources"]:
            if os.stat(os.path.join(folder, local_rel(res["path"]))).st_size != res["size"]:
                return False
    except (OSError, ValueError):
        return False
    return True


def _extract_into(parent: str, key: str, digest: str, exe: str, manifest: dict) -> str:
    final = os.path.join(parent, key)
    if _is_complete(final, digest, manifest):
        try:
            os.utime(os.path.join(final, MARKER))  # "last used", for pruning
        except OSError:
            pass
        return final
    import tempfile

    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{key}-", dir=parent)
    try:
        _write_files(tmp, exe, manifest)
        with open(os.path.join(tmp, MARKER), "w", encoding="utf-8") as f:
            f.write(f"{digest}\n{len(manifest['resources'])} files\n")
        _publish(tmp, final, digest, manifest)
    finally:
        _remove_tree(tmp)
    _log().debug("extracted %d files to %s", len(manifest["resources"]), final)
    _prune(parent, key)
    return final


def _write_files(folder: str, exe: str, manifest: dict) -> None:
    import hashlib
    import zipimport

    importer = zipimport.zipimporter(exe)
    for path in manifest.get("dirs", []):
        os.makedirs(os.path.join(folder, local_rel(path)), exist_ok=True)
    for res in manifest["resources"]:
        try:
            data = importer.get_data(res["path"])
        except OSError:
            raise GaleError("PAYLOAD", f"payload file {res['path']} is missing") from None
        if len(data) != res["size"] or hashlib.sha256(data).hexdigest() != res["sha256"]:
            raise GaleError("PAYLOAD", f"payload file {res['path']} is damaged")
        target = os.path.join(folder, local_rel(res["path"]))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)


def _publish(tmp: str, final: str, digest: str, manifest: dict) -> None:
    """Renames `tmp` to `final`; tolerates another process having done it first."""
    try:
        os.rename(tmp, final)
        return
    except OSError:
        if _is_complete(final, digest, manifest):
            return  # a concurrent start won
    # `final` exists but is incomplete (files deleted by hand?): replace it.
    aside = os.path.join(os.path.dirname(final), f".{os.path.basename(final)}.stale-{os.getpid()}")
    try:
        os.rename(final, aside)
    except OSError:
        pass
    try:
        os.rename(tmp, final)
    except OSError:
        if not _is_complete(final, digest, manifest):
            raise
    _remove_tree(aside)


def _prune(parent: str, keep: str) -> None:
    import shutil
    import time

    now = time.time()
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for entry in names:
        if entry == keep or not (_is_digest_dir(entry) or entry.startswith(".")):
            continue
        folder = os.path.join(parent, entry)
        try:
            marker = os.path.join(folder, MARKER)
            used = os.stat(marker if os.path.exists(marker) else folder).st_mtime
        except OSError:
            continue
        if now - used > PRUNE_AFTER:
            _log().debug("removing old resources %s", folder)
            shutil.rmtree(folder, ignore_errors=True)

