# SPDX-License-Identifier: MIT
"""A Tornado app written the plain way: python server.py serves it."""

import asyncio
import os

import tornado.web

HERE = os.path.dirname(__file__)


class MainHandler(tornado.web.RequestHandler):
    def get(self):
        self.render("index.html", title="Plain Tornado")


def make_app():
    return tornado.web.Application(
        [(r"/", MainHandler)],
        template_path=os.path.join(HERE, "templates"),
        static_path=os.path.join(HERE, "static"),
    )


async def main():
    app = make_app()
    app.listen(int(os.environ.get("PORT", "8000")))
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
