#!/usr/bin/env bash
# ldap-stack.sh - a private OpenLDAP slapd for development and the `ldap` tests: the directory a site
# keeps its POSIX accounts in (posixAccount, posixGroup, sshPublicKey). No systemd; run as root.
#
#   scripts/ldap-stack.sh start    install slapd and ldap-utils if missing, start slapd, wait until it
#                                  answers; prints "LDAP READY" (idempotent)
#   scripts/ldap-stack.sh stop     stop the slapd we started, by its pid file
#   scripts/ldap-stack.sh status   exit 0 only if slapd is up and answers a bind
#   scripts/ldap-stack.sh env      print the client environment (eval "$(... env)")
#
# It never uses Debian's own instance (/etc/ldap/slapd.d): the package is installed with
# slapd/no_configuration, and this slapd runs from its own cn=config and mdb database under
# $AIF_LDAP_DIR, on 127.0.0.1:$AIF_LDAP_PORT only.
#
# Knobs: AIF_LDAP_DIR (state, default /tmp/aif-ldap), AIF_LDAP_PORT (3899),
#        AIF_LDAP_BASE_DN (dc=aifactory,dc=test).
set -Eeuo pipefail
umask 022
export LC_ALL=C

DIR=${AIF_LDAP_DIR:-/tmp/aif-ldap}
PORT=${AIF_LDAP_PORT:-3899}
BASE=${AIF_LDAP_BASE_DN:-dc=aifactory,dc=test}
ADMIN="cn=admin,$BASE"
URL="ldap://127.0.0.1:$PORT"
HERE=$(cd "$(dirname "$0")" && pwd)
ETC=$DIR/etc CONF=$DIR/slapd.d DATA=$DIR/data RUN=$DIR/run LOG=$DIR/log

log() { printf '[ldap-stack] %s\n' "$*"; }
die() {
  echo "[ldap-stack] FAILED: $*" >&2
  [ -s "$LOG/slapd.log" ] && { echo "----- tail $LOG/slapd.log" >&2; tail -n 20 "$LOG/slapd.log" >&2; }
  exit 1
}

alive() { [ -s "$RUN/slapd.pid" ] && kill -0 "$(cat "$RUN/slapd.pid")" 2>/dev/null; }
answers() { ldapwhoami -x -H "$URL" -D "$ADMIN" -y "$ETC/adminpass" >/dev/null 2>&1; }

install_packages() {
  local missing=() pkg
  for pkg in slapd ldap-utils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  # No Debian-configured instance: ours lives in $DIR.
  echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
           --no-install-recommends "${missing[@]}" >/dev/null; }
}

write_env() {
  cat > "$DIR/env.sh" <<ENV
export AIF_DIRECTORY_URL=$URL
export AIF_DIRECTORY_BIND_DN=$ADMIN
export AIF_DIRECTORY_BIND_PASSWORD=$(cat "$ETC/adminpass")
export AIF_DIRECTORY_USERS_DN=ou=people,$BASE
export AIF_DIRECTORY_GROUPS_DN=ou=groups,$BASE
ENV
  chmod 600 "$DIR/env.sh"
}

init() {
  mkdir -p "$ETC" "$CONF" "$DATA" "$RUN" "$LOG"
  chmod 700 "$DIR"
  [ -s "$ETC/adminpass" ] || { printf "%s" "$(head -c 24 /dev/urandom | base64 | tr -d "/+=\n")" > "$ETC/adminpass"; chmod 600 "$ETC/adminpass"; }
  [ -e "$CONF/cn=config.ldif" ] && return 0
  log "creating cn=config and the database in $DIR"
  local hash
  hash=$(slappasswd -T "$ETC/adminpass")
  {
    cat <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $RUN/slapd.pid
olcArgsFile: $RUN/slapd.args

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

LDIF
    for schema in core cosine nis inetorgperson; do
      grep -v '^#' "/etc/ldap/schema/$schema.ldif"; echo
    done
    cat "$HERE/ldap/openssh-lpk.ldif"; echo
    cat <<LDIF
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 5000

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $BASE
olcRootDN: $ADMIN
olcRootPW: $hash
olcDbDirectory: $DATA
olcDbMaxSize: 268435456
olcDbIndex: objectClass eq
olcDbIndex: uid,memberUid,mail,cn eq
olcDbIndex: uidNumber,gidNumber eq
olcDbIndex: employeeNumber eq
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by * read
LDIF
  } > "$ETC/config.ldif"
  slapadd -n 0 -F "$CONF" -l "$ETC/config.ldif" >"$LOG/slapadd.log" 2>&1 || { cat "$LOG/slapadd.log" >&2; die "slapadd cn=config"; }
  local dc=${BASE%%,*}; dc=${dc#dc=}
  cat > "$ETC/base.ldif" <<LDIF
dn: $BASE
objectClass: top
objectClass: dcObject
objectClass: organization
o: AI Factory test directory
dc: $dc

dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$BASE
objectClass: organizationalUnit
ou: groups
LDIF
  slapadd -n 1 -F "$CONF" -l "$ETC/base.ldif" >>"$LOG/slapadd.log" 2>&1 || { cat "$LOG/slapadd.log" >&2; die "slapadd base"; }
}

start() {
  install_packages
  init
  write_env
  if alive && answers; then
    log "slapd already up on $URL"
  else
    if alive; then kill "$(cat "$RUN/slapd.pid")" 2>/dev/null || true; sleep 1; fi
    log "starting slapd on $URL"
    slapd -h "$URL/" -F "$CONF" -d 0 >>"$LOG/slapd.log" 2>&1 &
    disown || true
  fi
  local _
  for _ in $(seq 1 50); do answers && break; sleep 0.2; done
  answers || die "slapd does not answer on $URL"
  log "LDAP READY ($URL, base $BASE; env: $DIR/env.sh)"
}

stop() {
  if alive; then
    local pid; pid=$(cat "$RUN/slapd.pid")
    kill "$pid"
    local _
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "slapd stopped"
  else
    log "slapd not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) alive && answers && { log "up on $URL"; exit 0; }; log "down"; exit 1 ;;
  env) cat "$DIR/env.sh" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
