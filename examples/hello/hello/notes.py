# SPDX-License-Identifier: MIT
"""Notes kept in SQLite: WAL mode, one connection, every write committed."""

import datetime
import os
import sqlite3
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    text    TEXT NOT NULL,
    created TEXT NOT NULL
)
"""


class NoteStore:
    def __init__(self, folder: str):
        os.makedirs(folder, exist_ok=True)
        self.path = os.path.join(folder, "notes.sqlite3")
        # Autocommit, with explicit write transactions in add(): no implicit
        # read-then-write upgrades, which SQLite answers with "database is
        # locked" at once rather than waiting, when two processes start
        # together on the same file.
        self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        # Switching to WAL needs the file to itself; SQLite does not always
        # wait for that through the busy timeout, so retry for a while.
        deadline = time.monotonic() + 10
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(SCHEMA)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def list(self) -> list:
        rows = self._db.execute("SELECT id, text, created FROM notes ORDER BY id")
        return [dict(row) for row in rows]

    def add(self, text: str) -> dict:
        created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            cur = self._db.execute("INSERT INTO notes (text, created) VALUES (?, ?)",
                                   (text, created))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return {"id": cur.lastrowid, "text": text, "created": created}

    def close(self) -> None:
        self._db.close()
