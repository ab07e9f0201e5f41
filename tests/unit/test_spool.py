"""The change log's spool: under the run's own directory, and what a killed run left removed at the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from cdc_migrate.source.spool import SPOOL_DIR, Spool, spool_root


def test_the_spool_goes_beside_a_local_manifest_else_under_the_temporary_directory(tmp_path: Path) -> None:
    assert spool_root(str(tmp_path / "run" / "manifest.json")) == str(tmp_path / "run" / SPOOL_DIR)
    assert spool_root("s3://bucket/runs/manifest.json") == os.path.join(tempfile.gettempdir(), "cdc-migrate-spool")
    assert spool_root(None) == os.path.join(tempfile.gettempdir(), "cdc-migrate-spool")


def test_a_spool_left_by_a_killed_process_is_removed_at_the_next_start_and_a_live_one_is_kept(
    tmp_path: Path,
) -> None:
    root = str(tmp_path / SPOOL_DIR)
    holder = (
        "import sys, time\n"
        "from cdc_migrate.source.spool import Spool\n"
        f"s = Spool({root!r})\n"
        "open(s.directory + '/changes.sqlite', 'w').write('rows')\n"
        "print(s.directory, flush=True)\n"
        "time.sleep(60)\n"
    )
    killed = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    alive = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert killed.stdout is not None and alive.stdout is not None
        left, kept = killed.stdout.readline().strip(), alive.stdout.readline().strip()
        killed.send_signal(signal.SIGKILL)  # no cleanup runs
        killed.wait()
        assert os.path.exists(os.path.join(left, "changes.sqlite"))

        mine = Spool(root)

        assert mine.removed == [left] and not os.path.exists(left)
        assert os.path.exists(os.path.join(kept, "changes.sqlite"))  # another run's, still in use
        assert os.path.dirname(mine.directory) == root
        mine.close()
        assert not os.path.exists(mine.directory) and os.path.isdir(root)  # another run's spool is still there
    finally:
        alive.kill()
        alive.wait()
    last = Spool(root)  # the other run, killed too: its spool removed as this one starts
    last.close()
    assert not os.path.exists(root)  # nothing left beside the manifest
