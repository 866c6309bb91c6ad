# SPDX-License-Identifier: MIT
"""The payload's importers through the real executable: the library (stdlib,
Tornado, Gale) from the code archive (pylib/gale/libimport.py) and the app
from its extracted folder (importer.py). What code expects of modules on
disk keeps working, the unpacked chunks are cached and checked, a damaged
payload is refused, and a start imports nothing it does not need.
"""

import json
import os
import random
import shutil
import struct
import urllib.error

import pytest

from harness import Host, exit_codes, free_port, get, one_error_line
from test_runtime import pack, write_app

TRAILER = struct.Struct("<8sQQ32s")  # magic, offset, size, SHA-256 (payload.py)


def python(host, code, *args, exe=None, env=None):
    out = host.run("python", "-c", code, *args, exe=exe, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


LIBRARY = r"""
import importlib.resources, json, pkgutil, sys
import tornado, tornado.web
from gale import libimport
print(json.dumps({
    "loader": type(tornado.web.__loader__).__name__,
    "file": tornado.web.__file__,
    "package path": tornado.__path__,
    "py.typed": importlib.resources.files("tornado").joinpath("py.typed").is_file(),
    "tornado modules": sorted(m.name for m in pkgutil.iter_modules(tornado.__path__)),
    "email modules": sorted(m.name for m in pkgutil.iter_modules(
        __import__("email").__path__)),
    "chunk 0": type(libimport.active()._loaded[0]).__name__,
    "gc": __import__("gc").isenabled(),
}))
"""


def test_library_comes_from_the_code_archive(host):
    first = python(host, LIBRARY)
    exe = host.path(host.exe)
    sep = "\\" if host.windows else "/"
    assert first["loader"] == "LibraryFinder"
    assert first["file"] == sep.join([exe, "tornado", "web.pyc"])
    assert first["package path"] == [sep.join([exe, "tornado"])]
    assert first["py.typed"] is True
    assert first["gc"] is True  # off while starting, on again for python's own code
    assert {"web", "websocket", "ioloop", "platform"} <= set(first["tornado modules"])
    assert {"utils", "message", "mime"} <= set(first["email modules"])
    # The first start unpacked the quick chunk and wrote it to the cache;
    # the next one maps the cached copy.
    assert first["chunk 0"] == "bytes"
    cached = os.listdir(os.path.join(host.cache_root(), ".code"))
    assert cached and all(name.endswith(".bin") for name in cached), cached
    assert python(host, LIBRARY)["chunk 0"] == "mmap"


LEAN = r"""
import datetime, decimal, importlib.util, io, json, sys
import tornado.web
import gale.config
print(json.dumps({
    "docstrings": [json.dumps.__doc__, json.__doc__, tornado.web.RequestHandler.__doc__,
                   gale.config.__doc__],
    "fallbacks": [importlib.util.find_spec(m) is not None
                  for m in ("_pydecimal", "_pydatetime", "_pyio")],
    "C modules": [m in sys.modules for m in ("_decimal", "_datetime")]
                 + [io.StringIO.__module__, decimal.Decimal(1) / 8 == decimal.Decimal("0.125")],
    "asserts": sys.flags.optimize,
}))
"""


def test_library_is_lean(host):
    """The library is compiled without docstrings (pack.py build) and
    without the pure-Python twins of built-in C modules; asserts stay."""
    got = python(host, LEAN)
    assert got["docstrings"] == [None, None, None, None]
    assert got["fallbacks"] == [False, False, False]
    assert got["C modules"] == [True, True, "_io", True]
    assert got["asserts"] == 0


APP_MODULE = '''\
import json
import sys
import traceback


def fails():
    raise ValueError("raised in app code")  # the line a traceback shows


def main():
    import importlib.resources
    import inspect
    import os
    import pkgutil

    import probeapp
    import probeapp.helpers

    try:
        fails()
    except ValueError:
        tb = traceback.format_exc()
    import gc

    print(json.dumps({
        # Off while Gale starts, on (with the start's objects frozen) before
        # the app's own main runs.
        "gc": [gc.isenabled(), gc.get_freeze_count() > 1000],
        "file": probeapp.helpers.__file__,
        "file exists": os.path.isfile(probeapp.helpers.__file__),
        "traceback": tb,
        "getsource": inspect.getsource(probeapp.helpers.twice),
        "docstring": probeapp.helpers.twice.__doc__,
        "iter_modules": sorted(m.name for m in pkgutil.iter_modules(probeapp.__path__)),
        "files()": importlib.resources.files("probeapp").joinpath("words.txt").read_text(),
    }))
'''
HELPERS = '''\
def twice(x):
    """Doubles x."""
    return 2 * x
'''


def test_app_modules_behave_as_on_disk(host, tmp_path):
    app = write_app(tmp_path / "probe", {
        "gale.toml": 'main = "probe:main"\n',
        "probe.py": APP_MODULE,
        "probeapp/__init__.py": "",
        "probeapp/helpers.py": HELPERS,
        "probeapp/more.py": "",
        "probeapp/sub/__init__.py": "",
        "probeapp/words.txt": "some words\n",
    })
    out = host.run(exe=pack(host, app, tmp_path / "probe-exe"))
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    sep = "\\" if host.windows else "/"
    assert got["file"].endswith(sep.join(["", "app", "probeapp", "helpers.py"]))
    assert got["file exists"] is True
    assert got["gc"] == [True, True]
    assert 'raise ValueError("raised in app code")  # the line a traceback shows' in got["traceback"]
    assert "probe.py" in got["traceback"]
    assert got["getsource"] == HELPERS
    assert got["docstring"] == "Doubles x."  # the app keeps its docstrings
    assert got["iter_modules"] == ["helpers", "more", "sub"]
    assert got["files()"] == "some words\n"


def code_archive(data: bytes):
    """(where the code archive's header starts, its size, where the chunks
    start, where they end) in executable bytes `data`."""
    marker = data.rfind(b"GALEPAY1")
    _, offset, _, _ = TRAILER.unpack(data[marker:marker + TRAILER.size])
    assert data[offset:offset + 4] == b"PK\x03\x04"
    name_len, extra_len = struct.unpack("<HH", data[offset + 26:offset + 30])
    assert data[offset + 30:offset + 30 + name_len] == b"__gale__/code"
    start = offset + 30 + name_len + extra_len
    assert data[start:start + 8] == b"GALECOD1"
    size = struct.unpack("<I", data[start + 8:start + 12])[0]
    stored = struct.unpack("<I", data[offset + 18:offset + 22])[0]
    return start + 16, size, start + 16 + size, start + stored


def damaged_copy(host, tmp_path, where) -> str:
    with open(host.exe, "rb") as f:
        data = bytearray(f.read())
    at = where(*code_archive(bytes(data)))
    data[at] ^= 0x20
    out = host.exe_path(tmp_path / "damaged")
    with open(out, "wb") as f:
        f.write(data)
    os.chmod(out, 0o755)
    return out


@pytest.mark.parametrize("part", ["module", "index"])
def test_damaged_payload_is_refused(host, tmp_path, part):
    # One flipped bit in a stored module (the first chunk's bytes) or in the
    # archive's index; the cache is empty, so the executable's bytes are read.
    where = {"module": lambda header, size, chunks, end: chunks + 1000,
             "index": lambda header, size, chunks, end: header + size // 2}[part]
    exe = damaged_copy(host, tmp_path, where)
    payload_code = exit_codes(host)["PAYLOAD"]
    for args in (["--version"], ["python", "-c", "pass"]):
        # The intact executable above cached the same chunks, under their
        # SHA-256: a damaged executable runs from that checked copy (the
        # damaged bytes are never used), so the check needs a cold cache.
        shutil.rmtree(os.path.join(host.cache_root(), ".code"), ignore_errors=True)
        out = host.run(*args, exe=exe)
        assert out.returncode == payload_code, (args, out.stderr)
        assert "damaged" in one_error_line(out.stderr), out.stderr


def test_damage_met_later_is_payload_everywhere(make_host, svcapp_exe, tmp_path, target):
    """The last code chunk (what a start does not need) damaged, met by an
    import in `gale python`, in `check` and in a request in `serve`: exit
    PAYLOAD with one line, never a traceback; in `serve`, 500 and one log
    line however often it is met. The cache is empty, so the executable's
    bytes are read."""
    if target == "win-arm64":
        pytest.skip("the same Python code as win-x64's; Wine 10 under qemu is slow")
    home = tmp_path / "home"
    home.mkdir()
    host = make_host(svcapp_exe, str(home))
    exe = damaged_copy(host, tmp_path, lambda header, size, chunks, end: end - 1)
    payload_code = exit_codes(host)["PAYLOAD"]
    fallback = "try:\n import xml.dom.minidom\nexcept ImportError:\n print('fell back')"
    for args in (["python", "-c", "import xml.dom.minidom"], ["python", "-c", fallback],
                 ["check"]):
        out = host.run(*args, exe=exe)
        assert out.returncode == payload_code, (args, out.stdout, out.stderr)
        assert "code chunk 1" in one_error_line(out.stderr), out.stderr
        assert "fell back" not in out.stdout
    port = free_port()
    proc = host.spawn("serve", "--port", str(port), exe=exe)
    proc.follow_stderr()
    proc.wait_http(f"http://127.0.0.1:{port}/")
    for _ in range(3):
        with pytest.raises(urllib.error.HTTPError) as failed:
            get(f"http://127.0.0.1:{port}/import?module=xml.dom.minidom")
        assert failed.value.code == 500
    assert get(f"http://127.0.0.1:{port}/")[0] == 200
    assert proc.stop() == 0
    assert proc.stderr.count("PAYLOAD: ") == 1, proc.stderr
    assert "code chunk 1" in proc.stderr and "Traceback" not in proc.stderr


def test_random_damage_is_payload_or_harmless(host, tmp_path, target):
    """1-8 random bytes of the payload changed, 24 times, each with an empty
    cache: a run that imports across the library exits 0 (the bytes were
    never needed) or PAYLOAD with one line; never a traceback or a crash."""
    if target != "linux-x86_64":
        pytest.skip("the checks are the same on every target; one is enough for chance")
    with open(host.exe, "rb") as f:
        intact = f.read()
    marker = intact.rfind(b"GALEPAY1")
    _, start, _, _ = TRAILER.unpack(intact[marker:marker + TRAILER.size])
    rng = random.Random(26)
    payload_code = exit_codes(host)["PAYLOAD"]
    codes = []
    for _ in range(24):
        data = bytearray(intact)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(start, marker)] ^= rng.randint(1, 255)
        exe = tmp_path / "random"
        exe.write_bytes(data)
        os.chmod(exe, 0o755)
        shutil.rmtree(os.path.join(host.cache_root(), ".code"), ignore_errors=True)
        out = host.run("python", "-c", "import tornado.web, asyncio, sqlite3, email.parser, "
                       "xml.dom.minidom, http.server, json", exe=str(exe))
        assert out.returncode in (0, payload_code), out.stderr
        if out.returncode:
            one_error_line(out.stderr)
        codes.append(out.returncode)
    assert payload_code in codes


BOOT = r"""
import json, sys, zipfile
import _gale, encodings, gale, gale.libimport, linecache
from gale import layout
print(json.dumps({
    "frozen": sorted(_gale.frozen_boot),
    "boot": sorted(layout.BOOT_MODULES),
    "loaders": sorted({type(sys.modules[m].__loader__).__name__
                       for m in ("encodings", "gale", "gale.libimport", "linecache")}),
    "files": [encodings.__file__, gale.libimport.__file__],
    "gale path": gale.__path__,
    "zipimporters": sorted(k for k, v in sys.path_importer_cache.items()
                           if type(v).__name__ == "zipimporter"),
    "boot members": sorted(n for n in zipfile.ZipFile(_gale.executable).namelist()
                           if n.endswith(".pyc") and not n.startswith("__gale_app__/")),
}))
"""


def test_boot_modules_come_frozen_from_the_host(host):
    """What a start imports before the code archive's finder exists comes
    frozen from the host (native/frozen_boot.c), not through zipimport,
    and afterwards looks as the rest of the library does."""
    got = python(host, BOOT)
    exe = host.path(host.exe)
    sep = "\\" if host.windows else "/"
    assert got["frozen"] == got["boot"]
    assert got["loaders"] == ["LibraryFinder"]
    assert got["files"] == [sep.join([exe, "encodings", "__init__.pyc"]),
                            sep.join([exe, "gale", "libimport.pyc"])]
    assert got["gale path"] == [sep.join([exe, "gale"])]
    assert got["zipimporters"] == []
    assert got["boot members"] == []


MISMATCH = r"""
import marshal, sys
from gale.pack import build as pack, payload
host, library = pack.load_base(sys.argv[1])
modules = payload.read_code_archive(library[payload.CODE_MEMBER])
code, is_package = modules["gale.paths"]
changed = marshal.loads(code)
changed = changed.replace(co_consts=changed.co_consts + ("built from other sources",))
modules["gale.paths"] = (marshal.dumps(changed), is_package)
library[payload.CODE_MEMBER] = payload.build_code_archive(
    {name: (bytes(16) + code, pkg) for name, (code, pkg) in modules.items()}, set(modules))
pack.check_boot = lambda host, code: None  # pack would refuse it (test_pack.py); the host must too
pack.assemble(sys.argv[2], host, library)
"""


def test_library_from_other_sources_is_refused(host, linux_exe, tmp_path):
    """A payload whose library is intact but was not built with this host
    (its gale.paths differs from the host's frozen copy) is refused with the
    PAYLOAD exit code before any of it runs."""
    out = host.exe_path(tmp_path / "other")
    made = Host(linux_exe, host.home).run("python", "-c", MISMATCH, host.exe, out)
    assert made.returncode == 0, made.stderr
    result = host.run("--version", exe=out)
    assert result.returncode == exit_codes(host)["PAYLOAD"], result.stderr
    assert "not the one this host was built with (module gale.paths" in one_error_line(
        result.stderr), result.stderr


def test_damaged_cache_is_unpacked_again(host):
    assert host.run("--version").returncode == 0
    folder = os.path.join(host.cache_root(), ".code")
    sizes = {}
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            sizes[name] = f.read()
        with open(path, "wb") as f:
            f.write(bytes(len(sizes[name])))  # the right size, all zeros
    out = host.run("--version")
    assert out.returncode == 0, out.stderr
    for name, body in sizes.items():
        with open(os.path.join(folder, name), "rb") as f:
            assert f.read() == body, name


QUICK = r"""
import contextlib, io, json, sys
from gale import cliargs
cases = json.loads(open(sys.argv[1]).read())
out = []
for argv in cases:
    quick = cliargs.quick(argv)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # --help
            slow = vars(cliargs._parser().parse_args(argv))
    except BaseException as exc:
        slow = type(exc).__name__
    out.append([argv, None if quick is None else vars(quick), slow])
print(json.dumps(out))
"""
QUICK_TAKES = [
    ["serve"],
    ["serve", "--port", "8080", "--host", "0.0.0.0"],
    ["serve", "--port=0", "--debug", "--log-level", "warning", "--no-open-browser"],
    ["serve", "--open-browser", "--drain-timeout", "2.5", "--max-connections", "10",
     "--config", "x.toml", "--app", "m:a", "--cert", "c.pem", "--key", "k.pem",
     "--data-dir", "d", "--port", "1", "--port", "2"],
    ["serve", "--host="],
    ["serve", "--workers", "4"], ["serve", "--workers=auto"],
    ["service", "run", "--name", "svc", "--port", "9000", "--workers", "auto"],
    ["service", "run", "--name=svc", "--config", "c.toml", "--host", "h", "--debug"],
]
QUICK_DECLINES = [
    ["serve", "--port", "x"], ["serve", "--po", "1"], ["serve", "--log-level", "loud"],
    ["serve", "--host", "-x"], ["serve", "--help"], ["serve", "--port"], ["serve", "--debug=1"],
    ["service", "run"], ["service", "run", "--name"], ["check"], ["serve", "extra"],
    ["serve", "--workers", "two"], ["serve", "--workers", "-1"],
]


def test_quick_arguments_match_argparse(host, tmp_path):
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(QUICK_TAKES + QUICK_DECLINES))
    results = python(host, QUICK, host.path(cases))
    for argv, quick, slow in results:
        if argv in QUICK_TAKES:
            assert quick == slow, argv
        else:
            assert quick is None, argv


def test_a_start_imports_only_what_it_needs(host):
    """On a later start (data files extracted), serving the demo imports no
    argument parser beyond the quick path, no TOML parser (pack parsed the
    packed gale.toml), no zip reader, no runpy and nothing that extracts.
    (dataclasses and json are Tornado's own imports.)"""
    assert host.run("check").returncode == 0  # extracts the data files
    proc = host.serve(env={"GALE_IMPORTTIME": "1"})
    proc.stop()
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert {"gale.cli", "tornado.web", "gale.server"} <= imported, sorted(imported)
    unneeded = {"argparse", "tomllib", "zipfile", "runpy", "tempfile", "shutil"}
    assert not imported & unneeded, sorted(imported & unneeded)
