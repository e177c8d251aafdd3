#!/usr/bin/env bash
# scripts/backup.sh — back up an Onsite database, or restore a backup into an empty one.
#
# Usage:
#   scripts/backup.sh backup [FILE]   dump database DB_NAME (default: onsite) in pg_dump's custom
#                                     format to FILE (default: instance/backups/<DB_NAME>-<UTC stamp>.dump);
#                                     print the file's path on stdout
#   scripts/backup.sh restore FILE    load FILE into database DB_NAME (default: onsite; created if
#                                     missing). Refuses when that database already holds tables:
#                                     a restore never mixes with, or overwrites, existing data.
#
# The server is the one scripts/devdb.sh gives for DB_NAME (DATABASE_URL's server when it is set,
# else the private cluster, started if needed); pg_dump and pg_restore come from the same
# PostgreSQL as the cluster (`scripts/devdb.sh bindir`). Messages go to stderr.
set -euo pipefail

ROOT_DIR=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
DEVDB=$ROOT_DIR/scripts/devdb.sh
DB_NAME=${DB_NAME:-onsite}

log() { printf 'backup: %s\n' "$*" >&2; }
die() {
  printf 'backup: ERROR: %s\n' "$*" >&2
  exit 1
}
usage() {
  log "usage: $0 backup [FILE] | restore FILE   (database: DB_NAME, default onsite)"
  exit 2
}

# libpq URL of DB_NAME (devdb.sh prints the SQLAlchemy spelling postgresql+psycopg://).
database_url() {
  local url
  url=$("$DEVDB" url "$DB_NAME") || die "could not reach database $DB_NAME (see above)"
  printf '%s' "${url/postgresql+psycopg:\/\//postgresql://}"
}

mask() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

check_dump() { # file: is it a pg_dump archive pg_restore can read?
  "$BINDIR/pg_restore" --list "$1" >/dev/null 2>&1 ||
    die "$1 is not a backup pg_restore can read (expected a pg_dump custom-format file)"
}

cmd_backup() {
  local file=${1:-} url tmp
  if [[ -z $file ]]; then
    mkdir -p -- "$ROOT_DIR/instance/backups"
    file=$ROOT_DIR/instance/backups/$DB_NAME-$(date -u +%Y%m%dT%H%M%SZ).dump
  fi
  [[ ! -e $file ]] || die "$file already exists; choose another FILE="
  mkdir -p -- "$(dirname -- "$file")"
  url=$(database_url)
  [[ -n $(user_tables "$url") ]] || log "warning: database $DB_NAME holds no tables; this backup will be empty"
  # Written under a temporary name and renamed, so a file with the final name is always complete.
  tmp=$file.partial
  log "dumping $(mask "$url") to $file"
  if ! "$BINDIR/pg_dump" --format=custom --file="$tmp" --dbname="$url"; then
    rm -f -- "$tmp"
    die "pg_dump failed (see above)"
  fi
  check_dump "$tmp"
  mv -- "$tmp" "$file"
  log "done: $(du -h -- "$file" | cut -f1) in $file"
  printf '%s\n' "$file"
}

# Tables of the database that are not part of an extension (PostGIS owns spatial_ref_sys).
user_tables() {
  "$BINDIR/psql" -X -w -q -tA -v ON_ERROR_STOP=1 -d "$1" -c "
    SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1" </dev/null
}

cmd_restore() {
  local file=${1:-} url tables count
  [[ -n $file ]] || die "say which backup to restore: make restore FILE=instance/backups/….dump"
  [[ -f $file && -r $file ]] || die "no readable file $file"
  check_dump "$file"
  url=$(database_url)
  tables=$(user_tables "$url") || die "could not list the tables of $DB_NAME (see above)"
  if [[ -n $tables ]]; then
    count=$(wc -l <<<"$tables")
    die "database $DB_NAME is not empty ($count tables, e.g. $(head -n 3 <<<"$tables" | paste -sd, - | sed "s/,/, /g")).
  A restore only goes into an empty database; nothing was changed. Restore into a new one:
      make restore FILE=$file DB_NAME=${DB_NAME}_restored
  or, if $DB_NAME's data may really go, drop it first:
      scripts/devdb.sh psql postgres -c 'DROP DATABASE $DB_NAME'"
  fi
  log "restoring $file into $(mask "$url")"
  # One transaction: a failed restore leaves the database empty, not half-filled.
  "$BINDIR/pg_restore" --exit-on-error --single-transaction --no-owner --no-privileges \
    --dbname="$url" "$file" || die "pg_restore failed; $DB_NAME was left as it was (see above)"
  log "done: $DB_NAME restored from $file"
}

main() {
  local cmd=${1:-}
  [[ $# -le 2 ]] || usage
  [[ $DB_NAME =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]] || die "invalid DB_NAME '$DB_NAME'"
  case $cmd in
    backup | restore)
      BINDIR=$("$DEVDB" bindir) || die "no PostgreSQL client binaries (see above)"
      "cmd_$cmd" "${2:-}"
      ;;
    -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2 ;;
    *) usage ;;
  esac
}

main "$@"
