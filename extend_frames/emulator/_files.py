"""Files: ``POST /files/upload`` (multipart), ``GET /files/{id}``, ``GET /files``, ``DELETE``."""

from __future__ import annotations

import hashlib
import hmac

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import _documents as docs
from ._errors import found, invalid
from ._http import JSONBytes, reply, state_of
from ._lists import page_body, time_key
from ._process import read_file
from ._records import FileRecord, dumps
from ._state import State

_EXT_TYPES = {
    "pdf": "PDF",
    "csv": "CSV",
    "txt": "TXT",
    "md": "TXT",
    "html": "HTML",
    "htm": "HTML",
    "xml": "XML",
    "docx": "DOCX",
    "doc": "DOCX",
    "xlsx": "EXCEL",
    "xls": "EXCEL",
    "png": "IMG",
    "jpg": "IMG",
    "jpeg": "IMG",
}


def content_token(state: State, file_id: str) -> str:
    key = str(state.config.seed).encode() + b":file-content"
    return hmac.new(key, file_id.encode(), hashlib.sha256).hexdigest()[:32]


def presigned_url(state: State, file_id: str) -> str:
    token = content_token(state, file_id)
    return f"{state.config.public_url}/_emulator/files/{file_id}/content?token={token}"


def _describe(state: State, rec: FileRecord) -> None:
    """Fill type and page count by reading the document; unreadable files keep the extension."""
    try:
        read_file(state, rec)
    except docs.DocumentError:
        rec.file_type = _EXT_TYPES.get(rec.name.rsplit(".", 1)[-1].lower())


async def upload(request: Request) -> Response:
    state = state_of(request)
    form = await request.form()
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise invalid("multipart field 'file' is required (a file part)")
    password = form.get("password")
    data = await part.read()
    secret = password if isinstance(password, str) and password else None
    with state.lock:
        file_id, seq = state.ids("file"), state.next_seq()
        rec = FileRecord(file_id, part.filename or "upload", data, seq, state.now(), secret)
    await run_in_threadpool(_describe, state, rec)
    with state.lock:
        state.files[rec.id] = rec
    return reply(rec.full(None))


def _get_file(state: State, file_id: str) -> FileRecord:
    return found(state.files, "File", file_id)


async def get_file(request: Request) -> Response:
    state = state_of(request)
    rec = _get_file(state, request.path_params["id"])
    return reply(rec.full(presigned_url(state, rec.id)))


async def delete_file(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        rec = _get_file(state, request.path_params["id"])
        del state.files[rec.id]
    return reply({"id": rec.id})


async def list_files(request: Request) -> Response:
    state = state_of(request)
    params = request.query_params
    needle = params.get("nameContains")
    with state.lock:
        items = [f for f in state.files.values() if not needle or needle in f.name]
    body = page_body(
        items,
        time_key("createdAt"),
        lambda f: dumps(f.summary()),
        params,
        filters={"nameContains": needle},
        null_token=state.null_token,
    )
    return JSONBytes(body)


routes = [
    Route("/files/upload", upload, methods=["POST"]),
    Route("/files", list_files, methods=["GET"]),
    Route("/files/{id}", get_file, methods=["GET"]),
    Route("/files/{id}", delete_file, methods=["DELETE"]),
]
