# SPDX-License-Identifier: MIT
"""The documentation is true, and stays so:

- docs/reference.md's commands and options are the executable's own help,
  both ways; its gale.toml keys are config.KEYS; its environment variables
  are the ones the code reads, both ways (its exit codes are
  launcher/gale_exit.h's: test_host.py's test_reference_lists_the_exit_codes,
  on every target);
- every relative link in README.md and docs/ resolves inside the
  repository, #anchors included;
- every shell example in README.md is run here, or marked as not run with
  a reason (`<!-- not run: why -->` on the line before it).

The docs describe the code every target shares, so they are checked
against the linux-x86_64 executable only."""

import os
import re
import signal
import subprocess
import time

import pytest

from harness import get, help_commands

pytestmark = pytest.mark.skipif("config.getoption('--gale-target') != 'linux-x86_64'",
                                reason="the docs are checked against the Linux executable")

HELP_EVERYWHERE = {"-h", "--help", "--debug"}  # every command takes them (reference: `gale`)
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def read(source_dir, *path) -> str:
    with open(os.path.join(source_dir, *path), encoding="utf-8") as f:
        return f.read()


def sections(text: str, level: str) -> dict:
    """Heading text -> body, for the headings of exactly `level` ("##")."""
    found, name, body = {}, None, []
    for line in text.splitlines():
        m = re.match(r"^(#+) (.*)$", line)
        if m and len(m.group(1)) <= len(level):
            if name is not None:
                found[name] = "\n".join(body)
            name, body = (m.group(2) if m.group(1) == level else None), []
        elif name is not None:
            body.append(line)
    if name is not None:
        found[name] = "\n".join(body)
    return found


def table_rows(text: str) -> list:
    """The cells of every table row in `text` but headers and rules."""
    rows = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|") or re.match(r"^\|[-| :]+\|$", line):
            continue
        if i + 1 < len(lines) and re.match(r"^\|[-| :]+\|$", lines[i + 1]):
            continue  # a header
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def reference_commands(source_dir) -> dict:
    """"gale pack" -> the set of options its section's table lists."""
    ref = sections(read(source_dir, "docs", "reference.md"), "###")
    commands = {}
    for heading, body in ref.items():
        m = re.fullmatch(r"`(gale(?: [a-z-]+)*)`", heading)
        if m:
            commands[m.group(1)] = {opt for row in table_rows(body)
                                    for opt in OPTION.findall(row[0])}
    return commands


def help_options(text: str) -> set:
    """The options an argparse (or the launcher's) help text lists."""
    found = set()
    for line in text.splitlines():
        if re.match(r"^ {2}-", line):
            spec = re.split(r"\s{2,}", line.strip())[0]
            found.update(OPTION.findall(spec))
    return found


def help_of(host, words) -> str:
    out = host.run(*words, "--help")
    assert out.returncode == 0, (words, out.stderr)
    return out.stdout


def test_reference_commands_and_options_are_the_clis(host, source_dir):
    ref = reference_commands(source_dir)
    top = help_of(host, [])
    words = help_commands(top)
    assert {f"gale {w}" for w in words} == {c for c in ref if c.count(" ") == 1}, words
    service = help_of(host, ["service"])
    subcommands = re.findall(r"^ {4}([a-z][\w-]*)\s", service, re.M)
    assert subcommands and {f"gale service {w}" for w in subcommands} == {
        c for c in ref if c.startswith("gale service ")}, subcommands
    assert ref["gale"] == help_options(top), top
    for command, documented in ref.items():
        if command in ("gale", "gale python"):  # `gale python --help` is python's own
            continue
        shown = help_options(help_of(host, command.split()[1:])) - HELP_EVERYWHERE
        assert documented == shown, (command, documented ^ shown)


def test_reference_keys_are_config_keys(host, source_dir):
    out = host.run("python", "-c", "from gale import config; print(' '.join(config.KEYS))")
    assert out.returncode == 0, out.stderr
    keys = set(out.stdout.split())
    table = sections(read(source_dir, "docs", "reference.md"), "##")["gale.toml"]
    documented = set()
    for row in table_rows(table):
        m = re.fullmatch(r"`(?:\[(\w+)\] )?(\w+)`", row[0])
        assert m, row
        documented.add(f"{m.group(1)}.{m.group(2)}" if m.group(1) else m.group(2))
    assert documented == keys, documented ^ keys


def code_texts(source_dir) -> dict:
    """path -> text of what reads the environment: the runtime and the
    launcher (.py, .c, .h), and the build's and the harness's scripts."""
    texts = {}
    for top in ("pylib", "launcher", "native"):
        for folder, _, files in os.walk(os.path.join(source_dir, top)):
            for name in files:
                if name.endswith((".py", ".c", ".h")):
                    texts[os.path.join(folder, name)] = read(folder, name)
    for folder in ("cmake", os.path.join("cmake", "zig"), "tests", os.path.join("tests", "harness")):
        for name in os.listdir(os.path.join(source_dir, folder)):
            path = os.path.join(source_dir, folder, name)
            if os.path.isfile(path) and (name.endswith(".sh") or folder.endswith("zig")):
                texts[path] = read(path)
    return texts


def code_environment(texts: dict) -> set:
    """The GALE_* variables the code reads or sets: quoted names, the
    keywords of os.environ.update(), and shell expansions."""
    found = set()
    for path, text in texts.items():
        if path.endswith((".py", ".c", ".h")):
            found.update(re.findall(r"\"(GALE_[A-Z0-9_]+)\"", text))
            for call in re.findall(r"environ\.update\(([^)]*)\)", text):
                found.update(re.findall(r"\b([A-Z][A-Z0-9_]+)=", call))
        else:
            found.update(re.findall(r"\$\{?(GALE_[A-Z0-9_]+)", text))
    return found


def test_reference_environment_is_the_codes(source_dir):
    table = sections(read(source_dir, "docs", "reference.md"), "##")["Environment variables"]
    documented = {re.fullmatch(r"`([A-Z_0-9*]+)`", row[0]).group(1) for row in table_rows(table)}
    texts = code_texts(source_dir)
    assert code_environment(texts) - documented == set(), "undocumented"
    sources = "".join(texts.values())
    for name in documented - {"PYTHON*"}:
        assert name in sources, f"{name} is documented but nothing reads it"


# --- links ---------------------------------------------------------------------

def markdown_files(source_dir) -> list:
    docs = os.path.join(source_dir, "docs")
    return [os.path.join(source_dir, "README.md")] + sorted(
        os.path.join(docs, name) for name in os.listdir(docs) if name.endswith(".md"))


def prose(text: str) -> str:
    """`text` without fenced blocks and inline code, where a link is no link."""
    text = re.sub(r"^ *```.*?^ *```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: str) -> set:
    seen, found = {}, set()
    for m in re.finditer(r"^#+ (.*)$", prose(read(path)).replace("\r", ""), re.M):
        base = slug(m.group(1))
        n = seen.get(base, 0)
        found.add(base if n == 0 else f"{base}-{n}")
        seen[base] = n + 1
    return found


def test_relative_links_resolve(source_dir):
    root = os.path.realpath(source_dir)
    broken = []
    checked = 0
    for md in markdown_files(source_dir):
        for target in re.findall(r"\]\(([^)\s]+)\)", prose(read(md))):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            dest = os.path.realpath(os.path.join(os.path.dirname(md), path)) if path else md
            where = f"{os.path.relpath(md, root)}: {target}"
            checked += 1
            if not (dest == root or dest.startswith(root + os.sep)):
                broken.append(f"{where} (outside the repository)")
            elif not os.path.exists(dest):
                broken.append(f"{where} (no such file)")
            elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                broken.append(f"{where} (no such heading)")
    assert checked > 50, checked
    assert broken == []


# --- the README's shell examples -------------------------------------------------

def shell_examples(text: str) -> list:
    """(marker, code) of each shell block in order; marker is the comment
    on the line before it, or None."""
    blocks = []
    for m in re.finditer(r"^( *)```(sh|bash|shell|console)\n(.*?)^\1```$", text, re.M | re.S):
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        marker = re.fullmatch(r"<!-- ((?:not run|test): .*) -->", before)
        code = "\n".join(line[len(m.group(1)):] for line in m.group(3).splitlines())
        blocks.append((marker.group(1) if marker else None, code))
    return blocks


def test_readme_shell_examples_run(source_dir, tmp_path):
    blocks = shell_examples(read(source_dir, "README.md"))
    assert len(blocks) >= 4, blocks
    os.symlink(os.path.join(source_dir, "dist"), tmp_path / "dist")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    ran = 0
    for marker, code in blocks:
        if marker and marker.startswith("not run: "):
            assert marker[len("not run: "):].strip(), "a block not run says why"
            continue
        if marker is None:
            out = subprocess.run(["bash", "-e", "-c", code], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=300)
            assert out.returncode == 0, f"{code}\n{out.stdout}\n{out.stderr}"
        else:
            m = re.fullmatch(r"test: serves (\S+)", marker)
            assert m, f"unknown marker <!-- {marker} -->"
            serve_example(code, m.group(1), tmp_path, env)
        ran += 1
    assert ran >= 3, ran


def serve_example(code: str, url: str, cwd, env) -> None:
    """Runs a block that serves: it must answer `url` with 200, say so in its
    log, and stop with exit code 0 on SIGTERM."""
    require_free_port(url)
    proc = subprocess.Popen(["bash", "-e", "-c", code], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"{code} exited: {proc.communicate()}"
            try:
                assert get(url)[0] == 200
                break
            except OSError:
                assert time.monotonic() < deadline, f"{code}: nothing at {url}"
                time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, f"{code}\n{out}\n{err}"
        assert f" on {url}" in err, err
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def require_free_port(url: str) -> None:
    """Fails, before a serving example runs, if its port is taken already."""
    import socket

    port = int(re.search(r":(\d+)/", url).group(1))
    with socket.socket() as s:
        # As the server binds: a previous run's TIME_WAIT is no listener.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            pytest.fail(f"port {port}, which the README's example uses, is taken: {exc}")
