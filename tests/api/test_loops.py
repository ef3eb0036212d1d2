"""One connection pool per event loop; close() reaches every loop, aclose() the running one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx

from extend_frames.api import Client

from .conftest import BATCH

MakeClient = Callable[..., Client]


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=BATCH)


def test_sync_calls_from_several_threads_share_one_client(make_client: MakeClient) -> None:
    client = make_client(_ok)
    statuses: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            statuses.append(asyncio.run(client.get_batch("bpr_1")).status)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert statuses == ["PENDING"] * 4

    async def pools_in_use() -> int:
        await client.get_batch("bpr_1")
        return len(client._pools)

    # the finished loops' pools are not kept: only the running loop's
    assert asyncio.run(pools_in_use()) == 1


def test_close_reaches_a_loop_running_in_another_thread(make_client: MakeClient) -> None:
    client = make_client(_ok)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(client.get_batch("bpr_1"), loop).result(timeout=10)
        pool = client._pools[loop]
        client.close()
        assert pool.is_closed
        assert len(client._pools) == 0
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


async def test_aclose_closes_this_loop_and_the_client_stays_usable(make_client: MakeClient) -> None:
    async with make_client(_ok) as client:
        await client.get_batch("bpr_1")
        pool = client._pools[asyncio.get_running_loop()]
    assert pool.is_closed
    assert (await client.get_batch("bpr_1")).id == BATCH["id"]  # a fresh pool
    await client.aclose()


def test_sync_context_manager_closes(make_client: MakeClient) -> None:
    with make_client(_ok) as client:
        asyncio.run(client.get_batch("bpr_1"))
    assert len(client._pools) == 0
