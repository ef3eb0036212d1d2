"""The operator's pieces without a DAG run: connection to client, ids to wait on, arguments."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from extend_frames import InputError
from extend_frames.airflow import ExtendHook, ExtendJobOperator, ExtendJobTrigger
from extend_frames.airflow._hook import client_from_connection
from extend_frames.airflow._trigger import pending_ids


def _conn(**fields: object) -> SimpleNamespace:
    base = {"conn_id": "extend_default", "password": "sk_secret", "host": None, "port": None}
    return SimpleNamespace(**{**base, "extra_dejson": {}, **fields})


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        (None, None, "https://api.extend.ai"),
        ("api.eu1.extend.ai", None, "https://api.eu1.extend.ai"),
        ("http://127.0.0.1", 8765, "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/", None, "http://127.0.0.1:8765"),
    ],
)
def test_the_connection_gives_key_and_base_url(
    host: str | None, port: int | None, url: str
) -> None:
    client = client_from_connection(_conn(host=host, port=port))
    assert client.base_url.rstrip("/") == url
    assert "sk_secret" not in repr(client)
    assert "sk_secret" not in repr(ExtendHook())


def test_a_connection_without_password_says_where_the_key_goes() -> None:
    with pytest.raises(InputError, match="put the Extend API key there") as caught:
        client_from_connection(_conn(password=None))
    assert "AIRFLOW_CONN_EXTEND_DEFAULT" in str(caught.value)


def test_pending_ids_are_distinct_batches_then_single_runs() -> None:
    batches, runs = pending_ids(["b1", "b1", None, "b2", None], ["r1", "r2", "r3", None, None])
    assert batches == ["b1", "b2"]
    assert runs == ["r3"]  # runs of a batch are waited for through their batch


def test_the_trigger_serializes_no_secret() -> None:
    path, kwargs = ExtendJobTrigger(operation="extract", batch_ids=["b1"]).serialize()
    assert path == "extend_frames.airflow.ExtendJobTrigger"
    assert set(kwargs) == {"operation", "batch_ids", "run_ids", "extend_conn_id", "poll_interval"}


def test_job_options_pass_through_and_the_rest_go_to_airflow() -> None:
    op = ExtendJobOperator(
        task_id="t", processor="ex_1", input="in.csv", output="out/", file_column="url",
        cache="cache/", batch_size=10, retries=3,
    )  # fmt: skip
    assert op.job_options == {"progress": False, "file_column": "url", "cache": "cache/",
                              "batch_size": 10}  # fmt: skip
    assert op.retries == 3
    assert "job_output" in op.template_fields
    with pytest.raises(TypeError, match="Invalid arguments"):
        ExtendJobOperator(task_id="u", processor="ex_1", input="i.csv", output="o", batchsize=1)
    with pytest.raises(InputError, match="sets client"):
        ExtendJobOperator(task_id="v", processor="ex_1", input="i.csv", output="o", client=None)
    with pytest.raises(InputError, match="needs processor="):
        ExtendJobOperator(task_id="w", input="i.csv", output="o")


def test_failed_rows_fail_the_task_only_when_asked() -> None:
    import polars as pl

    from extend_frames.airflow import FailedRowsError

    frame = pl.DataFrame({"status": ["PROCESSED", "FAILED"], "credits": [2.0, None]})
    pushed: dict[str, object] = {}
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.update({key: value}))
    lenient = ExtendJobOperator(task_id="a", processor="ex_1", input="i.csv", output="o")
    summary = lenient._finish(frame, {"ti": ti})
    assert summary["by_status"] == {"FAILED": 1, "PROCESSED": 1}
    assert summary["credits"] == 2.0
    strict = ExtendJobOperator(
        task_id="b", processor="ex_1", input="i.csv", output="o", fail_on_failed_rows=True
    )
    with pytest.raises(FailedRowsError, match="1 of 2 rows FAILED"):
        strict._finish(frame, {"ti": ti})
    assert pushed["summary"] == summary  # the summary is kept before the task fails
