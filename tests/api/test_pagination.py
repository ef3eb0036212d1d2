"""iter_runs follows nextPageToken with identical parameters; list_runs_since stops early."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from extend_frames._errors import APIError, InputError
from extend_frames.api import Client

MakeClient = Callable[..., Client]
T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Pages:
    """A list endpoint serving ``runs`` in pages of ``per_page``, recording each query."""

    def __init__(self, runs: list[dict[str, Any]], per_page: int) -> None:
        self.runs = runs
        self.per_page = per_page
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(request.url.params)
        self.queries.append(query)
        start = int(query.get("nextPageToken", "tok:0").split(":")[1])
        chunk = self.runs[start : start + self.per_page]
        body: dict[str, Any] = {"object": "list", "data": chunk}
        if start + self.per_page < len(self.runs):
            body["nextPageToken"] = f"tok:{start + self.per_page}"
        return httpx.Response(200, json=body)


def _runs(n: int, *, newest_first: bool = False) -> list[dict[str, Any]]:
    runs = [
        {
            "object": "extract_run",
            "id": f"exr_{i}",
            "status": "PROCESSED",
            "metadata": {"row": i},
            "createdAt": _iso(T0 + timedelta(minutes=i)),
            "updatedAt": _iso(T0 + timedelta(minutes=i, seconds=30)),
        }
        for i in range(n)
    ]
    return runs[::-1] if newest_first else runs


async def test_iter_runs_follows_tokens_with_identical_params(make_client: MakeClient) -> None:
    pages = Pages(_runs(7), per_page=3)
    client = make_client(pages)
    got = [
        run["id"]
        async for run in client.iter_runs(
            "extract", batch_id="bpr_1", status="PROCESSED", page_size=3
        )
    ]
    assert got == [f"exr_{i}" for i in range(7)]
    assert len(pages.queries) == 3
    first = pages.queries[0]
    assert first == {
        "maxPageSize": "3",
        "batchId": "bpr_1",
        "status": "PROCESSED",
        "sortBy": "createdAt",
        "sortDir": "asc",
    }
    assert [q.pop("nextPageToken", None) for q in pages.queries] == [None, "tok:3", "tok:6"]
    assert all(q == first for q in pages.queries)


async def test_parse_lists_send_limit_and_no_sorting(make_client: MakeClient) -> None:
    pages = Pages(_runs(2), per_page=1000)
    client = make_client(pages)
    runs = [r async for r in client.iter_runs("parse", batch_id="bpar_1", sort_dir="desc")]
    assert len(runs) == 2
    assert pages.queries == [{"maxPageSize": "1000", "limit": "1000", "batchId": "bpar_1"}]
    with pytest.raises(InputError):
        async for _ in client.iter_runs("parse", processor_id="ex_1"):
            pass


async def test_processor_filter_name_follows_the_operation(make_client: MakeClient) -> None:
    pages = Pages([], per_page=10)
    client = make_client(pages)
    for operation in ("extract", "classify", "split"):
        async for _ in client.iter_runs(operation, processor_id="p_1"):  # type: ignore[arg-type]
            pass
    assert [{k: v for k, v in q.items() if k.endswith("Id")} for q in pages.queries] == [
        {"extractorId": "p_1"},
        {"classifierId": "p_1"},
        {"splitterId": "p_1"},
    ]


async def test_a_repeated_token_stops_with_an_error(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": [], "nextPageToken": "same"})

    with pytest.raises(APIError, match="same page token"):
        async for _ in make_client(handler).iter_runs("extract"):
            pass


@pytest.mark.parametrize("size", [0, 1001, True])
async def test_page_size_bounds(make_client: MakeClient, size: int) -> None:
    with pytest.raises(InputError):
        async for _ in make_client(Pages([], 1)).iter_runs("extract", page_size=size):
            pass


async def test_list_runs_since_stops_at_the_first_older_run(make_client: MakeClient) -> None:
    pages = Pages(_runs(10, newest_first=True), per_page=3)
    client = make_client(pages)
    since = T0 + timedelta(minutes=6)
    got = [r["id"] async for r in client.list_runs_since("extract", "ex_1", since)]
    assert got == ["exr_9", "exr_8", "exr_7", "exr_6"]
    assert len(pages.queries) == 2  # the second page held the first older run: no third page
    assert pages.queries[0]["sortDir"] == "desc"
    assert pages.queries[0]["sortBy"] == "createdAt"
    assert pages.queries[0]["extractorId"] == "ex_1"


async def test_list_runs_since_parse_stops_on_updated_at(make_client: MakeClient) -> None:
    runs = _runs(5, newest_first=True)
    # exr_2 was created before the cut-off but updated after it: not yielded, no stop
    runs[2]["updatedAt"] = _iso(T0 + timedelta(minutes=9))
    pages = Pages(runs, per_page=2)
    since = T0 + timedelta(minutes=3)
    got = [r["id"] async for r in make_client(pages).list_runs_since("parse", None, since)]
    assert got == ["exr_4", "exr_3"]
    assert "sortBy" not in pages.queries[0]


async def test_list_runs_since_needs_aware_time_and_processor(make_client: MakeClient) -> None:
    client = make_client(Pages([], 1))
    with pytest.raises(InputError):
        async for _ in client.list_runs_since("extract", "ex_1", datetime(2026, 1, 1)):
            pass
    with pytest.raises(InputError):
        async for _ in client.list_runs_since("extract", None, T0):
            pass
