# SPDX-License-Identifier: MIT
"""Fuzz target: reading Windows PE files (pylib/gale/pack/peresources.py,
peversion.py, pe.py).

The input is a PE image. Each run reads it three ways:
  - as a host template (`gale pack --host-template`): its resource tree,
    the version strings of its RT_VERSION resource, and the image with its
    resources rebuilt from that tree, which must read back as the same tree;
  - as a VS_VERSIONINFO resource on its own (peversion.read_strings);
  - as an extension module or DLL from a wheel (pe.PEFile: imports, delay
    imports, exports, and hide_python_imports, whose result must read as
    the same imports).
Expected: a result, or GaleError("PACK"). deps.vc_runtime_needs() skips a
PE file that raises GaleError, so anything else stops `gale pack`.
"""

from fuzzcommon import expected, instrumented, require, run

with instrumented("gale"):
    from gale.errors import GaleError
    from gale.pack import pe, peresources, peversion


def _refused(exc: BaseException) -> bool:
    return isinstance(exc, GaleError) and expected(exc, "PACK")


def _check_tree(tree) -> None:
    require(isinstance(tree, dict), "read() gives a dict")
    for type_, names in tree.items():
        require(isinstance(type_, (int, str)), "resource type key")
        require(isinstance(names, dict), "resource names are a directory")
        for name, langs in names.items():
            require(isinstance(name, (int, str)) and isinstance(langs, dict), "name level")
            for lang, blob in langs.items():
                require(isinstance(lang, (int, str)) and isinstance(blob, bytes), "leaf")


def as_host(data: bytes) -> None:
    try:
        tree = peresources.read(data)
    except Exception as exc:
        if _refused(exc):
            return
        raise
    _check_tree(tree)
    for langs in tree.get(peresources.RT_VERSION, {}).values():
        for blob in langs.values():
            try:
                peversion.read_strings(blob)
            except Exception as exc:
                if not _refused(exc):
                    raise
    try:
        rebuilt = peresources.replace(data, tree)
    except Exception as exc:
        if _refused(exc):
            return
        raise
    require(peresources.read(rebuilt) == tree, "replace() then read() changes the tree")


def as_version(data: bytes) -> None:
    try:
        strings = peversion.read_strings(data)
    except Exception as exc:
        if _refused(exc):
            return
        raise
    require(all(isinstance(k, str) and isinstance(v, str) for k, v in strings.items()),
            "read_strings() gives text")


def as_extension(data: bytes) -> None:
    try:
        image = pe.PEFile(data, "fuzz.pyd")
        imports = image.imports()
        image.delay_imports()
        image.exports()
        hidden = pe.hide_python_imports(data, "fuzz.pyd")
    except Exception as exc:
        if _refused(exc):
            return
        raise
    require(len(hidden) == len(data), "hide_python_imports() keeps the size")
    if hidden != data:
        again = pe.PEFile(hidden, "fuzz.pyd").imports()
        require(again == [n for n in imports if not pe.is_python_dll(n)],
                "hide_python_imports() changes the other imports")


def test_one_input(data: bytes) -> None:
    as_host(data)
    as_version(data)
    as_extension(data)


if __name__ == "__main__":
    run(test_one_input)
