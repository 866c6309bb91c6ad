# SPDX-License-Identifier: MIT
"""`gale pack --msi`: an MSI for a packed Windows executable, built on Linux
with msitools' wixl and msibuild from installer/gale.wxs.

What is decided here (docs/msi.md has the why):

* the UpgradeCode: `[msi] upgrade_code`, else a UUID derived from the
  publisher and the name (printed, so that it can be pinned);
* the ProductCode from the UpgradeCode, the version and the architecture,
  so that building the same version again gives the same codes, and
  installing it again is a repair, never a second product;
* component GUIDs from the UpgradeCode: the same for every version.

The package code (the summary's revision number) is wixl's own, new for
every build, so the x64 and ARM64 packages never share one.

wixl 0.101 drops attributes it does not know with only a warning, so any
WARNING, CRITICAL or ERROR it prints fails the build. It has no arm64
architecture: the ARM64 package is built with -a x64 from the aarch64
executable, and its summary Template is set to Arm64;1033 afterwards.
`Secure` is another attribute it drops, so SecureCustomProperties is set
with msibuild.
"""

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from xml.sax.saxutils import escape

from gale import config
from gale.pack import icons, peresources
from gale.errors import GaleError

ARCH = {"win-x64": "x64", "win-arm64": "arm64"}
TEMPLATE_SUMMARY = {"win-x64": "x64;1033", "win-arm64": "Arm64;1033"}
PUBLIC = ("SERVICE", "PORT", "HOST", "SERVICE_ACCOUNT", "SERVICE_START", "INSTALLDIR")
_NAMESPACE = uuid.UUID("6f1d9c7e-3a2b-5c4d-8e9f-0a1b2c3d4e5f")  # Gale's own
_MSI_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_WIXL_PROBLEM = re.compile(r"WARNING|CRITICAL|ERROR")


def _guid(value: uuid.UUID) -> str:
    return "{" + str(value).upper() + "}"


def upgrade_code(publisher: str, name: str, pinned: str | None = None) -> str:
    if pinned:
        return _guid(uuid.UUID(pinned.strip("{}")))
    return _guid(uuid.uuid5(_NAMESPACE, f"upgrade:{publisher}:{name}"))


def product_code(upgrade: str, version: str, target: str) -> str:
    return _guid(uuid.uuid5(uuid.UUID(upgrade.strip("{}")), f"product:{version}:{ARCH[target]}"))


def check_tools() -> dict:
    """{tool: path} for wixl and msibuild, or PACK naming the package."""
    found = {tool: shutil.which(tool) for tool in ("wixl", "msibuild")}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        raise GaleError("PACK", f"gale pack --msi needs {' and '.join(missing)}: install "
                                "Debian's packages with `apt-get install wixl msitools`")
    return found


def check_name(name: str) -> None:
    if not _MSI_ID_RE.match(name):
        raise GaleError("PACK", f"app name {name!r} cannot name the MSI's parts (letters, "
                                "digits, '_' and '.', starting with a letter or '_'): "
                                "choose another with --name")


def _template() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.join(here, "..", "..", "..", "installer", "gale.wxs")
    if os.path.isfile(source):  # run from the source tree (the build)
        with open(source, encoding="utf-8") as f:
            return f.read()
    from importlib import resources  # inside an executable: in the payload

    return resources.files("gale").joinpath("installer", "gale.wxs").read_text("utf-8")


def _icon_file(exe_bytes: bytes, identity, path: str) -> None:
    """The icon the MSI shows (Add/Remove Programs, the shortcut): the
    app's, else the one the executable carries."""
    if identity.icon:
        images = icons.load(identity.icon)
    else:
        tree = peresources.read(exe_bytes)
        group = next(iter(tree[peresources.RT_GROUP_ICON][1].values()))
        data = {nid: next(iter(langs.values())) for nid, langs in
                tree[peresources.RT_ICON].items()}
        images = icons.from_resources(group, data)
    with open(path, "wb") as f:
        f.write(icons.to_ico(images))


def output_name(name: str, version: str, target: str) -> str:
    return f"{name}-{version}-{ARCH[target]}.msi"


def build(exe: str, identity, target: str, cfg_values: dict) -> dict:
    """Writes <Name>-<version>-<arch>.msi next to `exe`; returns what it wrote."""
    tools = check_tools()
    check_name(identity.name)
    publisher = identity.publisher or identity.shown_name
    upgrade = upgrade_code(publisher, identity.name, cfg_values.get("msi.upgrade_code"))
    product = product_code(upgrade, identity.version, target)
    with open(exe, "rb") as f:
        exe_bytes = f.read()
    base = uuid.UUID(upgrade.strip("{}"))
    values = {
        "PRODUCT_CODE": product, "UPGRADE_CODE": upgrade,
        "VERSION": identity.version, "NAME": identity.name,
        "DISPLAY_NAME": identity.shown_name, "PUBLISHER": publisher,
        "DESCRIPTION": identity.description or f"{identity.shown_name}, served by Gale",
        "URL": identity.url or "", "SERVICE_NAME": cfg_values.get("service.name", identity.name),
        "PORT": str(cfg_values.get("port", config.DEFAULTS["port"])),
        "HOST": cfg_values.get("host", config.DEFAULTS["host"]),
        "SERVICE_START": cfg_values.get("service.start", "auto"),
        "REG_KEY": f"Software\\{publisher}\\{identity.name}",
        "GUID_EXE": _guid(uuid.uuid5(base, "component:exe")),
        "GUID_SETTINGS": _guid(uuid.uuid5(base, "component:settings")),
        "GUID_SHORTCUT": _guid(uuid.uuid5(base, "component:shortcut")),
    }
    out = os.path.join(os.path.dirname(os.path.abspath(exe)),
                       output_name(identity.name, identity.version, target))
    with tempfile.TemporaryDirectory(prefix="gale-msi-") as tmp:
        # wixl takes source paths relative to where it runs, not absolute ones.
        values["EXE"], values["ICON"] = "app.exe", "app.ico"
        try:
            os.symlink(os.path.abspath(exe), os.path.join(tmp, "app.exe"))
        except OSError:
            shutil.copyfile(exe, os.path.join(tmp, "app.exe"))
        _icon_file(exe_bytes, identity, os.path.join(tmp, "app.ico"))
        text = re.sub(r"@([A-Z_]+)@", lambda m: escape(values[m.group(1)], {'"': "&quot;"}),
                      _template())
        if not identity.url:  # no empty help links in Add/Remove Programs
            text = re.sub(r'\s*<Property Id="ARP(HELPLINK|URLINFOABOUT)" Value=""/>', "", text)
        wxs = os.path.join(tmp, "app.wxs")
        with open(wxs, "w", encoding="utf-8") as f:
            f.write(text)
        staged = os.path.join(tmp, "app.msi")
        _run([tools["wixl"], "-a", "x64", "-o", "app.msi", "app.wxs"], "wixl", cwd=tmp)
        secure = ";".join(("WIX_DOWNGRADE_DETECTED", "WIX_UPGRADE_DETECTED") + PUBLIC)
        _run([tools["msibuild"], staged, "-q",
              f"UPDATE `Property` SET `Value` = '{secure}' "
              "WHERE `Property` = 'SecureCustomProperties'"], "msibuild")
        # -s must come last (msibuild prints its usage otherwise).
        _run([tools["msibuild"], staged, "-s", f"{identity.shown_name} {identity.version}",
              publisher, TEMPLATE_SUMMARY[target]], "msibuild")
        try:
            shutil.move(staged, out)
        except OSError as exc:
            raise GaleError("PACK", f"cannot write {out}: {exc.strerror or exc}") from None
    return {"msi": out, "upgrade_code": upgrade, "product_code": product}


def _run(argv: list, what: str, cwd: str | None = None) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if _WIXL_PROBLEM.search(line)]
    if done.returncode != 0 or problems:
        detail = (problems or (done.stderr.strip() or done.stdout.strip()).splitlines() or
                  [f"exit status {done.returncode}"])[0]
        raise GaleError("PACK", f"{what} failed: {detail}")
