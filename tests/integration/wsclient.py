# SPDX-License-Identifier: MIT
"""A minimal WebSocket client over asyncio streams, for many connections at
once: test_eventloop.py and tests/bench/loop_bench.py open hundreds or
thousands of them against a Gale server's /ws echo. Text frames under 126
bytes only."""

import asyncio
import base64
import os

BATCH = 50  # connections opened at once: bursts are slow only under Wine


async def ws_open(port: int):
    """A WebSocket to the demo's /ws echo: (reader, writer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head[:200]
    return reader, writer


async def ws_echo(conn, text: str) -> str:
    reader, writer = conn
    data, mask = text.encode(), os.urandom(4)
    assert len(data) < 126
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    writer.write(bytes([0x81, 0x80 | len(data)]) + mask + masked)
    first, size = await reader.readexactly(2)
    assert first == 0x81 and size < 126, (first, size)
    return (await reader.readexactly(size)).decode()


async def ws_open_batches(port: int, count: int) -> list:
    conns = []
    while len(conns) < count:
        conns += await asyncio.gather(*(ws_open(port) for _ in range(min(BATCH, count - len(conns)))))
    return conns


async def echo_all(conns) -> None:
    for start in range(0, len(conns), BATCH):
        chunk = conns[start:start + BATCH]
        replies = await asyncio.gather(*(ws_echo(c, f"m{start + i}") for i, c in enumerate(chunk)))
        assert replies == [f"m{start + i}" for i in range(len(chunk))]


def close_all(conns) -> None:
    for _, writer in conns:
        writer.close()
