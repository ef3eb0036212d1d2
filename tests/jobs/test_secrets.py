"""No secret (API key, storage credentials, webhook secret) ends up in logs, exception texts,
reprs or the files a job writes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import fsspec
import polars as pl
import pytest

import extend_frames as xf
from extend_frames.emulator import Emulator
from tests._s3 import SECRET as S3_SECRET
from tests._s3 import MotoS3, moto_s3_server

from .conftest import FAST, create_processor

KEY = "sk_live_very_secret_key_0123456789"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[MotoS3]:
    with moto_s3_server() as server:
        yield server


def test_job_files_logs_and_reprs_hold_no_secrets(
    moto_s3: MotoS3, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    output = moto_s3.new_bucket_url() + "/out"
    with Emulator(api_key=KEY) as emu, xf.WebhookReceiver() as receiver:
        client = xf.Client(
            api_key=KEY, base_url=emu.url, rate_limits=xf.RateLimits(get=500, write=500, run=500)
        )
        ex = create_processor(emu, "extractor")
        out = xf.extract(
            pl.DataFrame({"text": ["Invoice number: S-1", "Invoice number: S-2"]}),
            processor=ex,
            text_column="text",
            client=client,
            output=output,
            storage_options=moto_s3.storage_options,
            wait="webhook",
            webhook=receiver,
            polling=FAST,
            progress=True,
        )
        secrets_seen = [KEY, S3_SECRET]
        texts = [repr(client), repr(receiver), str(xf.summarize(out)), repr(out)]
    fs = fsspec.filesystem("s3", **moto_s3.storage_options)
    bucket_path = output.removeprefix("s3://")
    written = [fs.cat_file(p) for p in fs.find(bucket_path)]
    assert len(written) >= 4  # manifest, ledger records, a part, _SUCCESS
    captured = capsys.readouterr()
    haystacks = [
        *texts,
        caplog.text,
        captured.out,
        captured.err,
        *(w.decode("latin-1") for w in written),
    ]
    for secret in secrets_seen:
        for text in haystacks:
            assert secret not in text
    assert "wss_" not in caplog.text  # the webhook signing secret


def test_failing_calls_do_not_leak_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Emulator(api_key=KEY) as emu:
        wrong = xf.Client(api_key=KEY + "x", base_url=emu.url)
        with pytest.raises(xf.AuthenticationError) as info:
            xf.extract(
                pl.DataFrame({"file": ["https://example.test/a.pdf"]}),
                processor="ex_abc",
                client=wrong,
                progress=False,
            )
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)
    assert KEY not in caplog.text
    assert KEY not in repr(wrong)
