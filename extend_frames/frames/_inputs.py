"""Input side of the frames layer: normalise, validate, classify references, derive row keys.

Everything here runs before any request. Whole-frame problems (a missing column, a bad
processor id, duplicate keys...) raise :class:`InputError` naming the offending rows and the
fix; per-row data problems (a null or malformed file reference) are *not* errors: they are
reported by :func:`classify_references` and come back as FAILED rows (INVALID_INPUT).
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from extend_frames._columns import RESULT_COLUMNS, ROW
from extend_frames._errors import InputError
from extend_frames._operations import MAX_BATCH_INPUTS, OPERATIONS, processor_prefix_owner

__all__ = [
    "RESERVED_COLUMNS",
    "classify_references",
    "input_fingerprint",
    "parse_processor",
    "row_keys",
    "to_polars",
    "validate",
]

#: Columns the result frame adds; an input column with one of these names would be shadowed.
RESERVED_COLUMNS = RESULT_COLUMNS

_ID_BODY = re.compile(r"[A-Za-z0-9_-]+")
_VERSION = re.compile(r"[A-Za-z0-9._-]+")  # "latest", "draft", "2.1" or a version id
_SHOWN = 5  # rows named in an error message before "and N more"
_VALUE_CHARS = 40  # characters of a value shown in an error message

# Reference classification (anchored regexes, evaluated by polars, not in a Python loop).
_URL = r"(?i)^https?://"
_URL_OK = r"(?i)^https?://[^\s/?#@]+(?:[/?#]\S*)?$"
_FILE_ID = r"^file_"
_FILE_ID_OK = r"^file_[A-Za-z0-9_-]+$"
_SCHEME = r"^[A-Za-z][A-Za-z0-9+.-]+://"
_SCHEME_OK = r"^[A-Za-z][A-Za-z0-9+.-]+://\S+$"
# "htp:/x", "http:/x", "s3:bucket": a scheme with one slash, or a well-known scheme without
# "//". A scheme needs 2+ characters, so "C:/docs" stays a (Windows) path.
_BROKEN_SCHEME = (
    r"(?i)^(?:[a-z][a-z0-9+.-]+:/(?:[^/]|$)"
    r"|(?:https?|s3a?|gs|gcs|az|abfss?|adl|file|ftp|sftp|hf|memory):)"
)


def to_polars(data: Any) -> pl.DataFrame:
    """Return ``data`` as a polars DataFrame (polars, LazyFrame, pandas or pyarrow input).

    >>> import pyarrow as pa
    >>> to_polars(pa.table({"file": ["https://x.test/a.pdf"]})).columns
    ['file']
    """
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    module = type(data).__module__
    if module.startswith("pandas"):
        try:
            import pandas as pd
        except ImportError as exc:
            raise InputError(
                "pandas input needs pandas: pip install 'extend-frames[pandas]'"
            ) from exc
        if isinstance(data, pd.DataFrame):
            converted: pl.DataFrame = pl.from_pandas(_index_as_columns(data))
            return converted
    if module.startswith("pyarrow"):
        import pyarrow as pa

        if isinstance(data, pa.Table | pa.RecordBatch):
            frame = pl.from_arrow(data)
            if isinstance(frame, pl.DataFrame):
                return frame
    raise InputError(
        f"cannot use a {type(data).__module__}.{type(data).__qualname__} as input; pass a "
        "polars DataFrame or LazyFrame, a pandas DataFrame, or a pyarrow Table or RecordBatch"
    )


def _index_as_columns(data: Any) -> Any:
    """A pandas frame with its named index (or any named MultiIndex level) as columns, so it
    comes back with the results; an unnamed index (e.g. the default RangeIndex) is dropped."""
    names = [str(n) for n in data.index.names if n is not None]
    if not names:
        return data
    clashes = [n for n in names if n in map(str, data.columns)]
    if clashes:
        raise InputError(
            f"the pandas index {clashes[0]!r} has the same name as the column {clashes[0]!r}; "
            f"rename one, e.g. df.rename_axis(index={{{clashes[0]!r}: 'index_{clashes[0]}'}}), "
            "or drop the index with df.reset_index(drop=True)"
        )
    return data.reset_index()


def classify_references(values: pl.Series, *, text: bool = False) -> pl.DataFrame:
    """Classify each value as a file reference; one output row per input row.

    Columns: ``kind`` ("url", "file_id", "fsspec", "path", "text", "null" or "invalid"),
    ``ref`` (the normalised reference: stripped; for paths ``~`` expanded and made absolute
    against the current directory) and ``error`` (why a "null"/"invalid" row cannot be sent,
    else null). With ``text=True`` every non-empty value is "text" and kept verbatim.

    >>> classify_references(pl.Series(["https://x.test/a.pdf", "file_abc", ""]))["kind"].to_list()
    ['url', 'file_id', 'invalid']
    """
    frame = pl.DataFrame({"v": values.cast(pl.String)})
    if text:
        return frame.select(_text_references(pl.col("v")))
    value = pl.col("v")
    stripped = value.str.strip_chars()
    return frame.with_columns(_reference_kind(value, stripped).alias("kind")).select(
        pl.col("kind"),
        pl.when(pl.col("kind") == "path")
        .then(_absolute_path(stripped))
        .when(pl.col("kind") == "null")
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(stripped)
        .alias("ref"),
        pl.when(pl.col("kind").is_in(["null", "invalid"]))
        .then(_reference_error(value, stripped))
        .alias("error"),
    )


def _text_references(value: pl.Expr) -> list[pl.Expr]:
    """kind/ref/error for raw text: every non-empty value is "text", kept verbatim."""
    blank = value.str.strip_chars() == ""
    return [
        pl.when(value.is_null())
        .then(pl.lit("null"))
        .when(blank)
        .then(pl.lit("invalid"))
        .otherwise(pl.lit("text"))
        .alias("kind"),
        value.alias("ref"),
        pl.when(value.is_null())
        .then(pl.lit("missing text (null)"))
        .when(blank)
        .then(pl.lit("empty text"))
        .alias("error"),
    ]


def _reference_kind(value: pl.Expr, stripped: pl.Expr) -> pl.Expr:
    return (
        pl.when(value.is_null())
        .then(pl.lit("null"))
        .when(stripped == "")
        .then(pl.lit("invalid"))
        .when(stripped.str.contains(_URL))
        .then(
            pl.when(stripped.str.contains(_URL_OK)).then(pl.lit("url")).otherwise(pl.lit("invalid"))
        )
        .when(stripped.str.contains(_FILE_ID))
        .then(
            pl.when(stripped.str.contains(_FILE_ID_OK))
            .then(pl.lit("file_id"))
            .otherwise(pl.lit("invalid"))
        )
        .when(stripped.str.contains(_SCHEME))
        .then(
            pl.when(stripped.str.contains(_SCHEME_OK))
            .then(pl.lit("fsspec"))
            .otherwise(pl.lit("invalid"))
        )
        .when(stripped.str.contains(_BROKEN_SCHEME))
        .then(pl.lit("invalid"))
        .otherwise(pl.lit("path"))
    )


def _reference_error(value: pl.Expr, stripped: pl.Expr) -> pl.Expr:
    """Why a "null"/"invalid" reference cannot be sent (in the order of _reference_kind)."""
    return (
        pl.when(value.is_null())
        .then(pl.lit("missing file reference (null)"))
        .when(stripped == "")
        .then(pl.lit("empty file reference"))
        .when(stripped.str.contains(_URL))
        .then(pl.lit("malformed URL: expected http(s)://host/path (no spaces, no user:password@)"))
        .when(stripped.str.contains(_FILE_ID))
        .then(
            pl.lit(
                "malformed Extend file id: expected file_ followed by letters, digits, _ or - "
                "(for a local file named like this, write ./file_...)"
            )
        )
        .when(stripped.str.contains(_SCHEME))
        .then(pl.lit("malformed URL: nothing after scheme://, or it contains spaces"))
        .otherwise(pl.lit("malformed URL: expected scheme://... (e.g. https://, s3://)"))
    )


def _absolute_path(stripped: pl.Expr) -> pl.Expr:
    """A local path with ``~`` expanded, made absolute against the current directory."""
    home = os.path.expanduser("~")
    expanded = stripped.str.replace(r"^~(/|\\|$)", home.replace("\\", "\\\\") + "$1")
    relative = pl.concat_str(pl.lit(os.getcwd()), pl.lit(os.sep), expanded.str.strip_prefix("./"))
    return pl.when(_is_absolute(expanded)).then(expanded).otherwise(relative)


def _is_absolute(path: pl.Expr) -> pl.Expr:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        return path.str.contains(r"^(?:[A-Za-z]:[\\/]|\\\\)")
    return path.str.starts_with("/")


def parse_processor(operation: str, processor: Any) -> tuple[str | None, str | None]:
    """Split a processor argument into ``(id, version)``; validate its kind for ``operation``.

    Accepts ``"ex_abc"``, ``"ex_abc@2.1"`` or ``("ex_abc", "2.1")``; parse takes none.

    >>> parse_processor("extract", "ex_abc@2.1")
    ('ex_abc', '2.1')
    """
    if operation not in OPERATIONS:
        raise InputError(f"unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}")
    if operation == "parse":
        if processor is not None:
            raise InputError(
                f"parse takes no processor (got {processor!r}); pass parse options as config=..."
            )
        return None, None
    prefixes = OPERATIONS[operation].processor_prefixes
    wanted = " or ".join(f"{p}..." for p in prefixes)
    if processor is None:
        raise InputError(f"{operation} needs processor=: an id like {wanted}")
    version: str | None
    if isinstance(processor, tuple):
        if len(processor) != 2 or not isinstance(processor[0], str):
            raise InputError(
                f"processor tuple must be (id, version), got {processor!r}; "
                f'e.g. ("{prefixes[0]}abc", "2.1")'
            )
        ident, version = processor
        if version is not None and not isinstance(version, str):
            raise InputError(f"processor version must be a string like '2.1', got {version!r}")
    elif isinstance(processor, str):
        ident, _, after = processor.strip().partition("@")
        version = after if "@" in processor else None
    else:
        raise InputError(
            f"processor must be an id string like '{prefixes[0]}abc' (optionally '@2.1') or an "
            f"(id, version) tuple, got {type(processor).__name__}"
        )
    if version is not None and not _VERSION.fullmatch(version):
        raise InputError(
            f"processor version {version!r} is not valid; use 'latest', 'draft' or a published "
            "version like '2.1'"
        )
    prefix = next((p for p in prefixes if ident.startswith(p)), None)
    if prefix is None:
        owner = processor_prefix_owner(ident)
        hint = ""
        if owner is not None:
            spec, is_version = owner
            what = f"{spec.kind_label} version" if is_version else spec.kind_label
            hint = f": it is {what} id" + (
                f"; use xf.{spec.name} for it"
                if spec.name != operation
                else "; pass the processor id and the version separately, e.g. (id, '2.1')"
            )
        raise InputError(f"{operation} needs a processor id like {wanted}, got {ident!r}{hint}")
    if not _ID_BODY.fullmatch(ident[len(prefix) :]):
        raise InputError(
            f"processor id {ident!r} is malformed: after {prefix} only letters, digits, _ and - "
            "may follow"
        )
    return ident, version


def validate(
    df: pl.DataFrame,
    *,
    operation: str,
    file_column: str | None,
    text_column: str | None = None,
    key: str | Sequence[str] | None = None,
    batch_size: int = MAX_BATCH_INPUTS,
    processor: Any = None,
) -> None:
    """Raise :class:`InputError` for any whole-frame problem, before a request is sent.

    At most one of ``file_column`` / ``text_column`` may be given (neither means ``"file"``).
    """
    parse_processor(operation, processor)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise InputError(
            f"batch_size must be an integer from 1 to {MAX_BATCH_INPUTS}, got {batch_size!r}"
        )
    if not 1 <= batch_size <= MAX_BATCH_INPUTS:
        raise InputError(
            f"batch_size must be from 1 to {MAX_BATCH_INPUTS} (Extend's limit per batch), "
            f"got {batch_size}"
        )
    column, what = document_column(file_column, text_column)
    if text_column is not None and operation == "split":
        raise InputError(
            "split does not accept text input (Extend rejects it); pass files with "
            "file_column=... (URLs, file ids or paths)"
        )
    if not df.columns:
        raise InputError(
            "the frame has no columns; it needs a file column (file_column=...) or "
            "text column (text_column=...)"
        )
    _require_column(df, column, what)
    dtype = df.schema[column]
    if not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise InputError(
            f"{what} {column!r} must hold strings, but its dtype is {dtype}; convert it, e.g. "
            f"df.with_columns(pl.col({column!r}).cast(pl.String))"
        )
    clashes = [c for c in df.columns if c in RESERVED_COLUMNS]
    if clashes:
        raise InputError(
            f"input column(s) {', '.join(map(repr, clashes))} clash with result columns "
            f"({', '.join(RESERVED_COLUMNS)}); rename them, e.g. "
            f"df.rename({{{clashes[0]!r}: 'input_{clashes[0]}'}})"
        )
    if df.height == 0:
        raise InputError("the input frame has no rows; nothing to process")
    if key is not None:
        _validate_key(df, key)


def document_column(file_column: str | None, text_column: str | None) -> tuple[str, str]:
    """The column holding the documents and its keyword: ``text_column`` when given, else
    ``file_column`` (``"file"`` when neither is given). Both given is an :class:`InputError`."""
    if file_column is not None and text_column is not None:
        raise InputError(
            f"file_column={file_column!r} and text_column={text_column!r} were both given; "
            f"drop file_column= to send the text of {text_column!r}, or drop text_column= to "
            f"send the files of {file_column!r}"
        )
    if text_column is not None:
        return text_column, "text_column"
    return (file_column if file_column is not None else "file"), "file_column"


def _require_column(df: pl.DataFrame, column: str, what: str) -> None:
    if column in df.columns:
        return
    close = difflib.get_close_matches(column, df.columns, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in df.columns}
        close = [lowered[column.lower()]] if column.lower() in lowered else []
    hint = f"; did you mean {close[0]!r}?" if close else f"; pass {what}=<one of those>"
    available = ", ".join(map(repr, df.columns[:20])) + (" ..." if df.width > 20 else "")
    raise InputError(f"{what} {column!r} is not a column; available: {available}{hint}")


def _key_columns(key: str | Sequence[str]) -> list[str]:
    columns = [key] if isinstance(key, str) else list(key)
    if not columns or not all(isinstance(c, str) for c in columns):
        raise InputError(f"key must be a column name or a list of column names, got {key!r}")
    return columns


def _validate_key(df: pl.DataFrame, key: str | Sequence[str]) -> None:
    columns = _key_columns(key)
    for column in columns:
        _require_column(df, column, "key column")
        if isinstance(df.schema[column], pl.List | pl.Array | pl.Struct | pl.Object):
            raise InputError(
                f"key column {column!r} has dtype {df.schema[column]}; a key must be made of "
                "scalar columns (strings, integers, dates...)"
            )
    frame = df.select(columns).with_row_index(ROW)
    nulls = frame.filter(pl.any_horizontal(pl.col(columns).is_null()))
    if nulls.height:
        raise InputError(
            f"key {_name(columns)} is null in {_rows(nulls)}; every row needs a key value "
            "(fill it, or leave key=None to derive keys from the file references)",
            rows=nulls.get_column(ROW).to_list(),
        )
    dupes = frame.filter(pl.struct(columns).is_duplicated())
    if dupes.height:
        raise InputError(
            f"key {_name(columns)} is not unique: {_rows(dupes)} share key values; make the "
            "key unique (add a column to it), or leave key=None to derive keys",
            rows=dupes.get_column(ROW).to_list(),
        )


def _name(columns: list[str]) -> str:
    return repr(columns[0]) if len(columns) == 1 else repr(columns)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def _rows(frame: pl.DataFrame) -> str:
    """'rows 3 ('a'), 7 ('a') and 12 more' for an error message (``__row`` + value columns)."""
    shown = []
    for record in frame.head(_SHOWN).iter_rows():
        row, *values = record
        value = values[0] if len(values) == 1 else tuple(values)
        shown.append(f"{row} ({_short(value)})")
    more = frame.height - len(shown)
    return (
        ("row " if frame.height == 1 else "rows ")
        + ", ".join(shown)
        + (f" and {more} more" if more else "")
    )


def row_keys(
    df: pl.DataFrame,
    key: str | Sequence[str] | None,
    *,
    reference_column: str | None = None,
) -> pl.Series:
    """One stable string key per row, the join key sent in each run's metadata.

    With ``key``, the key column's values as strings (several columns are joined
    unambiguously as ``len:value|len:value``). Without, a derived key
    ``<sha256 of the reference, 24 hex>-<occurrence>``: the occurrence counts identical
    references in input order, so the same input gives the same keys and reordering rows
    does not change a row's key. ``reference_column`` names the file/text column; if it is
    not given, the whole row (as JSON) stands in for the reference.

    >>> frame = pl.DataFrame({"f": ["a", "b", "a"]})
    >>> row_keys(frame, None, reference_column="f").str.slice(25).to_list()
    ['0', '0', '1']
    """
    if key is not None:
        columns = _key_columns(key)
        for column in columns:
            _require_column(df, column, "key column")
        parts = [pl.col(c).cast(pl.String) for c in columns]
        if len(parts) == 1:
            expr = parts[0]
        else:
            expr = pl.concat_str(
                [pl.concat_str(p.str.len_chars().cast(pl.String), pl.lit(":"), p) for p in parts],
                separator="|",
            )
        keys = df.select(expr.alias("key")).to_series()
        if keys.null_count():
            raise InputError(f"key {_name(columns)} has null values; fill them or leave key=None")
        return keys
    if reference_column is not None:
        _require_column(df, reference_column, "reference column")
        reference = df.get_column(reference_column).cast(pl.String)
    else:
        reference = df.select(pl.struct(pl.all()).struct.json_encode()).to_series()
    # Stable across processes and library versions (polars' own hash is not): sha256 per
    # distinct value, then the occurrence number among identical values.
    tagged = pl.DataFrame({"r": reference})
    digests = {v: _digest(v) for v in tagged.get_column("r").drop_nulls().unique().to_list()}
    digest = (
        pl.when(pl.col("r").is_null())
        .then(pl.lit(_digest(None)))
        .otherwise(pl.col("r").replace_strict(digests, return_dtype=pl.String, default=None))
    )
    return tagged.select(
        pl.concat_str(
            digest,
            pl.lit("-"),
            pl.int_range(pl.len()).over("r").cast(pl.String),
        ).alias("key")
    ).to_series()


def _digest(value: str | None) -> str:
    data = b"\x00null" if value is None else b"r:" + value.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:24]


def input_fingerprint(df: pl.DataFrame, column: str, keys: pl.Series) -> str:
    """sha256 over (key, reference) pairs, independent of row order.

    Stored in a job's manifest so resuming with different input is caught.
    """
    _require_column(df, column, "reference column")
    if keys.len() != df.height:
        raise InputError(f"{keys.len()} keys for {df.height} rows")
    pairs = pl.DataFrame(
        {"k": keys.cast(pl.String), "r": df.get_column(column).cast(pl.String)}
    ).sort("k")
    encoded = pairs.select(
        pl.concat_str(
            pl.col("k").str.len_bytes().cast(pl.String),
            pl.lit(":"),
            pl.col("k"),
            pl.when(pl.col("r").is_null())
            .then(pl.lit("N"))
            .otherwise(
                pl.concat_str(
                    pl.lit("S"),
                    pl.col("r").str.len_bytes().cast(pl.String),
                    pl.lit(":"),
                    pl.col("r"),
                )
            ),
        ).str.join("")
    ).item()
    digest = hashlib.sha256(b"extend_frames.input.v1\x00" + str(column).encode() + b"\x00")
    digest.update((encoded or "").encode("utf-8"))
    return digest.hexdigest()
