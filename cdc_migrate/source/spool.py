"""Where a change log keeps the source's row images on local disk: a directory of its own under the run's spool
root (beside a local manifest, else the system's temporary directory), held by a file lock while it is in use, so
that the next change log removes any that a killed run (kill -9, a lost host's process) left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile

logger = logging.getLogger(__name__)

SPOOL_DIR = ".cdc-migrate-spool"
OWNER = "owner.lock"


def spool_root(manifest: str | None) -> str:
    """The spool root of a run writing `manifest`: beside it when it is a local file, else under the system's
    temporary directory (an S3 manifest, or none) (pure)."""
    if manifest and "://" not in manifest:
        return os.path.join(os.path.dirname(os.path.abspath(manifest)), SPOOL_DIR)
    return os.path.join(tempfile.gettempdir(), SPOOL_DIR.lstrip("."))


class Spool:
    """A directory of its own under `root`, locked until close() removes it; stale ones are removed first."""

    def __init__(self, root: str | None = None) -> None:
        root = root or spool_root(None)
        os.makedirs(root, exist_ok=True)
        self.removed = remove_stale(root)
        self.directory = tempfile.mkdtemp(prefix="changes-", dir=root)
        lock = os.path.join(self.directory, OWNER)
        self._fd: int | None = os.open(f"{lock}.new", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # locked before another start can see it
        os.write(self._fd, f"{os.getpid()}\n".encode())
        os.rename(f"{lock}.new", lock)

    def close(self) -> None:
        """Removes the directory (and the root, when it is empty) and frees its lock (idempotent)."""
        if self._fd is None:
            return
        shutil.rmtree(self.directory, ignore_errors=True)
        os.close(self._fd)
        self._fd = None
        with contextlib.suppress(OSError):  # the root too, once no other run's spool is in it
            os.rmdir(os.path.dirname(self.directory))


def remove_stale(root: str) -> list[str]:
    """Removes the directories under `root` no live process holds (their owner's lock is free), and returns
    them. One being made has no lock file yet for an instant; one without a lock file is left to a later start."""
    removed = []
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        path = os.path.join(root, name)
        lock = os.path.join(path, OWNER)
        if not (name.startswith("changes-") and os.path.isfile(lock)):
            continue
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
                logger.info("removed the spool %s a run that ended without closing it left behind", path)
        finally:
            os.close(fd)
    return removed
