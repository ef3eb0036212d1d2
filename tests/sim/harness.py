"""Deterministic simulation: the real engine, on a virtual clock, against a faulty emulator.

One seed decides everything: the input (rows, duplicates, batch size, route), a random mix of
every fault the emulator has (5xx, 5xx after commit, late commits answered 504 or held past the
read timeout, dropped connections, 429 storms, failed batches and runs, 422 refusals, running
out of credits) and the step at which the job is cancelled (a crash) before it is resumed from
its output. The client's clock is a :class:`~extend_frames.api.VirtualClock` tied to the
emulator's manual clock (every client wait advances both), so minutes of grace and backoff
cost no real time, and the emulator's faults are drawn from the seed by request counters: a
failing seed replays exactly (``python scripts/simulate.py --seed N``).

After every call the invariants are checked (:func:`check`):

1. every input row comes back exactly once, with its own document's result;
2. no input was accepted twice by the emulator (``duplicate_inputs``), or, where a late commit
   made it unavoidable, every row with more than one run is flagged ``possible_duplicate``;
3. ``xf.plan`` before each resume equals what the resume sends, by request category: the
   documents it submits (RUN; the create-POSTs themselves when no create-POST failed) and
   the files it uploads (WRITE);
4. ``xf.read_results(output)`` equals the returned frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import polars as pl

import extend_frames as xf
from extend_frames._errors import ExtendError
from extend_frames.api import VirtualClock
from extend_frames.emulator import Emulator, Faults
from extend_frames.emulator._config import Storm
from extend_frames.emulator.samples import INVOICE_EXTRACTOR_CONFIG, generate_samples
from extend_frames.jobs import Reconcile, _engine, _posters

#: Resumes after which a seed counts as stuck (a liveness failure).
MAX_CALLS = 8


class EmulatorTime(VirtualClock):
    """The client's clock, tied to the manual-clock emulator: a client sleep moves both."""

    __slots__ = ("emu",)

    def __init__(self, emu: Emulator) -> None:
        super().__init__()
        self.emu = emu

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        if seconds > 0:
            self.emu.advance(seconds)


@dataclass(frozen=True, slots=True)
class Scenario:
    """What one seed runs."""

    seed: int
    rows: int
    distinct: int
    files: bool  # local files (uploaded first: the WRITE category) instead of text
    batch_size: int
    route: str
    faults: Faults
    crash_step: int  # the engine step (counted over the job) at which the job is cancelled
    crash_after_post: bool  # crash right after a create-POST, before its outcome is recorded
    read_timeout: float

    @classmethod
    def of(cls, seed: int) -> Scenario:
        rng = random.Random(seed)
        rows = rng.randint(1, 24)

        def rate(p: float, high: float) -> float:
            return rng.uniform(0.0, high) if rng.random() < p else 0.0

        storms = ()
        if rng.random() < 0.3:
            storms = (Storm(start=rng.uniform(0, 30), seconds=rng.uniform(1, 20)),)
        # The engine's contract: a create-POST the client gave up on commits within the grace
        # (write + read timeouts) of being sent, or is found by the last look after the
        # resubmission (grace after it). Later commits cannot be noticed by anyone; the
        # simulation stays inside the contract: up to 1.5 x the grace.
        hold = rng.random() < 0.3
        read = 0.5 if hold or rng.random() < 0.5 else 30.0  # a held answer outlives it
        grace = Reconcile().grace_for(xf.Timeouts(read=read))
        refusals: dict[str, float] = {}
        if rng.random() < 0.2:
            refusals = {"422 POST /extract_runs": rng.uniform(0, 0.2)}
        faults = Faults(
            seed=seed,
            error_rate=rate(0.5, 0.15),
            error_after_commit_rate=rate(0.4, 0.3),
            drop_rate=rate(0.3, 0.1),
            batch_failure_rate=rate(0.2, 0.3),
            run_failure_rate=rate(0.3, 0.2),
            late_commit_rate=rate(0.4, 0.5),
            late_commit_seconds=grace * rng.choice([0.1, 0.5, 0.9, 1.5]),
            late_commit_answer="hold" if hold else "504",
            storms=storms,
            refusals=refusals,
            credit_inputs=rng.randint(1, rows) if rng.random() < 0.15 else None,
        )
        return cls(
            seed=seed,
            rows=rows,
            distinct=rng.randint(1, rows),
            files=rng.random() < 0.3,
            batch_size=rng.randint(1, 10),
            route=rng.choice(["batch", "single"]),
            faults=faults,
            crash_step=rng.randint(1, 14),
            crash_after_post=rng.random() < 0.5,
            read_timeout=read,
        )

    @property
    def column(self) -> str:
        return "doc" if self.files else "text"

    def frame(self) -> pl.DataFrame:
        rng = random.Random(self.seed)
        if self.files:
            truth = invoices()
            docs = rng.sample(sorted(truth), min(self.distinct, len(truth)))
        else:
            docs = [f"Invoice number: S{self.seed}-{i}" for i in range(self.distinct)]
        texts = docs + [rng.choice(docs) for _ in range(self.rows - len(docs))]
        rng.shuffle(texts)
        return pl.DataFrame({"id": list(range(self.rows)), self.column: texts})

    def expected(self, docs: pl.Series) -> pl.Series:
        """The invoice number each document holds."""
        if self.files:
            return docs.replace_strict(invoices(), return_dtype=pl.String)
        return docs.str.replace("Invoice number: ", "")


_CORPUS: dict[str, str] = {}


def invoices() -> dict[str, str]:
    """Local invoice files (made once per process) -> their invoice number."""
    if not _CORPUS:
        folder = Path(tempfile.mkdtemp(prefix="extend-sim-"))
        corpus = generate_samples(folder, count=24, seed=1)
        truth = pl.read_parquet(corpus.ground_truth_path).filter(
            (pl.col("doc_type") == "invoice")
            & pl.col("password").is_null()
            & pl.col("expected_failure").is_null()
        )
        for path, number in truth.select("path", "invoice_number").iter_rows():
            _CORPUS[str(folder / path)] = str(number)
    return _CORPUS


@dataclass(slots=True)
class Outcome:
    """What one seed saw (for the figures and for failing loudly)."""

    seed: int
    calls: int = 0
    crashed: bool = False
    faults: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    flagged: int = 0


class _Crash:
    """Cancels the running job at its ``step``-th engine step (or right after a create-POST)."""

    def __init__(self, step: int, after_post: bool) -> None:
        self.step, self.after_post = step, after_post
        self.count = 0
        self.fired = False
        self.task: asyncio.Task[Any] | None = None

    def due(self) -> bool:
        self.count += 1
        if self.fired or self.task is None or self.count < self.step:
            return False
        self.fired = True
        self.task.cancel()
        return True


@contextlib.contextmanager
def _instrumented(crash: _Crash, sent: list[str], uploads: list[str]) -> Iterator[None]:
    """Count and record what the engine does; cancel it at the crash step."""
    execute, upload = _engine.Engine._execute, _engine.upload_paths

    async def uploading(client: Any, spec: Any, paths: Any, slots: Any) -> Any:
        uploads.extend(paths)
        return await upload(client, spec, paths, slots)

    posts = {p: p.post for p in (_posters.BatchPoster, _posters.SinglePoster)}

    async def step(self: Any, step: Any, *args: Any) -> Any:
        if not crash.after_post and crash.due():
            await asyncio.sleep(0)  # the cancel lands here, before the step's I/O
        return await execute(self, step, *args)

    def poster(cls: Any) -> Any:
        async def post(self: Any, keys: Any, files: Any) -> Any:
            sent.extend(keys)
            posted = await posts[cls](self, keys, files)
            if crash.after_post and crash.due():
                await asyncio.sleep(0)  # the POST was made; its outcome is never recorded
            return posted

        return post

    _engine.Engine._execute = step  # type: ignore[method-assign]
    _engine.upload_paths = uploading
    for cls in posts:
        cls.post = poster(cls)  # type: ignore[method-assign]
    try:
        yield
    finally:
        _engine.Engine._execute = execute  # type: ignore[method-assign]
        _engine.upload_paths = upload
        for cls, original in posts.items():
            cls.post = original  # type: ignore[method-assign]


def _processor(emu: Emulator) -> str:
    """An extractor (the create POST may meet a fault: try again, it is not ours to test)."""
    for _ in range(50):
        try:
            response = httpx.post(
                f"{emu.url}/extractors",
                json={"name": "sim", "config": INVOICE_EXTRACTOR_CONFIG},
                headers={
                    "Authorization": f"Bearer {emu.api_key}",
                    "x-extend-api-version": "2026-02-09",
                },
                timeout=60.0,
            )
        except httpx.TransportError:
            continue
        if response.status_code == 200:
            return str(response.json()["id"])
    raise AssertionError("could not create the processor")


def simulate(seed: int) -> Outcome:
    """Run seed ``seed`` (see the module docstring); AssertionError names what broke."""
    scenario = Scenario.of(seed)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Emulator(faults=scenario.faults, clock="manual") as emu,
    ):
        processor = _processor(emu)
        return asyncio.run(_scenario(scenario, emu, processor, Path(tmp) / "out"))


async def _scenario(scenario: Scenario, emu: Emulator, processor: str, out: Path) -> Outcome:
    outcome = Outcome(scenario.seed)
    frame = scenario.frame()
    client = xf.Client(
        api_key=emu.api_key,
        base_url=emu.url,
        retry=xf.RetryPolicy(clock=EmulatorTime(emu)),
        timeout=xf.Timeouts(read=scenario.read_timeout),
    )
    options: dict[str, Any] = {
        "processor": processor,
        "file_column" if scenario.files else "text_column": scenario.column,
        "output": str(out),
        "client": client,
        "progress": False,
        "batch_size": scenario.batch_size,
        "route": scenario.route,
        # one chunk, upload and fetch at a time: the emulator draws faults by request order
        "concurrency": xf.Concurrency(batches=1, uploads=1, fetches=1),
    }
    crash = _Crash(scenario.crash_step, scenario.crash_after_post)
    result: pl.DataFrame | None = None
    while result is None:
        outcome.calls += 1
        if outcome.calls > MAX_CALLS:
            raise AssertionError(f"seed {scenario.seed}: not finished after {MAX_CALLS} calls")
        plan = await xf.aplan(frame, "extract", **options) if outcome.calls > 1 else None
        before = emu.stats()
        sent: list[str] = []
        uploads: list[str] = []
        crash.task = asyncio.current_task()
        try:
            with _instrumented(crash, sent, uploads):
                result = await xf.aextract(frame, **options)
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            outcome.crashed = True
        except ExtendError:
            emu.add_credits(None)  # out of credits (or refused, ambiguous): add them, resume
        finally:
            crash.task = None
        emu.advance(300.0)  # the rerun comes later: every late commit has landed
        if plan is not None and result is not None:  # a resume that ran to its end
            _check_plan(scenario.seed, plan, before, emu.stats(), sent, uploads)
    check(scenario.seed, frame, result, emu, out, outcome)
    return outcome


def _check_plan(
    seed: int,
    plan: xf.Plan,
    before: dict[str, Any],
    after: dict[str, Any],
    sent: list[str],
    uploads: list[str],
) -> None:
    """Invariant 3: the plan made before a resume lists what the resume sent."""
    creates = _creates(after) - _creates(before)
    failed = _failed_creates(after) - _failed_creates(before)
    distinct = len(dict.fromkeys(sent))
    if plan.to_submit != distinct:
        raise AssertionError(
            f"seed {seed}: xf.plan said {plan.to_submit} documents to submit, the resume "
            f"submitted {distinct} (plan: {plan!r})"
        )
    if failed == 0 and plan.requests["RUN"] != creates:
        raise AssertionError(
            f"seed {seed}: xf.plan said {plan.requests['RUN']} RUN requests, the resume sent "
            f"{creates}"
        )
    if plan.uploads != len(dict.fromkeys(uploads)):
        raise AssertionError(
            f"seed {seed}: xf.plan said {plan.uploads} uploads, the resume uploaded "
            f"{len(dict.fromkeys(uploads))} files"
        )


def _routes(stats: dict[str, Any], prefix: str) -> dict[str, dict[str, int]]:
    return {r: c for r, c in stats["requests"].items() if r.startswith(prefix)}


def _creates(stats: dict[str, Any]) -> int:
    return sum(
        sum(codes.values()) for codes in _routes(stats, "POST /extract_runs").values()
    ) - sum(
        sum(c.values()) for r, c in _routes(stats, "POST /extract_runs/").items() if "cancel" in r
    )


def _failed_creates(stats: dict[str, Any]) -> int:
    total = 0
    for route, codes in _routes(stats, "POST /extract_runs").items():
        if "cancel" not in route:
            total += sum(n for code, n in codes.items() if not code.startswith("2"))
    return total + sum(stats["faults"].get(k, 0) for k in ("dropped", "late_commits"))


def check(
    seed: int,
    frame: pl.DataFrame,
    result: pl.DataFrame | None,
    emu: Emulator,
    out: Path,
    outcome: Outcome,
) -> None:
    """Invariants 1, 2 and 4 on the finished job (see the module docstring)."""
    assert result is not None
    got = result.sort("id")
    if got.get_column("id").to_list() != frame.get_column("id").to_list():
        raise AssertionError(f"seed {seed}: rows lost or repeated: {got.get_column('id')}")
    column = Scenario.of(seed).column
    if (got.get_column(column) != frame.sort("id").get_column(column)).any():
        raise AssertionError(f"seed {seed}: a row came back with another row's input")
    processed = got.filter(pl.col("status") == "PROCESSED")
    numbers = processed.get_column("output").struct.field("invoice_number")
    expected = Scenario.of(seed).expected(processed.get_column(column))
    if (numbers != expected).any():
        raise AssertionError(f"seed {seed}: a row has another document's result")
    stats = emu.stats()
    outcome.faults = {k: int(v) for k, v in stats["faults"].items()}
    outcome.duplicates = int(stats["duplicate_inputs"])
    twice = _paid_twice(emu)
    flagged = set(got.filter(pl.col("possible_duplicate")).get_column(column).to_list())
    outcome.flagged = len(flagged)
    # text documents name themselves in the run; an uploaded file only by its (new) id
    missed = len(twice) - len(flagged) if Scenario.of(seed).files else len(set(twice) - flagged)
    if missed > 0:
        raise AssertionError(
            f"seed {seed}: {missed} document(s) accepted twice by the emulator are not "
            f"flagged possible_duplicate ({stats['duplicate_inputs']} duplicate inputs)"
        )
    stored = xf.read_results(str(out)).sort("id")
    if not stored.equals(got.select(stored.columns)):
        raise AssertionError(f"seed {seed}: read_results differs from the returned frame")


def _paid_twice(emu: Emulator) -> list[str]:
    """The documents (their text, else their row key) with more than one run of the job."""
    state = emu._app().emulator  # the operator's view of every run, not the API's
    seen: dict[tuple[Any, Any], list[str]] = {}
    for run in list(state.runs.values()):
        meta = run.metadata if isinstance(run.metadata, dict) else {}
        ours = meta.get("extend_frames")
        if isinstance(ours, dict):
            text = (run.file_input or {}).get("text") if isinstance(run.file_input, dict) else None
            seen.setdefault((ours.get("job"), ours.get("row")), []).append(str(text))
    return [texts[0] for texts in seen.values() if len(texts) > 1]
