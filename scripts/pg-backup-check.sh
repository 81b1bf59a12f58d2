#!/usr/bin/env bash
# The PostgreSQL backup and restore procedure of docs/DEPLOY.md, run for real on throwaway clusters (issue #17):
# real data through the API, pg_dump and a base backup with WAL archiving, each restored into a fresh cluster
# with the file store, the server started on it and a smoke test run. Exit 1 on the first mismatch.
#   bash scripts/pg-backup-check.sh                 # backup then restore, in a temp folder deleted after
#   bash scripts/pg-backup-check.sh backup DIR      # make a backup folder (to keep, or to damage)
#   bash scripts/pg-backup-check.sh restore DIR     # restore it and run the smoke test
# Needs Debian's postgresql package (initdb, pg_ctl, pg_dump, pg_restore, pg_basebackup, pg_verifybackup) and
# openssl. As root the clusters are owned by and run as `postgres` (initdb refuses root). The steps are in
# scripts/pg-backup-check.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && [ -x "$d/pg_basebackup" ] && echo "$d"; done | sort -V | tail -1)"
if [ -z "$bin" ]; then
  echo "pg-backup-check: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: apt-get install -y postgresql" >&2
  exit 1
fi
PG_BIN="$bin" exec node --import tsx scripts/pg-backup-check.ts "$@"
