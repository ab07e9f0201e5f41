"""Time as the manifest and the table properties write it: UTC, milliseconds, a Z (pure but for now())."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(moment: datetime | None = None) -> str:
    """`moment` (now by default) as ISO 8601 in UTC with milliseconds: 2024-01-02T03:04:05.678Z."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
