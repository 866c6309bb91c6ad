# SPDX-License-Identifier: MIT
"""Writes the seed inputs (tests/fuzz/corpus/<target>/seed-*) and the
dictionaries (tests/fuzz/<target>.dict) from the repo's own files and
Gale's own writers, so the seeds follow the formats as Gale writes them.

    python tests/fuzz/seeds.py        # with the fuzz venv's python (run.sh --seeds)

Only seed-* files are rewritten; regress-* files (inputs that once found
a bug) and what a campaign adds stay. Each seed is small (a few kB): the
fuzzers mutate them, and libFuzzer's -max_len follows the largest.
"""

import os
import shutil
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "pylib"))

from gale import config  # noqa: E402
from gale.pack import icons, payload, peresources, peversion  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")


def out(target: str, name: str, data: bytes) -> None:
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"seed-{name}"), "wb") as f:
        f.write(data)


def dictionary(target: str, words) -> None:
    with open(os.path.join(HERE, f"{target}.dict"), "w", encoding="utf-8") as f:
        f.write(f"# libFuzzer dictionary for {target}; written by seeds.py\n")
        for word in sorted(set(words)):
            escaped = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else f"\\x{ord(c):02x}"
                              for c in word)
            f.write(f'"{escaped}"\n')


def read(path: str) -> bytes:
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


# --- gale.toml ---------------------------------------------------------------

def config_seeds() -> None:
    for path in ("examples/hello/gale.toml", "examples/plain_tornado/gale.toml",
                 "tests/fixtures/svcapp/gale.toml", "tests/fixtures/binary-deps/gale.toml",
                 "tests/bench/helloapp/gale.toml"):
        out("fuzz_config", path.replace("/", "_"), read(path))
    out("fuzz_config", "every-key.toml", b"""\
name = "every-key"
app = "pkg.server:make_app"
host = "0.0.0.0"
port = 8443
drain_timeout = 2.5
max_connections = 500
workers = "auto"
data_dir = "data"
open_browser = false
version = "1.2.3.4"
display_name = "Every Key"
publisher = "Gale Tests"
description = "Sets every key gale.toml has"
copyright = "(c) the tests"
icon = "icon.png"
url = "https://example.invalid/app"

[tls]
cert = "cert.pem"
key = "key.pem"

[log]
level = "DEBUG"
file = "logs/app.log"
max_bytes = 1048576
backups = 3

[msi]
upgrade_code = "{12345678-9ABC-DEF0-1234-56789ABCDEF0}"

[service]
name = "every-key"
display_name = "Every Key service"
description = "The service"
start = "delayed"
account = "NT SERVICE\\\\every-key"
""")
    out("fuzz_config", "script-dotted.toml",
        b'script = "pkg/server.py"\nworkers = 1\nlog = { level = "info", backups = 0 }\n'
        b'"service.start" = "manual"\nopen_browser = "auto"\n')
    words = ["=", "[", "]", "[[", "]]", "{", "}", ",", ".", '"', "'", '"""', "'''", "\\u0000",
             "\\", "#", "\n", "true", "false", "\"auto\"", "inf", "nan", "-0", "0x10", "1e9",
             "1979-05-27T07:32:00Z", "07:32:00", "1979-05-27"]
    for key in config.KEYS:
        words.append(key)
        if "." in key:
            table, sub = key.split(".", 1)
            words += [f"[{table}]", sub]
    dictionary("fuzz_config", words)


# --- icons -------------------------------------------------------------------

def _png(size: int, color: int, filters, palette=b"", alpha=b"") -> bytes:
    """A square 8-bit PNG of colour type `color`, row filters cycling through `filters`."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(bytes([filters[y % len(filters)]]) +
                   bytes((x * 7 + y * 13 + c * 51) % (len(palette) // 3 or 256)
                         for x in range(size) for c in range(channels))
                   for y in range(size))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, color, 0, 0, 0))
    if palette:
        body += chunk(b"PLTE", palette)
    if alpha:
        body += chunk(b"tRNS", alpha)
    return icons._PNG + body + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def icon_seeds() -> None:
    pal = bytes(range(48))
    pngs = {
        "rgba-16.png": _png(16, 6, [0, 1, 2, 3, 4]),
        "rgb-16.png": _png(16, 2, [4, 3]),
        "gray-17.png": _png(17, 0, [1]),
        "gray-alpha-16.png": _png(16, 4, [2, 0]),
        "palette-16.png": _png(16, 3, [0], pal, b"\x00\x80"),
        "rgba-24-scaled.png": _png(24, 6, [0]),
    }
    for name, data in pngs.items():
        out("fuzz_icons", name, data)
    images = icons.parse_ico(icons.to_ico([(16, 16, 0, 1, 32, pngs["rgba-16.png"])]), "seed")
    bmp = struct.pack("<IiiHHIIiiII", 40, 16, 32, 1, 32, 0, 0, 0, 0, 0, 0) + bytes(16 * 16 * 4 + 64)
    out("fuzz_icons", "png-and-bmp.ico",
        icons.to_ico(images + [(16, 16, 0, 1, 32, bmp)]))
    # The repo's own icon, with only its smallest image (the file is 15 kB).
    own = icons.parse_ico(read("Icon/Icon.app.ico"), "Icon.app.ico")
    out("fuzz_icons", "Icon.app-smallest.ico", icons.to_ico([min(own, key=lambda i: len(i[5]))]))
    dictionary("fuzz_icons", ["\x89PNG\r\n\x1a\n", "IHDR", "PLTE", "tRNS", "IDAT", "IEND",
                              "\x00\x00\x01\x00", "\x28\x00\x00\x00", "\x78\x9c", "\x78\xda"])


# --- PE files ----------------------------------------------------------------

def _align(n: int, to: int) -> int:
    return (n + to - 1) // to * to


def _pe(tree: dict, imports=(), exports=(), machine=0x8664, reloc=True) -> bytes:
    """A small PE32+ image: .idata (imports, exports), .rsrc holding `tree`,
    then .reloc, laid out the way the linkers that make Gale's hosts do."""
    file_align, section_align = 0x200, 0x1000
    sections = []  # (name, rva, data)
    rva = section_align
    # .idata: import descriptors, names, thunks; the export directory.
    idata = bytearray()
    names_at, thunk_at = {}, {}
    desc_size = 20 * (len(imports) + 1)
    idata += bytes(desc_size)
    for dll in imports:
        names_at[dll] = len(idata)
        idata += dll.encode() + b"\0"
    while len(idata) % 8:
        idata += b"\0"
    for dll in imports:
        thunk_at[dll] = len(idata)
        idata += bytes(16)  # one empty thunk
    for i, dll in enumerate(imports):
        struct.pack_into("<IIIII", idata, 20 * i, rva + thunk_at[dll], 0, 0,
                         rva + names_at[dll], rva + thunk_at[dll])
    export_dir = 0
    if exports:
        export_dir = len(idata)
        idata += bytes(40)
        name_rvas = []
        for name in exports:
            name_rvas.append(rva + len(idata))
            idata += name.encode() + b"\0"
        while len(idata) % 4:
            idata += b"\0"
        table = len(idata)
        for r in name_rvas:
            idata += struct.pack("<I", r)
        struct.pack_into("<I", idata, export_dir + 24, len(exports))
        struct.pack_into("<I", idata, export_dir + 32, rva + table)
    sections.append((b".idata", rva, bytes(idata)))
    idata_rva = rva
    rva += _align(len(idata), section_align)
    rsrc = peresources.build_section(tree, rva)
    sections.append((b".rsrc", rva, rsrc))
    rsrc_rva = rva
    rva += _align(len(rsrc), section_align)
    if reloc:
        sections.append((b".reloc", rva, struct.pack("<II", 0x1000, 8)))
        rva += section_align
    headers = 0x40 + 4 + 20 + 240 + 40 * len(sections)
    raw = _align(headers, file_align)
    image = bytearray(raw)
    image[:2] = b"MZ"
    struct.pack_into("<I", image, 0x3C, 0x40)
    image[0x40:0x44] = b"PE\0\0"
    struct.pack_into("<HHIIIHH", image, 0x44, machine, len(sections), 0, 0, 0, 240, 0x22)
    opt = 0x58
    struct.pack_into("<H", image, opt, 0x20B)
    struct.pack_into("<II", image, opt + 32, section_align, file_align)
    struct.pack_into("<I", image, opt + 56, rva)
    struct.pack_into("<I", image, opt + 60, raw)
    struct.pack_into("<I", image, opt + 108, 16)
    dirs = opt + 112
    if imports:
        struct.pack_into("<II", image, dirs + 8 * 1, idata_rva, desc_size)
    if exports:
        struct.pack_into("<II", image, dirs + 8 * 0, idata_rva + export_dir, 40)
    struct.pack_into("<II", image, dirs + 8 * 2, rsrc_rva, len(rsrc))
    if reloc:
        struct.pack_into("<II", image, dirs + 8 * 5, sections[-1][1], 8)
    table = opt + 240
    for i, (name, srva, data) in enumerate(sections):
        size = _align(len(data), file_align)
        struct.pack_into("<8sIIII", image, table + 40 * i, name, len(data), srva, size, len(image))
        image += data + bytes(size - len(data))
    return bytes(image)


def pe_seeds() -> None:
    lang = peversion.LANGUAGE
    version = peversion.version_info(peversion.Identity(name="seed", version="1.2.3",
                                                        description="a seed"), "Gale")
    png = _png(16, 6, [0])
    images, group = icons.resources([(16, 16, 0, 1, 32, png)])
    host = {peresources.RT_VERSION: {1: {lang: version}},
            peresources.RT_ICON: {n: {lang: body} for n, body in images.items()},
            peresources.RT_GROUP_ICON: {1: {lang: group}},
            peresources.RT_MANIFEST: {1: {lang: b"<assembly/>"}},
            "GALE": {"NAMED": {lang: b"named"}, 7: {0: b""}}}
    out("fuzz_peresources", "host.exe",
        _pe(host, imports=("KERNEL32.dll",), exports=("PyInit_seed", "Py_Initialize")))
    out("fuzz_peresources", "extension.pyd",
        _pe({peresources.RT_MANIFEST: {2: {lang: b"<assembly/>"}}},
            imports=("KERNEL32.dll", "python313.dll", "VCRUNTIME140.dll"),
            exports=("PyInit_ext",), machine=0xAA64, reloc=False))
    out("fuzz_peresources", "version.res", version)
    dictionary("fuzz_peresources", ["MZ", "PE\0\0", "\x0b\x02", "\x64\x86", "\x64\xaa",
                                    ".rsrc", ".reloc", "python313.dll", "python3.dll",
                                    "VS_VERSION_INFO", "StringFileInfo", "VarFileInfo",
                                    "\xbd\x04\xef\xfe", "\x00\x00\x00\x80"])


# --- dependencies ------------------------------------------------------------

def deps_seeds() -> None:
    lines = read("tests/fixtures/binary-deps/requirements.txt").decode().splitlines(True)
    # Its first requirements, each with a couple of its hashes (the file is 53 kB).
    keep, hashes = [], 0
    for line in lines[:40]:
        if line.lstrip().startswith("--hash"):
            hashes += 1
            if hashes > 2:
                continue
            keep.append(line if hashes < 2 else line.rstrip(" \\\n") + "\n")
        else:
            hashes = 0
            keep.append(line)
    out("fuzz_requirements", "binary-deps-requirements.txt", "".join(keep).encode())
    out("fuzz_requirements", "requirements.in",
        read("tests/fixtures/binary-deps/requirements.in"))
    out("fuzz_requirements", "options.txt",
        b"-i https://index.invalid/simple\n--index-url=https://index.invalid/simple\n"
        b"tornado==6.6.1 --hash=sha256:" + b"a" * 64 + b"\n"
        b"pkg[extra]===1.0 ; python_version >= '3.13' --hash=sha256:" + b"b" * 64 + b" # pinned\n"
        b"other @ https://files.invalid/other-1.0-py3-none-any.whl\n")
    out("fuzz_requirements", "pylock.toml", b"""\
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.13"

[[packages]]
name = "orjson"
version = "3.13.0"
marker = "sys_platform == 'win32' and platform_machine == 'AMD64'"
wheels = [
    { name = "orjson-3.13.0-cp313-cp313-win_amd64.whl", url = "https://files.invalid/orjson-3.13.0-cp313-cp313-win_amd64.whl", size = 1234, hashes = { sha256 = "0000000000000000000000000000000000000000000000000000000000000000" } },
    { path = "wheels/orjson-3.13.0-cp313-cp313-win_arm64.whl", hashes = { sha256 = "1111111111111111111111111111111111111111111111111111111111111111" } },
]

[[packages]]
name = "tornado"
version = "6.6.1"
wheels = [{ url = "https://files.invalid/tornado-6.6.1-py3-none-any.whl", hashes = { sha256 = "2222222222222222222222222222222222222222222222222222222222222222" } }]
""")
    out("fuzz_requirements", "pyproject.toml", b"""\
[project]
name = "app"
version = "1.0"
dependencies = ["orjson>=3.13", "colorama ; sys_platform == 'win32'", "tornado"]
""")
    dictionary("fuzz_requirements", [
        "--hash=sha256:", "-i", "--index-url=", "==", "===", ">=", "~=", "!=", "*", "@", ";",
        "[", "]", "\\\n", "#", "lock-version", "\"1.0\"", "[[packages]]", "name", "version",
        "marker", "wheels", "url", "path", "hashes", "sha256", "size", "[project]",
        "dependencies", "sys_platform", "platform_machine", "python_version", "extra",
        "implementation_name", "and", "or", "in", "not in", "'win32'", "'AMD64'",
        "-cp313-cp313-win_amd64.whl", "-py3-none-any.whl", ".whl", "tornado"])


# --- the launcher ------------------------------------------------------------

def payload_seeds() -> None:
    host = b"\x7fELF" + bytes(60) + b"host code " * 20
    zip_ = payload.build_zip({"__gale__/manifest": b"\xfb", "__gale_app__/app.py": b"x = 1\n"},
                             len(host))
    out("fuzz_payload", "plain.exe", host + zip_)
    out("fuzz_payload", "signed.exe", host + zip_ + b"0\x82" + bytes(1200))
    # An app file holding an old trailer, then the real one.
    inner = payload.build_zip({"old": b"y"}, len(host))
    outer = payload.build_zip({"data/old.zip": inner}, len(host) + len(inner))
    out("fuzz_payload", "two-trailers.exe", host + inner + outer)
    out("fuzz_payload", "bare-host.exe", host)
    dictionary("fuzz_payload", ["PK\x05\x06", "PK\x03\x04", "PK\x01\x02", "GALEPAY1", "8\x00",
                                "8\x00GALEPAY1"])


def cli_seeds() -> None:
    lines = [["gale"], ["gale", "serve", "--port", "0"], ["gale", "--debug", "check"],
             ["gale", "python", "-X", "dev", "-c", "pass"], ["gale", "-Xdev", "-m", "http.server"],
             ["gale", "-W", "error", "-X", "dev", "script.py"],
             ["gale", "service", "run", "--workers", "2"],
             ["gale", "service", "run", "--help"], ["gale", "--debug", "--debug", "help"],
             ["gale", "-", "--check-hash-based-pycs", "always"], ["gale", "-bb", "--", "-X", "dev"],
             ["gale.exe", "-h"], ["gale", "pack", "app", "-o", "out"]]
    for i, argv in enumerate(lines):
        out("fuzz_cli", f"{i:02d}-" + ("-".join(a.strip("-") or "dash" for a in argv[1:3]) or "none"),
            b"\0".join(a.encode() for a in argv))
    dictionary("fuzz_cli", ["\x00", "gale", "python", "service", "run", "--debug", "--help", "-h",
                            "help", "-X", "-Xdev", "dev", "-W", "-c", "-m", "--", "-",
                            "--check-hash-based-pycs", "--version", "-V"])


def main() -> None:
    for target in ("fuzz_config", "fuzz_icons", "fuzz_peresources", "fuzz_requirements",
                   "fuzz_payload", "fuzz_cli"):
        folder = os.path.join(CORPUS, target)
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if name.startswith("seed-"):
                    os.remove(os.path.join(folder, name))
    config_seeds()
    icon_seeds()
    pe_seeds()
    deps_seeds()
    payload_seeds()
    cli_seeds()
    shutil.rmtree(os.path.join(HERE, "__pycache__"), ignore_errors=True)


if __name__ == "__main__":
    main()
