"""Fetching a run's input: ``file_...`` ids, ``file://`` paths, loopback URLs and raw text.

Only loopback hosts are ever contacted; any other host is unreachable here, so the run fails
with UNABLE_TO_DOWNLOAD_FILE and no connection is attempted. ``fail.example`` URLs and text
containing ``__FAIL:<REASON>`` are deliberate failure markers (docs/extend-api.md#emulator-choices).
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._documents import DocumentError

FAIL_HOST = "fail.example"
_TEXT_MARKER = re.compile(r"__FAIL:([A-Z_]+)")


@dataclass(frozen=True, slots=True)
class Fetched:
    """The bytes of an input, the name to give its File, and the unlock password."""

    data: bytes
    name: str
    password: str | None


# What a ``fail.example`` URL without ``?reason=`` fails with: a reason each run kind documents.
DEFAULT_FAIL_REASON = {"parse": "CORRUPT_FILE"}
DEFAULT_PROCESSOR_FAIL_REASON = "FAILED_TO_PROCESS_FILE"


class MarkerFailureError(Exception):
    """An input asked to fail with ``reason`` (after its File was created, for text);
    ``reason=None`` means the run kind's default (``failure_reason``)."""

    def __init__(self, reason: str | None, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def failure_reason(self, kind: str) -> str:
        if self.reason is not None:
            return self.reason
        return DEFAULT_FAIL_REASON.get(kind, DEFAULT_PROCESSOR_FAIL_REASON)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def text_marker(text: str) -> str | None:
    match = _TEXT_MARKER.search(text)
    return match.group(1) if match else None


def url_name(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    tail = urllib.parse.unquote(path.rsplit("/", 1)[-1])
    return tail or "file"


def fetch_url(spec: dict[str, Any], *, timeout: float) -> Fetched:
    """Download ``spec["url"]``; DocumentError(UNABLE_TO_DOWNLOAD_FILE) on any failure."""
    url: str = spec["url"]
    settings = spec.get("settings") or {}
    password = settings.get("password") if isinstance(settings, dict) else None
    name = spec.get("name") or url_name(url)
    parts = urllib.parse.urlsplit(url)
    if parts.hostname == FAIL_HOST:
        query = urllib.parse.parse_qs(parts.query)
        given = query.get("reason")
        reason = given[0] if given else None
        raise MarkerFailureError(reason, f"Injected failure for {FAIL_HOST} input ({{reason}}).")
    if parts.scheme == "file":
        path = Path(urllib.parse.unquote(parts.path))
        try:
            return Fetched(path.read_bytes(), name, password)
        except OSError as exc:
            raise DocumentError(
                "UNABLE_TO_DOWNLOAD_FILE", f"Could not read {path}: {exc.strerror}"
            ) from None
    if parts.scheme not in ("http", "https") or not is_loopback(parts.hostname):
        raise DocumentError(
            "UNABLE_TO_DOWNLOAD_FILE",
            f"Could not download the file from host {parts.hostname or '?'}: the emulator "
            "only reaches loopback URLs (127.0.0.1, localhost), file:// paths and file ids.",
        )
    return Fetched(_http_get(parts, timeout=timeout), name, password)


def _http_get(parts: urllib.parse.SplitResult, *, timeout: float) -> bytes:
    conn_cls = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_cls(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        body = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        raise DocumentError(
            "UNABLE_TO_DOWNLOAD_FILE", f"Download failed: {type(exc).__name__}"
        ) from None
    finally:
        conn.close()
    if not 200 <= resp.status < 300:
        raise DocumentError(
            "UNABLE_TO_DOWNLOAD_FILE", f"Received HTTP {resp.status} when downloading the file"
        )
    return body
