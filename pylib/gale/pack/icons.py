# SPDX-License-Identifier: MIT
"""The app's icon for a Windows executable: a .ico file as it is, or a PNG
turned into a multi-size icon, as the images of RT_ICON resources and the
RT_GROUP_ICON directory that names them. Pure Python (zlib only).

An .ico (ICONDIR, then 16-byte ICONDIRENTRYs with each image's size and
file offset) is checked and split into its images. A PNG must be square,
8 bits per channel, not interlaced, and at least 16 pixels: it is scaled
down by area averaging to each of SIZES up to its own size, and every size
is stored PNG-compressed, which Windows Vista and later read at any size.
The output depends only on the input bytes.
"""

import struct
import zlib

from gale.errors import GaleError

SIZES = (16, 24, 32, 48, 64, 128, 256)
_PNG = b"\x89PNG\r\n\x1a\n"


def _bad(path: str, why: str) -> GaleError:
    return GaleError("PACK", f"icon {path}: {why}")


def parse_ico(data: bytes, path: str) -> list:
    """[(width, height, colors, planes, bit count, image bytes)] of an .ico."""
    if len(data) < 6:
        raise _bad(path, "not an .ico file (too short)")
    reserved, kind, count = struct.unpack_from("<HHH", data)
    if reserved != 0 or kind != 1 or count == 0:
        raise _bad(path, "not an .ico file (no icon directory)")
    if len(data) < 6 + 16 * count:
        raise _bad(path, "its directory is cut short")
    images = []
    for i in range(count):
        w, h, colors, _, planes, bits, size, offset = struct.unpack_from("<BBBBHHII", data,
                                                                         6 + 16 * i)
        body = data[offset:offset + size]
        if size == 0 or len(body) != size:
            raise _bad(path, f"image {i + 1} lies outside the file")
        if not body.startswith(_PNG) and body[:4] != struct.pack("<I", 40):
            raise _bad(path, f"image {i + 1} is neither a PNG nor a bitmap")
        images.append((w or 256, h or 256, colors, planes, bits, body))
    return images


def _chunks(data: bytes, path: str):
    at = len(_PNG)
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        body = data[at + 8:at + 8 + length]
        if len(body) != length:
            raise _bad(path, "the PNG is cut short")
        yield kind, body
        at += 12 + length


def decode_png(data: bytes, path: str):
    """(size, RGBA rows) of a square 8-bit PNG."""
    header, palette, alpha, idat = None, None, b"", b""
    for kind, body in _chunks(data, path):
        if kind == b"IHDR":
            if len(body) != 13:
                raise _bad(path, "the PNG's header is damaged")
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            alpha = body
        elif kind == b"IDAT":
            idat += body
    if header is None:
        raise _bad(path, "not a PNG (no IHDR)")
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        raise _bad(path, "only 8-bit, non-interlaced PNGs can be made into an icon")
    if width != height or width < 16:
        raise _bad(path, f"the PNG must be square and at least 16x16 (it is {width}x{height})")
    if color == 3 and not palette:
        raise _bad(path, "the PNG has no palette")
    try:
        raw = zlib.decompress(idat)
    except zlib.error:
        raise _bad(path, "the PNG's image data is damaged") from None
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise _bad(path, "the PNG's image data has the wrong size")
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif kind != 0:
                raise _bad(path, "the PNG's image data is damaged (unknown filter)")
        rows.append(bytes(line))
        prev = line
    return width, [_to_rgba(row, color, palette, alpha) for row in rows]


def _to_rgba(row: bytes, color: int, palette, alpha: bytes) -> bytes:
    if color == 6:
        return row
    if color == 2:
        return b"".join(row[i:i + 3] + b"\xff" for i in range(0, len(row), 3))
    if color == 0:
        return b"".join(bytes((v, v, v, 255)) for v in row)
    if color == 4:
        return b"".join(bytes((row[i], row[i], row[i], row[i + 1])) for i in range(0, len(row), 2))
    out = bytearray()
    for v in row:
        out += palette[3 * v:3 * v + 3].ljust(3, b"\0") + bytes((alpha[v] if v < len(alpha) else 255,))
    return bytes(out)


def _scale(size: int, rows: list, to: int) -> list:
    """Area-average RGBA rows from size x size down to `to` x `to`."""
    if to == size:
        return rows
    out = []
    for ty in range(to):
        y0, y1 = ty * size // to, (ty + 1) * size // to
        line = bytearray()
        for tx in range(to):
            x0, x1 = tx * size // to, (tx + 1) * size // to
            sums = [0, 0, 0, 0]
            for y in range(y0, y1):
                row = rows[y]
                for x in range(x0, x1):
                    px = row[4 * x:4 * x + 4]
                    a = px[3]
                    sums[0] += px[0] * a
                    sums[1] += px[1] * a
                    sums[2] += px[2] * a
                    sums[3] += a
            n = (y1 - y0) * (x1 - x0)
            alpha = sums[3]
            line += bytes((sums[0] // alpha if alpha else 0, sums[1] // alpha if alpha else 0,
                           sums[2] // alpha if alpha else 0, alpha // n))
        out.append(bytes(line))
    return out


def encode_png(size: int, rows: list) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + row for row in rows)
    return (_PNG + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def load(path: str) -> list:
    """The icon images for `path` (.ico or .png), as parse_ico gives them."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise _bad(path, f"cannot read it: {exc.strerror or exc}") from None
    if data.startswith(_PNG):
        size, rows = decode_png(data, path)
        if size > SIZES[-1]:  # once to the largest size, the others from there
            size, rows = SIZES[-1], _scale(size, rows, SIZES[-1])
        return [(s, s, 0, 1, 32, encode_png(s, _scale(size, rows, s)))
                for s in SIZES if s <= size]
    return parse_ico(data, path)


def resources(images: list) -> tuple:
    """({RT_ICON id: image}, the RT_GROUP_ICON directory naming them)."""
    icons, group = {}, struct.pack("<HHH", 0, 1, len(images))
    for n, (w, h, colors, planes, bits, body) in enumerate(images, start=1):
        icons[n] = body
        group += struct.pack("<BBBBHHIH", w % 256, h % 256, colors, 0, planes, bits, len(body), n)
    return icons, group


def to_ico(images: list) -> bytes:
    """An .ico file holding `images` (as parse_ico gives them)."""
    head = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, body = b"", b""
    for w, h, colors, planes, bits, data in images:
        entries += struct.pack("<BBBBHHII", w % 256, h % 256, colors, 0, planes, bits, len(data),
                               offset + len(body))
        body += data
    return head + entries + body


def from_resources(group: bytes, icons: dict) -> list:
    """The images an RT_GROUP_ICON directory names, from their RT_ICON data."""
    _, _, count = struct.unpack_from("<HHH", group)
    out = []
    for i in range(count):
        w, h, colors, _, planes, bits, _, nid = struct.unpack_from("<BBBBHHIH", group, 6 + 14 * i)
        out.append((w or 256, h or 256, colors, planes, bits, icons[nid]))
    return out
