# SPDX-License-Identifier: MIT
"""Serves a Gale app folder with a stock CPython and Tornado: the baseline
the benchmark compares `gale serve` with. It does the least a real
deployment does: read `app` from gale.toml, build the app, listen, log
every request to stderr at INFO (as `gale serve` does by default, in the
same format), stop on SIGTERM.

    python3.13 -I serve_stock.py APPDIR --port PORT [--host 127.0.0.1]
"""
import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
import tomllib


async def serve(app, host, port):
    server = app.listen(port, address=host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    await server.close_all_connections()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("appdir")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()

    with open(os.path.join(args.appdir, "gale.toml"), "rb") as f:
        config = tomllib.load(f)
    module_name, _, attr = config["app"].partition(":")
    sys.path.insert(0, os.path.abspath(args.appdir))

    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app = getattr(importlib.import_module(module_name), attr)()
    asyncio.run(serve(app, args.host, args.port))


if __name__ == "__main__":
    main()
