# SPDX-License-Identifier: MIT
"""pytest set-up: which executables to test, and a fresh Host per test."""

import os

import pytest

from harness import Host


def pytest_addoption(parser):
    parser.addoption("--gale-exe", required=True, help="dist/<target>/gale")
    parser.addoption("--gale-tornado-tests", help="a host whose payload carries tornado.test")
    parser.addoption("--gale-build-python", help="the build machine's CPython 3.13")
    parser.addoption("--gale-source", help="the source tree")


@pytest.fixture(scope="session")
def source_dir(request):
    given = request.config.getoption("--gale-source")
    return os.path.abspath(given) if given else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def host(request, tmp_path):
    exe = os.path.abspath(request.config.getoption("--gale-exe"))
    home = tmp_path / "home"
    home.mkdir()
    h = Host(exe, str(home))
    yield h
    h.cleanup()


@pytest.fixture
def tornado_tests_exe(request):
    exe = request.config.getoption("--gale-tornado-tests")
    if not exe:
        pytest.fail("--gale-tornado-tests not given")
    return os.path.abspath(exe)
