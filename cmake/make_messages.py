# SPDX-License-Identifier: MIT
"""Writes the message table the Windows host carries (RT_MESSAGETABLE, as
a .mc file compiled by Microsoft's mc.exe would give): message 1 is "%1",
so that Event Viewer shows the text Gale reported instead of "The
description for Event ID 1 cannot be found". Uses only the stdlib.

    python3 cmake/make_messages.py OUT.bin

The layout (MESSAGE_RESOURCE_DATA): a block count, then per block its
lowest and highest ID and the offset of its entries; each entry is its
length (with this 4-byte header, padded to 4), flags (1: UTF-16LE) and
the NUL-terminated text.
"""

import struct
import sys

MESSAGES = {1: "%1\r\n"}


def table(messages: dict) -> bytes:
    ids = sorted(messages)
    assert ids == list(range(ids[0], ids[-1] + 1)), "one block of consecutive IDs"
    header = struct.pack("<I", 1)
    block_size = 12
    entries = b""
    for mid in ids:
        text = messages[mid].encode("utf-16-le") + b"\0\0"
        text += b"\0" * (-(len(text) + 4) % 4)
        entries += struct.pack("<HH", len(text) + 4, 1) + text
    block = struct.pack("<III", ids[0], ids[-1], len(header) + block_size)
    return header + block + entries


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as f:
        f.write(table(MESSAGES))
