#!/usr/bin/env bash
# Installs what rproc needs: npm packages from the lock file, and the Debian
# tools the tests use as oracles (readelf, gdb-multiarch) and the emulated
# core's library (libunicorn2). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v readelf >/dev/null || need+=(binutils)
command -v gdb-multiarch >/dev/null || need+=(gdb-multiarch)
ldconfig -p 2>/dev/null | grep -q 'libunicorn\.so\.2' || need+=(libunicorn2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (${need[*]}); install them with apt-get as root" >&2
  fi
fi
npm ci --no-audit --no-fund >/dev/null
npm run build >/dev/null
