"""wait="webhook": the job sleeps until Extend's signed batch events arrive, and still polls
slowly so a lost delivery only delays a batch. Deliveries here are duplicated, reordered and
some dropped; forged ones never count."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator, Speed, WebhookOptions

from .conftest import create_processor, make_client

ROWS = 200
POLLING = xf.Polling(initial=0.05, factor=1.3, maximum=0.4, jitter=0.0)


def frame() -> pl.DataFrame:
    return pl.DataFrame({"text": [f"Invoice number: W-{i}" for i in range(ROWS)]})


def run_job(emu: Emulator, wait: str, receiver: Any = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    ex = create_processor(emu, "extractor")
    out = xf.extract(
        frame(),
        processor=ex,
        text_column="text",
        batch_size=20,
        client=make_client(emu),
        polling=POLLING,
        wait=wait,  # type: ignore[arg-type]
        webhook=receiver,
        progress=False,
    )
    return out, emu.stats()


def batch_polls(stats: dict[str, Any]) -> int:
    return sum(stats["requests"].get("GET /batch_runs/{id}", {}).values())


@pytest.mark.slow
def test_webhook_wait_completes_with_fewer_polls_despite_lost_and_duplicate_deliveries() -> None:
    speed = Speed(run_latency=0.01)
    hooks = WebhookOptions(
        retry_schedule=(0.05, 0.1),
        per_run_events=False,
        duplicate_rate=0.5,
        reorder=True,
        drop_rate=0.2,
        seed=3,
    )
    with Emulator(speed=speed) as emu:
        polled, poll_stats = run_job(emu, "poll")
    with Emulator(speed=speed, webhooks=hooks) as emu, xf.WebhookReceiver() as receiver:
        hooked, hook_stats = run_job(emu, "webhook", receiver)
        hub = receiver.hub.stats()

    for out in (polled, hooked):
        assert out.height == ROWS
        assert (out.get_column("status") == "PROCESSED").all()
        numbers = out.get_column("output").struct.field("invoice_number").to_list()
        assert numbers == [f"W-{i}" for i in range(ROWS)]
    # Each batch collected once: one list call per batch and one GET per run.
    assert sum(hook_stats["requests"]["GET /extract_runs"].values()) == ROWS // 20
    assert sum(hook_stats["requests"]["GET /extract_runs/{id}"].values()) == ROWS
    assert hook_stats["inputs_submitted"] == ROWS
    # Woken by events, the job asks for batch status far less than by polling.
    assert batch_polls(hook_stats) < batch_polls(poll_stats)
    assert hub.received > 0
    assert hub.duplicates > 0  # duplicates were delivered and ignored
    # The job deleted its webhook endpoint when done.
    assert sum(hook_stats["requests"]["DELETE /webhook_endpoints/{id}"].values()) == 1


def test_webhook_wait_needs_a_receiver() -> None:
    with Emulator() as emu, pytest.raises(xf.InputError, match="WebhookReceiver"):
        run_job(emu, "webhook", None)


@pytest.mark.parametrize("receiver", [None, "http://hooks.example.com"])
async def test_webhook_wait_without_a_receiver_is_refused_before_any_request(
    receiver: Any,
) -> None:
    with Emulator() as emu:
        ex = create_processor(emu, "extractor")
        before = emu.stats()["requests_total"]
        with pytest.raises(xf.InputError, match="WebhookReceiver"):
            xf.extract(frame(), processor=ex, text_column="text", client=make_client(emu),
                       wait="webhook", webhook=receiver, progress=False)  # fmt: skip
        with pytest.raises(xf.InputError, match="WebhookReceiver"):
            await xf.aextract(frame(), processor=ex, text_column="text", client=make_client(emu),
                              wait="webhook", webhook=receiver, progress=False)  # fmt: skip
        assert emu.stats()["requests_total"] == before  # not even the processor's GET
