"""The table schema of a job's rows, and what a table can follow when it changes.

A job's parts carry polars' Arrow types: dictionaries for enums (``status``, an extract
field with ``enum``), large or view strings and lists. Table formats have none of those, so
:func:`table_schema` maps each to its nearest plain type (a dictionary to its value type, a
large/view string to ``string``, a large list to ``list``, a null-typed column to ``string``)
and drops field metadata. Structs, lists, dates and UTC timestamps stay as they are.

:func:`check_evolution` compares the table's schema with a job's: a new column or struct field
is an evolution both formats follow; a field whose type changed is refused (``TableError``
naming the field and the ways out) before anything is written.

>>> import pyarrow as pa
>>> table_schema(pa.schema([("s", pa.dictionary(pa.int32(), pa.large_string()))]))
s: string
>>> old, new = pa.schema([("a", pa.int64())]), pa.schema([("a", pa.string())])
>>> check_evolution(old, new, "t")  # doctest: +ELLIPSIS
Traceback (most recent call last):
extend_frames._errors.TableError: the table t has a column 'a' of type int64, ...
"""

from __future__ import annotations

import pyarrow as pa

from extend_frames._errors import TableError

__all__ = ["adds_fields", "check_evolution", "conform", "table_schema", "table_type"]


def table_type(dtype: pa.DataType) -> pa.DataType:
    """The nearest type every table format has (see the module docstring)."""
    if pa.types.is_dictionary(dtype):
        return table_type(dtype.value_type)
    if pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype) or pa.types.is_null(dtype):
        return pa.string()
    if pa.types.is_large_binary(dtype) or pa.types.is_binary_view(dtype):
        return pa.binary()
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_list_view(dtype):
        return pa.list_(_field(dtype.value_field))
    if pa.types.is_large_list_view(dtype) or pa.types.is_fixed_size_list(dtype):
        return pa.list_(_field(dtype.value_field))
    if pa.types.is_struct(dtype):
        return pa.struct([_field(dtype.field(i)) for i in range(dtype.num_fields)])
    if pa.types.is_map(dtype):
        return pa.map_(table_type(dtype.key_type), _field(dtype.item_field))
    return dtype


def _field(f: pa.Field) -> pa.Field:
    return pa.field(f.name, table_type(f.type), nullable=f.nullable)


def table_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every type mapped by :func:`table_type`, without field metadata."""
    return pa.schema([_field(f) for f in schema])


def conform(table: pa.Table) -> pa.Table:
    """``table`` cast to :func:`table_schema` (values unchanged)."""
    target = table_schema(table.schema)
    return table if table.schema == target else table.cast(target)


def check_evolution(current: pa.Schema, new: pa.Schema, display: str) -> None:
    """Refuse a column or struct field of ``new`` whose type differs from ``current``'s
    (both in table types); added columns and fields are fine."""
    _check(table_schema(current), table_schema(new), "", display)


def adds_fields(current: pa.Schema, new: pa.Schema) -> bool:
    """Whether ``new`` has a column or (nested) struct field that ``current`` lacks."""
    return _adds(table_schema(current).types, table_schema(current).names, new)


def _adds(types: list[pa.DataType], names: list[str], new: pa.Schema | pa.StructType) -> bool:
    have = dict(zip(names, types, strict=True))
    for f in new:
        old = have.get(f.name)
        if old is None:
            return True
        a, b = old, f.type
        if pa.types.is_list(a) and pa.types.is_list(b):
            a, b = a.value_type, b.value_type
        nested = pa.types.is_struct(a) and pa.types.is_struct(b)
        if nested and _adds([x.type for x in a], [x.name for x in a], b):
            return True
    return False


def _check(
    current: pa.Schema | pa.StructType, new: pa.Schema | pa.StructType, at: str, display: str
) -> None:
    have = {f.name: f.type for f in current}
    for f in new:
        old = have.get(f.name)
        if old is None or old == f.type:
            continue
        name = f"{at}{f.name}"
        if pa.types.is_struct(old) and pa.types.is_struct(f.type):
            _check(old, f.type, f"{name}.", display)
        elif pa.types.is_list(old) and pa.types.is_list(f.type):
            _check_list(old, f.type, name, display)
        else:
            _refuse(name, old, f.type, display)


def _check_list(old: pa.ListType, new: pa.ListType, name: str, display: str) -> None:
    a, b = old.value_type, new.value_type
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        _check(a, b, f"{name}[].", display)
    elif a != b:
        _refuse(f"{name}[]", a, b, display)


def _refuse(name: str, old: pa.DataType, new: pa.DataType, display: str) -> None:
    where = "column" if "." not in name and "[]" not in name else "field"
    raise TableError(
        f"the table {display} has a {where} {name!r} of type {old}, but this job writes it as "
        f"{new} (the processor's schema changed the field's type); no table format can change "
        "a type in place. Nothing was written. Publish to a new table (or a new column name in "
        "the processor), or rewrite the table with the new type yourself, then rerun",
        path=display,
    )
