# SPDX-License-Identifier: MIT
"""What makes gale.exe a proper Windows program: its PE header, the DLLs it
imports, its resources (version information, icon, manifest), that it still
runs once Authenticode-signed, and `gale pack --target` from Linux.

The file checks are made on both dist/<target>/gale.exe and the template
gale-host.exe beside it; the others run the executable under the host's
runner (Wine). Every test is skipped for linux-x86_64.
"""

import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET

import pefile
import pytest

from harness import WINE_DLL_OVERRIDES, Host, exit_codes, get, one_error_line

MACHINES = {"win-x64": 0x8664, "win-arm64": 0xAA64}  # IMAGE_FILE_MACHINE_AMD64, _ARM64
CONSOLE = 3  # IMAGE_SUBSYSTEM_WINDOWS_CUI

# Every DLL a host may import, apart from the UCRT's api-ms-win-crt-* sets:
# KnownDLLs only, which the loader takes from System32 whatever folder the
# exe is in, and the API set api-ms-win-core-path-l1-1-0 (PathCch*, which
# CPython uses instead of pathcch.lib; docs/cpython-windows.md), which the
# loader resolves through its API set schema. The loader maps imports
# before main(), so before the launcher restricts the DLL search path: any
# other DLL would be looked for beside the exe first. Functions from other
# System32 DLLs are bound at first call instead (SYSTEM32_LATE below).
SYSTEM_DLLS = {
    "kernel32.dll", "advapi32.dll", "user32.dll", "ws2_32.dll", "rpcrt4.dll",
    "ole32.dll", "oleaut32.dll",  # _ctypes: COM error information
    "api-ms-win-core-path-l1-1-0.dll",
}
# launcher/win/system_imports.c: the System32 DLLs a host binds functions
# from at first call, from System32 only.
SYSTEM32_LATE = ("bcrypt", "crypt32", "iphlpapi", "version", "winmm")
UCRT_API_SET = re.compile(r"^api-ms-win-crt-[a-z]+-l1-1-0\.dll$")
# What a host must never need beside it: a toolchain's runtime, a Python DLL,
# MSVC's runtime, or the pre-UCRT msvcrt.dll.
FOREIGN_DLL = re.compile(r"^(libgcc|libwinpthread|libstdc\+\+|libc\+\+|libunwind|python3|"
                         r"vcruntime|msvcp|msvcr|ucrtbased)", re.I)

WIN10_11 = "{8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a}"


@pytest.fixture
def win(host):
    if not host.windows:
        pytest.skip("Windows executables only")
    return host


@pytest.fixture
def planted_dll(win, request):
    """tests/tools/planted_dll.c, built for the target (--gale-planted-dll)."""
    given = request.config.getoption("--gale-planted-dll")
    if not given or not os.path.isfile(given):
        pytest.fail(f"no planted.dll at {given!r} (--gale-planted-dll): build the target's preset")
    return os.path.abspath(given)


@pytest.fixture(params=["gale.exe", "gale-host.exe"])
def pe_path(win, request):
    """dist/<target>/gale.exe, then the template gale-host.exe beside it."""
    return os.path.join(os.path.dirname(win.exe), request.param)


def load_pe(path):
    pe = pefile.PE(path, fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY[name] for name in (
        "IMAGE_DIRECTORY_ENTRY_IMPORT", "IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT",
        "IMAGE_DIRECTORY_ENTRY_RESOURCE")])
    return pe


def security_directory(path):
    """(file offset, size) of the Authenticode certificate table; (0, 0) if unsigned."""
    pe = pefile.PE(path, fast_load=True)
    entry = pe.OPTIONAL_HEADER.DATA_DIRECTORY[
        pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_SECURITY"]]
    return entry.VirtualAddress, entry.Size


def resources(pe, kind):
    """{resource id: bytes} for every resource of type `kind` (one language each)."""
    out = {}
    for typ in pe.DIRECTORY_ENTRY_RESOURCE.entries:
        if typ.id != pefile.RESOURCE_TYPE[kind]:
            continue
        for res in typ.directory.entries:
            for lang in res.directory.entries:
                out[res.id] = pe.get_data(lang.data.struct.OffsetToData, lang.data.struct.Size)
    return out


def versions(host):
    """{component: version} from `gale --version` ("Gale 0.1.0" -> {"Gale": "0.1.0"})."""
    out = host.run("--version")
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


def run_linux(exe, *args, home):
    """Runs the Linux executable natively, whatever the host under test is."""
    return Host(str(exe), str(home)).run(*args, timeout=300)


# --- the file ------------------------------------------------------------------

def test_pe_header(win, pe_path):
    pe = pefile.PE(pe_path, fast_load=True)
    assert pe.FILE_HEADER.Machine == MACHINES[win.target], hex(pe.FILE_HEADER.Machine)
    assert pe.OPTIONAL_HEADER.Magic == pefile.OPTIONAL_HEADER_MAGIC_PE_PLUS
    assert pe.OPTIONAL_HEADER.Subsystem == CONSOLE
    # ASLR with 64-bit entropy and DEP, as the toolchain gives by default.
    flags = pe.OPTIONAL_HEADER.DllCharacteristics
    for name in ("DYNAMIC_BASE", "HIGH_ENTROPY_VA", "NX_COMPAT"):
        assert flags & pefile.DLL_CHARACTERISTICS["IMAGE_DLLCHARACTERISTICS_" + name], name


def test_imports_only_system_dlls(win, pe_path):
    pe = load_pe(pe_path)
    dlls = {entry.dll.decode("ascii").lower() for attr in (
        "DIRECTORY_ENTRY_IMPORT", "DIRECTORY_ENTRY_DELAY_IMPORT")
        for entry in getattr(pe, attr, [])}
    assert "kernel32.dll" in dlls
    assert any(UCRT_API_SET.match(d) for d in dlls), dlls  # UCRT, not msvcrt.dll
    assert not [d for d in dlls if FOREIGN_DLL.match(d) or d == "msvcrt.dll"], dlls
    assert not [d for d in dlls if not UCRT_API_SET.match(d) and d not in SYSTEM_DLLS], dlls


# Python that calls a function of each SYSTEM32_LATE DLL, one per line.
CALL_SYSTEM32_LATE = """
import os, socket, ssl, sys, winsound
print(len(os.urandom(16)))                             # bcrypt
print(len(ssl.enum_certificates("ROOT")) >= 0)         # crypt32
print(sorted(socket.if_nameindex())[0][0] >= 1)        # iphlpapi
print(sys.getwindowsversion().major >= 6)              # version
winsound.PlaySound(None, 0); print(True)               # winmm
"""


def plant(folder, exe, planted_dll, names):
    """Copies exe into folder and planted.dll beside it as each NAME.dll;
    returns the env that makes Wine prefer those copies (WINEDLLOVERRIDES
    n,b), as Windows does for a DLL that is not a KnownDLL."""
    folder.mkdir()
    shutil.copyfile(exe, folder / os.path.basename(exe))
    for name in names:
        shutil.copyfile(planted_dll, folder / f"{name}.dll")
    return {"WINEDLLOVERRIDES": f"{WINE_DLL_OVERRIDES};{','.join(names)}=n,b"}


def loaded(folder):
    return sorted(p.name.lower() for p in folder.glob("*.loaded"))


def test_planted_dlls_are_not_loaded(win, planted_dll, tmp_path):
    """A DLL named like one of SYSTEM32_LATE, dropped beside gale.exe, is
    never loaded, even when the function it would provide is called.

    version.dll is left out: Wine's own user32.dll imports it, so Wine loads
    one from the exe's folder whatever gale.exe does (test_imports_only_system_dlls
    shows gale.exe does not import it)."""
    folder = tmp_path / "Downloads"
    names = [name for name in SYSTEM32_LATE if name != "version"]
    env = plant(folder, win.exe, planted_dll, names)
    out = win.run("python", "-c", CALL_SYSTEM32_LATE, exe=str(folder / "gale.exe"), env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["16", "True", "True", "True", "True"], out.stdout
    assert loaded(folder) == []


def test_planted_dll_is_loaded_through_a_plain_import(win, planted_dll, tmp_path):
    """The control for test_planted_dlls_are_not_loaded: the same set-up
    catches a planted DLL when an exe imports it the ordinary way."""
    folder = tmp_path / "Downloads"
    plain = os.path.join(os.path.dirname(planted_dll), "plain-import.exe")
    env = plant(folder, plain, planted_dll, ["winmm"])
    # The planted winmm.dll has no PlaySoundW, which Wine forgives until a
    # call, and plain-import.exe makes none.
    out = win.run(exe=str(folder / "plain-import.exe"), env=env)
    assert out.returncode == 0, out.stderr
    assert loaded(folder) == ["winmm.dll.loaded"]


def version_strings(path) -> dict:
    """The version resource's StringFileInfo: {name: value}."""
    pe = load_pe(path)
    assert 1 in resources(pe, "RT_VERSION")  # VS_VERSION_INFO
    strings = {}
    for info in pe.FileInfo[0]:
        for table in getattr(info, "StringTable", []):
            strings.update({k.decode(): v.decode() for k, v in table.entries.items()})
    return strings


def test_version_resource(win, pe_path):
    pe = load_pe(pe_path)
    strings = version_strings(pe_path)
    have = versions(win)
    gale = have["Gale"]
    if pe_path.endswith("gale-host.exe"):  # the bare template speaks for Gale
        version, shown, company, original, internal = gale, "Gale", "Gale", "gale.exe", "gale"
    else:  # pack wrote the demo's own identity (examples/hello/gale.toml)
        version, shown, company, original, internal = (
            "0.1.0", "Hello Gale", "Gale Project", "hello.exe", "hello")
    assert strings["ProductName"] == strings["FileDescription"] == shown
    assert strings["CompanyName"] == company
    assert strings["FileVersion"] == strings["ProductVersion"] == version
    assert strings["OriginalFilename"] == original and strings["InternalName"] == internal
    assert (f"Python {have['CPython']}, Tornado {have['tornado']}, "
            f"OpenSSL {have['OpenSSL']}") in strings["Comments"]
    # The numeric version (what Explorer's Details tab shows) agrees.
    fixed = pe.VS_FIXEDFILEINFO[0]
    major, minor, patch = (int(n) for n in version.split("."))
    assert (fixed.FileVersionMS, fixed.FileVersionLS) == ((major << 16) | minor, patch << 16)
    assert (fixed.ProductVersionMS, fixed.ProductVersionLS) == \
        (fixed.FileVersionMS, fixed.FileVersionLS)


def test_icon(win, pe_path):
    pe = load_pe(pe_path)
    groups = resources(pe, "RT_GROUP_ICON")
    icons = resources(pe, "RT_ICON")
    assert groups and icons
    # GRPICONDIR: reserved, type 1 (icon), count; then 14-byte entries
    # whose last two bytes name an RT_ICON resource.
    group = next(iter(groups.values()))
    reserved, kind, count = (int.from_bytes(group[i:i + 2], "little") for i in (0, 2, 4))
    assert (reserved, kind) == (0, 1) and count >= 1
    ids = {int.from_bytes(group[6 + 14 * i + 12:6 + 14 * i + 14], "little") for i in range(count)}
    assert ids <= set(icons), (ids, set(icons))


def test_message_table(win, pe_path):
    """Event 1 is "%1", so Event Viewer shows the text the service reported
    (RT_MESSAGETABLE: blocks of IDs, then length/flags/UTF-16 entries)."""
    pe = load_pe(pe_path)
    table = resources(pe, "RT_MESSAGETABLE")[1]
    blocks, = struct.unpack_from("<I", table)
    found = {}
    for b in range(blocks):
        low, high, offset = struct.unpack_from("<III", table, 4 + 12 * b)
        for mid in range(low, high + 1):
            length, flags = struct.unpack_from("<HH", table, offset)
            assert flags == 1  # UTF-16
            found[mid] = table[offset + 4:offset + length].decode("utf-16-le").rstrip("\0")
            offset += length
    assert found == {1: "%1\r\n"}


def test_manifest(win, pe_path):
    pe = load_pe(pe_path)
    manifests = resources(pe, "RT_MANIFEST")
    assert list(manifests) == [1], manifests  # CREATEPROCESS_MANIFEST_RESOURCE_ID
    root = ET.fromstring(manifests[1])
    found = {}
    for el in root.iter():
        found.setdefault(el.tag.rsplit("}", 1)[-1], []).append(el)
    assert [el.get("level") for el in found["requestedExecutionLevel"]] == ["asInvoker"]
    assert [el.get("uiAccess") for el in found["requestedExecutionLevel"]] == ["false"]
    assert WIN10_11 in [el.get("Id") for el in found["supportedOS"]]
    assert [el.text.strip() for el in found["longPathAware"]] == ["true"]
    assert [el.text.strip() for el in found["activeCodePage"]] == ["UTF-8"]


# --- signing ---------------------------------------------------------------------

def sign(exe, out, tmp_path):
    """Signs a copy of `exe` as `out` with a throwaway self-signed code-signing
    certificate, which it returns."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=Gale test signing", "-keyout", key, "-out", cert,
                        "-addext", "keyUsage=critical,digitalSignature",
                        "-addext", "extendedKeyUsage=codeSigning"],
                       check=True, capture_output=True)
    done = subprocess.run(["osslsigncode", "sign", "-certs", cert, "-key", key, "-h", "sha256",
                           "-n", "Gale test", "-in", exe, "-out", out],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return cert


def test_signed_executable_still_runs(win, tmp_path):
    """Authenticode appends a certificate table after the payload; the
    launcher must still find the payload."""
    signed = tmp_path / "signed.exe"
    cert = sign(win.exe, signed, tmp_path)
    out = subprocess.run(["osslsigncode", "verify", "-CAfile", cert, "-in", signed],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr  # the signature, and the chain to cert
    where, size = security_directory(signed)
    assert size > 0 and where >= os.path.getsize(win.exe)  # after the payload

    assert win.run("--version", exe=str(signed)).returncode == 0
    proc = win.serve(exe=str(signed))
    assert get(proc.url + "/")[0] == 200
    assert proc.stop() == 0, proc.stderr


def test_pack_onto_a_signed_executable(win, linux_exe, source_dir, tmp_path):
    """A signed gale.exe as the template gives an unsigned executable, not
    one whose header points at a certificate table that is not there."""
    signed = tmp_path / "signed.exe"
    sign(win.exe, signed, tmp_path)
    home = tmp_path / "home-linux"
    home.mkdir()
    fresh = tmp_path / "fresh.exe"
    out = run_linux(linux_exe, "pack", os.path.join(source_dir, "examples", "hello"),
                    "--target", win.target, "--host-template", str(signed), "-o", str(fresh),
                    home=home)
    assert out.returncode == 0, out.stderr
    assert security_directory(fresh) == (0, 0)
    assert pefile.PE(fresh, fast_load=True).OPTIONAL_HEADER.CheckSum == 0
    assert win.run("--version", exe=str(fresh)).returncode == 0


# --- gale pack --target ------------------------------------------------------------

def test_pack_for_this_target_from_linux(win, linux_exe, source_dir, tmp_path):
    home = tmp_path / "home-linux"
    home.mkdir()
    out = run_linux(linux_exe, "pack", os.path.join(source_dir, "examples", "hello"),
                    "--target", win.target, "--name", "hello2", "-o", str(tmp_path / "hello2"),
                    home=home)
    assert out.returncode == 0, out.stderr
    exe = tmp_path / "hello2.exe"  # .exe added for a Windows target
    assert str(exe) in out.stdout and not (tmp_path / "hello2").exists()
    assert pefile.PE(exe, fast_load=True).FILE_HEADER.Machine == MACHINES[win.target]
    assert version_strings(str(exe))["InternalName"] == "hello2"
    proc = win.serve(exe=str(exe))
    assert get(proc.url + "/")[0] == 200
    assert proc.stop() == 0, proc.stderr
    check = win.run("check", exe=str(exe))
    assert check.returncode == 0 and 'name = "hello2"' in check.stdout, check.stdout + check.stderr


def test_packing_from_linux_gives_the_built_executable(win, linux_exe, source_dir, tmp_path):
    # docs/windows.md: it does not matter which executable packs, the build
    # (pack.py on a stock CPython) or Gale on Linux: the same bytes.
    home = tmp_path / "home-linux"
    home.mkdir()
    out = run_linux(linux_exe, "pack", os.path.join(source_dir, "examples", "hello"),
                    "--target", win.target, "-o", str(tmp_path / "hello"), home=home)
    assert out.returncode == 0, out.stderr
    with open(tmp_path / "hello.exe", "rb") as packed, open(win.exe, "rb") as built:
        assert packed.read() == built.read()


def test_pack_without_a_template(win, linux_exe, source_dir, tmp_path):
    # A copy of the Linux executable with no dist/<target>/ folder beside its own.
    lonely = tmp_path / "bin" / "gale"
    lonely.parent.mkdir()
    shutil.copy2(linux_exe, lonely)
    home = tmp_path / "home-linux"
    home.mkdir()
    out = run_linux(str(lonely), "pack", os.path.join(source_dir, "examples", "hello"),
                    "--target", win.target, "-o", str(tmp_path / "never"), home=home)
    assert out.returncode == exit_codes(win)["PACK"], out.stderr
    line = one_error_line(out.stderr)
    looked = os.path.join(str(tmp_path), win.target, "gale-host.exe")
    assert looked in line and "--host-template" in line and f"--preset {win.target}" in line
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(("never", ".gale-pack-"))]


def test_pack_for_linux_from_windows(win, linux_exe, source_dir, tmp_path):
    """The other way round, with dist/linux-x86_64/gale-host as the template:
    every target's payload carries the same library (Linux's _sysconfigdata
    included), so what gale.exe packs for Linux is complete."""
    out_exe = tmp_path / "hello-linux"
    out = win.run("pack", os.path.join(source_dir, "examples", "hello"),
                  "--target", "linux-x86_64", "-o", str(out_exe))
    assert out.returncode == 0, out.stderr
    with open(out_exe, "rb") as packed, open(linux_exe, "rb") as built:
        assert packed.read() == built.read()  # the same bytes as the build's (docs/windows.md)
    os.chmod(out_exe, 0o755)  # Windows has no execute bit to set
    home = tmp_path / "home-linux"
    home.mkdir()
    done = run_linux(str(out_exe), "python", "-c",
                     "import sys, sysconfig; print(sys.platform, sysconfig.get_platform(), "
                     "sysconfig.get_config_var('EXT_SUFFIX'))", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["linux", "linux-x86_64", ".cpython-313-x86_64-linux-gnu.so"]


# --- the interpreter and the event loop ---------------------------------------------

LOOP_APP = '''\
import tornado.ioloop
import tornado.web


class Loops(tornado.web.RequestHandler):
    def get(self):
        io_loop = tornado.ioloop.IOLoop.current()
        self.write(f"{type(io_loop.asyncio_loop).__name__} {type(io_loop.selector_loop).__name__}")


def make_app():
    return tornado.web.Application([(r"/", Loops)])
'''


def test_windows_python_and_tornado_loop(win, tmp_path):
    code = "import sys, sysconfig; print(sys.platform, sysconfig.get_platform(), sys.winver)"
    out = win.run("python", "-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == {"win-x64": ["win32", "win-amd64", "3.13"],
                                  "win-arm64": ["win32", "win-arm64", "3.13-arm64"]}[win.target]

    # A served app runs on Gale's loop (gale/winloop.py): the Proactor with
    # add_reader on its own completion port, which Tornado uses directly,
    # with no selector thread.
    app = tmp_path / "loops"
    app.mkdir()
    (app / "loops.py").write_text(LOOP_APP)
    (app / "gale.toml").write_text('app = "loops:make_app"\n')
    exe = win.exe_path(tmp_path / "loops-exe")
    packed = win.run("pack", str(app), "-o", exe)
    assert packed.returncode == 0, packed.stderr
    proc = win.serve(exe=exe)
    assert get(proc.url + "/") == (200, b"EventLoop EventLoop")
    assert proc.stop() == 0, proc.stderr
