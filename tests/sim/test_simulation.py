"""The seeded simulation in CI: a few hundred seeds of the real engine under every fault.

``python scripts/simulate.py --seeds 2000`` runs thousands; ``--seed N`` replays one exactly.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from extend_frames.jobs import Step, _engine

from .harness import Scenario, simulate

#: Seeds per CI run (``EXTEND_SIM_SEEDS`` overrides; scripts/simulate.py runs thousands).
SEEDS = int(os.environ.get("EXTEND_SIM_SEEDS", "200"))
SHARDS = 20


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_seed_keeps_the_invariants(shard: int) -> None:
    for seed in range(shard, SEEDS, SHARDS):
        simulate(seed)


def test_a_seed_is_one_scenario() -> None:
    # the same seed draws the same input, faults and crash point: a failure replays exactly
    assert Scenario.of(7) == Scenario.of(7)
    assert Scenario.of(7).frame().equals(Scenario.of(7).frame())
    assert Scenario.of(7) != Scenario.of(8)


#: Seeds whose create-POSTs meet a 5xx after commit or a late commit (found by running them).
AMBIGUOUS_SEEDS = (0, 10, 14, 23)


def test_a_broken_engine_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # an engine that resubmits after an ambiguous POST without reconciling first
    real = _engine.next_step

    def careless(state: Any, chunk: Any, situation: Any) -> Step:
        step = real(state, chunk, situation)
        return Step("submit", step.keys) if step.kind == "reconcile" else step

    monkeypatch.setattr(_engine, "next_step", careless)
    caught = []
    for seed in AMBIGUOUS_SEEDS:
        try:
            simulate(seed)
        except AssertionError as exc:
            caught.append(str(exc))
    assert caught, "the simulation did not notice an engine that pays twice"
    assert any("accepted twice" in c for c in caught), caught
