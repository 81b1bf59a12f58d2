#!/usr/bin/env bash
# A throwaway PostgreSQL for checks by hand (issue #17; not yet part of npm test):
#   eval "$(bash scripts/pg-throwaway.sh start)"    # prints DATABASE_URL=… and PG_THROWAWAY_DIR=…
#   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f migrations-pg/0000_foundation.sql
#   bash scripts/pg-throwaway.sh stop "$PG_THROWAWAY_DIR"   # stops the server, deletes its folder
#   bash scripts/pg-throwaway.sh check                      # all three: applies migrations-pg/ on a fresh one
# Debian's postgresql package (initdb, pg_ctl, postgres); `apt-get install -y postgresql` where missing.
# The cluster lives in a new folder under $TMPDIR, listens on 127.0.0.1 on its own free port (and a Unix
# socket in its folder), trusts local connections, and is never started by anything else. initdb refuses
# to run as root: as root the cluster is owned by and run as the `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && echo "$d"; done | sort -V | tail -1
}

as_owner() { # runs "$@" as the cluster's owner
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  local bin dir port
  bin="$(bindir)"
  [ -n "$bin" ] || { echo "no PostgreSQL server: apt-get install -y postgresql" >&2; exit 1; }
  dir="$(mktemp -d "${TMPDIR:-/tmp}/ec-pg.XXXXXX")"
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  port="$(free_port)"
  as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 30 -l "$dir/data/server.log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null ||
    { cat "$dir/data/server.log" >&2; exit 1; }
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "PG_THROWAWAY_DIR=$dir"
}

stop() {
  local dir="${1:?usage: pg-throwaway.sh stop DIR}" bin
  case "$dir" in "${TMPDIR:-/tmp}"/ec-pg.*) ;; *) echo "not a throwaway cluster: $dir" >&2; exit 1 ;; esac
  bin="$(bindir)"
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  rm -rf "$dir"
}

check() { # a fresh cluster, every migrations-pg/*.sql in order, the tables listed, stopped
  local env
  env="$(start)"
  eval "$env"
  trap 'stop "$PG_THROWAWAY_DIR"' EXIT
  psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS unaccent'
  for f in migrations-pg/*.sql; do
    psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 --single-transaction -f "$f"
    echo "applied $f"
  done
  psql "$DATABASE_URL" -At -c "select count(*) || ' tables' from pg_tables where schemaname = 'public'"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  check) check ;;
  *) echo "usage: pg-throwaway.sh start | stop DIR | check" >&2; exit 2 ;;
esac
