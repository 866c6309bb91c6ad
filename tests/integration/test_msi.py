# SPDX-License-Identifier: MIT
"""`gale pack --msi`: the MSI read back with msitools, and installed,
upgraded, refused a downgrade and uninstalled with Wine's msiexec.

The packages are the demo packed from Linux at several versions. win-x64
runs the whole lifecycle (with the upgrade three times: it is the step that
races under Wine, docs/msi.md) and checks that x64
Wine refuses the ARM64 package; win-arm64 installs its package with
SERVICE=1, gets HTTP 200 and uninstalls it. As in test_service.py, a holder
process keeps the Wine session (and so the service) alive, and msiexec's
output goes to /dev/null: Wine's explorer.exe inherits it and outlives
msiexec, so a pipe would never close. msiexec's own log (/l*v) is read
instead when something fails.
"""

import json
import ntpath
import os
import shutil
import subprocess
import urllib.request

import pefile
import pytest

from harness import free_port, get, one_error_line, windows_path
from test_service import Bench, status

PUBLIC = ("SERVICE", "PORT", "HOST", "SERVICE_ACCOUNT", "SERVICE_START", "INSTALLDIR")
INSTALLED = "C:\\Program Files\\Gale Project\\hello\\hello.exe"
WINE_MSIEXEC_ARM64 = "usr/lib/aarch64-linux-gnu/wine/aarch64-windows/msiexec.exe"


def pack_msi(linux_exe, source_dir, target, out_dir, version, *flags):
    """The demo at `version` for `target`, and its MSI; returns the MSI's path."""
    os.makedirs(out_dir, exist_ok=True)
    home = os.path.join(out_dir, "home")
    os.makedirs(home, exist_ok=True)
    out = subprocess.run([linux_exe, "pack", os.path.join(source_dir, "examples", "hello"),
                          "--target", target, "--version", version, "--msi",
                          "-o", os.path.join(out_dir, "hello"), *flags],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HOME": home})
    assert out.returncode == 0, out.stderr
    arch = {"win-x64": "x64", "win-arm64": "arm64"}[target]
    path = os.path.join(out_dir, f"hello-{version}-{arch}.msi")
    assert os.path.isfile(path) and f"wrote {path}" in out.stdout, out.stdout
    return path


@pytest.fixture(scope="module")
def msis(target, linux_exe, source_dir, tmp_path_factory):
    """{version: MSI} for this target (1.0.0 to 1.0.3), plus the other
    target's 1.0.0 as "other"."""
    if not target.startswith("win-"):
        pytest.skip("MSIs are for the Windows targets")
    base = tmp_path_factory.mktemp("msis")
    out = {v: pack_msi(linux_exe, source_dir, target, str(base / v), v,
                       "--url", "https://gale.example/hello")
           for v in ("1.0.0", "1.0.1", "1.0.2", "1.0.3")}
    other = "win-arm64" if target == "win-x64" else "win-x64"
    out["other"] = pack_msi(linux_exe, source_dir, other, str(base / "other"), "1.0.0")
    return out


def msiinfo(*args) -> str:
    done = subprocess.run(["msiinfo", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def table(msi, name) -> list:
    """The rows of table `name` (msiinfo export: names, types, key line, rows)."""
    return [line.split("\t") for line in msiinfo("export", msi, name).splitlines()[3:]]


def test_msi_tables(msis, target):
    msi = msis["1.0.1"]
    summary = msiinfo("suminfo", msi)
    template = {"win-x64": "x64;1033", "win-arm64": "Arm64;1033"}[target]
    assert f"Template: {template}\n" in summary
    assert "Version: 500 (1f4)" in summary  # Page Count: Windows Installer 5.0
    assert "Author: Gale Project" in summary
    components = {row[0]: row for row in table(msi, "Component")}
    assert set(components) == {"MainExe", "Settings", "MenuShortcut"}
    assert all(int(row[3]) & 256 for row in components.values())  # 64-bit, every one
    files = table(msi, "File")
    assert [(f[0], f[1], f[2]) for f in files] == [("MainExeFile", "MainExe", "hello.exe")]
    props = dict(row[:2] for row in table(msi, "Property"))
    assert (props["ProductName"], props["ProductVersion"], props["Manufacturer"]) == \
        ("Hello Gale", "1.0.1", "Gale Project")
    assert props["ARPPRODUCTICON"] == "app.ico" and props["ARPNOMODIFY"] == "1"
    assert props["ARPHELPLINK"] == props["ARPURLINFOABOUT"] == "https://gale.example/hello"
    assert [r[0] for r in table(msi, "Icon")] == ["app.ico"]
    assert (props["SERVICE"], props["PORT"], props["HOST"]) == ("0", "8888", "127.0.0.1")
    assert set(props["SecureCustomProperties"].split(";")) >= set(PUBLIC)
    upgrade = props["UpgradeCode"]
    # The codes: derived, so the same version rebuilt keeps them, and a new
    # version or the other architecture gets its own ProductCode.
    assert upgrade == dict(row[:2] for row in table(msis["1.0.0"], "Property"))["UpgradeCode"]
    codes = {dict(row[:2] for row in table(m, "Property"))["ProductCode"] for m in msis.values()}
    assert len(codes) == len(msis)
    rows = {(r[0], r[1], r[2], r[6]) for r in table(msi, "Upgrade")}
    assert rows == {(upgrade, "", "1.0.1", "WIX_UPGRADE_DETECTED"),
                    (upgrade, "1.0.1", "", "WIX_DOWNGRADE_DETECTED")}, rows
    assert [r[:3] + r[4:] for r in table(msi, "ServiceControl")] == \
        [["ServiceControl", "hello", str(2 | 32 | 128), "1", "MainExe"]]
    actions = {r[0]: r for r in table(msi, "CustomAction")}
    # 51 (set a property) plus the NoImpersonate bit wixl adds to every action.
    assert actions["CA_InstallLocation"][1:4] == ["2099", "ARPINSTALLLOCATION", "[INSTALLDIR]"]
    assert actions["CA_Configure"][1] == "3090"  # deferred, no impersonation, checked
    assert actions["CA_Configure"][3].startswith("service configure --name hello --port=[PORT]")
    assert actions["CA_WaitStop"][3] == "service wait-stopped --name hello"
    sequence = {r[0]: (r[1], int(r[2])) for r in table(msi, "InstallExecuteSequence")}
    assert sequence["CA_WaitStop"] == ("Installed", 1950)
    assert sequence["CA_Unconfigure"] == ('REMOVE~="ALL"', 1960)
    assert sequence["CA_Configure"] == ('NOT REMOVE~="ALL" AND SERVICE="1"', 5850)
    assert sequence["StopServices"][1] < 1950 < sequence["RemoveFiles"][1]
    assert sequence["InstallFiles"][1] < 5850 < sequence["StartServices"][1]


class Installer(Bench):
    """A Wine session (Bench) that runs msiexec."""

    def msiexec(self, *args, log="msi.log"):
        log_path = os.path.join(self.host.home, log)
        if self.host.target == "win-x64":
            argv = [self.host.WINE, "msiexec", *args, "/l*v", windows_path(log_path)]
            env = self.host.env()
        else:
            msiexec = os.path.join(self.host.root, WINE_MSIEXEC_ARM64)
            argv = self.host.argv(msiexec, [*args, "/l*v", windows_path(log_path)])
            env = self.host.env()
        code = subprocess.run(argv, env=env, cwd=self.host.home, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=600).returncode
        return code, log_path

    def exe(self) -> str:
        return self.host.linux_path(INSTALLED)


def read_log(path) -> str:
    try:
        with open(path, encoding="utf-16", errors="replace") as f:
            return f.read()[-4000:]
    except (OSError, UnicodeError):
        with open(path, errors="replace") as f:
            return f.read()[-4000:]


@pytest.fixture(scope="module")
def installer(target, msis, make_host, tmp_path_factory):
    from harness import WineHost, wine_env

    home = str(tmp_path_factory.mktemp("msi-home"))
    if target == "win-x64":
        prefix = str(tmp_path_factory.mktemp("msi-prefix"))
        host = WineHost(msis["1.0.0"], home, prefix)
    else:
        host = make_host(msis["1.0.0"], home)
    holder_src = os.path.join(os.path.dirname(msis["1.0.0"]), "hello.exe")
    bench = Installer(host, holder_src)
    yield bench
    if os.path.exists(bench.exe()):  # a failed test: leave no service behind
        bench.msiexec("/x", windows_path(msis["1.0.3"]), "/qn")
    bench.close()
    host.cleanup()
    if target == "win-x64":
        subprocess.run([WineHost.WINESERVER, "-k"], env={**os.environ, **wine_env(prefix)},
                       capture_output=True, timeout=60)


def post_note(url, text):
    req = urllib.request.Request(url + "/api/notes", data=json.dumps({"text": text}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def notes(url) -> list:
    return [n["text"] for n in json.loads(get(url + "/api/notes")[1])["notes"]]


ARP_SCRIPT = r"""
import json, winreg
base = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
root = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, base)
found, i = {}, 0
while True:
    try:
        sub = winreg.EnumKey(root, i)
    except OSError:
        break
    i += 1
    key = winreg.OpenKey(root, sub)
    values, j = {}, 0
    while True:
        try:
            n, v, t = winreg.EnumValue(key, j)
        except OSError:
            break
        values[n] = v if isinstance(v, (str, int)) else repr(v)
        j += 1
    if values.get("DisplayName") == "Hello Gale":
        found[sub] = values
print(json.dumps(found))
"""


def arp_entries(installer) -> dict:
    """Add/Remove Programs' entries for the demo: {ProductCode: values}."""
    out = installer.gale(installer.exe(), "python", "-c", ARP_SCRIPT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def installed_version(installer) -> str:
    pe = pefile.PE(installer.exe(), fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
    return pe.FileInfo[0][0].StringTable[0].entries[b"FileVersion"].decode()


def test_install_upgrade_downgrade_uninstall(installer, msis, target):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    code, log = installer.msiexec("/i", windows_path(msis["1.0.0"]), "/qn", "SERVICE=1",
                                  f"PORT={port}")
    assert code == 0, read_log(log)
    assert os.path.isfile(installer.exe())
    st = status(installer, installer.exe(), "hello")
    assert st["state"].startswith("RUNNING"), st
    assert st["command"] == f'"{INSTALLED}" service run --name hello --host 127.0.0.1 --port {port}'
    installer.wait_log("hello", "Serving hello on")
    assert get(url + "/")[0] == 200
    # The service is `gale service install`'s: its Event Log source too.
    reg = installer.registry(installer.exe(), "hello")
    assert reg["eventlog"]["EventMessageFile"][0] == INSTALLED
    assert reg["service"]["ObjectName"][0] == "NT SERVICE\\hello"
    if target == "win-arm64":  # the basic lifecycle only
        code, log = installer.msiexec("/x", windows_path(msis["1.0.0"]), "/qn")
        assert code == 0, read_log(log)
        assert not os.path.exists(installer.exe())
        return

    assert post_note(url, "kept across upgrades") == 201
    for version in ("1.0.1", "1.0.2", "1.0.3"):  # SERVICE and PORT come from the registry
        code, log = installer.msiexec("/i", windows_path(msis[version]), "/qn")
        assert code == 0, (version, read_log(log))
        assert installed_version(installer) == version
        st = status(installer, installer.exe(), "hello")
        assert st["state"].startswith("RUNNING"), (version, st)
        assert get(url + "/")[0] == 200
        assert "kept across upgrades" in notes(url), version

    code, log = installer.msiexec("/i", windows_path(msis["1.0.0"]), "/qn")
    assert code == 1603 & 0xFF, read_log(log)  # refused: a newer version is installed
    assert installed_version(installer) == "1.0.3" and get(url + "/")[0] == 200

    # The same version again is a repair of the same product, not a second one.
    code, log = installer.msiexec("/i", windows_path(msis["1.0.3"]), "/qn")
    assert code == 0, read_log(log)
    assert get(url + "/")[0] == 200
    arp = arp_entries(installer)
    assert len(arp) == 1, arp
    entry = next(iter(arp.values()))
    assert (entry["Publisher"], entry["DisplayVersion"]) == ("Gale Project", "1.0.3"), entry
    assert entry["HelpLink"] == "https://gale.example/hello", entry
    assert entry["InstallLocation"].rstrip("\\") == ntpath.dirname(INSTALLED), entry

    code, log = installer.msiexec("/x", windows_path(msis["1.0.3"]), "/qn")
    assert code == 0, read_log(log)
    assert not os.path.exists(installer.exe())
    data = installer.host.linux_path("C:\\ProgramData\\hello\\data")
    assert os.path.isdir(data) and os.listdir(data), "the data folder is kept"
    assert os.path.isfile(installer.log_path("hello")), "the logs are kept"
    with pytest.raises(OSError):
        get(url + "/")


def test_install_properties(installer, msis, target):
    """INSTALLDIR, SERVICE_START, SERVICE_ACCOUNT and HOST reach the install
    and the service's registration."""
    if target != "win-x64":
        pytest.skip("x64 Wine only")
    port = free_port()
    where = "C:\\Gale Apps\\Hello Here\\"
    code, log = installer.msiexec("/i", windows_path(msis["1.0.0"]), "/qn", "SERVICE=1",
                                  f"PORT={port}", f"INSTALLDIR={where}", "SERVICE_START=manual",
                                  "SERVICE_ACCOUNT=LocalService", "HOST=127.0.0.1")
    assert code == 0, read_log(log)
    exe = installer.host.linux_path(where + "hello.exe")
    assert os.path.isfile(exe) and not os.path.exists(installer.exe())
    st = status(installer, exe, "hello")
    assert st["state"].startswith("RUNNING"), st
    assert st["start"] == "manual" and st["account"] == "NT AUTHORITY\\LocalService"
    assert st["command"] == f'"{where}hello.exe" service run --name hello --host 127.0.0.1 --port {port}'
    assert get(f"http://127.0.0.1:{port}/")[0] == 200
    code, log = installer.msiexec("/x", windows_path(msis["1.0.0"]), "/qn")
    assert code == 0, read_log(log)
    assert not os.path.exists(exe)


def test_pinned_upgrade_code(target, linux_exe, source_dir, tmp_path):
    if target != "win-x64":
        pytest.skip("packing runs on Linux: once is enough")
    app = tmp_path / "app"
    shutil.copytree(os.path.join(source_dir, "examples", "hello"), app)
    pinned = "{0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0}"
    with open(app / "gale.toml", "a") as f:
        f.write(f'\n[msi]\nupgrade_code = "{pinned}"\n')
    out = subprocess.run([linux_exe, "pack", str(app), "--target", "win-x64", "--msi",
                          "-o", str(tmp_path / "hello")], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert f"UpgradeCode {pinned}" in out.stdout
    props = dict(row[:2] for row in table(str(tmp_path / "hello-0.1.0-x64.msi"), "Property"))
    assert props["UpgradeCode"] == pinned


def test_x64_wine_refuses_the_arm64_msi(installer, msis, target):
    if target != "win-x64":
        pytest.skip("x64 Wine only")
    code, log = installer.msiexec("/i", windows_path(msis["other"]), "/qn")
    assert code == 1633 & 0xFF  # ERROR_INSTALL_PLATFORM_UNSUPPORTED


@pytest.mark.parametrize("case", ["name", "version", "tools", "icon"])
def test_bad_msi_input_writes_nothing(target, linux_exe, source_dir, tmp_path, case):
    if target != "win-x64":
        pytest.skip("packing runs on Linux: once is enough")
    app = tmp_path / "app"
    shutil.copytree(os.path.join(source_dir, "examples", "hello"), app)
    args, env = ["--target", "win-x64", "--msi"], {**os.environ, "HOME": str(tmp_path)}
    (tmp_path / "out").mkdir()
    if case == "name":
        args += ["--name", "my-app"]
        text = "cannot name the MSI's parts"
    elif case == "version":
        toml = (app / "gale.toml").read_text().replace('version = "0.1.0"\n', "")
        (app / "gale.toml").write_text(toml)
        text = "an MSI needs the app's version"
    elif case == "tools":
        (tmp_path / "empty").mkdir()
        env["PATH"] = str(tmp_path / "empty")
        text = "needs wixl and msibuild: install Debian's packages"
    else:
        args += ["--icon", str(tmp_path / "missing.png")]
        text = "cannot read it"
    out = subprocess.run([linux_exe, "pack", str(app), "-o", str(tmp_path / "out" / "app"), *args],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 9, out.stderr  # PACK
    assert text in one_error_line(out.stderr)
    assert os.listdir(tmp_path / "out") == []
