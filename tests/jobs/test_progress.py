"""Progress that moves: per-run advances, a current postfix, no IProgress warning."""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

import pyarrow as pa
import pytest

from extend_frames.frames import _progress
from extend_frames.frames._progress import BarProgress, bar_class
from extend_frames.frames._summary import JobSummary
from tests.jobs.test_engine import FakeClient, chunk, engine


class Recorder:
    """The Progress protocol, recording every call in order."""

    def __init__(self, events: list[tuple[Any, ...]]) -> None:
        self.events = events

    def start(self, total: int, *, already_done: int = 0) -> None:
        self.events.append(("start", total))

    def submitted(self, n: int) -> None:
        self.events.append(("submitted", n))

    def fetched(self, n: int) -> None:
        self.events.append(("fetched", n))

    def finished(self, processed: int, failed: int, *, already_fetched: int = 0) -> None:
        self.events.append(("finished", processed, failed, already_fetched))

    def close(self) -> None:
        self.events.append(("close",))


async def test_a_two_batch_job_advances_per_run_before_any_part_is_written() -> None:
    events: list[tuple[Any, ...]] = []

    def finish(index: int, decoded: Any) -> pa.Table:
        events.append(("part", index))
        return decoded.to_arrow()

    eng = engine(FakeClient(), progress=Recorder(events))
    eng.finish = finish
    for c in (chunk(3, index=0), chunk(4, index=1)):
        await eng.run_chunk(c)
    first_part = events.index(("part", 0))
    assert events[:first_part].count(("fetched", 1)) == 3  # run by run, not per batch
    assert events.count(("fetched", 1)) == 7
    assert ("finished", 3, 0, 3) in events
    assert ("finished", 4, 0, 4) in events  # already counted: the bar does not jump twice
    assert events.index(("finished", 4, 0, 4)) > events.index(("part", 1)) > first_part


async def test_a_row_with_no_run_advances_at_the_end_of_its_chunk() -> None:
    events: list[tuple[Any, ...]] = []
    client = FakeClient()
    client.hide_from_list = {"k0"}
    await engine(client, progress=Recorder(events)).run_chunk(chunk(3))
    assert events.count(("fetched", 1)) == 2
    assert ("finished", 2, 1, 2) in events  # the missing row is the one advanced now


class FakeBar:
    """A recording tqdm: what the screen would show at each redraw."""

    shown: list[tuple[int, str]]

    def __init__(self, *, total: int, initial: int, **_: Any) -> None:
        self.n = initial
        self.postfix = ""
        self.shown = []
        self.closed = False
        FakeBar.last = self

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text
        if refresh:
            self.refresh()

    def update(self, n: int) -> None:
        self.n += n
        self.refresh()

    def refresh(self) -> None:
        self.shown.append((self.n, self.postfix))

    def close(self) -> None:
        self.closed = True


FakeBar.last = None  # type: ignore[attr-defined]


def test_the_postfix_is_current_at_every_redraw_and_at_close() -> None:
    bar = BarProgress("extend classify", bar=FakeBar)
    bar.start(3)
    bar.submitted(3)
    shown = FakeBar.last.shown  # type: ignore[attr-defined]
    assert shown[-1] == (0, "submitted 3, waiting 3, fetched 0, failed 0")
    bar.fetched(1)
    assert shown[-1] == (1, "submitted 3, waiting 2, fetched 1, failed 0")
    bar.fetched(1)
    bar.finished(2, 1, already_fetched=2)  # one row had no run: it advances now
    assert shown[-1] == (3, "submitted 3, waiting 1, fetched 2, failed 1")
    bar.close()
    assert shown[-1] == (3, "submitted 3, waiting 1, fetched 2, failed 1")
    assert FakeBar.last.closed  # type: ignore[attr-defined]


def test_the_plain_line_without_tqdm_shows_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    bar = BarProgress("extend parse", bar=None)
    bar.start(2, already_done=1)
    bar.submitted(1)
    bar.fetched(1)
    bar.finished(1, 0, already_fetched=1)
    bar.close()
    last = capsys.readouterr().err.strip().split("\r")[-1]
    assert last == "extend parse: 2/2 rows (submitted 1, waiting 0, fetched 1, failed 0)"


def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    shell = type("ZMQInteractiveShell", (), {})()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_a_kernel_without_ipywidgets_gets_a_text_bar_and_no_iprogress_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("tqdm")
    from tqdm.std import tqdm as text_bar

    fake_kernel(monkeypatch)
    real = _progress.importlib.util.find_spec
    monkeypatch.setattr(
        _progress.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ipywidgets" else real(name, *a),
    )
    assert bar_class() is text_bar
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bar = BarProgress("extend extract")
        bar.start(1)
        bar.fetched(1)
        bar.close()


def test_a_kernel_with_ipywidgets_gets_the_widget_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm as widget_bar
    from tqdm.std import tqdm as text_bar

    assert bar_class() is text_bar  # a terminal or script: text
    fake_kernel(monkeypatch)
    assert bar_class() is widget_bar


def test_a_job_summary_displays_as_its_string_in_a_notebook() -> None:
    formatters = pytest.importorskip("IPython.core.formatters")
    summary = JobSummary(rows=3, by_status={"FAILED": 1, "PROCESSED": 2}, credits=2.0)
    assert formatters.PlainTextFormatter()(summary) == str(summary)
    table = summary._repr_html_()
    assert table.startswith("<table")
    assert table.endswith("</table>")
    assert "<th style='text-align:left'>FAILED</th><td style='text-align:right'>1</td>" in table
    assert "<th style='text-align:left'>credits</th><td style='text-align:right'>2</td>" in table
    odd = JobSummary(rows=1, by_status={"<b>X</b>": 1}, credits=0.0, output="s3://b/<i>")
    assert "<b>" not in odd._repr_html_()
    assert "&lt;i&gt;" in odd._repr_html_()
    assert str(summary) == "3 rows (FAILED 1, PROCESSED 2), 2 credits"
