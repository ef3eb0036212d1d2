#!/usr/bin/env bash
# Runs the test suite RUNS times in a row with BURNERS CPU-burning processes beside it, and
# stops at the first failing run. This is how we check that no test depends on timing that a
# busy machine breaks. Needs the environment scripts/test.sh sets up (.venv).
#
#   bash scripts/soak.sh            # 3 runs, 2 burners
#   bash scripts/soak.sh 5 4 -x     # 5 runs, 4 burners, extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
BURNERS="${2:-2}"
shift $(( $# > 2 ? 2 : $# ))
[ -x .venv/bin/python ] || { echo "no .venv: run 'bash scripts/test.sh' once first" >&2; exit 2; }

burners=()
stop_burners() { [ ${#burners[@]} -eq 0 ] || kill "${burners[@]}" 2>/dev/null || true; }
trap stop_burners EXIT
for _ in $(seq "$BURNERS"); do
    python3 -c 'while True: pass' &
    burners+=("$!")
done
echo "== $BURNERS burners started (pids ${burners[*]}); $RUNS runs"

mkdir -p .soak
for run in $(seq "$RUNS"); do
    log=".soak/run-$run.log"
    start=$(date +%s)
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    set +e
    .venv/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup "$@" >"$log" 2>&1
    rc=$?
    set -e
    secs=$(( $(date +%s) - start ))
    load_after=$(cut -d' ' -f1 /proc/loadavg)
    echo "run $run: exit $rc in ${secs}s (load ${load_before} -> ${load_after}): $(tail -n 1 "$log")"
    if [ "$rc" -ne 0 ]; then
        grep -E '^(FAILED|ERROR) ' "$log" || true
        echo "== stopped at run $run; the log is $log"
        exit "$rc"
    fi
done
echo "== $RUNS runs in a row passed with $BURNERS burners"
