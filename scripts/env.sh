# Sourced by the other scripts: environment every E-Cabinet command shares.
WORKER=/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker
if [ -z "${MEDIASOUP_WORKER_BIN:-}" ] && [ -x "$WORKER" ]; then export MEDIASOUP_WORKER_BIN="$WORKER"; fi

# Installs node_modules when missing or older than package-lock.json.
ensure_node_modules() {
  # A node_modules that is a link is someone else's install (a git worktree sharing the main checkout's):
  # never wipe it from here.
  [ -L node_modules ] && return 0
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "e-cabinet: installing dependencies (npm ci)…"
    npm ci --no-audit --no-fund --include=dev
  fi
}

# Builds the web client when dist/client is missing or older than any client/shared source.
ensure_client_built() {
  if [ ! -f dist/client/index.html ] || [ -n "$(find client shared -newer dist/client/index.html -type f 2>/dev/null | head -1)" ]; then
    echo "e-cabinet: building the web client…"
    npx vite build --config client/vite.config.ts --logLevel warn
  fi
}
