"""The executors' wake-up pipe: a waiting ``select`` returns when woken, never otherwise."""

from __future__ import annotations

import selectors
import signal
import threading
from collections.abc import Iterator

import pytest

from sweeplab.executors.wake import WakePipe


@pytest.fixture
def watched() -> Iterator[tuple[WakePipe, selectors.BaseSelector]]:
    wake = WakePipe()
    selector = selectors.DefaultSelector()
    selector.register(wake, selectors.EVENT_READ)
    yield wake, selector
    selector.close()
    wake.close()


def test_a_select_blocks_until_woken_and_blocks_again_once_drained(
        watched: tuple[WakePipe, selectors.BaseSelector]) -> None:
    wake, selector = watched
    assert selector.select(0.01) == []
    wake.wake()
    ready = selector.select(1.0)
    assert [key.fileobj for key, _ in ready] == [wake]
    wake.drain()
    assert selector.select(0.01) == []


def test_a_wake_from_another_thread_ends_a_blocking_select(
        watched: tuple[WakePipe, selectors.BaseSelector]) -> None:
    wake, selector = watched
    timer = threading.Timer(0.05, wake.wake)
    timer.start()
    try:
        assert selector.select(10.0), "the select was not woken"
    finally:
        timer.join()


def test_wake_ups_coalesce_and_never_block_when_the_pipe_is_full(
        watched: tuple[WakePipe, selectors.BaseSelector]) -> None:
    wake, selector = watched
    for _ in range(200_000):  # far more bytes than a pipe buffer holds
        wake.wake()
    wake.drain()
    assert selector.select(0.01) == []


def test_a_signal_handler_can_wake_a_select(watched: tuple[WakePipe, selectors.BaseSelector]) -> None:
    wake, selector = watched
    previous = signal.signal(signal.SIGUSR1, lambda *_: wake.wake())
    try:
        signal.raise_signal(signal.SIGUSR1)
        assert selector.select(1.0)
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_waking_a_closed_pipe_does_nothing_and_close_is_idempotent() -> None:
    wake = WakePipe()
    wake.close()
    wake.close()
    wake.wake()
    assert wake.fileno() == -1
