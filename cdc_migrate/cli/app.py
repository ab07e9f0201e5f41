"""The `cdc-migrate` program: its parser, its logging, and how any failure ends it (one line, an exit code);
the Glue entrypoint ends the same way."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType

from cdc_migrate._version import __version__
from cdc_migrate.cli.commands import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    cmd_connectors,
    cmd_demo,
    cmd_glue_deploy,
    cmd_glue_start,
    cmd_glue_status,
    cmd_plan,
    cmd_prepare,
    cmd_report,
    cmd_run,
    cmd_settings,
    cmd_sink_offsets,
    cmd_types,
    cmd_validate,
)
from cdc_migrate.cli.flags import add_options
from cdc_migrate.errors import CdcMigrateError, ConfigError

logger = logging.getLogger("cdc_migrate.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdc-migrate",
        description="Full load of MySQL / Aurora MySQL into Apache Iceberg, recording the binlog position "
        "from which Debezium CDC continues.",
    )
    parser.add_argument("--version", action="version", version=f"cdc-migrate {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("plan", help="show each table's plan without loading")
    add_options(p, ("source", "tables", "partitioning", "catalog", "snapshot"))
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("run", help="load the tables and write the manifest")
    add_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("settings", help="print the Spark settings for the configured catalog")
    add_options(p, ("catalog", "spark"))
    p.add_argument("--format", choices=["properties", "spark-submit", "glue"], default="properties")
    p.set_defaults(func=cmd_settings)

    _add_handoff_commands(sub)
    _add_glue_commands(sub)
    p = sub.add_parser("types", help="print the CDC type contract (MySQL type -> Iceberg type) as Markdown")
    p.set_defaults(func=cmd_types)

    p = sub.add_parser("prepare", help="make the JVM class-data archive (Spark then starts in half the time)")
    add_options(p, ("catalog",))
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("demo", help="load a generated sample database from a throwaway MariaDB")
    p.add_argument("--config", metavar="FILE", default="conf/demo.toml")
    p.add_argument("--output", metavar="DIR", default="demo-output", help="warehouse and manifest go here")
    p.set_defaults(func=cmd_demo)
    return parser


def _add_handoff_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """validate, report, connectors, sink-offsets: what works on a load's manifest."""
    p = sub.add_parser("validate", help="compare every loaded table with the source, chunk by chunk (--manifest)")
    add_options(p, ("source", "tables", "catalog", "spark", "manifest"))
    p.add_argument(
        "--chunk-rows", type=int, metavar="N", help="rows per checksum chunk (the load's rows per partition)"
    )
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("report", help="print a load's (and validation's) results again, or write them")
    p.add_argument("--manifest", required=True, metavar="PATH")
    p.add_argument("--format", choices=["text", "markdown", "html"], default="text")
    p.add_argument("--out", metavar="FILE", help="write to this file instead of printing")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("connectors", help="write the CDC connector configs that continue from a load")
    p.add_argument("--manifest", required=True, metavar="PATH", help="the manifest of the load")
    p.add_argument("--out", metavar="DIR", help="where to write them (next to the manifest, cdc-connectors/)")
    p.add_argument("--name", default="cdc-migrate", help="connector name prefix")
    p.add_argument("--topic-prefix", default="cdc", help="Debezium topic.prefix (the seed's: cdc)")
    p.add_argument("--server-id", type=int, default=10_000_000, help="Debezium database.server.id")
    p.add_argument("--bootstrap-servers", metavar="HOSTS", help="Kafka brokers for the schema history topic")
    p.add_argument("--config", metavar="FILE", help="the load's configuration: its catalog's extra properties")
    p.set_defaults(func=cmd_connectors)

    p = sub.add_parser(
        "sink-offsets",
        help="the sink offsets (KIP-875) that skip what the load holds, for a source connector that already ran",
        description="Reads the loaded tables' topics as kcat prints them (-f '%%t\\t%%p\\t%%o\\t%%s\\n') and "
        "prints the body of PATCH /connectors/<sink>/offsets that starts the sink at the first change after the "
        "load's position in each topic partition.",
    )
    p.add_argument("--manifest", required=True, metavar="PATH", help="the manifest of the load")
    p.add_argument("--topics", default="-", metavar="FILE", help="the topic dump (default: standard input)")
    p.add_argument("--config", metavar="FILE", help="the load's configuration: its catalog's extra properties")
    p.set_defaults(func=cmd_sink_offsets)


def _add_glue_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """glue deploy, start, status."""
    p = sub.add_parser("glue", help="deploy, start and follow the load as an AWS Glue job")
    glue_sub = p.add_subparsers(dest="glue_command", required=True, metavar="ACTION")
    g = glue_sub.add_parser("deploy", help="upload the script, wheels, config (and jar); create or update the job")
    g.add_argument("--config", required=True, metavar="FILE", help="the TOML file with [glue] and the load's settings")
    g.add_argument("--wheel", action="append", metavar="PATH", help="use these wheels instead of building them")
    g.set_defaults(func=cmd_glue_deploy)
    g = glue_sub.add_parser("start", help="start a run; the run flags given here override the config file's")
    add_options(g)
    g.add_argument("--wait", action="store_true", help="wait until the run ends and print its status")
    g.set_defaults(func=cmd_glue_start)
    g = glue_sub.add_parser("status", help="state, duration, DPU-seconds, error and logs of a run")
    g.add_argument("--config", required=True, metavar="FILE")
    g.add_argument("--run-id", metavar="ID", help="the run (default: the newest)")
    g.add_argument("--wait", action="store_true", help="wait until the run ends")
    g.set_defaults(func=cmd_glue_status)


class _Stderr:
    """Whatever sys.stderr is when a line is written (a live display swaps it, to print lines above itself)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(_Stderr())
    handler.setFormatter(logging.Formatter("%(message)s" if not verbose else "%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("cdc_migrate").setLevel(logging.DEBUG if verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit code (0 ok, 1 a table or the run failed, 2 bad input, 130 Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    command: Callable[[argparse.Namespace], int] = args.func
    return ended("cdc-migrate", args.verbose, lambda: command(args))


class Terminated(KeyboardInterrupt):
    """SIGTERM (what `timeout`, systemd and a stopped Glue job send), ended as Ctrl-C is."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises Terminated in the main thread while the block runs (a run then records what it did)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def ended(prog: str, verbose: bool, body: Callable[[], int], reraise: bool = False) -> int:
    """Runs `body` and ends any failure in one line on stderr with an exit code: 2 for bad input, 1 for a
    failed load or an unexpected error, 130 for Ctrl-C, 143 for SIGTERM (which ends a run as Ctrl-C does).
    `reraise`: the failure goes on after its line (a Glue job run then ends FAILED with it)."""
    try:
        with _sigterm_as_interrupt():
            return body()
    except KeyboardInterrupt as e:
        terminated = isinstance(e, Terminated)
        print(f"{prog}: {'terminated (SIGTERM)' if terminated else 'interrupted'}", file=sys.stderr)
        if reraise:
            raise
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except CdcMigrateError as e:
        line, code = f"{prog}: error: {e}", EXIT_USAGE if isinstance(e, ConfigError) else EXIT_FAILED
        error: BaseException = e
    except OSError as e:  # a file or directory the command needed, named with the system's reason
        where = f": {e.filename}" if e.filename else ""
        line, code, error = f"{prog}: error: {e.strerror or e}{where}", EXIT_FAILED, e
    except Exception as e:
        first = str(e).splitlines()[0] if str(e) else ""
        line = f"{prog}: unexpected error: {type(e).__name__}: {first} (run again with --verbose for the traceback)"
        code, error = EXIT_FAILED, e
    if verbose:
        logger.error("failed", exc_info=error)
    print(line, file=sys.stderr)
    if reraise:
        raise error
    return code


if __name__ == "__main__":
    sys.exit(main())
