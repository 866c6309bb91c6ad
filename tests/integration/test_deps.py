# SPDX-License-Identifier: MIT
"""Apps with dependencies: `gale pack` installs them for the target from
wheels, and binary extension modules load in the static host
(docs/dependencies.md, docs/extensions.md).

The fixture app (tests/fixtures/binary-deps) locks orjson, MarkupSafe,
pydantic (pydantic-core is Rust), cryptography (Rust, abi3, with its own
OpenSSL), pyzmq (Cython, abi3, with libzmq beside it: delvewheel's
pyzmq.libs on Windows, auditwheel's on Linux) and, for Windows only,
colorama. Its wheels come from the package index through pack's own path
and are cached by SHA-256 in $GALE_CACHE/wheels (GALE_WHEEL_CACHE).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from harness import WINE_DLL_OVERRIDES, exit_codes, get, one_error_line

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "fixtures", "binary-deps")


def index_url() -> str:
    """The index pip on this machine uses (read at run time, never written)."""
    for var in ("PIP_INDEX_URL", "UV_INDEX_URL"):
        if os.environ.get(var):
            return os.environ[var]
    from pip._internal.models.index import PyPI

    return PyPI.simple_url


def wheel_cache() -> str:
    cache = os.environ.get("GALE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "gale")
    return os.path.join(cache, "wheels")


def pack(linux_exe, *args, env=None, path=None):
    """`gale pack ARGS` by the Linux executable, as a user packs on Linux."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("GALE_")}
    full["GALE_WHEEL_CACHE"] = wheel_cache()
    if path is not None:
        full["PATH"] = path
    full.update(env or {})
    return subprocess.run([linux_exe, "pack", *args], env=full, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def packed(linux_exe, target, tmp_path_factory):
    """(executable, pack's stderr, SBOM) of the fixture app for the target."""
    out_dir = tmp_path_factory.mktemp("bindeps")
    out = str(out_dir / "bindeps")
    sbom = str(out_dir / "bindeps.cdx.json")
    run = pack(linux_exe, FIXTURE, "--target", target, "-o", out, "--index-url", index_url(),
               "--sbom", sbom)
    assert run.returncode == 0, run.stderr
    exe = out + (".exe" if target.startswith("win-") else "")
    with open(sbom) as f:
        return exe, run.stderr, json.load(f)


@pytest.fixture
def rust_env(host, request):
    """The environment Rust extensions need: under Debian 12's Wine 8 a
    stand-in bcryptprimitives.dll (tests/tools/bcryptprimitives.c)."""
    if host.target != "win-x64":
        return {}
    planted = request.config.getoption("--gale-planted-dll")
    dll = os.path.join(os.path.dirname(os.path.abspath(planted)), "bcryptprimitives.dll")
    system32 = os.path.join(host.prefix, "drive_c", "windows", "system32")
    shutil.copyfile(dll, os.path.join(system32, "bcryptprimitives.dll"))
    return {"WINEDLLOVERRIDES": WINE_DLL_OVERRIDES + ";bcryptprimitives=n"}


def test_binary_wheels_work_in_the_host(host, packed, rust_env):
    exe, stderr, _ = packed
    # Pack said what it packed.
    counted = "packed 12 distributions (6 binary)" if host.windows else \
        "packed 11 distributions (6 binary)"
    assert counted in stderr, stderr
    proc = host.serve(exe=exe, env=rust_env)
    # Under qemu, libzmq's threads stop Wine (svc.py): its version only.
    status, body = get(proc.url + ("/" if host.target == "win-arm64" else "/?zmq=sockets"))
    assert status == 200, body
    report = json.loads(body)
    assert proc.stop() == 0, proc.stderr
    assert report["orjson"] == '{"f":[1.5,null,"\u00e9"]}'
    assert report["escape"] == "&lt;a href=&#39;x&#39;&gt;"
    assert report["escape_module"] == "markupsafe._speedups"
    assert report["pydantic"] == {"id": 7, "price": 2.5, "tags": ["a"]}
    assert report["pydantic_errors"] == 2
    # The GCM spec's test case 1, and RFC 7748's X25519 public key for Alice.
    assert report["aesgcm_tag"] == "58e2fccefa7e3061367f1d57a4e7455a"
    assert report["x25519_public"] == ("8520f0098930a754748b7ddcb43ef75a"
                                       "0dbf3a0d26381af4eba4a98eaa9b4e6a")
    assert report["zmq"] == ("not tried" if host.target == "win-arm64" else "ping")
    assert report["zmq_version"].startswith("4.")
    # Gale's own OpenSSL still serves ssl and hashlib in the same process.
    assert report["ssl"].startswith("OpenSSL 3.5") and report["ssl_context"] is True
    assert report["sha256"] == hashlib.sha256(b"gale").hexdigest()
    # The marker `sys_platform == "win32"` is evaluated for the target.
    assert report["colorama"] is host.windows
    # The extensions were extracted under the user's cache, as resources are.
    assert report["orjson_file"].startswith(host.exe_cache_root()), report["orjson_file"]
    if host.windows:
        # No python3*.dll was loaded, and the only .exe is the executable itself.
        assert report["python_dlls"] == [report["executable"]], report["python_dlls"]


def test_sbom_lists_the_wheels(packed, target):
    _, _, doc = packed
    found = {re.sub(r"[-_.]+", "-", c["name"]).lower(): c for c in doc["components"]
             if {"name": "gale:location", "value": "dependency"} in c.get("properties", [])}
    assert "orjson" in found and "cryptography" in found and "pydantic-core" in found, found
    assert ("colorama" in found) is target.startswith("win-")
    with open(os.path.join(FIXTURE, "requirements.txt")) as f:
        lock = f.read()
    for comp in found.values():
        name = re.sub(r"[-_.]+", "-", comp["name"]).lower()
        assert comp["purl"] == f"pkg:pypi/{name}@{comp['version']}"
        (digest,) = [h["content"] for h in comp["hashes"] if h["alg"] == "SHA-256"]
        assert f"sha256:{digest}" in lock, comp["name"]  # the wheel the lock allowed
        wheel = [p["value"] for p in comp["properties"] if p["name"] == "gale:source-file"]
        assert wheel and wheel[0].endswith(".whl"), comp
    assert found["orjson"]["version"] == "3.13.0"
    assert found["cryptography"].get("licenses"), found["cryptography"]


def test_renamed_exe_ignores_planted_python_dlls(host, packed, rust_env, request, tmp_path):
    """The extensions bind to the running executable, whatever its name: a
    python313.dll or python3.dll beside it, or a copy of the executable
    under its old name, is never loaded."""
    if not host.windows:
        pytest.skip("the Windows loader")
    exe, _, _ = packed
    planted = request.config.getoption("--gale-planted-dll")
    folder = tmp_path / "app"
    folder.mkdir()
    renamed = folder / "Renamed Server App.exe"
    shutil.copyfile(exe, renamed)
    shutil.copyfile(exe, folder / os.path.basename(exe))  # its old name, beside it
    for name in ("python313.dll", "python3.dll"):
        shutil.copyfile(planted, folder / name)
    code = ("import orjson, markupsafe._speedups, zmq, svc, json; zmq.zmq_version(); "
            "from cryptography.hazmat.primitives.ciphers.aead import AESGCM; "
            "print(json.dumps([orjson.dumps(1).decode(), svc._python_dlls()]))")
    out = host.run("python", "-c", code, exe=str(renamed), env=rust_env)
    assert out.returncode == 0, out.stderr
    value, modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert value == "1"
    assert [m.lower() for m in modules] == [host.path(renamed).lower()], modules
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".loaded")]


def test_changed_extension_is_refused(host, packed):
    exe, _, _ = packed
    first = host.run("python", "-c", "import orjson; print(orjson.__file__)", exe=exe)
    assert first.returncode == 0, first.stderr
    package = host.pathmod.dirname(first.stdout.strip().splitlines()[-1])
    exe_root = host.exe_cache_root()  # the extraction is under the cache, as the exe names it
    assert package.lower().startswith(exe_root.lower()), (package, exe_root)
    rel = package[len(exe_root):].lstrip("\\/").replace("\\", "/")
    local = os.path.join(host.cache_root(), *rel.split("/"))
    (binary,) = [os.path.join(local, n) for n in os.listdir(local)
                 if n.endswith((".pyd", ".so"))]
    with open(binary, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    out = host.run("check", "--app", "eager:app", exe=exe)
    assert out.returncode == exit_codes(host)["PAYLOAD"], out.stderr
    line = one_error_line(out.stderr)
    assert "was changed after extraction" in line and os.path.basename(binary) in line, line


def test_the_target_packs_with_dependencies_too(host, packed, tmp_path):
    """`gale pack` inside the target's own executable: packaging and
    installer run there too (the library carries them)."""
    platform = {"linux-x86_64": "manylinux", "win-x64": "win_amd64",
                "win-arm64": "win_arm64"}[host.target]
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for folder, _, files in os.walk(wheel_cache()):
        for name in files:
            if name.startswith(("orjson-3.13.0-", "markupsafe-3.0.4-")) and platform in name:
                shutil.copyfile(os.path.join(folder, name), wheels / name)
    assert len(os.listdir(wheels)) == 2, os.listdir(wheels)
    app = write_app(tmp_path / "app", lock_lines("orjson", "markupsafe"))
    out_exe = host.exe_path(tmp_path / "packed-here")
    run = host.run("pack", host.path(app), "-o", host.path(tmp_path / "packed-here"),
                   "--wheels", host.path(wheels), timeout=600)
    assert run.returncode == 0, run.stderr
    assert "packed 2 distributions (2 binary)" in run.stderr, run.stderr
    out = host.run("python", "-c", "import orjson, markupsafe; "
                   "print(orjson.dumps([str(markupsafe.escape('<'))]).decode())", exe=out_exe)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == '["&lt;"]'


def test_missing_vc_runtime_is_named(host, packed):
    """With Wine's own vcruntime140.dll switched off, as on a Windows
    without the Visual C++ Redistributable: one line that names the DLL and
    the redistributable, never "DLL load failed"."""
    if not host.windows:
        pytest.skip("the Visual C++ runtime is a Windows matter")
    exe, _, _ = packed
    env = {"WINEDLLOVERRIDES": WINE_DLL_OVERRIDES + ";vcruntime140=d"}
    out = host.run("check", "--app", "eager:app", exe=exe, env=env)
    assert out.returncode == exit_codes(host)["APP"], out.stderr
    line = one_error_line(out.stderr)
    arch = "ARM64" if host.target == "win-arm64" else "x64"
    assert "vcruntime140.dll" in line.lower(), line
    assert f"Visual C++ Redistributable for {arch}" in line, line
    assert "DLL load failed" not in out.stderr


# The msvc-runtime wheel (Microsoft's DLLs, redistributable under the Visual
# Studio licence), by the SHA-256 of its file for each Windows target.
MSVC_RUNTIME = ("msvc-runtime==14.51.36231", {
    "win-x64": ("win_amd64", "f3c3ac4f733a774f6ae209567e533bfde6f72dc1c10977733bfe09ce01e5b624"),
    "win-arm64": ("win_arm64", "52f9fd6e089eac9d72607d3ac4ffebcd5f0d6f940fca83db8a9c12ca11b1c26c"),
})


def msvc_runtime_wheel(target: str) -> str:
    requirement, by_target = MSVC_RUNTIME
    platform, sha256 = by_target[target]
    folder = os.path.join(wheel_cache(), "msvc-runtime", target)
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        with open(os.path.join(folder, name), "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() == sha256:
                return os.path.join(folder, name)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "--platform", platform, "--python-version", "3.13",
                    "--implementation", "cp", "--abi", "cp313", "--index-url", index_url(),
                    "-d", folder, requirement], check=True, timeout=300)
    return msvc_runtime_wheel(target)


def test_msvc_runtime_is_carried_when_asked(host, linux_exe, packed, tmp_path):
    """Without --msvc-runtime pack says which DLLs the machine needs; with
    it, Microsoft's DLLs ride in the executable and load from there (Wine's
    own vcruntime140 is switched off)."""
    if not host.windows:
        pytest.skip("the Visual C++ runtime is a Windows matter")
    _, stderr, _ = packed
    arch = "ARM64" if host.target == "win-arm64" else "x64"
    # Which files need which runtime DLL, and where the DLLs come from.
    needed = [l for l in stderr.splitlines() if l.startswith("vcruntime140.dll is needed by ")]
    assert needed and ".cp313-win_" in needed[0], stderr
    assert f"Visual C++ Redistributable for {arch}" in stderr, stderr

    app = write_app(tmp_path / "app", lock_lines("orjson", "markupsafe"))
    out = str(tmp_path / "withruntime")
    sbom = str(tmp_path / "withruntime.cdx.json")
    run = pack(linux_exe, str(app), "--target", host.target, "-o", out, "--index-url",
               index_url(), "--msvc-runtime", msvc_runtime_wheel(host.target), "--sbom", sbom)
    assert run.returncode == 0, run.stderr
    assert "carrying the Visual C++ runtime" in run.stderr and "vcruntime140.dll" in run.stderr
    code = ("import orjson, ctypes; from ctypes import wintypes; "
            "k = ctypes.WinDLL('kernel32'); k.GetModuleHandleW.restype = wintypes.HMODULE; "
            "k.GetModuleFileNameW.argtypes = [wintypes.HMODULE, wintypes.LPWSTR, wintypes.DWORD]; "
            "b = ctypes.create_unicode_buffer(1024); "
            "k.GetModuleFileNameW(k.GetModuleHandleW('vcruntime140.dll'), b, 1024); "
            "print(orjson.dumps(1).decode(), b.value)")
    env = {"WINEDLLOVERRIDES": WINE_DLL_OVERRIDES + ";vcruntime140=n"}
    ran = host.run("python", "-c", code, exe=out + ".exe", env=env)
    assert ran.returncode == 0, ran.stderr
    value, loaded = ran.stdout.strip().splitlines()[-1].split(" ", 1)
    assert value == "1"
    assert loaded.lower().startswith(host.exe_cache_root().lower()), loaded
    assert "\\site\\msvc-runtime\\" in loaded.lower(), loaded
    with open(sbom) as f:
        comps = {c["name"]: c for c in json.load(f)["components"]}
    runtime = comps["msvc_runtime"]
    assert runtime["version"] == "14.51.36231" and runtime.get("licenses"), runtime


# --- pack only, on Linux -----------------------------------------------------

def linux_only(target):
    if target != "linux-x86_64":
        pytest.skip("pack's own checks run once, on Linux")


def write_app(folder, requirements: str):
    folder.mkdir()
    (folder / "gale.toml").write_text('name = "reqs"\napp = "svc:app"\n')
    (folder / "svc.py").write_text("import tornado.web\napp = tornado.web.Application([])\n")
    (folder / "requirements.txt").write_text(requirements)
    return folder


def lock_lines(*names) -> str:
    """The fixture lock's entries for `names`, hashes and all."""
    with open(os.path.join(FIXTURE, "requirements.txt")) as f:
        text = f.read().replace("\\\n", " ")
    lines = [l for l in text.splitlines() if l.split("==")[0].strip() in names]
    assert len(lines) == len(names), lines
    return "\n".join(lines) + "\n"


def test_lock_installs_offline_from_a_wheel_folder(target, linux_exe, packed, tmp_path):
    linux_only(target)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for folder, _, files in os.walk(wheel_cache()):
        for name in files:
            if name.startswith(("orjson-3.13.0-", "markupsafe-3.0.4-")) and "manylinux" in name:
                shutil.copyfile(os.path.join(folder, name), wheels / name)
    assert len(os.listdir(wheels)) == 2, os.listdir(wheels)
    app = write_app(tmp_path / "app", lock_lines("orjson", "markupsafe"))
    out_exe = tmp_path / "offline"
    # No index can be reached: the folder is all there is.
    run = pack(linux_exe, str(app), "-o", str(out_exe), "--wheels", str(wheels),
               "--index-url", "http://127.0.0.1:9/", env={"GALE_WHEEL_CACHE": str(tmp_path / "c")})
    assert run.returncode == 0, run.stderr
    assert "packed 2 distributions (2 binary)" in run.stderr
    check = subprocess.run([str(out_exe), "python", "-c",
                            "import orjson, markupsafe; print(orjson.dumps([markupsafe.escape('<')]))"],
                           capture_output=True, text=True, env={"HOME": str(tmp_path)})
    assert check.stdout.strip() == "b'[\"&lt;\"]'", check.stderr


@pytest.mark.parametrize("case", ["hash", "sdist"])
def test_bad_lock_stops_pack_and_writes_nothing(host, target, linux_exe, tmp_path, case):
    linux_only(target)
    if case == "hash":  # orjson's real version, with a hash no file has
        reqs = "orjson==3.13.0 --hash=sha256:" + "0" * 64 + "\n"
        name = "orjson"
    else:  # docopt 0.6.2 is on the index as a source distribution only
        reqs = ("docopt==0.6.2 --hash=sha256:"
                "49b3a825280bd66b3aa83585ef59c4a8c82f2c8a522dbe754a8bc8d08c85c491\n")
        name = "docopt"
    app = write_app(tmp_path / "app", reqs)
    out_exe = tmp_path / "never"
    run = pack(linux_exe, str(app), "-o", str(out_exe), "--index-url", index_url())
    assert run.returncode == exit_codes(host)["PACK"], run.stderr
    line = one_error_line(run.stderr)
    assert name in line, line
    if case == "sdist":
        assert "linux-x86_64" in line and "source distribution" in line, line
    else:
        assert "SHA-256" in line, line
    assert not out_exe.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name not in ("app", "home")]


def test_unpinned_requirements_are_resolved_with_uv(host, target, linux_exe, tmp_path):
    linux_only(target)
    app = write_app(tmp_path / "app", "orjson>=3.13\ntornado>=6.0\n")
    lock = tmp_path / "pylock.toml"
    venv_bin = os.path.dirname(sys.executable)  # the test venv has the pinned uv
    run = pack(linux_exe, str(app), "-o", str(tmp_path / "resolved"), "--write-lock", str(lock),
               "--index-url", index_url(), path=venv_bin + os.pathsep + os.environ["PATH"])
    assert run.returncode == 0, run.stderr
    assert "orjson==" in run.stderr  # the resolved pins are printed
    assert "tornado" in run.stderr and "carried by the executable" in run.stderr
    text = lock.read_text()
    assert 'name = "orjson"' in text and "sha256" in text
    # The lock it wrote packs again with no resolver, named or found in
    # APPDIR, where pylock.toml comes before requirements.txt.
    run = pack(linux_exe, str(app), "-o", str(tmp_path / "again"), "--requirements", str(lock),
               path="/usr/bin:/bin")
    assert run.returncode == 0, run.stderr
    shutil.copyfile(lock, app / "pylock.toml")
    run = pack(linux_exe, str(app), "-o", str(tmp_path / "again"), path="/usr/bin:/bin")
    assert run.returncode == 0, run.stderr
    assert "packed 1 distributions (1 binary)" in run.stderr, run.stderr
    (app / "pylock.toml").unlink()

    # Without uv, unpinned requirements stop pack with how to make a lock.
    run = pack(linux_exe, str(app), "-o", str(tmp_path / "never"), path="/usr/bin:/bin")
    assert run.returncode == exit_codes(host)["PACK"], run.stderr
    line = one_error_line(run.stderr)
    assert "uv" in line and "pylock.toml" in line, line
    assert not (tmp_path / "never").exists()


def test_pyproject_dependencies_are_resolved(host, target, linux_exe, tmp_path):
    linux_only(target)
    app = tmp_path / "app"
    app.mkdir()
    (app / "gale.toml").write_text('name = "proj"\napp = "svc:app"\n')
    (app / "svc.py").write_text("import markupsafe, tornado.web\n"
                                "app = tornado.web.Application([])\n")
    (app / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "1"\n'
                                        'dependencies = ["markupsafe==3.0.4"]\n')
    venv_bin = os.path.dirname(sys.executable)
    out_exe = tmp_path / "proj"
    run = pack(linux_exe, str(app), "-o", str(out_exe), "--index-url", index_url(),
               path=venv_bin + os.pathsep + os.environ["PATH"])
    assert run.returncode == 0, run.stderr
    assert "markupsafe==3.0.4" in run.stderr and "packed 1 distributions" in run.stderr
    check = host.run("check", exe=str(out_exe))
    assert check.returncode == 0, check.stderr
    # --no-deps packs the folder alone: then the import fails, as it should.
    run = pack(linux_exe, str(app), "-o", str(out_exe), "--no-deps")
    assert run.returncode == 0, run.stderr
    check = host.run("check", exe=str(out_exe))
    assert check.returncode == exit_codes(host)["APP"], check.stderr
    assert "markupsafe" in one_error_line(check.stderr)


def make_wheel(folder) -> str:
    """A small wheel that uses what installer lays out: a .pth with an
    import line and a folder line, .data/purelib and .data/platlib, and
    scripts, headers and data that an executable leaves out."""
    import base64
    import zipfile

    files = {
        "layout_demo/__init__.py": b"VALUE = 'package'\n",
        "layout_demo.pth": b"# a comment\nimport layout_demo_boot\nlayout_demo_extra\n",
        "layout_demo_boot.py": b"import os\nos.environ['LAYOUT_DEMO_PTH'] = 'ran'\n",
        "layout_demo_extra/extra_mod.py": b"VALUE = 'through the .pth folder'\n",
        "layout_demo-1.0.data/purelib/purelib_mod.py": b"VALUE = 'purelib'\n",
        "layout_demo-1.0.data/platlib/platlib_mod.py": b"VALUE = 'platlib'\n",
        "layout_demo-1.0.data/scripts/layout-demo": b"#!python\nprint('script')\n",
        "layout_demo-1.0.data/headers/layout_demo.h": b"int x;\n",
        "layout_demo-1.0.data/data/share/layout_demo.txt": b"data\n",
        "layout_demo-1.0.dist-info/METADATA":
            b"Metadata-Version: 2.1\nName: layout-demo\nVersion: 1.0\nLicense-Expression: MIT\n",
        "layout_demo-1.0.dist-info/WHEEL":
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("layout_demo-1.0.dist-info/RECORD,,")
    path = os.path.join(folder, "layout_demo-1.0-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("layout_demo-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def test_wheel_layout_as_installer_lays_it_out(host, target, linux_exe, tmp_path):
    linux_only(target)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = make_wheel(str(wheels))
    with open(wheel, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    app = write_app(tmp_path / "app", f"layout-demo==1.0 --hash=sha256:{digest}\n")
    out_exe = tmp_path / "layout"
    run = pack(linux_exe, str(app), "-o", str(out_exe), "--wheels", str(wheels))
    assert run.returncode == 0, run.stderr
    code = ("import os, layout_demo, purelib_mod, platlib_mod, extra_mod, importlib.metadata as m; "
            "print(layout_demo.VALUE, purelib_mod.VALUE, platlib_mod.VALUE, extra_mod.VALUE, "
            "os.environ.get('LAYOUT_DEMO_PTH'), m.version('layout-demo'), sep='|')")
    out = host.run("python", "-c", code, exe=str(out_exe))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().split("|") == [
        "package", "purelib", "platlib", "through the .pth folder", "ran", "1.0"]
    # Scripts, headers and data were left out.
    sbom = host.run("sbom", exe=str(out_exe))
    assert "layout-demo" in sbom.stdout
    import zipfile

    with zipfile.ZipFile(out_exe) as zf:
        names = zf.namelist()
    assert not [n for n in names if "layout-demo" in n.split("/")[-1] or n.endswith(
        ("layout_demo.h", "layout_demo.txt"))], names


def test_tornado_pin_the_host_does_not_meet(host, target, linux_exe, tmp_path):
    linux_only(target)
    app = write_app(tmp_path / "app", "tornado==5.1.1 --hash=sha256:" + "1" * 64 + "\n")
    run = pack(linux_exe, str(app), "-o", str(tmp_path / "never"))
    assert run.returncode == exit_codes(host)["PACK"], run.stderr
    line = one_error_line(run.stderr)
    assert "tornado" in line and "carries" in line, line


def test_linux_host_exports_the_c_api_only(target, linux_exe):
    """manylinux extensions bind to the executable's C API; OpenSSL, SQLite
    and zlib stay private, so a wheel's own copies never bind to ours."""
    linux_only(target)
    out = subprocess.run(["nm", "-D", "--defined-only", linux_exe], capture_output=True,
                         text=True, check=True)
    names = [line.split()[-1] for line in out.stdout.splitlines() if line.strip()]
    ours = [n for n in names if "@" not in n]  # glibc's stdio copies carry a version
    assert len(ours) > 1400, len(ours)
    assert all(n.startswith(("Py", "_Py")) for n in ours), [n for n in ours if not n.startswith(("Py", "_Py"))]
    for wanted in ("PyModuleDef_Init", "_Py_NoneStruct", "PyExc_TypeError",
                   "_PyObject_CallFunction_SizeT"):
        assert wanted in ours, wanted
