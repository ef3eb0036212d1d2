"""``extend-frames samples``: write a seeded sample corpus with ground truth.

extend-frames samples ./corpus --count 200 --seed 7
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from extend_frames.cli._command import add_command
from extend_frames.cli._exit import EXIT_USAGE, missing_extra

_HELP = """write sample documents (invoices, receipts, statements, packets) with ground truth

Write COUNT seeded sample documents plus four broken inputs into DIR, with
ground_truth.parquet and manifest.json. The same seed gives identical files.
"""


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "samples", _HELP)
    p.add_argument("directory", metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--count", type=int, default=200, help="number of documents (default 200)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.count < 1:
        print(
            f"extend-frames samples: --count must be at least 1, got {args.count}", file=sys.stderr
        )
        return 2
    try:
        from extend_frames.emulator.samples import generate_samples
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        return missing_extra("samples", exc, EXIT_USAGE)
    samples = generate_samples(args.directory, count=args.count, seed=args.seed)
    kinds: dict[str, int] = {}
    for doc in samples.documents:
        kinds[doc.doc_type] = kinds.get(doc.doc_type, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    print(f"wrote {len(samples.documents)} files to {samples.directory} ({summary})")
    print(f"ground truth: {samples.ground_truth_path}")
    print(f"manifest: {samples.manifest_path}")
    return 0
