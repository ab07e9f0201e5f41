"""The wheels a Glue job installs (cdc_migrate and what it needs at run time), so the job needs no PyPI:
built from a source checkout, or repacked from the installed distributions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cdc_migrate.errors import CdcMigrateError, ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def build_wheels(out_dir: str) -> list[str]:
    """cdc_migrate's wheel and its dependencies' (PyMySQL, python-mysql-replication), so the job needs no PyPI:
    built from a source checkout, else repacked from the installed distributions (an installed cdc_migrate
    deploys itself)."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", str(PROJECT_ROOT), "-w", out_dir]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise CdcMigrateError(f"building the wheel failed: {done.stderr.strip().splitlines()[-1:]}")
        return sorted(str(p) for p in Path(out_dir).glob("*.whl"))
    return sorted(repack(name, out_dir) for name in runtime_distributions("cdc_migrate"))


def runtime_distributions(name: str) -> list[str]:
    """A distribution and every distribution it needs at run time (no extras), installed here."""
    from importlib import metadata

    from packaging.requirements import Requirement

    seen: dict[str, str] = {}
    pending = [name]
    while pending:
        current = pending.pop()
        dist = metadata.distribution(current)
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen[key] = dist.metadata["Name"]
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                pending.append(req.name)
    return list(seen.values())


def repack(name: str, out_dir: str) -> str:
    """A wheel of an installed pure-Python distribution, from its own files and metadata (RECORD rebuilt)."""
    import base64
    import hashlib
    import zipfile
    from importlib import metadata

    dist = metadata.distribution(name)
    files = [f for f in dist.files or () if "__pycache__" not in f.parts and not str(f).endswith(".pyc")]
    info = next((f.parts[0] for f in files if f.parts[0].endswith(".dist-info")), None)
    if info is None or not any(f.parts[0] != info for f in files):
        raise ConfigError(
            f"{name} is installed without its files (an editable install?): deploy from a source checkout of "
            "cdc_migrate, or give the wheels with --wheel"
        )
    wheel_file = Path(str(dist.locate_file(f"{info}/WHEEL")))
    tag = next(
        (line.split(":", 1)[1].strip() for line in wheel_file.read_text().splitlines() if line.startswith("Tag:")),
        "py3-none-any",
    )
    target = Path(out_dir) / f"{dist.metadata['Name'].replace('-', '_')}-{dist.version}-{tag}.whl"
    record, record_name = [], f"{info}/RECORD"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for f in files:
            arcname = "/".join(f.parts)
            if arcname == record_name or ".." in f.parts:
                continue
            data = Path(str(dist.locate_file(f))).read_bytes()
            wheel.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        wheel.writestr(record_name, "\n".join([*record, f"{record_name},,"]) + "\n")
    return str(target)


# The platform Glue 5's workers run (Amazon Linux 2023: glibc 2.34, x86_64, CPython 3.11).
GLUE_PLATFORM = ("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--implementation", "cp")


def reader_wheels(out_dir: str, pins: tuple[str, ...]) -> list[str]:
    """The Arrow path's reader as wheels for Glue's workers (`pins`, binary wheels for their platform, downloaded
    here so that the job needs no PyPI)."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", *GLUE_PLATFORM]
    done = subprocess.run([*cmd, "-d", out_dir, *pins], capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise CdcMigrateError(
            f"downloading the Arrow reader's wheels ({', '.join(pins)}) for Glue failed: {reason}. Set "
            "glue.arrow_reader = 'pypi' to let the job install them, or 'none' for the JDBC path only"
        )
    return sorted(str(p) for p in Path(out_dir).glob("*.whl"))
