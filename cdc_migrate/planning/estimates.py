"""Keyset boundaries of an integer key from the optimizer's row estimates, without reading the table (pure over an
estimate function).

Walking the key's index for every n-th key reads the whole index before the first row loads: on a billion-row
table, a full scan of the source before any progress. Instead the key's value range is cut in halves until the
optimizer estimates at most a quarter partition in each piece (an estimate is a dive into the primary key's
B-tree, a few pages whatever the range), and the boundaries go where the running estimate passes each partition's
share. Skew costs more dives only where the rows are. One value of a composite key's leading column can hold
more rows than a partition and cannot be cut on that column: where one holds more than two partitions' share,
there are no estimated boundaries, and the caller walks the whole key instead.
"""

from __future__ import annotations

from collections.abc import Callable

Estimate = Callable[[int, int], int]  # the estimated rows with lo <= key < hi


def estimated_boundaries(
    lower: int,
    upper: int,
    partitions: int,
    estimate: Estimate,
    max_dives: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> list[int] | None:
    """At most `partitions - 1` increasing boundaries cutting [lower, upper] into ranges of about equal
    estimated rows, or None when the dives would exceed `max_dives` or one key value holds more than two
    partitions' share (the caller walks the index then)."""
    if partitions <= 1 or upper <= lower:
        return []
    total = estimate(lower, upper + 1)
    fine = max(1, total // (4 * partitions))  # a piece holds at most a quarter partition
    pieces: list[tuple[int, int]] = []  # (start, estimated rows), in key order
    pending = [(lower, upper + 1, total)]
    dives = 1
    single = 0  # the most rows estimated in one key value
    while pending:
        lo, hi, rows = pending.pop()
        if rows <= fine or hi - lo <= 1:
            pieces.append((lo, rows))
            if hi - lo <= 1:
                single = max(single, rows)
            continue
        if dives + 2 > max_dives:
            return None
        mid = lo + (hi - lo) // 2
        left, right = estimate(lo, mid), estimate(mid, hi)
        dives += 2
        if progress is not None and dives % 200 == 0:
            progress(dives)
        pending += [(mid, hi, right), (lo, mid, left)]  # the left half first: pieces come out in key order
    # Against the pieces' own sum: InnoDB caps an estimate at half the table's rows, so the first one (the whole
    # range) is too low on a big table, while the pieces err alike and their shares hold.
    if single > 2 * sum(rows for _, rows in pieces) / partitions:
        return None  # one value of the leading column holds more than two partitions: cut on the whole key
    return _cuts(pieces, partitions)


def _cuts(pieces: list[tuple[int, int]], partitions: int) -> list[int]:
    """Where the running estimate passes k/partitions of the total, at the start of the piece that passes it."""
    total = sum(rows for _, rows in pieces) or 1
    cuts: list[int] = []
    running = 0
    for start, rows in pieces:
        if running and running >= total * (len(cuts) + 1) / partitions:
            cuts.append(start)
            if len(cuts) == partitions - 1:
                break
        running += rows
    return cuts
