"""Webhook endpoints and subscriptions (docs/extend-api.md#webhook-endpoints). The signing secret
is shown once."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._clock import rfc3339
from ._config import API_VERSION
from ._errors import found, invalid
from ._http import JSONBytes, read_json, reply, state_of
from ._lists import page_body
from ._records import dumps
from ._state import State

_ENDPOINT_KEYS = {"url", "name", "enabledEvents", "apiVersion", "status", "advancedOptions"}
_UPDATE_KEYS = {"url", "name", "status", "enabledEvents", "advancedOptions"}
_RESOURCE_TYPES = ("extractor", "classifier", "splitter", "workflow")


def _check_endpoint_fields(body: dict[str, Any], allowed: set[str]) -> None:
    extra = set(body) - allowed
    if extra:
        raise invalid(f"Unrecognized keys: {sorted(extra)}")
    if "url" in body and (not isinstance(body["url"], str) or "://" not in body["url"]):
        raise invalid("url must be an absolute http(s) URL")
    if "name" in body and not isinstance(body["name"], str):
        raise invalid("name must be a string")
    events = body.get("enabledEvents")
    if "enabledEvents" in body and (
        not isinstance(events, list) or not all(isinstance(e, str) for e in events)
    ):
        raise invalid("enabledEvents must be an array of event type strings")
    if "status" in body and body["status"] not in ("enabled", "disabled"):
        raise invalid('status must be "enabled" or "disabled"')
    advanced = body.get("advancedOptions")
    if advanced is not None:
        if not isinstance(advanced, dict) or set(advanced) - {"headers", "payload"}:
            raise invalid("advancedOptions accepts only headers and payload")
        payload = advanced.get("payload")
        if payload is not None and (
            not isinstance(payload, dict) or payload.get("format") not in ("json", "url")
        ):
            raise invalid('advancedOptions.payload.format must be "json" or "url"')


def _endpoint(state: State, ep_id: str) -> dict[str, Any]:
    return found(state.webhook_endpoints, "Webhook endpoint", ep_id)


async def create_endpoint(request: Request) -> Response:
    state = state_of(request)
    body = await read_json(request)
    _check_endpoint_fields(body, _ENDPOINT_KEYS)
    for key in ("url", "name", "enabledEvents", "apiVersion"):
        if key not in body:
            raise invalid(f"{key} is required")
    if body["apiVersion"] != API_VERSION:
        raise invalid(f"apiVersion must be {API_VERSION}")
    with state.lock:
        ep: dict[str, Any] = {
            "object": "webhook_endpoint",
            "id": state.ids("wh"),
            "url": body["url"],
            "name": body["name"],
            "status": body.get("status", "enabled"),
            "enabledEvents": list(body["enabledEvents"]),
            "apiVersion": body["apiVersion"],
            "advancedOptions": body.get("advancedOptions"),
            "createdAt": rfc3339(state.now()),
            "createdBy": None,
        }
        secret = "wss_" + secrets.token_urlsafe(24)
        state.webhook_endpoints[ep["id"]] = ep
        state.webhook_secrets[ep["id"]] = secret
    return reply({**ep, "signingSecret": secret})


async def get_endpoint(request: Request) -> Response:
    return reply(_endpoint(state_of(request), request.path_params["id"]))


async def update_endpoint(request: Request) -> Response:
    state = state_of(request)
    body = await read_json(request)
    _check_endpoint_fields(body, _UPDATE_KEYS)
    with state.lock:
        ep = _endpoint(state, request.path_params["id"])
        ep.update(body)
        return reply(ep)


async def delete_endpoint(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        ep = _endpoint(state, request.path_params["id"])
        del state.webhook_endpoints[ep["id"]]
        state.webhook_secrets.pop(ep["id"], None)
        for sub_id in [
            s
            for s, sub in state.webhook_subscriptions.items()
            if sub["webhookEndpointId"] == ep["id"]
        ]:
            del state.webhook_subscriptions[sub_id]
    return reply({"id": ep["id"]})


def _list(request: Request, items: list[dict[str, Any]], filters: dict[str, Any]) -> Response:
    params = request.query_params
    index = {item["id"]: i for i, item in enumerate(items)}
    body = page_body(
        items,
        lambda it: (float(index[it["id"]]), 0),
        dumps,
        params,
        filters=filters,
        null_token=state_of(request).null_token,
    )
    return JSONBytes(body)


async def list_endpoints(request: Request) -> Response:
    state = state_of(request)
    status = request.query_params.get("status")
    with state.lock:
        items = [e for e in state.webhook_endpoints.values() if status in (None, e["status"])]
    return _list(request, items, {"status": status})


def _subscription(state: State, sub_id: str) -> dict[str, Any]:
    return found(state.webhook_subscriptions, "Webhook subscription", sub_id)


async def create_subscription(request: Request) -> Response:
    state = state_of(request)
    body = await read_json(request)
    for key in ("webhookEndpointId", "resourceType", "resourceId", "enabledEvents"):
        if key not in body:
            raise invalid(f"{key} is required")
    if body["resourceType"] not in _RESOURCE_TYPES:
        raise invalid(f"resourceType must be one of {', '.join(_RESOURCE_TYPES)}")
    if not isinstance(body["enabledEvents"], list):
        raise invalid("enabledEvents must be an array")
    with state.lock:
        _endpoint(state, body["webhookEndpointId"])
        sub = {
            "object": "webhook_subscription",
            "id": state.ids("whes"),
            "webhookEndpointId": body["webhookEndpointId"],
            "resourceType": body["resourceType"],
            "resourceId": body["resourceId"],
            "enabledEvents": list(body["enabledEvents"]),
            "createdAt": rfc3339(state.now()),
        }
        state.webhook_subscriptions[sub["id"]] = sub
    return reply(sub)


async def get_subscription(request: Request) -> Response:
    return reply(_subscription(state_of(request), request.path_params["id"]))


async def update_subscription(request: Request) -> Response:
    state = state_of(request)
    body = await read_json(request)
    events = body.get("enabledEvents")
    if not isinstance(events, list):
        raise invalid("enabledEvents is required: an array of event types")
    with state.lock:
        sub = _subscription(state, request.path_params["id"])
        sub["enabledEvents"] = list(events)
        return reply(sub)


async def delete_subscription(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        sub = _subscription(state, request.path_params["id"])
        del state.webhook_subscriptions[sub["id"]]
    return reply({"id": sub["id"]})


async def list_subscriptions(request: Request) -> Response:
    state = state_of(request)
    ep_id = request.query_params.get("webhookEndpointId")
    res_id = request.query_params.get("resourceId")
    with state.lock:
        items = [
            s
            for s in state.webhook_subscriptions.values()
            if ep_id in (None, s["webhookEndpointId"]) and res_id in (None, s["resourceId"])
        ]
    return _list(request, items, {"webhookEndpointId": ep_id, "resourceId": res_id})


routes = [
    Route("/webhook_endpoints", create_endpoint, methods=["POST"]),
    Route("/webhook_endpoints", list_endpoints, methods=["GET"]),
    Route("/webhook_endpoints/{id}", get_endpoint, methods=["GET"]),
    Route("/webhook_endpoints/{id}", update_endpoint, methods=["POST"]),
    Route("/webhook_endpoints/{id}", delete_endpoint, methods=["DELETE"]),
    Route("/webhook_subscriptions", create_subscription, methods=["POST"]),
    Route("/webhook_subscriptions", list_subscriptions, methods=["GET"]),
    Route("/webhook_subscriptions/{id}", get_subscription, methods=["GET"]),
    Route("/webhook_subscriptions/{id}", update_subscription, methods=["POST"]),
    Route("/webhook_subscriptions/{id}", delete_subscription, methods=["DELETE"]),
]
