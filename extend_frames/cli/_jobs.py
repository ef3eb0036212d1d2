"""``extend-frames parse|extract|classify|split|status``: the library for ETL scripts.

Each job reads a table (CSV, Parquet or NDJSON, local or any fsspec URL) or a glob of files,
runs one operation through the public API into ``--output`` (Parquet parts, resumable), prints
a short summary and exits with a code a scheduler can act on (see ``cli/_exit.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from extend_frames._errors import InputError
from extend_frames._operations import MAX_BATCH_INPUTS, OPERATIONS
from extend_frames.api._models import NON_TERMINAL
from extend_frames.cli._command import add_command
from extend_frames.cli._exit import (
    EXIT_ERROR,
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_ROWS_FAILED,
    EXIT_USAGE,
    JOB_CODES_HELP,
    UsageError,
    codes_help,
    outcome_code,
)
from extend_frames.frames import TABLE_FORMATS as _FORMATS

_PLANS = ("payg", "scale", "enterprise")
_T = TypeVar("_T")

_EXAMPLES = {
    "parse": """\
examples:
  extend-frames parse --glob 'docs/*.pdf' --output out/parsed/
  extend-frames parse files.csv --file-column url --output s3://lake/parsed/ \\
      --storage-option profile=etl --config '{"target": "markdown"}'""",
    "extract": """\
examples:
  extend-frames extract invoices.csv --processor ex_abc123 --file-column url \\
      --key invoice_id --output out/invoices/
  extend-frames extract --glob 's3://inbox/2026-*/*.pdf' --processor ex_abc123@2.1 \\
      --output s3://lake/invoices/ --rate-limit scale
  # rerun the same command after a crash: finished batches are not sent again
  # every day: pay only for new documents, give up waiting after an hour (exit 4), collect later
  extend-frames extract today.csv --processor ex_abc123 --cache s3://lake/extend-cache/ \
      --output s3://lake/runs/2026-12-01/ --max-wait 3600
  extend-frames collect s3://lake/runs/2026-12-01/""",
    "classify": """\
examples:
  extend-frames classify docs.parquet --processor cl_abc123 --output out/types/
  extend-frames classify notes.ndjson --text-column body --processor cl_abc123 \\
      --output out/types/""",
    "split": """\
examples:
  extend-frames split --glob 'packets/*.pdf' --processor spl_abc123 --output out/splits/
  extend-frames split packets.csv --processor spl_abc123 --wait webhook \\
      --webhook-port 8080 --webhook-public-url https://hooks.example.com --output out/splits/""",
}

_DESCRIPTIONS = {
    "parse": "Parse every document into markdown and page chunks.",
    "extract": "Extract typed fields from every document with an extractor (ex_...).",
    "classify": "Classify every document with a classifier (cl_...).",
    "split": "Split every multi-document file into its parts with a splitter (spl_...).",
}


_JOB_HELP = """Reads a table of file references (or a glob of files), writes Parquet results
to --output and prints a summary. Rerunning the same command resumes: nothing already
collected is sent again."""

_COLLECT_HELP = """finish a job submitted with --detach or stopped by --max-wait

Wait for the batches of the job kept at OUTPUT, collect them and print the summary. Only the
path is needed: the job's input rows, processor and config were kept there, so a scheduler
can submit in one task and collect in a later one.
"""
_COLLECT_EXAMPLES = """\
examples:
  extend-frames extract docs.csv --processor ex_abc --output out/ --detach
  extend-frames collect out/ --max-wait 3600"""

_STATUS_HELP = """what a job's output folder says: batches, rows by status, credits

Summarise a job's output from its manifest, ledger and Parquet parts (read-only, no API
calls, safe while the job runs).
"""
_STATUS_EXAMPLES = """\
examples:
  extend-frames status out/invoices/
  extend-frames status s3://lake/invoices/ --json"""


def register(subparsers: Any) -> None:
    for operation in OPERATIONS:
        _register_job(subparsers, operation)
    _register_collect(subparsers)
    _register_status(subparsers)


def _register_job(subparsers: Any, operation: str) -> None:
    what = _DESCRIPTIONS[operation]
    doc = f"{what.rstrip('.').lower()}\n\n{what} {_JOB_HELP}"
    p = add_command(subparsers, operation, doc, _EXAMPLES[operation] + "\n\n" + JOB_CODES_HELP)
    src = p.add_argument_group("input (a table, or --glob)")
    src.add_argument(
        "input",
        nargs="?",
        metavar="INPUT",
        help="CSV, Parquet or NDJSON table: a local path or fsspec URL (s3://, gs://, ...)",
    )
    src.add_argument(
        "--format", choices=_FORMATS, help="format of INPUT (default: from its extension)"
    )
    src.add_argument(
        "--glob",
        metavar="PATTERN",
        help="instead of INPUT: one row per matching file (local or fsspec, ** recurses)",
    )
    src.add_argument(
        "--file-column",
        help="column holding URLs, file_... ids, local paths or fsspec URLs (default: file)",
    )
    if operation != "split":
        src.add_argument("--text-column", help="send this column's raw text instead of files")
    src.add_argument(
        "--key",
        action="append",
        metavar="COLUMN",
        help="column that identifies a row (repeatable; default: derived from the reference)",
    )
    job = p.add_argument_group("job")
    if operation == "parse":
        job.add_argument("--config", help="parse config as JSON, or @path/to/config.json")
    else:
        job.add_argument(
            "--processor",
            required=True,
            metavar="ID[@VERSION]",
            help="processor id, optionally pinned to a version (ex_abc@2.1)",
        )
    job.add_argument(
        "--output",
        required=True,
        metavar="DIR",
        help="where the results go (Parquet parts + ledger; local path or fsspec URL)",
    )
    job.add_argument(
        "--mode",
        choices=("resume", "overwrite", "retry"),
        default="resume",
        help="resume (default) continues a job in DIR; overwrite starts again; retry resumes, "
        "then submits once more the rows that failed for a reason that can change",
    )
    job.add_argument(
        "--batch-size",
        type=int,
        default=MAX_BATCH_INPUTS,
        help=f"documents per batch (1-{MAX_BATCH_INPUTS}, default {MAX_BATCH_INPUTS})",
    )
    job.add_argument("--priority", type=int, help="Extend batch priority (1-100)")
    job.add_argument(
        "--max-credits",
        type=float,
        metavar="CREDITS",
        help="spending cap: no batch is started whose estimated cost (from the credits "
        "observed in this job) would take the job past it; the rest stay PENDING (exit 4); "
        "rerun with a higher cap to continue",
    )
    add_report_options(job, "print the summary as one JSON object", progress=True)
    _add_storage_options(job)
    _add_cache_options(job)
    _add_route_option(job)
    add_table_arguments(p.add_argument_group("lakehouse table"))
    _add_wait_options(p)
    _add_api_options(p)
    p.set_defaults(func=_run_job, operation=operation)


def _add_wait_options(p: argparse.ArgumentParser) -> None:
    wait = p.add_argument_group("waiting")
    wait.add_argument(
        "--wait",
        choices=("poll", "webhook"),
        default="poll",
        help="poll (default) or wait on Extend's signed webhooks (needs a reachable URL)",
    )
    wait.add_argument("--webhook-host", default="127.0.0.1", help="receiver bind address")
    wait.add_argument("--webhook-port", type=int, default=0, help="receiver port (0: any free)")
    wait.add_argument(
        "--webhook-public-url", help="the URL Extend posts to (e.g. a tunnel to the receiver)"
    )
    _add_bounded_wait(wait)
    _add_poll_options(wait)


def _add_poll_options(group: Any) -> None:
    """--poll-initial and --poll-max: one definition for every command that polls."""
    group.add_argument(
        "--poll-initial", type=float, default=2.0, help="first poll delay, seconds (default 2)"
    )
    group.add_argument(
        "--poll-max", type=float, default=30.0, help="longest poll delay, seconds (default 30)"
    )


def _polling(args: argparse.Namespace) -> Any:
    """The ``xf.Polling`` the poll flags describe (``--poll-max`` at least ``--poll-initial``)."""
    import extend_frames as xf

    return xf.Polling(initial=args.poll_initial, maximum=max(args.poll_max, args.poll_initial))


def add_max_wait(group: Any, help: str) -> None:
    """--max-wait SECONDS: one definition (checked by :func:`max_wait`), each command's help."""
    group.add_argument("--max-wait", type=float, metavar="SECONDS", help=help)


def max_wait(args: argparse.Namespace) -> float | None:
    """``--max-wait``, refused (exit 2) when negative or NaN."""
    seconds: float | None = args.max_wait
    if seconds is not None and not seconds >= 0:
        raise UsageError(f"--max-wait must be >= 0 seconds, got {seconds:g}")
    return seconds


def add_report_options(group: Any, json_help: str, *, progress: bool) -> None:
    """--json (and --no-progress where a command shows a progress bar)."""
    if progress:
        group.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    group.add_argument("--json", action="store_true", help=json_help)


def _add_route_option(job: Any) -> None:
    """--route: the ``route`` option (single-run endpoints or batches)."""
    job.add_argument(
        "--route",
        choices=("auto", "batch", "single"),
        default="auto",
        help="auto (default): small jobs use single-run endpoints, larger ones batches; "
        "batch: always batches; single: one create call per document",
    )


def add_cache_argument(parser: Any, help: str) -> None:
    """``--cache URL``: one definition for every command that reads or fills the cache."""
    parser.add_argument("--cache", metavar="URL", help=help)


def _add_cache_options(job: Any) -> None:
    """The options of a job run every day: the cache and a plan before paying."""
    add_cache_argument(
        job,
        "result cache shared across jobs (folder or fsspec URL): documents it holds a "
        "result for (same processor version and config) are not sent or paid again",
    )
    job.add_argument(
        "--cache-key",
        metavar="COLUMN",
        help="with --cache: a column you vouch for (ETag, content hash) instead of the digest",
    )
    job.add_argument(
        "--dry-run",
        action="store_true",
        help="print what the job would send and cost (no run or batch request) and exit",
    )


def add_table_arguments(group: Any) -> None:
    """``--table`` and its options: one definition for every command that publishes."""
    group.add_argument(
        "--table",
        metavar="TABLE",
        help="also publish each collected batch, once, to a lakehouse table: delta:PATH_OR_URI "
        "(Delta Lake) or iceberg:CATALOG/NAMESPACE.TABLE (a catalog configured for pyiceberg)",
    )
    group.add_argument(
        "--table-mode",
        choices=("append", "merge"),
        default="append",
        help="append (default): every run's rows, with extend_job_id/extend_job_time; merge: "
        "one current row per key (--merge-on; default: the job's key, run_id for collect-batch)",
    )
    group.add_argument(
        "--merge-on", action="append", metavar="COLUMN", help="with --table-mode merge (repeatable)"
    )
    group.add_argument(
        "--table-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="delta-rs storage option for a delta: --table (repeatable), e.g. AWS_REGION=eu-west-1",
    )


def table_target(args: argparse.Namespace) -> Any:
    """The ``table=`` of ``--table`` and its options (None without ``--table``)."""
    if args.table is None:
        if args.merge_on or args.table_option or args.table_mode != "append":
            raise InputError("--table-mode, --merge-on and --table-option need --table")
        return None
    from extend_frames.tables import parse_table_uri

    options = {k: str(v) for k, v in (storage_options(args.table_option) or {}).items()}
    return parse_table_uri(
        args.table,
        storage_options=options or None,
        mode=args.table_mode,
        merge_on=args.merge_on,
    )


def _add_bounded_wait(wait: Any) -> None:
    """--max-wait and --detach: return before every batch is done (exit 4), collect later."""
    add_max_wait(
        wait,
        "return after at most this long; unfinished rows stay PENDING (exit 4): rerun "
        "the command or `extend-frames collect DIR` later",
    )
    wait.add_argument(
        "--detach",
        action="store_true",
        help="submit every batch and return at once (= --max-wait 0); collect later",
    )


def _add_storage_options(group: Any, paths: str = "INPUT/--glob and --output") -> None:
    """--storage-option; ``paths`` names the paths it applies to, in that command's words."""
    group.add_argument(
        "--storage-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"fsspec storage option for {paths} (repeatable; "
        "values true/false/numbers are converted)",
    )


def _add_api_options(p: argparse.ArgumentParser) -> None:
    api = p.add_argument_group("Extend API")
    api.add_argument(
        "--api-key-env",
        default="EXTEND_API_KEY",
        metavar="NAME",
        help="environment variable holding the API key (default EXTEND_API_KEY)",
    )
    api.add_argument("--base-url", help="API URL (default: EXTEND_BASE_URL, else by --region)")
    api.add_argument("--region", choices=("us", "us2", "eu1"), help="Extend region (default us)")
    api.add_argument(
        "--workspace-id", help="workspace to act in (default: EXTEND_WORKSPACE_ID if set)"
    )
    api.add_argument(
        "--rate-limit",
        default="payg",
        metavar="PLAN|N",
        help="payg (default, 10/s), scale (25/s), enterprise (75/s), or N requests/s",
    )


def _register_collect(subparsers: Any) -> None:
    p = add_command(
        subparsers, "collect", _COLLECT_HELP, _COLLECT_EXAMPLES + "\n\n" + JOB_CODES_HELP
    )
    p.add_argument("output", metavar="OUTPUT", help="the job's output folder (path or fsspec URL)")
    job = p.add_argument_group("job")
    add_cache_argument(
        job, "the result cache to add results to (default: the one the job was started with)"
    )
    add_report_options(job, "print the summary as one JSON object", progress=True)
    _add_storage_options(job, "OUTPUT")
    wait = p.add_argument_group("waiting")
    add_max_wait(
        wait, "return after at most this long; rows still PENDING exit 4 (collect again later)"
    )
    _add_poll_options(wait)
    add_table_arguments(p.add_argument_group("lakehouse table"))
    _add_api_options(p)
    p.set_defaults(func=_collect)


def _collect(args: argparse.Namespace) -> int:
    import extend_frames as xf

    seconds, started = max_wait(args), time.monotonic()
    out = with_client(
        args,
        lambda client: xf.collect(
            args.output,
            client=client,
            storage_options=storage_options(args.storage_option),
            max_wait=seconds,
            cache=args.cache,
            progress=not args.no_progress,
            polling=_polling(args),
            lazy=True,
            table=table_target(args),
        ),
    )
    return _report_job(args, "collect", out, time.monotonic() - started)


def _register_status(subparsers: Any) -> None:
    codes = codes_help(EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ROWS_FAILED, EXIT_INCOMPLETE)
    p = add_command(subparsers, "status", _STATUS_HELP, _STATUS_EXAMPLES + "\n\n" + codes)
    p.add_argument("output", metavar="OUTPUT", help="the job's output folder (path or fsspec URL)")
    add_report_options(p, "print one JSON object", progress=False)
    _add_storage_options(p, "OUTPUT")
    p.set_defaults(func=_status)


# -- helpers ---------------------------------------------------------------------------------


def storage_options(items: list[str]) -> dict[str, Any] | None:
    """``["anon=true", "endpoint_url=http://..."]`` -> ``{"anon": True, ...}`` (None if empty)."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--storage-option expects KEY=VALUE, got {key or item!r}")
        options[key] = _scalar(value)
    return options or None


def _scalar(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def read_table(
    source: str, *, format: str | None = None, storage_options: Mapping[str, Any] | None = None
) -> Any:
    """Read the input table (polars DataFrame) from a local path or fsspec URL."""
    from extend_frames.frames import read_table as read

    return read(source, format=format, storage_options=storage_options, format_hint="--format")


def glob_files(
    pattern: str, *, column: str = "file", storage_options: Mapping[str, Any] | None = None
) -> Any:
    """One row per file matching ``pattern`` (sorted), in column ``column``."""
    from extend_frames.frames import glob_files as glob

    return glob(pattern, column=column, storage_options=storage_options, pattern_hint="--glob")


def _client(args: argparse.Namespace) -> Any:
    import extend_frames as xf

    key = os.environ.get(args.api_key_env)
    if not key:
        raise InputError(
            f"no API key: set the {args.api_key_env} environment variable "
            "(or name another one with --api-key-env)"
        )
    limits: Any = args.rate_limit
    if limits not in _PLANS:
        try:
            rate = float(limits)
        except ValueError:
            raise InputError(
                f"--rate-limit must be payg, scale, enterprise or a number, got {limits!r}"
            ) from None
        limits = xf.RateLimits(get=rate, write=rate, run=rate)
    return xf.Client(
        key,
        base_url=args.base_url,
        region=args.region,
        workspace_id=args.workspace_id or os.environ.get("EXTEND_WORKSPACE_ID") or None,
        rate_limits=limits,
    )


def with_client(args: argparse.Namespace, call: Callable[[Any], _T]) -> _T:
    """``call(client)`` with the client the API flags describe, closed afterwards."""
    client = _client(args)
    try:
        return call(client)
    finally:
        client.close()


def _parse_config(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    raw = text
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as fh:
                raw = fh.read()
        except OSError as exc:
            raise InputError(f"cannot read --config file {text[1:]}: {exc.strerror}") from None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"--config is not valid JSON ({exc.msg} at {exc.pos})") from None
    if isinstance(value, dict):
        return value
    raise InputError("--config must be a JSON object")


# -- the commands ----------------------------------------------------------------------------


def _run_job(args: argparse.Namespace) -> int:
    return _job(args, args.operation)


def _job(args: argparse.Namespace, operation: str) -> int:

    import extend_frames as xf

    if (args.input is None) == (args.glob is None):
        raise UsageError("give either INPUT (a table) or --glob PATTERN (files), not both")
    if not 1 <= args.batch_size <= MAX_BATCH_INPUTS:
        raise UsageError(
            f"--batch-size must be between 1 and {MAX_BATCH_INPUTS}, got {args.batch_size}"
        )
    seconds = max_wait(args)
    if args.cache_key is not None and args.cache is None:
        raise UsageError("--cache-key needs --cache URL (the cache whose entries it keys)")
    if args.max_credits is not None and not args.max_credits >= 0:
        raise UsageError(f"--max-credits must be >= 0, got {args.max_credits:g}")
    options = storage_options(args.storage_option)
    text_column: str | None = getattr(args, "text_column", None)
    frame = _input_frame(args, text_column, options)
    client = _client(args)
    receiver = None
    if args.wait == "webhook":
        receiver = xf.WebhookReceiver(
            host=args.webhook_host, port=args.webhook_port, public_url=args.webhook_public_url
        )
    key = args.key[0] if args.key and len(args.key) == 1 else args.key
    common: dict[str, Any] = {
        "file_column": args.file_column,
        "text_column": text_column,
        "key": key,
        "output": args.output,
        "storage_options": options,
        "batch_size": args.batch_size,
        "wait": args.wait,
        "webhook": receiver,
        "progress": not args.no_progress,
        "mode": args.mode,
        "route": args.route,
        "polling": _polling(args),
        "priority": args.priority,
        "client": client,
        "cache": args.cache,
        "cache_key": args.cache_key,
        "max_wait": seconds,
        "detach": args.detach,
        "lazy": True,
        "table": table_target(args),
    }
    if args.max_credits is not None:  # the max_credits= option (the engine's spending cap)
        common["max_credits"] = args.max_credits
    started = time.monotonic()
    try:
        if args.dry_run:
            return _dry_run(args, frame, operation, common)
        if operation == "parse":
            out = xf.parse(frame, config=_parse_config(args.config), **common)
        else:
            fn = {"extract": xf.extract, "classify": xf.classify, "split": xf.split}[operation]
            out = fn(frame, processor=args.processor, **common)
    finally:
        if receiver is not None:
            receiver.stop()
        client.close()
    return _report_job(args, operation, out, time.monotonic() - started)


def _input_frame(
    args: argparse.Namespace, text_column: str | None, options: dict[str, Any] | None
) -> Any:
    """The job's input rows: INPUT read as a table, or one row per --glob match."""
    if args.glob is not None:
        if text_column is not None:
            raise UsageError("--text-column needs a table INPUT, not --glob")
        return glob_files(args.glob, column=args.file_column or "file", storage_options=options)
    return read_table(args.input, format=args.format, storage_options=options)


def _dry_run(args: argparse.Namespace, frame: Any, operation: str, common: dict[str, Any]) -> int:
    """--dry-run: the plan of the job (``xf.plan``), printed; nothing is submitted."""
    import dataclasses

    import extend_frames as xf

    for name in ("webhook", "wait", "progress", "polling", "max_wait", "detach", "lazy"):
        common.pop(name)
    extra: dict[str, Any] = {"processor": getattr(args, "processor", None)}
    if operation == "parse":
        extra["config"] = _parse_config(args.config)
    plan = xf.plan(frame, operation, **extra, **common)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(dataclasses.asdict(plan), sort_keys=True, default=str))
    else:
        print(plan)
    return EXIT_OK


def _report_job(args: argparse.Namespace, operation: str, out: Any, seconds: float) -> int:
    """Print the job's summary (text or --json); return its exit code."""
    import polars as pl

    import extend_frames as xf
    from extend_frames.frames import display_path

    # ``out`` is a LazyFrame over the stored parts (lazy=True): these read two or three
    # columns, the result frame is never assembled.
    summary = xf.summarize(out)
    reasons = (
        out.lazy()
        .select("failure_reason")
        .filter(pl.col("failure_reason").is_not_null())
        .group_by("failure_reason")
        .len()
        .sort(["len", "failure_reason"], descending=[True, False])
        .collect()
    )
    pending = sum(summary.by_status.get(s, 0) for s in NON_TERMINAL)
    code = outcome_code(summary.by_status)
    capped = pending if summary.capped else 0  # the engine's signal: max_credits held rows
    shown = display_path(args.output)
    if args.json:
        print(
            json.dumps(
                {
                    "operation": operation,
                    "output": shown,
                    "complete": not pending,
                    "rows": summary.rows,
                    "by_status": summary.by_status,
                    "failure_reasons": {str(r): int(n) for r, n in reasons.iter_rows()},
                    "credits": summary.credits,
                    "cached": summary.cached,
                    "possible_duplicates": summary.possible_duplicates,
                    "capped": summary.capped,
                    "capped_rows": capped,
                    "spent": summary.spent,
                    "seconds": round(seconds, 3),
                    "exit_code": code,
                },
                sort_keys=True,
            )
        )
        return code
    by = ", ".join(f"{n} {s}" for s, n in sorted(summary.by_status.items()))
    hits = f", {summary.cached} from the cache" if summary.cached else ""
    print(
        f"{operation}: {summary.rows} rows ({by}){hits}, {summary.credits:g} credits, "
        f"{seconds:.1f} s"
    )
    if capped:
        print(
            f"the spending cap (--max-credits {args.max_credits:g}) stopped the job: "
            f"{summary.spent or 0:g} credits spent; {capped} rows not submitted (PENDING). Rerun "
            "the same command with a higher --max-credits to continue (nothing is sent twice)"
        )
    if pending > capped:
        print(
            f"{pending - capped} rows still pending: extend-frames collect {shown} (or rerun) later"
        )
    if summary.possible_duplicates:
        print(
            f"warning: {summary.possible_duplicates} row(s) may have been paid twice (a late "
            "commit after a resubmission): see the possible_duplicate column"
        )
    if reasons.height:
        top = ", ".join(f"{n} {r}" for r, n in reasons.head(5).iter_rows())
        print(f"failure reasons: {top}")
    print(f"results: {shown}  (extend-frames status {shown}; xf.read_results(...))")
    return code


def _status(args: argparse.Namespace) -> int:
    from extend_frames.frames import job_status

    options = storage_options(args.storage_option)
    summary = job_status(
        args.output, storage_options=options, missing_hint="run the job command with --output"
    )
    by_status = summary.rows_by_status or {}
    code = outcome_code(by_status, complete=summary.complete)
    if args.json:
        state: Literal["complete", "incomplete"] = "complete" if summary.complete else "incomplete"
        print(
            json.dumps(
                {
                    "output": summary.path,
                    "state": state,
                    "complete": summary.complete,
                    "operation": summary.operation,
                    "processor": summary.processor,
                    "processor_version": summary.processor_version,
                    "job_id": summary.job_id,
                    "batches_total": summary.chunks_total,
                    "batches_by_state": summary.batches_by_state,
                    "parts": summary.parts,
                    "rows": summary.rows,
                    "by_status": by_status,
                    "credits": summary.credits,
                    "locked_by": summary.lock.describe() if summary.lock else None,
                    "exit_code": code,
                },
                sort_keys=True,
                default=str,
            )
        )
    else:
        print(summary.render())
    return code
