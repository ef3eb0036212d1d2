"""A 5 x 1,000-run batch workload in instant mode; the stats endpoint agrees with the SDK's view.

Submissions and most listing go through plain httpx (as the library does): the SDK spends
~0.7 ms building a model per run summary, which would dominate the test. The SDK still reads
every batch and pages through one whole batch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from extend_frames.emulator import Emulator

from .conftest import INVOICE_SCHEMA, raw_client, sdk_client

BATCHES = 5
PER_BATCH = 1000
PAGE = 250


def test_five_thousand_runs() -> None:
    with Emulator() as emu, raw_client(emu) as raw:
        sdk = sdk_client(emu)
        ex = sdk.extractors.create(name="bulk", config={"schema": INVOICE_SCHEMA})
        batch_ids = []
        for b in range(BATCHES):
            inputs: Any = [
                {"file": {"text": f"Invoice {b}-{i} total {i}.00"}, "metadata": {"b": b, "row": i}}
                for i in range(PER_BATCH)
            ]
            resp = raw.post(
                "/extract_runs/batch", json={"extractor": {"id": ex.id}, "inputs": inputs}
            )
            assert resp.json()["runCount"] == PER_BATCH
            batch_ids.append(resp.json()["id"])

        assert emu.wait_idle(300)
        for batch_id in batch_ids:
            batch = sdk.batch_runs.get(batch_id)
            assert batch.status == "PROCESSED"
            assert batch.run_count == PER_BATCH

        # the SDK pages through the last batch
        sdk_rows, token, sdk_pages = set(), None, 0
        while True:
            page = sdk.extract_runs.list(
                batch_id=batch_ids[-1],
                max_page_size=PAGE,
                sort_by="createdAt",
                sort_dir="asc",
                next_page_token=token,
            )
            sdk_pages += 1
            sdk_rows.update((r.metadata["b"], r.metadata["row"]) for r in page.data)
            token = page.next_page_token
            if not token:
                break
        assert sdk_pages == PER_BATCH // PAGE
        assert len(sdk_rows) == PER_BATCH

        statuses: Counter[str] = Counter()
        rows = set()
        for batch_id in batch_ids:
            body = raw.get(
                "/extract_runs", params={"batchId": batch_id, "maxPageSize": 1000}
            ).json()
            assert "nextPageToken" not in body  # omitted on the last page
            statuses.update(r["status"] for r in body["data"])
            rows.update((r["metadata"]["b"], r["metadata"]["row"]) for r in body["data"])
        assert len(rows) == BATCHES * PER_BATCH
        assert sdk_rows <= rows

        sample = sdk.extract_runs.list(batch_id=batch_ids[0], max_page_size=20).data
        for summary in sample:
            assert sdk.extract_runs.retrieve(summary.id).output is not None

        stats = raw.get("/_emulator/stats").json()
        assert stats["batches_created"] == BATCHES
        assert stats["inputs_submitted"] == BATCHES * PER_BATCH
        assert stats["duplicate_inputs"] == 0
        assert stats["runs"]["extract"] == dict(statuses) == {"PROCESSED": BATCHES * PER_BATCH}
        assert stats["requests"]["POST /extract_runs/batch"] == {"200": BATCHES}
        assert stats["requests"]["GET /extract_runs"] == {"200": sdk_pages + BATCHES + 1}
        assert stats["requests"]["GET /extract_runs/{id}"] == {"200": len(sample)}
        assert stats["requests"]["GET /batch_runs/{id}"] == {"200": BATCHES}
        assert stats["requests"]["POST /extractors"] == {"200": 1}
        assert stats["requests_total"] == sum(
            sum(codes.values()) for codes in stats["requests"].values()
        )
