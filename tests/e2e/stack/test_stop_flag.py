"""The stop request the devstack processes' signal handlers set."""

from __future__ import annotations

import os
import signal
import threading
import time

from devstack.stop_flag import StopFlag


def test_a_signal_sets_it_and_a_waiter_sees_it_within_a_step():
    flag = StopFlag().on_signals(signal.SIGUSR1)
    try:
        assert not flag.wait(0.05)
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        started = time.monotonic()
        assert flag.wait(5)
        assert time.monotonic() - started < 1
        assert flag.is_set()
    finally:
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)

