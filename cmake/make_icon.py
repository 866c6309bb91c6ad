# SPDX-License-Identifier: MIT
"""Draws Gale's icon (our own: three wind strokes on a teal tile) and writes
it as a .ico with 16, 32 and 48 pixel images, using only the stdlib.

    python3 cmake/make_icon.py OUT.ico
"""

import math
import struct
import sys

TILE = (0x8a, 0x6e, 0x0f)     # BGR teal
STROKE = (0xff, 0xff, 0xff)


def pixel(size: int, x: int, y: int):
    """BGRA of pixel (x, y), y from the top, with 4x4 supersampling."""
    hits_tile = hits_stroke = 0
    for sy in range(4):
        for sx in range(4):
            u = (x + (sx + 0.5) / 4) / size
            v = (y + (sy + 0.5) / 4) / size
            r = 0.18  # corner radius
            cx, cy = min(max(u, r), 1 - r), min(max(v, r), 1 - r)
            if (u - cx) ** 2 + (v - cy) ** 2 <= r * r:
                hits_tile += 1
                for i, (row, length) in enumerate(((0.32, 0.62), (0.5, 0.74), (0.68, 0.5))):
                    wave = row + 0.035 * math.sin((u - 0.2) * 2 * math.pi * 1.5)
                    if 0.16 <= u <= 0.16 + length and abs(v - wave) <= 0.045:
                        hits_stroke += 1
                        break
    if hits_tile == 0:
        return (0, 0, 0, 0)
    a = hits_stroke / hits_tile
    color = tuple(round(t * (1 - a) + s * a) for t, s in zip(TILE, STROKE))
    return color + (round(255 * hits_tile / 16),)


def image(size: int) -> bytes:
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    rows = []
    for y in reversed(range(size)):  # bottom-up
        rows.append(b"".join(bytes(pixel(size, x, y)) for x in range(size)))
    mask_row = b"\0" * (((size + 31) // 32) * 4)  # alpha does the masking
    return header + b"".join(rows) + mask_row * size


def main() -> None:
    sizes = (16, 32, 48)
    images = [image(s) for s in sizes]
    out = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    for size, data in zip(sizes, images):
        out += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    with open(sys.argv[1], "wb") as f:
        f.write(out + b"".join(images))


if __name__ == "__main__":
    main()
