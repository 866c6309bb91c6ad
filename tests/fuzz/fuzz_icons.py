# SPDX-License-Identifier: MIT
"""Fuzz target: the app's icon, .png or .ico (pylib/gale/pack/icons.py).

The input is the icon file's bytes, read by icons.load() as `gale pack
--icon FILE` reads it (the module's open() is pointed at the input), then
turned into resources and an .ico as pack and the MSI do. Expected: images,
or GaleError("PACK"). Accepted images must survive the round trips pack
relies on: to_ico() then parse_ico(), and resources() then from_resources(),
give the same images back.
"""

import io

from fuzzcommon import expected, instrumented, require, run

with instrumented("gale"):
    from gale.errors import GaleError
    from gale.pack import icons

_current = b""


def _open(path, mode="r", *args, **kwargs):
    require(mode == "rb", f"icons opens {path} with mode {mode!r}")
    return io.BytesIO(_current)


icons.open = _open  # load() finds open() in its module before the builtin


def test_one_input(data: bytes) -> None:
    global _current
    _current = data
    try:
        images = icons.load("icon.png" if data.startswith(b"\x89PNG") else "icon.ico")
    except GaleError as exc:
        if not expected(exc, "PACK"):
            raise
        return
    require(isinstance(images, list) and images, "load() gives at least one image")
    for w, h, colors, planes, bits, body in images:
        require(1 <= w <= 256 and 1 <= h <= 256, f"image size {w}x{h}")
        require(0 <= colors <= 255 and 0 <= planes <= 0xFFFF and 0 <= bits <= 0xFFFF,
                "directory fields fit their ICONDIRENTRY")
        require(isinstance(body, bytes) and body, "image bytes")
    require(icons.parse_ico(icons.to_ico(images), "round trip") == images,
            "to_ico() then parse_ico() changes the images")
    table, group = icons.resources(images)
    require(icons.from_resources(group, table) == images,
            "resources() then from_resources() changes the images")


if __name__ == "__main__":
    run(test_one_input)
