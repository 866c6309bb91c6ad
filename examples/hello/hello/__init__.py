# SPDX-License-Identifier: MIT
"""Gale's demo app: a page, a WebSocket echo and a notes API stored in SQLite."""
