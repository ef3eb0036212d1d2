"""The two table targets users pass as ``table=``: :class:`Delta` and :class:`Iceberg`.

Frozen values that say *where* and *how* to publish; opening the table (and importing its
library) happens only when a job publishes or reads. Their reprs never show
``storage_options`` values (they hold credentials) nor catalog properties.

>>> Delta("s3://lake/invoices", storage_options={"AWS_SECRET_ACCESS_KEY": "x"})
Delta('s3://lake/invoices', storage_options=<1 key>, mode='append')
>>> Iceberg("lake.invoices", catalog="glue", mode="merge", merge_on="invoice_id")
Iceberg('lake.invoices', catalog='glue', mode='merge', merge_on=('invoice_id',))
>>> parse_table_uri("delta:/tmp/t").uri
'/tmp/t'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from extend_frames._errors import InputError, TableError

__all__ = ["Delta", "Iceberg", "TableMode", "TableTarget", "parse_table_uri", "require"]

TableMode: TypeAlias = Literal["append", "merge"]
_EXTRAS = {"deltalake": "delta", "pyiceberg": "iceberg"}


def require(module: str) -> ModuleType:
    """Import a table library lazily, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        root = module.split(".")[0]
        extra = _EXTRAS.get(root, root)
        raise TableError(
            f"table= with this format needs the {root!r} package: "
            f"pip install 'extend-frames[{extra}]'"
        ) from exc


def _merge_on(mode: str, merge_on: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if mode not in ("append", "merge"):
        raise InputError(f'a table\'s mode must be "append" or "merge", got {mode!r}')
    if merge_on is None:
        return None
    if mode != "merge":
        raise InputError('merge_on= applies to mode="merge" only (append keeps every row)')
    names = (merge_on,) if isinstance(merge_on, str) else tuple(merge_on)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise InputError(f"merge_on= takes a column name or a list of them, got {merge_on!r}")
    return names


def _display(uri: str) -> str:
    """``uri`` without credentials, query or fragment (what errors and reprs show)."""
    parts = urlsplit(uri)
    if not parts.scheme or len(parts.scheme) == 1:  # a local path (or a Windows drive)
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _options_repr(options: Mapping[str, str] | None) -> str:
    return (
        "" if not options else f", storage_options=<{len(options)} key{'s' * (len(options) > 1)}>"
    )


@dataclass(frozen=True, slots=True, repr=False)
class Delta:
    """A Delta Lake table at ``uri`` (a local path, ``s3://``, ``abfss://``, ``gs://``...),
    written through ``deltalake`` (delta-rs: no Spark or JVM; extra ``delta``).

    ``storage_options`` are delta-rs's (``AWS_ENDPOINT_URL``, ``AWS_REGION``...; on S3 also
    ``AWS_S3_LOCKING_PROVIDER`` or ``aws_conditional_put="etag"`` for safe concurrent
    commits). ``mode="append"`` keeps every run's rows with the job id and time
    (a history table); ``"merge"`` keeps one row per ``merge_on`` key (default: the job's
    ``key=``, else its file column), the newest job's row winning.
    """

    uri: str
    storage_options: Mapping[str, str] | None = field(default=None, compare=False)
    mode: TableMode = "append"
    merge_on: tuple[str, ...] | None = None

    def __init__(
        self,
        uri: str,
        *,
        storage_options: Mapping[str, str] | None = None,
        mode: TableMode = "append",
        merge_on: str | Sequence[str] | None = None,
    ) -> None:
        if not isinstance(uri, str) or not uri:
            raise InputError(f"xf.Delta takes the table's URI or path, got {uri!r}")
        options = None if storage_options is None else {**storage_options}
        object.__setattr__(self, "uri", uri.removeprefix("delta:"))
        object.__setattr__(self, "storage_options", options)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "merge_on", _merge_on(mode, merge_on))

    @property
    def display(self) -> str:
        """The table's URI without credentials (for messages)."""
        return f"delta:{_display(self.uri)}"

    def __repr__(self) -> str:
        merge = "" if self.merge_on is None else f", merge_on={self.merge_on!r}"
        options = _options_repr(self.storage_options)
        return f"Delta({_display(self.uri)!r}{options}, mode={self.mode!r}{merge})"


@dataclass(frozen=True, slots=True, repr=False)
class Iceberg:
    """An Apache Iceberg table ``identifier`` (``"namespace.table"``) in ``catalog``, written
    through ``pyiceberg`` (extra ``iceberg``).

    ``catalog`` is a pyiceberg ``Catalog`` (``SqlCatalog``, ``RestCatalog``, ``GlueCatalog``...)
    or the name of one configured the way pyiceberg configures catalogs (``~/.pyiceberg.yaml``
    or ``PYICEBERG_CATALOG__<NAME>__...`` variables). Modes as for :class:`Delta`.
    """

    identifier: str
    catalog: Any = field(compare=False)
    mode: TableMode = "append"
    merge_on: tuple[str, ...] | None = None

    def __init__(
        self,
        identifier: str,
        *,
        catalog: Any,
        mode: TableMode = "append",
        merge_on: str | Sequence[str] | None = None,
    ) -> None:
        if not isinstance(identifier, str) or "." not in identifier.strip("."):
            raise InputError(
                f'xf.Iceberg takes "namespace.table", got {identifier!r}; '
                'e.g. xf.Iceberg("lake.invoices", catalog="glue")'
            )
        if catalog is None or (isinstance(catalog, str) and not catalog):
            raise InputError("xf.Iceberg needs catalog= (a pyiceberg Catalog or its name)")
        object.__setattr__(self, "identifier", identifier)
        object.__setattr__(self, "catalog", catalog)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "merge_on", _merge_on(mode, merge_on))

    @property
    def catalog_name(self) -> str:
        name = self.catalog if isinstance(self.catalog, str) else getattr(self.catalog, "name", "")
        return str(name)

    @property
    def display(self) -> str:
        """``iceberg:<catalog>/<identifier>`` (for messages; no catalog properties)."""
        return f"iceberg:{self.catalog_name}/{self.identifier}"

    def __repr__(self) -> str:
        merge = "" if self.merge_on is None else f", merge_on={self.merge_on!r}"
        return (
            f"Iceberg({self.identifier!r}, catalog={self.catalog_name!r}, mode={self.mode!r}"
            f"{merge})"
        )


TableTarget: TypeAlias = Delta | Iceberg


def parse_table_uri(
    spec: str,
    *,
    storage_options: Mapping[str, str] | None = None,
    mode: TableMode = "append",
    merge_on: str | Sequence[str] | None = None,
) -> TableTarget:
    """A target from its one-string spelling (the CLI's ``--table``):
    ``delta:<uri>`` (a path or ``s3://...``) or ``iceberg:<catalog>/<namespace>.<table>``
    (a catalog configured for pyiceberg)."""
    kind, sep, rest = spec.partition(":")
    if sep and kind == "delta" and rest:
        return Delta(rest, storage_options=storage_options, mode=mode, merge_on=merge_on)
    if sep and kind == "iceberg":
        catalog, slash, identifier = rest.partition("/")
        if catalog and slash and identifier:
            return Iceberg(identifier, catalog=catalog, mode=mode, merge_on=merge_on)
    raise InputError(
        f"a table is spelled delta:<path or URI> or iceberg:<catalog>/<namespace>.<table>, "
        f"got {_display(spec)!r}"
    )
