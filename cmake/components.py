# SPDX-License-Identifier: MIT
"""Writes the C header that tells a host what it is built from.

    python3 cmake/components.py --pins cmake/pins.txt --target TARGET \\
        --gale-version X.Y.Z -o gale_components.h

The header defines GALE_COMPONENTS_JSON: one JSON object naming the target
and the components linked into the host: Gale, and for each pinned library
the host links, its version, license, purl and the SHA-256 and file name of
its pinned source tarball (all from cmake/pins.txt). On linux-x86_64,
libffi, bzip2 and xz come from Debian's static libraries instead (as does
libuuid), so those are listed with the Debian package's version
(dpkg-query). Tornado is not here: the payload carries it, with its
dist-info (cmake/GalePython.cmake).

native/gale_module.c compiles the object into the host behind a marker, so
`gale sbom` reads it from `_gale` and `gale pack` finds it in any host
template's bytes (pylib/gale/pack/sbom.py). Runs under any Python 3.
"""

import argparse
import json
import os
import subprocess
import sys

# Which pins each target links. The rest of pins.txt (tornado) is payload.
LINKED = {
    "linux-x86_64": ("cpython", "openssl", "sqlite", "zlib"),
    "win-x64": ("cpython", "openssl", "sqlite", "zlib", "libffi", "bzip2", "xz"),
    "win-arm64": ("cpython", "openssl", "sqlite", "zlib", "libffi", "bzip2", "xz"),
}
# What linux-x86_64 links from Debian (cmake/thirdparty.sh's build_cpython):
# component name, the -dev package holding the .a, and the license of that
# library as Debian 12 ships it (liblzma was public domain before xz 5.6).
DEBIAN_LIBS = {
    "linux-x86_64": (
        ("libffi", "libffi-dev", {"id": "MIT"}),
        ("libbz2", "libbz2-dev", {"id": "bzip2-1.0.6"}),
        ("liblzma", "liblzma-dev", {"name": "Public Domain"}),
        ("libuuid", "uuid-dev", {"id": "BSD-3-Clause"}),
    ),
}


def read_pins(path: str) -> dict:
    pins = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) != 7:
                sys.exit(f"components.py: {path}: expected 7 fields, got {len(fields)}: {line.strip()}")
            name, version, origin, path_or_req, sha, license_id, display = fields
            pins[name] = {"version": version, "origin": origin, "path": path_or_req,
                          "sha256": sha, "license": license_id, "display": display}
    return pins


def pinned(name: str, pin: dict) -> dict:
    return {
        "name": pin["display"],
        "version": pin["version"],
        "type": "framework" if name == "cpython" else "library",
        "licenses": [{"license": {"id": pin["license"]}}],
        "purl": f"pkg:generic/{name}@{pin['version']}",
        "source": {"file": os.path.basename(pin["path"]), "sha256": pin["sha256"]},
    }


def debian_release() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except OSError:
        return ""
    return fields.get("VERSION_ID", "").strip('"')


def debian_lib(name: str, package: str, license_: dict) -> dict:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version} ${Architecture}", package],
                             capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit(f"components.py: cannot read the version of Debian's {package}: {exc}")
    version, arch = out
    purl = f"pkg:deb/debian/{package}@{version.replace('+', '%2B')}?arch={arch}"
    release = debian_release()
    if release:
        purl += f"&distro=debian-{release}"
    return {"name": name, "version": version, "type": "library",
            "licenses": [{"license": license_}], "purl": purl,
            "debian_package": package}


def components(pins: dict, target: str, gale_version: str) -> dict:
    comps = [{"name": "Gale", "version": gale_version, "type": "framework",
              "licenses": [{"license": {"id": "MIT"}}],
              "purl": f"pkg:generic/gale@{gale_version}"}]
    for name in LINKED[target]:
        if name not in pins:
            sys.exit(f"components.py: no pin named {name} in cmake/pins.txt")
        comps.append(pinned(name, pins[name]))
    for lib in DEBIAN_LIBS.get(target, ()):
        comps.append(debian_lib(*lib))
    return {"format": 1, "target": target, "components": comps}


def c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pins", required=True)
    ap.add_argument("--target", required=True, choices=sorted(LINKED))
    ap.add_argument("--gale-version", required=True)
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    doc = components(read_pins(args.pins), args.target, args.gale_version)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    header = ("/* Generated by cmake/components.py from cmake/pins.txt: what this host is\n"
              " * built from (read by `gale sbom` and `gale --version`). */\n"
              f"#define GALE_COMPONENTS_JSON {c_string(text)}\n")
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(header)
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
