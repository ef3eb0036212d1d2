"""``extend-frames report OUTPUT --html FILE``: a job's report as one self-contained page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from extend_frames._errors import InputError
from extend_frames.cli._command import add_command
from extend_frames.cli._exit import EXIT_OK
from extend_frames.cli._jobs import _add_storage_options, storage_options

_HELP = """a job's report: one HTML page with its figures, timeline, failures and resumes

Read a job's output folder (manifest, ledger and parts; read-only, no lock, also while the
job runs or after it stopped half way) and write one self-contained HTML page: rows by
status, credits, wall time, route, processor and version; a timeline of the batches;
throughput against the plan's limit; failures by reason with example rows; resumes and their
causes; possible duplicates. The page loads nothing from the network.
"""
_EXAMPLES = """\
examples:
  extend-frames report out/invoices/ --html report.html
  extend-frames report s3://lake/invoices/ --html - > report.html

exit codes:
  0  the page was written
  1  OUTPUT holds no job (the message names the path), or FILE could not be written
  2  usage error"""


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "report", _HELP, _EXAMPLES)
    p.add_argument("output", metavar="OUTPUT", help="the job's output folder (fsspec URL)")
    p.add_argument(
        "--html", required=True, metavar="FILE", help="where to write the page ('-': stdout)"
    )
    _add_storage_options(p, "OUTPUT")
    p.set_defaults(func=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    """Errors end the command through the CLI's one rule (``cli/_run.py``): exit 1."""
    from extend_frames import report

    page = report(args.output, storage_options=storage_options(args.storage_option))
    if args.html == "-":
        sys.stdout.write(page)
        return EXIT_OK
    try:
        Path(args.html).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write --html {args.html}: {exc.strerror or exc}") from None
    print(f"report written to {args.html}", file=sys.stderr)
    return EXIT_OK
