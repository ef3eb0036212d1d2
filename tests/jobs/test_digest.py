"""Document digests: what the result cache treats as the same document."""

from __future__ import annotations

from pathlib import Path

import pytest

from extend_frames.jobs._digest import (
    bytes_digest,
    canonical_url,
    config_digest,
    file_digest,
    key_digest,
    reference_digest,
    url_digest,
)

BASE = "https://bucket.s3.amazonaws.com/docs/a.pdf"


@pytest.mark.parametrize(
    ("day1", "day2"),
    [
        (  # AWS SigV4
            f"{BASE}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F1&X-Amz-Date=1"
            "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=aaa",
            f"{BASE}?X-Amz-Signature=bbb&X-Amz-Date=2&X-Amz-Expires=60&X-Amz-Algorithm=x"
            "&X-Amz-Credential=AK%2F2&X-Amz-Security-Token=t&X-Amz-SignedHeaders=host",
        ),
        (  # AWS legacy (SigV2)
            f"{BASE}?AWSAccessKeyId=AK&Signature=s1&Expires=1",
            f"{BASE}?Expires=2&AWSAccessKeyId=AK2&Signature=s2",
        ),
        (  # GCS V4 and V2
            "https://storage.googleapis.com/b/a.pdf?X-Goog-Algorithm=G&X-Goog-Signature=1",
            "https://storage.googleapis.com/b/a.pdf?GoogleAccessId=x&Signature=2&Expires=3",
        ),
        (  # Azure SAS
            "https://acct.blob.core.windows.net/c/a.pdf?sv=2022&se=2026-01-01&sp=r&sr=b&sig=1",
            "https://acct.blob.core.windows.net/c/a.pdf?sig=2&st=x&se=2027&sp=r&sv=2023&spr=https"
            "&skoid=o",
        ),
    ],
)
def test_a_resigned_url_keeps_its_digest(day1: str, day2: str) -> None:
    assert url_digest(day1) == url_digest(day2)
    assert "sig" not in canonical_url(day1).lower()


def test_other_query_parameters_count_in_canonical_order() -> None:
    assert canonical_url(f"{BASE}?b=2&a=1&Signature=x#frag") == f"{BASE}?a=1&b=2"
    assert url_digest(f"{BASE}?v=1") != url_digest(f"{BASE}?v=2")
    assert url_digest(f"{BASE}?v=1") != url_digest("https://bucket.s3.amazonaws.com/docs/b.pdf")
    # Azure names are only stripped from a SAS (with sig): elsewhere `sv` is a plain parameter.
    assert url_digest(f"{BASE}?sv=1") != url_digest(f"{BASE}?sv=2")
    assert url_digest(f"{BASE}?sv=1&sig=a") == url_digest(f"{BASE}?sv=2&sig=b")


def test_digests_by_kind_and_no_reference_inside() -> None:
    url = f"{BASE}?token=SECRET"
    assert "SECRET" not in url_digest(url)
    assert reference_digest("url", url) == url_digest(url)
    assert reference_digest("file_id", "file_abc") == "id:file_abc"
    assert reference_digest("text", "hello") != reference_digest("url", "hello")
    assert reference_digest("path", "/x") is None
    assert key_digest("etag-1") != key_digest("etag-2")


def test_file_digest_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    data = b"%PDF-1.4 " + b"x" * (3 << 20)  # more than one read block
    path.write_bytes(data)
    assert file_digest(str(path)) == bytes_digest(data)
    assert file_digest(f"file://{path}") == bytes_digest(data)
    with pytest.raises(FileNotFoundError):
        file_digest(str(tmp_path / "missing.pdf"))


def test_config_digest_ignores_key_order() -> None:
    assert config_digest({"a": 1, "b": [1, 2]}) == config_digest({"b": [1, 2], "a": 1})
    assert config_digest({"a": 1}) != config_digest({"a": 2})
