"""TLS as users have it, against a throwaway server with a certificate made here (openssl): a user created
REQUIRE SSL loads with the default (`preferred`) with MySQL Connector/J 8.0.33 and MariaDB Connector/J alike, the
JDBC reads following PyMySQL's choice; `verify` checks the server's certificate against the CA given and refuses
another; TLS turned off for such a user says so."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import SourceError
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.load.progress import NullProgress
from cdc_migrate.load.runner import run
from cdc_migrate.testing.server import ThrowawayServer

from .conftest import EXTERNAL_URL

USER, PASSWORD = "tls_only", "etlpw-tls-7"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(directory: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=directory,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThrowawayServer, Path]]:
    """A server whose certificate (for 127.0.0.1) a CA made here signed, and a user that requires TLS."""
    import os

    if os.environ.get(EXTERNAL_URL):
        pytest.skip("starts a throwaway server with a certificate of its own")
    d = tmp_path_factory.mktemp("tls")
    _ca(d, "ca")
    _ca(d, "other-ca")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
             "-out", "server.csr", cwd=d)  # fmt: skip
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=d)  # fmt: skip
    certs = [f"--ssl-ca={d / 'ca.pem'}", f"--ssl-cert={d / 'server.pem'}", f"--ssl-key={d / 'server.key'}"]
    with ThrowawayServer(server_id=31, extra_args=certs) as server:
        server.execute(
            "CREATE DATABASE shop",
            "CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(10))",
            "INSERT INTO shop.t VALUES (1, 'a'), (2, 'b')",
            "CREATE TABLE shop.u (id INT PRIMARY KEY)",
            "INSERT INTO shop.u VALUES (1)",
            f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}' REQUIRE SSL",
            f"GRANT SELECT ON shop.* TO '{USER}'@'%'",
            f"GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO '{USER}'@'%'",
            "ANALYZE TABLE shop.t, shop.u",
        )
        yield server, d


@pytest.fixture(params=["mysql", "mariadb"], ids=["connector-j-8.0.33", "mariadb-connector-j"])
def jdbc_driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _options(server: ThrowawayServer, tmp_path: Path, warehouse: Path, driver: str, **source: Any) -> Options:
    return Options.from_mapping(
        {
            "source": {"host": server.host, "port": server.port, "user": USER, "password": Secret(PASSWORD)}
            | {"jdbc_driver": driver, **source},
            "tables": {"include": ["shop.*"]},
            "catalog": {"kind": "local", "warehouse": str(warehouse), "namespace": f"tls_{driver}"},
            "run": {"manifest": str(tmp_path / "m.json"), "parallel_tables": 1},
        }
    )


class ChangeAfterT(NullProgress):
    """Changes shop.t once it is loaded, so that the binlog is read and merged over TLS too."""

    def __init__(self, server: ThrowawayServer) -> None:
        self.server = server

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        if result.source == "shop.t":
            self.server.execute("UPDATE shop.t SET v = 'changed' WHERE id = 1", "INSERT INTO shop.t VALUES (3, 'c')")


def test_a_user_that_requires_tls_loads_live_with_the_default(
    tls_server: tuple[ThrowawayServer, Path],
    spark: Any,
    warehouse: Path,
    tmp_path: Path,
    jdbc_driver: str,
    iceberg: Any,
) -> None:
    server, _ = tls_server
    server.execute("DELETE FROM shop.t WHERE id = 3", "UPDATE shop.t SET v = 'a' WHERE id = 1")

    manifest = run(_options(server, tmp_path, warehouse, jdbc_driver), spark=spark, progress=ChangeAfterT(server))

    assert [t.status for t in manifest.tables] == ["loaded", "loaded"], [t.error for t in manifest.tables]
    assert manifest.snapshot.exact is True and manifest.source.jdbc_driver.kind == jdbc_driver
    assert [t.reader for t in manifest.tables] == ["arrow", "arrow"]  # ConnectorX over TLS (ssl-mode=REQUIRED)
    rows = iceberg(f"tls_{jdbc_driver}.t").scan().to_arrow().sort_by("id").to_pylist()
    assert rows == [{"id": 1, "v": "changed"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]


def test_verify_checks_the_servers_certificate_against_the_ca_given(
    tls_server: tuple[ThrowawayServer, Path], spark: Any, warehouse: Path, tmp_path: Path, jdbc_driver: str
) -> None:
    server, certs = tls_server
    verified = _options(server, tmp_path, warehouse, jdbc_driver, tls="verify", tls_ca=str(certs / "ca.pem"))

    manifest = run(verified, spark=spark)

    assert [t.status for t in manifest.tables] == ["loaded", "loaded"], [t.error for t in manifest.tables]
    assert [t.reader for t in manifest.tables] == ["jdbc", "jdbc"]  # the Arrow reader cannot check against tls_ca
    wrong = _options(server, tmp_path / "x", warehouse, jdbc_driver, tls="verify", tls_ca=str(certs / "other-ca.pem"))
    with pytest.raises(SourceError, match=r"certificate.*source\.tls_ca"):
        run(wrong, spark=spark)


def test_tls_turned_off_for_a_user_that_requires_it_says_so(
    tls_server: tuple[ThrowawayServer, Path], spark: Any, warehouse: Path, tmp_path: Path
) -> None:
    server, _ = tls_server

    with pytest.raises(SourceError, match=r"access denied.*source\.tls \(disabled: a user created REQUIRE SSL"):
        run(_options(server, tmp_path, warehouse, "mariadb", tls="disabled"), spark=spark)
