"""The job report page: one self-contained HTML document drawn from a :class:`JobReport`.

No network and no script: styles are inline, charts are SVG drawn here, and a Content Security
Policy (``default-src 'none'``) forbids any load or script even if a value slipped through.
Every value from the job (paths, keys, messages, ids) goes through :func:`esc`. Styles are
scoped under ``.xf-report`` so the page can also be shown inside a notebook.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from extend_frames.frames._report import BatchTimes, JobReport, job_report

__all__ = ["render", "report", "throughput_svg", "timeline_svg"]

MAX_TIMELINE = 400  # batches drawn on the timeline (a note says how many more there are)
_W = 1000  # SVG user units across; the SVG scales to the page width

_CSS = """
.xf-report{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
 max-width:1200px;margin:0 auto;padding:16px}
.xf-report h1{font-size:1.4em;margin:.2em 0}.xf-report h2{font-size:1.15em;margin:1.4em 0 .4em}
.xf-report .sub{color:#5b6475;overflow-wrap:anywhere}
.xf-report .figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));
 gap:8px;margin:12px 0;padding:0}
.xf-report .figures div{background:#f3f5f9;border-radius:8px;padding:8px 10px}
.xf-report dt{font-size:.8em;color:#5b6475}.xf-report dd{margin:0;font-size:1.2em;
 font-weight:600;overflow-wrap:anywhere}
.xf-report svg{width:100%;height:auto;display:block;background:#fff}
.xf-report .chart{border:1px solid #e1e5ee;border-radius:8px;padding:6px;overflow-x:auto}
.xf-report .chart svg{min-width:640px}
.xf-report .legend span{display:inline-block;margin-right:14px;font-size:.85em}
.xf-report .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;
 vertical-align:-1px;border-radius:2px}
.xf-report .scroll{overflow-x:auto}
.xf-report table{border-collapse:collapse;width:100%;font-size:.9em}
.xf-report th,.xf-report td{text-align:left;padding:4px 8px;border-bottom:1px solid #e1e5ee;
 vertical-align:top;overflow-wrap:break-word}
.xf-report th{white-space:nowrap}.xf-report td{max-width:40em}
.xf-report td:last-child{min-width:14em}
.xf-report .num{text-align:right;font-variant-numeric:tabular-nums}
.xf-report .warn{color:#a4470b}.xf-report .ok{color:#1b7a3d}
@media (max-width:600px){.xf-report{padding:8px;font-size:14px}
 .xf-report .figures{grid-template-columns:repeat(2,1fr)}}
"""
_COLORS = {"submitting": "#b8c2d6", "processing": "#3d7dd8", "pending": "#f0a23b"}


def esc(value: object) -> str:
    """HTML-escaped text of any value (quotes too: safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def duration(seconds: float | None) -> str:
    """``42.0 s``, ``3 min 05 s``, ``2 h 04 min``; an em dash when unknown."""
    if seconds is None:
        return "\u2014"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def render(report: JobReport) -> str:
    """The whole page."""
    title = f"extend {report.operation} job report"
    body = "".join(
        [
            _header(report),
            _figures(report),
            _section("Batches over time", _legend() + _chart(timeline_svg(report))),
            _section("Throughput", _chart(throughput_svg(report))),
            _section("Failures by reason", _failures(report)),
            _section("Runs of the job (first run and resumes)", _sessions(report)),
            _section("Possible duplicates", _duplicates(report)),
            _section("Batches", _batches_table(report)),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>"
        f'<body><main class="xf-report">{body}</main></body></html>\n'
    )


def _header(r: JobReport) -> str:
    state = (
        '<span class="ok">complete</span>'
        if r.complete
        else '<span class="warn">unfinished: what the output holds so far</span>'
    )
    started = r.started.strftime("%Y-%m-%d %H:%M:%S UTC") if r.started else "\u2014"
    return (
        f"<h1>extend {esc(r.operation)} \u00b7 {state}</h1>"
        f'<p class="sub">{esc(r.path)} \u00b7 job {esc(r.job_id)} \u00b7 started {esc(started)}'
        f" \u00b7 extend_frames {esc(r.library_version)}</p>"
    )


def _figures(r: JobReport) -> str:
    processor = r.processor or "\u2014"
    if r.processor and r.processor_version:
        processor = f"{r.processor} @ {r.processor_version}"
    items: list[tuple[str, str, object]] = [("rows", "Rows", r.rows)]
    items += [(f"status-{s}", s.title(), n) for s, n in r.by_status.items()]
    items += [
        ("credits", "Credits", f"{r.credits:g}"),
        ("wall", "Wall time", duration(r.wall_seconds)),
        ("route", "Route", r.route or "\u2014"),
        ("processor", "Processor", processor),
        ("batches", "Batches", len(r.batches)),
        ("resumes", "Resumes", r.resumes),
        ("duplicates", "Possible duplicates", r.possible_duplicates),
    ]
    cells = "".join(
        f'<div><dt>{esc(label)}</dt><dd data-figure="{esc(key)}">{esc(value)}</dd></div>'
        for key, label, value in items
    )
    return f'<dl class="figures">{cells}</dl>'


def _section(title: str, content: str) -> str:
    return f"<section><h2>{esc(title)}</h2>{content}</section>"


def _chart(svg: str) -> str:
    return f'<div class="chart">{svg}</div>'


def _legend() -> str:
    spans = "".join(
        f'<span><i style="background:{c}"></i>{esc(n)}</span>' for n, c in _COLORS.items()
    )
    return f'<p class="legend">{spans}</p>'


def _span_end(b: BatchTimes, r: JobReport) -> float:
    return max(
        [t for t in (b.intent, b.submitted, b.collected) if t is not None] or [0.0]
    ) if b.collected is not None else max(r.wall_seconds or 0.0, b.submitted or 0.0)  # fmt: skip


def timeline_svg(r: JobReport) -> str:
    """Each batch a row: submitting (intent to answer), processing (to collected), or pending
    (submitted, not collected yet). The report's main chart."""
    shown = sorted(r.batches, key=lambda b: b.chunk)[:MAX_TIMELINE]
    if not shown:
        return _empty_svg("no batch was started yet")
    total = max([_span_end(b, r) for b in shown] + [r.wall_seconds or 0.0, 1e-9])
    row, left, top = 12, 70, 24
    height = top + row * len(shown) + 8
    x = _scale(total, left, _W - 10)
    parts = [_axis(total, left, top - 6, height, x)]
    for i, b in enumerate(shown):
        y = top + i * row
        label = f"batch {b.chunk}" + (f" \u00b7 {b.batch_ids[-1]}" if b.batch_ids else "")
        parts.append(
            f'<text x="{left - 6}" y="{y + 9}" font-size="9" text-anchor="end">{b.chunk}</text>'
        )
        segments = _segments(b, r)
        for kind, start, end in segments:
            width = max(1.0, x(end) - x(start))
            tip = f"{label}: {kind} {duration(start)} \u2192 {duration(end)}"
            parts.append(
                f'<rect x="{x(start):.1f}" y="{y + 1}" width="{width:.1f}" height="{row - 3}" '
                f'fill="{_COLORS[kind]}"><title>{esc(tip)}</title></rect>'
            )
    more = len(r.batches) - len(shown)
    if more > 0:
        parts.append(
            f'<text x="{left}" y="{height - 1}" font-size="10">\u2026 {more} more batches '
            "(see the table)</text>"
        )
    return _svg(height, parts, "Timeline of the job's batches")


def _segments(b: BatchTimes, r: JobReport) -> list[tuple[str, float, float]]:
    out: list[tuple[str, float, float]] = []
    if b.intent is not None and b.submitted is not None:
        out.append(("submitting", b.intent, b.submitted))
    begun = b.submitted if b.submitted is not None else b.intent
    if begun is not None and b.collected is not None:
        out.append(("processing", begun, b.collected))
    elif begun is not None:
        out.append(("pending", begun, max(begun, r.wall_seconds or begun)))
    return out


def throughput_svg(r: JobReport) -> str:
    """Documents collected per minute over time, against the plan's files/min (dashed)."""
    done = [(b.collected, b.rows or 0) for b in r.batches if b.collected is not None]
    if not done:
        return _empty_svg("no batch was collected yet")
    total = max([t for t, _ in done] + [r.wall_seconds or 0.0, 1.0])
    bins = min(40, max(1, len(done)))
    width = total / bins
    counts = [0] * bins
    for t, n in done:
        counts[min(bins - 1, int(t / width))] += n
    rates = [n * 60.0 / width for n in counts]
    limit = r.files_per_minute
    top_value = max([*rates, limit or 0.0, 1.0]) * 1.1
    left, top, height = 70, 14, 220
    base = height - 24
    x = _scale(total, left, _W - 10)
    parts = [_axis(total, left, base + 14, base + 2, x, grid=False)]
    for i, rate in enumerate(rates):
        h = (base - top) * rate / top_value
        parts.append(
            f'<rect x="{x(i * width) + 1:.1f}" y="{base - h:.1f}" '
            f'width="{max(1.0, x(width) - x(0) - 2):.1f}" height="{h:.1f}" fill="#3d7dd8">'
            f"<title>{esc(f'{rate:.0f} documents/min at {duration(i * width)}')}</title></rect>"
        )
    parts.append(_y_label(top_value, left, top, base))
    if limit:
        y = base - (base - top) * limit / top_value
        parts.append(
            f'<line x1="{left}" x2="{_W - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c0392b" '
            f'stroke-dasharray="6 4"/><text x="{_W - 12}" y="{y - 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#c0392b">plan limit {limit:g} files/min</text>'
        )
    return _svg(height, parts, "Documents collected per minute")


def _y_label(top_value: float, left: int, top: int, base: int) -> str:
    return (
        f'<text x="{left - 6}" y="{top + 8}" font-size="10" text-anchor="end">'
        f"{top_value:.0f}/min</text>"
        f'<text x="{left - 6}" y="{base}" font-size="10" text-anchor="end">0</text>'
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{base}" stroke="#999"/>'
    )


def _scale(total: float, lo: float, hi: float) -> Callable[[float], float]:
    def x(t: float) -> float:
        return lo + (hi - lo) * (t / total if total > 0 else 0.0)

    return x


def _axis(
    total: float,
    left: int,
    y: float,
    bottom: float,
    x: Callable[[float], float],
    *,
    grid: bool = True,
) -> str:
    """Time ticks (seconds since the start) with optional vertical grid lines."""
    step = _nice_step(total / 6)
    out = []
    ticks = int(total / step) + 1 if step > 0 else 1
    for i in range(ticks):
        t = i * step
        out.append(
            f'<text x="{x(t):.1f}" y="{y:.1f}" font-size="10" text-anchor="middle">'
            f"{esc(duration(t) if t else '0')}</text>"
        )
        if grid:
            out.append(
                f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y + 3:.1f}" y2="{bottom}" '
                'stroke="#eef0f4"/>'
            )
    return "".join(out)


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return float(m * power)
    return float(10 * power)


def _svg(height: float, parts: Iterable[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {_W} {height:.0f}" role="img" aria-label="{esc(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif">'
        f"{''.join(parts)}</svg>"
    )


def _empty_svg(text: str) -> str:
    return _svg(40, [f'<text x="10" y="25" font-size="14">{esc(text)}</text>'], text)


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], numeric: set[int]) -> str:
    th = "".join(
        f"<th{' class=num' if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if i in numeric else ''}>{esc(v)}</td>" for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    table = f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _failures(r: JobReport) -> str:
    if not r.failures:
        return '<p class="ok">No failed rows.</p>'
    rows: list[tuple[object, ...]] = []
    for f in r.failures:
        first = f.examples[0] if f.examples else (None, None, None)
        rows.append((f.reason, f.rows, *first))
        rows.extend(("", "", *e) for e in f.examples[1:])
    head = ("reason", "rows", "input row", r.label_column or "", "message")
    return _table(head, rows, {1, 2})


def _sessions(r: JobReport) -> str:
    rows = [
        (i, s.id, duration(s.started), duration(s.ended), s.records, s.cause)
        for i, s in enumerate(r.sessions)
    ]
    if not rows:
        return "<p>No ledger record yet.</p>"
    note = f"<p>{r.resumes} resume(s).</p>"
    return note + _table(("#", "session", "from", "to", "records", "cause"), rows, {0, 4})


def _duplicates(r: JobReport) -> str:
    if not r.possible_duplicates:
        return '<p class="ok">No row was flagged as possibly paid twice.</p>'
    rows = list(r.duplicate_examples)
    text = (
        f'<p class="warn">{r.possible_duplicates} row(s) may have been paid twice (a submission '
        "of unknown outcome committed after the rows were sent again).</p>"
    )
    return text + _table(("input row", r.label_column or ""), rows, {0})


def _batches_table(r: JobReport) -> str:
    rows = [
        (
            b.chunk,
            ", ".join(b.batch_ids) or "\u2014",
            b.rows if b.rows is not None else "\u2014",
            b.attempts,
            duration(b.submitted),
            duration(b.collected),
            b.duplicates,
        )
        for b in sorted(r.batches, key=lambda b: b.chunk)
    ]
    if not rows:
        return "<p>No batch was started yet.</p>"
    head = ("batch", "Extend batch id", "rows", "submissions", "submitted", "collected", "dups")
    table = _table(head, rows, {0, 2, 3, 6})
    return f"<details><summary>{len(rows)} batch(es)</summary>{table}</details>"


def report(output: str, *, storage_options: dict[str, Any] | None = None) -> str:
    """The job report of the output path ``output``: one self-contained HTML page (no
    network, no script) with the job's figures, a timeline of its batches, throughput
    against the plan's limit, failures by reason with example rows, resumes and their
    causes, and possible duplicates. Works on an unfinished job (what is known so far).

    >>> html = xf.report("s3://lake/extend/invoices/")  # doctest: +SKIP
    >>> Path("report.html").write_text(html)  # doctest: +SKIP
    """
    return render(job_report(output, storage_options=storage_options))
