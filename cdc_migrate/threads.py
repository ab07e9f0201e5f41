"""Stopping a pool of threads that run Spark jobs (a leaf): what a run and a validation do when interrupted (Ctrl-C,
a notebook's stop, an error of their own). No task not yet started starts, their Spark jobs are cancelled (only
theirs: the caller's cancel function names them by tag), and every thread is waited for, however often the
interruption comes again, so that nothing goes on after the caller has returned."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

logger = logging.getLogger("cdc_migrate.threads")


def stop_all(pool: ThreadPoolExecutor, futures: Sequence[Future[Any]], cancel_jobs: Callable[[], None]) -> None:
    """Cancels the futures not started and the jobs (`cancel_jobs`), then joins the running ones and the pool; a
    further interruption meanwhile is noted, not obeyed."""
    for future in futures:
        future.cancel()
    cancel_jobs()
    running = [f for f in futures if not f.done()]
    if running:
        logger.warning("stopping: waiting for the %d table(s) being worked on to stop", len(running))
    while True:
        try:
            wait(running)
            pool.shutdown(wait=True)
            return
        except KeyboardInterrupt:
            logger.warning("still stopping: the tables being worked on are being cancelled")
