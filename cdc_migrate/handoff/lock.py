"""One run at a time per manifest and per local warehouse: a lock taken before anything is read and released at
the end, so that two runs never interleave their tables, commits and manifest writes.

Locally, an advisory lock (flock) on `<manifest>.lock` and `<warehouse>/.cdc-migrate.lock`: the system
releases it when the process ends, however it ends. On S3, a lock object `<manifest>.lock` created by a
conditional PUT (If-None-Match: *), which S3 decides atomically, deleted at the end; a run killed outright
leaves it, and the next run says how to remove it. Each holds who took it (host, pid, start time, command),
for the message a second run gets. The same thread may take a lock it holds again (run --validate).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdc_migrate.aws.s3 import create_s3_text, delete_s3_object, is_s3, read_s3_text
from cdc_migrate.clock import utc_text
from cdc_migrate.config.kinds import WAREHOUSE_LOCK, catalog_kind, local_catalog_paths
from cdc_migrate.config.model import Options
from cdc_migrate.errors import LockHeld
from cdc_migrate.records import Record


@dataclass(frozen=True)
class Holder(Record):
    """Who holds a lock."""

    host: str = ""
    pid: int = 0
    started_at: str = ""
    command: str = ""

    @classmethod
    def me(cls) -> Holder:
        return cls(socket.gethostname(), os.getpid(), utc_text(), " ".join(os.path.basename(a) for a in sys.argv[:2]))

    def __str__(self) -> str:
        if not self.host:
            return "another run (it has not said who it is yet)"
        return f"{self.command or 'a run'} on {self.host}, pid {self.pid}, started {self.started_at}"


def lock_paths(options: Options, manifest: str | None) -> list[str]:
    """The locks a run over this manifest and the options' catalog takes: the manifest's, then a local
    warehouse's (a table bucket has no place for one; its manifest's lock serves) (pure)."""
    paths = [f"{manifest}.lock"] if manifest else []
    if catalog_kind(options.catalog.kind).on_disk:
        root, _ = local_catalog_paths(options.catalog.warehouse or "warehouse")
        paths.append(os.path.join(root, WAREHOUSE_LOCK))
    return paths


_held: dict[str, tuple[int, int, int | None]] = {}  # path -> (thread, depth, file descriptor)
_held_lock = threading.Lock()


@contextlib.contextmanager
def exclusive(paths: Sequence[str]) -> Iterator[None]:
    """Holds every lock in `paths` (in order) for the block; raises LockHeld naming the holder of one that
    another run holds, having released those it took."""
    with contextlib.ExitStack() as stack:
        for path in paths:
            stack.enter_context(_one(path))
        yield


@contextlib.contextmanager
def _one(path: str) -> Iterator[None]:
    key = path if is_s3(path) else os.path.realpath(path)
    me = threading.get_ident()
    with _held_lock:
        held = _held.get(key)
        if held is not None and held[0] != me:
            raise LockHeld(_message(path, Holder.me()))  # another thread of this process
        if held is not None:
            _held[key] = (me, held[1] + 1, held[2])
    if held is None:
        fd = _take(path)
        with _held_lock:
            _held[key] = (me, 1, fd)
    try:
        yield
    finally:
        with _held_lock:
            thread, depth, fd = _held[key]
            if depth > 1:
                _held[key] = (thread, depth - 1, fd)
            else:
                del _held[key]
        if depth == 1:
            _release(path, fd)


def _take(path: str) -> int | None:
    holder = json.dumps(Holder.me().to_dict())
    if is_s3(path):
        if not create_s3_text(path, holder):
            raise LockHeld(_message(path, _holder(read_s3_text(path))))
        return None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 4096).decode("utf-8", "replace")
            os.close(fd)
            raise LockHeld(_message(path, _holder(text))) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else the holder released (and removed) it between our open and our lock: take the new one
            os.ftruncate(fd, 0)
            os.write(fd, holder.encode("utf-8"))
            return fd
        os.close(fd)


def _release(path: str, fd: int | None) -> None:
    if is_s3(path):
        delete_s3_object(path)
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # removed while still held, so that no one locks the file it leaves
    if fd is not None:
        os.close(fd)


def _holder(text: str | None) -> Holder:
    try:
        return Holder.from_dict(json.loads(text or "{}"))
    except (ValueError, TypeError):
        return Holder()


def _message(path: str, holder: Holder) -> str:
    what = path.removesuffix(".lock") if path.endswith(".lock") and not path.endswith(WAREHOUSE_LOCK) else path
    kind = "the warehouse" if path.endswith(WAREHOUSE_LOCK) else "the manifest"
    if is_s3(path):
        clear = f"if that run is no longer going (killed outright), remove the lock: aws s3 rm {path}"
    else:
        clear = f"if no such process runs, remove {path}"
    target = str(Path(what).parent) if kind == "the warehouse" else what
    return f"{kind} {target} is in use by {holder}: one run at a time. Wait for it to end; {clear}"
