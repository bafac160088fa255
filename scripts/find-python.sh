#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 supports Python < 3.11), or explains and fails.
# Order: $PYTHON, python3.10 on PATH, pyenv's 3.10.x, ~/.pyenv/versions/3.10*, /usr/bin/python3.10.
set -euo pipefail

is_310() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -t. -k3,3nr); do
    candidates+=("$(pyenv root)/versions/$v/bin/python")
  done
fi
for d in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*; do [ -d "$d" ] && candidates+=("$d/bin/python"); done
candidates+=(/usr/bin/python3.10 /usr/local/bin/python3.10)

for c in "${candidates[@]}"; do
  if is_310 "$c"; then echo "$c"; exit 0; fi
done

cat >&2 <<'MSG'
error: no Python 3.10 interpreter found.
Rasa Open Source 3.6 needs Python 3.10 (it does not support 3.11 or newer). Install one, e.g.
  pyenv install 3.10.13        (or: apt-get install python3.10 python3.10-venv)
or point PYTHON at it:  make run PYTHON=/path/to/python3.10
MSG
exit 1
