"""The JDBC reads' TLS (the edge to the CA file and the JDK's keytool): the settled `source.tls` as the driver's
connection properties, with the CA certificate(s) for `verify` as MariaDB Connector/J takes them (the PEM itself)
or as MySQL Connector/J 8 does (a PKCS12 truststore, made here with keytool, one per process)."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.source.tls import jdbc_tls

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
_made: dict[str, tuple[str, str]] = {}  # CA file -> (truststore URL, password), for this process


TRUSTSTORE_PROPERTY = "trustCertificateKeyStoreUrl"


def with_jdbc_tls(source: SourceOptions, kind: str, local: bool = True) -> SourceOptions:
    """The source with its JDBC reads' TLS properties added (the user's own jdbc_properties win).

    `local`: whether the executors run in this process (a local master). MySQL Connector/J verifies against a
    truststore file, which executors on other hosts cannot read when it is made here: on a cluster it must be
    the user's, at a path every node has, or the read goes through MariaDB Connector/J (the CA inline)."""
    ca = _read_ca(source.tls_ca) if source.tls == "verify" else None
    needs_file = ca is not None and kind == "mysql" and TRUSTSTORE_PROPERTY not in source.jdbc_properties
    if needs_file and not local:
        raise ConfigError(
            "source.tls = verify with MySQL Connector/J on a cluster needs a truststore every executor can read: put "
            f"one on every node and give source.jdbc_properties.{TRUSTSTORE_PROPERTY} (file:/...) and "
            "trustCertificateKeyStorePassword, or read with MariaDB Connector/J (source.jdbc_driver = mariadb), "
            "which takes the CA itself"
        )
    truststore = _truststore(source.tls_ca, ca) if needs_file and source.tls_ca and ca is not None else None
    ours = jdbc_tls(kind, source.tls, ca, truststore)
    return replace(source, jdbc_properties={**ours, **source.jdbc_properties})


def _read_ca(path: str | None) -> str:
    try:
        text = Path(path or "").read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"cannot read source.tls_ca = {path}: {getattr(e, 'strerror', None) or e}; give a PEM file"
        ) from None
    if not _PEM.search(text):
        raise ConfigError(f"source.tls_ca = {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    return text


def _truststore(path: str, pem: str) -> tuple[str, str]:
    """A PKCS12 truststore of every certificate in the PEM (keytool imports one per call), made once a process."""
    if path in _made:
        return _made[path]
    keytool = shutil.which("keytool") or os.path.join(os.environ.get("JAVA_HOME", ""), "bin", "keytool")
    directory = tempfile.mkdtemp(prefix="cdc-migrate-truststore-")
    store, password = os.path.join(directory, "ca.p12"), secrets.token_urlsafe(12)
    for i, cert in enumerate(_PEM.findall(pem)):
        one = os.path.join(directory, f"ca-{i}.pem")
        Path(one).write_text(cert + "\n", encoding="ascii")
        args = [keytool, "-importcert", "-noprompt", "-alias", f"ca{i}", "-file", one, "-keystore", store]
        try:
            subprocess.run([*args, "-storetype", "PKCS12", "-storepass", password], capture_output=True, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            reason = getattr(e, "stderr", b"") or str(e)
            raise ConfigError(
                f"cannot make a truststore of source.tls_ca = {path} for MySQL Connector/J with keytool (the JDK's): "
                f"{reason.decode() if isinstance(reason, bytes) else reason}".strip()
            ) from None
    _made[path] = (Path(store).as_uri(), password)
    return _made[path]
