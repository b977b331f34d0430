#!/usr/bin/env bash
# slurm-stack.sh - a real Slurm 22.05 accounting stack on one Debian 12 host, for development and
# the `slurm` tests. No systemd, no containers, no cgroups; run as root.
#
#   scripts/slurm-stack.sh start    install Debian packages if missing, start everything, run one
#                                   smoke job per cluster; prints "SLURM READY" (idempotent)
#   scripts/slurm-stack.sh stop     stop every daemon we started, by its pid file
#   scripts/slurm-stack.sh status   exit 0 only if every daemon is up and answering
#   scripts/slurm-stack.sh env      print the client environment (eval "$(... env)")
#
# Daemons: munged; private MariaDB on 127.0.0.1:$AIF_SLURM_DB_PORT; slurmdbd :6819; per cluster a
# slurmctld (zellik :6817, charleroi :6827) and one slurmd with 2 fake GPUs; slurmrestd with JWT on
# 127.0.0.1:$AIF_SLURM_REST_PORT as user "slurmrest". Slurm user "$AIF_SLURM_OPERATOR" gets
# AdminLevel=Operator (what the portal needs when it does not run as root).
#
# Knobs: AIF_SLURM_DIR (state, default /tmp/aif-slurm), AIF_SLURM_DB_PORT (3307),
#        AIF_SLURM_REST_PORT (6820), AIF_SLURM_DBD_PORT (6819), AIF_SLURM_CTLD_PORT (6817: cluster i
#        uses CTLD_PORT+10*i and +1 for its slurmd), AIF_SLURM_CLUSTERS ("zellik charleroi"),
#        AIF_SLURM_GPU_TYPES (empty; "h100 mi300x": one GPU of each type, tracked as typed TRES),
#        AIF_SLURM_ENFORCE (associations,limits,qos,safe), AIF_SLURM_OPERATOR (aifportal).
# A second, private stack (e.g. for a benchmark beside the shared one) only needs its own
# AIF_SLURM_DIR and ports.
set -Eeuo pipefail
umask 022
export LC_ALL=C

DIR=${AIF_SLURM_DIR:-/tmp/aif-slurm}
DB_PORT=${AIF_SLURM_DB_PORT:-3307}
REST_PORT=${AIF_SLURM_REST_PORT:-6820}
read -r -a CLUSTERS <<< "${AIF_SLURM_CLUSTERS:-zellik charleroi}"
# safe: a job starts only if it can finish within what remains of its account's GrpTRESMins
ENFORCE=${AIF_SLURM_ENFORCE:-associations,limits,qos,safe}
# AIF_SLURM_GPU_TYPES="h100 mi300x": the node's 2 GPUs get these two types (one each), tracked as typed TRES
read -r -a GPU_TYPES <<< "${AIF_SLURM_GPU_TYPES:-}"
if [ "${#GPU_TYPES[@]}" -eq 2 ]; then
  NODE_GRES="gpu:${GPU_TYPES[0]}:1,gpu:${GPU_TYPES[1]}:1"
  ACCT_TRES="gres/gpu,gres/gpu:${GPU_TYPES[0]},gres/gpu:${GPU_TYPES[1]}"
elif [ "${#GPU_TYPES[@]}" -eq 0 ]; then
  NODE_GRES="gpu:2"; ACCT_TRES="gres/gpu"
else
  echo "AIF_SLURM_GPU_TYPES: give two GPU types (the node has 2 GPUs), or none" >&2; exit 2
fi
OPERATOR=${AIF_SLURM_OPERATOR:-aifportal}
REST_USER=slurmrest
DBD_PORT=${AIF_SLURM_DBD_PORT:-6819}
CTLD_PORT=${AIF_SLURM_CTLD_PORT:-6817}
PKGS=(munge mariadb-server slurmdbd slurmctld slurmd slurm-client slurmrestd slurm-wlm-jwt-plugin curl iproute2)
ETC=$DIR/etc RUN=$DIR/run LOG=$DIR/log
MYCNF=$ETC/my.cnf
# Clients and slurmdbd use $ETC/slurm.conf (a link to the first cluster's config): slurmdbd looks
# for slurmdbd.conf beside the slurm.conf it was started with.
CLIENT_CONF=$ETC/slurm.conf
T0=$(date +%s.%N)

elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
log() { printf '[slurm-stack %5ss] %s\n' "$(elapsed)" "$*"; }
die() {
  echo "[slurm-stack] FAILED: $*" >&2
  local f
  for f in "$LOG"/*.log "$LOG"/*.out "$DIR/mysql/mariadb.err"; do
    [ -s "$f" ] || continue
    echo "----- tail $f" >&2; tail -n 15 "$f" >&2
  done
  exit 1
}
trap 'die "line $LINENO: $BASH_COMMAND"' ERR

# daemons get the real path: slurmd looks for gres.conf beside it
conf_of() { echo "$ETC/$1/slurm.conf"; }

# alive PIDFILE COMM: the pid in PIDFILE is a live (non-zombie) process named COMM
alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' < "$1"); [ -n "$pid" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  # PID 1 in a container may reap lazily: a crashed daemon lingers as a zombie
  ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

# stop_pid PIDFILE COMM: TERM, wait up to 10 s, then KILL - only the process our pid file names
stop_pid() {
  local pid n
  if alive "$1" "$2"; then
    pid=$(tr -dc '0-9' < "$1")
    kill -TERM "$pid" 2>/dev/null || true
    for n in $(seq 40); do alive "$1" "$2" || break; sleep 0.25; done
    if alive "$1" "$2"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$1"
}

# wait_for SECONDS WHAT CMD...: poll CMD every 0.25 s
wait_for() {
  local secs=$1 what=$2 end; end=$(( $(date +%s) + $1 )); shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timeout after ${secs}s waiting for: $what"
    sleep 0.25
  done
}

# poll SECONDS CMD...: like wait_for, but returns 1 on timeout instead of failing
poll() {
  local end; end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.25
  done
}

# put_file PATH MODE < content: write only when the content differs; rc 0 = changed
put_file() {
  local tmp; tmp=$(mktemp "$1.XXXX")
  cat > "$tmp"; chmod "$2" "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  mv -f "$tmp" "$1"
}

sacct_ok() { SLURM_CONF=$CLIENT_CONF sacctmgr -n -P show cluster format=cluster; }
ctld_up() { SLURM_CONF=$(conf_of "$1") scontrol ping | grep -q 'is UP'; }
rest_ok() {
  local tok
  tok=$(SLURM_CONF=$CLIENT_CONF scontrol token username=root lifespan=60 | sed 's/^SLURM_JWT=//')
  curl -sf -o /dev/null -H "X-SLURM-USER-NAME: root" -H "X-SLURM-USER-TOKEN: $tok" \
    "http://127.0.0.1:$REST_PORT/slurmdb/v0.0.38/clusters"
}

# ------------------------------------------------------------------------------------------- install
install_packages() {
  local p missing=() made_policy=0
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  # policy-rc.d exit 101: maintainer scripts must not start munge or a system MariaDB
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
  fi
  # always update first: on a fresh image the package lists are stale or absent (404s)
  apt-get update -qq > "$LOG/apt.log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >> "$LOG/apt.log" 2>&1 || { [ $made_policy = 0 ] || rm -f /usr/sbin/policy-rc.d; die "apt-get failed"; }
  if [ $made_policy = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  log "packages installed"
}

# ------------------------------------------------------------------------------------------- configs
write_configs() {
  local c i=0 node ctld_port sd_port cdir
  CHANGED=()
  [ -s "$ETC/jwt_hs256.key" ] || (umask 077; head -c 32 /dev/urandom > "$ETC/jwt_hs256.key")
  [ -s "$ETC/dbpass" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$ETC/dbpass")
  DB_PASS=$(cat "$ETC/dbpass")

  put_file "$MYCNF" 644 <<EOF || true
[mysqld]
user=mysql
datadir=$DIR/mysql/data
socket=$DIR/mysql/run/mysqld.sock
pid-file=$DIR/mysql/run/mysqld.pid
log-error=$DIR/mysql/mariadb.err
bind-address=127.0.0.1
port=$DB_PORT
skip-name-resolve
innodb_buffer_pool_size=256M
innodb_log_file_size=64M
innodb_lock_wait_timeout=900
# throw-away lab data: do not fsync every accounting write
innodb_flush_log_at_trx_commit=2
[client]
socket=$DIR/mysql/run/mysqld.sock
EOF

  put_file "$ETC/slurmdbd.conf" 600 <<EOF && CHANGED+=(slurmdbd) || true
# generated by scripts/slurm-stack.sh
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$ETC/jwt_hs256.key
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF

  for c in "${CLUSTERS[@]}"; do
    i=$((i + 1)); node=c$i
    ctld_port=$((CTLD_PORT + (i - 1) * 10)); sd_port=$((ctld_port + 1))
    cdir=$ETC/$c; mkdir -p "$cdir" "$DIR/var/$c/ctld" "$DIR/var/$c/slurmd"
    put_file "$cdir/slurm.conf" 644 <<EOF && CHANGED+=("$c") || true
# cluster $c - generated by scripts/slurm-stack.sh (single host, no systemd, no cgroups)
ClusterName=$c
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$sd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$ETC/jwt_hs256.key
StateSaveLocation=$DIR/var/$c/ctld
SlurmdSpoolDir=$DIR/var/$c/slurmd
SlurmctldPidFile=$RUN/slurmctld-$c.pid
SlurmdPidFile=$RUN/slurmd-$c.pid
SlurmctldLogFile=$LOG/slurmctld-$c.log
SlurmdLogFile=$LOG/slurmd-$c.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups in a container (CgroupPlugin=disabled is invalid in 22.05: simply no cgroup.conf)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# GrpTRESMins is enforced only with priority/multifactor; no decay, no reset = hard quota
PriorityType=priority/multifactor
PriorityDecayHalfLife=0
PriorityUsageResetPeriod=NONE
PriorityCalcPeriod=1
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
AccountingStorageEnforce=$ENFORCE
AccountingStorageTRES=$ACCT_TRES
GresTypes=gpu
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=1000 Gres=$NODE_GRES State=UNKNOWN
PartitionName=gpu Nodes=$node Default=YES DefaultTime=00:10:00 MaxTime=1-00:00:00 State=UP
PartitionName=debug Nodes=$node DefaultTime=00:10:00 MaxTime=01:00:00 State=UP
EOF
    # gres/gpu needs File= naming character devices; regular files or Count= alone do not work
    if [ "${#GPU_TYPES[@]}" -eq 2 ]; then
      put_file "$cdir/gres.conf" 644 <<EOF && CHANGED+=("$c") || true
NodeName=$node Name=gpu Type=${GPU_TYPES[0]} File=$DIR/dev/gpu0
NodeName=$node Name=gpu Type=${GPU_TYPES[1]} File=$DIR/dev/gpu1
EOF
    else
      put_file "$cdir/gres.conf" 644 <<EOF && CHANGED+=("$c") || true
NodeName=$node Name=gpu File=$DIR/dev/gpu[0-1]
EOF
    fi
  done
  ln -sfn "${CLUSTERS[0]}/slurm.conf" "$CLIENT_CONF"

  put_file "$DIR/env.sh" 644 <<EOF || true
# Slurm client environment of scripts/slurm-stack.sh: source me
export AIF_SLURM_DIR=$DIR
export SLURM_CONF=$CLIENT_CONF
export AIF_SLURM_CLUSTERS="${CLUSTERS[*]}"
export AIF_SLURMRESTD_URL=http://127.0.0.1:$REST_PORT
export AIF_SLURM_JWT_KEY=$ETC/jwt_hs256.key
export AIF_SLURM_OPERATOR=$OPERATOR
EOF
}

changed() { local x; for x in "${CHANGED[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

# ------------------------------------------------------------------------------------------- daemons
start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 700 /etc/munge
    head -c 1024 /dev/urandom > /etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged --force
  touch "$RUN/munged.ours"   # stop only a munged that we started
  wait_for 15 munged sh -c 'munge -n | unmunge'
}

start_mariadb() {
  chown -R mysql:mysql "$DIR/mysql"
  if [ ! -d "$DIR/mysql/data/mysql" ]; then
    log "initialising MariaDB datadir"
    mariadb-install-db --defaults-file="$MYCNF" --user=mysql --auth-root-authentication-method=socket \
      --skip-test-db > "$LOG/mariadb-install-db.log" 2>&1
  fi
  if ! mariadb-admin --defaults-file="$MYCNF" ping >/dev/null 2>&1; then
    log "starting mariadbd on 127.0.0.1:$DB_PORT"
    setsid /usr/sbin/mariadbd --defaults-file="$MYCNF" < /dev/null >> "$LOG/mariadbd.out" 2>&1 &
    wait_for 60 mariadbd mariadb-admin --defaults-file="$MYCNF" ping
  fi
  mariadb --defaults-file="$MYCNF" <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF
}

start_slurmdbd() {
  if alive "$RUN/slurmdbd.pid" slurmdbd && ! changed slurmdbd; then return 0; fi
  stop_pid "$RUN/slurmdbd.pid" slurmdbd
  log "starting slurmdbd on 127.0.0.1:$DBD_PORT"
  SLURM_CONF=$CLIENT_CONF setsid /usr/sbin/slurmdbd < /dev/null >> "$LOG/slurmdbd.out" 2>&1
  wait_for 60 "slurmdbd answering sacctmgr" sacct_ok
}

register_clusters() {
  local c known
  known=$(sacct_ok)
  for c in "${CLUSTERS[@]}"; do
    # a controller only registers with slurmdbd if its cluster exists there first
    grep -qx "$c" <<< "$known" || { log "adding cluster $c"; SLURM_CONF=$CLIENT_CONF sacctmgr -i add cluster "$c" >/dev/null; }
  done
  if [ -z "$(SLURM_CONF=$CLIENT_CONF sacctmgr -n -P show user "$OPERATOR" format=user)" ]; then
    log "adding Slurm operator $OPERATOR"
    SLURM_CONF=$CLIENT_CONF sacctmgr -i add user "$OPERATOR" account=root adminlevel=Operator >/dev/null
  fi
}

start_cluster() {  # start_cluster NAME NODE
  local c=$1 node=$2 conf; conf=$(conf_of "$1")
  if ! alive "$RUN/slurmctld-$c.pid" slurmctld || changed "$c"; then
    stop_pid "$RUN/slurmctld-$c.pid" slurmctld
    log "starting slurmctld[$c]"
    SLURM_CONF=$conf setsid /usr/sbin/slurmctld < /dev/null >> "$LOG/slurmctld-$c.out" 2>&1
  fi
  if ! alive "$RUN/slurmd-$c.pid" slurmd || changed "$c"; then
    stop_pid "$RUN/slurmd-$c.pid" slurmd
    log "starting slurmd[$c/$node]"
    # -N: the node name does not depend on `hostname`
    SLURM_CONF=$conf setsid /usr/sbin/slurmd -N "$node" < /dev/null >> "$LOG/slurmd-$c.out" 2>&1
  fi
}

# node_ready CLUSTER: idle, or busy with jobs (mixed/allocated/completing); a node left drained or down
# by an earlier run is resumed
node_ready() {
  local conf st; conf=$(conf_of "$1")
  st=$(SLURM_CONF=$conf sinfo -h -o %T) || return 1
  case "$st" in
    idle | mixed | allocated | completing) return 0 ;;
    *drain* | down) SLURM_CONF=$conf scontrol update nodename="$(SLURM_CONF=$conf sinfo -h -o %N)" state=resume ;;
  esac
  return 1
}

wait_cluster() {
  wait_for 60 "slurmctld[$1] UP" ctld_up "$1"
  # a stale INVAL/DRAIN from saved state clears once the (re)started slurmd registers
  wait_for 60 "node of $1 idle (sinfo: $(SLURM_CONF=$(conf_of "$1") sinfo -h -o %T 2>&1))" node_ready "$1"
}

start_rest() {
  if alive "$RUN/slurmrestd.pid" slurmrestd && ! changed "${CLUSTERS[0]}"; then return 0; fi
  stop_pid "$RUN/slurmrestd.pid" slurmrestd
  log "starting slurmrestd on 127.0.0.1:$REST_PORT as $REST_USER"
  touch "$LOG/slurmrestd.log"; chown "$REST_USER" "$LOG/slurmrestd.log"
  # slurmrestd refuses to run as root; SLURM_JWT=daemon makes it use each client's token
  SLURM_CONF=$CLIENT_CONF SLURM_JWT=daemon start-stop-daemon --start --background --make-pidfile \
    --pidfile "$RUN/slurmrestd.pid" --chuid "$REST_USER" --output "$LOG/slurmrestd.log" \
    --exec /usr/sbin/slurmrestd -- -a rest_auth/jwt "127.0.0.1:$REST_PORT"
}

# smoke_done CLUSTER JOBID: the smoke job completed, or it waits only because user jobs fill the node
# (pending for Resources/Priority on a node that is up and busy): the controller schedules either way
smoke_done() {
  local state reason node
  state=$(SLURM_CONF=$CLIENT_CONF sacct -M "$1" -n -X -P -j "$2" -o state) || return 1
  [ "$state" = COMPLETED ] && return 0
  [ "$state" = PENDING ] || return 1
  reason=$(SLURM_CONF=$CLIENT_CONF squeue -M "$1" -h -j "$2" -o %r | grep -v '^CLUSTER') || return 1
  node=$(SLURM_CONF=$(conf_of "$1") sinfo -h -o %T) || return 1
  case "$reason:$node" in
    Resources:mixed | Resources:allocated | Resources:completing | Priority:mixed | Priority:allocated) return 0 ;;
  esac
  return 1
}

smoke_jobs() {
  local c jid ids=() state
  for c in "${CLUSTERS[@]}"; do
    jid=$(SLURM_CONF=$CLIENT_CONF sbatch -M "$c" --parsable -A root -t 1 -J aif-smoke -o /dev/null \
      --wrap true 2>&1) || die "smoke job submission on $c: $jid"
    ids+=("${jid%%;*}")
  done
  local n=0
  for c in "${CLUSTERS[@]}"; do
    jid=${ids[$n]}; n=$((n + 1))
    # give an idle node the time to run it before a pending smoke job is read as "node busy"
    poll 10 sh -c "SLURM_CONF=$CLIENT_CONF sacct -M $c -n -X -P -j $jid -o state | grep -qx COMPLETED" ||
      wait_for 60 "smoke job $jid on $c COMPLETED (or pending behind user jobs)" smoke_done "$c" "$jid"
    state=$(SLURM_CONF=$CLIENT_CONF sacct -M "$c" -n -X -P -j "$jid" -o state)
    if [ "$state" = COMPLETED ]; then
      log "smoke job $jid on $c COMPLETED"
    else
      SLURM_CONF=$CLIENT_CONF scancel -M "$c" "$jid" || true
      log "smoke job $jid on $c pending behind user jobs (node busy): controller answers, job cancelled"
    fi
  done
}

# Slurm 22.05 daemons write a message's 4-byte length and its body in two writes: the body waits for the
# peer to acknowledge the length, which Linux delays by up to 40 ms. Every slurmdbd RPC paid it twice
# (slurmrestd adds associations one RPC each: 205 ms per association). Immediate acknowledgements on
# the loopback routes remove the wait; a site does the same on the routes between its Slurm hosts
# (docs/slurm.md, "What the site must configure").
quick_acks() {
  local line
  command -v ip >/dev/null || { log "no ip(8): TCP acknowledgements stay delayed (slower, not wrong)"; return 0; }
  while read -r line; do
    [[ -z $line || $line == *"quickack 1"* ]] && continue
    line=${line/ quickack 0/}
    # shellcheck disable=SC2086  # the route's own words
    ip route change $line table local quickack 1 \
      || log "cannot set quickack on '$line': TCP acknowledgements stay delayed (slower, not wrong)"
  done < <(ip route show table local | grep '^local 127\.' || true)
}

# ------------------------------------------------------------------------------------------- commands
cmd_start() {
  local c i=0
  [ "$(id -u)" = 0 ] || die "must run as root"
  mkdir -p "$ETC" "$RUN" "$LOG" "$DIR/dev" "$DIR/mysql/data" "$DIR/mysql/run"
  install_packages
  id "$REST_USER" >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$REST_USER"
  id "$OPERATOR" >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$OPERATOR"
  # fake GPUs: character devices (1,3) == /dev/null
  for i in 0 1; do
    [ -c "$DIR/dev/gpu$i" ] || { rm -f "$DIR/dev/gpu$i"; mknod -m 666 "$DIR/dev/gpu$i" c 1 3; }
  done
  write_configs
  quick_acks
  start_munge
  start_mariadb
  start_slurmdbd
  register_clusters
  i=0; for c in "${CLUSTERS[@]}"; do i=$((i + 1)); start_cluster "$c" "c$i"; done
  start_rest
  for c in "${CLUSTERS[@]}"; do wait_cluster "$c"; done
  wait_for 30 slurmrestd rest_ok
  smoke_jobs
  echo "source $DIR/env.sh   # exports SLURM_CONF=$CLIENT_CONF"
  echo "started in $(elapsed) s"
  echo "SLURM READY"
}

cmd_stop() {
  local pf
  [ -d "$RUN" ] || { echo "nothing to stop in $DIR"; return 0; }
  stop_pid "$RUN/slurmrestd.pid" slurmrestd
  for pf in "$RUN"/slurmd-*.pid; do [ -e "$pf" ] && stop_pid "$pf" slurmd; done
  for pf in "$RUN"/slurmctld-*.pid; do [ -e "$pf" ] && stop_pid "$pf" slurmctld; done
  stop_pid "$RUN/slurmdbd.pid" slurmdbd
  stop_pid "$DIR/mysql/run/mysqld.pid" mariadbd
  if [ -e "$RUN/munged.ours" ]; then stop_pid /run/munge/munged.pid munged; rm -f "$RUN/munged.ours"; fi
  echo "stopped (state kept in $DIR; rm -rf it for a fresh start)"
}

cmd_status() {
  local c rc=0
  trap - ERR
  check() { if "${@:2}" >/dev/null 2>&1; then echo "up    $1"; else echo "DOWN  $1"; rc=1; fi; }
  check munged sh -c 'munge -n | unmunge'
  check "mariadbd 127.0.0.1:$DB_PORT" mariadb-admin --defaults-file="$MYCNF" ping
  check slurmdbd alive "$RUN/slurmdbd.pid" slurmdbd
  check "sacctmgr" sacct_ok
  for c in "${CLUSTERS[@]}"; do
    check "slurmctld[$c]" ctld_up "$c"
    check "slurmd[$c]" sh -c "SLURM_CONF=$(conf_of "$c") sinfo -h -o %T | grep -Eq '^(idle|mixed|allocated|completing)$'"
  done
  check "slurmrestd 127.0.0.1:$REST_PORT" rest_ok
  return $rc
}

cmd_env() {
  [ -s "$DIR/env.sh" ] || { echo "no $DIR/env.sh: run '$0 start' first" >&2; exit 1; }
  cat "$DIR/env.sh"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
