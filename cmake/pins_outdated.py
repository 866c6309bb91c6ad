# SPDX-License-Identifier: MIT
"""`bash cmake/pins.sh outdated`: is any pin in cmake/pins.txt stale?

For each pin from the Debian archive it reads the source indexes
(dists/<suite>/main/source/Sources.xz) of the suites in the machine's apt
configuration plus trixie, trixie-security and sid, and lists every newer
upstream version of the same source package. An index can list a version
whose tarball the archive does not serve, so each newer tarball is asked
for with a HEAD request. Tornado (from PyPI) is checked with
`pip index versions`, whose answer is what pip can download.

It prints one table and exits:
  0  no newer patch release is served for any pin
  1  a newer patch release (same major.minor as the pin) is served
  2  bad usage, or no source index could be read at all

Newer releases of another series (OpenSSL 3.6 beside a 3.5 pin) are shown
but do not make it exit 1: moving series is a decision, not a bump.

The archive URLs come from apt's configuration at run time (--archive and
--security-archive override them, as the fixture test does). Stdlib only.
"""

import argparse
import glob
import lzma
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

EXTRA_SUITES = ("trixie", "trixie-security", "sid")
TIMEOUT = 30


def read_pins(path: str) -> list:
    pins = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if fields and not fields[0].startswith("#"):
                name, version, origin, where = fields[:4]
                pins.append({"name": name, "version": version, "origin": origin, "where": where})
    return pins


def apt_sources():
    """[(uri, [suites])] of the machine's apt configuration (deb822 .sources
    files and one-line sources.list entries)."""
    out = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path, encoding="utf-8") as f:
            for stanza in f.read().split("\n\n"):
                fields = {}
                for line in stanza.splitlines():
                    if ":" in line and not line.startswith(("#", " ")):
                        key, value = line.split(":", 1)
                        fields[key.strip()] = value.split()
                if fields.get("Enabled", ["yes"])[0] == "no":
                    continue
                for uri in fields.get("URIs", []):
                    out.append((uri.rstrip("/"), fields.get("Suites", [])))
    lists = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in lists:
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if len(words) >= 3 and words[0] in ("deb", "deb-src"):
                    out.append((words[1].rstrip("/"), [words[2]]))
    return out


def archives(args):
    """(main archive URL, security archive URL, [suites])."""
    sources = apt_sources()
    main = args.archive or next((u for u, s in sources
                                 if any(not x.endswith("-security") for x in s)), None)
    security = args.security_archive or next((u for u, s in sources
                                              if any(x.endswith("-security") for x in s)), None)
    if main is None:
        sys.exit("pins.sh outdated: no Debian archive in apt's configuration (use --archive URL)")
    if security is None:  # the security archive is the main one's sibling
        security = main.rsplit("/", 1)[0] + "/debian-security"
    if args.suites is not None:
        suites = args.suites.split()
    else:
        suites = []
        for _, names in sources:
            suites += [n for n in names if n not in suites]
        suites += [n for n in EXTRA_SUITES if n not in suites]
    return main, security, suites


def fetch(url: str):
    """The body at `url`, or None when the server says it is not there."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
            return r.read()
    except urllib.error.HTTPError as exc:
        if exc.code in (403, 404, 410):
            return None
        raise


def served(url: str) -> bool:
    req = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return 200 <= r.status < 300
    except urllib.error.HTTPError:
        return False


def parse_sources(text: str):
    """Yields (package, directory, [file names]) for each stanza of a
    Sources index."""
    for stanza in text.split("\n\n"):
        package = directory = None
        files, in_files = [], False
        for line in stanza.splitlines():
            if line.startswith((" ", "\t")):
                if in_files:
                    parts = line.split()
                    if len(parts) == 3:
                        files.append(parts[2])
                continue
            key, _, value = line.partition(":")
            in_files = key == "Checksums-Sha256"
            if key == "Package":
                package = value.strip()
            elif key == "Directory":
                directory = value.strip()
        if package and directory:
            yield package, directory, files


def upstream_version(orig: str) -> str:
    """The upstream version in a Debian orig tarball's version string:
    `1.3.dfsg+really1.3.2` -> `1.3.2`, `3.13.5+dfsg` -> `3.13.5`."""
    if "really" in orig:
        orig = orig.rsplit("really", 1)[1]
    return re.sub(r"[~+.](dfsg|ds)\d*$", "", orig)


def version_key(version: str):
    return tuple(int(n) for n in re.findall(r"\d+", version))


def same_series(a: str, b: str) -> bool:
    return version_key(a)[:2] == version_key(b)[:2]


def debian_candidates(pin: dict, indexes: list) -> dict:
    """{upstream version: (url of its orig tarball)} for the pin's source
    package, from every index."""
    package = pin["where"].split("/")[3]  # pool/main/<letter>/<package>/<file>
    orig = re.compile(re.escape(package) + r"_(.+)\.orig\.tar\.[a-z0-9]+$")
    found = {}
    for base, text in indexes:
        for pkg, directory, files in parse_sources(text):
            if pkg != package:
                continue
            for name in files:
                m = orig.match(name)
                if m:
                    found.setdefault(upstream_version(m.group(1)), f"{base}/{directory}/{name}")
    return found


def pypi_versions(name: str, index_url) -> list:
    cmd = [sys.executable, "-m", "pip", "index", "versions", name, "--disable-pip-version-check"]
    if index_url:
        cmd += ["--index-url", index_url]
    out = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"^Available versions: (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"pip index versions {name}: {out.stderr.strip() or out.stdout.strip()}")
    return [v.strip() for v in m.group(1).split(",")]


def check(pins: list, indexes: list, index_url) -> list:
    """One row per pin: (name, pinned, newest served, newest listed,
    whether a newer patch release is served, [(newer version, served)])."""
    rows = []
    for pin in pins:
        mine = pin["version"]
        if pin["origin"] in ("pypi", "pypi-wheel"):
            # What pip lists it can download: listed is served.
            listed = [v for v in pypi_versions(pin["where"].split("==")[0], index_url)
                      if re.fullmatch(r"[\d.]+", v)]  # releases only
            newer = [(v, True) for v in listed if version_key(v) > version_key(mine)]
        else:
            candidates = debian_candidates(pin, indexes)
            listed = list(candidates)
            newer = [(v, served(candidates[v])) for v in listed
                     if version_key(v) > version_key(mine)]
        newer.sort(key=lambda vs: version_key(vs[0]))
        newest_listed = max(listed + [mine], key=version_key)
        newest_served = max([v for v, ok in newer if ok] + [mine], key=version_key)
        stale = any(ok and same_series(v, mine) for v, ok in newer)
        rows.append((pin["name"], mine, newest_served, newest_listed, stale, newer))
    return rows


def report(rows) -> str:
    head = ("component", "pinned", "newest served", "newest listed", "")
    body = [(n, p, s, l, "newer patch release served" if stale else
             ("newer series served" if s != p else "current"))
            for n, p, s, l, stale, _ in rows]
    widths = [max(len(r[i]) for r in [head] + body) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head] + body]
    details = [f"  {n} {v}: {'served' if ok else 'listed, not served'}"
               for n, *_, newer in rows for v, ok in newer]
    if details:
        lines += ["", "newer versions in the indexes:"] + details
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="pins.sh outdated", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pins", required=True)
    ap.add_argument("--archive", help="the Debian archive (default: apt's configuration)")
    ap.add_argument("--security-archive", help="the security archive (default: apt's, "
                    "else the archive's sibling debian-security)")
    ap.add_argument("--suites", help="the suites to read, space-separated (default: apt's "
                    "plus " + ", ".join(EXTRA_SUITES) + ")")
    ap.add_argument("--pypi-index-url", help="a PyPI simple index for pip (default: pip's own)")
    args = ap.parse_args(argv)
    main_url, security_url, suites = archives(args)
    indexes = []
    for suite in suites:
        base = security_url if suite.endswith("-security") else main_url
        url = f"{base}/dists/{suite}/main/source/Sources.xz"
        try:
            data = fetch(url)
        except (OSError, urllib.error.URLError) as exc:
            print(f"pins.sh outdated: warning: cannot read {url}: {exc}", file=sys.stderr)
            continue
        if data is None:
            print(f"pins.sh outdated: warning: no source index at {url}", file=sys.stderr)
            continue
        indexes.append((base, lzma.decompress(data).decode("utf-8", "replace")))
    if not indexes:
        print("pins.sh outdated: error: no source index could be read", file=sys.stderr)
        return 2
    try:
        rows = check(read_pins(args.pins), indexes, args.pypi_index_url)
    except RuntimeError as exc:
        print(f"pins.sh outdated: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(report(rows))
    return 1 if any(row[4] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
