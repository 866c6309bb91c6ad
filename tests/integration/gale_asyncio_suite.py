# SPDX-License-Identifier: MIT
"""Runs inside a Windows Gale host (test_asyncio_suite.py copies it beside
CPython's `test` package): CPython's own test_asyncio classes for the
Proactor loop, pointed at gale.winloop.EventLoop, the loop Gale serves
with. Each class here is the stock Proactor class with only its loop
changed, so the same tests run against Gale's loop.

Gale's loop has add_reader/add_writer, which the Proactor lacks: the three
tests test_events skips for that reason run here. asyncio.new_event_loop()
gives Gale's loop too (the policy gale serve installs), for the stream
tests that make their loop that way.
"""

import asyncio
import unittest

from gale import winloop
from test.test_asyncio import (test_buffered_proto, test_events, test_sendfile, test_server,
                               test_sock_lowlevel, test_sslproto, test_streams,
                               test_subprocess)


def setUpModule():
    asyncio.set_event_loop_policy(winloop.EventLoopPolicy())


def tearDownModule():
    asyncio.set_event_loop_policy(None)


def gale_loop(self):
    """The stock classes' loop factory (create_event_loop or new_loop)."""
    return winloop.EventLoop()


class EventLoopTests(test_events.ProactorEventLoopTests):
    create_event_loop = gale_loop

    # Skipped by the stock class: "IocpEventLoop does not have add_reader()".
    test_reader_callback = test_events.EventLoopTestsMixin.test_reader_callback
    test_writer_callback = test_events.EventLoopTestsMixin.test_writer_callback
    test_remove_fds_after_closing = test_events.EventLoopTestsMixin.test_remove_fds_after_closing
    # Skip stubs of the stock class with no test behind them in the mixin:
    # not collected here.
    test_reader_callback_cancel = None
    test_writer_callback_cancel = None


class SockTests(test_sock_lowlevel.ProactorEventLoopTests):
    create_event_loop = gale_loop


class SendfileTests(test_sendfile.ProactorEventLoopTests):
    create_event_loop = gale_loop


class StartServerTests(test_server.ProactorStartServerTests):
    new_loop = gale_loop


class BufferedProtocolTests(test_buffered_proto.BufferedProtocolProactorTests):
    new_loop = gale_loop


class StartTLSTests(test_sslproto.ProactorStartTLSTests):
    new_loop = gale_loop


class SubprocessTests(test_subprocess.SubprocessProactorTests):
    def setUp(self):
        super().setUp()
        self.loop.close()  # the stock class's ProactorEventLoop
        self.loop = gale_loop(self)
        self.set_event_loop(self.loop)


class StreamTests(test_streams.StreamTests):
    """Makes its loop with asyncio.new_event_loop(): Gale's, by the policy."""

    def setUp(self):
        super().setUp()
        assert type(self.loop) is winloop.EventLoop, type(self.loop)


CLASSES = (EventLoopTests, SockTests, SendfileTests, StartServerTests, BufferedProtocolTests,
           StartTLSTests, SubprocessTests, StreamTests)


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    for cls in CLASSES:
        suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite
