#!/usr/bin/env bash
# Installs the Debian packages E-Cabinet needs, when missing and when we are root.
#   g++, make, python3 — npm ci builds better-sqlite3 from source (node-gyp)
#   chromium + fonts  — Playwright e2e tests and benchmarks drive /usr/bin/chromium
#   poppler-utils     — pdfsig / pdftoppm verify and render minutes PDFs
#   unzip             — tests open meeting archives with the standard tool
#   mediasoup-worker  — the SFU worker 3.8.4, only packaged in Debian experimental
#   postgresql        — the db:copy test starts a throwaway PostgreSQL (initdb, pg_ctl; issue #17)
#   redis-server, haproxy — several nodes (issue #18): `npm run cluster` and `npm run test:cluster` start their own
# Safe to run repeatedly; prints what it does and never fails the caller for an optional part.
# Without root (or apt-get) it installs nothing and says what is missing, what that turns off, and the
# command that installs it; everything else still runs.
#   --worker-only     what `npm start` needs: the build tools and the mediasoup worker (no browser)
set -u
need=()
why=()
want() { need+=("$1"); why+=("$2"); }
command -v g++ >/dev/null 2>&1 || want g++ "npm ci cannot build better-sqlite3 (the database driver)"
command -v make >/dev/null 2>&1 || want make "npm ci cannot build better-sqlite3 (the database driver)"
command -v python3 >/dev/null 2>&1 || want python3 "npm ci cannot build better-sqlite3 (node-gyp needs Python)"
if [ "${1:-}" != "--worker-only" ]; then
  [ -x /usr/bin/chromium ] || want chromium "end-to-end tests and the browser benchmarks cannot run"
  dpkg -s fonts-noto-core >/dev/null 2>&1 || want fonts-noto-core "screenshots may miss Vietnamese glyphs"
  command -v pdfsig >/dev/null 2>&1 || want poppler-utils "tests cannot verify minutes signatures (pdfsig)"
  command -v unzip >/dev/null 2>&1 || want unzip "the archive tests cannot open meeting archives"
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || want postgresql "the db:copy test cannot start a throwaway PostgreSQL"
  command -v redis-server >/dev/null 2>&1 || want redis-server "npm run cluster and the cluster tests cannot start Redis"
  command -v haproxy >/dev/null 2>&1 || want haproxy "npm run cluster and the cluster tests cannot start HAProxy"
fi
worker=/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker
if [ ${#need[@]} -eq 0 ] && [ -x "$worker" ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  {
    echo "install-system-deps: $( [ "$(id -u)" != 0 ] && echo 'not root' || echo 'no apt-get' ): installing nothing. Missing:"
    for i in "${!need[@]}"; do echo "  - ${need[$i]}: ${why[$i]}"; done
    [ -x "$worker" ] || echo "  - mediasoup-worker (Debian experimental): audio/video is disabled; everything else runs"
    echo "  To install them: sudo bash scripts/install-system-deps.sh"
  } >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# The machine's own Debian mirror (the first deb URI in its apt configuration, one-line or deb822 format),
# never a hard-coded address: machines behind a proxy or a local mirror must keep using theirs.
debian_mirror() {
  { grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed -E 's/\[[^]]*\]//' | awk '{print $2}'
    grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
  } | grep -E '/debian/?$' | grep -v security | head -1
}
if [ ! -x "$worker" ] && ! grep -qsE '[[:space:]]experimental([[:space:]]|$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
  mirror="$(debian_mirror)"
  if [ -n "$mirror" ]; then
    echo "install-system-deps: adding the experimental suite of $mirror (only mediasoup-worker is taken from it)"
    echo "deb ${mirror%/} experimental main" > /etc/apt/sources.list.d/experimental.list
  else
    echo "install-system-deps: no Debian mirror in /etc/apt; cannot add the experimental suite for mediasoup-worker" >&2
  fi
fi
apt-get update -qq || true
# Debian's postgresql package creates and starts a cluster `main` on port 5432 unless told not to: the tests
# start their own throwaway clusters (scripts/pg-throwaway.sh), so no server is left running on the machine.
if [[ " ${need[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  mkdir -p /etc/postgresql-common && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" || echo "install-system-deps: could not install ${need[*]}" >&2
fi
if [ ! -x "$worker" ]; then
  apt-get install -y -qq --no-install-recommends -t experimental mediasoup-worker || echo "install-system-deps: mediasoup-worker unavailable; A/V will be disabled" >&2
fi
exit 0
