#!/usr/bin/env bash
# Every fault drill in turn, then the private PostgreSQL is stopped. About 15 minutes on 2 busy cores.
# Needs root (PostgreSQL runs as the postgres user; the Slurm stack's scripts need root).
#
#   bash bench/drills/run_all.sh            # output also in $AIF_DRILL_DIR/run_all.log
#
# One drill: .venv/bin/python bench/drills/faults.py <drill> (see its --help). Results of each run:
# $AIF_DRILL_DIR/results/<drill>.json (default /tmp/aif-drills).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DRILL_DIR="${AIF_DRILL_DIR:-/tmp/aif-drills}"
mkdir -p "$DRILL_DIR"
py=.venv/bin/python
failed=0
run() {
  echo "### $*"
  timeout 1200 "$@" || failed=$((failed + 1))
}
{
  run $py bench/drills/faults.py redis --persistence none
  run $py bench/drills/faults.py redis --persistence rdb
  run $py bench/drills/faults.py redis --persistence aof
  run $py bench/drills/faults.py worker-kill
  run $py bench/drills/faults.py worker-kill --visibility-timeout 30
  run $py bench/drills/faults.py postgres
  run $py bench/drills/faults.py slurmdbd
  run $py bench/drills/faults.py report
  run bash bench/drills/slurm_faults.sh
  $py bench/drills/faults.py stop
  echo "### drills that did not pass: $failed"
} 2>&1 | tee "$DRILL_DIR/run_all.log"
