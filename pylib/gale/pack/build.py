# SPDX-License-Identifier: MIT
"""Builds Gale executables: a host template plus a payload zip (see payload.py).

Two callers, one code path:

* ``gale pack APPDIR -o OUT [--target T] [--host-template PATH]`` inside a
  running executable: the host is the running executable's bytes before its
  payload (or, for another target, the template ``gale-host[.exe]`` in
  ``../<T>/`` beside the executable's folder, as in ``dist/``), the library
  (stdlib, tornado, gale) is copied from its payload, the app is compiled
  from APPDIR. `cli.py` calls `pack_app`.
* The build, with a stock CPython 3.13 and no `_gale`::

    python3.13 pylib/gale/pack build --host HOSTBIN --stdlib DIR
        [--stdlib-extra FILE_OR_DIR]... --lib DIR [--lib DIR]...
        [--exclude-stdlib NAME]... [--include-tornado-tests]
        [--app APPDIR] [--name NAME] -o OUT

      --host            the launcher built without a payload (if it already
                        carries one, only its host part is used)
      --stdlib          CPython's Lib/ (or an installed lib/python3.13); its
                        .py files are compiled, its data files kept; test
                        suites, tkinter, idlelib, turtle(demo), curses, ensurepip,
                        venv, __phello__, site-packages, lib-dynload and
                        config-* are left out
      --stdlib-extra    a file put at the zip root under its own name, or a
                        folder whose contents go to the zip root (e.g. the
                        build's _sysconfigdata_*.py)
      --lib             a folder whose packages and modules go to the zip
                        root, e.g. the one holding tornado/ and pylib/ holding
                        gale/; *.dist-info keeps all but RECORD; C sources,
                        stubs and binaries are dropped
      --exclude-stdlib  also leave out this stdlib path (a module such as
                        "pydoc_data" or "turtle", or a sub-path "email/mime")
      --include-tornado-tests  keep tornado/test and Tornado's .py sources
                        (the self-test build: gale python -m tornado.test.runtests)
      --keep-docstrings keep the library's docstrings (by default they are
                        left out, as -OO does; the app's are always kept)
      --data SRC=DEST   the file SRC at DEST in the payload (installer/gale.wxs
                        at gale/installer/gale.wxs, for `gale pack --msi`)
      --app, --name     pack an app too (default name: gale.toml's, else the
                        folder's name; without --app: "gale")

    python3.13 pylib/gale/pack app APPDIR --base GALE_EXE [--name NAME] -o OUT

      packs APPDIR onto an existing gale executable (host and library from
      GALE_EXE), as `gale pack` does, without running it.

    python3.13 pylib/gale/pack msi EXE --app APPDIR --target TARGET

      writes EXE's MSI next to it (msi.py), with the identity and settings
      of APPDIR's gale.toml, as `gale pack --msi` does: the build makes the
      demo's MSIs this way.

  Standalone use exits 1 on failure and 2 on bad usage.

.py files are compiled to unchecked hash-based .pyc (reproducible) with the
interpreter running this file, which must therefore be CPython 3.13.
"""

import argparse
import ast
import importlib._bootstrap_external
import importlib.util
import os
import sys
import tomllib

from gale import config
from gale.pack import icons, payload, peversion, sbom
from gale.pack.pe import MACHINES as PE_MACHINES
from gale.errors import GaleError

TARGETS = ("linux-x86_64", "win-x64", "win-arm64")
PYTHON = (3, 13)
TORNADO_TESTS = "tornado/test"

# Compiled or native artefacts never belong in the payload.
_BINARY_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib", ".a", ".lib",
                    ".o", ".obj", ".exe", ".pdb")
_LIB_DROP_SUFFIXES = _BINARY_SUFFIXES + (".c", ".h", ".pyi", ".pth")
STDLIB_EXCLUDES = ("test", "idlelib", "tkinter", "turtle", "turtledemo", "ensurepip",
                   "venv", "__phello__", "lib2to3", "site-packages", "lib-dynload",
                   # No _curses is built in; Tornado's `import curses` at start
                   # then fails at once instead of unpacking the cold chunk.
                   "curses",
                   # The pure-Python twins of _decimal, _datetime and _io,
                   # which decimal and datetime import only when the C
                   # module is missing. Every host has it built in.
                   "_pydecimal", "_pydatetime", "_pyio")
_TEST_DIRS = ("tests", "idle_test")
APP_SKIP_DIRS = ("__pycache__", ".git", ".hg", ".svn", ".venv", ".mypy_cache",
                 ".pytest_cache", ".ruff_cache", ".tox")


def without_docstrings(tree: ast.Module) -> ast.Module:
    """`tree` with the docstrings of its module, classes and functions taken
    out (a body left empty gets a `pass`), as -OO compiles them, but with
    asserts and __debug__ kept. Every other node keeps its line numbers."""
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        first = body[0] if body else None
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            if len(body) > 1:
                del body[0]
            else:
                body[0] = ast.copy_location(ast.Pass(), first)
    return tree


def compile_source(source: bytes, dfile: str, docstrings: bool = True) -> bytes:
    """Unchecked hash-based .pyc bytes for `source`; `dfile` names it in
    tracebacks. `docstrings=False` leaves the docstrings out (the library's
    default, see build())."""
    try:
        tree = source if docstrings else without_docstrings(
            ast.parse(source, dfile, type_comments=False))
        code = compile(tree, dfile, "exec", dont_inherit=True, optimize=0)
    except SyntaxError as exc:
        raise GaleError("PACK", f"{dfile}, line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:  # e.g. null bytes in the source
        raise GaleError("PACK", f"{dfile}: {exc}") from None
    pyc = importlib._bootstrap_external._code_to_hash_pyc(
        code, importlib.util.source_hash(source), checked=False)
    return bytes(pyc)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise GaleError("PACK", f"cannot read {path}: {exc.strerror or exc}") from None


def add_tree(entries: dict, src: str, prefix: str, skip, keep_source=None,
             docstrings=None) -> None:
    """Adds folder `src` under zip folder `prefix`: .py compiled, other files as is.

    `skip(relpath, is_dir)` filters; relpath uses "/". `keep_source(relpath)`
    says which .py files are also stored as source, `docstrings(relpath)`
    which keep their docstrings (default: all). Folder symlinks are followed
    once."""
    if not os.path.isdir(src):
        raise GaleError("PACK", f"not a folder: {src}")
    seen = set()
    for dirpath, dirnames, filenames in os.walk(src, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        rel_dir = os.path.relpath(dirpath, src).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not skip(rel_dir + d, True))
        for name in sorted(filenames):
            rel = rel_dir + name
            if skip(rel, False):
                continue
            data = _read(os.path.join(dirpath, name))
            if name.endswith(".py"):
                entries[prefix + rel[:-3] + ".pyc"] = compile_source(
                    data, prefix + rel, docstrings is None or docstrings(rel))
                if keep_source is not None and keep_source(rel):
                    entries[prefix + rel] = data
            else:
                entries[prefix + rel] = data


def _matches(rel: str, names) -> bool:
    return any(rel == n or rel == n + ".py" or rel.startswith(n + "/") for n in names)


def stdlib_skip(extra_excludes=()):
    excludes = STDLIB_EXCLUDES + tuple(n.strip("/") for n in extra_excludes)

    def skip(rel: str, is_dir: bool) -> bool:
        base = rel.rsplit("/", 1)[-1]
        if _matches(rel, excludes) or base == "__pycache__":
            return True
        if is_dir:
            return base in _TEST_DIRS or ("/" not in rel and base.startswith("config-"))
        return base.endswith(_BINARY_SUFFIXES)
    return skip


def lib_skip(include_tornado_tests: bool):
    def skip(rel: str, is_dir: bool) -> bool:
        base = rel.rsplit("/", 1)[-1]
        top = rel.split("/", 1)[0]
        if base == "__pycache__" or top.endswith(".egg-info") or top in ("bin", "share"):
            return True
        if rel == TORNADO_TESTS and not include_tornado_tests:
            return True
        if is_dir:
            return False
        if top.endswith(".dist-info"):
            return base == "RECORD"
        return base.endswith(_LIB_DROP_SUFFIXES)
    return skip


def app_skip(appdir: str, out: str | None):
    out_real = os.path.realpath(out) if out else None

    def skip(rel: str, is_dir: bool) -> bool:
        base = rel.rsplit("/", 1)[-1]
        if base in APP_SKIP_DIRS or base.endswith(".egg-info"):
            return True
        if is_dir:
            return False
        if base.endswith((".pyc", ".pyo")) or base.startswith(".gale-pack-"):
            return True
        return out_real is not None and os.path.realpath(os.path.join(appdir, rel)) == out_real
    return skip


def _default_name(appdir: str) -> str:
    base = os.path.basename(os.path.abspath(appdir))
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "-" for c in base)
    cleaned = cleaned.lstrip("._-")[:64]
    return cleaned or "app"


def collect_app(appdir: str, name: str | None, out: str | None = None,
                target: str | None = None):
    """(entries under __gale_app__/, config text, app name) for APPDIR.
    For a Windows `target`, extension modules and DLLs in APPDIR are
    prepared to bind to the executable (pe.py), as dependencies' are."""
    if not os.path.isdir(appdir):
        raise GaleError("PACK", f"app folder not found: {appdir}")
    toml_path = os.path.join(appdir, "gale.toml")
    text = ""
    if os.path.isfile(toml_path):
        raw = _read(toml_path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise GaleError("CONFIG", f"{toml_path}: not UTF-8 text") from None
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise GaleError("CONFIG", f"{toml_path}: {exc}") from None
        # The identity is pack's to write: a bad value is pack's error.
        for key in config.IDENTITY_KEYS:
            if key in doc:
                config.check_identity(key, doc[key], toml_path, kind="PACK")
        layer = config.parse_text(text, toml_path, os.path.abspath(appdir))
        values = layer.values
        if not any(k in values for k in config.ENTRY_KEYS):
            raise GaleError("CONFIG", f"{toml_path}: set one of app, main or script")
        name = name or values.get("name")
    else:
        raise GaleError("CONFIG", f"no gale.toml in {appdir}: it must name the app with "
                                  "app = \"module:attr\", main = \"module:function\" "
                                  "or script = \"file.py\"")
    name = name or _default_name(appdir)
    if not config.NAME_RE.match(name):
        raise GaleError("PACK", f"app name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    entries = {}
    # Sources too: tracebacks show the app's lines, and inspect.getsource
    # works, from the extracted copies beside the modules' __file__.
    add_tree(entries, appdir, payload.APP_DIR + "/", app_skip(appdir, out), lambda rel: True)
    if target is not None and is_windows(target):
        from gale.pack import pe

        for path in entries:
            if path.lower().endswith((".pyd", ".dll")):
                try:
                    entries[path] = pe.hide_python_imports(entries[path], path)
                except GaleError:
                    pass  # not a 64-bit PE file: the app's own data, kept as it is
    return entries, text, name, values


def identity_for(name: str, values: dict, flags: dict | None = None):
    """The executable's Identity: gale.toml's keys (`values`, paths already
    absolute), overridden by pack's flags (checked here, relative paths
    against the current folder). The icon is read and checked now, so a bad
    one stops pack before anything is written."""
    merged = {k: values[k] for k in config.IDENTITY_KEYS if k in values}
    for key, value in (flags or {}).items():
        if value is None:
            continue
        config.check_identity(key, value, f"--{key.replace('_', '-')}", kind="PACK")
        merged[key] = os.path.abspath(value) if key == "icon" else value
    identity = peversion.Identity(name=name, **merged)
    if identity.icon:
        icons.load(identity.icon)
    return identity


def split_library(entries: dict, roots: list, hot) -> dict:
    """`entries` with the library's .pyc moved into the code archive, all
    but those under an extraction root, which stay members only (importer.py
    serves them). The BOOT_MODULES go to the archive's first chunk; the host
    carries them frozen too. A library that carries its archive already
    (taken from an executable) is kept as it is."""
    if payload.CODE_MEMBER in entries:
        return dict(entries)
    out, modules = {}, {}
    for path, data in entries.items():
        found = payload.module_name(path)
        if found is None or any(path.startswith(root + "/") for root in roots):
            out[path] = data
            continue
        modules[found[0]] = (data, found[1])
    out[payload.CODE_MEMBER] = payload.build_code_archive(modules, set(hot) | set(payload.BOOT_MODULES))
    return out


def assemble(out: str, host: bytes, library: dict, app=None, name: str = "gale",
             sbom_out: str | None = None, identity_flags: dict | None = None,
             identity=None, hot=(), site=None) -> dict:
    """Writes the executable OUT (and, given `sbom_out`, its SBOM there);
    returns a short summary. `hot`: the hot set (hotset.py) when `library`
    has no code archive yet."""
    entries = dict(library)
    config_text = ""
    values = {}
    if app is not None:
        app_entries, config_text, name, values = app
        entries.update(app_entries)
    if identity is None:  # pack_app made it already when it checked an MSI's needs
        identity = identity_for(name, values, identity_flags)
    if site is not None:
        entries.update(site["entries"])
    roots = [root for root in (payload.APP_DIR, payload.SITE_DIR)
             if any(p.startswith(root + "/") for p in entries)]
    if any(p.startswith(TORNADO_TESTS + "/") for p in entries):
        # The suite finds its certificates and templates through __file__, and
        # tornado.testing finds test/test.crt through its own __file__: the
        # whole package gets real locations in test builds.
        roots.append("tornado")
    entries = payload.with_parent_dirs(split_library(entries, roots, hot))
    check_boot(host, entries[payload.CODE_MEMBER])
    declared = "version" in values or (identity_flags or {}).get("version") is not None
    entries[payload.MANIFEST] = payload.build_manifest(
        name, config_text, entries, roots, identity.version if declared else None,
        site={k: site[k] for k in ("pth", "paths", "dists")} if site else None)
    entries = payload.with_parent_dirs(entries)
    if is_windows(executable_target(host) or ""):
        host = peversion.apply(host, identity)
    zip_bytes = payload.build_zip(entries, len(host))
    staged = None
    if sbom_out is not None:
        # Made and staged first: a host without a record, or an SBOM path
        # that cannot be written, leaves nothing written at all.
        bom = sbom.dumps(sbom.document(sbom.record_from_host(host, "the host template"), zip_bytes))
        staged = _write(sbom_out, payload.stage_file, sbom_out, (bom.encode("utf-8"),))
    try:
        _write(out, payload.write_executable, out, host, zip_bytes)
        if staged is not None:
            _write(sbom_out, os.replace, staged, os.path.abspath(sbom_out))
    except BaseException:
        if staged is not None and os.path.exists(staged):
            os.remove(staged)
        raise
    return {"out": os.path.abspath(out), "name": name, "identity": identity,
            "entries": len(entries),
            "payload": len(zip_bytes), "size": len(host) + len(zip_bytes),
            "sbom": sbom_out and os.path.abspath(sbom_out)}


def check_boot(host: bytes, code_member: bytes) -> None:
    """The host's frozen boot modules must be its library's own code, or the
    executable would refuse to start (libimport.py)."""
    found = payload.host_boot_id(host)
    if found is None:
        raise GaleError("PACK", "the host carries no frozen boot modules: it is not a host "
                                "of this Gale version")
    try:
        wanted = payload.library_boot_id(code_member)
    except payload.PayloadError as exc:
        raise GaleError("PACK", f"the library's code archive: {exc}") from None
    if found != wanted:
        raise GaleError("PACK", "the host and the library come from different Gale builds "
                                "(the host's frozen boot modules differ from the library's); "
                                "use a host template from the same build")


def _write(path: str, writer, *args):
    """writer(*args), with an OSError turned into PACK's one-line message
    about `path`."""
    try:
        return writer(*args)
    except OSError as exc:
        raise GaleError("PACK", f"cannot write {path}: {exc.strerror or exc}") from None


def load_base(path: str, offset: int | None = None, size: int | None = None):
    """(host, library entries or None) from a gale executable or a bare host file."""
    data = _read(path)
    if offset is None:
        found = payload.find_trailer(data)
        if found is None:
            return payload.strip_signature(data), None
        offset, size, _ = found
    try:
        library = payload.library_entries(data[offset:offset + size])
    except payload.PayloadError as exc:
        raise GaleError("PAYLOAD", f"{path}: {exc}") from None
    return payload.strip_signature(data[:offset]), library


# What an executable's header says it was built for (PE machine, ELF e_machine).
_ELF_MACHINES = {62: "linux-x86_64"}


def is_windows(target: str) -> bool:
    return target.startswith("win-")


def executable_target(data: bytes) -> str | None:
    """The target whose executables look like `data` (a file's first bytes),
    or None for anything else."""
    if data[:4] == b"\x7fELF" and data[4:6] == b"\x02\x01":  # 64-bit, little-endian
        return _ELF_MACHINES.get(int.from_bytes(data[18:20], "little"))
    if data[:2] == b"MZ" and len(data) >= 0x40:
        pe = int.from_bytes(data[0x3C:0x40], "little")
        if data[pe:pe + 4] == b"PE\0\0":
            return PE_MACHINES.get(int.from_bytes(data[pe + 4:pe + 6], "little"))
    return None


def output_path(out: str, target: str) -> str:
    """OUT as written: Windows only runs files named .exe, so Windows targets
    get the suffix unless OUT already ends in it."""
    if is_windows(target) and not out.lower().endswith(".exe"):
        return out + ".exe"
    return out


def template_path(target: str, exe: str) -> str:
    """The host template for `target` in the dist layout: gale-host[.exe] in
    the folder beside the running executable's, as dist/<target>/ is beside
    dist/<running target>/."""
    name = "gale-host.exe" if is_windows(target) else "gale-host"
    dist = os.path.dirname(os.path.dirname(os.path.abspath(exe)))
    path = os.path.join(dist, target, name)
    if not os.path.isfile(path):
        raise GaleError("PACK", f"no host template for {target}: {path} does not exist (build it "
                                f"with 'cmake --preset {target} && cmake --build --preset "
                                f"{target}', or name one with --host-template PATH)")
    return path


def load_template(path: str, target: str):
    """(host, library or None) from template `path`, which must be built for `target`."""
    if not os.path.isfile(path):
        raise GaleError("PACK", f"host template {path} does not exist")
    host, library = load_base(path)
    found = executable_target(host)
    if found != target:
        what = f"a {found} executable" if found else "not a Gale host executable"
        raise GaleError("PACK", f"host template {path} is {what}, not one for {target}")
    return host, library


def pack_app(appdir: str, out: str, *, name=None, target: str, exe: str,
             running_target: str, offset: int, size: int, template=None,
             sbom_out=None, identity_flags=None, make_msi=False, deps=None) -> dict:
    """`gale pack`: APPDIR onto a host for `target`; returns `assemble`'s summary.

    The host is `template` if given, else the running executable's own for
    its target, else `template_path`'s. A bare template (no payload) takes
    the library from the running executable: every target's payload carries
    the same one (cmake/GalePython.cmake)."""
    if target not in TARGETS:
        raise GaleError("PACK", f"unknown target {target!r} (known: {', '.join(TARGETS)})")
    out = output_path(out, target)
    if template is None and target != running_target:
        template = template_path(target, exe)
    app = collect_app(appdir, name, out, target)
    identity = None
    if make_msi:  # everything an MSI needs is checked before anything is written
        from gale.pack import msi

        if not is_windows(target):
            raise GaleError("PACK", "--msi is for the Windows targets")
        msi.check_tools()
        msi.check_name(app[2])
        identity = identity_for(app[2], app[3], identity_flags)
        if "version" not in app[3] and not (identity_flags or {}).get("version"):
            raise GaleError("PACK", "an MSI needs the app's version: set version in "
                                    "gale.toml or pass --version")
    if template is None:
        host, library = load_base(exe, offset, size)
    else:
        host, library = load_template(template, target)
        if library is None:
            _, library = load_base(exe, offset, size)
    site = install_deps(appdir, target, library, deps or {}, app[0])
    info = assemble(out, host, library, app, sbom_out=sbom_out, identity_flags=identity_flags,
                    identity=identity, site=site)
    if make_msi:
        try:
            info.update(msi.build(out, identity, target, app[3]))
        except BaseException:
            os.remove(out)  # no executable without the MSI that was asked for
            raise
    return info


def install_deps(appdir: str, target: str, library: dict, options: dict,
                 app_entries: dict | None = None):
    """The app's dependencies installed for `target` (deps.py), or None;
    on Windows, with what they need of the Visual C++ runtime reported, or
    carried (--msvc-runtime)."""
    from gale.pack import deps

    runtime = options.get("msvc_runtime")
    if runtime and not is_windows(target):
        raise GaleError("PACK", "--msvc-runtime is for the Windows targets")
    result = None if options.get("no_deps") else _install_declared(
        appdir, target, library, options, deps)
    if not is_windows(target):
        return result
    needs = deps.vc_runtime_needs({**(app_entries or {}), **(result or {}).get("entries", {})})
    log = deps.Packer.default_log
    if runtime:
        result = result or {"entries": {}, "dists": [], "pth": [], "paths": []}
        result["entries"].update(deps.msvc_runtime(runtime, target, log))
    elif needs:
        arch = "ARM64" if target == "win-arm64" else "x64"
        for dll, files in sorted(needs.items()):
            names = [f.split("/", 1)[1] for f in sorted(files)]
            more = f" and {len(names) - 4} more" if len(names) > 4 else ""
            log(f"{dll} is needed by {', '.join(names[:4])}{more}")
        log(f"Windows does not include {', '.join(sorted(needs))}: the machine needs the "
            f"Microsoft Visual C++ Redistributable for {arch} (most have it), or pack with "
            f"--msvc-runtime PATH to carry them")
    return result


def _install_declared(appdir: str, target: str, library: dict, options: dict, deps):
    """What APPDIR declares, installed (deps.plan, deps.install), or None."""
    builtin = {}
    for path in library:  # what the library carries that an app may name: Tornado
        found = payload.dist_info_name(path)
        if found and found[0] == "tornado":
            builtin[found[0]] = found[1]
    planned = deps.plan(appdir, target, requirements=options.get("requirements"),
                        wheels_dir=options.get("wheels"), index_url=options.get("index_url"),
                        builtin=builtin, full_version=sys.version.split()[0]
                        if sys.implementation.name == "cpython" else "3.13.0")
    if planned is None:
        if options.get("requirements") or options.get("wheels"):
            raise GaleError("PACK", f"{appdir} declares no dependencies")
        return None
    packer, the_plan = planned
    if the_plan.lock_text is not None:
        for wheel in the_plan.wheels:
            packer.log(f"  {wheel.name}=={wheel.version}")
    elif options.get("write_lock"):
        raise GaleError("PACK", f"--write-lock: {the_plan.source} is a lock already")
    result = deps.install(packer, the_plan, compile_source)
    packer.log(deps.summary(result))
    if options.get("write_lock"):  # once every wheel is fetched and checked
        _write(options["write_lock"], _write_text, options["write_lock"], the_plan.lock_text)
        packer.log(f"wrote {os.path.abspath(options['write_lock'])} (the resolved lock)")
    return result


def _write_text(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def _check_python() -> None:
    if sys.implementation.name != "cpython" or sys.version_info[:2] != PYTHON:
        raise GaleError("PACK", "the packer must run under CPython %d.%d (this is %s %s) so the "
                                ".pyc files match the host" % (*PYTHON, sys.implementation.name,
                                                               sys.version.split()[0]))


def build(args) -> str:
    _check_python()
    host, _ = load_base(args.host)
    entries = {}
    # The library (stdlib, Tornado, Gale's runtime) is compiled without
    # docstrings, as -OO would, but with asserts kept: 14 % of the compressed
    # library. help() and pydoc show no text for it; the app's own code keeps
    # its docstrings (collect_app), and so does tornado/test in the self-test
    # build (its tests read some). --keep-docstrings keeps them all.
    keep_doc = args.keep_docstrings

    def docstrings(rel: str) -> bool:
        return keep_doc or rel.startswith(TORNADO_TESTS + "/")
    add_tree(entries, args.stdlib, "", stdlib_skip(args.exclude_stdlib), docstrings=docstrings)
    for extra in args.stdlib_extra:
        if os.path.isdir(extra):
            add_tree(entries, extra, "", lambda rel, is_dir: rel.endswith(_BINARY_SUFFIXES),
                     docstrings=docstrings)
        else:
            name = os.path.basename(extra)
            data = _read(extra)
            if name.endswith(".py"):
                entries[name[:-3] + ".pyc"] = compile_source(data, name, keep_doc)
            else:
                entries[name] = data
    # The self-test build also carries Tornado's sources: its suite reads
    # them (api_test) and checks source lines in tracebacks (testing_test).
    keep = (lambda rel: rel.startswith("tornado/")) if args.include_tornado_tests else None
    for lib in args.lib:
        add_tree(entries, lib, "", lib_skip(args.include_tornado_tests), keep,
                 docstrings=docstrings)
    for pair in args.data:
        src, sep, dest = pair.partition("=")
        if not sep or not dest:
            raise GaleError("PACK", f"--data {pair!r}: expected SRC=DEST")
        entries[dest] = _read(src)
    app = collect_app(args.app, args.name, args.out) if args.app else None
    from gale.pack import hotset

    try:
        hot = hotset.measure(args.lib)
    except RuntimeError as exc:
        raise GaleError("PACK", str(exc)) from None
    return _wrote(assemble(args.out, host, entries, app, args.name or "gale", hot=hot))


def pack_onto(args) -> str:
    _check_python()
    app = collect_app(args.appdir, args.name, args.out)
    host, library = load_base(args.base)
    if library is None:
        raise GaleError("PACK", f"{args.base} carries no payload to take the library from")
    return _wrote(assemble(args.out, host, library, app))


def _wrote(info: dict) -> str:
    return (f"wrote {info['out']} ({info['name']}: {info['entries']} entries, "
            f"payload {info['payload']} bytes, {info['size']} bytes in all)")


def build_msi(args) -> str:
    from gale.pack import msi

    _, _, name, values = collect_app(args.app, None)
    identity = identity_for(name, values)
    info = msi.build(args.exe, identity, args.target, values)
    return (f"wrote {info['msi']} ({name} {identity.version}, {args.target}: "
            f"{os.path.getsize(info['msi'])} bytes, ProductCode {info['product_code']})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pylib/gale/pack", description="Build Gale executables.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="host + stdlib + libraries (+ app) -> executable")
    b.add_argument("--host", required=True)
    b.add_argument("--stdlib", required=True)
    b.add_argument("--stdlib-extra", action="append", default=[])
    b.add_argument("--lib", action="append", default=[], required=True)
    b.add_argument("--exclude-stdlib", action="append", default=[])
    b.add_argument("--include-tornado-tests", action="store_true")
    b.add_argument("--keep-docstrings", action="store_true")
    b.add_argument("--data", action="append", default=[], metavar="SRC=DEST")
    b.add_argument("--app")
    b.add_argument("--name")
    b.add_argument("-o", "--out", required=True)
    b.set_defaults(func=build)
    a = sub.add_parser("app", help="an app onto an existing gale executable")
    a.add_argument("appdir")
    a.add_argument("--base", required=True)
    a.add_argument("--name")
    a.add_argument("-o", "--out", required=True)
    a.set_defaults(func=pack_onto)
    m = sub.add_parser("msi", help="an MSI for a packed Windows executable")
    m.add_argument("exe")
    m.add_argument("--app", required=True)
    m.add_argument("--target", required=True, choices=("win-x64", "win-arm64"))
    m.set_defaults(func=build_msi)
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        line = args.func(args)
    except GaleError as exc:
        print(f"pack: error: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0

