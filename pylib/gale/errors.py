# SPDX-License-Identifier: MIT
"""The one exception type that ends a Gale command with a documented exit code.

A `GaleError` carries the *name* of an exit code (``"CONFIG"``, ``"APP"``, ...
as named in the launcher's header) and a one-line cause. `cli.main` prints
``gale: error: <cause>`` and turns the name into the number through
`gale._native`; keeping the name here lets modules that must run without the
launcher (config parsing used by the packer (gale.pack)) raise it too.
"""


class GaleError(Exception):
    """A failure with a known cause and a documented exit code."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message

    @property
    def exit_code(self) -> int:
        from gale import _native

        return _native.exit_codes.get(self.kind, _native.exit_codes["ERROR"])
