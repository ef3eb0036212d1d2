"""Document digests: what makes two rows "the same document" for the result cache.

Pure functions, one per kind of reference (plus a streaming file hash):

- local and fsspec files: ``file:`` + sha256 of the bytes (the bytes that are uploaded);
- Extend file ids: ``id:`` + the id (a file id names immutable content);
- text: ``text:`` + sha256 of the UTF-8 text;
- URLs: ``url:`` + sha256 of the URL with presigning query parameters removed, so a URL that is
  re-signed every day for the same object keeps its digest;
- a ``cache_key=`` value the user vouches for (an ETag, a content hash): ``key:`` + sha256.

Digests never contain the reference itself (a URL's other query parameters may be tokens), so
a cache holds no secrets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from extend_frames.jobs._sources import ReadPolicy, probe

#: Read size of the streaming file hash (memory per file in flight).
BLOCK = 1 << 20

# Query parameters that sign or expire a URL (compared case-insensitively).
_ALWAYS = frozenset({"expires", "signature"})
# AWS SigV2 (legacy) / CloudFront / GCS V2 signed URLs: only once a Signature is present.
_WITH_SIGNATURE = frozenset({"awsaccesskeyid", "googleaccessid", "key-pair-id", "policy"})
_PREFIXES = ("x-amz-", "x-goog-")  # AWS SigV4 and GCS V4 (X-Amz-Signature, X-Goog-Expires...)
# Azure shared access signatures: only once ``sig`` is present (``sv`` alone is not a SAS).
_AZURE_SAS = frozenset(
    {
        "sig", "sv", "ss", "srt", "sp", "se", "st", "spr", "sip", "sr", "si", "sdd", "ses",
        "skoid", "sktid", "skt", "ske", "sks", "skv", "saoid", "suoid", "scid",
        "rscc", "rscd", "rsce", "rscl", "rsct",
    }
)  # fmt: skip


def canonical_url(url: str) -> str:
    """``url`` without presigning parameters, other parameters in sorted order, no fragment.

    >>> canonical_url("https://B.s3.amazonaws.com/a.pdf?X-Amz-Signature=1&v=2&X-Amz-Expires=9")
    'https://b.s3.amazonaws.com/a.pdf?v=2'
    """
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    names = {k.lower() for k, _ in pairs}
    drop = set(_ALWAYS)
    if "signature" in names:
        drop |= _WITH_SIGNATURE
    if "sig" in names:
        drop |= _AZURE_SAS
    kept = sorted(
        (k, v) for k, v in pairs if k.lower() not in drop and not k.lower().startswith(_PREFIXES)
    )
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, urlencode(kept), ""))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def url_digest(url: str) -> str:
    return "url:" + _sha(canonical_url(url).encode())


def text_digest(text: str) -> str:
    return "text:" + _sha(text.encode())


def file_id_digest(file_id: str) -> str:
    return "id:" + file_id


def bytes_digest(data: bytes) -> str:
    """The digest of a file's content (the bytes uploaded for it)."""
    return "file:" + _sha(data)


def key_digest(value: str) -> str:
    """The digest of a user's ``cache_key=`` value (an ETag, a content hash)."""
    return "key:" + _sha(value.encode())


def file_digest(
    path: str,
    storage_options: Mapping[str, Any] | None = None,
    reads: ReadPolicy | None = None,
) -> str:
    """``bytes_digest`` of the file at ``path`` (local or fsspec), read in 1 MiB blocks.

    The file is probed first like an upload (``jobs/_sources.py``: allowed scheme, inside
    ``local_root``, a regular file, not over the size limit), so a FIFO or a disallowed host is
    refused (:class:`SourceRefusedError`) rather than read. Raises OSError like any read.
    """
    source = probe(path, reads or ReadPolicy(), storage_options)
    sha = hashlib.sha256()
    with source.open() as fh:
        while block := fh.read(BLOCK):
            sha.update(block)
    return "file:" + sha.hexdigest()


def reference_digest(kind: str, ref: str) -> str | None:
    """The digest of a classified reference that needs no read (None for paths and errors)."""
    if kind == "url":
        return url_digest(ref)
    if kind == "file_id":
        return file_id_digest(ref)
    if kind == "text":
        return text_digest(ref)
    return None


def config_digest(config: Any) -> str:
    """sha256 of the canonical JSON of an effective config (processor config + overrides)."""
    import json

    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return _sha(text.encode())
