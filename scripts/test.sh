#!/usr/bin/env bash
# npm test: the whole suite (unit, integration on real servers, e2e in /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
# Chromium, fonts, pdfsig, unzip and the A/V worker when missing (as root); otherwise it says what is missing.
bash scripts/install-system-deps.sh || true
source scripts/env.sh
ensure_node_modules
ensure_client_built
exec npx vitest run "$@"
