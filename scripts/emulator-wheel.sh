#!/usr/bin/env bash
# emulator-wheel: build the Air API emulator (tests/air_emulator) as a wheel of its own into $1 (default
# .cache/emulator-wheel), for users who run it in their own CI (README.md, "Testing your playbooks").
# It is built from a scratch copy of the source: pip builds in the source tree otherwise and would leave
# build/ and *.egg-info behind.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/.cache/emulator-wheel}
python=${PYTHON:-$root/.venv/bin/python}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/air_emulator"
cp "$root/tests/air_emulator/pyproject.toml" "$root/tests/air_emulator/README.md" "$scratch/air_emulator/"
cp -R "$root/tests/air_emulator/src" "$scratch/air_emulator/src"
find "$scratch/air_emulator/src" \( -name '__pycache__' -o -name '*.egg-info' \) -prune -exec rm -rf {} +
rm -rf "$out" && mkdir -p "$out"
if ! "$python" -m pip wheel --disable-pip-version-check --no-deps -q -w "$out" "$scratch/air_emulator" \
        >"$scratch/pip.log" 2>&1; then
    cat "$scratch/pip.log" >&2
    echo "error: building the emulator wheel failed" >&2
    exit 1
fi
wheel=$(ls "$out"/air_emulator-*.whl)
echo "==> emulator wheel: $wheel"
