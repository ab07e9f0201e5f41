"""What Spark knows about a table's tasks while and after it loads: rows read and each task's time, from the
status store of the driver (kept whether or not the UI runs). Best effort: a load never fails over it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class TaskRecord:
    """One task of a table's jobs: its stage, partition index, seconds, rows read, and whether it finished."""

    stage: int
    index: int
    seconds: float
    rows: int
    done: bool


def group_tasks(spark: SparkSession, group: str, limit: int = 100_000) -> list[TaskRecord]:
    """Every task of the job group's stages (running ones with the metrics of their last heartbeat)."""
    sc = spark.sparkContext
    tracker = sc.statusTracker()
    store = sc._jsc.sc().statusStore()
    records = []
    for job_id in tracker.getJobIdsForGroup(group):
        job = tracker.getJobInfo(job_id)
        for stage_id in job.stageIds if job else ():
            stage = tracker.getStageInfo(stage_id)
            tasks = store.taskList(stage_id, stage.currentAttemptId if stage else 0, limit)
            for i in range(tasks.size()):
                task = tasks.apply(i)
                duration, metrics = task.duration(), task.taskMetrics()
                rows = int(metrics.get().inputMetrics().recordsRead()) if metrics.isDefined() else 0
                seconds = int(duration.get()) / 1000 if duration.isDefined() else 0.0
                records.append(TaskRecord(stage_id, int(task.index()), seconds, rows, str(task.status()) == "SUCCESS"))
    return records


def partition_seconds(tasks: list[TaskRecord], partitions: int) -> tuple[float, ...] | None:
    """The seconds each read partition took: the finished tasks of the stage that read the source (a task per
    partition, some rows read, a partition that found none included); None when no such stage is found."""
    stages: dict[int, dict[int, TaskRecord]] = {}
    for t in tasks:
        if t.done:
            stages.setdefault(t.stage, {})[t.index] = t
    reads = [s for s in stages.values() if len(s) == partitions and any(t.rows > 0 for t in s.values())]
    if not reads:
        return None
    read = reads[0]
    return tuple(round(read[i].seconds, 3) for i in range(partitions))


def rows_read(tasks: list[TaskRecord]) -> int:
    """Rows read so far by the table's read stage (the stage that has read the most)."""
    by_stage: dict[int, int] = {}
    for t in tasks:
        by_stage[t.stage] = by_stage.get(t.stage, 0) + t.rows
    return max(by_stage.values(), default=0)
