# SPDX-License-Identifier: MIT
"""The app's own identity in a packed Windows executable: the version
resource and the icon that `gale pack` writes from gale.toml and its flags,
read back with pefile; deterministic output; bad values refused before
anything is written. Packing runs on Linux (the Linux executable, for
every Windows target); one run of each new executable under Wine shows
that it still starts, and signed.
"""

import os
import shutil
import struct
import zlib

import pefile
import pytest

from harness import exit_codes, one_error_line
from test_windows import resources, run_linux, sign, version_strings

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def win(host):
    if not host.windows:
        pytest.skip("Windows executables only")
    return host


def png(size: int) -> bytes:
    """A size x size RGBA PNG (a disc), written here with zlib alone."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\0" + b"".join(
        bytes((x % 256, y % 256, 200, 255 if (x - size / 2) ** 2 + (y - size / 2) ** 2 < (size / 2.2) ** 2
               else 0)) for x in range(size)) for y in range(size))
    return (PNG + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def ico(images) -> bytes:
    """An .ico holding PNG `images` (size, bytes)."""
    head = struct.pack("<HHH", 0, 1, len(images))
    offset, body, entries = 6 + 16 * len(images), b"", b""
    for size, data in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(data),
                               offset + len(body))
        body += data
    return head + entries + body


def icon_group(path):
    """[(width, bit count, RT_ICON bytes)] as the executable's group names them."""
    pe = pefile.PE(path, fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]])
    groups, icons = resources(pe, "RT_GROUP_ICON"), resources(pe, "RT_ICON")
    assert list(groups) == [1]
    group = groups[1]
    _, kind, count = struct.unpack_from("<HHH", group)
    out = []
    for i in range(count):
        w, _, _, _, _, bits, size, nid = struct.unpack_from("<BBBBHHIH", group, 6 + 14 * i)
        assert len(icons[nid]) == size
        out.append((w or 256, bits, icons[nid]))
    assert set(icons) == {nid for nid in range(1, count + 1)}  # the template's are gone
    return out


def pack(linux_exe, target, source_dir, out, home, *flags, app=None):
    return run_linux(linux_exe, "pack", app or os.path.join(source_dir, "examples", "hello"),
                     "--target", target, "-o", str(out), *flags, home=home)


def test_identity_from_flags_with_a_png_icon(win, linux_exe, source_dir, tmp_path):
    (tmp_path / "icon.png").write_bytes(png(300))
    home = tmp_path / "linux-home"
    home.mkdir()
    flags = ["--version", "2.5.7.65535", "--display-name", "Acme Notes", "--publisher", "Acme Corp",
             "--description", "Notes for the whole team", "--copyright", "(c) 2026 Acme Corp",
             "--url", "https://acme.example/notes", "--icon", str(tmp_path / "icon.png")]
    first = tmp_path / "first" / "notes"
    out = pack(linux_exe, win.target, source_dir, first, home, *flags)
    assert out.returncode == 0, out.stderr
    exe = str(first) + ".exe"
    strings = version_strings(exe)
    assert {k: strings[k] for k in ("CompanyName", "FileDescription", "FileVersion",
                                    "InternalName", "LegalCopyright", "OriginalFilename",
                                    "ProductName", "ProductVersion")} == {
        "CompanyName": "Acme Corp", "FileDescription": "Acme Notes", "FileVersion": "2.5.7.65535",
        "InternalName": "hello", "LegalCopyright": "(c) 2026 Acme Corp",
        "OriginalFilename": "hello.exe", "ProductName": "Acme Notes",
        "ProductVersion": "2.5.7.65535"}
    assert strings["Comments"].startswith("Notes for the whole team - Python ")
    fixed = pefile.PE(exe).VS_FIXEDFILEINFO[0]
    assert (fixed.FileVersionMS, fixed.FileVersionLS) == ((2 << 16) | 5, (7 << 16) | 65535)
    # The PNG became every size up to 256, each a PNG of that size.
    group = icon_group(exe)
    assert [w for w, _, _ in group] == [16, 24, 32, 48, 64, 128, 256]
    for width, bits, data in group:
        assert bits == 32 and data.startswith(PNG)
        assert struct.unpack(">II", data[16:24]) == (width, width)
    # Deterministic: the same input gives the same bytes.
    second = tmp_path / "second" / "notes"
    assert pack(linux_exe, win.target, source_dir, second, home, *flags).returncode == 0
    with open(exe, "rb") as a, open(str(second) + ".exe", "rb") as b:
        assert a.read() == b.read()
    # It runs, and still runs signed.
    signed = tmp_path / "signed.exe"
    sign(exe, signed, tmp_path)
    out = win.run("--version", exe=str(signed))
    assert out.returncode == 0 and "App hello" in out.stdout, out.stderr


def test_identity_from_gale_toml_with_an_ico(win, linux_exe, source_dir, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(os.path.join(source_dir, "examples", "hello"), app)
    images = [(16, png(16)), (32, png(32)), (256, png(256))]
    (app / "art").mkdir()
    (app / "art" / "app.ico").write_bytes(ico(images))
    with open(app / "gale.toml", "a") as f:
        f.write('icon = "art/app.ico"\n')
    home = tmp_path / "linux-home"
    home.mkdir()
    out = pack(linux_exe, win.target, source_dir, tmp_path / "hello", home, app=str(app))
    assert out.returncode == 0, out.stderr
    exe = str(tmp_path / "hello.exe")
    assert [(w, data) for w, _, data in icon_group(exe)] == images  # as given, in order
    strings = version_strings(exe)
    assert (strings["ProductName"], strings["FileVersion"]) == ("Hello Gale", "0.1.0")
    # A flag wins over the key.
    out = pack(linux_exe, win.target, source_dir, tmp_path / "v2", home, "--version", "0.2.0",
               app=str(app))
    assert out.returncode == 0, out.stderr
    assert version_strings(str(tmp_path / "v2.exe"))["FileVersion"] == "0.2.0"


@pytest.mark.parametrize("flags, toml, text", [
    (["--version", "1.2"], "", "version '1.2' must be a.b.c or a.b.c.d"),
    (["--version", "1.2.3.65536"], "", "each part a number from 0 to 65535"),
    (["--version", "01.2.3"], "", "must be a.b.c or a.b.c.d"),
    ([], 'version = "1.x.0"\n', "version '1.x.0' must be"),
    (["--publisher", "Acme/Corp"], "", "publisher 'Acme/Corp' must be 1-128 characters"),
    (["--display-name", "CON"], "", "display_name 'CON' must be"),
    (["--url", "ftp://x"], "", "must be an http:// or https:// URL"),
    (["--icon", "missing.ico"], "", "cannot read it"),
    (["--icon", "notes.txt"], "", "must be a .ico or .png file"),
    (["--icon", "bad.ico"], "", "not an .ico file"),
    (["--icon", "bad.png"], "", "only 8-bit, non-interlaced PNGs"),
])
def test_bad_identity_is_refused_before_writing(win, linux_exe, source_dir, tmp_path, flags,
                                                toml, text):
    app = tmp_path / "app"
    shutil.copytree(os.path.join(source_dir, "examples", "hello"), app)
    if toml:  # replaces the demo's own version
        content = (app / "gale.toml").read_text().replace('version = "0.1.0"\n', toml)
        (app / "gale.toml").write_text(content)
    (tmp_path / "bad.ico").write_bytes(b"\0\0\2\0\1\0" + b"\0" * 16)
    bad_png = bytearray(png(32))
    bad_png[24] = 16  # 16 bits per channel
    (tmp_path / "bad.png").write_bytes(bytes(bad_png))
    home = tmp_path / "linux-home"
    home.mkdir()
    flags = [str(tmp_path / f) if f in ("missing.ico", "notes.txt", "bad.ico", "bad.png") else f
             for f in flags]
    out = pack(linux_exe, win.target, source_dir, tmp_path / "out", home, *flags, app=str(app))
    assert out.returncode == exit_codes(win)["PACK"], out.stderr
    assert text in one_error_line(out.stderr)
    assert not (tmp_path / "out.exe").exists() and not (tmp_path / "out").exists()
