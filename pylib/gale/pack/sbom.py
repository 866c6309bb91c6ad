# SPDX-License-Identifier: MIT
"""What an executable contains, as a CycloneDX 1.6 SBOM: ``gale sbom``,
``gale pack --sbom FILE`` and the component lines of ``gale --version``.

Two inputs make the document, and both travel inside the executable:

* the host's components record: Gale, CPython and the C libraries linked
  into the host, with versions, licenses and the SHA-256 of each pinned
  source tarball. cmake/components.py writes it from cmake/pins.txt at build
  time and native/components.c compiles it in after `MARKER`, so it is read
  from `_gale` at run time and found in a host template's bytes at pack time;
* the payload zip: every ``*.dist-info/METADATA`` in it (Tornado's, written
  by the build, at the zip root; the app's own distributions under
  ``__gale_app__/``), the app's name and version (when it declares one)
  from the manifest, and the payload's
  SHA-256 from its trailer.

`document` is the one function that turns them into the SBOM, for the
running executable and for one being packed alike, so ``pack --sbom``
writes exactly what the packed executable prints. The serial number is
derived from the payload's SHA-256 and the target and there is no
timestamp: the same pack gives the same document.

Stdlib only: the build's packer imports this under a stock CPython.
"""

import email.parser
import hashlib
import io
import json
import re
import uuid
import zipfile

from gale.pack import payload
from gale.errors import GaleError
from gale.layout import APP_DIR, MANIFEST, SITE_DIR

MARKER = b"\nGALE-COMPONENTS-1\n"  # native/components.c's GALE_COMPONENTS_MARKER
SPEC_VERSION = "1.6"
_DIST_METADATA = re.compile(r"^(?:(?:%s|%s)/(?:.+/)?)?([^/]+)\.dist-info/METADATA$"
                            % (APP_DIR, SITE_DIR))
# Where a distribution is, by the payload folder holding its dist-info: the
# library (Tornado, packaging, installer), the app's dependencies (installed
# from wheels by pack), or the app's own folder.
_LOCATIONS = ((SITE_DIR + "/", "dependency"), (APP_DIR + "/", "app"))


def record_from_host(host: bytes, what: str) -> dict:
    """The components record compiled into host bytes `host` (`what` names
    the file in errors)."""
    at = host.find(MARKER)
    if at < 0:
        raise GaleError("PACK", f"{what} carries no components record (it was built "
                                "before Gale wrote SBOMs); rebuild it")
    if host.find(MARKER, at + 1) >= 0:
        raise GaleError("PACK", f"{what} carries more than one components record")
    end = host.find(b"\0", at)
    return parse_record(host[at + len(MARKER):end if end >= 0 else len(host)], what, "PACK")


def parse_record(text, what: str, kind: str = "PAYLOAD") -> dict:
    try:
        record = json.loads(text)
        if record.get("format") != 1 or not isinstance(record.get("components"), list):
            raise ValueError("unknown format")
    except (ValueError, AttributeError) as exc:
        raise GaleError(kind, f"{what}: damaged components record ({exc})") from None
    return record


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _licenses(meta) -> list:
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return [{"expression": expression}]
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 100:
        return [{"license": {"name": text}}]
    names = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or ()
             if c.startswith("License :: ")]
    return [{"license": {"name": n}} for n in names]


def _distribution(zf: zipfile.ZipFile, path: str, location: str) -> dict:
    meta = email.parser.BytesHeaderParser().parsebytes(zf.read(path))
    # A METADATA without Name or Version: the folder's name says both
    # ({name}-{version}.dist-info), as installers write it.
    folder_name, _, folder_version = _DIST_METADATA.match(path).group(1).partition("-")
    name = meta.get("Name") or folder_name
    version = meta.get("Version") or folder_version or "unknown"
    comp = {"type": "library", "name": name, "version": version,
            "purl": f"pkg:pypi/{_normalize(name)}@{version}",
            "properties": [{"name": "gale:location", "value": location},
                           {"name": "gale:metadata", "value": path}]}
    licenses = _licenses(meta)
    if licenses:
        comp["licenses"] = licenses
    source_path = path[:-len("METADATA")] + "gale-source.json"
    if source_path in zf.NameToInfo:
        source = json.loads(zf.read(source_path))
        comp["hashes"] = [{"alg": "SHA-256", "content": source["sha256"]}]
        comp["properties"].insert(0, {"name": "gale:source-file", "value": source["file"]})
    return comp


def _from_record(entry: dict) -> dict:
    comp = {k: entry[k] for k in ("type", "name", "version", "licenses", "purl")}
    props = [{"name": "gale:location", "value": "host"}]
    if "source" in entry:
        comp["hashes"] = [{"alg": "SHA-256", "content": entry["source"]["sha256"]}]
        props.insert(0, {"name": "gale:source-file", "value": entry["source"]["file"]})
    if "debian_package" in entry:
        props.insert(0, {"name": "gale:debian-package", "value": entry["debian_package"]})
    comp["properties"] = props
    return comp


def _payload_facts(zip_bytes: bytes):
    """(app name, app version or None, payload SHA-256 hex, [distribution
    components]) of a payload."""
    _, _, _, digest = payload.TRAILER.unpack(zip_bytes[-payload.TRAILER_SIZE:])
    dists = []
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
            manifest = payload.read_manifest(zf.read(MANIFEST))
            name, version = manifest["name"], manifest.get("version")
            # The library's first, then the dependencies, then the app's, each by path.
            found = []
            for path in zf.namelist():
                if _DIST_METADATA.match(path):
                    where = next(((i, loc) for i, (prefix, loc) in enumerate(_LOCATIONS, 1)
                                  if path.startswith(prefix)), (0, "library"))
                    found.append((where, path))
            for (_, location), path in sorted(found):
                dists.append(_distribution(zf, path, location))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, payload.PayloadError) as exc:
        raise GaleError("PAYLOAD", f"damaged payload: {exc}") from None
    return name, version, digest.hex(), dists


def document(record: dict, zip_bytes: bytes) -> dict:
    """The CycloneDX 1.6 document for a host's components `record` and the
    payload `zip_bytes` (trailer included)."""
    app_name, app_version, digest, dists = _payload_facts(zip_bytes)
    target = record["target"]
    gale = next(c for c in record["components"] if c["name"] == "Gale")
    components = [_from_record(c) for c in record["components"]]
    app = {"type": "application", "name": app_name}
    if app_version is not None:  # an app that declares none has none here
        app["version"] = app_version
    components.append({**app, "properties": [{"name": "gale:location", "value": "app"}]})
    components.extend(dists)
    refs = set()
    for n, comp in enumerate(components):
        ref = comp.get("purl") or f"app:{app_name}"
        if ref in refs:  # e.g. the app carries its own copy of a distribution
            ref += f"#{n}"
        refs.add(ref)
        comp["bom-ref"] = ref
    serial = uuid.UUID(bytes=hashlib.sha256(f"{digest}:{target}".encode()).digest()[:16],
                       version=5)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial.urn,
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "Gale",
                                      "version": gale["version"]}]},
            "component": {**app, "bom-ref": "executable",
                          "description": f"{app_name}, packed by Gale for {target}",
                          "properties": [{"name": "gale:target", "value": target},
                                         {"name": "gale:payload-sha256", "value": digest}]},
        },
        "components": components,
        "dependencies": [{"ref": "executable",
                          "dependsOn": [c["bom-ref"] for c in components]}],
    }


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def version_lines(doc: dict) -> list:
    """`gale --version`'s lines: every component with its version."""
    lines = []
    for comp in doc["components"]:
        if comp["type"] == "application":  # the app itself
            lines.append(f"App {comp['name']} {comp.get('version', '(no version)')}")
            continue
        line = f"{comp['name']} {comp['version']}"
        props = {p["name"]: p["value"] for p in comp.get("properties", ())}
        if "gale:debian-package" in props:
            line += f" (Debian {props['gale:debian-package']})"
        elif props.get("gale:location") == "app":
            line += " (app)"
        lines.append(line)
    return lines


def running_document() -> dict:
    """The SBOM of the running executable."""
    from gale import _native

    record = parse_record(_native.components, _native.executable)
    try:
        with open(_native.executable, "rb") as f:
            f.seek(_native.payload_offset)
            zip_bytes = f.read(_native.payload_size)
    except OSError as exc:
        raise GaleError("PAYLOAD", f"cannot read {_native.executable}: "
                                   f"{exc.strerror or exc}") from None
    return document(record, zip_bytes)
