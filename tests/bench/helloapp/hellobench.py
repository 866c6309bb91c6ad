# SPDX-License-Identifier: MIT
"""The benchmark's hello-world: one handler, no templates, no static files,
so the numbers measure the interpreter, Tornado and the server loop."""
import tornado.web


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello, world\n")


def make_app():
    return tornado.web.Application([("/", Hello)])
