"""What PySpark's worker costs every task, removed once per worker by the Arrow path's read task."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path


def test_zip_archives_are_not_read_again_and_the_imports_leave_the_collectors_sight(tmp_path: Path) -> None:
    archive = tmp_path / "lib.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_module.py", "VALUE = 1\n")
    probe = f"""
import gc, importlib, sys, zipimport
sys.path.insert(0, {str(archive)!r})
import zipped_module
from cdc_migrate.spark.arrow import steady_worker
reads = []
real = zipimport._read_directory
zipimport._read_directory = lambda path: reads.append(path) or real(path)
importlib.invalidate_caches()
before = len(reads)
steady_worker()
importlib.invalidate_caches()  # what PySpark's worker does before every task
print(before, len(reads) - before, gc.get_freeze_count() > 0)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()

    assert out == ["1", "0", "True"]  # without it, each invalidation reads the zip's whole directory again
