"""Where sweep state is stored, and what goes wrong with it: the errors of storage, and the checks
of a database path made before anything is written.

::

    SweepError
    ├── UserError
    │   └── StorageError     a database or sweep-folder path is unusable: exit 2, nothing written
    └── DiskFullError        a file system filled up while a sweep ran: exit 1, resumable

Both carry a message meant for the user as it is (what, where, how to fix).
"""

from __future__ import annotations

from ..errors import SweepError, UserError

__all__ = ["StorageError", "DiskFullError"]


class StorageError(UserError):
    """A database or sweep-folder path sweeplab must use is unusable (a folder where a file belongs,
    not an SQLite database, corrupt, a symbolic link): nothing was written."""


class DiskFullError(SweepError):
    """A file system filled up while the sweep ran. The journal holds everything up to the failed
    write; the sweep resumes once there is space again."""

    exit_code = 1
