"""A self-pipe that makes an executor's blocking ``select`` return early.

An executor waits in :meth:`selectors.BaseSelector.select`; whoever must interrupt that wait
(``Executor.wakeup`` from a signal handler, a Dask done callback from another thread) writes
one byte to the pipe, whose read end is registered with the selector.

Example::

    wake = WakePipe()
    selector.register(wake, selectors.EVENT_READ)
    ...                    # elsewhere, any thread or a signal handler:
    wake.wake()
    ...                    # in the waiting thread, when the selector reports it:
    wake.drain()
"""

from __future__ import annotations

import os

__all__ = ["WakePipe"]


class WakePipe:
    """A non-blocking pipe: :meth:`wake` writes a byte, :meth:`drain` empties it.

    :meth:`fileno` is the read end, so the object itself can be registered with a selector.
    :meth:`wake` never blocks or raises, so it is safe from a signal handler and from other
    threads; wake-ups coalesce (a full pipe already has one pending). Call :meth:`close` once
    the selector no longer watches it; waking a closed pipe does nothing.
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def fileno(self) -> int:
        """The read end: readable while a wake-up is pending."""
        return self._read

    def wake(self) -> None:
        """Make the waiting ``select`` return (never blocks, never raises)."""
        try:
            os.write(self._write, b"\0")
        except OSError:  # full (a wake-up is pending anyway) or closed
            pass

    def drain(self) -> None:
        """Consume every pending wake-up, so the next ``select`` blocks again."""
        try:
            while os.read(self._read, 4096):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        """Close both ends (idempotent)."""
        if self._read < 0:
            return
        read, write = self._read, self._write
        # -1 first: a late wake() then fails on a bad descriptor instead of writing to a reused one
        self._read = self._write = -1
        os.close(read)
        os.close(write)
