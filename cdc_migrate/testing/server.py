"""A throwaway MariaDB/MySQL server with binary logging: temp datadir, free port, stopped afterwards.

Used by the tests, the demo and the benchmark, the way one would use a container where there is none.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.cursors

logger = logging.getLogger(__name__)

_SERVER_BINARIES = ("mariadbd", "mysqld")
_INSTALL_BINARIES = ("mariadb-install-db", "mysql_install_db")
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")


def _find(names: Sequence[str]) -> str:
    for name in names:
        found = shutil.which(name) or next(
            (os.path.join(d, name) for d in _SBIN if os.access(os.path.join(d, name), os.X_OK)), None
        )
        if found:
            return found
    raise RuntimeError(
        f"none of {', '.join(names)} is installed; install Debian's mariadb-server (make setup does it as root)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """What tests need of a server: where it is, and connections to it as an administrator."""

    host = "127.0.0.1"
    port = 0
    user = "root"
    password = ""
    log_bin = True

    @property
    def url(self) -> str:
        return f"mysql://{self.user}@{self.host}:{self.port}"

    def connect(self, **kwargs: Any) -> pymysql.connections.Connection[Any]:
        """A PyMySQL connection as the administrator (autocommit, dict rows unless told otherwise)."""
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "autocommit": True,
            "charset": "utf8mb4",
            "cursorclass": pymysql.cursors.DictCursor,
            "connect_timeout": 5,
            # Helpers read and write TIMESTAMP values in UTC whatever the server's own zone.
            "init_command": "SET time_zone = '+00:00'",
        }
        params.update(kwargs)
        return pymysql.connect(**params)

    def execute(self, *statements: str) -> list[dict[str, Any]]:
        """Runs statements in one connection; returns the last one's rows."""
        rows: list[dict[str, Any]] = []
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
                rows = list(cur.fetchall())
        return rows


class ExternalServer(_Server):
    """A server someone else runs (e.g. MySQL 8 in CI), given as mysql://USER:PASSWORD@HOST:PORT."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 3306
        self.user = unquote(parts.username or "root")
        self.password = unquote(parts.password or "")


class ThrowawayServer(_Server):
    """A MariaDB server of its own, started in a temporary directory and removed on stop.

    Args:
        log_bin: run with binary logging (ROW format, FULL row image) as CDC needs.
        server_id: the server id.
        extra_args: more mariadbd options.
    """

    def __init__(self, log_bin: bool = True, server_id: int = 1, extra_args: Sequence[str] = ()) -> None:
        self.log_bin = log_bin
        self.server_id = server_id
        self.extra_args = tuple(extra_args)
        self.port = 0
        self.datadir: Path | None = None
        self._base: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._args: list[str] = []

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (benchmarks measure its CPU)."""
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> ThrowawayServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> ThrowawayServer:
        """Initialises a datadir and starts the server; returns when it accepts connections."""
        server, install = _find(_SERVER_BINARIES), _find(_INSTALL_BINARIES)
        self._base = tempfile.mkdtemp(prefix="cdc-migrate-mariadb-")
        atexit.register(self.stop)
        base = Path(self._base)
        self.datadir = base / "data"
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        init = subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *as_root,
            ],
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            self.stop()
            raise RuntimeError(f"{install} failed: {init.stderr.strip()[-2000:]}")
        self.port = free_port()
        args = [
            server,
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--port={self.port}",
            f"--bind-address={self.host}",
            f"--socket={base / 'mysqld.sock'}",
            f"--pid-file={base / 'mysqld.pid'}",
            f"--log-error={base / 'error.log'}",
            f"--server-id={self.server_id}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=256M",
            "--innodb-flush-log-at-trx-commit=2",
            "--max-connections=500",
            *as_root,
        ]
        if self.log_bin:
            args += [
                f"--log-bin={self.datadir / 'binlog'}",
                "--binlog-format=ROW",
                "--binlog-row-image=FULL",
                "--binlog-row-metadata=FULL",  # column names in the binlog, for independent binlog readers
                "--sync-binlog=0",
            ]
        self._args = [*args, *self.extra_args]
        self._launch(timeout)
        logger.info("throwaway server on %s:%d (%s)", self.host, self.port, self.datadir)
        return self

    def _launch(self, timeout: float) -> None:
        self._proc = subprocess.Popen(
            self._args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                log = self.error_log()
                self.stop()
                raise RuntimeError(f"the throwaway server exited at start: {log[-2000:]}")
            try:
                self.connect().close()
                return
            except pymysql.err.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the throwaway server did not accept connections within {timeout}s") from None
                time.sleep(0.1)

    def restart(self, timeout: float = 60.0) -> None:
        """Stops the server cleanly and starts it again on the same port with the same data."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        self._launch(timeout)

    def error_log(self) -> str:
        path = Path(self._base or "/nonexistent") / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stops the server and removes its directory (safe to call twice)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        base, self._base = self._base, None
        if base:
            shutil.rmtree(base, ignore_errors=True)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
