"""OpenTelemetry over a real job with faults: one trace per job, a span per batch with its id,
request spans with status codes, metrics equal to the emulator's counters, no secret anywhere.

The emulator runs on a manual clock tied to the client's virtual clock (``EmulatorTime``), so
the 429 storm's Retry-After holds and the 5xx backoffs cost no real time.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
from opentelemetry.trace import SpanKind, StatusCode

import extend_frames as xf
from extend_frames.emulator import Emulator, Faults, Storm
from tests._otel import Telemetry
from tests._otel import otel as otel  # the fixture

from .conftest import FAST, create_processor
from .test_late_commits import EmulatorTime

KEY = "sk_canary_key_5f1e0c9d8b7a"
SIGNATURE = "canarysig0123456789abcdef"
DOC_TEXT = "Invoice number: CANARY-TEXT-77"
ROWS = 12


def _files(corpus_url: str, truth: pl.DataFrame) -> pl.DataFrame:
    """Invoice URLs, presigned-looking; one row on a host that fails its run."""
    paths = truth.filter(pl.col("doc_type") == "invoice").get_column("path").head(ROWS - 1)
    query = f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={SIGNATURE}"
    urls = [f"{corpus_url}/{p}{query}" for p in paths]
    urls.append(f"https://fail.example/doc.pdf?reason=CORRUPT_FILE&X-Amz-Signature={SIGNATURE}")
    return pl.DataFrame({"name": [f"doc-{i}" for i in range(len(urls))], "url": urls})


def _run_jobs(
    tmp_path: Path, corpus_url: str, truth: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The stored URL job's rows then the text job's (batch_id, credits), and what the
    emulator counted meanwhile."""
    faults = Faults(
        seed=5,
        error_rates={"GET": 0.15},
        storms=(Storm(start=0.0, seconds=4.0, categories=("GET",), retry_after=2),),
    )
    with Emulator(api_key=KEY, faults=faults, clock="manual") as emu:
        extractor = create_processor(emu, "extractor")
        before = emu.stats()
        client = xf.Client(
            api_key=KEY, base_url=emu.url, retry=xf.RetryPolicy(clock=EmulatorTime(emu))
        )
        out = xf.extract(
            _files(corpus_url, truth),
            processor=extractor,
            file_column="url",
            key="name",
            batch_size=4,
            output=str(tmp_path / "out"),
            client=client,
            polling=FAST,
            progress=False,
            route="batch",
        )
        # a text job too: the document's text must not reach telemetry either
        text = xf.extract(
            pl.DataFrame({"text": [DOC_TEXT]}),
            processor=extractor,
            text_column="text",
            client=client,
            polling=FAST,
            progress=False,
        )
        after = emu.stats()
    return pl.concat(
        [out.select("batch_id", "credits"), text.select("batch_id", "credits")]
    ), _delta(before, after)


def _delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The emulator's request counters of the jobs (the processor's creation excluded)."""
    requests: Counter[tuple[str, str]] = Counter()
    for route, codes in after["requests"].items():
        for code, n in codes.items():
            requests[(route, code)] += n - before["requests"].get(route, {}).get(code, 0)
    return {**after, "requests": +requests}


def test_a_job_with_faults_is_one_trace_with_metrics_equal_to_the_servers(
    otel: Telemetry, tmp_path: Path, corpus_url: str, truth: pl.DataFrame
) -> None:
    out, server = _run_jobs(tmp_path, corpus_url, truth)
    spans = otel.spans()
    points = otel.points()

    jobs = [s for s in spans if s.name == "extend_frames.job"]
    assert len(jobs) == 2  # the stored job and the text job: one trace each
    job = next(s for s in jobs if s.attributes and s.attributes.get("extend.route") == "batch")
    trace_id = job.context.trace_id
    assert job.parent is None
    assert job.attributes is not None
    assert job.attributes["extend.operation"] == "extract"
    ours = [s for s in spans if s.context.trace_id == trace_id]
    assert {s.context.trace_id for s in spans} == {j.context.trace_id for j in jobs}

    # a span per batch, with its batch id; the result's batch ids are exactly those
    chunks = [s for s in ours if s.name == "extend_frames.chunk"]
    assert len(chunks) == ROWS // 4
    batch_ids = {s.attributes["extend.batch_id"] for s in chunks if s.attributes}
    assert batch_ids == set(out.get_column("batch_id").head(ROWS).to_list())
    assert {s.attributes["extend.chunk"] for s in chunks if s.attributes} == {0, 1, 2}
    for name in ("extend_frames.submit", "extend_frames.wait", "extend_frames.collect"):
        assert sum(s.name == name for s in ours) == ROWS // 4, name

    # HTTP client spans: semantic-convention names and attributes, one per attempt
    http = [s for s in spans if s.kind is SpanKind.CLIENT]
    for s in http:
        attrs = s.attributes or {}
        assert s.name == f"{attrs['http.request.method']} {attrs['url.template']}"
        assert attrs["server.address"] == "127.0.0.1"
        status = attrs["http.response.status_code"]
        assert (s.status.status_code is StatusCode.ERROR) == (status >= 400)
        if status >= 400:
            assert attrs["error.type"] == str(status)
    by_status = Counter(
        (f"{s.attributes['http.request.method']} {s.attributes['url.template']}",
         str(s.attributes["http.response.status_code"]))
        for s in http if s.attributes
    )  # fmt: skip
    assert by_status == server["requests"]  # every attempt the server saw, and no other
    assert any(code == "429" for _, code in by_status), by_status  # the storm was met
    assert any(code == "500" for _, code in by_status)  # and the 5xx faults

    # metrics: requests, 429s, rows and credits agree with the server and the result
    requests = Counter()
    for attrs, point in points["extend_frames.requests"]:
        key = f"{attrs['http.request.method']} {attrs['url.template']}"
        requests[(key, str(attrs["http.response.status_code"]))] += point.value
    assert requests == server["requests"]
    limited = {
        a["extend.rate_limit.category"]: p.value for a, p in points["extend_frames.rate_limited"]
    }
    assert limited == {k.lower(): v for k, v in server["rate_limited"].items()}
    holds = points["extend_frames.retry_after"]
    assert sum(p.count for _, p in holds) == sum(limited.values())
    rows = Counter()
    for attrs, point in points["extend_frames.rows"]:
        rows[attrs["extend.status"]] += point.value
    assert rows == server["runs"]["extract"] == {"PROCESSED": ROWS, "FAILED": 1}
    credits = sum(p.value for _, p in points["extend_frames.credits"])
    assert credits == out.get_column("credits").sum() > 0
    in_flight = sum(p.value for _, p in points["extend_frames.documents.in_flight"])
    assert in_flight == 0

    _assert_no_secret(otel, spans, points)


def _assert_no_secret(otel: Telemetry, spans: list[Any], points: dict[str, Any]) -> None:
    canaries = (KEY, SIGNATURE, "X-Amz-", "CANARY-TEXT")
    texts: list[str] = []
    for s in spans:
        texts += [s.name, s.status.description or "", *map(str, (s.attributes or {}).items())]
        for event in s.events:
            texts += [event.name, *map(str, (event.attributes or {}).items())]
    for name, found in points.items():
        texts.append(name)
        texts += [str(attrs) for attrs, _ in found]
    assert texts
    for canary in canaries:
        assert not [t for t in texts if canary in t], canary


def test_importing_the_package_does_not_import_opentelemetry() -> None:
    code = (
        "import sys, extend_frames, extend_frames.api, extend_frames.jobs;"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')], 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_opentelemetry_everything_is_a_no_op() -> None:
    code = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "from extend_frames import _telemetry as t\n"
        "with t.span('extend_frames.job', {'extend.job_id': 'j'}) as s:\n"
        "    s.set('extend.batch_id', 'b'); t.current().set('x', 1)\n"
        "    t.add('extend_frames.rows', 1); t.record('extend_frames.retry_after', 1.0)\n"
        "    t.move('extend_frames.documents.in_flight', -1)\n"
        "    t.observe('extend_frames.pacer.rate', s, lambda o: [(1.0, {})])\n"
        "assert t._STATE is False\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_name_is_registered_and_documented() -> None:
    from extend_frames._telemetry import ATTRIBUTES, METRICS, SPANS

    root = Path(__file__).resolve().parents[2]
    call = re.compile(r"""\b(?:span|add|record|move|observe)\(\s*["']([^"'{]+)["']""")
    used = {
        name
        for path in (root / "extend_frames").rglob("*.py")
        if path.name != "_telemetry.py"  # its doctest uses example names
        for name in call.findall(path.read_text(encoding="utf-8"))
    }
    assert "extend_frames.chunk" in used
    assert "extend_frames.requests" in used
    assert used - {*SPANS, *METRICS} == set()
    guide = (root / "docs" / "guides" / "observability.md").read_text(encoding="utf-8")
    missing = [n for n in [*SPANS, *METRICS, *ATTRIBUTES] if f"`{n}`" not in guide]
    assert missing == []
