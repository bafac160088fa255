#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies (requirements.lock).
set -euo pipefail
cd "$(dirname "$0")/.."

python=$(scripts/find-python.sh)
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
  echo "bootstrap: .venv is not Python 3.10; recreating it"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $python"
  "$python" -m venv .venv
fi
echo "bootstrap: installing pinned dependencies (first time: several minutes)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.3.1"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
.venv/bin/python -m pip check
touch .venv/.installed
