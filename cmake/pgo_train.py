# SPDX-License-Identifier: MIT
"""The profile-guided build's training run (cmake/thirdparty.sh, build_cpython).

The instrumented interpreter runs this file from CPython's build tree, as
the PROFILE_TASK of `make profile-opt`. It trains on two workloads:

1. the stdlib's own training set, `python -m test --pgo`, in a child
   process (what CPython's release builds train on);
2. what Gale runs: a Tornado server on 127.0.0.1 answering keep-alive
   HTTP/1.1 requests (plain text, JSON, a template, a 404, a POST form),
   and WebSocket echoes, from clients in the same process.

    python pgo_train.py TORNADO_DIR [--requests N] [--skip-stdlib]

TORNADO_DIR holds the `tornado` package (the pinned sdist's, pure Python:
its C speedup is built into Gale, not into this tree).

The counts are written by the instrumented runtime when each process exits;
a failing test only adds fewer counts, so regrtest's "some tests failed"
(exit 2) is reported and accepted. Anything else fails the build, and so
does a Tornado workload that gets a wrong answer: a profile of broken runs
would be worse than none.
"""
import argparse
import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import time

REGRTEST_OK = (0, 2)  # 2: some tests failed (EXITCODE_BAD_TEST)


def stdlib_training():
    t0 = time.monotonic()
    status = subprocess.call([sys.executable, "-m", "test", "--pgo", "--timeout=1200"])
    took = time.monotonic() - t0
    print(f"pgo-train: stdlib --pgo set exit {status} in {took:.0f} s", flush=True)
    if status not in REGRTEST_OK:
        sys.exit(f"pgo-train: error: the stdlib training run exited {status}")


def tornado_app():
    import tornado.template
    import tornado.web
    import tornado.websocket

    page = tornado.template.Template(
        "<html><title>{{ title }}</title><ul>"
        "{% for i, item in enumerate(items) %}<li class='{{ 'odd' if i % 2 else 'even' }}'>"
        "{{ item['name'] }}: {{ item['n'] }}</li>{% end %}</ul></html>")

    class Hello(tornado.web.RequestHandler):
        def get(self):
            self.write("Hello, world\n")

    class Json(tornado.web.RequestHandler):
        def get(self, n):
            self.write({"n": int(n), "items": [{"id": i, "sq": i * i} for i in range(int(n))]})

    class Page(tornado.web.RequestHandler):
        def get(self):
            items = [{"name": f"item {i}", "n": i} for i in range(20)]
            self.write(page.generate(title="pgo <&>", items=items))

    class Form(tornado.web.RequestHandler):
        def post(self):
            self.write(f"{self.get_argument('a')}+{self.get_argument('b')}")

    class Echo(tornado.websocket.WebSocketHandler):
        def on_message(self, message):
            self.write_message(message)

    return tornado.web.Application([
        (r"/", Hello), (r"/json/(\d+)", Json), (r"/page", Page), (r"/form", Form), (r"/ws", Echo),
    ])


REQUESTS = [
    (b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", b"Hello, world\n"),
    (b"GET /json/8 HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\n\r\n", b'"sq": 49'),
    (b"GET /page HTTP/1.1\r\nHost: t\r\nCookie: a=b; c=d\r\n\r\n", b"pgo &lt;&amp;&gt;"),
    (b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\n", b"404"),
    (b"POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     b"Content-Length: 11\r\n\r\na=1&b=two+2", b"1+two 2"),
]


async def http_client(port, count):
    """Keep-alive requests over one connection, each answer checked."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i in range(count):
        request, expect = REQUESTS[i % len(REQUESTS)]
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        if expect not in head + body:
            raise AssertionError(f"request {request[:20]!r}: {expect!r} not in the answer")
    writer.close()


async def ws_client(port, count):
    from tornado.websocket import websocket_connect
    conn = await websocket_connect(f"ws://127.0.0.1:{port}/ws")
    for i in range(count):
        message = json.dumps({"i": i, "text": "x" * (i % 200)})
        conn.write_message(message)
        if await conn.read_message() != message:
            raise AssertionError("websocket echo differs")
    conn.close()


async def tornado_training(requests):
    import tornado.httpclient
    import tornado.httpserver
    import tornado.netutil

    # Access lines are formatted as a served app's would be, into memory.
    access = logging.getLogger("tornado.access")
    access.propagate = False
    access.addHandler(logging.StreamHandler(io.StringIO()))
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    server = tornado.httpserver.HTTPServer(tornado_app())
    server.add_sockets(sockets)
    await asyncio.gather(*(http_client(port, requests) for _ in range(4)),
                         ws_client(port, requests // 4))
    client = tornado.httpclient.AsyncHTTPClient()
    for _ in range(requests // 20):
        answer = await client.fetch(f"http://127.0.0.1:{port}/json/3")
        if json.loads(answer.body)["n"] != 3:
            raise AssertionError("AsyncHTTPClient answer differs")
    server.stop()
    await server.close_all_connections()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tornado_dir")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--skip-stdlib", action="store_true")
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.tornado_dir, "tornado")):
        sys.exit(f"pgo-train: error: no tornado package in {args.tornado_dir}")
    if not args.skip_stdlib:
        stdlib_training()
    sys.path.insert(0, args.tornado_dir)
    t0 = time.monotonic()
    asyncio.run(tornado_training(args.requests))
    print(f"pgo-train: Tornado workload ({args.requests} requests x 4) in "
          f"{time.monotonic() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
