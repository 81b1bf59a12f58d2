#!/usr/bin/env bash
# npm start: everything a fresh clone needs, then the server (migrations and demo seed run inside).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh --worker-only || true
source scripts/env.sh
ensure_node_modules
ensure_client_built
exec node --import tsx server/main.ts
