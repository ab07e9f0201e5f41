"""The source connection budget shared by the table loads running in parallel."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ConnectionBudget:
    """At most `limit` source connections held at once by the table loads running in parallel."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._cond = threading.Condition()

    @property
    def free(self) -> int:
        with self._cond:
            return self._free

    @contextmanager
    def hold(self, n: int) -> Iterator[None]:
        """Waits until `n` connections are free and holds them for the block."""
        if n > self.limit:
            raise ValueError(f"cannot hold {n} of {self.limit} connections")
        with self._cond:
            self._cond.wait_for(lambda: self._free >= n)
            self._free -= n
        try:
            yield
        finally:
            with self._cond:
                self._free += n
                self._cond.notify_all()


def connections_for(partitions: int, slots: int, limit: int) -> tuple[int, int]:
    """How many connections a table's read holds and into how many partitions it is merged: a read holds
    min(partitions, task slots) at once; with fewer in the whole budget, adjacent key ranges are merged so
    that it holds no more than it may (pure)."""
    concurrency = min(partitions, slots)
    need = min(concurrency, limit)
    return need, (need if need < concurrency else partitions)
