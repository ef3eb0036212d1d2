"""Emulator-only endpoints under ``/_emulator/`` (no auth, not Extend paths).

``GET /_emulator/stats``; ``POST /_emulator/credits`` (restore the credit balance);
``POST /_emulator/batch_runs/{id}/cancel`` (Extend has no batch
cancel); ``POST /_emulator/clock/advance`` (manual clock); ``GET /_emulator/webhook_deliveries``
(the delivery log); and the content behind presigned and signed data URLs.
"""

from __future__ import annotations

import hmac
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._batches import cancel_batch
from ._clock import ManualClock
from ._errors import ApiError, found, invalid, not_found
from ._files import content_token
from ._http import JSONBytes, read_json, reply, state_of
from ._records import dumps
from ._runs import output_token


async def stats(request: Request) -> Response:
    state = state_of(request)
    return reply(state.stats.snapshot(state.run_counts()))


async def batch_cancel(request: Request) -> Response:
    state = state_of(request)
    batch = cancel_batch(state, request.path_params["id"])
    return reply(batch.to_json())


async def clock_advance(request: Request) -> Response:
    state = state_of(request)
    body = await read_json(request)
    seconds = body.get("seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise invalid("seconds must be a non-negative number")
    if not isinstance(state.clock, ManualClock):
        raise invalid("the emulator runs on the system clock; start it with clock='manual'")
    return reply({"now": state.clock.advance(float(seconds))})


async def deliveries(request: Request) -> Response:
    deliverer = request.app.state.deliverer
    return reply({"object": "list", "data": list(deliverer.log)})


async def webhook_payload(request: Request) -> Response:
    state = state_of(request)
    found = state.payloads.get(request.path_params["token"])
    if found is None or found[1] < time.time():
        raise not_found("Signed payload", "(expired or unknown)")
    return JSONBytes(found[0])


def _check_token(expected: str, request: Request) -> None:
    if not hmac.compare_digest(expected, request.query_params.get("token", "")):
        raise ApiError(403, "FORBIDDEN", "The signed URL is invalid")


async def parse_output(request: Request) -> Response:
    state = state_of(request)
    run = state.runs_by_kind["parse"].get(request.path_params["id"])
    if run is None or run.output is None:
        raise not_found("Parse output", request.path_params["id"])
    _check_token(output_token(state, run.id), request)
    return JSONBytes(dumps(run.output))


async def file_content(request: Request) -> Response:
    state = state_of(request)
    rec = found(state.files, "File", request.path_params["id"])
    _check_token(content_token(state, rec.id), request)
    return Response(rec.data, media_type="application/octet-stream")


async def credits(request: Request) -> Response:
    """``{"inputs": N}`` allows N more inputs; ``{"inputs": null}`` lifts the credit limit."""
    state = state_of(request)
    body = await read_json(request)
    inputs = body.get("inputs")
    if inputs is not None and (not isinstance(inputs, int) or isinstance(inputs, bool)):
        raise invalid("inputs must be a whole number of inputs, or null for no limit")
    limit = state.refusals.add_credits(inputs, state.stats.inputs_submitted)
    return reply({"creditInputs": limit, "inputsAccepted": state.stats.inputs_submitted})


routes = [
    Route("/_emulator/stats", stats, methods=["GET"]),
    Route("/_emulator/credits", credits, methods=["POST"]),
    Route("/_emulator/batch_runs/{id}/cancel", batch_cancel, methods=["POST"]),
    Route("/_emulator/clock/advance", clock_advance, methods=["POST"]),
    Route("/_emulator/webhook_deliveries", deliveries, methods=["GET"]),
    Route("/_emulator/webhook_payloads/{token}", webhook_payload, methods=["GET"]),
    Route("/_emulator/parse_outputs/{id}", parse_output, methods=["GET"]),
    Route("/_emulator/files/{id}/content", file_content, methods=["GET"]),
]
