#!/usr/bin/env bash
# Installs the Debian packages E-Cabinet's tests and A/V need, when missing and when we are root.
#   chromium + fonts  — Playwright e2e tests and benchmarks drive /usr/bin/chromium
#   poppler-utils     — pdfsig / pdftoppm verify and render minutes PDFs
#   unzip             — tests open meeting archives with the standard tool
#   mediasoup-worker  — the SFU worker 3.8.4, only packaged in Debian experimental
# Safe to run repeatedly; prints what it does and never fails the caller for an optional part.
#   --worker-only     only the mediasoup worker (what `npm start` needs)
set -u
need=()
if [ "${1:-}" != "--worker-only" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  dpkg -s fonts-noto-core >/dev/null 2>&1 || need+=(fonts-noto-core)
  command -v pdfsig >/dev/null 2>&1 || need+=(poppler-utils)
  command -v unzip >/dev/null 2>&1 || need+=(unzip)
fi
worker=/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker
if [ ${#need[@]} -eq 0 ] && [ -x "$worker" ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: not root or no apt-get; missing: ${need[*]} ${worker}" >&2
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
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" || echo "install-system-deps: could not install ${need[*]}" >&2
fi
if [ ! -x "$worker" ]; then
  apt-get install -y -qq --no-install-recommends -t experimental mediasoup-worker || echo "install-system-deps: mediasoup-worker unavailable; A/V will be disabled" >&2
fi
exit 0
