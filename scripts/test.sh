#!/usr/bin/env bash
# npm test: the whole suite (unit, integration on real servers, e2e in /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
# Chromium, fonts, pdfsig, unzip and the A/V worker when missing (as root); otherwise it says what is missing.
bash scripts/install-system-deps.sh || true
source scripts/env.sh
ensure_node_modules
ensure_client_built
# The whole suite also typechecks: pushes, commands and error codes are typed unions (a push outside
# shared/protocol's table, or a wrong payload, is a type error), so a type error fails the suite.
if [ $# -eq 0 ]; then
  echo "typecheck (tsc --noEmit)…"
  npx tsc -p tsconfig.json --noEmit
fi
exec npx vitest run "$@"
