"""Opening the migrated tables with PyIceberg, an independent reader (notebooks, tests, the demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdc_migrate.config.model import S3TABLES_KINDS, CatalogOptions, Options
from cdc_migrate.spark.settings import aws_rest_properties, local_catalog_paths

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


def pyiceberg_properties(catalog: CatalogOptions) -> dict[str, str]:
    """The PyIceberg `load_catalog` properties that open the same catalog Spark writes to (pure)."""
    if catalog.kind == "local":
        root, db_file = local_catalog_paths(catalog.warehouse or "warehouse")
        return {"type": "sql", "uri": f"sqlite:///{db_file}", "warehouse": f"file://{root}"}
    if catalog.kind in S3TABLES_KINDS:
        # PyIceberg has no client catalog for S3 Tables: the `s3tables` route opens the same bucket over
        # its REST endpoint. PyIceberg's own FileIO (not Java's io-impl), in the bucket's region.
        props = aws_rest_properties(catalog, "glue-rest" if catalog.kind == "glue-rest" else "s3tables-rest")
        props.pop("io-impl", None)
        props["s3.region"] = catalog.region_name or ""
    else:
        props = {"type": "rest", "uri": catalog.uri or ""}
        if catalog.warehouse:
            props["warehouse"] = catalog.warehouse
    # The user's extra properties go along where both sides speak REST (the client catalog's are Java's).
    return props | dict(catalog.properties) if catalog.kind != "s3tables" else props


def open_catalog(options: Options | CatalogOptions) -> Catalog:
    """The target catalog as a PyIceberg Catalog (needs the `local` extra: pyiceberg)."""
    from pyiceberg.catalog import load_catalog

    catalog = options.catalog if isinstance(options, Options) else options
    props: dict[str, Any] = pyiceberg_properties(catalog)
    return load_catalog(catalog.catalog_name, **props)


def open_table(options: Options | CatalogOptions, name: str) -> Table:
    """One migrated table, `namespace.table`, as a PyIceberg Table (`.scan().to_arrow()` reads it)."""
    return open_catalog(options).load_table(name)
