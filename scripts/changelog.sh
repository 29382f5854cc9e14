#!/usr/bin/env bash
# Keep CHANGELOG.rst and changelogs/changelog.yaml current with the fragments (antsibull-changelog).
#
#   scripts/changelog.sh           `make changelog`: lint the fragments, then release them into the version
#                                  in galaxy.yml (antsibull-changelog release --update-existing: a version
#                                  that is already in changelog.yaml gains the new fragments and keeps its
#                                  date) and regenerate CHANGELOG.rst; the fragments are then removed
#   scripts/changelog.sh --check   `make test-changelog`: the same in a scratch copy
#                                  (.cache/changelog-check/ansible_collections/nvidia/air), then fail if
#                                  CHANGELOG.rst, changelog.yaml or the fragments directory differ from the
#                                  repository's: a fragment that was added without `make changelog`, or a
#                                  hand-edited CHANGELOG.rst
#
# antsibull-changelog lists new modules itself (it loads them through ansible-doc from
# ANSIBLE_COLLECTIONS_PATH, which the copy provides); new roles and playbooks come from the fragments'
# "add object.role" and "add object.playbook" sections.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv="$repo/.venv"
mode=${1:-update}

copy_root="$repo/.cache/changelog-check"
if [ "$mode" = --check ]; then
    work="$copy_root/ansible_collections/nvidia/air"
    rm -rf "$copy_root"
    mkdir -p "$work"
    # What antsibull-changelog reads: the metadata, the plugins it lists, the changelog and its fragments.
    parts=(galaxy.yml meta plugins changelogs)
    if [ -f "$repo/CHANGELOG.rst" ]; then parts+=(CHANGELOG.rst); fi
    (cd "$repo" && tar -cf - "${parts[@]}") | tar -xf - -C "$work"
    rm -f "$work/changelogs/.plugin-cache.yaml"
    collections_path="$copy_root"
else
    work="$repo"
    collections_path="$repo/collections"
fi

version=$("$venv/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$work/galaxy.yml")
date=$("$venv/bin/python" -c '
import datetime, sys, yaml
releases = (yaml.safe_load(open(sys.argv[1])) or {}).get("releases") or {}
print((releases.get(sys.argv[2]) or {}).get("release_date") or datetime.date.today().isoformat())' \
    "$work/changelogs/changelog.yaml" "$version")

cd "$work"
export ANSIBLE_COLLECTIONS_PATH="$collections_path"
export PATH="$venv/bin:$PATH"  # antsibull-changelog runs ansible-doc
"$venv/bin/antsibull-changelog" lint
if [ -n "$(ls -A changelogs/fragments 2>/dev/null)" ]; then
    "$venv/bin/antsibull-changelog" release --version "$version" --date "$date" --update-existing --reload-plugins
else
    "$venv/bin/antsibull-changelog" generate --reload-plugins
fi
rm -f changelogs/.plugin-cache.yaml

if [ "$mode" != --check ]; then
    echo "==> CHANGELOG.rst and changelogs/changelog.yaml hold $version ($date)"
    exit 0
fi
status=0
for path in CHANGELOG.rst changelogs/changelog.yaml; do
    if ! diff -u "$repo/$path" "$work/$path" >&2; then
        status=1
    fi
done
pending=$(ls -A "$repo/changelogs/fragments" 2>/dev/null || true)
if [ -n "$pending" ]; then
    echo "error: fragments not released into changelog.yaml: $(echo "$pending" | tr '\n' ' ')" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "error: CHANGELOG.rst or changelogs/changelog.yaml is not current; run \`make changelog\` and commit the result" >&2
    exit 1
fi
echo "==> CHANGELOG.rst and changelogs/changelog.yaml are current ($version, $date)"
