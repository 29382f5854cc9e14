#!/usr/bin/env bash
# test-emulator-install: the Air API emulator installed the two ways README.md ("Testing your playbooks") shows,
# each into a bare venv (nothing but pip and the emulator), then used as a user's CI uses it:
#   1. the wheel (make emulator-wheel): pip install it, `air-emulator-run -- ansible-playbook ...` runs
#      tests/emulator_install/playbook.yml with the collection as users install it (the built artifact,
#      ansible-galaxy collection install) against it;
#   2. pip install from the repository's subdirectory (git+file://<this repository>@HEAD#subdirectory=...,
#      the form README gives with the GitHub URL; it installs the committed HEAD): `air-emulator-run` starts
#      an emulator that answers the API.
# Everything lives under .cache/emulator-install (made afresh each run). ansible-playbook is the dev venv's:
# users bring their own Ansible.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$root/.cache/emulator-install
# The system's python3 (make puts .venv/bin first on PATH; a user's CI has no such venv).
python=${EMULATOR_INSTALL_PYTHON:-$(PATH=${PATH//$root\/.venv\/bin:/} command -v python3)}
start=$SECONDS
rm -rf "$work" && mkdir -p "$work"
cd "$work"  # nothing of the repository on sys.path: the venvs must import what they installed

pip_install() {  # venv, what
    local log
    log=$work/pip-$(basename "$1").log
    if ! "$1/bin/python" -m pip install --disable-pip-version-check -q "$2" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "error: pip install $2 into $1 failed (log: $log)" >&2
        exit 1
    fi
}

installed_from() {  # venv: where its air_emulator package lives (must be inside the venv)
    local where
    where=$("$1/bin/python" -c 'import air_emulator, os; print(os.path.dirname(air_emulator.__file__))')
    case "$where" in
        "$1"/*) ;;
        *) echo "error: $1 imports air_emulator from $where, not from its own site-packages" >&2; exit 1 ;;
    esac
}

echo "==> test-emulator-install: 1. the wheel, in a bare venv ($("$python" --version))"
bash "$root/scripts/emulator-wheel.sh" "$work/wheel"
"$python" -m venv "$work/venv-wheel"
pip_install "$work/venv-wheel" "$(ls "$work"/wheel/air_emulator-*.whl)"
installed_from "$work/venv-wheel"

echo "==> test-emulator-install: the collection as users install it (built artifact)"
ansible-galaxy collection build --force --output-path "$work/build" "$root" >/dev/null
# Without make's ANSIBLE_COLLECTIONS_PATH, which holds the working tree as nvidia.air (galaxy would skip it).
env -u ANSIBLE_COLLECTIONS_PATH ansible-galaxy collection install --force -p "$work/collections" \
    "$(ls "$work"/build/nvidia-air-*.tar.gz)" >/dev/null 2>&1
test -f "$work/collections/ansible_collections/nvidia/air/plugins/modules/air_image_info.py"

echo "==> test-emulator-install: air-emulator-run -- ansible-playbook tests/emulator_install/playbook.yml"
env -u AIR_API_URL AIR_API_TOKEN=nvapi-demo-token ANSIBLE_COLLECTIONS_PATH="$work/collections" \
    "$work/venv-wheel/bin/air-emulator-run" --validation-delay 0.2 -- \
    ansible-playbook -i localhost, "$root/tests/emulator_install/playbook.yml"

echo "==> test-emulator-install: 2. pip install from the repository's subdirectory tests/air_emulator"
"$python" -m venv "$work/venv-subdir"
pip_install "$work/venv-subdir" "git+file://$root@$(git -C "$root" rev-parse HEAD)#subdirectory=tests/air_emulator"
installed_from "$work/venv-subdir"
"$work/venv-subdir/bin/air-emulator-run" -- "$work/venv-subdir/bin/python" -c '
import os, requests
answer = requests.get(os.environ["AIR_API_URL"] + "/api/v3/images/", timeout=30,
                      headers={"Authorization": "Bearer nvapi-demo-token"})
assert answer.status_code == 200 and answer.json()["count"] == 0, answer.text
print("air-emulator-run: the emulator answers GET /api/v3/images/ at", os.environ["AIR_API_URL"])
'
echo "==> test-emulator-install: passed in $((SECONDS - start)) s"
