# SPDX-License-Identifier: MIT
"""What an executable says it contains: `gale sbom` (CycloneDX 1.6, checked
against the official schema that cyclonedx-python-lib ships), `gale pack
--sbom`, `gale --version`, and that what they say is what the running
interpreter reports about itself. Also the bz2/lzma/tarfile round trips that
the new pins (bzip2, xz on Windows) make possible on every target."""

import json
import os
import re
import tomllib

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from harness import Host, exit_codes

# What each target's host links, by SBOM name (cmake/components.py);
# Tornado and the app come from the payload.
HOST_COMPONENTS = {
    "linux-x86_64": {"Gale", "CPython", "OpenSSL", "SQLite", "zlib",
                     "libffi", "libbz2", "liblzma", "libuuid"},
    "win-x64": {"Gale", "CPython", "OpenSSL", "SQLite", "zlib", "libffi", "bzip2", "xz"},
}
HOST_COMPONENTS["win-arm64"] = HOST_COMPONENTS["win-x64"]

# The interpreter's own answers about the versions it runs with.
SELF_REPORT = r"""
import json, sqlite3, ssl, sys, zlib
import _gale, tornado
print(json.dumps({
    "CPython": sys.version.split()[0],
    "OpenSSL": ssl.OPENSSL_VERSION,
    "SQLite": sqlite3.sqlite_version,
    "zlib": zlib.ZLIB_RUNTIME_VERSION,
    "tornado": tornado.version,
    "Gale": _gale.version,
    "linked": _gale.linked_versions,
}))
"""

ROUND_TRIPS = r"""
import bz2, io, lzma, os, shutil, sys, tarfile, zipfile
data = os.urandom(4096) * 64 + b"gale" * 10000
assert bz2.decompress(bz2.compress(data)) == data
for fmt in (lzma.FORMAT_XZ, lzma.FORMAT_ALONE):
    assert lzma.decompress(lzma.compress(data, format=fmt)) == data
work = sys.argv[1]
src = os.path.join(work, "src")
os.makedirs(os.path.join(src, "sub"))
with open(os.path.join(src, "sub", "blob.bin"), "wb") as f:
    f.write(data)
for mode in ("xz", "bz2", "gz"):
    path = os.path.join(work, "t.tar." + mode)
    with tarfile.open(path, "w:" + mode) as tf:
        tf.add(src, arcname="src")
    with tarfile.open(path, "r:" + mode) as tf:
        assert tf.extractfile("src/sub/blob.bin").read() == data
for method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr("blob", data)
    with zipfile.ZipFile(buf) as zf:
        assert zf.read("blob") == data
archive = shutil.make_archive(os.path.join(work, "made"), "xztar", src)
shutil.unpack_archive(archive, os.path.join(work, "unpacked"))
with open(os.path.join(work, "unpacked", "sub", "blob.bin"), "rb") as f:
    assert f.read() == data
print("round trips ok")
"""

DIST_METADATA = """\
Metadata-Version: 2.4
Name: Tiny_Dep
Version: 1.2.3
Summary: A pure-Python distribution packed with an app
License-Expression: MIT
"""


def sbom_of(host, exe=None):
    out = host.run("sbom", exe=exe)
    assert out.returncode == 0, out.stderr
    return out.stdout, json.loads(out.stdout)


def by_name(doc):
    return {c["name"]: c for c in doc["components"]}


def pins(source_dir):
    found = {}
    with open(os.path.join(source_dir, "cmake", "pins.txt")) as f:
        for line in f:
            fields = line.split()
            if fields and not fields[0].startswith("#"):
                found[fields[6]] = {"version": fields[1], "sha256": fields[4],
                                    "license": fields[5]}
    return found


def upstream(version):
    """A Debian package version's upstream part: 1.0.8-5+b1 -> 1.0.8."""
    return re.sub(r"-[^-]*$", "", version.split(":")[-1])


def test_sbom_is_valid_cyclonedx(host, source_dir):
    text, doc = sbom_of(host)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    assert doc["specVersion"] == "1.6"
    comps = by_name(doc)
    host_side = {c["name"] for c in doc["components"]
                 if {"name": "gale:location", "value": "host"} in c["properties"]}
    assert host_side == HOST_COMPONENTS[host.target]
    assert {"tornado", "hello"} <= set(comps)
    # The app's version is gale.toml's, in its component and as the document's subject.
    with open(os.path.join(source_dir, "examples", "hello", "gale.toml"), "rb") as f:
        hello_version = tomllib.load(f)["version"]
    assert comps["hello"]["type"] == "application"
    assert comps["hello"]["version"] == hello_version
    assert doc["metadata"]["component"]["version"] == hello_version
    assert comps["tornado"]["purl"] == "pkg:pypi/tornado@6.6.1"
    # Every pinned component carries its pin: version, source hash, license.
    pinned = pins(source_dir)
    for name in (host_side - {"Gale"}) | {"tornado"}:
        comp = comps[name]
        assert comp["purl"] and comp["licenses"], comp
        if comp["purl"].startswith("pkg:deb/debian/"):  # linux-x86_64's Debian libraries
            assert host.target == "linux-x86_64" and "hashes" not in comp, comp
            continue
        pin = pinned[name.capitalize() if name == "tornado" else name]
        assert comp["version"] == pin["version"], comp
        assert comp["hashes"] == [{"alg": "SHA-256", "content": pin["sha256"]}], comp
        if name != "tornado":
            assert comp["licenses"] == [{"license": {"id": pin["license"]}}], comp
    props = {p["name"]: p["value"] for p in doc["metadata"]["component"]["properties"]}
    assert props["gale:target"] == host.target
    digest = host.run("python", "-c", "import _gale; print(_gale.payload_digest)")
    assert props["gale:payload-sha256"] == digest.stdout.strip()


def test_sbom_versions_are_the_interpreters_own(host):
    _, doc = sbom_of(host)
    comps = by_name(doc)
    out = host.run("python", "-c", SELF_REPORT)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    for name in ("CPython", "SQLite", "zlib", "tornado", "Gale"):
        assert comps[name]["version"] == seen[name], (name, seen[name])
    assert seen["OpenSSL"].split()[:2] == ["OpenSSL", comps["OpenSSL"]["version"]], seen
    linked = seen["linked"]
    if host.windows:
        bzip2, xz = comps["bzip2"]["version"], comps["xz"]["version"]
        assert linked["libffi"] == comps["libffi"]["version"], linked
    else:  # Debian's libraries, listed by package version
        bzip2, xz = upstream(comps["libbz2"]["version"]), upstream(comps["liblzma"]["version"])
        assert "libffi" not in linked  # Debian 12's libffi 3.4 cannot say
    assert linked["bzip2"].split(",")[0] == bzip2, linked
    assert linked["xz"] == xz, linked


def test_version_lists_every_component(host, source_dir):
    _, doc = sbom_of(host)
    out = host.run("--version")
    assert out.returncode == 0, out.stderr
    assert host.run("-V").stdout == out.stdout
    lines = out.stdout.splitlines()
    for comp in doc["components"]:
        want = f"{comp['name']} {comp.get('version', '(no version)')}"
        if comp["type"] == "application":
            want = "App " + want
        assert any(line.startswith(want) for line in lines), (want, lines)
    with open(os.path.join(source_dir, "examples", "hello", "gale.toml"), "rb") as f:
        hello_version = tomllib.load(f)["version"]
    assert f"App hello {hello_version}" in lines and f"Target {host.target}" in lines


def test_pack_sbom_lists_the_apps_distributions(host, linux_exe, tmp_path):
    app = tmp_path / "depapp"
    (app / "tinydep").mkdir(parents=True)
    (app / "tinydep" / "__init__.py").write_text("VALUE = 42\n")
    (app / "Tiny_Dep-1.2.3.dist-info").mkdir()
    (app / "Tiny_Dep-1.2.3.dist-info" / "METADATA").write_text(DIST_METADATA)
    # A METADATA without a Version: the folder's name gives it.
    (app / "vendor" / "other_lib-0.9.dist-info").mkdir(parents=True)
    (app / "vendor" / "other_lib-0.9.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: other-lib\nLicense: BSD-3-Clause\n")
    (app / "depapp.py").write_text(
        "import tinydep, tornado.web\n\n"
        "class Main(tornado.web.RequestHandler):\n"
        "    def get(self):\n"
        "        self.write(str(tinydep.VALUE))\n\n"
        "app = tornado.web.Application([('/', Main)])\n")
    (app / "gale.toml").write_text('app = "depapp:app"\n')

    # Packed by the executable under test (for its own target), and from
    # Linux for it: the same document either way, and what the packed
    # executable prints.
    packs = {}
    for how, run in (("self", host.run), ("linux", None)):
        exe = host.exe_path(tmp_path / f"out-{how}" / "depapp")
        bom = tmp_path / f"out-{how}" / "depapp.cdx.json"
        args = ("pack", str(app), "-o", str(exe), "--sbom", str(bom))
        if run is None:
            if host.target == "linux-x86_64":
                continue
            out = Host(linux_exe, str(tmp_path / "home")).run(*args, "--target", host.target,
                                                              timeout=300)
        else:
            out = run(*args, timeout=300)
        assert out.returncode == 0, out.stderr
        printed, doc = sbom_of(host, exe=str(exe))
        assert bom.read_text() == printed
        packs[how] = printed
    if len(packs) == 2:
        assert packs["self"] == packs["linux"]

    doc = json.loads(packs["self"])
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(packs["self"]) is None
    dep = by_name(doc)["Tiny_Dep"]
    assert dep["version"] == "1.2.3"
    assert dep["purl"] == "pkg:pypi/tiny-dep@1.2.3"
    assert dep["licenses"] == [{"expression": "MIT"}]
    assert {"name": "gale:location", "value": "app"} in dep["properties"]
    other = by_name(doc)["other-lib"]
    assert (other["version"], other["licenses"]) == ("0.9", [{"license": {"name": "BSD-3-Clause"}}])
    assert doc["metadata"]["component"]["name"] == "depapp"
    version = host.run("--version", exe=str(host.exe_path(tmp_path / "out-self" / "depapp")))
    assert "Tiny_Dep 1.2.3 (app)" in version.stdout.splitlines(), version.stdout
    # depapp declares no version, and none is made up for it.
    assert "version" not in by_name(doc)["depapp"] and "version" not in doc["metadata"]["component"]
    assert "App depapp (no version)" in version.stdout.splitlines(), version.stdout


def test_pack_sbom_bad_path_writes_nothing(host, source_dir, tmp_path):
    exe = host.exe_path(tmp_path / "never")
    (tmp_path / "not-a-folder").write_text("a file, not a folder")
    bom = tmp_path / "not-a-folder" / "bom.json"
    out = host.run("pack", os.path.join(source_dir, "examples", "hello"), "-o", str(exe),
                   "--sbom", str(bom))
    assert out.returncode == exit_codes(host)["PACK"], out.stderr
    assert out.stderr.startswith("gale: error: ") and out.stderr.count("\n") == 1
    assert not os.path.exists(exe)
    assert sorted(set(os.listdir(tmp_path)) - {"home"}) == ["not-a-folder"]


def test_compression_round_trips(host, tmp_path):
    out = host.run("python", "-c", ROUND_TRIPS, host.path(tmp_path), timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "round trips ok"
