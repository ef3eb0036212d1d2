"""Small request/response helpers shared by the route modules."""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from ._errors import invalid
from ._records import dumps
from ._state import State


class JSONBytes(Response):
    """A JSON response from bytes that are already serialised."""

    media_type = "application/json"


def reply(obj: Any) -> Response:
    return JSONBytes(dumps(obj))


def state_of(request: Request) -> State:
    return cast(State, request.app.state.emulator)


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object body; 400 INVALID_REQUEST when it is missing, malformed or not an object."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid(f"Request body is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object")
    return body


def opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{key} must be a string")
    return value


def opt_obj(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise invalid(f"{key} must be an object")
    return value
