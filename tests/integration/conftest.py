# SPDX-License-Identifier: MIT
"""pytest set-up: which target and executables to test, and a fresh Host per
test. One pytest run tests one target (--gale-target); ctest runs one per
target (tests/CMakeLists.txt)."""

import os
import pathlib
import subprocess

import pytest

from harness import Arm64Host, Host, WineHost, wine_env

# Each target and the Host class that runs its executables.
HOSTS = {"linux-x86_64": Host, "win-x64": WineHost, "win-arm64": Arm64Host}


def pytest_addoption(parser):
    parser.addoption("--gale-target", default="linux-x86_64", choices=sorted(HOSTS),
                     help="the target of --gale-exe")
    parser.addoption("--gale-exe", required=True, help="dist/<target>/gale[.exe]")
    parser.addoption("--gale-tornado-tests", help="a host whose payload carries tornado.test")
    parser.addoption("--gale-build-python", help="the build machine's CPython 3.13")
    parser.addoption("--gale-source", help="the source tree")
    parser.addoption("--gale-linux-exe", help="dist/linux-x86_64/gale, for packing from Linux")
    parser.addoption("--gale-arm64-root", help="the root tests/harness/arm64-root.sh printed")
    parser.addoption("--gale-ctrl-event", help="the Windows targets' ctrl-event.exe "
                     "(tests/tools/ctrl_event.c), which delivers console events")
    parser.addoption("--gale-planted-dll", help="the Windows targets' planted.dll "
                     "(tests/tools/planted_dll.c), a stand-in for a DLL dropped beside gale.exe")
    parser.addoption("--gale-wineserver-fixed", help="win-x64: Wine 8's wineserver with "
                     "tests/harness/wine8-poll-list.patch (tests/harness/wineserver-fixed.sh), "
                     "for test_mass_disconnect.py")


def pytest_generate_tests(metafunc):
    """`stop_event`: each way the target has to stop a server gracefully."""
    if "stop_event" in metafunc.fixturenames:
        host = HOSTS[metafunc.config.getoption("--gale-target")]
        metafunc.parametrize("stop_event", host.STOP_EVENTS)


@pytest.fixture(scope="session")
def target(request):
    return request.config.getoption("--gale-target")


@pytest.fixture(scope="session")
def source_dir(request):
    given = request.config.getoption("--gale-source")
    return os.path.abspath(given) if given else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def svcapp_exe(target, linux_exe, source_dir, tmp_path_factory):
    """tests/fixtures/svcapp packed for the target, from Linux: the app that
    shows which process answers, holds requests and ends itself hard."""
    out_dir = tmp_path_factory.mktemp("svcapp")
    home = out_dir / "home"
    home.mkdir()
    out = subprocess.run([linux_exe, "pack", os.path.join(source_dir, "tests", "fixtures", "svcapp"),
                          "--target", target, "-o", str(out_dir / "svcapp")],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HOME": str(home)})
    assert out.returncode == 0, out.stderr
    return str(out_dir / ("svcapp.exe" if target.startswith("win-") else "svcapp"))


@pytest.fixture
def apphost(make_host, svcapp_exe, tmp_path):
    """A host for svcapp_exe, with a home of its own."""
    home = tmp_path / "home"
    home.mkdir()
    h = make_host(svcapp_exe, str(home))
    yield h
    h.cleanup()


@pytest.fixture(scope="session")
def linux_exe(request, source_dir):
    given = request.config.getoption("--gale-linux-exe")
    exe = os.path.abspath(given) if given else os.path.join(
        source_dir, "dist", "linux-x86_64", "gale")
    if not os.path.isfile(exe):
        pytest.fail(f"no Linux executable at {exe}: build the linux-x86_64 preset")
    return exe


@pytest.fixture(scope="session")
def build_python(request):
    """The build machine's CPython (its source tree's Lib/ is beside it)."""
    given = request.config.getoption("--gale-build-python")
    if not given or not os.path.isfile(given):
        pytest.fail(f"no build python at {given!r} (--gale-build-python)")
    return pathlib.Path(given).resolve()


@pytest.fixture(scope="session")
def make_host(request, target, source_dir, tmp_path_factory):
    """make_host(exe, home) -> a Host of the session's target."""
    if target == "linux-x86_64":
        yield Host
        return
    first_exe = os.path.abspath(request.config.getoption("--gale-exe"))
    ctrl_event = request.config.getoption("--gale-ctrl-event")
    if target == "win-x64":
        prefix = str(tmp_path_factory.mktemp("wineprefix"))

        def make_target_host(exe, home):
            return WineHost(exe, home, prefix)
    else:
        root = request.config.getoption("--gale-arm64-root")
        if not root:
            pytest.fail("--gale-arm64-root not given (tests/harness/arm64-root.sh prints it)")
        runner = os.path.join(source_dir, "tests", "harness", "arm64-run.sh")
        shares = [str(tmp_path_factory.getbasetemp()), source_dir]

        def make_target_host(exe, home):
            return Arm64Host(exe, home, runner, root, shares)

    def make(exe, home):
        host = make_target_host(exe, home)
        host.ctrl_event = ctrl_event and os.path.abspath(ctrl_event)
        return host
    # The first run creates or updates the Wine prefix, and Wine says so on
    # stderr; tests that read stderr should not see that.
    warm = make(first_exe, str(tmp_path_factory.mktemp("warm-up")))
    out = warm.run("--version", timeout=600)
    assert out.returncode == 0, out.stderr
    yield make
    if target == "win-x64":
        subprocess.run([WineHost.WINESERVER, "-k"], env={**os.environ, **wine_env(prefix)},
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
