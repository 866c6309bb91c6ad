# SPDX-License-Identifier: MIT
"""Names inside the payload zip, shared by the packer and the runtime.

Kept apart from payload.py so that start-up, which only needs these names,
does not import zipfile and friends (see payload.py for the format).
"""

APP_DIR = "__gale_app__"  # the app's files
META_DIR = "__gale__"
MANIFEST = f"{META_DIR}/manifest.json"
MANIFEST_FORMAT = 1
