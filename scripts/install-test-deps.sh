#!/usr/bin/env bash
# Installs the external programs breakerd's tests drive, when they are
# missing. Idempotent; uses apt only when running as root on Debian.
set -u
declare -A pkg_of=(
  [promtool]=prometheus
  [prometheus]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [chromium]=chromium
)
missing=()
for bin in "${!pkg_of[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("${pkg_of[$bin]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} (not root or no apt); tests that need them will skip" >&2
  exit 0
fi
echo "install-test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
  echo "install-test-deps: apt-get install ${missing[*]} failed; tests that need them will skip" >&2
# Debian's redis-server, prometheus and prometheus-alertmanager packages
# start services where an init system runs; tests start their own, on
# ports they pick.
exit 0
