#!/usr/bin/env bash
# Build the collection and import it the way Galaxy does on upload (`make test-galaxy`).
#
# 1. Makes .cache/galaxy-importer/venv with the pinned tests/artifact/requirements-galaxy-importer.txt
#    (its own venv: galaxy-importer needs attrs < 24, .venv has a newer one). It is rebuilt when that
#    file changes, and reused otherwise.
# 2. Builds the collection into .cache/galaxy-importer/build (not .cache/build, which `make build` owns,
#    so both can run at the same time) and runs tests/artifact/check_artifact.py on the tarball
#    (development paths, placeholders, links that do not resolve inside the artifact).
# 3. Runs `python -m galaxy_importer.main TARBALL` with tests/artifact/galaxy-importer.cfg (ansible-doc,
#    ansible-lint production profile, flake8, changelog, tags) from a scratch directory (it writes
#    importer_result.json into its working directory) and fails if the import fails or logs any
#    WARNING, ERROR or CRITICAL line: what Galaxy would show on the collection's import log.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
root="$repo/.cache/galaxy-importer"
venv="$root/venv"
requirements="$repo/tests/artifact/requirements-galaxy-importer.txt"
stamp="$venv/.requirements.sha256"

want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    py=$(bash "$repo/scripts/find-python.sh")
    echo "==> creating $venv with $py (pinned galaxy-importer; log: $root/install.log)"
    rm -rf "$venv"
    mkdir -p "$root"
    "$py" -m venv "$venv"
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$requirements" >"$root/install.log" 2>&1; then
        grep -v "is ignored: it is neither a file nor a directory" "$root/install.log" | tail -n 30 >&2
        echo "error: installing $requirements failed" >&2
        exit 1
    fi
    echo "$want" >"$stamp"
fi

rm -rf "$root/build" "$root/run"
mkdir -p "$root/build" "$root/run"
(cd "$repo" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$root/build" >/dev/null)
tarball=$(ls "$root"/build/nvidia-air-*.tar.gz)
echo "==> built $tarball"
"$venv/bin/python" "$repo/tests/artifact/check_artifact.py" "$tarball"

echo "==> galaxy-importer $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))') on $(basename "$tarball")"
status=0
(
    cd "$root/run"
    # The importer finds ansible-doc and ansible-lint on PATH; ANSIBLE_* settings of the caller stay out.
    env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_CONFIG PATH="$venv/bin:$PATH" \
        GALAXY_IMPORTER_CONFIG="$repo/tests/artifact/galaxy-importer.cfg" \
        GALAXY_IMPORTER_TMP_ROOT_DIR="$root/run" \
        "$venv/bin/python" -m galaxy_importer.main "$tarball"
) >"$root/import.log" 2>&1 || status=$?
grep -v '^Loading ' "$root/import.log" || true

problems=$(grep -E '^(WARNING|ERROR|CRITICAL):' "$root/import.log" || true)
if [ "$status" -ne 0 ] || [ -n "$problems" ] || ! grep -q '^Importer processing completed successfully' "$root/import.log"; then
    echo "error: galaxy-importer reported problems (exit $status; full log: $root/import.log)" >&2
    exit 1
fi
echo "==> galaxy-importer: the artifact imports without errors or warnings"
