# SPDX-License-Identifier: MIT
"""Names inside the payload zip, shared by the packer and the runtime.

Kept apart from payload.py so that start-up, which only needs these names,
does not import zipfile and friends (see payload.py for the format).
"""

APP_DIR = "__gale_app__"  # the app's files
SITE_DIR = "__gale_site__"  # its dependencies, installed from wheels (pack/deps.py)
VC_RUNTIME_DIR = "msvc-runtime"  # under SITE_DIR: `gale pack --msvc-runtime`'s DLLs
META_DIR = "__gale__"
# The first two members of every payload, in this order (libimport.py reads
# them at fixed places): the code archive, then the manifest (marshal).
CODE_MEMBER = f"{META_DIR}/code"
MANIFEST = f"{META_DIR}/manifest"
MANIFEST_FORMAT = 2
CODE_MAGIC = b"GALECOD1"
# Modules the host carries frozen besides their copy in the code archive
# (cmake/freeze_boot.py, native/frozen_boot.c): what the interpreter imports
# before gale/__init__.py installs the archive's finder (the codec search;
# linecache, which running a command loads; warnings, which -b loads; runpy
# and its importlib parts, for `gale python -m`), and the finder itself
# with what it imports.
BOOT_MODULES = ("encodings", "encodings.aliases", "encodings.utf_8", "importlib", "importlib._abc",
                "types", "linecache", "warnings",
                "gale", "gale.layout", "gale.libimport", "gale.paths")
