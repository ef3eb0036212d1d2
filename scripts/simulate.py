"""Run the deterministic simulation (tests/sim/harness.py) over many seeds, or replay one.

    python scripts/simulate.py --seeds 2000          # seeds 0..1999, figures at the end
    python scripts/simulate.py --seed 1234 -v        # replay one seed, with the engine's log

Exit status 1 if any seed broke an invariant (each failure is printed with its seed).
"""

from __future__ import annotations

import argparse
import collections
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sim.harness import Scenario, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="run seeds 0..N-1")
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--seed", type=int, help="replay this one seed")
    parser.add_argument("-v", "--verbose", action="store_true", help="log the engine")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.CRITICAL, format="%(name)s %(message)s"
    )
    for name in ("httpx", "httpcore", "uvicorn"):
        logging.getLogger(name).setLevel(logging.WARNING)
    seeds = [args.seed] if args.seed is not None else range(args.start, args.start + args.seeds)
    started = time.monotonic()
    faults: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    crashed = resumed = duplicates = flagged = 0
    for seed in seeds:
        if args.seed is not None:
            print(Scenario.of(seed))
        try:
            outcome = simulate(seed)
        except AssertionError as exc:
            failures.append(f"seed {seed}: {exc}")
            print(f"FAIL {exc}", flush=True)
            continue
        if seed % 100 == 99:
            print(f"... seed {seed}: {time.monotonic() - started:.0f} s", flush=True)
        faults.update(outcome.faults)
        crashed += outcome.crashed
        resumed += outcome.calls - 1
        duplicates += outcome.duplicates
        flagged += outcome.flagged
    took = time.monotonic() - started
    print(
        f"{len(seeds)} seeds in {took:.0f} s ({took / max(1, len(seeds)):.2f} s/seed): "
        f"{len(failures)} failed; {crashed} crashed mid-job, {resumed} resumes; "
        f"{duplicates} inputs accepted twice (late commits past the grace), "
        f"{flagged} documents flagged possible_duplicate"
    )
    print("faults seen: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
