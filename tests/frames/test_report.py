"""The job report (``xf.report`` / ``extend-frames report``): its figures equal the job's
summary and ledger, it escapes everything, works on an unfinished job, and renders in headless
Chromium without a console error or a network request (screenshots: wide and narrow)."""

from __future__ import annotations

import html.parser
import os
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.cli import main
from extend_frames.emulator import Emulator, Faults
from extend_frames.frames._report import job_report
from extend_frames.store import JobStore
from tests._chromium import chromium, open_page
from tests.jobs.conftest import create_processor

EVIL = "<script>alert(1)</script>"
ROWS = 10
FIGURES_JS = (
    "Object.fromEntries([...document.querySelectorAll('[data-figure]')]"
    ".map(e => [e.dataset.figure, e.textContent]))"
)
# Where the browser test leaves its screenshots (look at them); a temp dir unless set.
SHOTS = os.environ.get("XF_REPORT_SCREENSHOTS")


def _frame() -> pl.DataFrame:
    names = [f"doc-{i}" for i in range(ROWS)]
    texts = [f"Invoice number: R-{i}" for i in range(ROWS)]
    names[5], texts[5] = EVIL, "__FAIL:CORRUPT_FILE unreadable"
    texts[8] = "__FAIL:CORRUPT_FILE unreadable too"
    return pl.DataFrame({"name": names, "text": texts})


def _job(emu: Emulator, output: Path, *, finish: bool) -> pl.DataFrame:
    """A 4-batch job, detached after submitting; ``finish``: then collected (one resume)."""
    client = xf.Client(
        api_key=emu.api_key,
        base_url=emu.url,
        rate_limits=xf.RateLimits(get=500, write=500, run=500),
    )
    quiet = {"client": client, "polling": xf.Polling.fast(), "progress": False}
    first = xf.extract(
        _frame(),
        processor=create_processor(emu, "extractor"),
        text_column="text",
        key="name",
        output=str(output),
        batch_size=3,
        route="batch",
        detach=True,
        **quiet,  # type: ignore[arg-type]
    )
    return xf.collect(str(output), **quiet) if finish else first  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    output = tmp_path_factory.mktemp("report") / "out"
    with Emulator() as emu:
        return output, _job(emu, output, finish=True)


class _Figures(html.parser.HTMLParser):
    """The page's ``data-figure`` values, and every tag and attribute it has."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += attrs
        self._open = dict(attrs).get("data-figure")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.figures[self._open] = data
            self._open = None


def _parse(page: str) -> _Figures:
    parser = _Figures()
    parser.feed(page)
    return parser


def _expected(result: pl.DataFrame) -> dict[str, str]:
    summary = xf.summarize(result)
    want = {"rows": str(summary.rows), "credits": f"{summary.credits:g}"}
    want |= {f"status-{s}": str(n) for s, n in summary.by_status.items()}
    return want


def test_the_figures_equal_the_summary_and_the_ledger(finished: tuple[Path, pl.DataFrame]) -> None:
    output, result = finished
    page = xf.report(str(output))
    figures = _parse(page).figures
    assert {k: figures[k] for k in _expected(result)} == _expected(result)
    assert figures["route"] == "batch"
    assert figures["batches"] == "4"
    assert figures["resumes"] == "1"  # detach, then collect
    ledger = JobStore.open(str(output)).ledger()
    facts = job_report(str(output))
    assert [b.chunk for b in facts.batches] == sorted(ledger)
    for b in facts.batches:  # every batch collected after it was submitted, its rows counted
        assert b.batch_ids == (ledger[b.chunk].batch_id,)
        assert b.documents == len(ledger[b.chunk].row_keys or ())
        assert b.intent is not None
        assert b.submitted is not None
        assert b.collected is not None
        assert b.intent <= b.submitted <= b.collected
        assert b.rows == ledger[b.chunk].get("rows")
    assert sum(b.rows or 0 for b in facts.batches) == ROWS
    sessions = {r["session"] for s in ledger.values() for r in s.records}
    assert len(facts.sessions) == len(sessions) == 2
    assert "submitted but not collected" in facts.sessions[1].cause
    assert [(f.reason, f.rows) for f in facts.failures] == [("CORRUPT_FILE", 2)]
    assert {e[0] for e in facts.failures[0].examples} == {5, 8}  # input rows


def test_everything_is_escaped_and_nothing_loads(finished: tuple[Path, pl.DataFrame]) -> None:
    page = xf.report(str(finished[0]))
    parsed = _parse(page)
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the failed row's name, as text
    assert "script" not in parsed.tags
    assert not [v for k, v in parsed.attributes if k in ("src", "href") and v]
    assert "default-src 'none'" in page  # and a CSP forbids any load or script anyway


def test_an_unfinished_job_shows_what_is_known(tmp_path: Path) -> None:
    with Emulator() as emu:
        pending = _job(emu, tmp_path / "out", finish=False)
    page = xf.report(str(tmp_path / "out"))
    figures = _parse(page).figures
    assert pending.get_column("status").cast(pl.String).unique().to_list() == ["PENDING"]
    assert figures["rows"] == str(ROWS)
    assert figures["status-PENDING"] == str(ROWS)
    assert figures["resumes"] == "0"
    assert "unfinished" in page
    facts = job_report(str(tmp_path / "out"))
    assert all(b.submitted is not None and b.collected is None for b in facts.batches)


def test_the_cli_writes_the_page_and_names_a_wrong_path(
    finished: tuple[Path, pl.DataFrame], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.html"
    assert main(["report", str(finished[0]), "--html", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == xf.report(str(finished[0]))
    assert main(["report", str(tmp_path / "nothing"), "--html", str(target)]) == 1
    assert "nothing" in capsys.readouterr().err


@pytest.mark.skipif(chromium() is None, reason="needs Chromium (Debian package 'chromium')")
@pytest.mark.slow
def test_the_page_renders_in_chromium_without_errors_or_requests(
    finished: tuple[Path, pl.DataFrame], tmp_path: Path
) -> None:
    output, result = finished
    page = tmp_path / "report.html"
    page.write_text(xf.report(str(output)), encoding="utf-8")
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for name, width, height in (("wide", 1280, 900), ("narrow", 390, 844)):
        run = open_page(page, width=width, height=height, expression=FIGURES_JS)
        assert run.errors == [], name
        assert run.requests == [], name
        assert {k: run.value[k] for k in _expected(result)} == _expected(result)
        assert run.screenshot.startswith(b"\x89PNG")
        (shots / f"report-{name}.png").write_bytes(run.screenshot)


def test_a_retried_job_lists_every_attempt_and_its_cause(tmp_path: Path) -> None:
    frame = pl.DataFrame({"name": [f"d{i}" for i in range(9)]}).with_columns(
        text=pl.format("Invoice number: Q-{}", pl.col("name"))
    )
    with Emulator(faults=Faults(seed=2, run_failure_rate=0.4)) as emu:
        client = xf.Client(api_key=emu.api_key, base_url=emu.url)
        options = {"client": client, "polling": xf.Polling.fast(), "progress": False}
        kw = {"processor": create_processor(emu, "extractor"), "text_column": "text"}
        kw |= {"key": "name", "output": str(tmp_path / "out"), "batch_size": 4, "route": "batch"}
        first = xf.extract(frame, **kw, **options)  # type: ignore[arg-type]
        retried = xf.extract(frame, mode="retry", **kw, **options)  # type: ignore[arg-type]
    facts = job_report(str(tmp_path / "out"))
    summary = xf.summarize(retried)
    assert (facts.rows, facts.by_status, facts.credits) == (
        summary.rows, summary.by_status, summary.credits
    )  # fmt: skip
    failed_first = first.filter(pl.col("status") == "FAILED").height
    assert failed_first > summary.by_status.get("FAILED", 0)  # the retry fixed some
    assert [s.cause.startswith("mode='retry'") for s in facts.sessions] == [False, True]
    assert f"{failed_first} document(s)" in facts.sessions[1].cause
    ledger = JobStore.open(str(tmp_path / "out")).ledger()
    for b in facts.batches:  # every submission's batch id, the retry's included
        submitted = [r["batch_id"] for r in ledger[b.chunk].records if r["state"] == "submitted"]
        assert b.batch_ids == tuple(submitted)
        assert b.attempts == ledger[b.chunk].attempts
    assert sum(f.rows for f in facts.failures) == summary.by_status.get("FAILED", 0)
