from __future__ import annotations

from typing import Any

CALLS: list[tuple[str, Any]] = []


class Job:
    def __init__(self, glue_context: Any) -> None:
        self.glue_context = glue_context

    def init(self, name: str, args: dict[str, Any]) -> None:
        CALLS.append(("init", (name, dict(args))))

    def commit(self) -> None:
        CALLS.append(("commit", None))
