"""The driver JVM's class-data archive: found by what it was made with, mapped only where it exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdc_migrate.spark import classdata


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CDC_MIGRATE_CACHE", str(tmp_path))
    return tmp_path


def test_no_archive_no_options(cache: Path) -> None:
    assert classdata.java_options([]) == ""


def test_an_archive_made_for_this_java_spark_and_jars_is_mapped_quietly(cache: Path) -> None:
    path = classdata.archive_path([])
    assert path is not None and path.parent == cache
    path.write_bytes(b"archive")

    options = classdata.java_options([])

    assert f"-XX:SharedArchiveFile={path}" in options and "-Xlog:cds=off" in options


def test_other_jars_want_another_archive(cache: Path, tmp_path: Path) -> None:
    jar = tmp_path / "extra.jar"
    jar.write_bytes(b"jar")

    assert classdata.archive_path([str(jar)]) != classdata.archive_path([])


def test_a_session_we_launch_maps_the_archive(cache: Path) -> None:
    from cdc_migrate.config.model import Options
    from cdc_migrate.spark.jars import find_local_jars
    from cdc_migrate.spark.session import settings_for

    options = Options.from_mapping({"catalog": {"kind": "local", "warehouse": str(cache / "wh")}})
    path = classdata.archive_path(find_local_jars("local", None).jars)
    assert path is not None
    path.write_bytes(b"archive")

    driver = settings_for(options, launching=True)["spark.driver.extraJavaOptions"]

    assert f"-XX:SharedArchiveFile={path}" in driver
    assert "SharedArchiveFile" not in settings_for(options, launching=False).get("spark.driver.extraJavaOptions", "")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("JDK_JAVA_OPTIONS", "-XX:StartFlightRecording=filename=x.jfr"),
        ("JAVA_TOOL_OPTIONS", "-javaagent:/opt/agent.jar"),
        (None, "-agentlib:jdwp=transport=dt_socket"),
    ],
)
def test_no_archive_with_an_agent_or_the_flight_recorder(
    cache: Path, monkeypatch: pytest.MonkeyPatch, variable: str | None, value: str
) -> None:
    """Java 17 crashed (SIGSEGV in check_shared_class_file_load_hook) starting Spark with JFR and the archive."""
    path = classdata.archive_path([])
    assert path is not None
    path.write_bytes(b"archive")
    if variable:
        monkeypatch.setenv(variable, value)

    assert classdata.java_options([], "" if variable else value) == ""
