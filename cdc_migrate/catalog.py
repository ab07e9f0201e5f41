"""Opening the migrated tables with PyIceberg, an independent reader (notebooks, tests, the demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdc_migrate.config import CatalogOptions, Options
from cdc_migrate.sparkconf import local_catalog_paths

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


def pyiceberg_properties(catalog: CatalogOptions) -> dict[str, str]:
    """The PyIceberg `load_catalog` properties that open the same catalog Spark writes to (pure)."""
    if catalog.kind == "local":
        root, db_file = local_catalog_paths(catalog.warehouse or "warehouse")
        props = {"type": "sql", "uri": f"sqlite:///{db_file}", "warehouse": f"file://{root}"}
    elif catalog.kind == "s3tables":
        region = catalog.region
        props = {
            "type": "rest",
            "uri": f"https://s3tables.{region}.amazonaws.com/iceberg",
            "warehouse": catalog.warehouse or "",
            "rest.sigv4-enabled": "true",
            "rest.signing-name": "s3tables",
            "rest.signing-region": region or "",
        }
    else:
        props = {"type": "rest", "uri": catalog.uri or ""}
        if catalog.warehouse:
            props["warehouse"] = catalog.warehouse
    return props | dict(catalog.properties) if catalog.kind == "rest" else props


def open_catalog(options: Options | CatalogOptions) -> Catalog:
    """The target catalog as a PyIceberg Catalog (needs the `local` extra: pyiceberg)."""
    from pyiceberg.catalog import load_catalog

    catalog = options.catalog if isinstance(options, Options) else options
    props: dict[str, Any] = pyiceberg_properties(catalog)
    return load_catalog(catalog.catalog_name, **props)


def open_table(options: Options | CatalogOptions, name: str) -> Table:
    """One migrated table, `namespace.table`, as a PyIceberg Table (`.scan().to_arrow()` reads it)."""
    return open_catalog(options).load_table(name)
