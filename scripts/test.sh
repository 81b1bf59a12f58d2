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
# Tests run in a random order (files, and the tests inside unit and integration files; an e2e file is one
# journey whose steps run in order). The seed is printed so an order-dependent failure can be replayed:
#   ECABINET_TEST_SEED=<seed> npm test [files…]
seed="${ECABINET_TEST_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
echo "test order: shuffled, seed ${seed} (replay with ECABINET_TEST_SEED=${seed} npm test)"
exec npx vitest run --sequence.shuffle --sequence.seed="$seed" "$@"
