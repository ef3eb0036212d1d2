"""The markdown of the ``backfill`` scenario (``benchmarks/_backfill.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def render(r: dict[str, Any], table: Callable[[list[str], list[list[str]]], str]) -> str:
    """Three tables: the resume fold, client memory by size, the job killed and resumed."""
    fold = table(
        ["ledger", "records", "MiB", "resume, uncompacted (s)", "files after", "resume (s)"],
        [
            [
                name,
                f"{x['records']:,}",
                f"{x['ledger_mib']:.1f}",
                f"{x['resume_uncompacted_s']:.3f}",
                str(x["files_after_compaction"]),
                f"{x['resume_compacted_s']:.3f}",
            ]
            for name, x in r["fold"].items()
        ],
    )
    memory = table(
        ["rows", "exit", "wall (s)", "bound (s)", "peak RSS", "input table", "peak - input",
         "slope KiB/row"],
        [
            [
                f"{x['rows']:,}", str(x["exit"]), f"{x['wall_s']:.1f}", f"{x['bound_s']:.1f}",
                f"{x['peak_rss_mib']:.0f}", f"{x['input_mib']:.1f}",
                f"{x['peak_minus_input_mib']:.0f}", str(x.get("slope_kib_per_row", "-")),
            ]
            for x in r["memory"]
        ],
    )  # fmt: skip
    k = r["kills"]
    kills = table(
        ["attempt", "signal", "after (s)", "exit", "ledger files", "ledger KiB", "fold (s)"],
        [
            [
                str(a["attempt"]), a["signal"] or "-", str(a["after_s"] or "-"), str(a["exit"]),
                str(a["ledger_files"]), f"{a['ledger_kib']:.1f}", f"{a['resume_fold_s']:.3f}",
            ]
            for a in k["attempts"]
        ],
    )  # fmt: skip
    s = r["setup"]
    return (
        f"Emulator at {s['files_per_minute']:g} files/min and {s['rate_per_category']:g} "
        f"req/s per category ({s['time_compression_vs_enterprise']}x Enterprise), job through "
        "`extend-frames extract --output` on local disk.\n\nResume fold (read + fold the "
        f"ledger under the lock, as a resuming job does):\n\n{fold}\n\nClient peak RSS (its "
        f"own VmHWM) by size, uninterrupted:\n\n{memory}\n\n{k['rows']:,} rows killed "
        f"{k['kills']} times and resumed: {k['wall_s']:.1f} s over all attempts against a "
        f"lower bound of {k['bound_s']:.1f} s ({k['bound_ratio']:.2f}x); final exit "
        f"{k['final_exit']}; inputs accepted {k['inputs_accepted']:,}, accepted twice "
        f"**{k['inputs_accepted_twice']}**.\n\n{kills}"
    )
