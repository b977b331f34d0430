#!/usr/bin/env bash
# Load test: gunicorn (2 workers) + PostgreSQL + Redis on 127.0.0.1 only, 50 locust users mixing applicant,
# reviewer and manager journeys for 60 s, then a summary (throughput, p50/p95/p99, errors).
#
#   bash bench/run_load.sh            # against the database bench/generate.py filled (aif_bench)
#   USERS=50 DURATION=60s PORT=8077 bash bench/run_load.sh
#
# Needs: `.venv/bin/pip install -e '.[bench]'` (locust). Everything it starts it stops by PID at exit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; ROOT="$(dirname "$HERE")"; cd "$ROOT"
USERS="${USERS:-50}"; DURATION="${DURATION:-60s}"; PORT="${PORT:-8077}"; OUT="${OUT:-/tmp/aif-bench/load}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/aif_bench}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/7}"
export DEBUG=0 SECRET_KEY="${SECRET_KEY:-bench-load-secret-key-not-for-production-0123456789abcdef}"
export ALLOWED_HOSTS=127.0.0.1 DB_CONN_MAX_AGE=60 STATIC_ROOT=/tmp/aif-bench/static
export AIF_BENCH_SESSIONS=/tmp/aif-bench/sessions.json
mkdir -p "$OUT" /tmp/aif-bench
PY=.venv/bin/python
[ -s "$STATIC_ROOT/staticfiles.json" ] || $PY manage.py collectstatic --noinput -v0
$PY bench/seed_sessions.py "$AIF_BENCH_SESSIONS"

.venv/bin/gunicorn portal.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --timeout 60 \
  --access-logfile /dev/null --error-logfile "$OUT/gunicorn.log" &
GPID=$!
trap 'kill "$GPID" 2>/dev/null; wait "$GPID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fso /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
before=$(psql -h 127.0.0.1 -U postgres -Atc "SELECT count(*) FROM allocations_application" "${DATABASE_URL##*/}")

timeout 180 .venv/bin/locust -f bench/locustfile.py --headless -u "$USERS" -r 25 -t "$DURATION" \
  --host "http://127.0.0.1:$PORT" --csv "$OUT/load" --only-summary --stop-timeout 5 2>&1 | tail -45 || true

after=$(psql -h 127.0.0.1 -U postgres -Atc "SELECT count(*) FROM allocations_application" "${DATABASE_URL##*/}")
echo "drafts created: $((after - before)) rows (compare with the POST line of locust's table)"
