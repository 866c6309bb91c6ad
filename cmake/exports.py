# SPDX-License-Identifier: MIT
"""Writes the list of CPython C API symbols the host exports, so binary
extension modules from wheels can bind to the interpreter linked into it.

    python3 cmake/exports.py --source CPYTHON_SRC --archive libpython3.13.a
        --format drectve|dynamic-list -o OUT

The list is every function and variable that CPython's source tree declares
with PyAPI_FUNC or PyAPI_DATA (the headers under Include/, public, cpython/
and internal/ alike, and the .c files that define some directly: on Windows
python313.dll exports all of them, and real extensions use some internal
ones), plus the stable ABI's list in PC/python3dll.c (which keeps names no
header declares any more, such as _PyObject_CallFunction_SizeT), that the
static library also defines (its archive symbol index says which). A name
that this build does not define (another platform's function, say) is left
out, so the link never fails on it.

  drectve        an assembly file whose .drectve section tells lld-link to
                 export each name (the Windows hosts; docs/extensions.md)
  dynamic-list   a linker --dynamic-list: the Linux host's dynamic symbol
                 table then holds these names and nothing else

Runs under any Python 3.
"""

import argparse
import os
import re
import sys

# PyAPI_FUNC(type) name(  /  PyAPI_DATA(type) name;  The type may hold one
# level of parentheses (function-pointer variables); attributes and stars
# between the type and the name are skipped.
_DECL = re.compile(
    r"\bPyAPI_(FUNC|DATA)\s*\(((?:[^()]|\([^()]*\))*)\)"
    r"(?:\s|\*|\(|_Py_NO_RETURN|Py_GCC_ATTRIBUTE\s*\(\([^)]*\)\))*"
    r"([A-Za-z_]\w*)")


_STABLE = re.compile(r"^EXPORT_(FUNC|DATA)\((\w+)\)", re.M)
_SOURCE_DIRS = ("Include", "Objects", "Python", "Parser", "Modules")


def declared(source_dir: str) -> dict:
    """{name: "FUNC" or "DATA"} for every declaration in the source tree."""
    found = {}
    with open(os.path.join(source_dir, "PC", "python3dll.c"), encoding="utf-8") as f:
        for kind, symbol in _STABLE.findall(f.read()):
            found[symbol] = kind
    for top in _SOURCE_DIRS:
        found.update(_declared_in(os.path.join(source_dir, top), found))
    return found


def _declared_in(folder: str, known: dict) -> dict:
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith((".h", ".c")):
                continue
            with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
            text = re.sub(r"\\\n", " ", text)
            for kind, _type, symbol in _DECL.findall(text):
                if symbol.startswith(("Py", "_Py")) and symbol not in known:
                    found.setdefault(symbol, kind)
    return found


def archive_symbols(path: str) -> set:
    """The names in an ar archive's symbol index (GNU "/" or "/SYM64/")."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit(f"exports.py: error: {path} is not an ar archive")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode("ascii", "replace").strip()
        size = int(header[48:58].decode("ascii").strip())
        body = data[pos + 60:pos + 60 + size]
        if name in ("/", "/SYM64/"):
            width = 8 if name == "/SYM64/" else 4
            count = int.from_bytes(body[:width], "big")
            strings = body[width + count * width:]
            return {s.decode("ascii", "replace") for s in strings.split(b"\0")[:count]}
        pos += 60 + size + (size & 1)
    raise SystemExit(f"exports.py: error: {path} has no symbol index (run ranlib)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="exports.py")
    parser.add_argument("--source", required=True, help="CPython's source tree")
    parser.add_argument("--archive", required=True)
    parser.add_argument("--format", required=True, choices=("drectve", "dynamic-list"))
    parser.add_argument("-o", "--out", required=True)
    args = parser.parse_args(argv)
    decls = declared(args.source)
    defined = archive_symbols(args.archive)
    names = sorted(n for n in decls if n in defined)
    data = sum(1 for n in names if decls[n] == "DATA")
    if len(names) < 1000:  # a parser or archive problem, not a real build
        raise SystemExit(f"exports.py: error: only {len(names)} C API symbols found")
    head = (f"CPython C API exported by the host: {len(names) - data} functions, "
            f"{data} variables (cmake/exports.py)")
    if args.format == "drectve":
        lines = [f"# {head}", '.section .drectve,"yn"']
        lines += [f'.ascii " -export:{n}"' for n in names]
    else:
        lines = [f"/* {head} */", "{"] + [f"  {n};" for n in names] + ["};"]
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
