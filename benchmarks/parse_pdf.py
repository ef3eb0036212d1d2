"""Time the emulator's PDF parse: read_document + parse_output on a generated 100-page PDF.

    python benchmarks/parse_pdf.py [--pages 100] [--repeat 3]

Prints seconds per page (best of --repeat runs); the target is well under a second per page.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from extend_frames.emulator._documents import _layout, parse_output, read_document
from extend_frames.emulator._samples import _content
from extend_frames.emulator._samples._render import to_pdf


def build_pdf(pages: int, seed: int = 0) -> bytes:
    """A realistic mixed PDF: invoices, statements and contracts until ``pages`` pages."""
    rng = random.Random(seed)
    out: list[list[tuple[object, ...]]] = []
    builders: list[Callable[[random.Random], tuple[list[list[Any]], dict[str, Any]]]] = [
        _content.invoice,
        _content.bank_statement,
        _content.contract,
    ]
    while len(out) < pages:
        doc_pages, _ = rng.choice(builders)(rng)
        out.extend(doc_pages)
    return to_pdf(out[:pages])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    data = build_pdf(args.pages)
    built = time.perf_counter() - started
    best = float("inf")
    for _ in range(args.repeat):
        _layout.clear_cache()  # time cold runs: no layouts reused from the last run
        started = time.perf_counter()
        doc = read_document(data, "benchmark.pdf")
        output = parse_output(doc, {"chunkingStrategy": {"type": "page"}})
        best = min(best, time.perf_counter() - started)
    blocks = sum(len(c["blocks"]) for c in output["chunks"])
    print(f"generated {args.pages}-page PDF ({len(data) / 1024:.0f} KiB) in {built:.2f}s")
    print(f"read_document + parse_output: {best:.3f}s total, {blocks} blocks")
    print(f"seconds per page: {best / doc.page_count:.4f}")


if __name__ == "__main__":
    main()
