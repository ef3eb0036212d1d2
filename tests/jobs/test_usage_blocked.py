"""Out of credits (402 USAGE_BLOCKED) stops a job with a clear error and a resumable output:
after credits are restored, rerunning the same call finishes it without duplicates."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator, Faults

from .conftest import FAST, create_processor, make_client


def test_out_of_credits_stops_the_job_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    rows = pl.DataFrame({"doc": [f"Invoice INV-{i}\nTotal: {i}.00" for i in range(10)]})
    output = str(tmp_path / "out")
    with Emulator(faults=Faults(credit_inputs=4)) as emu:
        ex = create_processor(emu, "extractor")

        def job() -> pl.DataFrame:
            return xf.extract(
                rows,
                processor=ex,
                text_column="doc",
                output=output,
                batch_size=3,
                client=make_client(emu),
                polling=FAST,
                progress=False,
            )

        with pytest.raises(xf.UsageBlockedError) as caught:
            job()
        message = str(caught.value)
        assert "USAGE_BLOCKED" in message
        assert "add credits" in message
        assert "rerun the same call with the same output=" in message
        blocked = emu.stats()
        assert blocked["faults"]["refused_402"] >= 1
        assert 3 <= blocked["inputs_submitted"] < 10  # some batches went in, the rest refused

        emu.add_credits()  # credits restored: no limit any more
        out = job()
        assert out.height == 10
        assert out.get_column("status").cast(pl.String).to_list() == ["PROCESSED"] * 10
        assert out.get_column("doc").to_list() == rows.get_column("doc").to_list()
        final = emu.stats()
        assert final["inputs_submitted"] == 10  # every row sent exactly once over both calls
        assert final["duplicate_inputs"] == 0


def test_402_usage_blocked_on_any_run_request() -> None:
    """The seeded refusal faults: 402/403/422 bodies parse as the SDK's typed errors."""
    from extend_ai import Extend
    from extend_ai.errors import ForbiddenError, PaymentRequiredError, UnprocessableEntityError

    faults = Faults(
        refusals={
            "402 POST /parse_runs/batch": 1.0,
            "403 GET /batch_runs/{id}": 1.0,
            "422 POST /extractors": 1.0,
        }
    )
    import httpx

    with Emulator(faults=faults) as emu:
        sdk = Extend(
            token=emu.api_key, base_url=emu.url, httpx_client=httpx.Client(trust_env=False)
        )
        options: dict[str, int] = {"max_retries": 0}
        with pytest.raises(PaymentRequiredError) as paid:
            sdk.parse_runs.create_batch(inputs=[{"file": {"text": "x"}}], request_options=options)
        assert paid.value.body.code == "USAGE_BLOCKED"
        assert paid.value.body.retryable is False
        with pytest.raises(ForbiddenError):
            sdk.batch_runs.get("bpar_x", request_options=options)
        with pytest.raises(UnprocessableEntityError):
            sdk.extractors.create(name="x", request_options=options)
        assert emu.stats()["inputs_submitted"] == 0  # a refused request creates nothing


def test_an_unknown_refusal_status_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="418"), Emulator(faults=Faults(refusals={"418": 1.0})):
        pass
