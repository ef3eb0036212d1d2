"""Column names: the result columns users see, and the internal ones a job carries.

One module, so that a name is spelled once. Lowest layer (standard library only); the store
knows none of these: it is handed the row column where it needs one.

>>> ROW, STATUS_VALUES[0]
('__row', 'PROCESSED')
"""

from __future__ import annotations

__all__ = [
    "BATCH_ID",
    "CACHED",
    "CHUNK",
    "CREDITS",
    "DECODED_COLUMNS",
    "ERROR",
    "INTERNAL_COLUMNS",
    "JOB_ID",
    "JOB_TIME",
    "KEY",
    "KIND",
    "POSSIBLE_DUPLICATE",
    "REF",
    "RESULT_COLUMNS",
    "ROW",
    "RUN_ID",
    "STATUS",
    "STATUS_VALUES",
    "UNIT",
]

# -- the columns a lakehouse table adds (table=, extend_frames/tables) -------------------------
JOB_ID = "extend_job_id"  # the job that wrote the row (append: a history table)
JOB_TIME = "extend_job_time"  # when that job started (UTC): merge keeps the newest per key

# -- the result columns (what every operation adds to the input rows) -------------------------
RUN_ID = "run_id"
BATCH_ID = "batch_id"
STATUS = "status"
CREDITS = "credits"
CACHED = "cached"  # True: the row's result came from the result cache (cache=), credits 0
#: True when more than one run exists for the row: a create-POST whose outcome was unknown
#: committed after the row was submitted again (the row may have been paid twice).
POSSIBLE_DUPLICATE = "possible_duplicate"

#: Columns the result frame adds, in order; an input column with one of these names would be
#: shadowed, so validation refuses it.
RESULT_COLUMNS = (
    RUN_ID,
    BATCH_ID,
    STATUS,
    "failure_reason",
    "failure_message",
    "output",
    "output_confidence",  # extract only
    CREDITS,
    "file_id",
    "created_at",
    "updated_at",
    CACHED,
    POSSIBLE_DUPLICATE,
)

#: The columns the run decoder returns, in order (no batch_id: the engine adds it; the
#: metadata columns carry the job id and the unit key a run was submitted with).
DECODED_COLUMNS = (
    RUN_ID,
    STATUS,
    "failure_reason",
    "failure_message",
    "metadata_job",
    "metadata_row",
    "output",
    "output_confidence",
    CREDITS,
    "file_id",
    "created_at",
    "updated_at",
)

#: Every status a row can end with. Unknown statuses from a newer API become FAILED with the
#: original kept in failure_reason, so the column's dtype never changes.
STATUS_VALUES = ("PROCESSED", "FAILED", "CANCELLED", "PENDING", "PROCESSING")

# -- internal columns (kept in the stored input and parts, dropped from results) --------------
ROW = "__row"  # the row's position in the input: results read back in input order
KEY = "__key"  # the row key (the user's key, or derived from the reference)
KIND = "__kind"  # the reference kind: url | file_id | fsspec | path | text | null | invalid
REF = "__ref"  # the normalised reference
ERROR = "__error"  # why the reference is invalid (None when valid)
UNIT = "__unit"  # the key of the unit (distinct document) the row shares
CHUNK = "__chunk"  # the batch the row's unit is planned into

INTERNAL_COLUMNS = (KEY, KIND, REF, ERROR, UNIT, CHUNK)
