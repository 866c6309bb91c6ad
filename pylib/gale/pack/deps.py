# SPDX-License-Identifier: MIT
"""An app's dependencies, installed for the target at pack time, from wheels.

Where they are declared, the first found wins (docs/dependencies.md):

    --requirements FILE          a pylock.toml or a requirements file
    APPDIR/pylock.toml           a PEP 751 lock
    APPDIR/requirements.txt
    APPDIR/pyproject.toml        [project] dependencies

A lock (pylock.toml, or a requirements file in which every requirement is
pinned with == and carries --hash) needs no resolver: each wheel that fits
the target's tags comes from --wheels DIR, or else from the index, and its
SHA-256 is checked. Anything else is resolved for the target by uv, when it
is on PATH, into a pylock.toml (--write-lock keeps it). Wheels only: nothing
is built. packaging evaluates markers and tags for the target, not for the
machine that packs; installer lays each wheel out.

Downloaded wheels are cached by SHA-256 in the user's cache.
"""

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.parse
import urllib.request

from gale.errors import GaleError
from gale.layout import SITE_DIR, VC_RUNTIME_DIR

PYTHON_VERSION = (3, 13)
# What the targets' hosts are: markers and tags are evaluated for them.
_TARGET_ENV = {
    "linux-x86_64": {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux",
                     "platform_machine": "x86_64"},
    "win-x64": {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows",
                "platform_machine": "AMD64"},
    "win-arm64": {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows",
                  "platform_machine": "ARM64"},
}
# uv's names for them (uv pip compile --python-platform).
UV_PLATFORMS = {"linux-x86_64": "x86_64-manylinux_2_28", "win-x64": "x86_64-pc-windows-msvc",
                "win-arm64": "aarch64-pc-windows-msvc"}
# The newest glibc the Linux host may need (Debian 12 builds it): manylinux
# wheels up to this level run beside it.
_GLIBC_MINOR = 36
PE_SUFFIXES = (".pyd", ".dll")


def _fail(message: str):
    raise GaleError("PACK", message.splitlines()[0])


def target_environment(target: str, full_version: str) -> dict:
    env = dict(_TARGET_ENV[target])
    env.update({"python_version": "%d.%d" % PYTHON_VERSION, "python_full_version": full_version,
                "implementation_name": "cpython", "implementation_version": full_version,
                "platform_python_implementation": "CPython", "platform_release": "",
                "platform_version": "", "extra": ""})
    return env


def target_tags(target: str) -> list:
    """The wheel tags the target's host accepts, best first."""
    from packaging import tags

    if target == "linux-x86_64":
        platforms = []
        for minor in range(_GLIBC_MINOR, 4, -1):
            platforms.append(f"manylinux_2_{minor}_x86_64")
            legacy = {17: "manylinux2014_x86_64", 12: "manylinux2010_x86_64",
                      5: "manylinux1_x86_64"}.get(minor)
            if legacy:
                platforms.append(legacy)
    else:
        platforms = ["win_amd64" if target == "win-x64" else "win_arm64"]
    found = list(tags.cpython_tags(PYTHON_VERSION, abis=["cp313"], platforms=platforms))
    found += list(tags.compatible_tags(PYTHON_VERSION, "cp313", platforms))
    return found


class Wheel:
    """One wheel to install: where it comes from and what it must hash to."""

    def __init__(self, name: str, version: str, filename: str, url: str | None,
                 hashes: set, size: int | None = None, path: str | None = None):
        self.name, self.version, self.filename = name, version, filename
        self.url, self.hashes, self.size, self.path = url, hashes, size, path
        self.sha256 = None


class Plan:
    """What will be installed, and from where it was declared."""

    def __init__(self, source: str, wheels: list, lock_text: str | None = None):
        self.source = source
        self.wheels = wheels
        self.lock_text = lock_text  # a pylock.toml uv wrote, for --write-lock


def find_source(appdir: str, requirements: str | None):
    """(kind, path) of the declared dependencies, or None."""
    if requirements:
        if not os.path.isfile(requirements):
            _fail(f"--requirements {requirements}: no such file")
        name = os.path.basename(requirements).lower()
        kind = "pylock" if re.fullmatch(r"pylock(\.[^.]+)?\.toml", name) else (
            "pyproject" if name == "pyproject.toml" else "requirements")
        return kind, requirements
    for kind, name in (("pylock", "pylock.toml"), ("requirements", "requirements.txt")):
        path = os.path.join(appdir, name)
        if os.path.isfile(path):
            return kind, path
    path = os.path.join(appdir, "pyproject.toml")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            try:
                doc = tomllib.load(f)
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                _fail(f"{path}: {exc}")
        project = doc.get("project", {})
        if not isinstance(project, dict):
            _fail(f"{path}: [project] must be a table")
        if project.get("dependencies"):
            return "pyproject", path
    return None


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")


def parse_requirements(path: str) -> tuple:
    """([(Requirement, {sha256 hashes})], index url or None) from a
    requirements file: one requirement per line, `\\` continues a line,
    `#` starts a comment; options: --hash, -i/--index-url."""
    from packaging.requirements import InvalidRequirement, Requirement

    text = _read_text(path).replace("\\\n", " ")
    out, index = [], None
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        words = line.split()
        if words[0] in ("-i", "--index-url") and len(words) == 2:
            index = words[1]
            continue
        if words[0].startswith("--index-url="):
            index = words[0].split("=", 1)[1]
            continue
        hashes, rest = set(), []
        for word in words:
            if word.startswith("--hash="):
                algo, _, digest = word[len("--hash="):].partition(":")
                if algo == "sha256":
                    hashes.add(digest.lower())
            elif word.startswith("-"):
                _fail(f"{path}, line {number}: option {word} is not supported here "
                      "(only --hash and --index-url)")
            else:
                rest.append(word)
        try:
            req = Requirement(" ".join(rest))
        except InvalidRequirement as exc:
            _fail(f"{path}, line {number}: {str(exc).splitlines()[0]}: {' '.join(rest)!r}")
        if req.url:
            _fail(f"{path}, line {number}: {req.name} names a URL; give a version")
        out.append((req, hashes))
    return out, index


def _pinned(req) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


class Packer:
    """Installs one app's dependencies for one target."""

    @staticmethod
    def default_log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def __init__(self, target: str, *, wheels_dir=None, index_url=None, log=None,
                 builtin=None, full_version="3.13.0"):
        self.target = target
        self.wheels_dir = wheels_dir
        self.index_url = index_url
        self.log = log or self.default_log
        self.builtin = builtin or {}  # distributions the library carries: name -> version
        self.env = target_environment(target, full_version)
        self.tags = target_tags(target)
        self._tag_rank = {str(t): i for i, t in enumerate(self.tags)}

    # --- choosing wheels ---------------------------------------------------

    def _marker_ok(self, marker) -> bool:
        from packaging.markers import UndefinedComparison, UndefinedEnvironmentName

        try:
            return marker is None or marker.evaluate(self.env)
        except (UndefinedComparison, UndefinedEnvironmentName) as exc:
            _fail(f"the marker {str(marker)!r} cannot be evaluated for {self.target}: {exc}")

    def _rank(self, filename: str):
        """(tag rank, name, version) for a wheel file that fits the target, else None."""
        from packaging.utils import InvalidWheelFilename, parse_wheel_filename

        try:
            name, version, _build, file_tags = parse_wheel_filename(filename)
        except InvalidWheelFilename:
            return None
        ranks = [self._tag_rank[str(t)] for t in file_tags if str(t) in self._tag_rank]
        return (min(ranks), name, version) if ranks else None

    def _builtin(self, name: str, spec) -> bool:
        """True if the library carries distribution `name` already (Tornado):
        then it is not installed again. A requirement it does not meet stops pack."""
        from packaging.utils import canonicalize_name

        have = self.builtin.get(canonicalize_name(name))
        if have is None:
            return False
        if spec is not None and not spec.contains(have, prereleases=True):
            _fail(f"the app needs {name}{spec}, but the executable carries {name} {have}, "
                  f"which Gale provides itself; relax the requirement")
        self.log(f"  {name} {have}: carried by the executable")
        return True

    def from_requirements(self, reqs: list, index: str | None) -> list:
        """Wheels for pinned, hashed requirements."""
        from packaging.utils import canonicalize_name

        wheels = []
        for req, hashes in reqs:
            if not self._marker_ok(req.marker):
                continue
            if self._builtin(req.name, req.specifier):
                continue
            version = _pinned(req)
            wheels.append(self._find(canonicalize_name(req.name), version, hashes, index))
        return wheels

    def from_uv_pins(self, reqs: list, source: str) -> list:
        """Wheels for a hashed lock, located by uv in the index it uses."""
        allowed, lines = {}, []
        for req, hashes in reqs:
            if not self._marker_ok(req.marker) or self._builtin(req.name, req.specifier):
                continue
            from packaging.utils import canonicalize_name

            allowed[canonicalize_name(req.name)] = hashes
            lines.append(f"{req.name}=={_pinned(req)}")
        if not lines:
            return []
        wheels = self.from_pylock(source, self.resolve(lines, source, no_deps=True))
        for wheel in wheels:
            wheel.hashes = allowed.get(wheel.name, set())
        return wheels

    def from_pylock(self, path: str, text: str | None = None) -> list:
        """Wheels for a PEP 751 lock."""
        try:
            return self._from_pylock(path, text)
        except (AttributeError, TypeError) as exc:
            _fail(f"{path}: not a valid pylock.toml ({exc})")

    def _from_pylock(self, path: str, text: str | None = None) -> list:
        from packaging.markers import InvalidMarker, Marker
        from packaging.utils import canonicalize_name

        try:
            doc = tomllib.loads(text if text is not None else _read_text(path))
        except tomllib.TOMLDecodeError as exc:
            _fail(f"{path}: {exc}")
        if not str(doc.get("lock-version", "")).startswith("1"):
            _fail(f"{path}: not a pylock.toml of lock-version 1.x")
        wheels = []
        for package in doc.get("packages", []):
            name = canonicalize_name(package.get("name", ""))
            try:
                marker = Marker(package["marker"]) if package.get("marker") else None
            except InvalidMarker as exc:
                _fail(f"{path}: package {name}: {exc}")
            if not self._marker_ok(marker):
                continue
            if self._builtin(name, None):
                continue
            candidates = []
            base = os.path.dirname(os.path.abspath(path))
            for entry in package.get("wheels", []):
                if entry.get("path") and not os.path.isabs(entry["path"]):
                    entry = dict(entry, path=os.path.join(base, entry["path"]))  # PEP 751: relative to the lock
                url = entry.get("url") or entry.get("path")
                filename = entry.get("name") or (url and os.path.basename(urllib.parse.urlparse(url).path))
                rank = filename and self._rank(filename)
                if rank:
                    sha = (entry.get("hashes") or {}).get("sha256")
                    candidates.append((rank[0], Wheel(name, package.get("version", ""), filename,
                                                      entry.get("url"), {sha} if sha else set(),
                                                      entry.get("size"),
                                                      entry.get("path"))))
            if not candidates:
                _fail(f"{path}: {name} {package.get('version', '')} has no wheel for "
                      f"{self.target} in the lock")
            wheel = min(candidates, key=lambda c: c[0])[1]
            if not wheel.hashes:
                _fail(f"{path}: {name}'s wheel {wheel.filename} has no sha256 in the lock")
            if self.wheels_dir:
                local = os.path.join(self.wheels_dir, wheel.filename)
                if not os.path.isfile(local):
                    _fail(f"{name} {wheel.version}: {wheel.filename} is not in {self.wheels_dir}")
                wheel.path, wheel.url = local, None
            wheels.append(wheel)
        return wheels

    def _find(self, name: str, version: str, hashes: set, index: str | None) -> Wheel:
        """The best wheel of `name`==`version` for the target, from the wheel
        folder or the index, among files whose hash the lock allows."""
        from packaging.version import InvalidVersion, Version

        try:
            wanted = Version(version)
        except InvalidVersion:
            _fail(f"{name}=={version}: not a version Gale can find a wheel for")
        if self.wheels_dir:
            found = []
            for filename in sorted(os.listdir(self.wheels_dir)):
                rank = self._rank(filename)
                if rank and rank[1] == name and rank[2] == wanted:
                    found.append((rank[0], filename))
            if not found:
                _fail(f"{name} {version}: no wheel for {self.target} in {self.wheels_dir}")
            filename = min(found)[1]
            return Wheel(name, version, filename, None, hashes,
                         path=os.path.join(self.wheels_dir, filename))
        files = self._index_files(name, index)
        found = []
        for entry in files:
            rank = self._rank(entry["filename"])
            if rank and rank[1] == name and rank[2] == wanted:
                found.append((rank[0], entry))
        if not found:
            sdists = [e for e in files if version in e["filename"] and not e["filename"].endswith(".whl")]
            why = " (only a source distribution, and Gale installs wheels only)" if sdists else ""
            _fail(f"{name} {version} has no wheel for {self.target}, CPython 3.13{why}")
        entry = min(found, key=lambda f: f[0])[1]
        return Wheel(name, version, entry["filename"], entry["url"], hashes,
                     entry.get("size"))

    def _index_files(self, name: str, index: str | None) -> list:
        base = index or self.index_url or default_index()
        url = base.rstrip("/") + "/" + name + "/"
        request = urllib.request.Request(url, headers={
            "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
        data, content_type = _fetch(request, url)
        if "json" in content_type:
            doc = json.loads(data)
            return [{"filename": f["filename"], "url": urllib.parse.urljoin(url, f["url"]),
                     "hashes": f.get("hashes") or {}, "size": f.get("size")}
                    for f in doc.get("files", [])]
        files = []
        for href in re.findall(r'<a[^>]*href="([^"]+)"', data.decode("utf-8", "replace")):
            full = urllib.parse.urljoin(url, href.replace("&amp;", "&"))
            parsed = urllib.parse.urlparse(full)
            digest = dict(p.split("=", 1) for p in [parsed.fragment] if "=" in p)
            files.append({"filename": urllib.parse.unquote(os.path.basename(parsed.path)),
                          "url": full.split("#")[0], "hashes": digest})
        return files

    # --- resolving with uv -------------------------------------------------

    def resolve(self, lines: list, source: str, no_deps: bool = False) -> str:
        """A pylock.toml's text for unpinned requirements `lines`, from uv
        (with `no_deps`, for exactly these pins: what a lock needs from an
        index that only uv knows)."""
        uv = shutil.which("uv")
        if uv is None:
            _fail(f"{source} is not a lock (every requirement pinned with == and --hash), and "
                  "uv is not on PATH to resolve it: install uv, or write a lock with "
                  "'uv pip compile --python-platform "
                  f"{UV_PLATFORMS[self.target]} --python-version 3.13 --no-build "
                  "requirements.in -o pylock.toml'")
        with tempfile.TemporaryDirectory(prefix="gale-resolve-") as tmp:
            req_in = os.path.join(tmp, "requirements.in")
            with open(req_in, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            out = os.path.join(tmp, "pylock.toml")
            cmd = [uv, "pip", "compile", "--quiet", "--python-platform", UV_PLATFORMS[self.target],
                   "--python-version", "3.13", "--no-build", "--no-header", req_in, "-o", out]
            if self.index_url:
                cmd += ["--index-url", self.index_url]
            if no_deps:
                cmd.append("--no-deps")
            what = "locating the pinned wheels" if no_deps else "resolving the requirements"
            self.log(f"{what} of {source} for {self.target} with uv")
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                detail = [l.strip() for l in run.stderr.splitlines() if l.strip()]
                _fail(f"uv could not resolve {source} for {self.target}: "
                      + (" ".join(detail[-3:]) if detail else f"exit {run.returncode}"))
            return _read_text(out)

    # --- fetching ----------------------------------------------------------

    def fetch(self, wheel: Wheel) -> str:
        """The path of `wheel`'s verified file: from the folder, the cache, or downloaded."""
        if wheel.path:  # from --wheels DIR, or a lock's local path
            sha = _sha256_file(wheel.path)
            self._check_hash(wheel, sha)
            wheel.sha256 = sha
            return wheel.path
        cache = wheel_cache()
        for sha in sorted(wheel.hashes):
            cached = os.path.join(cache, sha, wheel.filename)
            if os.path.isfile(cached) and _sha256_file(cached) == sha:
                wheel.sha256 = sha
                return cached
        if not wheel.url:
            _fail(f"{wheel.name} {wheel.version}: {wheel.filename} has no URL to download")
        size = f" ({_size(wheel.size)})" if wheel.size else ""
        self.log(f"  downloading {wheel.filename}{size}")
        data, _ = _fetch(urllib.request.Request(wheel.url), wheel.url)
        sha = hashlib.sha256(data).hexdigest()
        self._check_hash(wheel, sha)
        folder = os.path.join(cache, sha)
        os.makedirs(folder, exist_ok=True)
        final = os.path.join(folder, wheel.filename)
        tmp = final + f".tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, final)
        wheel.sha256 = sha
        return final

    def _check_hash(self, wheel: Wheel, sha: str) -> None:
        if wheel.hashes and sha not in wheel.hashes:
            _fail(f"{wheel.name} {wheel.version}: {wheel.filename} has SHA-256 {sha}, which "
                  f"the lock does not allow (expected {', '.join(sorted(wheel.hashes))})")
        if not wheel.hashes:
            _fail(f"{wheel.name} {wheel.version}: no SHA-256 to check {wheel.filename} against")


def configured_index() -> str | None:
    for var in ("PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        if os.environ.get(var):
            return os.environ[var]
    return None


def default_index() -> str:
    if configured_index():
        return configured_index()
    _fail("no package index is configured: pass --index-url URL (a simple-API index such "
          "as PyPI's), set PIP_INDEX_URL, put uv on PATH (it knows its own), or use --wheels DIR")


def wheel_cache() -> str:
    if os.environ.get("GALE_WHEEL_CACHE"):
        return os.environ["GALE_WHEEL_CACHE"]
    if sys.platform == "win32":
        root = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"),
                                                                "AppData", "Local")
        return os.path.join(root, "Gale", "wheels")
    root = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(root):
        root = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "gale", "wheels")


@functools.cache  # one per pack: loading the certificates is not free
def _ssl_context():
    import ssl

    cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("PIP_CERT")
    capath = os.environ.get("SSL_CERT_DIR")
    if cafile and os.path.isfile(cafile) or capath and os.path.isdir(capath):
        return ssl.create_default_context(cafile=cafile if cafile and os.path.isfile(cafile)
                                          else None,
                                          capath=capath if capath and os.path.isdir(capath)
                                          else None)
    context = ssl.create_default_context()
    if sys.platform != "win32":  # the static OpenSSL's own folder may not exist here
        for bundle in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                       "/etc/ssl/cert.pem"):
            if os.path.isfile(bundle):
                context.load_verify_locations(cafile=bundle)
                break
    return context


def _fetch(request, url: str):
    try:
        with urllib.request.urlopen(request, timeout=60, context=_ssl_context()) as resp:
            return resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        _fail(f"{url}: HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        _fail(f"cannot reach {url}: {reason}")


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(n, 1) / 1e3:.0f} kB"


def plan(appdir: str, target: str, *, requirements=None, wheels_dir=None, index_url=None,
         builtin=None, full_version="3.13.0", log=None):
    """(Packer, Plan) for APPDIR's declared dependencies, or None if it declares none."""
    found = find_source(appdir, requirements)
    if found is None:
        return None
    kind, path = found
    packer = Packer(target, wheels_dir=wheels_dir, index_url=index_url, log=log,
                    builtin=builtin, full_version=full_version)
    if kind == "pylock":
        return packer, Plan(path, packer.from_pylock(path))
    if kind == "pyproject":
        with open(path, "rb") as f:
            lines = list(tomllib.load(f)["project"]["dependencies"])
        reqs, index = None, None
    else:
        reqs, index = parse_requirements(path)
        lines = [str(r) for r, _ in reqs]
    if reqs and all(_pinned(r) and h for r, h in reqs):
        if wheels_dir or index or index_url or configured_index() or not shutil.which("uv"):
            return packer, Plan(path, packer.from_requirements(reqs, index))
        # No index is configured, but uv knows its own: it finds the pinned
        # files, and their hashes are still the lock's.
        return packer, Plan(path, packer.from_uv_pins(reqs, path))
    if index and not index_url:
        packer.index_url = index
    if wheels_dir:
        _fail(f"{path} is not a lock (every requirement pinned with == and --hash): "
              "--wheels installs only a lock")
    text = packer.resolve(lines, path)
    return packer, Plan(path, packer.from_pylock(path, text), text)


def install(packer: Packer, the_plan: Plan, compile_source) -> dict:
    """Fetches and installs the plan's wheels; returns {"entries": zip
    entries under SITE_DIR/, "dists": [...], "pth": [import lines], "paths":
    [folders under SITE_DIR/ that .pth files add to the path]}."""
    from installer import install as install_wheel
    from installer.sources import WheelFile

    entries, dists, pth, paths = {}, [], [], []
    for wheel in the_plan.wheels:
        path = packer.fetch(wheel)
        destination = _ZipDestination(entries, wheel, compile_source, packer.target)
        try:
            with WheelFile.open(path) as source:
                install_wheel(source, destination, {"INSTALLER": b"gale\n"})
        except GaleError:
            raise
        except Exception as exc:  # installer's own errors: a damaged or invalid wheel
            _fail(f"{wheel.filename}: cannot install: {exc}")
        pth.extend(destination.pth)
        paths.extend(p for p in destination.paths if p not in paths)
        if destination.dist_info:  # the wheel it came from, for the SBOM (sbom.py)
            entries[f"{SITE_DIR}/{destination.dist_info}/gale-source.json"] = json.dumps(
                {"file": wheel.filename, "sha256": wheel.sha256}).encode() + b"\n"
        dists.append({"name": wheel.name, "version": str(wheel.version),
                      "wheel": wheel.filename, "sha256": wheel.sha256,
                      "binary": destination.binary, "size": os.path.getsize(path)})
    return {"entries": entries, "dists": dists, "pth": pth, "paths": paths}


class _ZipDestination:
    """installer's destination: files into zip entries under SITE_DIR/.

    purelib and platlib both land in the site folder (.data/purelib and
    .data/platlib included); scripts, headers and data are dropped (nothing
    runs them inside an executable). .py files are compiled; a Windows
    extension's python3*.dll imports are prepared for the host (pe.py)."""

    def __init__(self, entries: dict, wheel: Wheel, compile_source, target: str):
        self.entries, self.wheel = entries, wheel
        self.compile_source, self.target = compile_source, target
        self.pth, self.paths, self.binary, self.dist_info = [], [], False, None

    def write_script(self, name, module, attr, section):
        return None

    def write_file(self, scheme, path, stream, is_executable):
        from installer.records import Hash, RecordEntry

        data = stream.read()
        record = RecordEntry(path, Hash("sha256", hashlib.sha256(data).hexdigest()), len(data))
        if scheme not in ("purelib", "platlib"):
            return record
        rel = path.replace("\\", "/")
        if rel.endswith(".dist-info/METADATA") and rel.count("/") == 1:
            self.dist_info = rel.split("/")[0]
        if rel.endswith((".so", ".pyd", ".dll")) or ".so." in rel.rsplit("/", 1)[-1]:
            self.binary = True
        if rel.endswith(PE_SUFFIXES) and self.target.startswith("win-"):
            from gale.pack import pe

            data = pe.hide_python_imports(data, f"{self.wheel.filename}: {rel}")
        if rel.endswith(".py"):
            self.entries[f"{SITE_DIR}/{rel[:-3]}.pyc"] = self.compile_source(
                data, f"{SITE_DIR}/{rel}")
            return record
        if "/" not in rel and rel.endswith(".pth"):
            self._read_pth(rel, data.decode("utf-8", "replace"))
            return record
        self.entries[f"{SITE_DIR}/{rel}"] = data
        return record

    def _read_pth(self, name: str, text: str) -> None:
        """As site.py reads a .pth: `import` lines are run at start, other
        lines name folders (relative to the site folder) added to the path."""
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith(("import ", "import\t")):
                self.pth.append(line)
                continue
            folder = line.strip().replace("\\", "/").strip("/")
            if os.path.isabs(line.strip()) or ".." in folder.split("/"):
                _fail(f"{self.wheel.filename}: {name} names {line.strip()!r}, outside the "
                      "package's folder")
            self.paths.append(folder)

    def finalize_installation(self, scheme, record_file_path, records):
        return None


def summary(result: dict) -> str:
    dists = result["dists"]
    binary = sum(1 for d in dists if d["binary"])
    size = sum(len(v) for v in result["entries"].values())
    return (f"packed {len(dists)} distributions ({binary} binary), "
            f"{_size(size)} installed")


# The Visual C++ runtime's DLLs: what MSVC-built extensions import and
# Windows does not include (the redistributable installs them).
def is_vc_runtime(name: str) -> bool:
    low = name.lower()
    return low.endswith(".dll") and low.startswith(
        ("vcruntime140", "msvcp140", "concrt140", "vcomp140", "vccorlib140"))




def vc_runtime_needs(entries: dict) -> dict:
    """{VC runtime DLL name: [files that import it]} over the PE files in
    `entries` (zip path -> bytes), leaving out DLLs carried beside them."""
    from gale.pack import pe

    carried = {p.rsplit("/", 1)[-1].lower() for p in entries}
    needs = {}
    for path, data in entries.items():
        if not path.lower().endswith((".pyd", ".dll")):
            continue
        try:
            imports = pe.PEFile(data, path).imports()
        except GaleError:
            continue
        for name in imports:
            if is_vc_runtime(name) and name.lower() not in carried:
                needs.setdefault(name.lower(), []).append(path)
    return needs


def msvc_runtime(path: str, target: str, log) -> dict:
    """Zip entries that carry the Visual C++ runtime DLLs from `path` (the
    msvc-runtime wheel, or a folder holding the DLLs) for `target`, with a
    dist-info for the SBOM."""
    import zipfile

    from gale.pack import pe

    files, dist_files, meta, source = {}, {}, None, None
    if os.path.isfile(path) and path.endswith(".whl"):
        try:
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    parts = name.split("/")
                    # Its DLLs are in .data/data/ and .data/data/Scripts/
                    # (vcruntime140.dll in the latter only).
                    if (parts[0].endswith(".data") and len(parts) in (3, 4)
                            and parts[1] == "data" and parts[2:-1] in ([], ["Scripts"])):
                        files.setdefault(parts[-1], zf.read(name))
                    elif (parts[0].endswith(".dist-info") and parts[-1] != "RECORD"
                          and not name.endswith("/")):
                        meta = parts[0]
                        dist_files[name] = zf.read(name)
        except (OSError, zipfile.BadZipFile) as exc:
            _fail(f"--msvc-runtime {path}: not a readable wheel ({exc})")
        source = {"file": os.path.basename(path), "sha256": _sha256_file(path)}
    elif os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if is_vc_runtime(name):
                with open(os.path.join(path, name), "rb") as f:
                    files[name] = f.read()
    else:
        _fail(f"--msvc-runtime {path}: neither the msvc-runtime wheel nor a folder")
    entries = {f"{SITE_DIR}/{name}": data for name, data in dist_files.items()}
    kept, skipped = [], []
    for name, data in sorted(files.items()):
        if not is_vc_runtime(name):
            continue
        found = pe.PEFile(data, os.path.join(path, name)).target
        if found != target:
            skipped.append(f"{name} ({found or 'unknown machine'})")
            continue
        entries[f"{SITE_DIR}/{VC_RUNTIME_DIR}/{name}"] = data
        kept.append(name)
    if not kept:
        _fail(f"--msvc-runtime {path}: no Visual C++ runtime DLL for {target} in it")
    if meta is None:  # a folder: say what it is in the SBOM all the same
        meta = "msvc_runtime_folder-0.dist-info"
        entries[f"{SITE_DIR}/{meta}/METADATA"] = (
            "Metadata-Version: 2.1\nName: msvc-runtime-folder\nVersion: 0\n"
            "License: Microsoft Visual C++ Redistributable (see the Visual Studio license)\n"
            f"Summary: the Visual C++ runtime DLLs from {os.path.basename(os.path.abspath(path))}\n"
        ).encode()
    elif source is not None:
        entries[f"{SITE_DIR}/{meta}/gale-source.json"] = json.dumps(source).encode() + b"\n"
    log(f"carrying the Visual C++ runtime for {target}: {', '.join(kept)}"
        + (f" (left out, for another machine: {', '.join(skipped)})" if skipped else "")
        + "; Microsoft's licence terms apply to redistributing them")
    return entries
