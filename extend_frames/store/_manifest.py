"""The manifest: what an output holds, so a rerun can tell "resume" from "another job".

``_manifest.json`` is plain JSON. The Arrow schema of the parts is kept under ``"schema"`` as
base64 of Arrow's IPC schema message (exact types, including nested structs and enums), and
under ``"schema_text"`` in a human-readable form that nothing reads back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from extend_frames._errors import StoreError

#: The fields that identify a job and that a call knows from its arguments and input alone
#: (before it resolves the processor version): a job's plan keeps exactly these.
JOB_FIELDS = ("operation", "processor_id", "config", "input_fingerprint", "batch_size")
#: Every field that decides whether an existing output is the same job (resume) or another
#: one (:func:`differences`): the job fields, the resolved processor version, and the
#: ``processor``/``schema`` a caller of the store may set.
IDENTITY_FIELDS = (*JOB_FIELDS, "processor", "processor_version", "schema")
FORMAT = 1


def encode_schema(schema: pa.Schema) -> str:
    """``schema`` as base64 text of its Arrow IPC serialisation (lossless)."""
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def decode_schema(text: str) -> pa.Schema:
    """The inverse of :func:`encode_schema`."""
    schema: pa.Schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))
    return schema


_SECRET_FIELDS = ("secret", "password", "api_key", "apikey", "authorization", "storage_options")


def encode_manifest(manifest: Mapping[str, Any]) -> bytes:
    """Manifest JSON bytes; a ``pa.Schema`` under ``"schema"`` is encoded for you.

    Top-level fields named like secrets (or ``storage_options``, which holds credentials) are
    refused: the manifest is written to the output path in clear.
    """
    risky = [k for k in manifest if any(w in str(k).lower() for w in _SECRET_FIELDS)]
    if risky:
        raise StoreError(
            f"manifest field {risky[0]!r} may hold credentials and would be written in clear "
            "to the output path; leave it out of the manifest."
        )
    body = dict(manifest)
    body.setdefault("format", FORMAT)
    schema = body.get("schema")
    if isinstance(schema, pa.Schema):
        body["schema"] = encode_schema(schema)
        body["schema_text"] = schema.to_string(show_schema_metadata=False)
    try:
        return json.dumps(body, indent=2, sort_keys=True, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"the manifest is not plain JSON ({exc}); pass str/int/float/bool/None, lists, "
            "dicts and a pa.Schema under 'schema' only."
        ) from None


def normalise(expected: Mapping[str, Any]) -> dict[str, Any]:
    """``expected`` as it reads back from JSON (tuples become lists, schemas base64)."""
    return dict(json.loads(encode_manifest(expected)))


def differences(stored: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Descriptions of each identity field that ``expected`` sets and ``stored`` differs on."""
    want = normalise(expected)
    out: list[str] = []
    for field in IDENTITY_FIELDS:
        if field not in want or stored.get(field) == want[field]:
            continue
        have = stored.get(field)
        if field == "schema" and _same_schema(have, want[field]):
            continue  # only the schema metadata differs
        if field == "schema":
            out.append(f"schema ({_schema_diff(have, want[field])})")
        elif isinstance(have, dict) and isinstance(want[field], dict):
            keys = sorted(
                k for k in set(have) | set(want[field]) if have.get(k) != want[field].get(k)
            )
            out.append(f"{field} (keys differ: {', '.join(map(str, keys))})")
        else:
            out.append(f"{field} (output has {_short(have)}, this call has {_short(want[field])})")
    return out


def _same_schema(a: Any, b: Any) -> bool:
    if not (isinstance(a, str) and isinstance(b, str)):
        return False
    same: bool = decode_schema(a).equals(decode_schema(b), check_metadata=False)
    return same


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_diff(have: Any, want: Any) -> str:
    if not isinstance(have, str):
        return "the output has no schema recorded"
    a, b = decode_schema(have), decode_schema(want)
    names = [f.name for f in a if f.name not in b.names or b.field(f.name).type != f.type]
    names += [n for n in b.names if n not in a.names]
    return "columns differ: " + ", ".join(sorted(set(names))) if names else "column order differs"
