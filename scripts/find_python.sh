#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, or explain what to install and fail.
# Order: python3.10 on PATH (if it really runs), then pyenv's 3.10.x, then common locations.
set -u
try() { "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo "$1"; exit 0; }; }
if [ -n "${SAFEMIG_PYTHON:-}" ]; then try "$SAFEMIG_PYTHON"; fi
if command -v python3.10 >/dev/null 2>&1; then try "$(command -v python3.10)"; fi
root="${PYENV_ROOT:-}"
[ -z "$root" ] && command -v pyenv >/dev/null 2>&1 && root="$(pyenv root 2>/dev/null)"
[ -z "$root" ] && root="$HOME/.pyenv"
for p in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -Vr); do try "$p"; done
for p in /usr/bin/python3.10 /usr/local/bin/python3.10 /opt/python3.10/bin/python3.10; do [ -x "$p" ] && try "$p"; done
cat >&2 <<'MSG'
ERROR: Python 3.10 was not found. Rasa 3.6 runs on Python 3.10 at most.
Looked for: $SAFEMIG_PYTHON, python3.10 on PATH, pyenv's versions/3.10.*, /usr/bin/python3.10.
Install one of:
  - pyenv:   pyenv install 3.10   (then run make again)
  - Debian/Ubuntu: apt-get install python3.10 python3.10-venv (where your release has it)
  - or point SAFEMIG_PYTHON at a Python 3.10 interpreter.
MSG
exit 1
