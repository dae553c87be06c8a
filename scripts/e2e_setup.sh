#!/usr/bin/env bash
# The end-to-end test environment (tests/e2e, bench/telegram_e2e.py), idempotent:
#   - redis-server (Debian package; installed with apt-get when missing and we are root),
#   - .e2e-venv: a virtualenv of the machine's python3 (>= 3.11, telemelya needs it) with the
#     telemelya Bot API emulator and moto[server] (its S3 store).
# Quick no-op when everything is already there. SAFEMIG_E2E_VENV overrides the venv path.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SAFEMIG_E2E_VENV:-.e2e-venv}"
PYTHON="${SAFEMIG_E2E_PYTHON:-python3}"
PACKAGES=("telemelya==0.2.*" "moto[server]")
STAMP="$VENV/.installed-telemelya-0.2"

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "e2e: installing redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  else
    echo "e2e: redis-server is missing; install it (Debian: sudo apt-get install redis-server)" >&2
    exit 1
  fi
fi

if [ -f "$STAMP" ] && [ -x "$VENV/bin/telemelya-server" ] && [ -x "$VENV/bin/moto_server" ]; then
  exit 0
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "e2e: telemelya needs Python >= 3.11; '$PYTHON' is $("$PYTHON" -V 2>&1 || echo missing)." >&2
  echo "     Set SAFEMIG_E2E_PYTHON=/path/to/python3.11 or newer." >&2
  exit 1
fi

# A half-made or broken venv (no working interpreter) is rebuilt from scratch.
if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  rm -rf "$VENV"
fi
echo "e2e: creating $VENV with $("$PYTHON" -V)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
rm -f "$STAMP"
"$VENV/bin/python" -m pip install --quiet "${PACKAGES[@]}"
"$VENV/bin/python" -c 'import telemelya.server.app, moto.server'
touch "$STAMP"
echo "e2e: ready"
