"""How connections use TLS (pure): PyMySQL's arguments and the JDBC drivers' flags follow one `source.tls`, and
`preferred` is settled by what the server did, so that the JDBC reads do what PyMySQL did."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.source.tls import jdbc_tls, pymysql_tls, settled


def test_pymysql_gets_each_mode() -> None:
    assert pymysql_tls(SourceOptions(tls="preferred")) == {}  # PyMySQL's own: TLS where the server offers it
    assert pymysql_tls(SourceOptions(tls="disabled")) == {"ssl_disabled": True}
    context = pymysql_tls(SourceOptions(tls="required"))["ssl"]
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_NONE
    assert pymysql_tls(SourceOptions(tls="verify", tls_ca="/ca.pem")) == {
        "ssl_ca": "/ca.pem",
        "ssl_verify_cert": True,
        "ssl_verify_identity": True,
    }


@pytest.mark.parametrize(("encrypted", "tls"), [(True, "required"), (False, "disabled")])
def test_preferred_is_settled_by_what_the_server_did(encrypted: bool, tls: str) -> None:
    assert settled(SourceOptions(tls="preferred"), encrypted).tls == tls
    assert settled(SourceOptions(tls="verify", tls_ca="/ca.pem"), encrypted).tls == "verify"


@pytest.mark.parametrize(
    ("kind", "tls", "flags"),
    [
        ("mariadb", "required", {"useSsl": "true", "trustServerCertificate": "true"}),
        ("mariadb", "disabled", {}),
        ("mariadb", "verify", {"useSsl": "true", "serverSslCert": "PEM"}),
        ("mysql", "required", {"sslMode": "REQUIRED"}),
        ("mysql", "disabled", {"sslMode": "DISABLED"}),
        ("mysql", "preferred", {"sslMode": "PREFERRED"}),
        (
            "mysql",
            "verify",
            {
                "sslMode": "VERIFY_IDENTITY",
                "trustCertificateKeyStoreUrl": "file:///t.p12",
                "trustCertificateKeyStoreType": "PKCS12",
                "trustCertificateKeyStorePassword": "pw",
            },
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_jdbc_drivers_follow_the_same_mode(kind: str, tls: str, flags: dict[str, str]) -> None:
    assert jdbc_tls(kind, tls, "PEM", ("file:///t.p12", "pw")) == flags


def test_bad_tls_settings_name_the_setting_and_the_fix() -> None:
    with pytest.raises(ConfigError, match="source.tls = 'on' is not a TLS mode; use preferred, required, verify"):
        SourceOptions(tls="on").check()
    with pytest.raises(ConfigError, match="source.tls = 'verify' needs source.tls_ca.*global-bundle.pem"):
        SourceOptions(tls="verify").check()


def test_on_a_cluster_connector_j_verify_needs_a_truststore_every_executor_reads(tmp_path: Any) -> None:
    """The truststore made here is a file on the driver's host: executors elsewhere cannot open it."""
    from cdc_migrate.spark.truststore import with_jdbc_tls

    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    source = SourceOptions(host="db", tls="verify", tls_ca=str(ca))

    with pytest.raises(ConfigError, match=r"on a cluster needs a truststore .*source.jdbc_driver = mariadb"):
        with_jdbc_tls(source, "mysql", local=False)
    mariadb = with_jdbc_tls(source, "mariadb", local=False).jdbc_properties
    assert mariadb["serverSslCert"].startswith("-----BEGIN CERTIFICATE-----")  # inline: every executor has it
    own = {"trustCertificateKeyStoreUrl": "file:/etc/pki/rds.p12", "trustCertificateKeyStorePassword": "changeit"}
    theirs = with_jdbc_tls(SourceOptions(host="db", tls="verify", tls_ca=str(ca), jdbc_properties=own), "mysql", False)
    assert theirs.jdbc_properties["trustCertificateKeyStoreUrl"] == "file:/etc/pki/rds.p12"
    assert theirs.jdbc_properties["sslMode"] == "VERIFY_IDENTITY"
