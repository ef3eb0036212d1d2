"""The Ray Data recipe of docs/guides/distributed.md over a few hundred documents (nox -s ray)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
import ray
import ray.data

from extend_frames.emulator import Emulator
from tests.integrations._docs import extractor
from tests.integrations._recipes import ROWS, check, frame, recipe


@pytest.mark.slow
def test_ray_recipe(tmp_path: Path) -> None:
    namespace = recipe("ray")
    with Emulator() as emu:
        env = {"EXTEND_API_KEY": emu.api_key, "EXTEND_BASE_URL": emu.url}
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": env},
        )
        try:
            ds = ray.data.from_arrow(frame().to_arrow())
            run = namespace["extract_with_ray"]
            args = (extractor(emu), str(tmp_path / "jobs"))
            first = run(ds, *args, key="doc_id", blocks=4, text_column="text")
            out = pl.from_arrow(pa.concat_tables(ray.get(first.to_arrow_refs())))
            assert isinstance(out, pl.DataFrame)
            check(out, emu)
            assert len(list((tmp_path / "jobs").iterdir())) == 4  # one job per block
            # Rerun: every block's job is complete, so nothing is submitted again.
            again = run(ds, *args, key="doc_id", blocks=4, text_column="text")
            assert sum(b.num_rows for b in ray.get(again.to_arrow_refs())) == ROWS
            assert emu.stats()["inputs_submitted"] == ROWS
        finally:
            ray.shutdown()
