"""How connections to the source use TLS, from `source.tls` (pure): PyMySQL's arguments (its connections and the
binlog reader's), and the JDBC drivers' flags, so that the JDBC reads follow the same choice as PyMySQL does (a
user created REQUIRE SSL refuses a connection without TLS)."""

from __future__ import annotations

import functools
import ssl
from dataclasses import replace
from typing import Any

from cdc_migrate.config.sections import SourceOptions


@functools.cache
def _unverified() -> ssl.SSLContext:
    """TLS without checking the server's certificate (`required`): one context per process."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def pymysql_tls(source: SourceOptions) -> dict[str, Any]:
    """PyMySQL's TLS arguments: `preferred` is PyMySQL's own default (TLS where the server offers it)."""
    if source.tls == "disabled":
        return {"ssl_disabled": True}
    if source.tls == "required":
        return {"ssl": _unverified()}
    if source.tls == "verify":
        return {"ssl_ca": source.tls_ca, "ssl_verify_cert": True, "ssl_verify_identity": True}
    return {}


def settled(source: SourceOptions, encrypted: bool) -> SourceOptions:
    """`preferred` made definite by what the server did (`encrypted`: PyMySQL's session uses TLS), so that every
    later connection, the JDBC reads' included, does the same; other modes stay."""
    if source.tls != "preferred":
        return source
    return replace(source, tls="required" if encrypted else "disabled")


def jdbc_tls(
    kind: str, tls: str, ca_pem: str | None = None, truststore: tuple[str, str] | None = None
) -> dict[str, str]:
    """A JDBC driver's TLS connection properties for a settled mode.

    Args:
        kind: `mariadb` (Connector/J 2.x: useSsl, trustServerCertificate, serverSslCert with the PEM itself, which
            every executor gets with the properties) or `mysql` (Connector/J 8: sslMode, a PKCS12 truststore).
        tls: `required`, `verify` or `disabled` (`preferred` only where the server's answer is not known: then
            the driver's own preferred mode where it has one).
        ca_pem: the CA certificate(s) as PEM text (MariaDB Connector/J, `verify`).
        truststore: (file URL, password) of a PKCS12 truststore holding them (MySQL Connector/J, `verify`).
    """
    if kind == "mariadb":
        if tls == "verify":
            return {"useSsl": "true", "serverSslCert": ca_pem or ""}
        return {"useSsl": "true", "trustServerCertificate": "true"} if tls == "required" else {}
    if tls == "verify":
        url, password = truststore or ("", "")
        return {
            "sslMode": "VERIFY_IDENTITY",
            "trustCertificateKeyStoreUrl": url,
            "trustCertificateKeyStoreType": "PKCS12",
            "trustCertificateKeyStorePassword": password,
        }
    return {"sslMode": {"required": "REQUIRED", "disabled": "DISABLED"}.get(tls, "PREFERRED")}
