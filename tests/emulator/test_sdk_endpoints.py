"""Every endpoint driven with the official ``extend-ai`` SDK: its models must parse each answer."""

from __future__ import annotations

import pytest
from extend_ai import Extend
from extend_ai.errors import BadRequestError, NotFoundError, UnauthorizedError

from extend_frames.emulator import Emulator, Speed

from .conftest import CLASSIFY_CONFIG, INVOICE_SCHEMA, NO_RETRY, SPLIT_CONFIG, sdk_client


def test_files_upload_get_list_delete(sdk: Extend) -> None:
    uploaded = sdk.files.upload(file=("notes.txt", b"Invoice INV-1\nTotal 10.00", "text/plain"))
    assert uploaded.id.startswith("file_")
    assert uploaded.name == "notes.txt"
    assert uploaded.type == "TXT"
    assert uploaded.presigned_url is None  # only GET /files/{id} presigns
    got = sdk.files.retrieve(uploaded.id)
    assert got.id == uploaded.id
    assert got.presigned_url
    listed = sdk.files.list(name_contains="notes")
    assert [f.id for f in listed.data] == [uploaded.id]
    assert sdk.files.list(name_contains="nothing-like-this").data == []
    assert sdk.files.delete(uploaded.id).id == uploaded.id
    with pytest.raises(NotFoundError):
        sdk.files.retrieve(uploaded.id, request_options=NO_RETRY)


def test_extractor_crud_and_versions(sdk: Extend) -> None:
    ex = sdk.extractors.create(name="Invoices", config={"schema": INVOICE_SCHEMA})
    assert ex.id.startswith("ex_")
    assert ex.draft_version.version == "draft"
    assert sdk.extractors.retrieve(ex.id).name == "Invoices"
    updated = sdk.extractors.update(ex.id, name="Invoices v2")
    assert updated.name == "Invoices v2"
    assert ex.id in [e.id for e in sdk.extractors.list(max_page_size=100).data]

    # latest falls back to the draft until something is published
    assert sdk.extractor_versions.retrieve(ex.id, "latest").version == "draft"
    v1 = sdk.extractor_versions.create(ex.id, release_type="major", description="first")
    assert v1.version == "1.0"
    v11 = sdk.extractor_versions.create(ex.id, release_type="minor")
    assert v11.version == "1.1"
    v2 = sdk.extractor_versions.create(ex.id, release_type="major")
    assert v2.version == "2.0"
    assert sdk.extractor_versions.retrieve(ex.id, "latest").id == v2.id
    assert sdk.extractor_versions.retrieve(ex.id, "1.0").id == v1.id
    assert sdk.extractor_versions.retrieve(ex.id, v11.id).version == "1.1"
    assert sdk.extractor_versions.retrieve(ex.id, "draft").version == "draft"
    versions = sdk.extractor_versions.list(ex.id)
    assert [v.version for v in versions.data] == ["draft", "2.0", "1.1", "1.0"]
    with pytest.raises(NotFoundError):
        sdk.extractor_versions.retrieve(ex.id, "9.9", request_options=NO_RETRY)


def test_classifier_and_splitter_crud(sdk: Extend) -> None:
    cl = sdk.classifiers.create(name="Types", config=CLASSIFY_CONFIG)
    assert cl.id.startswith("cl_")
    assert sdk.classifiers.retrieve(cl.id).draft_version.config.classifications[0].id == "invoice"
    assert sdk.classifiers.update(cl.id, name="Types 2").name == "Types 2"
    assert [c.id for c in sdk.classifiers.list().data] == [cl.id]
    assert sdk.classifier_versions.create(cl.id, release_type="major").version == "1.0"
    assert [v.version for v in sdk.classifier_versions.list(cl.id).data] == ["draft", "1.0"]
    assert sdk.classifier_versions.retrieve(cl.id, "latest").version == "1.0"

    sp = sdk.splitters.create(name="Packets", config=SPLIT_CONFIG)
    assert sp.id.startswith("spl_")
    assert sdk.splitters.retrieve(sp.id).name == "Packets"
    assert sdk.splitters.update(sp.id, name="Packets 2").name == "Packets 2"
    assert [s.id for s in sdk.splitters.list().data] == [sp.id]
    assert sdk.splitter_versions.create(sp.id, release_type="minor").version == "1.0"
    assert sdk.splitter_versions.retrieve(sp.id, "1.0").version == "1.0"
    assert len(sdk.splitter_versions.list(sp.id).data) == 2


def test_single_runs_of_every_kind(emu: Emulator, sdk: Extend) -> None:
    ex = sdk.extractors.create(name="x", config={"schema": INVOICE_SCHEMA})
    cl = sdk.classifiers.create(name="c", config=CLASSIFY_CONFIG)
    sp = sdk.splitters.create(name="s", config=SPLIT_CONFIG)
    up = sdk.files.upload(file=("a.txt", b"Invoice number INV-7 total 12.50", "text/plain"))

    pr = sdk.parse_runs.create(file={"id": up.id}, metadata={"k": "parse"})
    er = sdk.extract_runs.create(extractor={"id": ex.id}, file={"text": "INV-9"}, metadata={"k": 1})
    cr = sdk.classify_runs.create(classifier={"id": cl.id}, file={"id": up.id})
    sr = sdk.split_runs.create(splitter={"id": sp.id}, file={"id": up.id})
    assert er.status == "PROCESSING"
    assert er.metadata == {"k": 1}
    assert emu.wait_idle()

    parse = sdk.parse_runs.retrieve(pr.id)
    assert parse.status == "PROCESSED"
    assert parse.output is not None
    assert parse.output.chunks
    assert parse.file is not None
    assert parse.file.id == up.id
    as_url = sdk.parse_runs.retrieve(pr.id, response_type="url")
    assert as_url.output is None
    assert as_url.output_url
    extract = sdk.extract_runs.retrieve(er.id)
    assert extract.status == "PROCESSED"
    assert extract.output is not None
    assert extract.extractor is not None
    assert extract.extractor.id == ex.id
    assert extract.usage is not None
    assert extract.usage.breakdown
    classify = sdk.classify_runs.retrieve(cr.id)
    assert classify.output is not None
    assert classify.output.id in ("invoice", "other")
    split = sdk.split_runs.retrieve(sr.id)
    assert split.output is not None
    assert split.output.splits[0].file_id.startswith("file_")

    assert [r.id for r in sdk.extract_runs.list(extractor_id=ex.id).data] == [er.id]
    assert [r.id for r in sdk.parse_runs.list(source="API").data] == [pr.id]
    assert [r.id for r in sdk.classify_runs.list(classifier_id=cl.id).data] == [cr.id]
    assert [r.id for r in sdk.split_runs.list(splitter_id=sp.id).data] == [sr.id]

    # terminal runs cannot be cancelled; deleting removes them
    with pytest.raises(BadRequestError) as info:
        sdk.extract_runs.cancel(er.id, request_options=NO_RETRY)
    assert info.value.body["code"] == "INVALID_REQUEST"
    for api, run_id in (
        (sdk.parse_runs, pr.id),
        (sdk.extract_runs, er.id),
        (sdk.classify_runs, cr.id),
        (sdk.split_runs, sr.id),
    ):
        assert api.delete(run_id).id == run_id
        with pytest.raises(NotFoundError):
            api.retrieve(run_id, request_options=NO_RETRY)


def test_cancel_processing_runs_of_every_kind() -> None:
    # a manual clock and a 60 s latency keep runs PROCESSING until we cancel them
    with Emulator(clock="manual", speed=Speed(run_latency=60.0)) as emu:
        sdk = sdk_client(emu)
        ex = sdk.extractors.create(name="x", config={"schema": INVOICE_SCHEMA})
        cl = sdk.classifiers.create(name="c", config=CLASSIFY_CONFIG)
        sp = sdk.splitters.create(name="s", config=SPLIT_CONFIG)
        up = sdk.files.upload(file=("a.txt", b"hello", "text/plain"))
        runs = [
            (sdk.parse_runs, sdk.parse_runs.create(file={"id": up.id}).id),
            (
                sdk.extract_runs,
                sdk.extract_runs.create(extractor={"id": ex.id}, file={"text": "t"}).id,
            ),
            (
                sdk.classify_runs,
                sdk.classify_runs.create(classifier={"id": cl.id}, file={"id": up.id}).id,
            ),
            (sdk.split_runs, sdk.split_runs.create(splitter={"id": sp.id}, file={"id": up.id}).id),
        ]
        # ParseRun's status enum has no CANCELLED member: a cancelled parse run reads
        # FAILED with failureReason CANCELLED (Fidelity(parse_cancel_status=...) switches)
        expected = ["FAILED", "CANCELLED", "CANCELLED", "CANCELLED"]
        assert [api.cancel(run_id).status.value for api, run_id in runs] == expected
        assert [api.retrieve(run_id).status.value for api, run_id in runs] == expected
        assert sdk.parse_runs.retrieve(runs[0][1]).failure_reason == "CANCELLED"
        emu.advance(120)
        assert emu.wait_idle()
        assert [api.retrieve(run_id).status.value for api, run_id in runs] == expected


def test_batch_flow_with_pagination(emu: Emulator, sdk: Extend) -> None:
    ex = sdk.extractors.create(name="x", config={"schema": INVOICE_SCHEMA})
    inputs = [{"file": {"text": f"INV-{i}"}, "metadata": {"row": i}} for i in range(25)]
    batch = sdk.extract_runs.create_batch(
        extractor={"id": ex.id, "version": "draft"}, inputs=inputs
    )
    assert batch.id.startswith("bpr_")
    assert batch.run_count == 25
    assert batch.status == "PENDING"
    assert emu.wait_idle()
    done = sdk.batch_runs.get(batch.id)
    assert done.status == "PROCESSED"
    assert done.run_count == 25

    seen, token, pages = [], None, 0
    while True:
        page = sdk.extract_runs.list(
            batch_id=batch.id,
            max_page_size=10,
            sort_by="createdAt",
            sort_dir="asc",
            next_page_token=token,
        )
        pages += 1
        seen.extend(page.data)
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert sorted(r.metadata["row"] for r in seen) == list(range(25))
    assert len({r.id for r in seen}) == 25
    for summary in seen:
        full = sdk.extract_runs.retrieve(summary.id)
        assert full.status == "PROCESSED"
        assert full.metadata == summary.metadata
        assert full.output is not None
        assert set(full.output.value) == {"invoice_number", "total"}


def test_batches_of_every_kind(emu: Emulator, sdk: Extend) -> None:
    cl = sdk.classifiers.create(name="c", config=CLASSIFY_CONFIG)
    sp = sdk.splitters.create(name="s", config=SPLIT_CONFIG)
    up = sdk.files.upload(file=("a.txt", b"page one", "text/plain"))
    pb = sdk.parse_runs.create_batch(inputs=[{"file": {"text": "hello"}, "metadata": {"i": 0}}])
    cb = sdk.classify_runs.create_batch(classifier={"id": cl.id}, inputs=[{"file": {"id": up.id}}])
    sb = sdk.split_runs.create_batch(splitter={"id": sp.id}, inputs=[{"file": {"id": up.id}}])
    assert pb.id.startswith("bpar_")
    assert cb.id.startswith("bpr_")
    assert sb.id.startswith("bpr_")
    assert emu.wait_idle()
    for batch in (pb, cb, sb):
        assert sdk.batch_runs.get(batch.id).status == "PROCESSED"
    parse_runs = sdk.parse_runs.list(batch_id=pb.id, max_page_size=1000).data
    assert [r.batch_id for r in parse_runs] == [pb.id]
    assert parse_runs[0].metadata == {"i": 0}
    assert sdk.classify_runs.list(batch_id=cb.id).data[0].status == "PROCESSED"
    assert sdk.split_runs.list(batch_id=sb.id, source="BATCH_PROCESSOR_RUN").data


def test_typed_errors(emu: Emulator, sdk: Extend) -> None:
    with pytest.raises(NotFoundError) as nf:
        sdk.batch_runs.get("bpr_doesNotExist000000000", request_options=NO_RETRY)
    assert nf.value.body["code"] == "NOT_FOUND"
    assert nf.value.body["requestId"].startswith("req_")
    with pytest.raises(NotFoundError):
        sdk.extract_runs.create_batch(
            extractor={"id": "ex_unknown"},
            inputs=[{"file": {"text": "x"}}],
            request_options=NO_RETRY,
        )
    with pytest.raises(BadRequestError):
        sdk.extract_runs.create_batch(
            extractor={"id": "ex_unknown"}, inputs=[], request_options=NO_RETRY
        )
    bad = Extend(token="sk_wrong", base_url=emu.url)
    with pytest.raises(UnauthorizedError) as ua:
        bad.batch_runs.get("bpr_x", request_options=NO_RETRY)
    assert ua.value.body["code"] == "UNAUTHORIZED"


def test_webhook_endpoints_and_subscriptions(sdk: Extend) -> None:
    ex = sdk.extractors.create(name="x", config={"schema": INVOICE_SCHEMA})
    created = sdk.webhook_endpoints.create(
        url="http://127.0.0.1:9/hook",
        name="hooks",
        enabled_events=["batch_processor_run.processed"],
        api_version="2026-02-09",
    )
    assert created.signing_secret.startswith("wss_")
    got = sdk.webhook_endpoints.retrieve(created.id)
    assert got.id == created.id
    assert getattr(got, "signing_secret", None) is None
    assert [e.id for e in sdk.webhook_endpoints.list().data] == [created.id]
    assert sdk.webhook_endpoints.update(created.id, status="disabled").status == "disabled"
    sub = sdk.webhook_subscriptions.create(
        webhook_endpoint_id=created.id,
        resource_type="extractor",
        resource_id=ex.id,
        enabled_events=["extract_run.processed"],
    )
    assert sub.id.startswith("whes_")
    assert sdk.webhook_subscriptions.retrieve(sub.id).resource_id == ex.id
    updated = sdk.webhook_subscriptions.update(sub.id, enabled_events=["extract_run.failed"])
    assert updated.enabled_events == ["extract_run.failed"]
    assert [s.id for s in sdk.webhook_subscriptions.list(resource_id=ex.id).data] == [sub.id]
    assert sdk.webhook_subscriptions.delete(sub.id).id == sub.id
    assert sdk.webhook_endpoints.delete(created.id).id == created.id
    assert sdk.webhook_endpoints.list().data == []


def test_typed_rate_limit_and_server_errors() -> None:
    from extend_ai.errors import InternalServerError, TooManyRequestsError

    from extend_frames.emulator import Faults, RateLimits

    with Emulator(rate_limits=RateLimits(get=1)) as emu:
        sdk = sdk_client(emu)
        sdk.files.list(request_options=NO_RETRY)
        with pytest.raises(TooManyRequestsError) as info:
            sdk.files.list(request_options=NO_RETRY)
        assert info.value.body["code"] == "RATE_LIMIT_EXCEEDED"
        assert int(info.value.headers["retry-after"]) >= 1
    with Emulator(faults=Faults(error_rate=1.0)) as emu:
        with pytest.raises(InternalServerError) as err:
            sdk_client(emu).files.list(request_options=NO_RETRY)
        assert err.value.body["retryable"] is True
