#!/usr/bin/env bash
# npm run bench [-- <name>]: one benchmark (bench/<name>.ts) or all of them, in turn.
# npm run bench -- --compare <base-rev> [name …]: side by side with an older revision (scripts/bench-compare.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser benchmarks drive /usr/bin/chromium like the e2e tests: installed here when missing (as root).
bash scripts/install-system-deps.sh || true
source scripts/env.sh
ensure_node_modules
ensure_client_built
if [ "${DB:-sqlite}" = postgres ] || [ "${1:-}" = cluster ]; then
  # DB=postgres: the benchmarks that support it (votes, live) run their server on a throwaway PostgreSQL
  # (scripts/pg-throwaway.sh), stopped and deleted at the end. Durable as in production (fsync and
  # synchronous_commit on), since SQLite is measured with an fsync before each ballot's acknowledgement.
  # `cluster` always: its nodes share PostgreSQL (its 3-node and 1-node clusters each get a database of this one).
  eval "$(PG_THROWAWAY_DURABLE=1 bash scripts/pg-throwaway.sh start)"
  trap 'bash scripts/pg-throwaway.sh stop "$PG_THROWAWAY_DIR"' EXIT
  export ECABINET_BENCH_PG_URL="$DATABASE_URL"
  unset DATABASE_URL
fi
if [ "${1:-}" = "--compare" ]; then
  # npm run bench -- --compare <base-rev> [name …]: each bench on an older revision and here, back to back
  # (after the PostgreSQL set-up: DB=postgres compares both revisions on the same throwaway PostgreSQL).
  node --import tsx scripts/bench-compare.ts "${@:2}"
  exit
fi
if [ $# -gt 0 ]; then
  node --expose-gc --import tsx "bench/$1.ts" "${@:2}"
  exit
fi
for f in bench/*.ts; do
  case "$f" in bench/_*) continue ;; esac
  echo "== $f"; node --expose-gc --import tsx "$f"
done
