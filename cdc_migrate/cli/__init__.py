"""The cdc-migrate command line."""

from cdc_migrate.cli.commands import main

__all__ = ["main"]
