#!/usr/bin/env bash
# Drills on the real Slurm stack, loopback only, repeatable: slurmdbd stopped while 20 allocations are
# approved, and the Celery worker killed with SIGKILL mid-provisioning. Reuses the integration tests
# (tests/integration/test_faults.py), which assert that every allocation converges exactly once.
# The same drills with every number printed: bench/drills/faults.py slurmdbd | worker-kill.
#
#   bash bench/drills/slurm_faults.sh
#
# By default against private services: the drills' PostgreSQL on 127.0.0.1:55433 (pytest creates its
# test database there) and a redis-server of its own on 127.0.0.1:6391, stopped on exit. Set
# DATABASE_URL / CELERY_BROKER_URL to use others.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash scripts/slurm-stack.sh status >/dev/null || bash scripts/slurm-stack.sh start
DRILL_DIR="${AIF_DRILL_DIR:-/tmp/aif-drills}"
if [ -z "${DATABASE_URL:-}" ]; then
  .venv/bin/python bench/drills/faults.py pg-up
  export DATABASE_URL="postgres://postgres@127.0.0.1:${AIF_DRILL_PG_PORT:-55433}/aif_itest"
fi
if [ -z "${CELERY_BROKER_URL:-}" ]; then
  port="${AIF_DRILL_PYTEST_REDIS_PORT:-6391}"
  mkdir -p "$DRILL_DIR/redis-pytest"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$DRILL_DIR/redis-pytest" --save '' --appendonly no \
    --daemonize yes --pidfile "$DRILL_DIR/redis-pytest/redis.pid" --logfile "$DRILL_DIR/redis-pytest/redis.log"
  trap 'kill "$(cat "$DRILL_DIR/redis-pytest/redis.pid")" 2>/dev/null || true' EXIT
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export CELERY_BROKER_URL="redis://127.0.0.1:$port/0"
fi
export AIF_REQUIRE_SERVICES=1
start=$(date +%s)
set +e
timeout 900 .venv/bin/python -m pytest tests/integration/test_faults.py -v -p no:warnings -s -p no:cacheprovider \
  2>&1 | tee "$DRILL_DIR/slurm_faults.log" | grep -E "PASSED|FAILED|ERROR|drill:|passed|failed"
rc=${PIPESTATUS[0]}
set -e
echo "slurm_faults: pytest rc=$rc in $(( $(date +%s) - start )) s (full output: $DRILL_DIR/slurm_faults.log)"
exit "$rc"
