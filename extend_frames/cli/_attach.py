"""``extend-frames collect-batch BATCH_ID --output ...``: any Extend batch as Parquet results."""

from __future__ import annotations

import argparse
import json
from typing import Any

from extend_frames.cli._command import add_command
from extend_frames.cli._exit import JOB_CODES_HELP, outcome_code
from extend_frames.cli._jobs import (
    _add_api_options,
    _add_storage_options,
    add_cache_argument,
    add_max_wait,
    add_report_options,
    add_table_arguments,
    max_wait,
    storage_options,
    table_target,
    with_client,
)

_HELP = """any Extend batch (bpar_/bpr_ id) as typed Parquet results, one row per run

Wait for a batch created anywhere (dashboard, SDK, another service), list its runs, fetch
each and write one typed row per run to --output; the inputs' metadata comes back as
metadata.<key> columns. Rerunning resumes: nothing stored is fetched again.
"""
_EXAMPLES = """\
examples:
  extend-frames collect-batch bpr_Xj8mK2pL9nR4vT7q --output out/b/
  extend-frames collect-batch bpar_Hc4nW8sJ2dQx6Rm0 --output s3://lake/b/ --json"""


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "collect-batch", _HELP, _EXAMPLES + "\n\n" + JOB_CODES_HELP)
    p.add_argument("batch_id", metavar="BATCH_ID", help="bpar_... (parse) or bpr_... (processor)")
    out = p.add_argument_group("output")
    out.add_argument(
        "--output", required=True, metavar="PATH", help="folder for Parquet results (fsspec URL)"
    )
    _add_storage_options(out, "--output")
    add_max_wait(
        out, "return after at most this long; runs not finished are PENDING (exit 4): rerun"
    )
    add_cache_argument(
        out,
        "result cache (folder or fsspec URL) to add the batch's PROCESSED runs with a file id "
        "to, so a later job over the same file ids pays nothing for them",
    )
    add_report_options(out, "print one JSON summary object", progress=False)
    add_table_arguments(p.add_argument_group("lakehouse table"))
    _add_api_options(p)
    p.set_defaults(func=_collect_batch)


def _collect_batch(args: argparse.Namespace) -> int:
    import extend_frames as xf
    from extend_frames.frames import display_path

    seconds = max_wait(args)
    df = with_client(
        args,
        lambda client: xf.read_batch(
            args.batch_id,
            client=client,
            output=args.output,
            storage_options=storage_options(args.storage_option),
            max_wait=seconds,
            cache=args.cache,
            table=table_target(args),
        ),
    )
    summary = xf.summarize(df)
    code = outcome_code(summary.by_status)
    shown = display_path(args.output)
    if args.json:
        print(
            json.dumps(
                {
                    "batch_id": args.batch_id,
                    "output": shown,
                    "rows": summary.rows,
                    "by_status": summary.by_status,
                    "credits": summary.credits,
                    "columns": df.columns,
                    "exit_code": code,
                },
                sort_keys=True,
            )
        )
        return code
    by = ", ".join(f"{n} {s}" for s, n in sorted(summary.by_status.items()))
    print(f"batch {args.batch_id}: {summary.rows} runs ({by}), {summary.credits:g} credits")
    print(f"results: {shown}  (xf.read_results(...))")
    return code
