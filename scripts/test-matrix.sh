#!/usr/bin/env bash
# The version matrix (`make test-matrix`): the module unit tests, the README playbook and the smoke target (every
# module of the action group and every role once, tests/integration/targets/smoke) on the oldest supported
# ansible-core, 2.16, with Python 3.11. `make test-units` and `make test-integration` cover the newest
# (.venv: ansible-core 2.21, Python 3.12).
#
# 1. Makes .cache/venv-2.16 with Python 3.11 (python3.11 on PATH, else pyenv's newest 3.11) and the pinned
#    tests/matrix/requirements-2.16.txt; it is rebuilt when that file changes and reused otherwise.
# 2. ansible-test units (2.16) --venv --python 3.11 tests/unit/plugins/modules/ in its own copy
#    (.cache/ansible-test-2.16/units/...).
# 3. ansible-test integration (2.16) smoke through scripts/ansible-test-integration.sh, in its own copy and
#    with its own emulator (.cache/ansible-test-2.16/integration), stopped afterwards whatever the outcome.
# 4. The README's first playbook as shipped (tests/matrix/readme_playbook.py), twice, on 2.16 and the newest.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
root="$repo/.cache/ansible-test-2.16"
venv="$repo/.cache/venv-2.16"
requirements="$repo/tests/matrix/requirements-2.16.txt"
stamp="$venv/.requirements.sha256"
python_minor=3.11

find_python() {
    local candidate
    if command -v "python$python_minor" >/dev/null 2>&1 && "python$python_minor" -c '' 2>/dev/null; then
        "python$python_minor" -c 'import sys; print(sys.executable)'
        return 0
    fi
    for candidate in $(printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}"/versions/$python_minor.*/bin/python$python_minor | sort -rV); do
        if [ -x "$candidate" ] && "$candidate" -c '' 2>/dev/null; then echo "$candidate"; return 0; fi
    done
    return 1
}

want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    py=$(find_python) || {
        echo "error: Python $python_minor not found (python$python_minor on PATH or pyenv); install it, e.g. pyenv install $python_minor" >&2
        exit 1
    }
    echo "==> creating $venv with $py (ansible-core 2.16; log: $venv.log)"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements" >"$venv.log" 2>&1; then
        grep -v "is ignored: it is neither a file nor a directory" "$venv.log" | tail -n 30 >&2
        echo "error: installing $requirements failed" >&2
        exit 1
    fi
    echo "$want" >"$stamp"
fi
echo "==> $("$venv/bin/ansible" --version 2>&1 | sed -n 1p), $("$venv/bin/python" --version)"

echo "==> test-matrix: ansible-test units --venv --python $python_minor tests/unit/plugins/modules/ (ansible-core 2.16)"
ANSIBLE_TEST_VENV="$venv" ANSIBLE_TEST_COPY="$root/units/ansible_collections/nvidia/air" \
    bash "$repo/scripts/ansible-test.sh" units --venv --python "$python_minor" tests/unit/plugins/modules/

echo "==> test-matrix: ansible-test integration smoke (ansible-core 2.16, Python $python_minor)"
status=0
ANSIBLE_TEST_VENV="$venv" AIR_IT_ROOT="$root/integration" bash "$repo/scripts/ansible-test-integration.sh" smoke || status=$?
ANSIBLE_TEST_VENV="$venv" AIR_IT_ROOT="$root/integration" bash "$repo/scripts/ansible-test-integration.sh" --stop-emulator
[ "$status" = 0 ] || exit "$status"

echo "==> test-matrix: the README's first playbook, run twice, on ansible-core 2.16 and on the newest"
"$repo/.venv/bin/python" "$repo/tests/matrix/readme_playbook.py" "$venv/bin/ansible-playbook"
"$repo/.venv/bin/python" "$repo/tests/matrix/readme_playbook.py" "$repo/.venv/bin/ansible-playbook"
