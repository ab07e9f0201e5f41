"""One run at a time per manifest and warehouse: a lock another process holds refuses a second run, naming who holds
it and how to clear one left behind; the system frees a local lock when its process dies, even by kill -9; on S3 a
conditional PUT makes the lock (moto serves S3 here)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdc_migrate.config.kinds import WAREHOUSE_LOCK
from cdc_migrate.config.model import Options
from cdc_migrate.errors import LockHeld
from cdc_migrate.handoff.lock import exclusive, lock_paths

HOLD = """
import sys
from cdc_migrate.handoff.lock import exclusive
with exclusive(sys.argv[1:]):
    print("held", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[object]:
    """Starts another process that holds the given locks until it is told to stop (or killed)."""
    started: list[subprocess.Popen[str]] = []

    def hold(*paths: str) -> subprocess.Popen[str]:
        child = subprocess.Popen(
            [sys.executable, "-c", HOLD, *paths],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        started.append(child)
        return child

    yield hold
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait()


def test_a_manifest_another_process_holds_is_refused_naming_the_holder(tmp_path: Path, holder: object) -> None:
    manifest = str(tmp_path / "manifest.json")
    child = holder(f"{manifest}.lock")  # type: ignore[operator]

    with pytest.raises(LockHeld) as refused, exclusive([f"{manifest}.lock"]):
        pass

    message = str(refused.value)
    assert message.startswith(f"the manifest {manifest} is in use by ")
    assert f"on {socket.gethostname()}, pid {child.pid}, started 20" in message
    assert f"if no such process runs, remove {manifest}.lock" in message and len(message.splitlines()) == 1


def test_the_lock_is_free_again_when_its_holder_ends_even_by_kill_9(tmp_path: Path, holder: object) -> None:
    path = str(tmp_path / "m.json.lock")
    child = holder(path)  # type: ignore[operator]
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    with exclusive([path]):
        assert json.loads(Path(path).read_text())["pid"] == os.getpid()
    assert not Path(path).exists()  # released: nothing left behind


def test_the_warehouse_is_locked_too_so_two_manifests_cannot_share_it(tmp_path: Path, holder: object) -> None:
    options = Options.from_mapping({"catalog": {"kind": "local", "warehouse": str(tmp_path / "wh")}})
    first = lock_paths(options, str(tmp_path / "a.json"))
    second = lock_paths(options, str(tmp_path / "b.json"))
    holder(*first)  # type: ignore[operator]

    assert first[1] == second[1] == str(tmp_path / "wh" / WAREHOUSE_LOCK)
    with pytest.raises(LockHeld, match=f"the warehouse {tmp_path / 'wh'} is in use by "), exclusive(second):
        pass
    assert not (tmp_path / "b.json.lock").exists()  # the manifest's lock it took was let go


def test_a_table_bucket_has_no_warehouse_lock() -> None:
    arn = "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/analytics"
    options = Options.from_mapping({"catalog": {"kind": "s3tables", "warehouse": arn}})

    assert lock_paths(options, "s3://bucket/m.json") == ["s3://bucket/m.json.lock"]


def test_the_thread_holding_a_lock_takes_it_again_another_thread_may_not(tmp_path: Path) -> None:
    path = str(tmp_path / "m.json.lock")
    refused: list[BaseException] = []

    def other() -> None:
        try:
            with exclusive([path]):
                pass
        except LockHeld as e:
            refused.append(e)

    with exclusive([path]):
        with exclusive([path]):  # run --validate validates inside the run
            pass
        assert Path(path).exists()
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert len(refused) == 1 and not Path(path).exists()


def test_on_s3_a_conditional_put_makes_the_lock_and_a_left_one_says_how_to_remove_it(aws: None) -> None:
    import boto3

    uri = "s3://artifacts-bucket/cdc/manifest.json.lock"
    s3 = boto3.client("s3")
    with exclusive([uri]):
        held = json.loads(s3.get_object(Bucket="artifacts-bucket", Key="cdc/manifest.json.lock")["Body"].read())
        assert held["pid"] == os.getpid()
    assert "Contents" not in s3.list_objects_v2(Bucket="artifacts-bucket", Prefix="cdc/")

    left = {"host": "glue-worker-1", "pid": 7, "started_at": "2026-12-01T00:00:00.000Z", "command": "cdc-migrate run"}
    s3.put_object(Bucket="artifacts-bucket", Key="cdc/manifest.json.lock", Body=json.dumps(left).encode())
    with pytest.raises(LockHeld) as refused, exclusive([uri]):
        pass
    assert str(refused.value) == (
        "the manifest s3://artifacts-bucket/cdc/manifest.json is in use by cdc-migrate run on glue-worker-1, pid 7, "
        "started 2026-12-01T00:00:00.000Z: one run at a time. Wait for it to end; if that run is no longer going "
        f"(killed outright), remove the lock: aws s3 rm {uri}"
    )
