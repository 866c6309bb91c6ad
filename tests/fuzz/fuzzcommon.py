# SPDX-License-Identifier: MIT
"""What the Python fuzz targets share: where Gale's code is, how atheris is
started, and what counts as a finding.

A target feeds the input to one of Gale's readers. The reader may accept it,
or refuse it with Gale's own clean error: a GaleError of the kind that
reader documents ("CONFIG" for gale.toml, "PACK" for the packer's inputs),
which `gale` prints as one line. Anything else is a finding: any other
exception (what `gale` reports as "unexpected ...", with the generic exit
code), a broken promise about what was accepted (checked with `require`),
a hang (libFuzzer's -timeout) or running out of memory (-rss_limit_mb).

Run one as libFuzzer runs anything (tests/fuzz/run.sh does):
    python fuzz_config.py [libFuzzer options] CORPUS_DIR...
    python fuzz_config.py crash-file     # replays one input
GALE_FUZZ_PYLIB points at another copy of pylib/ (to try a fix).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYLIB = os.environ.get("GALE_FUZZ_PYLIB") or os.path.join(HERE, "..", "..", "pylib")
sys.path.insert(0, os.path.abspath(PYLIB))

import atheris  # noqa: E402  (after the path: Gale's modules are instrumented on import)


class Finding(AssertionError):
    """A promise a reader broke, on input it accepted."""


def require(condition, what: str) -> None:
    if not condition:
        raise Finding(what)


def expected(exc: BaseException, kind: str) -> bool:
    """Whether `exc` is the clean refusal of kind `kind`; the caller re-raises
    anything else, so libFuzzer records it."""
    from gale.errors import GaleError

    return (type(exc) is GaleError and exc.kind == kind and isinstance(exc.message, str)
            and exc.message != "" and "\n" not in exc.message.strip("\n"))


def instrumented(*modules):
    """Context manager: modules imported inside it give atheris coverage."""
    return atheris.instrument_imports(include=list(modules))


def run(test_one_input) -> None:
    # Python's default depth (1000) is what the packer and the runtime have:
    # a reader that recurses past it is a finding, not to be hidden here.
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
