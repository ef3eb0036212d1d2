"""The TypeScript SDK's recorded wire tests, replayed against the emulator.

Each in-scope case of ``extend-hq/extend-typescript-sdk`` ``tests/wire/*.test.ts`` (a success
case of an endpoint the emulator implements) is sent here with the same request shape (the
body's key paths must equal the recorded ones, ``wire_cases.json``), with ids of resources made
first and loopback URLs instead of example.com. The answer must be 2xx, validate strictly
against the SDK types, and carry every key path the recorded answer has, except:

- ``SITUATIONAL_PREFIXES``: keys of another state of the object than the one replayed (review
  edits, caller metadata, multi-file runs, add-on charges, OCR words);
- ``UNASKED``: keys that exist only when the request asks for them (options without a default,
  opt-in cell references, a split parent), in the cases whose fixed request cannot ask. The
  other cases of the same resources ask (their processors and runs are seeded with every
  option the recordings show, their runs read a split's sub-document) and must get them back.

Recorded maps (``Record<string, T>``: an extract output, a schema) are written ``{"key": ...}``
by the generator; the emulator's keys of those maps are compared as ``key`` (``MAPS``).
Cases the emulator does not cover are in ``OUT_OF_SCOPE`` with the reason.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from extend_frames.emulator import Emulator, Speed

from ._routes import model_for
from ._strict import findings

CASES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).with_name("wire_cases.json")).read_text()
)["cases"]

OUT_OF_SCOPE = {
    "extractRuns.create (2)": "multi-file package runs are not emulated (400 names it)",
    "extractors.create (2)": "AI schema generation (generate) is not emulated",
}

SITUATIONAL_PREFIXES = (
    ".initialOutput",  # review state: a run nobody reviewed has no initial/reviewed output
    ".reviewedOutput",
    ".edits",
    ".files[]",  # multi-file package runs (out of scope)
    ".data[].files[]",
    ".usage.breakdown[].charges[].pages",  # only on page-billed add-ons, never a base charge
    ".output.ocr",  # OCR words: the emulator reads text layers, it has no OCR
    ".advancedOptions",  # webhook endpoint options only when sent
    ".data[].advancedOptions",
    ".contents",  # deprecated File.contents
    ".createdBy",
    ".data[].createdBy",
    ".draftVersion.createdBy",
    ".extractorVersion.createdBy",
    ".classifierVersion.createdBy",
    ".splitterVersion.createdBy",
    ".data[].extractorVersion.createdBy",
    ".data[].classifierVersion.createdBy",
    ".data[].splitterVersion.createdBy",
    ".nextPageToken",  # omitted on a last page
    ".metadata.key",  # run metadata: whatever the caller sent (the seeded runs send none)
    ".data[].metadata.key",
)

# Options that have no value unless sent: an echoed config holds them only when asked.
_NO_DEFAULT = (
    ".advancedOptions.pageRanges",
    ".advancedOptions.excelSheetRanges",
    ".advancedOptions.arrayStrategy",
    ".advancedOptions.formattingDetection[]",  # off by default: an empty list
    ".chunkingStrategy.options",
)
_SPLIT_PARENT = ".file.metadata.parentSplit"  # a file fetched from a URL is no split's part
_CELLS = ".output.chunks[].blocks[].details.cellReference"  # excelIncludeCellMetadata only
# The cases whose recorded request fixes a config (or none) without those options, or names
# its file by URL; what each cannot ask for.
_OWN_CONFIG = ("extractors.create (1)", "classifiers.create (1)", "splitters.create (1)")
_BY_URL = tuple(f"{k}Runs.create (1)" for k in ("parse", "extract", "classify", "split"))
_SYNC = tuple(f"main.{k} (1)" for k in ("parse", "extract", "classify", "split"))
UNASKED: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_OWN_CONFIG, _NO_DEFAULT),
    **dict.fromkeys(_BY_URL, (_SPLIT_PARENT,)),
    "parseRuns.create (1)": (*_NO_DEFAULT, _SPLIT_PARENT),
    **dict.fromkeys(_SYNC, (*_NO_DEFAULT, _SPLIT_PARENT)),
    "main.parse (1)": (*_NO_DEFAULT, _SPLIT_PARENT, _CELLS),
}
MAPS = (".output.value", ".output.metadata", ".config.schema", ".draftVersion.config.schema")


def key_paths(
    value: Any, prefix: str = "", *, nulls: bool = False, maps: tuple[str, ...] = ()
) -> set[str]:
    """Every key path of a JSON value (``[]`` for array items); with ``nulls``, only the paths
    whose value is null (keys under them cannot be present; the strict check judges the null).
    The keys of an object at a path in ``maps`` are written ``key``, as the recordings do."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{'key' if prefix in maps else key}"
            if not nulls or item is None:
                out.add(path)
            out |= key_paths(item, path, nulls=nulls, maps=maps)
    elif isinstance(value, list):
        for item in value:
            out |= key_paths(item, prefix + "[]", nulls=nulls, maps=maps)
    return out


def _exempt(name: str, path: str) -> bool:
    """A recorded key this case need not show (``SITUATIONAL_PREFIXES``, ``UNASKED``)."""
    if any(path == p.rstrip(".") or path.startswith(p) for p in SITUATIONAL_PREFIXES):
        return True
    return any(part in path for part in UNASKED.get(name, ()))


@dataclass
class World:
    emu: Emulator
    raw: httpx.Client
    url: str  # a loopback URL the emulator can download (a text invoice)
    csv_url: str  # a loopback URL of a spreadsheet (CSV)
    ids: dict[str, str]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


STATEMENT_CSV = ",Bank statement,\n\nDate,Description,Amount\n2024-01-02,Coffee,3.50\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("wire")
    (folder / "invoice.txt").write_text("Invoice INV-7\nVendor: Acme\nTotal: 12.50 USD\n")
    (folder / "statement.csv").write_text(STATEMENT_CSV)
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # runs stay PROCESSING (cancel needs that) until the manual clock moves
    speed = Speed(run_latency=60.0)
    try:
        with Emulator(clock="manual", speed=speed) as emu:
            headers = {
                "authorization": f"Bearer {emu.api_key}",
                "x-extend-api-version": "2026-02-09",
            }
            with httpx.Client(
                base_url=emu.url, headers=headers, trust_env=False, timeout=60
            ) as raw:
                base = f"http://127.0.0.1:{server.server_address[1]}"
                world = World(emu, raw, f"{base}/invoice.txt", f"{base}/statement.csv", {})
                world.ids.update(_seed(world))
                yield world
    finally:
        server.shutdown()
        server.server_close()


PROCESSOR = {
    "extract": ("extractor", "ex"),
    "classify": ("classifier", "cl"),
    "split": ("splitter", "spl"),
}
SCHEMA = {"type": "object", "properties": {"invoice_number": {"type": ["string", "null"]}}}
TYPES = [{"id": "invoice", "type": "invoice", "description": "An invoice"}]
SPLIT_TYPES = [
    {"id": "invoice", "type": "invoice", "description": "An invoice", "identifierKey": "number"},
    {"id": "other", "type": "other", "description": "Anything else"},
]
# Every option the recordings show that has no default, so the seeded processors' and runs'
# echoes must carry them (the cases whose request is fixed cannot send them: UNASKED).
PAGES = [{"start": 1, "end": 10}, {"start": 20, "end": 30}]
PARSE_OPTIONS = {
    "chunkingStrategy": {"options": {"minCharacters": 500, "maxCharacters": 10000}},
    "advancedOptions": {"pageRanges": PAGES},
}
SEEDED_CONFIGS = {
    "ex": {
        "schema": SCHEMA,
        "extractionRules": "Amounts are in the invoice's currency.",
        "advancedOptions": {
            "arrayStrategy": {"type": "large_array_heuristics"},
            "excelSheetRanges": [{"start": 0, "end": 0}],
            "pageRanges": PAGES,
        },
        "parseConfig": PARSE_OPTIONS,
    },
    "cl": {
        "classifications": TYPES,
        "classificationRules": "A bill is an invoice.",
        "advancedOptions": {"pageRanges": PAGES},
        "parseConfig": PARSE_OPTIONS,
    },
    "spl": {
        "splitClassifications": SPLIT_TYPES,
        "splitRules": "A new heading starts a document.",
        "advancedOptions": {"pageRanges": PAGES},
        "parseConfig": PARSE_OPTIONS,
    },
}
RUN_PARSE_CONFIG = {
    "chunkingStrategy": PARSE_OPTIONS["chunkingStrategy"],
    "advancedOptions": {
        "pageRanges": PAGES,
        "formattingDetection": [{"type": "change_tracking"}],
        "excelIncludeCellMetadata": True,
    },
}


def _seed(w: World) -> dict[str, str]:
    """Resources the replayed requests refer to, and runs in the states they need: the runs
    retrieved are PROCESSED and read a split's sub-document (a CSV), so their file names its
    split and parse blocks their sheet and cells."""
    ids: dict[str, str] = {}

    def made(path: str, **kwargs: Any) -> str:
        response = w.raw.post(path, **kwargs)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def processed() -> None:
        w.emu.advance(61.0)
        assert w.emu.wait_idle()

    for key, (path, name) in {
        "ex": ("/extractors", "e"),
        "cl": ("/classifiers", "c"),
        "spl": ("/splitters", "s"),
    }.items():
        ids[key] = made(path, json={"name": name, "config": SEEDED_CONFIGS[key]})
    ids["file"] = made("/files/upload", files={"file": ("a.txt", b"Invoice INV-1\nTotal 3.00")})
    ids["file_delete"] = made("/files/upload", files={"file": ("b.txt", b"Invoice INV-2")})
    split = made("/split_runs", json={"splitter": {"id": ids["spl"]}, "file": {"url": w.csv_url}})
    processed()
    ids["part"] = w.raw.get(f"/split_runs/{split}").json()["output"]["splits"][0]["fileId"]
    for kind in ("parse", "extract", "classify", "split"):
        for role in ("run", "delete"):
            ids[f"{kind}_{role}"] = made(f"/{kind}_runs", json=_run_body(w, kind, ids))
    processed()
    batch = {"extractor": {"id": ids["ex"]}, "inputs": [{"file": {"url": w.url}}]}
    ids["bpr"] = made("/extract_runs/batch", json=batch)
    hook = {
        "url": "https://example.invalid/h",
        "name": "h",
        "enabledEvents": [],
        "apiVersion": "2026-02-09",
    }
    ids["wh"] = made("/webhook_endpoints", json=hook)
    ids["wh_delete"] = made("/webhook_endpoints", json=hook)
    sub = {
        "webhookEndpointId": ids["wh"],
        "resourceType": "extractor",
        "resourceId": ids["ex"],
        "enabledEvents": ["extract_run.processed"],
    }
    ids["whes"] = made("/webhook_subscriptions", json=sub)
    ids["whes_delete"] = made("/webhook_subscriptions", json=sub)
    return ids


def _run_body(w: World, kind: str, ids: dict[str, str]) -> dict[str, Any]:
    """A run on the split's sub-document: by its seeded processor, or (parse) with every
    parse option the recordings show."""
    body: dict[str, Any] = {"file": {"id": ids["part"]}}
    if kind in PROCESSOR:
        name, key = PROCESSOR[kind]
        body[name] = {"id": ids[key]}
    else:
        body["config"] = RUN_PARSE_CONFIG
    return body


Request = tuple[str, str, Any, dict[str, str] | None]
Builder = Callable[[World], Request]

CURRENCY = {
    "type": "object",
    "extend:type": "currency",
    "description": "The total amount due",
    "properties": {
        "amount": {"type": ["number", "null"]},
        "iso_4217_currency_code": {"type": ["string", "null"]},
    },
    "required": ["amount", "iso_4217_currency_code"],
}
INVOICE = {
    "type": "object",
    "properties": {
        "vendor_name": {"type": ["string", "null"], "description": "The vendor"},
        "invoice_number": {"type": ["string", "null"], "description": "The invoice number"},
        "total_amount": CURRENCY,
    },
}


def _processor_cases(
    kind: str, plural: str, key: str, config: dict[str, Any]
) -> dict[str, Builder]:
    base = f"/{plural}"
    return {
        f"{plural}.list (1)": lambda w: ("GET", base, None, None),
        f"{plural}.create (1)": lambda w: (
            "POST",
            base,
            {"name": f"A {kind}", "config": config},
            None,
        ),
        f"{plural}.retrieve (1)": lambda w: ("GET", f"{base}/{w.ids[key]}", None, None),
        f"{plural}.update (1)": lambda w: (
            "POST",
            f"{base}/{w.ids[key]}",
            {"name": "Renamed"},
            None,
        ),
        f"{kind}Versions.list (1)": lambda w: ("GET", f"{base}/{w.ids[key]}/versions", None, None),
        f"{kind}Versions.create (1)": lambda w: (
            "POST",
            f"{base}/{w.ids[key]}/versions",
            {"releaseType": "minor", "description": "a version"},
            None,
        ),
        f"{kind}Versions.retrieve (1)": lambda w: (
            "GET",
            f"{base}/{w.ids[key]}/versions/draft",
            None,
            None,
        ),
    }


def _run_cases(kind: str, api: str) -> dict[str, Builder]:
    base = f"/{kind}_runs"
    proc = PROCESSOR.get(kind)

    def single(w: World) -> Request:
        body: dict[str, Any] = {"file": {"url": w.url}}
        if proc is None:
            body["file"] = {"url": w.csv_url, "name": "statement.csv"}
        else:
            body[proc[0]] = {"id": w.ids[proc[1]]}
        return ("POST", base, body, None)

    def batch(w: World) -> Request:
        inputs: list[dict[str, Any]] = [
            {"file": {"url": w.url}, "metadata": {"customerId": f"cust_{i}"}} for i in range(3)
        ]
        body: dict[str, Any] = {"inputs": inputs}
        if proc is None:
            inputs[2] = {"file": {"text": "Some text"}, "metadata": {"source": "manual"}}
            inputs[0]["file"]["text"] = "x"  # the recording mixes url and text inputs
            del inputs[0]["file"]["text"]
        else:
            body[proc[0]] = {"id": w.ids[proc[1]]}
        return ("POST", f"{base}/batch", body, None)

    def listed(w: World) -> Request:
        # the recording sends only a page token: the rest of the list after a first page of one
        first = w.raw.get(base, params={"maxPageSize": 1}).json()
        return ("GET", base, None, {"nextPageToken": first["nextPageToken"]})

    return {
        f"{api}.list (1)": listed,
        f"{api}.create (1)": single,
        f"{api}.retrieve (1)": lambda w: ("GET", f"{base}/{w.ids[kind + '_run']}", None, None),
        f"{api}.delete (1)": lambda w: ("DELETE", f"{base}/{w.ids[kind + '_delete']}", None, None),
        f"{api}.cancel (1)": lambda w: ("POST", f"{base}/{_fresh(w, kind)}/cancel", {}, None),
        f"{api}.createBatch (1)": batch,
    }


def _fresh(w: World, kind: str) -> str:
    """A run made now: PROCESSING until the manual clock moves (cancel needs that state)."""
    return str(w.raw.post(f"/{kind}_runs", json=_run_body(w, kind, w.ids)).json()["id"])


def _sync(kind: str) -> Builder:
    def build(w: World) -> Request:
        body: dict[str, Any] = {"file": {"url": w.url}}
        if kind == "parse":
            body["file"] = {"url": w.csv_url, "name": "statement.csv"}
        elif kind == "extract":
            body["config"] = {"schema": INVOICE}
        elif kind == "classify":
            body["config"] = {"classifications": TYPES}
        else:
            body["config"] = {"splitClassifications": SPLIT_TYPES}
        return ("POST", f"/{kind}", body, None)

    return build


def _files_list(w: World) -> Request:
    return ("GET", "/files", None, None)


BUILDERS: dict[str, Builder] = {
    "batchRuns.get (1)": lambda w: ("GET", f"/batch_runs/{w.ids['bpr']}", None, None),
    "batchProcessorRun.get (1)": lambda w: (
        "GET",
        f"/batch_processor_runs/{w.ids['bpr']}",
        None,
        None,
    ),
    "files.list (1)": _files_list,
    "files.retrieve (1)": lambda w: ("GET", f"/files/{w.ids['part']}", None, None),
    "files.delete (1)": lambda w: ("DELETE", f"/files/{w.ids['file_delete']}", None, None),
    **_processor_cases("extractor", "extractors", "ex", {"schema": INVOICE}),
    **_processor_cases("classifier", "classifiers", "cl", {"classifications": TYPES}),
    **_processor_cases("splitter", "splitters", "spl", {"splitClassifications": SPLIT_TYPES}),
    **_run_cases("parse", "parseRuns"),
    **_run_cases("extract", "extractRuns"),
    **_run_cases("classify", "classifyRuns"),
    **_run_cases("split", "splitRuns"),
    **{f"main.{k} (1)": _sync(k) for k in ("parse", "extract", "classify", "split")},
    "webhookEndpoints.list (1)": lambda w: ("GET", "/webhook_endpoints", None, None),
    "webhookEndpoints.create (1)": lambda w: (
        "POST",
        "/webhook_endpoints",
        {
            "url": "https://example.invalid/webhooks",
            "name": "Production webhook",
            "enabledEvents": ["extract_run.processed", "workflow.created"],
            "apiVersion": "2026-02-09",
        },
        None,
    ),
    "webhookEndpoints.retrieve (1)": lambda w: (
        "GET",
        f"/webhook_endpoints/{w.ids['wh']}",
        None,
        None,
    ),
    "webhookEndpoints.update (1)": lambda w: (
        "POST",
        f"/webhook_endpoints/{w.ids['wh']}",
        {},
        None,
    ),
    "webhookEndpoints.delete (1)": lambda w: (
        "DELETE",
        f"/webhook_endpoints/{w.ids['wh_delete']}",
        None,
        None,
    ),
    "webhookSubscriptions.list (1)": lambda w: ("GET", "/webhook_subscriptions", None, None),
    "webhookSubscriptions.create (1)": lambda w: (
        "POST",
        "/webhook_subscriptions",
        {
            "webhookEndpointId": w.ids["wh"],
            "resourceType": "extractor",
            "resourceId": w.ids["ex"],
            "enabledEvents": ["extract_run.processed", "extract_run.failed"],
        },
        None,
    ),
    "webhookSubscriptions.retrieve (1)": lambda w: (
        "GET",
        f"/webhook_subscriptions/{w.ids['whes']}",
        None,
        None,
    ),
    "webhookSubscriptions.update (1)": lambda w: (
        "POST",
        f"/webhook_subscriptions/{w.ids['whes']}",
        {"enabledEvents": ["extract_run.processed"]},
        None,
    ),
    "webhookSubscriptions.delete (1)": lambda w: (
        "DELETE",
        f"/webhook_subscriptions/{w.ids['whes_delete']}",
        None,
        None,
    ),
}


def test_every_in_scope_case_is_ported_or_listed_out_of_scope() -> None:
    assert set(CASES) == set(BUILDERS) | set(OUT_OF_SCOPE)


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.realtime(
    reason="a sync endpoint answers when its run is done: a thread ticks the clock"
)
def test_wire_case(world: World, name: str) -> None:
    case = CASES[name]
    method, path, body, params = BUILDERS[name](world)
    assert method == case["method"]
    assert sorted(key_paths(body)) == case["request_keys"] if body else not case["request_keys"]
    if name.startswith("main."):
        # the synchronous endpoints answer when the run is done: let the clock run meanwhile
        done = threading.Event()

        def tick() -> None:
            while not done.wait(0.02):
                world.emu.advance(60.0)

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            response = world.raw.request(method, path, json=body, params=params)
        finally:
            done.set()
            ticker.join()
    else:
        response = world.raw.request(method, path, json=body, params=params)
    assert response.status_code == 200, response.text
    data = response.json()
    model = model_for(method, path, 200)
    assert [str(f) for f in findings(model, data)] == []
    recorded = set(case["response_keys"])
    have = key_paths(data, maps=MAPS)
    # paths null in every item (a list item with a null file must not excuse the others)
    nulls = {
        n
        for n in key_paths(data, nulls=True, maps=MAPS)
        if not any(k.startswith((n + ".", n + "[]")) for k in have)
    }
    missing = sorted(
        k
        for k in recorded - have
        if not _exempt(name, k) and not any(k.startswith(n + ".") for n in nulls)
    )
    assert missing == [], f"{name}: keys the recording has and the emulator does not send"


ERROR_CASES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    402: "PaymentRequiredError",
    403: "ForbiddenError",
    404: "NotFoundError",
    422: "UnprocessableEntityError",
    429: "TooManyRequestsError",
    500: "InternalServerError",
}


@pytest.mark.parametrize("status", sorted(ERROR_CASES))
def test_wire_error_case(status: int) -> None:
    """The recorded error cases ((2)..(9) of each endpoint): the emulator can produce every
    status the SDK maps to a typed error, with a flat ApiError body (checked by the tap)."""
    from extend_ai import Extend
    from extend_ai import errors as sdk_errors

    from extend_frames.emulator import Faults, RateLimits

    route = "GET /extract_runs/{id}"
    faults = Faults()
    if status in (402, 403, 422):
        faults = Faults(refusals={f"{status} {route}": 1.0})
    elif status == 500:
        faults = Faults(error_rates={route: 1.0})
    limits = RateLimits(get=0.001) if status == 429 else None  # one token, then 429s
    with Emulator(faults=faults, rate_limits=limits) as emu:
        token = "sk_not_this_emulators_key" if status == 401 else emu.api_key
        http = httpx.Client(trust_env=False)
        sdk = Extend(token=token, base_url=emu.url, httpx_client=http)
        options: Any = {"max_retries": 0}
        run_id = "exr_doesNotExist000000000"

        def call() -> Any:
            if status == 400:
                return sdk.extract_runs.create_batch(
                    extractor={"id": "ex_x"}, inputs=[], request_options=options
                )
            return sdk.extract_runs.retrieve(run_id, request_options=options)

        if status == 429:
            with pytest.raises(sdk_errors.NotFoundError):
                call()  # takes the one token
        with pytest.raises(getattr(sdk_errors, ERROR_CASES[status])) as caught:
            call()
    assert caught.value.status_code == status
