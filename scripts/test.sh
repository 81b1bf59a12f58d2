#!/usr/bin/env bash
# npm test: the whole suite (unit, integration on real servers, e2e in /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ensure_node_modules
ensure_client_built
exec npx vitest run "$@"
