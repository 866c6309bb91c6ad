# SPDX-License-Identifier: MIT
"""Notes kept in SQLite: WAL mode, one connection, every write committed."""

import datetime
import os
import sqlite3

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
        self._db = sqlite3.connect(self.path)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        with self._db:
            self._db.execute(SCHEMA)

    def list(self) -> list:
        rows = self._db.execute("SELECT id, text, created FROM notes ORDER BY id")
        return [dict(row) for row in rows]

    def add(self, text: str) -> dict:
        created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        with self._db:  # commits, or rolls back on error
            cur = self._db.execute("INSERT INTO notes (text, created) VALUES (?, ?)",
                                   (text, created))
        return {"id": cur.lastrowid, "text": text, "created": created}

    def close(self) -> None:
        self._db.close()
