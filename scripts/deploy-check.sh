#!/usr/bin/env bash
# Follows docs/deploy.md step by step on this machine and checks each step over HTTP.
#
#   bash scripts/deploy-check.sh
#
# Production settings (DEBUG=0, HTTPS, SMTP, OIDC, PostgreSQL, Redis) against local stand-ins:
# a fresh PostgreSQL database (aif_deploy on 127.0.0.1:5432, user postgres), Redis database 11 on
# 127.0.0.1:6379 (broker and cache), an SMTP sink (aiosmtpd, from the `test` dependencies) and an
# OpenID Connect discovery document served by a local HTTP server. Then check --deploy, migrate,
# setup_roles, collectstatic, compilemessages; gunicorn, a Celery worker and Celery beat as three
# processes; HTTP checks with curl; and the scale-out step (a second gunicorn and a second worker).
# Everything listens on 127.0.0.1 only. One PASS/FAIL line per step, timings, exit 1 on any
# failure. The database, the Redis database, the processes and the work directory are removed on
# exit (AIF_DEPLOY_KEEP=1 keeps the work directory with its logs).
#
# Overrides: AIF_DEPLOY_PG (postgres://postgres@127.0.0.1:5432), AIF_DEPLOY_DB (aif_deploy),
# AIF_DEPLOY_REDIS (redis://127.0.0.1:6379/11), AIF_DEPLOY_PORTS (web1 web2 smtp oidc:
# "8091 8092 8025 8093"), AIF_DEPLOY_WEB_WORKERS (2), AIF_DEPLOY_TIMEOUT (600 s for the whole run).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
PY=$BIN/python

PG_ADMIN=${AIF_DEPLOY_PG:-postgres://postgres@127.0.0.1:5432}
DB_NAME=${AIF_DEPLOY_DB:-aif_deploy}
REDIS_URL=${AIF_DEPLOY_REDIS:-redis://127.0.0.1:6379/11}
read -r WEB1_PORT WEB2_PORT SMTP_PORT OIDC_PORT <<<"${AIF_DEPLOY_PORTS:-8091 8092 8025 8093}"
WEB_WORKERS=${AIF_DEPLOY_WEB_WORKERS:-2}
LIMIT=${AIF_DEPLOY_TIMEOUT:-600}
HOST=portal.aifactory.test            # the name the reverse proxy would pass in Host
ORIGIN=https://$HOST
PG_HOST=$(sed -E 's#^[a-z]+://([^@/]*@)?([^:/]+).*#\2#' <<<"$PG_ADMIN")
PG_PORT=$(sed -nE 's#^[a-z]+://([^@/]*@)?[^:/]+:([0-9]+).*#\2#p' <<<"$PG_ADMIN"); PG_PORT=${PG_PORT:-5432}
PG_USER=$(sed -nE 's#^[a-z]+://([^:@/]+)(:[^@]*)?@.*#\1#p' <<<"$PG_ADMIN"); PG_USER=${PG_USER:-postgres}
REDIS_HOST=$(sed -E 's#^redis://([^:/]+).*#\1#' <<<"$REDIS_URL")
REDIS_PORT=$(sed -nE 's#^redis://[^:/]+:([0-9]+).*#\1#p' <<<"$REDIS_URL"); REDIS_PORT=${REDIS_PORT:-6379}
REDIS_DB=$(sed -nE 's#.*/([0-9]+)$#\1#p' <<<"$REDIS_URL"); REDIS_DB=${REDIS_DB:-0}

WORK=$(mktemp -d /tmp/aif-deploy.XXXXXX)
mkdir -p "$WORK/log" "$WORK/http" "$WORK/var"
declare -A PIDS=()
FAILED=0
STEPS=0
T_START=$(date +%s.%N)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
log() { printf '%s\n' "$*"; }

# --- cleanup --------------------------------------------------------------------------------------

stop_proc() {  # stop_proc NAME: TERM the process group, KILL it after 15 s
  local name=$1 pid=${PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PIDS[$name]"
}

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  [[ -n ${WATCHDOG:-} ]] && kill -- "-$WATCHDOG" 2>/dev/null
  for name in "${!PIDS[@]}"; do stop_proc "$name"; done
  psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
    -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" FLUSHDB >/dev/null 2>&1 || true
  if [[ ${AIF_DEPLOY_KEEP:-0} == 1 ]]; then log "logs kept in $WORK"; else rm -rf "$WORK"; fi
  exit "$code"
}
trap cleanup EXIT
exec {OUT}>&1  # the console, for messages from traps that fire while a step's output goes to its log
trap 'echo "deploy-check: FAIL: interrupted" >&"$OUT"; exit 1' INT TERM

# The whole run is bounded; every command and request inside it has its own timeout too.
setsid bash -c 'sleep "$1"; echo "deploy-check: still running after $1 s" >&2; kill -TERM "$2"' _ "$LIMIT" $$ &
WATCHDOG=$!

# --- steps ----------------------------------------------------------------------------------------

DETAIL=""
step() {  # step [-c] NAME FUNCTION: one PASS/FAIL line; -c stops the run on failure
  local critical=0
  [[ $1 == -c ]] && { critical=1; shift; }
  local name=$1 fn=$2 t0 rc
  t0=$(now)
  DETAIL=""
  "$fn" >"$WORK/log/step-$fn.out" 2>&1
  rc=$?
  STEPS=$((STEPS + 1))
  if [[ $rc == 0 ]]; then
    printf 'PASS  %-44s %7ss  %s\n' "$name" "$(since "$t0")" "$DETAIL"
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL  %-44s %7ss  %s\n' "$name" "$(since "$t0")" "$DETAIL"
    sed 's/^/      | /' "$WORK/log/step-$fn.out" | tail -n 25
    if [[ $critical == 1 ]]; then
      log "deploy-check: FAIL ($FAILED of $STEPS steps failed; stopped at a step the others need)"
      exit 1
    fi
  fi
}
# step functions write their reason in DETAIL; they run in this shell so that DETAIL is seen
fail() { DETAIL="$*"; return 1; }

start_proc() {  # start_proc NAME COMMAND...: in its own process group, output in log/NAME.log
  local name=$1; shift
  setsid "$@" >"$WORK/log/$name.log" 2>&1 </dev/null &
  PIDS[$name]=$!
}

alive() { kill -0 "${PIDS[$1]}" 2>/dev/null; }

http() {  # http NAME PORT PATH [CURL ARGS]: status on stdout; headers/body in http/NAME.{h,b}
  local name=$1 port=$2 path=$3; shift 3
  curl -sS --max-time 15 -o "$WORK/http/$name.b" -D "$WORK/http/$name.h" -w '%{http_code}' \
    -H "Host: $HOST" "$@" "http://127.0.0.1:$port$path"
}
header() { grep -i "^$2:" "$WORK/http/$1.h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
set_cookie() { grep -i "^set-cookie: $2=" "$WORK/http/$1.h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
cookie_value() { set_cookie "$1" "$2" | sed -E 's/^[^=]+=([^;]*).*/\1/'; }
csrf_field() { sed -nE 's/.*name="csrfmiddlewaretoken" value="([^"]+)".*/\1/p' "$WORK/http/$1.b" | head -n 1; }
HTTPS=(-H "X-Forwarded-Proto: https")

wait_healthy() {  # wait_healthy PORT SECONDS: until /healthz answers 200
  local port=$1 deadline=$(( $(date +%s) + $2 ))
  while (( $(date +%s) < deadline )); do
    [[ $(http "healthz-$port" "$port" /healthz 2>/dev/null) == 200 ]] && return 0
    sleep 0.2
  done
  return 1
}

wait_for() {  # wait_for SECONDS COMMAND...: until the command succeeds
  local deadline=$(( $(date +%s) + $1 )); shift
  while (( $(date +%s) < deadline )); do "$@" && return 0; sleep 0.3; done
  return 1
}

mails_to() { grep -c "^To: .*$1" "$WORK/log/smtp.log" 2>/dev/null; }
at_least_mails() { (( $(mails_to "$2") >= $1 )); }  # at_least_mails N PATTERN, for wait_for
task_count() { grep -c "Task $2\[[^]]*\] succeeded" "$WORK/log/$1.log" 2>/dev/null; }
all_sent() { (( $(task_count worker1 portal.tasks.send_email) + $(task_count worker2 portal.tasks.send_email) >= $1 )); }

# --- 0. what the machine provides ------------------------------------------------------------------

prerequisites() {
  [[ -x $PY ]] || fail "no $PY: run make install" || return 1
  [[ -x $BIN/gunicorn && -x $BIN/celery ]] || fail "gunicorn or celery missing in .venv" || return 1
  $PY -c "import aiosmtpd" || fail "aiosmtpd missing: .venv/bin/pip install -e '.[test]'" || return 1
  command -v msgfmt >/dev/null || fail "msgfmt missing (apt-get install gettext)" || return 1
  for port in "$WEB1_PORT" "$WEB2_PORT" "$SMTP_PORT" "$OIDC_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "port $port is in use"; return 1; fi
  done
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 5 || fail "PostgreSQL $PG_HOST:$PG_PORT does not answer" || return 1
  [[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>&1) == PONG ]] \
    || fail "Redis $REDIS_HOST:$REDIS_PORT does not answer" || return 1
  DETAIL="PostgreSQL $PG_HOST:$PG_PORT, Redis $REDIS_HOST:$REDIS_PORT/$REDIS_DB, ports $WEB1_PORT $WEB2_PORT $SMTP_PORT $OIDC_PORT free"
}

fresh_database() {
  psql -v ON_ERROR_STOP=1 -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres \
    -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" -c "CREATE DATABASE \"$DB_NAME\"" || return 1
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" FLUSHDB >/dev/null || return 1
  DETAIL="database $DB_NAME created, Redis db $REDIS_DB emptied"
}

# A local stand-in for the OIDC proxy: serves the issuer's discovery document, logs each request.
start_stand_ins() {
  cat >"$WORK/oidc.py" <<'EOF'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
ISSUER = f"http://127.0.0.1:{PORT}/realms/aif"

class Discovery(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/realms/aif/.well-known/openid-configuration":
            self.send_error(404)
            return
        body = json.dumps({
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
            "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
            "userinfo_endpoint": f"{ISSUER}/protocol/openid-connect/userinfo",
            "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
            "response_types_supported": ["code"],
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("127.0.0.1", PORT), Discovery).serve_forever()
EOF
  start_proc oidc "$PY" -u "$WORK/oidc.py" "$OIDC_PORT"
  start_proc smtp "$PY" -u -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT"
  wait_for 15 curl -sf --max-time 2 -o /dev/null \
    "http://127.0.0.1:$OIDC_PORT/realms/aif/.well-known/openid-configuration" || fail "OIDC server did not start" || return 1
  wait_for 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT" 2>/dev/null || fail "SMTP sink did not start" || return 1
  DETAIL="SMTP sink 127.0.0.1:$SMTP_PORT, OIDC issuer http://127.0.0.1:$OIDC_PORT/realms/aif"
}

# --- 1. settings for production (docs/deploy.md) --------------------------------------------------

export DJANGO_SETTINGS_MODULE=portal.settings
export DEBUG=0 SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')"
export ALLOWED_HOSTS=$HOST CSRF_TRUSTED_ORIGINS=$ORIGIN
export DATABASE_URL=postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB_NAME DB_CONN_MAX_AGE=60
export CELERY_BROKER_URL=$REDIS_URL CACHE_URL=$REDIS_URL
export SECURE_SSL_REDIRECT=1 SESSION_COOKIE_SECURE=1 CSRF_COOKIE_SECURE=1
export SECURE_HSTS_SECONDS=31536000 SECURE_HSTS_INCLUDE_SUBDOMAINS=1 SECURE_HSTS_PRELOAD=1
export EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend EMAIL_HOST=127.0.0.1 EMAIL_PORT=$SMTP_PORT
export EMAIL_USE_TLS=0
export PORTAL_BASE_URL=$ORIGIN
export AIF_TRUSTED_PROXY_COUNT=1
export AIF_OPERATOR_NAME="Example Supercomputing Centre" AIF_CONTACT_EMAIL=contact@$HOST
export AIF_PRIVACY_EMAIL=dpo@$HOST AIF_ACCESSIBILITY_EMAIL=accessibility@$HOST
export AIF_VAR_DIR=$WORK/var PRIVATE_MEDIA_ROOT=$WORK/private
export OIDC_CLIENT_ID=aif-portal OIDC_CLIENT_SECRET=deploy-check-secret
export OIDC_SERVER_URL=http://127.0.0.1:$OIDC_PORT/realms/aif
# Not part of the recipe: keep the machine's Slurm stack out of it, and a low API failure limit
# so that the scale-out step can show that the web processes share one count.
export AIF_SLURM_BACKEND=record AIF_API_TOKEN_FAILURE_LIMIT=4
unset CELERY_TASK_ALWAYS_EAGER AIF_DISABLE_RATE_LIMITS STATIC_ROOT MEDIA_ROOT STATICFILES_BACKEND
M=(timeout 300 "$PY" manage.py)

check_deploy() {
  "${M[@]}" check --deploy | tee "$WORK/log/check.txt"
  grep -q "System check identified no issues (0 silenced)." "$WORK/log/check.txt" \
    || fail "check --deploy reported issues" || return 1
  DETAIL="System check identified no issues (0 silenced)."
}

T_MIGRATE=""
migrate() {
  local t0; t0=$(now)
  "${M[@]}" migrate --noinput || return 1
  T_MIGRATE=$(since "$t0")
  DETAIL="$(grep -c "Applying" "$WORK/log/step-migrate.out") migrations applied"
}

setup_roles() {
  "${M[@]}" setup_roles || return 1
  ! grep -q "unknown permission" "$WORK/log/step-setup_roles.out" || fail "unknown permissions" || return 1
  DETAIL="$(grep -c "group" "$WORK/log/step-setup_roles.out") role groups"
}

collectstatic() {
  "${M[@]}" collectstatic --noinput || return 1
  [[ -f $WORK/var/static/staticfiles.json ]] || fail "no staticfiles.json manifest" || return 1
  DETAIL="$(tail -n 1 "$WORK/log/step-collectstatic.out")"
}

compilemessages() {
  "${M[@]}" compilemessages --ignore=.venv --ignore=node_modules --ignore=var || return 1
  ls locale/*/LC_MESSAGES/django.mo >/dev/null || fail "no .mo file" || return 1
  DETAIL="$(ls locale/*/LC_MESSAGES/django.mo | tr '\n' ' ')"
}

# --- 2. the three processes ------------------------------------------------------------------------

T_WEB1=""
start_web1() {
  local t0; t0=$(now)
  start_proc web1 "$BIN/gunicorn" portal.wsgi:application --bind "127.0.0.1:$WEB1_PORT" \
    --workers "$WEB_WORKERS" --timeout 60 --access-logfile - --name aif-web1
  wait_healthy "$WEB1_PORT" 60 || fail "no 200 from /healthz within 60 s" || return 1
  T_WEB1=$(since "$t0")
  DETAIL="gunicorn on 127.0.0.1:$WEB1_PORT, $WEB_WORKERS workers, first 200 from /healthz after ${T_WEB1}s"
}

start_celery_worker() {  # start_celery_worker NAME
  start_proc "$1" "$BIN/celery" -A portal worker -Q default,slurm,reports --concurrency 2 \
    --max-tasks-per-child 200 -n "$1@%h" --loglevel INFO
  wait_for 60 grep -q "$1@.* ready" "$WORK/log/$1.log"
}

T_WORKER1=""
start_worker1() {
  local t0; t0=$(now)
  start_celery_worker worker1 || fail "worker1 not ready within 60 s" || return 1
  T_WORKER1=$(since "$t0")
  DETAIL="celery worker worker1 -Q default,slurm,reports ready after ${T_WORKER1}s"
}

# Beat's shortest period is five minutes. Rather than wait for the next slot, the schedule file is
# written as if beat had last run an hour ago: on start it sends every entry that came due since,
# which is what a restarted beat does.
start_beat() {
  AIF_BEAT_FILE=$WORK/beat-schedule timeout 120 "$PY" manage.py shell -c "
import os
from datetime import timedelta
from celery.beat import PersistentScheduler
from portal.celery import app
scheduler = PersistentScheduler(app=app, schedule_filename=os.environ['AIF_BEAT_FILE'], lazy=True)
scheduler.setup_schedule()
for entry in scheduler.schedule.values():
    entry.last_run_at = app.now() - timedelta(hours=1)
count = len(scheduler.schedule)
scheduler.sync()
scheduler._store.close()
print(count, 'entries due since an hour ago')
" || fail "could not write the beat schedule" || return 1
  start_proc beat "$BIN/celery" -A portal beat --schedule "$WORK/beat-schedule" --loglevel INFO
  wait_for 60 grep -q "Sending due task" "$WORK/log/beat.log" || fail "beat sent nothing within 60 s" || return 1
  DETAIL="celery beat --schedule $WORK/beat-schedule"
}

# --- 3. checks over HTTP ----------------------------------------------------------------------------

check_healthz() {
  local status
  status=$(http healthz "$WEB1_PORT" /healthz)  # plain HTTP, as the load balancer probes
  cat "$WORK/http/healthz.b"; echo
  [[ $status == 200 ]] || fail "/healthz answered $status" || return 1
  grep -q '"database": {"ok": true, "detail": "postgresql"}' "$WORK/http/healthz.b" || fail "database not ok" || return 1
  grep -q '"broker": {"ok": true, "detail": "redis"}' "$WORK/http/healthz.b" || fail "broker not ok" || return 1
  DETAIL="200 $(tr -d '\n' <"$WORK/http/healthz.b")"
}

check_static() {
  local name status cache
  name=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['paths']['css/portal.css'])" \
    "$WORK/var/static/staticfiles.json") || return 1
  status=$(http static "$WEB1_PORT" "/static/$name" "${HTTPS[@]}" -H "Accept-Encoding: gzip")
  cat "$WORK/http/static.h"
  [[ $status == 200 ]] || fail "/static/$name answered $status" || return 1
  cache=$(header static Cache-Control)
  [[ $cache == *max-age=315360000* && $cache == *immutable* ]] || fail "Cache-Control: $cache" || return 1
  [[ $(header static Content-Encoding) == gzip ]] || fail "not served compressed" || return 1
  status=$(http static-plain "$WEB1_PORT" "/static/css/portal.css" "${HTTPS[@]}")
  [[ $status == 200 ]] || fail "/static/css/portal.css answered $status" || return 1
  DETAIL="/static/$name: Cache-Control: $cache, Content-Encoding: gzip"
}

check_http_redirect() {
  local status location
  status=$(http plain "$WEB1_PORT" /accounts/login/)
  cat "$WORK/http/plain.h"
  location=$(header plain Location)
  [[ $status == 301 ]] || fail "plain HTTP answered $status, not 301" || return 1
  [[ $location == "https://$HOST/accounts/login/" ]] || fail "Location: $location" || return 1
  [[ -z $(header plain Strict-Transport-Security) ]] || fail "HSTS sent over plain HTTP" || return 1
  [[ -z $(set_cookie plain csrftoken) ]] || fail "cookie set over plain HTTP" || return 1
  DETAIL="without X-Forwarded-Proto: 301 Location: $location, no HSTS, no cookie"
}

check_https() {
  local status hsts cookie csp
  status=$(http login "$WEB1_PORT" /accounts/login/ "${HTTPS[@]}")
  cat "$WORK/http/login.h"
  [[ $status == 200 ]] || fail "sign-in page answered $status" || return 1
  hsts=$(header login Strict-Transport-Security)
  [[ $hsts == "max-age=31536000; includeSubDomains; preload" ]] || fail "HSTS: '$hsts'" || return 1
  cookie=$(set_cookie login csrftoken)
  [[ $cookie == *Secure* ]] || fail "csrftoken cookie not Secure: $cookie" || return 1
  [[ $(header login X-Frame-Options) == DENY ]] || fail "X-Frame-Options missing" || return 1
  [[ $(header login X-Content-Type-Options) == nosniff ]] || fail "X-Content-Type-Options missing" || return 1
  # docs/deploy.md, "Security headers": the issuer's origin is a form-action (single sign-on).
  csp=$(header login Content-Security-Policy)
  [[ $csp == *"script-src 'self'"* && $csp == *"frame-ancestors 'none'"* \
     && $csp == *"form-action 'self' http://127.0.0.1:$OIDC_PORT"* ]] || fail "Content-Security-Policy: '$csp'" || return 1
  [[ $(header login Permissions-Policy) == *"camera=()"* ]] || fail "Permissions-Policy missing" || return 1
  DETAIL="with X-Forwarded-Proto: https: 200, HSTS '$hsts', csrftoken Secure, X-Frame-Options DENY, CSP form-action 'self' + issuer"
}

check_oidc() {
  local status csrf location
  grep -q 'action="/accounts/oidc/myaccessid/login/' "$WORK/http/login.b" \
    || grep -q '/accounts/oidc/myaccessid/login/' "$WORK/http/login.b" || fail "no OIDC link on the sign-in page" || return 1
  grep -q MyAccessID "$WORK/http/login.b" || fail "no MyAccessID button" || return 1
  csrf=$(cookie_value login csrftoken)
  status=$(http oidc "$WEB1_PORT" /accounts/oidc/myaccessid/login/ "${HTTPS[@]}" -H "Origin: $ORIGIN" \
    -H "Cookie: csrftoken=$csrf" --data-urlencode "csrfmiddlewaretoken=$(csrf_field login)")
  cat "$WORK/http/oidc.h"
  location=$(header oidc Location)
  [[ $status == 302 ]] || fail "OIDC login answered $status" || return 1
  [[ $location == "http://127.0.0.1:$OIDC_PORT/realms/aif/protocol/openid-connect/auth?"* ]] \
    || fail "redirected to $location" || return 1
  [[ $location == *code_challenge_method=S256* ]] || fail "no PKCE" || return 1
  DETAIL="sign-in page offers MyAccessID; POST redirects to the discovered authorization endpoint (PKCE)"
}

signup() {  # signup NAME PORT EMAIL: sign-up form, then POST it; status of the POST
  local name=$1 port=$2 email=$3 csrf
  [[ $(http "$name-form" "$port" /accounts/signup/ "${HTTPS[@]}") == 200 ]] || return 1
  csrf=$(cookie_value "$name-form" csrftoken)
  http "$name" "$port" /accounts/signup/ "${HTTPS[@]}" -H "Origin: $ORIGIN" -H "Cookie: csrftoken=$csrf" \
    --data-urlencode "csrfmiddlewaretoken=$(csrf_field "$name-form")" --data-urlencode "email=$email" \
    --data-urlencode "password1=Deploy-check-2026!" --data-urlencode "password2=Deploy-check-2026!"
}

T_MAIL=""
USER_EMAIL=first.applicant@deploy-check.example
check_signup_mail() {
  local status t0 session
  t0=$(now)
  status=$(signup signup "$WEB1_PORT" "$USER_EMAIL")
  cat "$WORK/http/signup.h"
  [[ $status == 302 && $(header signup Location) == /accounts/confirm-email/ ]] \
    || fail "sign-up answered $status $(header signup Location)" || return 1
  session=$(set_cookie signup sessionid)
  [[ $session == *Secure* && $session == *HttpOnly* ]] || fail "session cookie not Secure+HttpOnly: $session" || return 1
  wait_for 30 at_least_mails 1 "$USER_EMAIL" || fail "no mail at the SMTP sink within 30 s" || return 1
  T_MAIL=$(since "$t0")
  wait_for 10 grep -q "portal.tasks.send_email\[.*\] succeeded" "$WORK/log/worker1.log" \
    || fail "worker1 did not log the task" || return 1
  grep -q "^Hello from $HOST!" "$WORK/log/smtp.log" || fail "the mail does not name the site" || return 1
  SIGNUP_SESSION=$(cookie_value signup sessionid)
  DETAIL="sign-up 302, sessionid Secure+HttpOnly; mail at the sink through worker1 after ${T_MAIL}s"
}

check_beat() {
  local sent
  sent=$(grep -o "Sending due task [^ ]*" "$WORK/log/beat.log" | sort -u | sed 's/Sending due task //' | tr '\n' ' ')
  [[ -n $sent ]] || fail "beat sent nothing" || return 1
  grep "Sending due task" "$WORK/log/beat.log"
  wait_for 60 grep -q "Task allocations.provisioning.tasks.slurm_sweep_unsynced\[.*\] succeeded" "$WORK/log/worker1.log" \
    || fail "the sweeper sent by beat did not run" || return 1
  DETAIL="beat sent: $sent"
}

# --- 4. scale-out ----------------------------------------------------------------------------------

T_WEB2=""
start_scale_out() {
  local t0; t0=$(now)
  start_proc web2 "$BIN/gunicorn" portal.wsgi:application --bind "127.0.0.1:$WEB2_PORT" \
    --workers "$WEB_WORKERS" --timeout 60 --access-logfile - --name aif-web2
  start_celery_worker worker2 || fail "worker2 not ready within 60 s" || return 1
  wait_healthy "$WEB2_PORT" 60 || fail "web2: no 200 from /healthz within 60 s" || return 1
  T_WEB2=$(since "$t0")
  DETAIL="gunicorn on 127.0.0.1:$WEB2_PORT and worker2 ready after ${T_WEB2}s"
}

# The sign-up session opened by web1 confirms the address on web2, which signs the user in only
# because it finds web1's pending sign-up in that session; web1 then serves the dashboard to the
# session web2 signed in.
SIGNUP_SESSION=""
check_shared_session() {
  local path status csrf session
  [[ -n $SIGNUP_SESSION ]] || fail "no sign-up session from the step before" || return 1
  path=$(grep -oE "https://$HOST/accounts/confirm-email/[^ ]+/" "$WORK/log/smtp.log" | head -n 1 | sed "s#https://$HOST##")
  [[ -n $path ]] || fail "no confirmation link in the mail" || return 1
  [[ $(http confirm-form "$WEB2_PORT" "$path" "${HTTPS[@]}" -H "Cookie: sessionid=$SIGNUP_SESSION") == 200 ]] \
    || fail "web2: confirmation page not 200" || return 1
  csrf=$(cookie_value confirm-form csrftoken)
  status=$(http confirm "$WEB2_PORT" "$path" "${HTTPS[@]}" -H "Origin: $ORIGIN" \
    -H "Cookie: csrftoken=$csrf; sessionid=$SIGNUP_SESSION" --data-urlencode "csrfmiddlewaretoken=$(csrf_field confirm-form)")
  cat "$WORK/http/confirm.h"
  [[ $status == 302 && $(header confirm Location) == /dashboard/ ]] \
    || fail "web2: confirmation POST answered $status $(header confirm Location)" || return 1
  session=$(cookie_value confirm sessionid)
  [[ -n $session ]] || fail "web2 did not sign the user in" || return 1
  status=$(http dashboard "$WEB1_PORT" /dashboard/ "${HTTPS[@]}" -H "Cookie: sessionid=$session")
  [[ $status == 200 ]] || fail "web1: /dashboard/ with web2's session answered $status" || return 1
  grep -q "Your organisations" "$WORK/http/dashboard.b" && grep -q "Sign out" "$WORK/http/dashboard.b" \
    || fail "web1 did not serve the signed-in dashboard" || return 1
  DETAIL="web1's sign-up session confirmed on web2 (signed in, 302 /dashboard/); web1 serves the signed-in /dashboard/ to web2's session"
}

# Sign-ups alternate between the two web processes; both workers must have sent some of the mails.
check_both_workers() {
  local before1 before2 i port sent1 sent2 n=8
  before1=$(task_count worker1 portal.tasks.send_email); before2=$(task_count worker2 portal.tasks.send_email)
  for i in $(seq "$n"); do
    port=$WEB1_PORT; (( i % 2 )) || port=$WEB2_PORT
    [[ $(signup "scale-$i" "$port" "applicant$i@deploy-check.example") == 302 ]] || fail "sign-up $i on $port failed" || return 1
  done
  wait_for 60 at_least_mails $((n + 1)) @deploy-check.example \
    || fail "only $(mails_to @deploy-check.example) of $((n + 1)) mails arrived within 60 s" || return 1
  wait_for 10 all_sent $((before1 + before2 + n)) || fail "the workers logged fewer than $n sent mails" || return 1
  sent1=$(( $(task_count worker1 portal.tasks.send_email) - before1 ))
  sent2=$(( $(task_count worker2 portal.tasks.send_email) - before2 ))
  (( sent1 > 0 && sent2 > 0 )) || fail "worker1 sent $sent1, worker2 sent $sent2" || return 1
  DETAIL="$n sign-ups on web1/web2 alternately: $n mails, worker1 sent $sent1, worker2 sent $sent2"
}

# Failed API token attempts alternate between the web processes; the limit (4) is counted once.
check_shared_cache() {
  local i port status codes=""
  for i in 1 2 3 4 5 6; do
    port=$WEB1_PORT; (( i % 2 )) || port=$WEB2_PORT
    status=$(http "token-$i" "$port" /api/v1/applications/ "${HTTPS[@]}" -H "Authorization: Token aif_nope_wrong")
    codes+="$status "
  done
  [[ $codes == "401 401 401 401 429 429 " ]] || fail "answers: $codes(expected 401 x4 then 429)" || return 1
  DETAIL="bad API tokens alternating web1/web2: $codes(one count in Redis)"
}

check_processes_alive() {
  local name dead=""
  for name in web1 web2 worker1 worker2 beat; do alive "$name" || dead+="$name "; done
  [[ -z $dead ]] || fail "exited: $dead" || return 1
  grep -h -E "Traceback|ERROR" "$WORK"/log/{web1,web2,worker1,worker2,beat}.log && { fail "errors in the logs"; return 1; }
  DETAIL="web1 web2 worker1 worker2 beat running, no error in their logs"
}

# --- run -------------------------------------------------------------------------------------------

log "deploy-check: docs/deploy.md on $(hostname), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
step -c "prerequisites" prerequisites
step -c "fresh database and Redis db" fresh_database
step -c "SMTP sink and OIDC issuer" start_stand_ins
step -c "check --deploy" check_deploy
step -c "migrate" migrate
step -c "setup_roles" setup_roles
step -c "collectstatic" collectstatic
step -c "compilemessages" compilemessages
step -c "web: gunicorn" start_web1
step -c "worker: celery worker" start_worker1
step -c "beat: celery beat" start_beat
step "GET /healthz (plain HTTP)" check_healthz
step "static file from whitenoise" check_static
step "plain HTTP: redirect to HTTPS" check_http_redirect
step "behind the proxy: HSTS, secure cookies" check_https
step "sign-in page offers OIDC" check_oidc
step "sign-up mail via worker and SMTP" check_signup_mail
step "beat enqueues its scheduled tasks" check_beat
step -c "scale-out: second gunicorn and worker" start_scale_out
step "scale-out: one session, one database" check_shared_session
step "scale-out: both workers consume" check_both_workers
step "scale-out: one rate-limit count (Redis)" check_shared_cache
step "all processes still running" check_processes_alive

log "timings: migrate ${T_MIGRATE:-?}s, gunicorn to first healthy response ${T_WEB1:-?}s," \
  "worker ready ${T_WORKER1:-?}s, sign-up to mail at the sink ${T_MAIL:-?}s," \
  "scale-out ready ${T_WEB2:-?}s, total $(since "$T_START")s"
if (( FAILED )); then
  log "deploy-check: FAIL ($FAILED of $STEPS steps failed)"
  exit 1
fi
log "deploy-check: PASS ($STEPS steps)"
