#!/usr/bin/env bash
# Installs what rproc needs, and only what is missing: the Debian tools the
# tests use as oracles (readelf, gdb-multiarch), the emulated core's library
# (libunicorn2), npm packages from the lock file, and the compiled dist/.
# Safe to run again; quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v readelf >/dev/null || need+=(binutils)
command -v gdb-multiarch >/dev/null || need+=(gdb-multiarch)
ldconfig -p 2>/dev/null | grep -q 'libunicorn\.so\.2' || need+=(libunicorn2)
# Debian's chromium: the browser the web view's tests drive through playwright-core (which downloads none).
command -v chromium >/dev/null || need+=(chromium)
# fuse3: fusermount3 and the FUSE tools for `rproc mount` (the server itself speaks the protocol over /dev/fuse).
command -v fusermount3 >/dev/null || need+=(fuse3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (${need[*]}); install them as root with apt-get" >&2
  fi
fi
# npm ci only when node_modules is absent or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: building dist/" >&2
npx --no-install tsc -p tsconfig.build.json
