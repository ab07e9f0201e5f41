"""What the source user may read, checked before anything is read: MySQL hides from a user what it may not
access, so without this a partial grant loads a partial database, or a partial table, and calls it done."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import ConfigError, SourceError
from cdc_migrate.load.runner import plan, run
from cdc_migrate.validation.validator import validate

from .conftest import OptionsFactory

PASSWORD = "etlpw-access-1"


@pytest.fixture
def user(server: Any) -> Iterator[Callable[..., str]]:
    """A user with the given grants (and the replication ones a live load needs)."""
    made: list[str] = []

    def make(*grants: str) -> str:
        name = f"acc_{uuid.uuid4().hex[:8]}"
        made.append(name)
        server.execute(
            f"CREATE USER '{name}'@'%' IDENTIFIED BY '{PASSWORD}'",
            f"GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO '{name}'@'%'",
            *(g.format(user=f"'{name}'@'%'") for g in grants),
        )
        return name

    yield make
    for name in made:
        server.execute(f"DROP USER IF EXISTS '{name}'@'%'")


def _tables(server: Any, database: str) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.a (id INT PRIMARY KEY, secret VARCHAR(10))",
        f"CREATE TABLE `{database}`.b (id INT PRIMARY KEY)",
        f"INSERT INTO `{database}`.a VALUES (1, 'x')",
        f"INSERT INTO `{database}`.b VALUES (1)",
    )


def _as(make_options: OptionsFactory, name: str, include: list[str]) -> Any:
    return make_options(include, source={"user": name, "password": Secret(PASSWORD)})


def test_a_wildcard_over_a_database_the_user_reads_only_partly_is_refused_before_anything_is_read(
    server: Any, database: str, make_options: OptionsFactory, user: Callable[..., str], tmp_path: Path
) -> None:
    _tables(server, database)
    name = user(f"GRANT SELECT ON `{database}`.b TO {{user}}")  # b only: a is invisible to this user
    options = _as(make_options, name, [f"{database}.*"])

    for attempt in (lambda: plan(options), lambda: run(options)):
        with pytest.raises(
            SourceError,
            match=rf"may read only some tables of {database} .*GRANT SELECT ON `{database}`\.\* TO '{name}'",
        ):
            attempt()
    assert not (tmp_path / "manifest.json").exists()


def test_a_table_the_user_may_not_read_is_not_just_missing(
    server: Any, database: str, make_options: OptionsFactory, user: Callable[..., str]
) -> None:
    _tables(server, database)
    name = user(f"GRANT SELECT ON `{database}`.b TO {{user}}")

    said = rf"table '{database}.a' does not exist.*or '{name}'@'%' may not read it.*GRANT SELECT ON `{database}`.`a`"
    with pytest.raises(ConfigError, match=said):
        plan(_as(make_options, name, [f"{database}.a"]))


def test_validate_says_of_a_table_the_user_cannot_see_what_run_says(
    server: Any, database: str, make_options: OptionsFactory, user: Callable[..., str], spark: Any
) -> None:
    _tables(server, database)
    loaded = make_options([f"{database}.*"])
    run(loaded, spark=spark)
    name = user(f"GRANT SELECT ON `{database}`.b TO {{user}}")

    with pytest.raises(ConfigError) as by_validate:
        validate(_as(make_options, name, [f"{database}.a"]), loaded.run.manifest or "", spark=spark)
    with pytest.raises(ConfigError) as by_plan:
        plan(_as(make_options, name, [f"{database}.a"]))

    assert f"GRANT SELECT ON `{database}`.`a` TO '{name}'@'%'" in str(by_validate.value)
    assert str(by_validate.value) == str(by_plan.value)


def test_a_column_level_grant_fails_the_table_naming_the_grant(
    server: Any, database: str, make_options: OptionsFactory, user: Callable[..., str], spark: Any
) -> None:
    _tables(server, database)
    name = user(f"GRANT SELECT (id) ON `{database}`.a TO {{user}}", f"GRANT SELECT ON `{database}`.b TO {{user}}")

    manifest = run(_as(make_options, name, [f"{database}.a", f"{database}.b"]), spark=spark)

    a, b = manifest.tables
    assert (a.status, b.status) == ("failed", "loaded")
    assert f"may read only the columns id of {database}.a" in (a.error or "")
    assert f"GRANT SELECT ON `{database}`.`a` TO '{name}'@'%'" in (a.error or "")


def test_grants_through_a_role_are_counted(
    server: Any, database: str, make_options: OptionsFactory, user: Callable[..., str]
) -> None:
    _tables(server, database)
    role = f"r_{uuid.uuid4().hex[:8]}"
    server.execute(f"CREATE ROLE {role}", f"GRANT SELECT ON `{database}`.* TO {role}")
    try:
        name = user(f"GRANT {role} TO {{user}}", f"SET DEFAULT ROLE {role} FOR {{user}}")

        outcomes = plan(_as(make_options, name, [f"{database}.*"]))

        assert [(str(o.source), o.error) for o in outcomes] == [(f"{database}.a", None), (f"{database}.b", None)]
    finally:
        server.execute(f"DROP ROLE {role}")


def test_plan_checks_what_a_run_checks_before_reading(
    server: Any, database: str, make_options: OptionsFactory, user: Callable[..., str]
) -> None:
    _tables(server, database)
    name = f"norepl_{uuid.uuid4().hex[:6]}"
    server.execute(
        f"CREATE USER '{name}'@'%' IDENTIFIED BY '{PASSWORD}'",
        f"GRANT SELECT ON `{database}`.* TO '{name}'@'%'",
        f"GRANT REPLICATION CLIENT ON *.* TO '{name}'@'%'",
    )
    try:
        from cdc_migrate.errors import BinlogError

        with pytest.raises(BinlogError, match=rf"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\* TO '{name}'"):
            plan(_as(make_options, name, [f"{database}.*"]))
    finally:
        server.execute(f"DROP USER '{name}'@'%'")
