#!/usr/bin/env bash
# scripts/devredis.sh — make sure a Redis runs for Onsite's rate limits (shared by every worker).
#
# Usage:
#   scripts/devredis.sh url [DB]   ensure the Redis runs; print ONLY its URL on stdout:
#                                  redis://127.0.0.1:<port>/<DB> (DB 0-15, default 0)
#   scripts/devredis.sh start      ensure the private Redis runs
#   scripts/devredis.sh stop       stop the private Redis (harmless if not running)
#   scripts/devredis.sh status     one line: where Redis is and whether it runs
#
# All messages go to stderr; only the URL (url) / status line (status) go to stdout.
# Never reads standard input (works in CI: CI=true, root, fresh clone).
#
# Which server:
#   * REDIS_URL set (production): that server is used and nothing is started; `url` prints
#     REDIS_URL unchanged.
#   * Otherwise: a private redis-server that this script starts, listening on 127.0.0.1 only,
#     never on 6379 and never the system Redis (which it does not touch). The port is stable
#     per checkout: 59000 + (sha1(checkout path) % 1000), or the next free one if something
#     else listens there; it is stored in DIR/port and reused.
# Files (DIR = <checkout>/instance/redis, DEVREDIS_DIR overrides): redis.pid, redis.log,
# dump.rdb, port; concurrent runs are serialised with flock on DIR/.lock. Redis runs as the
# user running this script (it does not refuse root, and instance/ is reachable by root).
# If redis-server is missing and we are root with apt-get, it is installed non-interactively
# (apt-get install -y redis-server); otherwise the script exits 1 saying what to install.
set -euo pipefail

SELF=${BASH_SOURCE[0]}
ROOT_DIR=$(cd -P -- "$(dirname -- "$SELF")/.." && pwd -P)
HASH=$(printf '%s' "$ROOT_DIR" | sha1sum | cut -c1-12)
BASE_PORT=$((59000 + 16#${HASH:0:8} % 1000))
DIR=${DEVREDIS_DIR:-$ROOT_DIR/instance/redis}
PID_FILE=$DIR/redis.pid
LOG_FILE=$DIR/redis.log
PORT_FILE=$DIR/port
LOCK_FILE=$DIR/.lock
PORT=""
# shellcheck source=scripts/ports.sh
. "$ROOT_DIR/scripts/ports.sh"

log() { printf 'devredis: %s\n' "$*" >&2; }
die() {
  printf 'devredis: ERROR: %s\n' "$*" >&2
  exit 1
}

mask() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

ensure_software() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "redis-server not found; installing it: apt-get install -y redis-server (output below)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update >&2 || log "apt-get update failed; trying the install anyway"
    apt-get -o DPkg::Lock::Timeout=600 install -y redis-server >&2 ||
      die "apt-get install -y redis-server failed (see the output above)"
    command -v redis-server >/dev/null 2>&1 || die "redis-server still not found after installing it"
    return 0
  fi
  die "redis-server not found (rate limits shared by the workers need it).
  Install it:  sudo apt-get update && sudo apt-get install -y redis-server
  or set REDIS_URL=redis://host:port/0 to use a Redis you run yourself."
}

# PID of our redis-server if it runs: the pid in the pid file must be alive and be a
# redis-server on our port (a stale pid file whose pid got reused never counts).
server_pid() {
  local pid port
  [[ -r $PID_FILE && -r $PORT_FILE ]] || return 1
  read -r pid <"$PID_FILE" || return 1
  read -r port <"$PORT_FILE" || return 1
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq "redis-server.*:$port( |$)" || return 1
  printf '%s' "$pid"
}

answers_ping() { # port
  local reply=""
  {
    exec 3<>"/dev/tcp/127.0.0.1/$1" &&
      printf 'PING\r\n' >&3 &&
      read -r -t 2 reply <&3
    exec 3>&-
  } 2>/dev/null || true
  [[ $reply == +PONG* ]]
}

take_lock() {
  mkdir -p -- "$DIR"
  chmod 0700 "$DIR"
  exec 9>>"$LOCK_FILE"
  flock -w 120 9 || die "timed out waiting for another devredis.sh run (lock $LOCK_FILE)"
}

start_redis() {
  local i
  rm -f -- "$PID_FILE"
  log "starting Redis on 127.0.0.1:$PORT (dir $DIR, log $LOG_FILE)"
  redis-server --port "$PORT" --bind 127.0.0.1 --protected-mode yes --dir "$DIR" \
    --daemonize yes --pidfile "$PID_FILE" --logfile "$LOG_FILE" 9>&- </dev/null >&2 ||
    die "redis-server failed to start (log: $LOG_FILE)"
  for ((i = 0; i < 100; i++)); do
    if server_pid >/dev/null && answers_ping "$PORT"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Ensure the private Redis runs; sets PORT.
ensure_server() {
  ensure_software
  take_lock
  if server_pid >/dev/null && read -r PORT <"$PORT_FILE" && answers_ping "$PORT"; then
    :
  else
    start_on_own_port 59000 59999 6379 "Redis (dir $DIR)" start_redis
  fi
  flock -u 9 2>/dev/null || true
  exec 9>&-
}

cmd_stop() {
  local pid i
  if ! pid=$(server_pid); then
    log "private Redis in $DIR is not running"
    return 0
  fi
  log "stopping Redis (pid $pid, port $(<"$PORT_FILE"))"
  kill -TERM "$pid"
  for ((i = 0; i < 100; i++)); do
    [[ -d /proc/$pid ]] || return 0
    sleep 0.1
  done
  die "Redis (pid $pid) did not stop within 10 s"
}

cmd_status() {
  local state pid
  if pid=$(server_pid); then
    state="running (pid $pid, redis://127.0.0.1:$(<"$PORT_FILE")/)"
  elif [[ -r $PORT_FILE ]]; then
    state="stopped (port $(<"$PORT_FILE"))"
  else
    state="never started"
  fi
  if [[ -n ${REDIS_URL:-} ]]; then
    echo "devredis: using REDIS_URL=$(mask "$REDIS_URL") (nothing started); private Redis in $DIR: $state"
  else
    echo "devredis: private Redis in $DIR: $state"
  fi
}

main() {
  local cmd=${1:-}
  case $cmd in
    url)
      local db=${2:-0}
      [[ $db =~ ^([0-9]|1[0-5])$ ]] || die "invalid Redis database number '$db' (0-15)"
      if [[ -n ${REDIS_URL:-} ]]; then
        printf '%s\n' "$REDIS_URL"
        return 0
      fi
      ensure_server
      printf 'redis://127.0.0.1:%s/%s\n' "$PORT" "$db"
      ;;
    start)
      if [[ -n ${REDIS_URL:-} ]]; then
        log "REDIS_URL is set ($(mask "$REDIS_URL")); not starting a private Redis"
        return 0
      fi
      ensure_server
      log "private Redis running: redis://127.0.0.1:$PORT/"
      ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h | --help | help)
      sed -n '2,/^set -euo/p' "$SELF" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
      ;;
    *)
      log "usage: $0 {url [DB]|start|stop|status}"
      exit 2
      ;;
  esac
}

main "$@"
