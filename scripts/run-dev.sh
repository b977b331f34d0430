#!/usr/bin/env bash
# Development run: migrate, load demo data, then the portal, a Celery worker and beat together.
# Embedded defaults: SQLite and kombu's filesystem broker (CELERY_BROKER_URL=redis://... to use Redis).
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-portal.settings}
# Links in mails point where this run serves the portal (PORT=host:port), unless PORTAL_BASE_URL says otherwise.
export PORTAL_BASE_URL=${PORTAL_BASE_URL:-http://${PORT:-127.0.0.1:8000}}
mkdir -p var/broker/control var/broker/processed var/celery
$PY manage.py migrate --noinput -v0
$PY manage.py seed_demo
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo "stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT
# One worker with embedded beat; the solo pool keeps memory low on a laptop.
.venv/bin/celery -A portal worker -B --pool solo -Q default,slurm,reports --loglevel INFO \
  --schedule var/celery/beat-schedule &
pids+=($!)
$PY manage.py runserver "${PORT:-127.0.0.1:8000}" &
pids+=($!)
echo "Portal: http://${PORT:-127.0.0.1:8000}/  (demo password: ${AIF_DEMO_PASSWORD:-demo-portal-2026})"
wait -n "${pids[@]}"
