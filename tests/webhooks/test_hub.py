"""WebhookHub: events reach waiters across threads, early events are kept, duplicates dropped."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from extend_frames import InputError
from extend_frames.webhooks import WebhookEvent, WebhookHub


def batch_event(
    batch_id: str,
    status: str = "PROCESSED",
    *,
    event_id: str | None = None,
    event_type: str = "batch_processor_run.processed",
) -> WebhookEvent:
    payload: dict[str, Any] = {
        "object": "batch_run",
        "id": batch_id,
        "status": status,
        "runCount": 3,
        "createdAt": "2026-03-02T10:15:00.000Z",
    }
    return WebhookEvent(
        event_id=event_id or f"event_{batch_id}_{status}",
        event_type=event_type,
        payload=payload,
    )


async def test_publish_before_wait_is_not_lost() -> None:
    hub = WebhookHub()
    assert hub.publish(batch_event("bpr_fast"))
    got = await hub.wait("bpr_fast", timeout=0)
    assert got is not None
    assert got["status"] == "PROCESSED"
    assert got["id"] == "bpr_fast"
    assert hub.get("bpr_fast") == got


async def test_wait_times_out_cleanly() -> None:
    hub = WebhookHub()
    assert await hub.wait("bpr_never", timeout=0) is None
    assert await hub.wait("bpr_never", timeout=0.01) is None
    assert hub.stats().waiting == 0  # the timed-out waiter was removed
    hub.publish(batch_event("bpr_never"))  # a late event is still kept for the next wait
    assert await hub.wait("bpr_never", timeout=0) is not None


async def test_cross_thread_publish_wakes_an_asyncio_waiter() -> None:
    hub = WebhookHub()
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(hub.wait("bpr_x", timeout=30))
    await asyncio.sleep(0)  # one loop step: the waiter registers itself
    assert hub.stats().waiting == 1
    thread = threading.Thread(target=hub.publish, args=(batch_event("bpr_x", "FAILED"),))
    thread.start()
    got = await task
    await loop.run_in_executor(None, thread.join)
    assert got is not None
    assert got["status"] == "FAILED"
    assert hub.stats().waiting == 0


async def test_one_event_wakes_every_waiter_of_that_batch_only() -> None:
    hub = WebhookHub()
    a1 = asyncio.ensure_future(hub.wait("bpr_a", timeout=30))
    a2 = asyncio.ensure_future(hub.wait("bpr_a", timeout=30))
    b = asyncio.ensure_future(hub.wait("bpr_b", timeout=30))
    await asyncio.sleep(0)  # one loop step: the three waiters register
    assert hub.stats().waiting == 3
    hub.publish(batch_event("bpr_a"))
    r1, r2 = await asyncio.gather(a1, a2)
    assert r1 is not None
    assert r2 is not None
    assert r1["id"] == r2["id"] == "bpr_a"
    assert not b.done()
    b.cancel()
    with pytest.raises(asyncio.CancelledError):
        await b
    assert hub.stats().waiting == 0  # cancelling removed the waiter


async def test_duplicate_event_ids_are_counted_and_ignored() -> None:
    hub = WebhookHub()
    event = batch_event("bpr_d")
    assert hub.publish(event) is True
    assert hub.publish(event) is False
    assert hub.seen(event.event_id)
    stats = hub.stats()
    assert (stats.received, stats.duplicates, stats.batches_finished) == (2, 1, 1)


async def test_first_terminal_event_wins_and_non_terminal_events_do_not_wake() -> None:
    hub = WebhookHub()
    hub.publish(batch_event("bpr_o", "PROCESSING"))
    assert await hub.wait("bpr_o", timeout=0) is None
    hub.publish(batch_event("bpr_o", "FAILED", event_type="batch_processor_run.failed"))
    hub.publish(batch_event("bpr_o", "PROCESSED"))  # a reordered / late second verdict
    got = await hub.wait("bpr_o", timeout=0)
    assert got is not None
    assert got["status"] == "FAILED"


async def test_run_events_do_not_complete_batches() -> None:
    hub = WebhookHub()
    run = WebhookEvent(
        event_id="event_r",
        event_type="extract_run.processed",
        payload={"object": "extract_run", "id": "bpr_looks_like_one", "status": "PROCESSED"},
    )
    assert hub.publish(run)
    assert await hub.wait("bpr_looks_like_one", timeout=0) is None
    assert hub.stats().received == 1


async def test_parse_batch_events_complete_too() -> None:
    hub = WebhookHub()
    hub.publish(batch_event("bpar_p", event_type="batch_parse_run.processed"))
    assert await hub.wait("bpar_p", timeout=0) is not None


async def test_bounds_drop_the_oldest_first() -> None:
    hub = WebhookHub(max_batches=2, max_event_ids=2)
    for name in ("bpr_1", "bpr_2", "bpr_3"):
        hub.publish(batch_event(name))
    assert hub.get("bpr_1") is None
    assert hub.get("bpr_2") is not None
    assert hub.get("bpr_3") is not None
    assert not hub.seen("event_bpr_1_PROCESSED")
    assert hub.seen("event_bpr_3_PROCESSED")


def test_register_and_completed_hand_out_each_batch_once() -> None:
    hub = WebhookHub(max_batches=1)
    hub.publish(batch_event("bpr_early"))
    hub.register(["bpr_early", "bpr_late", "bpr_pending"])
    hub.publish(batch_event("bpr_late", "FAILED"))
    hub.publish(batch_event("bpr_other"))  # unregistered traffic cannot evict registered ones
    hub.publish(batch_event("bpr_other2"))
    done = hub.completed()
    assert {k: v["status"] for k, v in done.items()} == {
        "bpr_early": "PROCESSED",
        "bpr_late": "FAILED",
    }
    assert hub.completed() == {}
    hub.publish(batch_event("bpr_pending"))
    assert list(hub.completed()) == ["bpr_pending"]


def test_rejects_nonsense_bounds_and_keeps_a_quiet_repr() -> None:
    with pytest.raises(InputError):
        WebhookHub(max_batches=0)
    hub = WebhookHub()
    hub.record_rejected()
    assert "rejected=1" in repr(hub)


def test_event_repr_hides_the_payload() -> None:
    event = WebhookEvent(
        event_id="event_s",
        event_type="extract_run.processed",
        payload={"object": "signed_data_url", "data": "https://bucket/x?X-Amz-Signature=f00d"},
    )
    assert "X-Amz-Signature" not in repr(event)
    assert "event_s" in repr(event)


async def test_many_threads_many_waiters_with_duplicates() -> None:
    """Four publisher threads, each batch event sent twice, 300 waiters: all woken exactly."""
    hub = WebhookHub()
    ids = [f"bpr_{i}" for i in range(300)]
    statuses = {b: ("FAILED" if i % 7 == 0 else "PROCESSED") for i, b in enumerate(ids)}
    waiters = [asyncio.ensure_future(hub.wait(b, timeout=None)) for b in ids[:200]]
    await asyncio.sleep(0)
    events = [batch_event(b, statuses[b]) for b in ids] * 2

    def publish(part: list[WebhookEvent]) -> None:
        for event in part:
            hub.publish(event)

    threads = [threading.Thread(target=publish, args=(events[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    results = await asyncio.gather(*waiters)
    for thread in threads:
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
    late = [await hub.wait(b, timeout=0) for b in ids[200:]]  # waits that start afterwards
    got = {p["id"]: p["status"] for p in [*results, *late] if p is not None}
    assert got == statuses
    stats = hub.stats()
    assert (stats.received, stats.duplicates, stats.batches_finished) == (600, 300, 300)
    assert stats.waiting == 0
