"""``extend-frames parse|extract|classify|split|status`` against the emulator: inputs in every
format, Parquet out, resume without resending, and the exit codes a scheduler acts on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from extend_frames.emulator.samples import SampleSet
from extend_frames.store import JobStore

from .conftest import FAST, Result, create_processor, invoices

Cli = Callable[..., Result]


def test_extract_csv_to_parquet_exit_0(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    rows = invoices(truth)
    rows.write_csv(tmp_path / "in.csv")
    out = tmp_path / "out"
    res = cli("extract", tmp_path / "in.csv", "--processor", extractor, "--key", "id",
              "--output", out)  # fmt: skip
    assert res.code == 0, res.err
    assert f"extract: {rows.height} rows ({rows.height} PROCESSED)" in res.out
    assert str(out) in res.out
    got = xf.read_results(str(out))
    assert got.select("id", "file").equals(rows)  # every row, in input order
    number = got.get_column("output").struct.field("invoice_number")
    want = truth.filter(pl.col("path").is_in(rows["id"].to_list())).get_column("invoice_number")
    assert sorted(number.to_list()) == sorted(want.to_list())
    assert got.get_column("output").struct.field("invoice_date").dtype == pl.Date
    assert emulator.api_key not in res.out + res.err


def test_failed_rows_exit_3_with_reasons_and_json(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    rows = invoices(truth, broken=True)
    rows.write_parquet(tmp_path / "in.parquet")
    res = cli("extract", tmp_path / "in.parquet", "--processor", extractor,
              "--output", tmp_path / "out", "--json")  # fmt: skip
    assert res.code == 3, res.err
    summary = json.loads(res.out)
    broken = truth.filter(pl.col("expected_failure").is_not_null())
    assert summary["by_status"]["FAILED"] == broken.height
    assert summary["by_status"]["PROCESSED"] == rows.height - broken.height
    want = broken.group_by("expected_failure").len()
    assert summary["failure_reasons"] == dict(want.iter_rows())
    assert summary["exit_code"] == 3
    assert summary["complete"] is True


def test_rerun_same_output_sends_nothing(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    invoices(truth, broken=True).write_ndjson(tmp_path / "in.ndjson")
    argv = ("extract", tmp_path / "in.ndjson", "--processor", extractor, "--output",
            tmp_path / "out", "--batch-size", "3")  # fmt: skip
    first = cli(*argv)
    assert first.code == 3, first.err
    before = emulator.stats()
    assert before["inputs_submitted"] > 0
    second = cli(*argv)
    after = emulator.stats()
    assert second.code == 3
    assert after["inputs_submitted"] == before["inputs_submitted"]
    assert after["batches_created"] == before["batches_created"]
    # The same counts and credits; only the time differs.
    assert second.out.split(" credits")[0] == first.out.split(" credits")[0]


def test_status_reports_the_ledger(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    rows = invoices(truth, broken=True)
    rows.write_csv(tmp_path / "in.csv")
    out = tmp_path / "out"
    assert cli("extract", tmp_path / "in.csv", "--processor", extractor, "--output", out,
               "--batch-size", "4").code == 3  # fmt: skip
    text = cli("status", out)
    assert text.code == 3
    assert text.out.startswith(f"{out}: complete")
    assert f"rows: {rows.height}" in text.out
    assert extractor in text.out
    report = cli("status", out, "--json")
    data = json.loads(report.out)
    assert report.code == 3
    assert data["state"] == "complete"
    assert data["rows"] == rows.height
    assert data["batches_by_state"]["collected"] == -(-rows.height // 4)
    assert (
        data["by_status"]["FAILED"] == truth.filter(pl.col("expected_failure").is_not_null()).height
    )
    assert data["credits"] > 0


def test_status_of_clean_incomplete_and_missing_outputs(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    invoices(truth).write_csv(tmp_path / "in.csv")
    clean = tmp_path / "clean"
    assert cli("extract", tmp_path / "in.csv", "--processor", extractor,
               "--output", clean).code == 0  # fmt: skip
    assert cli("status", clean).code == 0

    # An interrupted job: a manifest and a ledger intent, no parts, no _SUCCESS.
    half = JobStore.open(str(tmp_path / "half"))
    with half.lock("test"):
        half.write_manifest({"operation": "extract", "processor_id": "ex_1", "n_chunks": 2})
        half.record(0, "intent", row_keys=["a"])
    res = cli("status", tmp_path / "half", "--json")
    assert res.code == 4
    assert json.loads(res.out)["batches_by_state"]["intent"] == 1

    missing = cli("status", tmp_path / "nothing-here")
    assert missing.code == 1
    assert "no job output" in missing.err


def test_glob_parse_one_row_per_file(
    cli: Cli, emulator: Emulator, corpus: SampleSet, tmp_path: Path
) -> None:
    folder = Path(corpus.directory)
    pattern = str(folder / "*_invoice.*")
    res = cli("parse", "--glob", pattern, "--output", tmp_path / "out")
    assert res.code == 0, res.err
    got = xf.read_results(str(tmp_path / "out"))
    assert sorted(got.get_column("file").to_list()) == sorted(
        str(p) for p in folder.glob("*_invoice.*")
    )
    assert (got.get_column("output").struct.field("markdown").str.len_chars() > 20).all()


def test_classify_text_column_and_split(
    cli: Cli, emulator: Emulator, truth: pl.DataFrame, tmp_path: Path
) -> None:
    notes = pl.DataFrame(
        {
            "body": [
                "INVOICE No. 4711. Invoice date 2025-01-02. Due date 2025-02-01. "
                "Line items. Amount due: 120.00 EUR",
                "Agreement between the parties. Terms, clauses, termination, signatures.",
            ]
        }
    )
    notes.write_ndjson(tmp_path / "notes.jsonl")
    cl = create_processor(emulator, "classifier")
    res = cli("classify", tmp_path / "notes.jsonl", "--text-column", "body",
              "--processor", cl, "--output", tmp_path / "types")  # fmt: skip
    assert res.code == 0, res.err
    types = xf.read_results(str(tmp_path / "types")).get_column("output").struct.field("type")
    assert types.to_list() == ["invoice", "contract"]

    packets = truth.filter(pl.col("doc_type") == "packet").select("file")
    packets.write_csv(tmp_path / "packets.csv")
    spl = create_processor(emulator, "splitter")
    res = cli("split", tmp_path / "packets.csv", "--processor", spl,
              "--output", tmp_path / "splits")  # fmt: skip
    assert res.code == 0, res.err
    got = xf.read_results(str(tmp_path / "splits"))
    starts = got.get_column("output").list.eval(pl.element().struct.field("start_page"))
    want = truth.filter(pl.col("doc_type") == "packet").get_column("splits")
    want_starts = want.list.eval(pl.element().struct.field("start_page").cast(pl.Int64))
    assert starts.to_list() == want_starts.to_list()


def test_format_flag_overrides_the_extension(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    invoices(truth).head(2).write_csv(tmp_path / "list.txt")
    no_ext = cli("extract", tmp_path / "list.txt", "--processor", extractor,
                 "--output", tmp_path / "a")  # fmt: skip
    assert no_ext.code == 1
    assert "--format" in no_ext.err
    res = cli("extract", tmp_path / "list.txt", "--format", "csv", "--processor", extractor,
              "--output", tmp_path / "b")  # fmt: skip
    assert res.code == 0, res.err


def test_webhook_wait(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    invoices(truth).head(3).write_csv(tmp_path / "in.csv")
    res = cli("extract", tmp_path / "in.csv", "--processor", extractor, "--output",
              tmp_path / "out", "--wait", "webhook", "--json")  # fmt: skip
    assert res.code == 0, res.err
    assert json.loads(res.out)["by_status"] == {"PROCESSED": 3}
    # The CLI's receiver accepted (verified) the batch-completion event.
    delivered = [
        d
        for d in emulator.deliveries()
        if d["eventType"] == "batch_processor_run.processed" and d["delivered"]
    ]
    assert len(delivered) == 1
    assert delivered[0]["status"] == 200


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--processor", "ex_doesnotexist"], "ex_doesnotexist"),  # API 404
        (["--processor", "{ex}", "--file-column", "url"], "url"),  # missing column
        (["--processor", "{ex}", "--key", "nope"], "nope"),  # missing key column
    ],
)
def test_errors_exit_1_with_a_message(
    argv: list[str],
    message: str,
    cli: Cli,
    emulator: Emulator,
    extractor: str,
    truth: pl.DataFrame,
    tmp_path: Path,
) -> None:
    invoices(truth).head(2).write_csv(tmp_path / "in.csv")
    args = [a.format(ex=extractor) for a in argv]
    res = cli("extract", tmp_path / "in.csv", *args, "--output", tmp_path / "out")
    assert res.code == 1
    assert res.err.startswith("extend-frames extract: error:")
    assert message in res.err
    assert emulator.stats()["inputs_submitted"] == 0


def test_unreadable_input_and_missing_key_exit_1(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    res = cli("parse", tmp_path / "missing.csv", "--output", tmp_path / "out")
    assert res.code == 1
    assert "does not exist" in res.err
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    res = cli("parse", tmp_path / "bad.parquet", "--output", tmp_path / "out")
    assert res.code == 1
    assert "cannot read" in res.err
    (tmp_path / "ok.csv").write_text("file\n/tmp/x.pdf\n")
    monkeypatch.delenv("EXTEND_API_KEY", raising=False)
    res = cli("parse", tmp_path / "ok.csv", "--output", tmp_path / "out")
    assert res.code == 1
    assert "EXTEND_API_KEY" in res.err
    res = cli("parse", "--glob", str(tmp_path / "*.pdf"), "--output", tmp_path / "out")
    assert res.code == 1
    assert "matches no file" in res.err


def test_usage_errors_exit_2(cli: Cli, tmp_path: Path) -> None:
    no_processor = cli("extract", tmp_path / "in.csv", "--output", tmp_path / "out")
    assert no_processor.code == 2
    assert "--processor" in no_processor.err
    assert cli("parse", tmp_path / "in.csv").code == 2  # no --output
    assert cli("extract", "in.csv", "--wait", "sometimes", "--output", "o").code == 2
    both = cli("parse", tmp_path / "in.csv", "--glob", "*.pdf", "--output", tmp_path / "o")
    assert both.code == 2
    assert "either INPUT" in both.err
    size = cli("parse", tmp_path / "in.csv", "--batch-size", "5000", "--output", tmp_path / "o")
    assert size.code == 2
    assert "--batch-size" in size.err


@pytest.mark.parametrize("command", ["parse", "extract", "classify", "split", "status"])
def test_help_documents_exit_codes_and_examples(command: str, cli: Cli) -> None:
    res = cli(command, "--help")
    assert res.code == 0
    assert "examples:" in res.out
    assert "exit codes:" in res.out
    assert "  3  complete, but some rows FAILED or CANCELLED" in res.out


def _env(emu: Emulator) -> dict[str, str]:
    env = dict(os.environ)
    env.update(EXTEND_API_KEY=emu.api_key, EXTEND_BASE_URL=emu.url)
    return env


def test_real_process_exit_codes(
    emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    """The installed entry point as a scheduler runs it: a subprocess and its exit status."""
    invoices(truth, broken=True).write_csv(tmp_path / "in.csv")
    cmd = [sys.executable, "-m", "extend_frames.cli", "extract", str(tmp_path / "in.csv"),
           "--processor", extractor, "--output", str(tmp_path / "out"), *FAST]  # fmt: skip
    done = subprocess.run(cmd, env=_env(emulator), capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "failure reasons:" in done.stdout
    assert emulator.api_key not in done.stdout + done.stderr
    status = subprocess.run(
        [sys.executable, "-m", "extend_frames.cli", "status", str(tmp_path / "out"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 3
    assert json.loads(status.stdout)["complete"] is True
    for name in os.listdir(tmp_path / "out"):
        if name.endswith(".json"):
            assert emulator.api_key not in (tmp_path / "out" / name).read_text()


def test_fsspec_input_and_output(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame
) -> None:
    import fsspec

    rows = invoices(truth).head(3)
    with fsspec.open("memory://cli-test/in.csv", "wb") as fh:
        rows.write_csv(fh)
    res = cli("extract", "memory://cli-test/in.csv", "--processor", extractor,
              "--output", "memory://cli-test/out", "--key", "id")  # fmt: skip
    assert res.code == 0, res.err
    got = xf.read_results("memory://cli-test/out")
    assert got.get_column("id").to_list() == rows.get_column("id").to_list()
    assert cli("status", "memory://cli-test/out").code == 0


def test_storage_options_parse_scalars() -> None:
    from extend_frames.cli._jobs import storage_options

    assert storage_options([]) is None
    assert storage_options(["anon=true", "port=9000", "ratio=0.5", "profile=etl"]) == {
        "anon": True,
        "port": 9000,
        "ratio": 0.5,
        "profile": "etl",
    }
    with pytest.raises(xf.InputError, match="KEY=VALUE"):
        storage_options(["novalue"])


def test_other_input_into_the_same_output_exits_1_until_overwrite(
    cli: Cli, emulator: Emulator, extractor: str, truth: pl.DataFrame, tmp_path: Path
) -> None:
    rows = invoices(truth)
    rows.head(2).write_csv(tmp_path / "a.csv")
    rows.tail(2).write_csv(tmp_path / "b.csv")
    out = tmp_path / "out"
    assert cli("extract", tmp_path / "a.csv", "--processor", extractor, "--output", out).code == 0
    refused = cli("extract", tmp_path / "b.csv", "--processor", extractor, "--output", out)
    assert refused.code == 1
    assert "overwrite" in refused.err
    before = emulator.stats()["inputs_submitted"]
    again = cli("extract", tmp_path / "b.csv", "--processor", extractor, "--output", out,
                "--mode", "overwrite")  # fmt: skip
    assert again.code == 0, again.err
    assert emulator.stats()["inputs_submitted"] == before + 2
    got = xf.read_results(str(out)).get_column("file").to_list()
    assert got == rows.tail(2).get_column("file").to_list()


def test_transient_errors_exit_75_and_terminal_ones_1(
    cli: Cli, truth: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every run-creating POST answers 500: the outcome is unknown, nothing is submitted twice, and
    the command exits 75 (rerun later, it resumes); a missing API key is terminal (1)."""
    from extend_frames.emulator import Faults

    faults = Faults(error_rates={"RUN": 1.0})  # every run-creating POST (batch or single)
    with Emulator(faults=faults) as emu:
        monkeypatch.setenv("EXTEND_API_KEY", emu.api_key)
        monkeypatch.setenv("EXTEND_BASE_URL", emu.url)
        extractor = create_processor(emu, "extractor")
        invoices(truth).head(2).write_csv(tmp_path / "in.csv")
        args = ("extract", tmp_path / "in.csv", "--processor", extractor)
        res = cli(*args, "--output", tmp_path / "out")
        assert res.code == 75, res.err
        assert res.err.startswith("extend-frames extract: transient error:")
        assert emu.stats()["inputs_submitted"] == 0
        monkeypatch.delenv("EXTEND_API_KEY")
        terminal = cli(*args, "--output", tmp_path / "out2")
        assert terminal.code == 1
        assert terminal.err.startswith("extend-frames extract: error: no API key")


def test_file_and_text_column_flags_together_are_refused_naming_both(
    emulator: Emulator, cli: Cli, tmp_path: Path
) -> None:
    pl.DataFrame({"file": ["a.pdf"], "body": ["Invoice 1"]}).write_csv(tmp_path / "in.csv")
    res = cli("extract", tmp_path / "in.csv", "--processor", "ex_1", "--file-column", "file",
              "--text-column", "body", "--output", tmp_path / "o")  # fmt: skip
    assert res.code == 1, res.err
    assert "drop --file-column to send the text of 'body'" in res.err
    assert "drop --text-column to send the files of 'file'" in res.err
    assert not (tmp_path / "o").exists()
    assert emulator.stats()["requests_total"] == 0
