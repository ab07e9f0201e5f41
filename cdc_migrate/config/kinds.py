"""The catalog kinds, one entry each: what the kind needs checked, its Spark and PyIceberg properties, the
Iceberg sink's catalog settings, the jars a local session needs, and what a Glue job needs (pure).

Adding a kind is adding an entry to KINDS.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cdc_migrate.errors import ConfigError

if TYPE_CHECKING:  # the options are only passed in: config/model.py imports this module
    from cdc_migrate.config.sections import CatalogOptions

TABLE_BUCKET_ARN = re.compile(
    r"^arn:(aws[a-z-]*):s3tables:([a-z0-9-]+):(\d{12}):bucket/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])$"
)
# The Glue Data Catalog's name for a table bucket integrated with AWS analytics services.
GLUE_S3TABLES_CATALOG = re.compile(r"^(\d{12}):s3tablescatalog/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])$")

S3TABLES_CATALOG_IMPL = "software.amazon.s3tables.iceberg.S3TablesCatalog"
JDBC_CATALOG_IMPL = "org.apache.iceberg.jdbc.JdbcCatalog"
S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO"
LOCAL_CATALOG_FILE = "catalog.db"
WAREHOUSE_LOCK = ".cdc-migrate.lock"  # a local warehouse's run lock (handoff/lock.py)

Properties = dict[str, str]
PropertiesOf = Callable[["CatalogOptions"], Properties]


@dataclass(frozen=True)
class CatalogKind:
    """One kind of Iceberg catalog the tables can be written to.

    spark, pyiceberg, sink: the catalog's properties for Spark (under spark.sql.catalog.<name>), for
    PyIceberg's load_catalog, and for the Iceberg sink (under iceberg.catalog.). jars: what a local session
    needs besides the Iceberg runtime (names in spark/jars.py). table_bucket: writes into an S3 table bucket
    (namespaces made with the s3tables API). on_disk: the warehouse is a local directory. takes_uri: reads
    catalog.uri. glue_refusal: why a Glue job cannot write to it; glue_catalog_jar: a Glue job needs the S3
    Tables client catalog jar.
    """

    name: str
    default_catalog_name: str
    check: Callable[[CatalogOptions], None]
    spark: PropertiesOf
    pyiceberg: PropertiesOf
    sink: PropertiesOf
    jars: tuple[str, ...] = ()
    table_bucket: bool = False
    on_disk: bool = False
    user_properties_to_pyiceberg: bool = True  # the user's catalog.properties also go to PyIceberg
    glue_refusal: str | None = None
    glue_catalog_jar: bool = False
    takes_uri: bool = False  # reads catalog.uri (the others find their own endpoint)


def local_catalog_paths(warehouse: str) -> tuple[str, str]:
    """The absolute warehouse directory and SQLite catalog file of a local catalog."""
    root = os.path.abspath(warehouse)
    return root, os.path.join(root, LOCAL_CATALOG_FILE)


def aws_rest_properties(catalog: CatalogOptions, route: str | None = None) -> Properties:
    """The Iceberg REST catalog properties of an AWS route to a table bucket (Spark, PyIceberg, the sink).

    `s3tables-rest` (and the `s3tables` bucket reached over REST): the S3 Tables Iceberg REST endpoint, signed
    for `s3tables`, the bucket ARN as warehouse. `glue-rest`: the Glue Data Catalog's Iceberg REST endpoint,
    signed for `glue`, the bucket as `<account>:s3tablescatalog/<bucket>`.
    """
    route = route or catalog.kind
    region = catalog.region_name or ""
    # the same endpoint shape, signed for its service; only S3 Tables names the FileIO
    service, warehouse = (
        ("glue", catalog.glue_catalog_id) if route == "glue-rest" else ("s3tables", catalog.table_bucket_arn)
    )
    props = {
        "type": "rest",
        "uri": f"https://{service}.{region}.amazonaws.com/iceberg",
        "warehouse": warehouse or "",
        "rest.sigv4-enabled": "true",
        "rest.signing-name": service,
        "rest.signing-region": region,
    }
    if service == "s3tables":
        props["io-impl"] = S3_FILE_IO
    return props


# ---- local: JdbcCatalog on SQLite in the warehouse ------------------------------------------------------


def _local_spark(catalog: CatalogOptions) -> Properties:
    # SQLite has one writer at a time: tables committing in parallel through a pool of connections fail with
    # SQLITE_BUSY(_SNAPSHOT) once the catalog holds tables, so this JVM's catalog uses one connection (measured
    # on 40 tables, 4 at a time: 10.3 s against 11.4 s with Iceberg's pool of two), and waits up to a minute
    # for another process (PyIceberg, a second run) to let go.
    return _local_jdbc(catalog) | {"clients": "1", "jdbc.busy_timeout": "60000"}


def _local_pyiceberg(catalog: CatalogOptions) -> Properties:
    root, db_file = local_catalog_paths(catalog.warehouse or "warehouse")
    return {"type": "sql", "uri": f"sqlite:///{db_file}", "warehouse": f"file://{root}"}


def _local_jdbc(catalog: CatalogOptions) -> Properties:
    """The JdbcCatalog on the warehouse's SQLite file (the sink's too, for trying the pipeline on one machine)."""
    root, db_file = local_catalog_paths(catalog.warehouse or "warehouse")
    return {
        "catalog-impl": JDBC_CATALOG_IMPL,
        "uri": f"jdbc:sqlite:{db_file}",
        "warehouse": f"file://{root}",
        # The layout with view support; PyIceberg's SqlCatalog reads it as well.
        "jdbc.schema-version": "V1",
    }


# ---- S3 table buckets: the client catalog (the seed's route), S3 Tables REST, Glue REST -----------------


def _check_bucket_arn(catalog: CatalogOptions) -> None:
    if not TABLE_BUCKET_ARN.match(catalog.warehouse or ""):
        raise ConfigError(
            f"catalog.warehouse = {catalog.warehouse!r} is not an S3 table bucket ARN; catalog.kind = "
            f"{catalog.kind!r} needs arn:aws:s3tables:<region>:<account>:bucket/<bucket> (--warehouse or "
            "[catalog] warehouse)"
        )


def _check_glue_bucket(catalog: CatalogOptions) -> None:
    if not catalog.table_bucket_arn:
        raise ConfigError(
            f"catalog.warehouse = {catalog.warehouse!r}: catalog.kind = 'glue-rest' needs the table bucket ARN "
            "(arn:aws:s3tables:<region>:<account>:bucket/<bucket>), or <account>:s3tablescatalog/<bucket> "
            "together with catalog.region"
        )


def _client_catalog_spark(catalog: CatalogOptions) -> Properties:
    return {"catalog-impl": S3TABLES_CATALOG_IMPL, "warehouse": catalog.warehouse or "", "cache-enabled": "true"}


def _bucket_rest(route: str) -> PropertiesOf:
    return lambda catalog: aws_rest_properties(catalog, route)


def _bucket_client(route: str, client: str) -> PropertiesOf:
    """A table bucket over its REST route for another client: PyIceberg (which has no client catalog for S3
    Tables) with its own FileIO in the bucket's region, or the sink (which does not carry the client catalog
    jar either: the seed reaches the bucket over the S3 Tables endpoint) with Java's S3FileIO."""

    def properties(catalog: CatalogOptions) -> Properties:
        props = aws_rest_properties(catalog, route)
        if client == "pyiceberg":
            props.pop("io-impl", None)
            return props | {"s3.region": catalog.region_name or ""}
        props.setdefault("io-impl", S3_FILE_IO)
        return props | {"client.region": catalog.region_name or ""}

    return properties


# ---- any Iceberg REST catalog ----------------------------------------------------------------------------


def _check_rest(catalog: CatalogOptions) -> None:
    if not catalog.uri:
        raise ConfigError("catalog.kind = 'rest' needs catalog.uri (the REST endpoint, --catalog-uri)")


def _rest(catalog: CatalogOptions) -> Properties:
    props = {"type": "rest", "uri": catalog.uri or ""}
    return props | ({"warehouse": catalog.warehouse} if catalog.warehouse else {})


def _nothing(catalog: CatalogOptions) -> None:
    return None


def _bucket_kind(
    name: str, catalog_name: str, route: str, spark: PropertiesOf | None = None, catalog_jar: bool = False
) -> CatalogKind:
    """A kind that writes into an S3 table bucket: Spark through `route` (or the client catalog, with its jar),
    PyIceberg and the sink over the REST `route`."""
    return CatalogKind(
        name,
        catalog_name,
        _check_glue_bucket if route == "glue-rest" else _check_bucket_arn,
        spark or _bucket_rest(route),
        _bucket_client(route, "pyiceberg"),
        _bucket_client(route, "sink"),
        jars=("iceberg-aws", "s3tables-catalog") if catalog_jar else ("iceberg-aws",),
        table_bucket=True,
        user_properties_to_pyiceberg=not catalog_jar,  # the client catalog's properties are Java's
        glue_catalog_jar=catalog_jar,
    )


_LOCAL_ON_GLUE = (
    "catalog.kind = 'local' would write to the Glue driver's disk, lost when the job ends; use s3tables, "
    "s3tables-rest or glue-rest with catalog.warehouse = the table bucket ARN"
)

KINDS: dict[str, CatalogKind] = {
    k.name: k
    for k in (
        CatalogKind(
            "local",
            "local",
            _nothing,
            _local_spark,
            _local_pyiceberg,
            _local_jdbc,
            jars=("sqlite",),
            on_disk=True,
            glue_refusal=_LOCAL_ON_GLUE,
        ),
        _bucket_kind("s3tables", "s3tablesbucket", "s3tables-rest", spark=_client_catalog_spark, catalog_jar=True),
        _bucket_kind("s3tables-rest", "s3tablesbucket", "s3tables-rest"),
        _bucket_kind("glue-rest", "s3tablescatalog", "glue-rest"),
        CatalogKind("rest", "rest", _check_rest, _rest, _rest, _rest, takes_uri=True),
    )
}


def catalog_kind(name: str) -> CatalogKind:
    """The kind called `name`; an unknown one is a ConfigError listing the kinds."""
    kind = KINDS.get(name)
    if kind is None:
        raise ConfigError(f"catalog.kind = {name!r} is unknown; use one of {', '.join(KINDS)}")
    return kind
