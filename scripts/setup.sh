#!/usr/bin/env bash
# Installs what Switchboard needs on Debian 12 (run as root): Debian packages, the Python venv,
# the browser bundle, and Asterisk 22 in a cached chroot. Each step is skipped when already done,
# so a second run takes seconds.   Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-}
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

PKGS=(debootstrap redis-server python3 python3-venv python3-dev gcc nodejs npm git ca-certificates sox)
if [ "$MODE" = "--test" ]; then PKGS+=(chromium sip-tester postgresql); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A Node.js or Python installed outside Debian's packages counts as present.
filtered=()
for p in "${missing[@]}"; do
  case "$p" in
    nodejs) command -v node >/dev/null || filtered+=("$p") ;;
    npm) command -v npm >/dev/null || filtered+=("$p") ;;
    python3|python3-venv|python3-dev) command -v python3 >/dev/null && python3 -c 'import venv' 2>/dev/null || filtered+=("$p") ;;
    *) filtered+=("$p") ;;
  esac
done
if [ ${#filtered[@]} -gt 0 ]; then
  say "Installing Debian packages: ${filtered[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${filtered[@]}"
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python >= 3.11 is required" >&2; exit 1
fi
EXAMPLE=examples/switchboard-example-plugin  # a third party's plugin, its own distribution: the tests use it
STAMP=.venv/.installed-$( (cat setup.cfg pyproject.toml; echo "$MODE"; [ "$MODE" != "--test" ] \
  || cat "$EXAMPLE"/pyproject.toml "$EXAMPLE"/*/*.py) | sha1sum | cut -c1-12)
if [ ! -f "$STAMP" ]; then
  say "Creating the Python environment (.venv)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[test,postgres]"
  if [ "$MODE" = "--test" ]; then .venv/bin/pip install -q "./$EXAMPLE"; fi
  rm -f .venv/.installed-*
  touch "$STAMP"
fi

BUNDLE_STAMP=web/static/vendor/.built-$(cat web/package-lock.json web/build.sh | sha1sum | cut -c1-12)
if [ ! -f "$BUNDLE_STAMP" ]; then
  say "Bundling the web phone's JavaScript (JsSIP, socket.io-client) from npm"
  bash web/build.sh
  rm -f web/static/vendor/.built-*
  touch "$BUNDLE_STAMP"
fi

say "Asterisk 22 (cached chroot)"
.venv/bin/switchboard install-asterisk
