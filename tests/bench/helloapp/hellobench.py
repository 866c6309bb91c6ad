# SPDX-License-Identifier: MIT
"""The benchmark's hello-world: one handler, no templates, no static files,
so the numbers measure the interpreter, Tornado and the server loop. /ws
echoes WebSocket messages, for the event-loop benchmark (loop_bench.py)."""
import tornado.web
import tornado.websocket


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world\n")


class Echo(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message)


def make_app():
    return tornado.web.Application([("/", Hello), ("/ws", Echo)])
