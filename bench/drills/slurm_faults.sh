#!/usr/bin/env bash
# Drills on the real Slurm stack, loopback only, repeatable: slurmdbd stopped while 20 allocations are
# approved, and the Celery worker killed with SIGKILL mid-provisioning. Reuses the integration tests
# (tests/integration/test_faults.py), which assert that every allocation converges exactly once.
#
#   bash bench/drills/slurm_faults.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash scripts/slurm-stack.sh status | grep -q "^up *slurmdbd" || bash scripts/slurm-stack.sh start
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/aif}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}" AIF_REQUIRE_SERVICES=1
timeout 900 .venv/bin/python -m pytest tests/integration/test_faults.py -v -p no:warnings -s 2>&1 | tail -30
