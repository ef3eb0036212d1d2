"""Pure pieces of the store, checked on generated inputs: ledger folding, names, display paths."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from extend_frames.store import STATES, display_path
from extend_frames.store._ledger import decode_record, encode_record, fold, name_seq, record_name
from extend_frames.store._paths import PART_RE, TEMP_RE, part_chunk, part_name, temp_name

records = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from(STATES), st.none() | st.text(min_size=1)),
    max_size=60,
)


@given(records, st.randoms())
def test_fold_takes_each_chunks_latest_record_whatever_the_read_order(
    recs: list[tuple[int, str, str | None]], rnd: random.Random
) -> None:
    stored = [
        {"seq": seq, "chunk": chunk, "state": state, "time": f"t{seq}", "batch_id": batch}
        for seq, (chunk, state, batch) in enumerate(recs)
    ]
    shuffled = stored[:]
    rnd.shuffle(shuffled)
    folded = fold(shuffled)
    assert sorted(folded) == sorted({r["chunk"] for r in stored})
    for chunk, cs in folded.items():
        mine = [r for r in stored if r["chunk"] == chunk]
        assert cs.state == mine[-1]["state"]
        assert [r["seq"] for r in cs.records] == [r["seq"] for r in mine]
        batches = [r["batch_id"] for r in mine if r["batch_id"] is not None]
        assert cs.batch_id == (batches[-1] if batches else None)
        intents = [r["time"] for r in mine if r["state"] == "intent"]
        assert cs.intent_at == (intents[-1] if intents else None)


@given(st.lists(st.tuples(st.integers(0, 10**8 - 1), st.integers(0, 10**5 - 1)), max_size=50))
def test_record_names_sort_by_sequence(pairs: list[tuple[int, int]]) -> None:
    names = [record_name(seq, chunk, "intent") for seq, chunk in pairs]
    assert [name_seq(n) for n in sorted(names)] == sorted(seq for seq, _ in pairs)


@given(
    st.integers(0, 10**7),
    st.sampled_from(STATES),
    st.dictionaries(
        st.text(max_size=5).filter(
            lambda k: (
                k not in ("seq", "chunk", "state", "time")
                and not any(
                    w in k.lower()
                    for w in (
                        "secret",
                        "password",
                        "api_key",
                        "apikey",
                        "authorization",
                        "signature",
                    )
                )
            )
        ),
        st.integers() | st.text().filter(lambda s: "://" not in s),
        max_size=5,
    ),
)
def test_records_round_trip(seq: int, state: str, data: dict[str, object]) -> None:
    name = record_name(seq, 7, state)
    back = decode_record(name, encode_record(seq, 7, state, "t", data))
    assert back == {**data, "seq": seq, "chunk": 7, "state": state, "time": "t"}


@given(st.integers(0, 10**9))
def test_part_names_round_trip_and_temp_names_never_look_like_parts(chunk: int) -> None:
    name = part_name(chunk)
    assert part_chunk(name) == chunk
    tmp = temp_name(name)
    assert TEMP_RE.match(tmp)
    assert not PART_RE.match(tmp)
    assert not tmp.endswith(".parquet")


@given(
    st.sampled_from(["s3", "gs", "https", "abfs"]),
    st.text("abcXYZ019-_", min_size=1, max_size=12),
    st.text("abcXYZ019-_", min_size=1, max_size=12),
    st.text("abc/xyz019-_.", max_size=20),
    st.text("abc=&XYZ019%", min_size=1, max_size=20),
)
def test_display_path_never_shows_userinfo_or_query(
    scheme: str, user: str, secret: str, path: str, query: str
) -> None:
    shown = display_path(f"{scheme}://{user}:{secret}@bucket/{path}?{query}")
    assert shown == f"{scheme}://bucket/{path}"
