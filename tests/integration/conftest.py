# SPDX-License-Identifier: MIT
"""pytest set-up: which target and executables to test, and a fresh Host per
test. One pytest run tests one target (--gale-target); ctest runs one per
target (tests/CMakeLists.txt)."""

import os
import subprocess

import pytest

from harness import Arm64Host, Host, WineHost, wine_env

TARGETS = ("linux-x86_64", "win-x64", "win-arm64")


def pytest_addoption(parser):
    parser.addoption("--gale-target", default="linux-x86_64", choices=TARGETS,
                     help="the target of --gale-exe")
    parser.addoption("--gale-exe", required=True, help="dist/<target>/gale[.exe]")
    parser.addoption("--gale-tornado-tests", help="a host whose payload carries tornado.test")
    parser.addoption("--gale-build-python", help="the build machine's CPython 3.13")
    parser.addoption("--gale-source", help="the source tree")
    parser.addoption("--gale-linux-exe", help="dist/linux-x86_64/gale, for packing from Linux")
    parser.addoption("--gale-arm64-root", help="the root tests/harness/arm64-root.sh printed")


@pytest.fixture(scope="session")
def target(request):
    return request.config.getoption("--gale-target")


@pytest.fixture(scope="session")
def source_dir(request):
    given = request.config.getoption("--gale-source")
    return os.path.abspath(given) if given else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def linux_exe(request, source_dir):
    given = request.config.getoption("--gale-linux-exe")
    exe = os.path.abspath(given) if given else os.path.join(
        source_dir, "dist", "linux-x86_64", "gale")
    if not os.path.isfile(exe):
        pytest.fail(f"no Linux executable at {exe}: build the linux-x86_64 preset")
    return exe


@pytest.fixture(scope="session")
def make_host(request, target, source_dir, tmp_path_factory):
    """make_host(exe, home) -> a Host of the session's target."""
    if target == "linux-x86_64":
        yield Host
        return
    first_exe = os.path.abspath(request.config.getoption("--gale-exe"))
    if target == "win-x64":
        prefix = str(tmp_path_factory.mktemp("wineprefix"))

        def make(exe, home):
            return WineHost(exe, home, prefix)
    else:
        root = request.config.getoption("--gale-arm64-root")
        if not root:
            pytest.fail("--gale-arm64-root not given (tests/harness/arm64-root.sh prints it)")
        runner = os.path.join(source_dir, "tests", "harness", "arm64-run.sh")
        shares = [str(tmp_path_factory.getbasetemp()), source_dir]

        def make(exe, home):
            return Arm64Host(exe, home, runner, root, shares)
    # The first run creates or updates the Wine prefix, and Wine says so on
    # stderr; tests that read stderr should not see that.
    warm = make(first_exe, str(tmp_path_factory.mktemp("warm-up")))
    out = warm.run("--version", timeout=600)
    assert out.returncode == 0, out.stderr
    yield make
    if target == "win-x64":
        subprocess.run(["wineserver", "-k"], env={**os.environ, **wine_env(prefix)},
                       capture_output=True, timeout=60)


@pytest.fixture
def host(request, make_host, tmp_path):
    exe = os.path.abspath(request.config.getoption("--gale-exe"))
    home = tmp_path / "home"
    home.mkdir()
    h = make_host(exe, str(home))
    yield h
    h.cleanup()


@pytest.fixture
def tornado_tests_exe(request):
    exe = request.config.getoption("--gale-tornado-tests")
    if not exe:
        pytest.fail("--gale-tornado-tests not given")
    return os.path.abspath(exe)
