# SPDX-License-Identifier: MIT
"""The executable itself: built-in modules, static linking, the embedded
interpreter, the speedups, versions, help, exit codes and payload errors."""

import ast
import json
import os
import re
import shutil
import subprocess

from harness import exit_codes

# The issues' lists: all must be built into the interpreter.
REQUIRED_BUILTINS = """
_socket select _asyncio _ssl _hashlib zlib _sqlite3 _json _struct math cmath
_datetime _decimal binascii _random _bisect _heapq unicodedata _contextvars _queue
array _pickle _csv _zoneinfo _blake2 _sha2 _md5 _sha1 _sha3 _statistics _lsprof
pyexpat _elementtree _multibytecodec _codecs_cn _codecs_hk _codecs_iso2022
_codecs_jp _codecs_kr _codecs_tw mmap _ctypes _bz2 _lzma
""".split()
REQUIRED_BUILTINS_POSIX = "fcntl termios resource grp _posixsubprocess posix".split()
# Windows: every module CPython 3.13's PC/config.c lists, plus the Windows
# issue's list.
REQUIRED_BUILTINS_WINDOWS = """
_abc array _ast binascii cmath errno faulthandler gc math nt _operator _signal _md5
_sha1 _sha2 _sha3 _blake2 _sysconfig time _thread _tokenize _typing _statistics
msvcrt _locale _tracemalloc _winapi _codecs _weakref _random _bisect _heapq _lsprof
itertools _collections _symtable mmap _csv _sre winreg _struct _datetime _functools
_json _suggestions xxsubtype _interpreters _interpchannels _interpqueues zlib
_multibytecodec _codecs_cn _codecs_hk _codecs_iso2022 _codecs_jp _codecs_kr
_codecs_tw marshal _imp builtins sys _warnings _string _io _pickle atexit _stat
_opcode _contextvars
_socket select _overlapped _asyncio _ssl _hashlib _sqlite3 unicodedata _queue
_multiprocessing _uuid _zoneinfo pyexpat _elementtree _decimal
""".split()


def python(host, code, **kw):
    out = host.run("python", "-c", code, **kw)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_builtin_modules(host):
    names = ast.literal_eval(python(host, "import sys; print(sys.builtin_module_names)"))
    required = REQUIRED_BUILTINS + (REQUIRED_BUILTINS_WINDOWS if host.windows
                                    else REQUIRED_BUILTINS_POSIX)
    missing = [m for m in required if m not in names]
    assert not missing, missing
    assert "_gale" in names and "tornado.speedups" in names


# ctypes through libffi: a call, a C library calling back into Python
# (a closure), doubles in and out, and a struct returned by value.
CTYPES_CHECK = r"""
import ctypes, os, sys
if sys.platform == "win32":
    libc = ctypes.CDLL("ucrtbase")
    print(ctypes.windll.kernel32.GetCurrentProcessId() == os.getpid())
else:
    libc = ctypes.CDLL(None)
    print(libc.getpid() == os.getpid())
compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
values = (ctypes.c_int * 6)(5, 1, 4, 2, 6, 3)
libc.qsort(values, len(values), ctypes.sizeof(ctypes.c_int), compare(lambda a, b: a[0] - b[0]))
print(*values)
libc.pow.restype = ctypes.c_double
libc.pow.argtypes = (ctypes.c_double, ctypes.c_double)
print(libc.pow(2.0, 0.5))
class Div(ctypes.Structure):
    _fields_ = [("quot", ctypes.c_int), ("rem", ctypes.c_int)]
libc.div.restype = Div
result = libc.div(17, 5)
print(result.quot, result.rem)
"""


def test_ctypes(host):
    assert python(host, CTYPES_CHECK).splitlines() == [
        "True", "1 2 3 4 5 6", repr(2.0 ** 0.5), "3 2"]


def test_no_shared_objects(host):
    code = ("import sys, os, ssl, sqlite3, zlib, _decimal, pyexpat; "
            "print([m.__name__ for m in (ssl, sqlite3, zlib, _decimal, pyexpat) "
            "if getattr(m, '__file__', '').endswith(('.so', '.pyd'))]); "
            "print([p for p in sys.path if 'lib-dynload' in p])")
    assert python(host, code).split() == ["[]", "[]"]
    if host.windows:
        return  # the import table is checked in test_windows.py
    ldd = subprocess.run(["ldd", host.exe], capture_output=True, text=True).stdout
    libs = {line.split()[0] for line in ldd.splitlines() if line.strip()}
    allowed = re.compile(r"^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|"
                         r"lib(c|m|dl|pthread|rt|util)\.so\.\d+)$")
    assert libs and all(allowed.match(lib) for lib in libs), ldd


def test_python_command_like_python(host, tmp_path):
    assert python(host, "print(6 * 7)").strip() == "42"
    out = host.run("python", "-m", "json.tool", input='{"a": [1]}')
    assert out.returncode == 0 and json.loads(out.stdout) == {"a": [1]}
    script = tmp_path / "s.py"
    script.write_text("import sys; print(sys.argv[1:]); raise SystemExit(3)\n")
    out = host.run("python", str(script), "x", "y")
    assert (out.returncode, out.stdout.strip()) == (3, "['x', 'y']")
    # sys.executable works as a Python for subprocesses (multiprocessing, tests).
    code = ("import subprocess, sys; print(subprocess.run([sys.executable, '-c', "
            "'print(1 + 1)'], capture_output=True, text=True).stdout.strip())")
    assert python(host, code).strip() == "2"
    out = host.run("python", "-c", "import sys; print(sys.path)")
    assert out.stdout.strip() == repr([host.path(host.exe)])


DEV_MODE_CHECK = ("import sys, faulthandler, warnings; print(sys.flags.dev_mode, "
                  "faulthandler.is_enabled(), ('default', None, Warning, None, 0) "
                  "in warnings.filters)")


def test_python_dev_mode(host):
    # -X dev as python has it: the flag, faulthandler and the "default"
    # warnings filter; what follows the command is the program's.
    assert python(host, DEV_MODE_CHECK).split() == ["False", "False", "False"]
    out = host.run("python", "-X", "dev", "-c", DEV_MODE_CHECK)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "True"]
    out = host.run("python", "-c", DEV_MODE_CHECK, "-X", "dev")
    assert out.stdout.split() == ["False", "False", "False"], out.stderr
    # the other -X options the isolated configuration would drop
    out = host.run("python", "-X", "faulthandler", "-X", "tracemalloc=3", "-c",
                   "import faulthandler, tracemalloc; "
                   "print(faulthandler.is_enabled(), tracemalloc.get_traceback_limit())")
    assert out.stdout.split() == ["True", "3"], out.stderr


def test_speedups_builtin_and_correct(host):
    code = r"""
import os, tornado.speedups as s, tornado.util as u
assert s.__spec__.origin == 'built-in', s.__spec__
assert u._websocket_mask is s.websocket_mask
def ref(mask, data):
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))
for n in list(range(0, 70)) + [1000, 4097, 65536 + 3, 1 << 20]:
    mask, data = os.urandom(4), os.urandom(n)
    assert s.websocket_mask(mask, data) == ref(mask, data), n
    assert s.websocket_mask(bytearray(mask), memoryview(data)) == ref(mask, data), n
for bad in (b'', b'abc', b'abcde'):
    try:
        s.websocket_mask(bad, b'xxxxxxxx')
    except ValueError:
        pass
    else:
        raise SystemExit('no ValueError for %r' % bad)
print('ok')
"""
    assert python(host, code).strip() == "ok"


def test_version_lists_components(host, source_dir):
    out = host.run("--version")
    assert out.returncode == 0, out.stderr
    pins = {}
    with open(os.path.join(source_dir, "cmake", "pins.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                fields = line.split()
                pins[fields[0]] = (fields[6], fields[1])
    text = out.stdout
    assert re.search(r"^Gale \d+\.\d+\.\d+", text, re.M), text
    # Tornado is listed by its distribution's name, from the payload.
    wanted = ["cpython", "openssl", "sqlite", "zlib"]
    wanted += ["libffi", "bzip2", "xz"] if host.windows else []
    for label, version in [pins[n] for n in wanted] + [("tornado", pins["tornado"][1])]:
        assert re.search(rf"^{label} {re.escape(version)}$", text, re.M), (label, text)


def test_help(host):
    out = host.run("--help")
    assert out.returncode == 0
    for word in ("serve", "check", "pack", "python", "--version"):
        assert word in out.stdout
    # test_docs.py holds docs/reference.md to this text.
    assert out.stdout.startswith("usage: gale ")


def test_usage_error(host):
    usage = exit_codes(host)["USAGE"]
    out = host.run("serve", "--port", "notanumber")
    assert out.returncode == usage, out.stderr
    assert out.stderr.strip().startswith("gale: error: ")
    assert host.run("frobnicate").returncode == usage


def test_reference_lists_the_exit_codes(host, source_dir):
    # The executable's table is launcher/gale_exit.h's, compiled in.
    code = "import _gale, json; print(json.dumps([_gale.exit_codes, _gale.exit_code_meanings]))"
    codes, meanings = json.loads(python(host, code))
    with open(os.path.join(source_dir, "docs", "reference.md")) as f:
        rows = re.findall(r"^\| (\d+) \| ([A-Z_]+) \| (.+?) \|$", f.read(), re.M)
    assert {name: (int(code), text.replace("`", "")) for code, name, text in rows} == \
        {name: (codes[name], meanings[name]) for name in codes}


def test_missing_or_damaged_payload(host, tmp_path):
    payload_code = exit_codes(host)["PAYLOAD"]
    bare = host.exe_path(os.path.join(os.path.dirname(host.exe), "gale-host"))
    out = host.run("--version", exe=bare)
    assert out.returncode == payload_code
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("gale: error: ")

    cut = host.exe_path(tmp_path / "cut")
    with open(host.exe, "rb") as src, open(cut, "wb") as dst:
        data = src.read()
        dst.write(data[:-100])
    os.chmod(cut, 0o755)
    out = host.run("--version", exe=str(cut))
    assert out.returncode == payload_code, out.stderr


def test_copied_executable_runs_elsewhere(host, tmp_path):
    where = tmp_path / "dir with spaces é"
    where.mkdir()
    exe = host.exe_path(where / "gale")
    shutil.copy2(host.exe, exe)
    out = host.run("python", "-c", "import sys; print(sys.executable)", exe=exe)
    assert out.returncode == 0 and out.stdout.strip() == host.path(exe), out.stderr
