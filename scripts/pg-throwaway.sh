#!/usr/bin/env bash
# A throwaway PostgreSQL for checks by hand (issue #17; not yet part of npm test):
#   eval "$(bash scripts/pg-throwaway.sh start)"    # prints DATABASE_URL=… and PG_THROWAWAY_DIR=…
#   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f migrations-pg/0000_foundation.sql
#   bash scripts/pg-throwaway.sh stop "$PG_THROWAWAY_DIR"   # stops the server, deletes its folder
#   bash scripts/pg-throwaway.sh crash-restart "$PG_THROWAWAY_DIR"   # a crash of the database server (immediate
#       stop: what is only in its WAL buffers is lost, as in a power cut of its disk) and a start with the same options
#   bash scripts/pg-throwaway.sh check    # all three: applies migrations-pg/ on a fresh one, checks the audit chain
# Debian's postgresql package (initdb, pg_ctl, postgres); `apt-get install -y postgresql` where missing.
# The cluster lives in a new folder under $TMPDIR, listens on 127.0.0.1 on its own free port (and a Unix
# socket in its folder), trusts local connections, and is never started by anything else. PG_THROWAWAY_OPTIONS
# adds server options after ours (a later -c wins), e.g. "-c full_page_writes=on". initdb refuses
# to run as root: as root the cluster is owned by and run as the `postgres` user.
# Tests run it without durability (fsync=off, full_page_writes=off: a crash of the test machine loses
# nothing that matters). PG_THROWAWAY_DURABLE=1 starts it as production runs (fsync, full_page_writes and
# synchronous_commit on: a commit is on disk before it returns), for benchmarks measured against SQLite's
# fsync before each ballot acknowledgement.
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
  local durability="-c fsync=off -c full_page_writes=off"
  [ "${PG_THROWAWAY_DURABLE:-}" = 1 ] && durability="-c fsync=on -c full_page_writes=on -c synchronous_commit=on"
  as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 30 -l "$dir/data/server.log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $durability -c max_connections=400 ${PG_THROWAWAY_OPTIONS:-}" start >/dev/null ||
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

crash_restart() {
  local dir="${1:?usage: pg-throwaway.sh crash-restart DIR}" bin
  case "$dir" in "${TMPDIR:-/tmp}"/ec-pg.*) ;; *) echo "not a throwaway cluster: $dir" >&2; exit 1 ;; esac
  bin="$(bindir)"
  # Immediate mode: the server processes quit at once, nothing flushed, crash recovery at the next start;
  # restart reuses the command-line options of the last start (postmaster.opts).
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -l "$dir/data/server.log" restart >/dev/null ||
    { cat "$dir/data/server.log" >&2; exit 1; }
}

check() { # a fresh cluster: every migrations-pg/*.sql in order, then the audit chain under concurrent writers
  local env bin
  env="$(start)"
  eval "$env"
  trap 'stop "$PG_THROWAWAY_DIR"' EXIT
  bin="$(bindir)"
  psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS unaccent'
  for f in migrations-pg/*.sql; do
    psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 --single-transaction -f "$f"
    echo "applied $f"
  done
  psql "$DATABASE_URL" -At -c "select count(*) || ' tables' from pg_tables where schemaname = 'public'"
  # 8 clients insert audit entries at once (single and multi-row, Vietnamese, quotes, newlines); the chain
  # must link every entry to the one before it by id, and each hash must be what auditHash() computes.
  cat >"$PG_THROWAWAY_DIR/audit.sql" <<'SQL'
\set a random(1, 1000000)
BEGIN;
INSERT INTO audit_log (actor_id, action, target_type, target_id, details) VALUES (:a, 'act ' || :a, 'meeting', 'x"' || :a, ('{"n": ' || :a || ', "s": "Đà\n"}')::json);
SELECT pg_sleep(0.001 * (:a % 3));
INSERT INTO audit_log (actor_id, action, target_type, target_id, details) VALUES (null, 'two', 'vote', null, null), (:a, 'three', 'vote', '1', '[]');
COMMIT;
SQL
  "$bin/pgbench" "$DATABASE_URL" -n -c 8 -j 2 -t 50 -f "$PG_THROWAWAY_DIR/audit.sql" >/dev/null
  psql "$DATABASE_URL" -At -c "select json_build_object('actor', actor_id, 'action', action, 'targetType', target_type, 'targetId', target_id,
      'details', details::text, 'at', to_char(at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'prev', prev_hash, 'hash', hash)
      from audit_log order by id" >"$PG_THROWAWAY_DIR/audit.jsonl"
  AUDIT_ROWS="$PG_THROWAWAY_DIR/audit.jsonl" node --import tsx --input-type=module -e "
    import fs from 'node:fs';
    import { auditHash } from './server/audit/audit.chain.ts';
    let prev = null, bad = 0, n = 0;
    for (const line of fs.readFileSync(process.env.AUDIT_ROWS, 'utf8').trim().split('\n')) {
      const r = JSON.parse(line);
      n++;
      if (r.prev !== prev || r.hash !== auditHash(r.prev, r.actor, r.action, r.targetType, r.targetId, r.details, r.at)) bad++;
      prev = r.hash;
    }
    console.log('audit chain: ' + n + ' entries from 8 concurrent writers, ' + bad + ' not chained as auditHash() says');
    process.exit(bad || n !== 1200 ? 1 : 0);
  "
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  crash-restart) crash_restart "${2:-}" ;;
  check) check ;;
  *) echo "usage: pg-throwaway.sh start | stop DIR | crash-restart DIR | check" >&2; exit 2 ;;
esac
