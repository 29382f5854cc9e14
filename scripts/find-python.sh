#!/usr/bin/env bash
# Print the path of a Python interpreter suitable for the dev venv (.venv).
#
# Order of preference:
#   1. $PYTHON, when set (e.g. `make setup PYTHON=/opt/python3.12/bin/python3`)
#   2. python3.12 on PATH -- only if it really runs (a pyenv shim for a version
#      that is not selected exists on PATH but fails with "command not found")
#   3. /root/.pyenv/versions/3.12*/bin/python3.12 and $PYENV_ROOT/versions/3.12*
#   4. `pyenv prefix <3.12.x>` when pyenv is installed
#   5. python3, when it is >= 3.12 (ansible-core 2.21, pinned in
#      requirements-dev.txt, requires Python >= 3.12)
# Diagnostics go to stderr; only the interpreter path goes to stdout.
set -euo pipefail

min_minor=12

works() {
    # $1: candidate interpreter; succeeds if it runs and is >= 3.$min_minor
    [ -n "$1" ] || return 1
    "$1" -c "import sys; sys.exit(0 if sys.version_info >= (3, $min_minor) else 1)" >/dev/null 2>&1
}

resolve() {
    # Print the real path of the interpreter (shims resolved by Python itself).
    "$1" -c 'import sys; print(sys.executable)'
}

if [ -n "${PYTHON:-}" ]; then
    if works "$PYTHON"; then
        resolve "$PYTHON"
        exit 0
    fi
    echo "error: PYTHON=$PYTHON does not run or is older than 3.$min_minor" >&2
    exit 1
fi

if command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' >/dev/null 2>&1 && works python3.12; then
    resolve python3.12
    exit 0
fi

shopt -s nullglob
for root in "${PYENV_ROOT:-}" /root/.pyenv "${HOME:-/root}/.pyenv"; do
    [ -n "$root" ] || continue
    # newest 3.12.x first
    for candidate in $(printf '%s\n' "$root"/versions/3.12*/bin/python3.12 | sort -rV); do
        if works "$candidate"; then
            echo "$candidate"
            exit 0
        fi
    done
done
shopt -u nullglob

if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.|$)' | sort -rV); do
        prefix=$(pyenv prefix "$version" 2>/dev/null || true)
        if works "$prefix/bin/python3.12"; then
            echo "$prefix/bin/python3.12"
            exit 0
        fi
    done
fi

if command -v python3 >/dev/null 2>&1; then
    version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo unknown)
    if works python3; then
        echo "note: Python 3.12 not found; falling back to python3 ($version)" >&2
        resolve python3
        exit 0
    fi
    echo "error: Python 3.12 not found, and python3 is $version;" \
         "ansible-core 2.21 (requirements-dev.txt) needs Python >= 3.$min_minor." >&2
else
    echo "error: no python3.12 and no python3 on PATH." >&2
fi
echo "hint: install Python 3.12 (e.g. apt-get install python3.12 or pyenv install 3.12)," \
     "or run: make setup PYTHON=/path/to/python3.12" >&2
exit 1
