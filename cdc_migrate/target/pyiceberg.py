"""Opening the migrated tables with PyIceberg, an independent reader (notebooks, tests, the demo)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdc_migrate.config.kinds import catalog_kind
from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.target.lineage import SnapshotEntry, main_chain

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


def pyiceberg_properties(catalog: CatalogOptions) -> dict[str, str]:
    """The PyIceberg `load_catalog` properties that open the same catalog Spark writes to (pure)."""
    kind = catalog_kind(catalog.kind)
    props = kind.pyiceberg(catalog)
    # The user's extra properties go along where both sides speak the same protocol.
    return props | dict(catalog.properties) if kind.user_properties_to_pyiceberg else props


def open_catalog(options: Options | CatalogOptions) -> Catalog:
    """The target catalog as a PyIceberg Catalog (needs the `local` extra: pyiceberg)."""
    from pyiceberg.catalog import load_catalog

    catalog = options.catalog if isinstance(options, Options) else options
    props: dict[str, Any] = pyiceberg_properties(catalog)
    return load_catalog(catalog.catalog_name, **props)


def open_table(options: Options | CatalogOptions, name: str) -> Table:
    """One migrated table, `namespace.table`, as a PyIceberg Table (`.scan().to_arrow()` reads it)."""
    return open_catalog(options).load_table(name)


def main_lineage(table: Table) -> list[SnapshotEntry]:
    """A PyIceberg table's main branch, newest first (target/lineage.py checks a claim against it)."""
    snapshots = {
        s.snapshot_id: SnapshotEntry(
            s.snapshot_id,
            s.parent_snapshot_id,
            str(s.summary.operation.value) if s.summary is not None else None,
            {k: str(v) for k, v in (s.summary.additional_properties if s.summary is not None else {}).items()},
        )
        for s in table.metadata.snapshots
    }
    return main_chain(table.metadata.current_snapshot_id, snapshots)
