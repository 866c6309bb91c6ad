# SPDX-License-Identifier: MIT
#
# Checks a static Windows CPython build from the inside: identity (what
# sysconfig and packaging tools see), the built-in modules, the fixes in
# native/cpython/patches, and asyncio TCP on both event loops. Run it with
# python-smoke.exe LIBPATH smoke_test.py; exits non-zero on the first failure
# class it finds and prints "smoke: OK" when everything passed.
import asyncio
import os
import select
import socket
import sys
import sysconfig
import tempfile

failures = []


def check(name, cond, detail=""):
    print(f"{'ok  ' if cond else 'FAIL'} {name}{': ' + str(detail) if detail else ''}")
    if not cond:
        failures.append(name)


def identity():
    print("sys.version:", sys.version)
    print("sys.platform:", sys.platform)
    print("sysconfig.get_platform():", sysconfig.get_platform())
    print("sys.winver:", sys.winver)
    print("sys.builtin_module_names:", " ".join(sys.builtin_module_names))
    check("sys.platform is win32", sys.platform == "win32")
    check("get_platform is win-amd64 or win-arm64",
          sysconfig.get_platform() in ("win-amd64", "win-arm64"), sysconfig.get_platform())
    check("sysconfig.get_config_vars() works", bool(sysconfig.get_config_vars()))


def modules():
    wanted = ["_asyncio", "_decimal", "_elementtree", "_multiprocessing", "_overlapped",
              "_queue", "_socket", "_uuid", "_zoneinfo", "pyexpat", "select",
              "unicodedata", "winsound", "_winapi", "msvcrt", "winreg", "nt", "mmap"]
    missing = [m for m in wanted if m not in sys.builtin_module_names]
    check("expected built-in modules", not missing, missing)
    for opt in ("zlib", "_ssl", "_hashlib", "_sqlite3", "_ctypes", "_bz2", "_lzma"):
        print(f"     optional {opt}: {'built in' if opt in sys.builtin_module_names else 'absent'}")
    import decimal, json, unicodedata, uuid, xml.etree.ElementTree as ET, zoneinfo  # noqa: E401,F401
    import multiprocessing, concurrent.futures, winreg  # noqa: E401,F401
    check("decimal", str(decimal.Decimal(1) / decimal.Decimal(7))[:8] == "0.142857")
    check("unicodedata", unicodedata.name("\u00e9") == "LATIN SMALL LETTER E WITH ACUTE")
    check("elementtree", ET.fromstring("<a><b x='1'/></a>").find("b").get("x") == "1")
    check("uuid4", uuid.uuid4().version == 4)
    if "zlib" in sys.builtin_module_names:
        import zlib
        check("zlib round trip", zlib.decompress(zlib.compress(b"gale" * 100)) == b"gale" * 100)
    if "_hashlib" in sys.builtin_module_names:
        import hashlib
        check("hashlib sha256 (OpenSSL)", hashlib.sha256(b"").hexdigest().startswith("e3b0c442"))
    if "_ssl" in sys.builtin_module_names:
        import ssl
        print("     ssl.OPENSSL_VERSION:", ssl.OPENSSL_VERSION)
        ctx = ssl.create_default_context()   # loads the Windows ROOT store
        roots = ssl.enum_certificates("ROOT")
        check("ssl default context loads the Windows ROOT store",
              len(roots) > 0 and ctx.cert_store_stats()["x509_ca"] > 0,
              f"{len(roots)} in ROOT, {ctx.cert_store_stats()['x509_ca']} CA certificates loaded")
    if "_sqlite3" in sys.builtin_module_names:
        import sqlite3
        con = sqlite3.connect(":memory:")
        print("     sqlite3.sqlite_version:", sqlite3.sqlite_version)
        check("sqlite3", con.execute("select 6*7").fetchone()[0] == 42)


def patches():
    # 0003: the CRT functions posixmodule enables under MS_WINDOWS.
    for f in ("pipe", "system", "waitpid", "spawnv", "execv", "fsync", "getppid", "getlogin"):
        check(f"os.{f} exists", hasattr(os, f))
    r, w = os.pipe()
    os.write(w, b"x")
    check("os.pipe works", os.read(r, 1) == b"x")
    os.close(r)
    os.close(w)
    # 0004: a bad fd is EBADF, not a CRT abort (Wine never aborts, so this
    # only proves something on real Windows).
    try:
        os.close(9999)
        check("os.close(9999) raises", False)
    except OSError as e:
        check("os.close(9999) raises EBADF", e.errno == 9, e)
    # 0006: UCRT behaviour the official build works around.
    import time
    try:
        time.strftime("%Y", (10000, 1, 1, 0, 0, 0, 0, 1, -1))
        check("time.strftime year 10000 is a ValueError", False)
    except ValueError:
        check("time.strftime year 10000 is a ValueError", True)
    check("math.ldexp denormal rounding", __import__("math").ldexp(0.75, -1074) == 5e-324)
    # 0002: select() with Winsock handles.
    a, b = socket.socketpair()
    b.send(b"ping")
    r, w, x = select.select([a], [a], [], 5)
    check("select.select sees a readable socket", r == [a], r)
    check("select.select sees a writable socket", w == [a], w)
    # 0002: a socket with a timeout waits in select() whatever its handle.
    a.settimeout(5)
    b.send(b"pong")
    try:
        got = b""
        while len(got) < 8:
            got += a.recv(8 - len(got))
        check("recv on a socket with a timeout", got == b"pingpong", f"handle {a.fileno()}")
    except OSError as e:
        check("recv on a socket with a timeout", False, f"handle {a.fileno()}: {e}")
    a.close()
    b.close()
    # .pyd files are refused with a clear message (native/cpython/static_win.c).
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "galepyd.pyd"), "wb") as f:
            f.write(b"MZ not really a DLL")
        sys.path.insert(0, d)
        try:
            import galepyd  # noqa: F401
            check(".pyd import refused", False)
        except ImportError as e:
            check(".pyd import refused", "statically" in str(e), e)
        finally:
            sys.path.remove(d)
            sys.modules.pop("galepyd", None)


def math_checks():
    import math
    # mingw-w64's own libm (libmingwex) shadowed UCRT's and broke these in
    # the feasibility build.
    check("math.fma correctly rounded",
          math.fma(0.1, 10.0, -1.0) == 5.551115123125783e-17, math.fma(0.1, 10.0, -1.0))
    check("math.erfc(-40) == 2.0", math.erfc(-40.0) == 2.0)
    check("math.lgamma", abs(math.lgamma(10.0) - math.log(362880.0)) < 1e-12)
    # zig's compiler-rt log2/log10 are wrong for subnormals (native/cpython/ucrt_math.h).
    check("math.log2 of a subnormal", math.log2(2.0 ** -1065) == -1065.0, math.log2(2.0 ** -1065))
    check("math.log10 of a subnormal", math.log10(1e-308) == -308.0, math.log10(1e-308))


async def echo_round_trip(label):
    async def handle(reader, writer):
        data = await reader.read(100)
        writer.write(data)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello " + label.encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(100), 10)
        writer.close()
        await writer.wait_closed()
    return data


async def tls_round_trip(certfile):
    import ssl
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(certfile)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE

    async def handle(reader, writer):
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx)
        writer.write(b"hello tls")
        data = await asyncio.wait_for(reader.read(100), 10)
        version = writer.get_extra_info("ssl_object").version()
        writer.close()
    return data, version


async def subprocess_round_trip():
    # This executable again: LIBPATH is sys.path[0].
    proc = await asyncio.create_subprocess_exec(
        sys.executable, sys.path[0], "-c", "print(6 * 7)",
        stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return out.strip(), proc.returncode


def asyncio_checks():
    for label, factory in (("proactor", asyncio.ProactorEventLoop),
                           ("selector", asyncio.SelectorEventLoop)):
        loop = factory()
        try:
            data = loop.run_until_complete(echo_round_trip(label))
            check(f"asyncio TCP echo on the {label} loop ({type(loop).__name__})",
                  data == b"hello " + label.encode(), data)
        except Exception as e:  # report, keep going
            check(f"asyncio TCP echo on the {label} loop", False, repr(e))
        finally:
            loop.close()
    # Only when LIBPATH is a source tree's Lib (frozen os has no __file__).
    certfile = os.path.join(sys.path[0], "test", "certdata", "keycert.pem")
    if "_ssl" in sys.builtin_module_names and os.path.exists(certfile):
        data, version = asyncio.run(tls_round_trip(certfile))
        check("asyncio TLS echo on the proactor loop", data == b"hello tls", version)
    out, rc = asyncio.run(subprocess_round_trip())
    check("asyncio subprocess on the proactor loop", (out, rc) == (b"42", 0), (out, rc))


identity()
modules()
patches()
math_checks()
asyncio_checks()
if failures:
    print("smoke: FAILED:", ", ".join(failures))
    sys.exit(1)
print("smoke: OK")
