# SPDX-License-Identifier: MIT
"""The hello demo's handlers and its Application factory."""

import asyncio
import json
import math
import os

import tornado.web
import tornado.websocket

from hello.notes import NoteStore

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_NOTE = 10_000
MAX_SLEEP = 60.0


class PageHandler(tornado.web.RequestHandler):
    def get(self):
        self.render("index.html", notes=self.settings["notes"].list())


class EchoSocket(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


class NotesHandler(tornado.web.RequestHandler):
    def write_error(self, status_code, **kwargs):
        self.finish({"error": self._reason})

    def get(self):
        self.write({"notes": self.settings["notes"].list()})

    def post(self):
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError:
            raise tornado.web.HTTPError(400, reason="body is not JSON")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE:
            raise tornado.web.HTTPError(400, reason="send {\"text\": \"...\"}")
        self.set_status(201)
        self.write(self.settings["notes"].add(text.strip()))


class SlowHandler(tornado.web.RequestHandler):
    async def get(self):
        try:
            seconds = float(self.get_argument("seconds", "1"))
            if not math.isfinite(seconds):
                raise ValueError(seconds)
        except ValueError:
            raise tornado.web.HTTPError(400, reason="seconds must be a number")
        await asyncio.sleep(min(max(seconds, 0.0), MAX_SLEEP))
        self.write("done")


def make_app() -> tornado.web.Application:
    data_dir = os.environ.get("GALE_DATA_DIR") or os.path.join(os.getcwd(), "hello-data")
    return tornado.web.Application(
        [
            (r"/", PageHandler),
            (r"/ws", EchoSocket),
            (r"/api/notes", NotesHandler),
            (r"/slow", SlowHandler),
        ],
        template_path=os.path.join(HERE, "templates"),
        static_path=os.path.join(HERE, "static"),
        websocket_max_message_size=16 * 1024 * 1024,
        notes=NoteStore(data_dir),
    )


async def _main() -> None:  # python -m hello.app, without Gale
    make_app().listen(int(os.environ.get("PORT", "8888")), "127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main())
