"""Tables for the terminal and for ``benchmarks/RESULTS.md``, and the targets check."""

from __future__ import annotations

from typing import Any

from benchmarks import _backfill_report


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _flow(r: dict[str, Any]) -> str:
    s, b = r["setup"], r["lower_bound"]
    rows = []
    for name, c in r["contenders"].items():
        per = c["requests_per_file"]
        rows.append(
            [
                f"`{name}`",
                f"{c['wall_s']:.1f}",
                f"**{c['bound_ratio']:.2f}x**",
                f"{per['GET']:.3f} / {per['RUN']:.3f}",
                c["requests_total"],
                c["batch_polls"],
                c["status_429"],
                c["lost"],
                f"{c['client_cpu_s']:.1f}",
            ]
        )
    head = (
        f"{s['files']:,} text inputs, batches of {s['batch_size']:,}; emulator in its own "
        f"process at {s['files_per_minute']:g} files/min and {s['rate_per_category']:g} req/s "
        f"per category ({s['time_compression_vs_enterprise']:g}x Extend Enterprise's "
        f"throughput). Lower bound {b['bound_s']:.1f} s (processing {b['processing_s']:.1f} s, "
        f"GETs {b['get_s']:.1f} s, plus one batch at the ends). `extend_frames`: `xf.extract` "
        "with its defaults and the limits as `xf.RateLimits`; `..._scaled_polling`: the default "
        f"`Polling()` schedule divided by the {s['time_compression_vs_enterprise']:g}x time "
        "compression (what the defaults do at Extend's real throughput); `sdk_batch_script`: "
        "a careful script on the SDK's batch endpoints (submit chunks of 1,000, poll every 2 s, "
        f"list by batch, GET each run in {s['fetch_threads']} threads); `sdk_per_file`: the SDK's "
        f"`create_and_poll` per file in {s['sdk_threads']} threads. The SDK contenders know no "
        "limits and rely on the SDK's 429 retries.\n\n"
    )
    return (
        head
        + _table(
            [
                "contender",
                "wall s",
                "/ bound",
                "GET / RUN per file",
                "requests",
                "batch polls",
                "429s",
                "lost files",
                "client CPU s",
            ],
            rows,
        )
        + "".join(
            f"\n\n`{name}` lost files to: "
            + ", ".join(f"{k} x{v}" for k, v in c["lost_by_error"].items())
            for name, c in r["contenders"].items()
            if c.get("lost_by_error")
        )
    )


def _decode(r: dict[str, Any]) -> str:
    ours, sdk = r["extend_frames"], r["sdk_pydantic"]
    rows = [
        [
            "`extend_frames` decode_runs",
            f"{ours['runs']:,}",
            f"{ours['runs_per_s']:,}",
            f"{ours['runs_per_s'] * r['mean_body_bytes'] / 1e6:,.0f}",
            "yes",
        ],
        [
            "SDK `ExtractRun.model_validate_json` + `pl.DataFrame`",
            f"{sdk['runs']:,}",
            f"{sdk['runs_per_s']:,}",
            f"{sdk['runs_per_s'] * r['mean_body_bytes'] / 1e6:,.0f}",
            "no (inferred; dates stay strings)",
        ],
    ]
    head = (
        f"Full extract run JSONs from the emulator (mean {r['mean_body_bytes']:,} bytes), one "
        f"core (POLARS_MAX_THREADS=1, pyarrow 1 thread). Speedup **{r['speedup']}x**. Floor: "
        f"pyarrow reading only `id` from the same bodies, {r['floor_id_only_runs_per_s']:,} "
        "runs/s (the whole JSON is tokenised whatever is kept).\n\n"
    )
    return head + _table(["decoder", "runs", "runs/s", "MB/s", "typed from schema"], rows)


def _scale(r: dict[str, Any]) -> str:
    rows = [
        [
            f"{x['rows']:,}",
            f"{x['wall_s']:.1f}",
            f"{x['rows_per_s']:,.0f}",
            f"{x['cpu_s_per_1000_rows']:.2f}",
            f"{x['peak_rss_mib']:,.0f}",
            f"{x['baseline_rss_mib']:,.0f}",
            f"{x['emulator_cpu_s']:.1f}",
        ]
        for x in r["runs"]
    ]
    g = r["growth"]
    head = (
        "`xf.extract` of text inputs with `output=` on local disk; emulator in instant mode in "
        "its own process, the client job in another (its own `getrusage` CPU time and `VmHWM` "
        "peak).\n\n"
    )
    tail = (
        f"\n\n{g['rows_ratio']:g}x the rows: peak RSS {g['peak_rss_ratio']:g}x "
        f"(above the baseline {g['rss_above_baseline_ratio']:g}x), CPU per row "
        f"{g['cpu_per_row_ratio']:g}x."
    )
    return (
        head
        + _table(
            [
                "rows",
                "wall s",
                "rows/s",
                "client CPU s / 1k rows",
                "peak RSS MiB",
                "RSS before job MiB",
                "emulator CPU s",
            ],
            rows,
        )
        + tail
    )


def _spark(r: dict[str, Any]) -> str:
    if "skipped" in r:
        return f"Not run: {r['skipped']}."
    s, t = r["setup"], r["timed"]
    text = (
        f"{t['rows']:,} documents each, same rate-limited emulator ({s['files_per_minute']:g} "
        f"files/min, {s['rate']:g} req/s per category), one process and one JVM, session start "
        f"and warm-up excluded; both write their result to Parquet; mean of {t['rounds']} "
        "job(s) each, in ABBA order.\n\n"
        + _table(
            ["contender", "wall s", "processed"],
            [
                ["plain `xf.extract` (polars)", f"{t['plain_s']:.1f}", t["plain_processed"]],
                ["`extend_frames.spark.extract`", f"{t['spark_s']:.1f}", t["spark_processed"]],
            ],
        )
        + f"\n\nSpark / plain: **{t['ratio']:.2f}x**."
    )
    m = r.get("memory")
    if m:
        text += (
            f" Driver memory, {m['rows']:,} references (unlimited emulator, {m['wall_s']:.0f} s): "
            f"peak RSS of the driver's Python process {m['peak_rss_mib']:,.0f} MiB, "
            f"{m['rss_above_baseline_mib']:,.0f} MiB above the session's baseline "
            f"({m['baseline_rss_mib']:,.0f} MiB); the JVM is a separate process."
        )
    return text


def _serve(r: dict[str, Any]) -> str:
    p50 = f"{r['p50_ms']:.2f}" if r.get("p50_ms") is not None else "-"
    p99 = f"{r['p99_ms']:.2f}" if r.get("p99_ms") is not None else "-"
    return (
        f"`GET /extract_runs/{{id}}` over {r['distinct_runs']:,} real runs "
        f"({r['body_bytes']:,} bytes each), {r['connections']} keep-alive connections, load by "
        f"{r['tool']}; emulator pinned to one core: {r['pinned']}.\n\n"
        + _table(
            ["requests", "errors", "req/s", "p50 ms", "p99 ms"],
            [[f"{r['requests']:,}", r["errors"], f"**{r['rps']:,.0f}**", p50, p99]],
        )
    )


def _storms_section(r: dict[str, Any]) -> str:
    from benchmarks._storms import render

    return render(r)


def _extraction(r: dict[str, Any]) -> str:
    fields = ["invoice_number", "invoice_date", "due_date", "total_amount", "currency"]
    fields.append("vendor_name")
    parts = [
        ("generated", "generated sample corpus"),
        ("real", "real invoices, all"),
        ("real_tuning", "real, tuned on"),
        ("real_held_out", "real, held out"),
    ]
    rows = []
    for key, title in parts:
        got = r.get(key)
        if not got or "accuracy" not in got:
            continue
        cells = [
            "-" if got["accuracy"][f] is None else f"{100 * got['accuracy'][f]:.0f}%"
            for f in fields
        ]
        rows.append(
            [title, f"{got['documents']} / {got['pages']}", *cells, f"{got['extract_ms_per_page']}"]
        )
    text = (
        "The emulator's own extraction (no model) with the samples' invoice extractor config, "
        "scored per field against each corpus' ground truth; real invoices are public sample "
        "and test invoices fetched by package name from the registry "
        "(`benchmarks/real_corpus.json`: sources, licences, languages). Extract time per "
        "page, cold layout cache, in this process.\n\n"
    )
    text += _table(["corpus", "docs / pages", *fields, "extract ms/page"], rows)
    real = r.get("real") or {}
    if "unavailable" in real:
        text += f"\n\nReal corpus not measured: {real['unavailable']}"
    elif r.get("real_corpus"):
        c = r["real_corpus"]
        text += (
            f"\n\nReal corpus: {', '.join(c['sources'])}; languages {', '.join(c['languages'])};"
            f" countries {', '.join(c['countries'])}."
        )
    return text


def _route_cell(job: dict[str, Any] | None) -> str:
    if job is None:
        return ""
    lost = job.get("lost", 0)
    return f"{job['wall_s']:.2f}" + (f" ({lost} lost)" if lost else "")


def _route(r: dict[str, Any]) -> str:
    s = r["setup"]
    wall = {(j["documents"], j["contender"]): j for j in r["jobs"]}
    shown = [j["contender"] for j in r["jobs"] if j["documents"] in s["sizes"]]
    contenders = list(dict.fromkeys(shown))
    rows = [
        [n, *(_route_cell(wall.get((n, c))) for c in contenders)]
        for n in sorted({j["documents"] for j in r["jobs"]})
    ]
    x = r["crossover"]
    head = (
        f"Wall seconds of one extract job by route; emulator with a {s['batch_queue_delay_s']:g} "
        f"s batch-queue delay, {s['run_latency_s']:g} s per run and {s['rate_per_category']:g} "
        "requests/s per category. `auto`, `single`, `batch`: `xf.extract(route=...)` with its "
        "default polling; `sdk_create_and_poll`: the SDK's `extract_runs.create_and_poll`, one "
        f"thread per document. Single runs beat a batch up to {x['single_faster_up_to']} "
        + (
            f"documents; a batch wins from {x['batch_faster_from']}.\n\n"
            if x["batch_faster_from"]
            else "documents (the largest size measured).\n\n"
        )
    )
    return head + _table(["documents", *(f"`{c}`" for c in contenders)], rows)


def _cache(r: dict[str, Any]) -> str:
    rows = [
        [
            f"{x['entries']:,}",
            f"{x['segments']:,}",
            f"{x['bytes_on_disk'] / 2**20:,.1f}",
            f"{x['day_lookup_s']:.3f}",
            f"{x['day_peak_rss_mib']:,.0f}",
            f"{x['all_lookup_s']:.2f}",
            f"{x['all_peak_rss_mib']:,.0f}",
            f"{x['baseline_rss_mib']:,.0f}",
            _compacted(x),
        ]
        for x in r["runs"]
    ]
    head = (
        "A cache built as jobs build it (one create-only segment of 1,000 entries per batch, "
        "extract-like outputs) on local disk; each lookup in a fresh process: a day's job "
        "(2,300 digests, 2,000 present) and every entry at once; then `compact()` merges the "
        "segments into one and the day's lookup runs again.\n\n"
    )
    return head + _table(
        [
            "entries",
            "segments",
            "MiB on disk",
            "day lookup s",
            "day peak RSS MiB",
            "all-entries lookup s",
            "all peak RSS MiB",
            "RSS before MiB",
            "after compact()",
        ],
        rows,
    )


def _compacted(x: dict[str, Any]) -> str:
    if "compact_s" not in x:  # results written before compaction existed
        return "-"
    return (
        f"{x.get('compacted_segments', '?')} segment(s) in {x['compact_s']:.2f} s "
        f"({x['compact_peak_rss_mib']:,.0f} MiB); day lookup {x['compacted_day_lookup_s']:.3f} s"
    )


def _tables(r: dict[str, Any]) -> str:
    names = {
        "parquet_part": "Parquet part alone (`write_part`)",
        "delta_append": "Delta append (delta-rs)",
        "delta_merge": "Delta merge on the key",
        "iceberg_append": "Iceberg append (pyiceberg, SQL catalog)",
        "iceberg_merge": "Iceberg merge on the key",
    }
    rows = [
        [
            label,
            f"{r[k]['median_ms']:,.1f}",
            f"{r[k]['max_ms']:,.1f}",
            f"{r[k]['first_quarter_median_ms']:,.1f} -> {r[k]['last_quarter_median_ms']:,.1f}",
            f"{r[k]['total_s']:,.2f}",
        ]
        for k, label in names.items()
        if k in r
    ]
    setup = r["setup"]
    head = (
        f"{setup['batches']} batches of {setup['rows_per_batch']:,} extract-like rows on local "
        "disk; each contender writes every batch to a fresh table as one job would (the table "
        "commit comes after the part, so a job with `table=` pays the part plus the commit).\n\n"
    )
    return head + _table(
        ["per batch", "median ms", "slowest ms", "first -> last quarter (median ms)", "total s"],
        rows,
    )


TITLES = {
    "flow": "1. Batch flow: wall time and requests against rate and throughput limits",
    "decode": "2. Decode: run JSON to typed columns",
    "scale": "3. Scale and memory",
    "serve": "4. The emulator's own capacity",
    "extraction": "5. Emulator extraction accuracy: generated vs real invoices",
    "route": "6. Small jobs by route: single runs vs the batch queue",
    "cache": "7. Result cache: lookup time and memory against its size",
    "spark": "8. Spark: extend_frames.spark against plain xf.extract, driver memory",
    "storms": "9. 429 storms: request rate before, during and after",
    "backfill": "10. Backfill: killed and resumed through the CLI, memory by size, resume fold",
    "tables": "11. Tables: the cost of publishing a batch to Delta and Iceberg",
}


def section(name: str, outcome: dict[str, Any]) -> str:
    render = {
        "flow": _flow,
        "decode": _decode,
        "scale": _scale,
        "serve": _serve,
        "extraction": _extraction,
        "route": _route,
        "cache": _cache,
        "spark": _spark,
        "storms": _storms_section,
        "backfill": _backfill,
        "tables": _tables,
    }[name]
    return f"### {TITLES[name]}\n\n{render(outcome)}\n"


def _backfill(outcome: Any) -> str:
    return _backfill_report.render(outcome, _table)


def targets(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue #8 with the measured value and whether it was met."""
    out: list[dict[str, Any]] = []

    def add(target: str, value: str, met: bool) -> None:
        out.append({"target": target, "measured": value, "met": met})

    flow = scenarios.get("flow")
    if flow:
        for name in ("extend_frames", "extend_frames_scaled_polling"):
            c = flow["contenders"].get(name)
            if c:
                add(
                    f"`{name}` <= 1.1x the lower bound",
                    f"{c['bound_ratio']:.2f}x",
                    c["bound_ratio"] <= 1.1,
                )
                add(
                    f"`{name}`: no wasted requests beyond polling",
                    f"{c['wasted_beyond_polling']} wasted, {c['batch_polls']} polls",
                    c["wasted_beyond_polling"] == 0,
                )
                add(f"`{name}`: no 429s", str(c["status_429"]), c["status_429"] == 0)
    decode = scenarios.get("decode")
    if decode:
        add("decode >= 10x the SDK", f"{decode['speedup']}x", decode["speedup"] >= 10)
        rate = decode["extend_frames"]["runs_per_s"]
        add("decode >= 100,000 runs/s on one core", f"{rate:,}", rate >= 100_000)
    scale = scenarios.get("scale")
    if scale:
        peak = scale["runs"][-1]
        add(
            f"peak RSS < 1 GiB at {peak['rows']:,} rows",
            f"{peak['peak_rss_mib']:,.0f} MiB",
            peak["peak_rss_mib"] < 1024,
        )
        g = scale["growth"]
        add(
            "peak memory grows sub-linearly",
            f"{g['peak_rss_ratio']:g}x for {g['rows_ratio']:g}x rows",
            g["peak_rss_ratio"] < g["rows_ratio"],
        )
    spark = scenarios.get("spark")
    if spark and "timed" in spark:
        ratio = spark["timed"]["ratio"]
        add("`extend_frames.spark` <= 1.1x plain `xf.extract`", f"{ratio:.2f}x", ratio <= 1.1)
    extraction = scenarios.get("extraction")
    if extraction:
        generated = extraction["generated"]["accuracy"]
        low = min(v for v in generated.values() if v is not None)
        add("generated corpus: every invoice field >= 95%", f"{100 * low:.0f}%", low >= 0.95)
        real = extraction.get("real") or {}
        if "accuracy" in real:
            core = {f: real["accuracy"][f] for f in ("invoice_number", "invoice_date")}
            core["total_amount"] = real["accuracy"]["total_amount"]
            worst = min(v for v in core.values() if v is not None)
            add(
                "real invoices: number, date, total each >= 60%",
                f"{100 * worst:.0f}% (lowest)",
                worst >= 0.6,
            )
    route = scenarios.get("route")
    if route:
        wall = {(j["documents"], j["contender"]): j["wall_s"] for j in route["jobs"]}
        for n in route["setup"]["sizes"]:
            if (n, "auto") in wall and (n, "batch") in wall:
                add(
                    f'{n}-document job: `route="auto"` faster than a batch',
                    f"{wall[(n, 'auto')]:.2f} s vs {wall[(n, 'batch')]:.2f} s",
                    wall[(n, "auto")] < wall[(n, "batch")],
                )
    cache = scenarios.get("cache")
    if cache:
        big, small = cache["runs"][-1], cache["runs"][0]  # one size in --quick: the same
        add(
            f"cache: a day's lookup in bounded memory at {big['entries']:,} entries",
            f"{big['day_peak_rss_mib']:,.0f} MiB ({small['day_peak_rss_mib']:,.0f} at "
            f"{small['entries']:,})",
            big["day_peak_rss_mib"] < 1024,
        )
    return out


def targets_table(rows: list[dict[str, Any]]) -> str:
    return _table(
        ["target", "measured", "met"],
        [[r["target"], r["measured"], "yes" if r["met"] else "**no**"] for r in rows],
    )


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    parts = [
        "# Benchmarks\n",
        "Generated by `python -m benchmarks` (do not edit by hand; rerun it). "
        "Raw figures: `benchmarks/results/latest.json`.\n",
        f"- Command: `{m['command']}`",
        f"- Date: {m['date']}; total {results['total_s']:.0f} s",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, "
        f"load average at start {m['load_avg_at_start']} (a shared machine)",
        f"- Python {m['python']} on {m['platform']}; {pkgs}\n",
        "## Targets\n",
        targets_table(results["targets"]) + "\n",
    ]
    for name, outcome in results["scenarios"].items():
        parts.append(section(name, outcome)[1:])  # "## N. ..." under the page title
    parts.append(FINDINGS)
    return "\n".join(parts)


#: What profiling found (py-spy on the client process; the experiments are described so they
#: can be repeated). Static text: the figures above are regenerated, these observations not.
FINDINGS = """## What limits what (analysis)

- **Batch flow, default polling.** A first run measured the defaults at 1.21x the bound:
  `Polling()` backed off 2 s -> 30 s by x1.5 per poll, and with four batches in flight the
  later ones queue for several batch-times, so by the time they finished the gap between
  polls was up to half the time already waited while the GET budget sat idle. Fixed in
  `jobs/_spec.py`: the interval is now also capped at 5% of the time already waited
  (`Polling.lateness`), so a batch is noticed at most ~5% late at any time scale; the
  defaults now match the schedule scaled to the emulator's time compression
  (`extend_frames_scaled_polling`, what the old defaults did at Extend's real throughput),
  at the cost of a few more batch polls.
- **The SDK alternatives** reach similar wall times only by hammering: without rate-limit
  knowledge every thread retries 429s (each a wasted request), the per-file approach makes
  about three requests per file and loses files once the SDK's two retries run out.
- **Decode** is bound by JSON tokenising: the run bodies are ~7.6 kB (config, citations,
  usage), and pyarrow reading only `id` from them is the floor shown. 100,000 runs/s at this
  size would need ~0.77 GB/s of JSON on one core, above that floor on this CPU; the 100k
  target holds only for much smaller bodies. Split of `decode_runs` at 20,000 such runs:
  ~70% pyarrow's typed read (1.4x the id-only read), ~12% joining the bodies into NDJSON,
  ~9% the plan's scan for array lengths, ~3% the final expressions.
- **Client CPU per row** (figures in the scale table) is mostly httpx/httpcore, not the
  library: py-spy put ~45% in httpcore's connection-pool bookkeeping (on every request
  state change each open connection is checked with `has_expired`, which goes through
  anyio's `extra_attributes` and a `getpeername` syscall, so the cost grows with the open
  connections) and ~14% in a failed `import sniffio` that httpcore 1.0 repeated for every
  lock it creates (anyio 4.16 and httpx 0.28 no longer install sniffio). Measured at 2,000
  rows before the fixes: 2.9 ms/row, 2.4 with sniffio installed, 1.7 / 1.4 with the pool
  capped at 16 / 8 connections. Since then `sniffio` is a core dependency and run GETs in
  flight are sized from the GET rate (`Concurrency.fetch_slots`: half a second of GETs,
  4 to 32), so PAYG keeps ~5 connections; the scale scenario's generous limits still use
  32. At Extend's real rates (<= 75 GETs/s) the client needs well under a quarter of one
  core, so this only binds against the instant emulator.
"""


def readme_section(results: dict[str, Any]) -> str:
    """The body of README's "## Benchmarks" section: headline tables, machine, command."""
    m = results["machine"]
    scenarios = results["scenarios"]
    parts = [
        f"Measured {m['date'][:10]} on {m['cpu']} ({m['cores']} cores, {m['ram_gib']} GiB RAM, "
        f"shared), Python {m['python']}, extend-ai {m['packages']['extend-ai']}, polars "
        f"{m['packages']['polars']}. Every figure, the machine details and the analysis of what "
        "limits each result: [benchmarks/RESULTS.md](benchmarks/RESULTS.md).\n",
    ]
    if "flow" in scenarios:
        parts.append(_flow(scenarios["flow"]) + "\n")
    if "decode" in scenarios:
        d = scenarios["decode"]
        ours = d["extend_frames"]["runs_per_s"]
        parts.append(
            f"Decoding run JSON into typed columns on one core: **{ours:,} runs/s**, "
            f"{d['speedup']}x the SDK's pydantic models + `pl.DataFrame` "
            f"({d['sdk_pydantic']['runs_per_s']:,} runs/s)."
        )
        parts.append("")
    if "scale" in scenarios:
        big = scenarios["scale"]["runs"][-1]
        parts.append(
            f"A {big['rows']:,}-row extract job (instant emulator, `output=` on disk): "
            f"{big['wall_s']:.0f} s, {big['cpu_s_per_1000_rows']:.2f} client CPU s per 1,000 "
            f"rows, peak RSS {big['peak_rss_mib']:,.0f} MiB."
        )
        parts.append("")
    spark = scenarios.get("spark") or {}
    if "timed" in spark:
        t, mem = spark["timed"], spark.get("memory")
        line = (
            f"`extend_frames.spark` on {t['rows']:,} documents: {t['ratio']:.2f}x the wall time "
            "of plain `xf.extract` on the same rate-limited emulator"
        )
        if mem:
            line += (
                f"; a {mem['rows']:,}-reference Spark job peaks at "
                f"{mem['peak_rss_mib']:,.0f} MiB in the driver's Python process"
            )
        parts.append(line + ".")
        parts.append("")
    if "serve" in scenarios:
        parts.append(
            f"The emulator serves {scenarios['serve']['rps']:,.0f} run GETs/s on one core, far "
            "above what any scenario asks of it."
        )
    parts.append("\nReproduce (about a quarter of an hour on 2 cores):\n")
    parts.append(f"```bash\n{m['command']}\n```\n")
    return "\n".join(parts)
