# SPDX-License-Identifier: MIT
"""max_connections: how many client connections Gale's server holds open.

Every accepted connection is counted until its socket closes, WebSockets
included (Tornado's own bookkeeping forgets a connection once it is
upgraded). Past the cap a new connection is closed as soon as it is
accepted: the server stays responsive for the ones it holds, and clients
see a refusal they can retry instead of a server that stalls. One warning
per WARN_INTERVAL says how many were closed.

``GALE_DEBUG_CONNECTIONS=1`` logs the count as it changes (coalesced,
at most every STATS_DELAY seconds), for tests that must see every
connection closed.
"""

import logging
import os
import time

log = logging.getLogger("gale")
WARN_INTERVAL = 10.0
STATS_ENV = "GALE_DEBUG_CONNECTIONS"
STATS_DELAY = 0.2


class ConnectionLimit:
    """Counts open connections and closes those past `limit`."""

    def __init__(self, limit: int, on_change=None):
        self.limit = limit
        self.on_change = on_change  # called with the open count when it changes
        self.open = 0
        self.peak = 0
        self.shed = 0
        self._last_warning = None
        self._unreported = 0  # closed since the last warning
        self._stats = os.environ.get(STATS_ENV) == "1"
        self._stats_due = False

    def admit(self, stream) -> bool:
        """True if `stream` may be served; otherwise it is closed."""
        if self.open >= self.limit:
            self.shed += 1
            self._unreported += 1
            self._warn()
            stream.close()
            self._changed()
            return False
        self.open += 1
        self.peak = max(self.peak, self.open)
        close_fd = stream.close_fd

        def counted_close_fd() -> None:  # IOStream.close() calls it once
            try:
                close_fd()
            finally:
                self.open -= 1
                self._changed()
        stream.close_fd = counted_close_fd
        self._changed()
        return True

    def _warn(self) -> None:
        now = time.monotonic()
        if self._last_warning is not None and now - self._last_warning < WARN_INTERVAL:
            return
        self._last_warning = now
        log.warning("connection limit reached: %d open (max_connections = %d); "
                    "closed %d new connection(s) since the last warning",
                    self.open, self.limit, self._unreported)
        self._unreported = 0

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.open)
        if self._stats and not self._stats_due:
            from tornado.ioloop import IOLoop

            self._stats_due = True
            IOLoop.current().call_later(STATS_DELAY, self._report)

    def _report(self) -> None:
        self._stats_due = False
        log.info("connections: open %d, peak %d, closed at the limit %d",
                 self.open, self.peak, self.shed)
