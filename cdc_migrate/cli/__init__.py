"""The cdc-migrate command line."""

from cdc_migrate.cli.app import main

__all__ = ["main"]
