#!/usr/bin/env bash
# scripts/devdb.sh — make sure a PostGIS database exists for Onsite.
#
# Usage:
#   scripts/devdb.sh url [NAME]    ensure database NAME (default: onsite) exists with
#                                  the postgis, pg_trgm and btree_gist extensions; print ONLY its
#                                  SQLAlchemy URL (postgresql+psycopg://...) on stdout
#   scripts/devdb.sh start         ensure the private cluster runs
#   scripts/devdb.sh stop          stop the private cluster (harmless if not running)
#   scripts/devdb.sh status        one line: where the database is and whether it runs
#   scripts/devdb.sh psql [NAME] [psql args...]
#                                  open psql on database NAME (created if missing)
#   scripts/devdb.sh destroy       stop the private cluster and delete its files
#   scripts/devdb.sh bindir        print the directory of the PostgreSQL binaries this script
#                                  uses (pg_dump, pg_restore, psql of the cluster's version)
#
# All messages go to stderr; only the URL (url) / status line (status) go to stdout.
# Never reads standard input (works in CI: CI=true, root, fresh clone).
#
# Which server:
#   * TEST_DATABASE_URL set and NAME ends in _test: that URL is used as-is (scheme
#     normalised to postgresql+psycopg://); only the extensions are ensured.
#   * DATABASE_URL set: that server is used and nothing is started. NAME equal to the
#     database in DATABASE_URL -> that URL; another NAME (e.g. onsite_test) -> same
#     server/credentials with that database name, created if missing.
#   * Otherwise: a private PostgreSQL cluster that this script initialises and starts
#     (never the system cluster on 5432; works whether or not one exists).
#
# Where the private cluster lives (CLUSTER below; layout: CLUSTER/data = PGDATA,
# CLUSTER/run = unix socket dir, CLUSTER/port = chosen TCP port, CLUSTER/postgres.log;
# concurrent runs are serialised with flock on instance/.devdb.lock):
#   * not root: <checkout>/instance/postgres
#   * root:     initdb/pg_ctl refuse to run as root, so they run as the `postgres` user
#               (runuser) and the files must be reachable by it; a checkout under /root
#               is not. The cluster therefore lives in a postgres-owned directory
#               /var/lib/onsite-dev/<first 12 hex of sha1(checkout path)>, and that
#               path is recorded in the text file <checkout>/instance/postgres.path.
#   * DEVDB_DIR=/some/dir overrides CLUSTER (as root it must be reachable by postgres).
#   * DEVDB_SHARED_BUFFERS_MB overrides shared_buffers (default: a quarter of the memory, 128-2048 MB).
# The port is stable per checkout: 55000 + (sha1(checkout path) % 4000), or the next
# free one if something else listens there; it is stored in CLUSTER/port and reused.
# The server listens on 127.0.0.1 only, trust auth, superuser `postgres`, UTF8, C.UTF-8.
# URL printed for it: postgresql+psycopg://postgres@127.0.0.1:<port>/<NAME>
#
# Binaries: /usr/lib/postgresql/<highest version>/bin (or the version the cluster was
# created with; PG_BINDIR overrides; falls back to `pg_config --bindir`). If PostgreSQL
# or PostGIS is missing and we are root with apt-get, they are installed
# non-interactively; otherwise the script exits 1 saying what to install.
set -euo pipefail

SELF=${BASH_SOURCE[0]}
ROOT_DIR=$(cd -P -- "$(dirname -- "$SELF")/.." && pwd -P)
INSTANCE_DIR=$ROOT_DIR/instance
HASH=$(printf '%s' "$ROOT_DIR" | sha1sum | cut -c1-12)
BASE_PORT=$((55000 + 16#${HASH:0:8} % 4000))

IS_ROOT=0
if [[ $(id -u) -eq 0 ]]; then IS_ROOT=1; fi

if [[ -n ${DEVDB_DIR:-} ]]; then
  CLUSTER=$DEVDB_DIR
elif ((IS_ROOT)); then
  CLUSTER=/var/lib/onsite-dev/$HASH
else
  CLUSTER=$INSTANCE_DIR/postgres
fi
PGDATA_DIR=$CLUSTER/data
RUN_DIR=$CLUSTER/run
# Unix socket paths are limited to ~107 bytes; fall back to /tmp for deep checkouts.
if ((${#RUN_DIR} > 90)); then RUN_DIR=/tmp/onsite-devdb-$HASH; fi
PORT_FILE=$CLUSTER/port
LOG_FILE=$CLUSTER/postgres.log
LOCK_FILE=$INSTANCE_DIR/.devdb.lock
# shellcheck source=scripts/ports.sh
. "$ROOT_DIR/scripts/ports.sh"

BINDIR=""
PG_VER=""
PSQL=""
PORT=""

log() { printf 'devdb: %s\n' "$*" >&2; }
die() {
  printf 'devdb: ERROR: %s\n' "$*" >&2
  exit 1
}

# Run a command as the cluster owner: `postgres` when we are root, else ourselves.
as_pg() {
  if ((IS_ROOT)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

have_apt_root() { ((IS_ROOT)) && command -v apt-get >/dev/null 2>&1; }

apt_install() {
  log "installing with apt-get: $* (output below)"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for a concurrent apt/dpkg run instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=600 update >&2 || log "apt-get update failed; trying the install anyway"
  apt-get -o DPkg::Lock::Timeout=600 install -y "$@" >&2 ||
    die "apt-get install -y $* failed (see the output above)"
}

valid_name() {
  [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] ||
    die "invalid database name '$1' (use letters, digits and _, at most 63 chars)"
}

# ---------------------------------------------------------------- binaries
highest_pg_version() {
  local d v best=""
  for d in /usr/lib/postgresql/*/bin/pg_ctl; do
    [[ -x $d ]] || continue
    v=${d#/usr/lib/postgresql/}
    v=${v%%/*}
    if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n1) == "$v" ]]; then
      best=$v
    fi
  done
  printf '%s' "$best"
}

ext_dir_for() { # version -> directory holding the *.control files
  if [[ $BINDIR == /usr/lib/postgresql/*/bin ]]; then
    printf '/usr/share/postgresql/%s/extension' "$1"
  elif [[ -x $BINDIR/pg_config ]]; then
    printf '%s/extension' "$("$BINDIR/pg_config" --sharedir)"
  elif command -v pg_config >/dev/null 2>&1; then
    printf '%s/extension' "$(pg_config --sharedir)"
  else
    printf '/usr/share/postgresql/%s/extension' "$1"
  fi
}

pick_bindir() {
  BINDIR="" PG_VER=""
  if [[ -n ${PG_BINDIR:-} ]]; then
    BINDIR=$PG_BINDIR
  elif [[ -f $PGDATA_DIR/PG_VERSION ]]; then
    # An existing cluster must be run by the major version that created it.
    PG_VER=$(<"$PGDATA_DIR/PG_VERSION")
    if [[ -x /usr/lib/postgresql/$PG_VER/bin/pg_ctl ]]; then
      BINDIR=/usr/lib/postgresql/$PG_VER/bin
    elif command -v pg_config >/dev/null 2>&1 && [[ -x $(pg_config --bindir)/pg_ctl ]]; then
      BINDIR=$(pg_config --bindir)
    fi
  else
    PG_VER=$(highest_pg_version)
    if [[ -n $PG_VER ]]; then
      BINDIR=/usr/lib/postgresql/$PG_VER/bin
    elif command -v pg_config >/dev/null 2>&1 && [[ -x $(pg_config --bindir)/pg_ctl ]]; then
      BINDIR=$(pg_config --bindir)
    fi
  fi
  if [[ -n $BINDIR && -z $PG_VER && -x $BINDIR/postgres ]]; then
    PG_VER=$("$BINDIR/postgres" --version | sed -E 's/.* ([0-9]+)[.0-9]*.*/\1/')
  fi
}

# Make sure server binaries, PostGIS and pg_trgm are installed (installing them if we can).
ensure_server_software() {
  pick_bindir
  if [[ -z $BINDIR || ! -x $BINDIR/initdb || ! -x $BINDIR/pg_ctl || ! -x $BINDIR/postgres ]]; then
    if [[ -f $PGDATA_DIR/PG_VERSION ]]; then
      die "the cluster in $CLUSTER was created by PostgreSQL $PG_VER, whose binaries are missing.
  Install them:  sudo apt-get install -y postgresql-$PG_VER postgresql-$PG_VER-postgis-3
  or delete the cluster:  $SELF destroy"
    fi
    if have_apt_root; then
      apt_install postgresql postgis
      pick_bindir
    fi
    [[ -n $BINDIR && -x $BINDIR/pg_ctl ]] ||
      die "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin).
  Install them:  sudo apt-get update && sudo apt-get install -y postgresql postgis"
  fi
  local ext
  ext=$(ext_dir_for "$PG_VER")
  if [[ ! -f $ext/postgis.control ]]; then
    if have_apt_root; then
      apt_install "postgresql-$PG_VER-postgis-3"
    fi
    [[ -f $ext/postgis.control ]] ||
      die "PostGIS is not installed for PostgreSQL $PG_VER ($ext/postgis.control missing).
  Install it:  sudo apt-get update && sudo apt-get install -y postgresql-$PG_VER-postgis-3"
  fi
  if [[ ! -f $ext/pg_trgm.control ]]; then
    if have_apt_root; then
      if apt-cache show "postgresql-contrib-$PG_VER" >/dev/null 2>&1; then
        apt_install "postgresql-contrib-$PG_VER"
      else
        apt_install postgresql-contrib
      fi
    fi
    [[ -f $ext/pg_trgm.control ]] ||
      die "pg_trgm is not installed for PostgreSQL $PG_VER ($ext/pg_trgm.control missing).
  Install it:  sudo apt-get update && sudo apt-get install -y postgresql-contrib"
  fi
  if ((IS_ROOT)); then
    id -u postgres >/dev/null 2>&1 ||
      die "user 'postgres' does not exist (needed to run the server as root). Install the
  postgresql package (sudo apt-get install -y postgresql) or create the user."
    command -v runuser >/dev/null 2>&1 || die "runuser not found (package util-linux)"
  fi
  find_psql
}

find_psql() {
  if [[ -n $BINDIR && -x $BINDIR/psql ]]; then
    PSQL=$BINDIR/psql
  elif command -v psql >/dev/null 2>&1; then
    PSQL=$(command -v psql)
  else
    local v
    v=$(highest_pg_version)
    if [[ -n $v && -x /usr/lib/postgresql/$v/bin/psql ]]; then
      PSQL=/usr/lib/postgresql/$v/bin/psql
    elif have_apt_root; then
      apt_install postgresql-client
      PSQL=$(command -v psql) || die "psql still not found after installing postgresql-client"
    else
      die "psql not found. Install it:  sudo apt-get install -y postgresql-client"
    fi
  fi
}

# ---------------------------------------------------------------- private cluster
# PID of our postmaster if it runs (the pid in postmaster.pid must be alive AND have
# our data directory on its command line, so a stale pid file after a reboot whose
# pid got reused never counts as running).
server_pid() {
  local pidfile=$PGDATA_DIR/postmaster.pid pid
  [[ -r $pidfile ]] || return 1
  read -r pid <"$pidfile" || return 1
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -Fxq -- "$PGDATA_DIR" || return 1
  printf '%s' "$pid"
}

running_port() { sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null; }

make_cluster_dirs() {
  if ((IS_ROOT)) && [[ -z ${DEVDB_DIR:-} ]]; then
    install -d -m 0755 -o root -g root /var/lib/onsite-dev
  fi
  mkdir -p -- "$CLUSTER"
  if ((IS_ROOT)); then
    chown postgres:postgres "$CLUSTER"
    chmod 0755 "$CLUSTER"
  fi
  if ((IS_ROOT)) && [[ -z ${DEVDB_DIR:-} ]]; then
    local rec=$INSTANCE_DIR/postgres.path
    if [[ ! -f $rec || $(<"$rec") != "$CLUSTER" ]]; then
      printf '%s\n' "$CLUSTER" >"$rec"
    fi
  fi
}

take_lock() {
  mkdir -p -- "$INSTANCE_DIR"
  exec 9>>"$LOCK_FILE"
  flock -w 600 9 || die "timed out waiting for another devdb.sh run (lock $LOCK_FILE)"
}

release_lock() {
  flock -u 9 2>/dev/null || true
  exec 9>&-
}

init_cluster() {
  [[ -f $PGDATA_DIR/PG_VERSION ]] && return 0
  local tmp=$CLUSTER/data.init
  log "initialising a private PostgreSQL $PG_VER cluster in $PGDATA_DIR"
  rm -rf -- "$tmp"
  as_pg "$BINDIR/initdb" -D "$tmp" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null 9>&- ||
    die "initdb failed (see above)"
  rm -rf -- "$PGDATA_DIR"
  mv -- "$tmp" "$PGDATA_DIR" # atomic: a half-done initdb never looks initialised
}

# PostgreSQL's own cache: a quarter of the memory, between its default (128 MB) and 2 GB, so that the
# 1M-offering benchmark set (1.2 GB with its indexes) is read from it rather than from the kernel's.
# Pages are taken as they are used, so an idle cluster costs nothing. DEVDB_SHARED_BUFFERS_MB overrides it.
shared_buffers_mb() {
  local kb mb
  kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || true)
  mb=$(( ${kb:-0} / 4096 ))
  (( mb < 128 )) && mb=128
  (( mb > 2048 )) && mb=2048
  echo "${DEVDB_SHARED_BUFFERS_MB:-$mb}"
}

start_postgres() {
  # Leftovers of a crash/reboot: a pid file whose process is gone (or is someone
  # else now) and stale socket lock files would make postgres refuse to start.
  if [[ -e $PGDATA_DIR/postmaster.pid ]]; then
    log "removing stale postmaster.pid"
    rm -f -- "$PGDATA_DIR/postmaster.pid"
  fi
  rm -f -- "$RUN_DIR"/.s.PGSQL.*
  log "starting PostgreSQL $PG_VER on 127.0.0.1:$PORT (data $PGDATA_DIR, log $LOG_FILE, shared_buffers $(shared_buffers_mb) MB)"
  as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 \
    -o "-p $PORT -k $RUN_DIR -c listen_addresses=127.0.0.1 -c shared_buffers=$(shared_buffers_mb)MB" start >&2 9>&-
}

start_cluster() { start_on_own_port 55000 58999 5432 "PostgreSQL (data $PGDATA_DIR)" start_postgres; }

wait_ready() {
  local i
  for ((i = 0; i < 150; i++)); do
    if "$BINDIR/pg_isready" -q -h "$RUN_DIR" -p "$PORT" -t 2 9>&-; then return 0; fi
    sleep 0.2
  done
  die "PostgreSQL on port $PORT did not become ready (log: $LOG_FILE)"
}

# Ensure the private cluster exists and runs; sets PORT. Caller holds no lock.
ensure_cluster() {
  take_lock
  ensure_server_software # first: installing PostgreSQL creates the postgres user
  make_cluster_dirs
  if ((IS_ROOT)); then
    install -d -m 0755 -o postgres -g postgres "$RUN_DIR"
  else
    mkdir -p -- "$RUN_DIR"
    chmod 0700 "$RUN_DIR"
  fi
  init_cluster
  if server_pid >/dev/null; then
    PORT=$(running_port)
  else
    start_cluster
  fi
  wait_ready
}

cpsql() { # database, psql args... (private cluster, over the unix socket)
  local db=$1
  shift
  PGOPTIONS='-c client_min_messages=warning' \
    "$PSQL" -X -w -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "$PORT" -U postgres -d "$db" "$@" </dev/null 9>&-
}

private_url() {
  local name=$1 exists
  ensure_cluster
  exists=$(cpsql postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$name'")
  if [[ $exists != 1 ]]; then
    log "creating database $name"
    cpsql postgres -c "CREATE DATABASE \"$name\"" || die "CREATE DATABASE $name failed"
  fi
  cpsql "$name" -c 'CREATE EXTENSION IF NOT EXISTS postgis' -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm' \
    -c 'CREATE EXTENSION IF NOT EXISTS btree_gist' ||
    die "could not create the postgis/pg_trgm/btree_gist extensions in $name.
  Install them:  sudo apt-get install -y postgresql-$PG_VER-postgis-3"
  release_lock
  printf 'postgresql+psycopg://postgres@127.0.0.1:%s/%s\n' "$PORT" "$name"
}

# ---------------------------------------------------------------- external server
# URL pieces: U_SCHEME U_AUTH (user:pass@host:port) U_DB U_QUERY (with leading ?)
parse_url() {
  local url=$1 rest
  [[ $url == *://* ]] || die "not a URL: $(mask "$url")"
  U_SCHEME=${url%%://*}
  rest=${url#*://}
  U_QUERY=""
  if [[ $rest == *\?* ]]; then
    U_QUERY="?${rest#*\?}"
    rest=${rest%%\?*}
  fi
  if [[ $rest == */* ]]; then
    U_AUTH=${rest%%/*}
    U_DB=${rest#*/}
  else
    U_AUTH=$rest
    U_DB=""
  fi
  case $U_SCHEME in
    postgres | postgresql | postgresql+psycopg | postgresql+psycopg2 | postgresql+asyncpg) ;;
    *) die "unsupported URL scheme '$U_SCHEME' in $(mask "$url") (expected postgresql://...)" ;;
  esac
}

mask() { # hide a password in a URL for messages
  sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"
}

sa_url() { printf 'postgresql+psycopg://%s/%s%s' "$U_AUTH" "$1" "$U_QUERY"; }
pq_url() { printf 'postgresql://%s/%s%s' "$U_AUTH" "$1" "$U_QUERY"; }

epsql() { # libpq url, psql args...
  local url=$1
  shift
  PGOPTIONS='-c client_min_messages=warning' \
    "$PSQL" -X -w -q -v ON_ERROR_STOP=1 -d "$url" "$@" </dev/null
}

external_ensure_extensions() { # libpq url, db name
  local url=$1 db=$2 err ver
  if ! err=$(epsql "$url" -c 'CREATE EXTENSION IF NOT EXISTS postgis' -c 'CREATE EXTENSION IF NOT EXISTS pg_trgm' \
    -c 'CREATE EXTENSION IF NOT EXISTS btree_gist' 2>&1); then
    ver=$(epsql "$url" -tA -c 'SHOW server_version_num' 2>/dev/null || true)
    if [[ $ver =~ ^[0-9]+$ ]]; then ver=$((ver / 10000)); else ver='<version>'; fi
    log "psql said: $err"
    die "could not enable postgis/pg_trgm/btree_gist in database '$db' on $(mask "$url").
  On that database server install PostGIS and contrib, e.g.:
      sudo apt-get install -y postgresql-$ver-postgis-3
  then, as a superuser:
      psql -d $db -c 'CREATE EXTENSION postgis; CREATE EXTENSION pg_trgm; CREATE EXTENSION btree_gist;'
  Or unset DATABASE_URL so that $SELF runs its own private PostGIS cluster."
  fi
}

external_url() {
  local name=$1 main_db admin exists err
  find_psql
  parse_url "$DATABASE_URL"
  main_db=$U_DB
  if [[ $name == "$main_db" ]]; then
    external_ensure_extensions "$(pq_url "$name")" "$name"
    sa_url "$name"
    echo
    return 0
  fi
  admin=$(pq_url "${main_db:-postgres}")
  if ! exists=$(epsql "$admin" -tA -c "SELECT 1 FROM pg_database WHERE datname = '$name'" 2>&1); then
    die "cannot connect to $(mask "$admin"): $exists"
  fi
  if [[ $exists != 1 ]]; then
    log "creating database $name on $(mask "$admin")"
    if ! err=$(epsql "$admin" -c "CREATE DATABASE \"$name\"" 2>&1); then
      die "could not create database '$name' on $(mask "$admin"): $err
  Ask an administrator to run:  CREATE DATABASE $name;  (or ALTER ROLE <user> CREATEDB;),
  or set TEST_DATABASE_URL to an existing database."
    fi
  fi
  external_ensure_extensions "$(pq_url "$name")" "$name"
  sa_url "$name"
  echo
}

test_url() {
  find_psql
  parse_url "$TEST_DATABASE_URL"
  external_ensure_extensions "$(pq_url "$U_DB")" "$U_DB"
  sa_url "$U_DB"
  echo
}

resolve_url() { # name -> prints SQLAlchemy URL
  local name=$1
  if [[ -n ${TEST_DATABASE_URL:-} && $name == *_test ]]; then
    test_url
  elif [[ -n ${DATABASE_URL:-} ]]; then
    external_url "$name"
  else
    private_url "$name"
  fi
}

# ---------------------------------------------------------------- commands
cmd_stop() {
  if [[ ! -d $PGDATA_DIR ]]; then
    log "no private cluster at $CLUSTER (nothing to stop)"
    return 0
  fi
  if ! server_pid >/dev/null; then
    log "private cluster at $CLUSTER is not running"
    return 0
  fi
  take_lock
  pick_bindir
  [[ -n $BINDIR ]] || die "pg_ctl not found; cannot stop the cluster in $PGDATA_DIR"
  log "stopping PostgreSQL in $PGDATA_DIR"
  as_pg "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >&2 9>&-
}

cmd_status() {
  local where state port pid
  where="private cluster $CLUSTER"
  if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
    state="not initialised"
  elif pid=$(server_pid); then
    port=$(running_port)
    state="running (PostgreSQL $(<"$PGDATA_DIR/PG_VERSION"), pid $pid, postgresql+psycopg://postgres@127.0.0.1:$port/)"
  else
    port=$(cat "$PORT_FILE" 2>/dev/null || echo "$BASE_PORT")
    state="stopped (PostgreSQL $(<"$PGDATA_DIR/PG_VERSION"), port $port)"
  fi
  if [[ -n ${DATABASE_URL:-} ]]; then
    echo "devdb: using DATABASE_URL=$(mask "$DATABASE_URL") (nothing started); $where: $state"
  else
    echo "devdb: $where: $state"
  fi
}

cmd_destroy() {
  cmd_stop
  if [[ -d $CLUSTER ]]; then
    log "deleting $CLUSTER"
    rm -rf -- "$CLUSTER"
  fi
  if [[ $RUN_DIR != "$CLUSTER"/* ]]; then rm -rf -- "$RUN_DIR"; fi
  # The record names the checkout's own cluster; a DEVDB_DIR cluster is not it.
  if [[ -z ${DEVDB_DIR:-} ]]; then rm -f -- "$INSTANCE_DIR/postgres.path"; fi
}

cmd_bindir() {
  pick_bindir
  if [[ -z $BINDIR || ! -x $BINDIR/pg_dump ]]; then
    find_psql
    BINDIR=$(dirname -- "$PSQL")
  fi
  [[ -x $BINDIR/pg_dump ]] || die "pg_dump not found next to $BINDIR. Install it:  sudo apt-get install -y postgresql-client"
  printf '%s\n' "$BINDIR"
}

main() {
  local cmd=${1:-}
  case $cmd in
    url)
      local name=${2:-onsite}
      valid_name "$name"
      resolve_url "$name"
      ;;
    start)
      if [[ -n ${DATABASE_URL:-} ]]; then
        log "DATABASE_URL is set ($(mask "$DATABASE_URL")); not starting a private cluster"
        return 0
      fi
      ensure_cluster
      release_lock
      log "private cluster running: postgresql+psycopg://postgres@127.0.0.1:$PORT/"
      ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    destroy) cmd_destroy ;;
    bindir) cmd_bindir ;;
    psql)
      local name=${2:-onsite} url
      valid_name "$name"
      shift $(($# >= 2 ? 2 : $#))
      url=$(resolve_url "$name")
      find_psql
      exec "$PSQL" "${url/+psycopg/}" "$@"
      ;;
    -h | --help | help)
      sed -n '2,/^set -euo/p' "$SELF" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
      ;;
    *)
      log "usage: $0 {url NAME|start|stop|status|psql NAME|destroy|bindir}"
      exit 2
      ;;
  esac
}

main "$@"
