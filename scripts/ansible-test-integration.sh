#!/usr/bin/env bash
# Run `ansible-test integration` for nvidia.air against the Air API emulator.
#
#   scripts/ansible-test-integration.sh                     every target
#   scripts/ansible-test-integration.sh air_image_share -v  one target, more output
#   scripts/ansible-test-integration.sh --stop-emulator     only stop a leftover emulator (also one
#                                                           a by-hand ansible-test run started)
#
# 1. Stops an emulator left over from an earlier run and clears the run directory.
# 2. Mirrors the collection with scripts/ansible-test.sh (tracked + untracked, not
#    ignored files) into its own copy,
#      .cache/ansible-test-integration/ansible_collections/nvidia/air/
#    (not the copy sanity/units use, so both can run at the same time).
# 3. Writes tests/integration/integration_config.yml into that copy with the path of
#    .venv/bin/air-emulator and the run directory. ansible-test passes only a few
#    environment variables (HOME, PATH, ...) to the playbooks, but it loads that file
#    as vars_files for every role target, so the setup_air_emulator target finds the
#    executable and the state file (emulator.json: pid, URL, data dir) there.
# 4. Runs ansible-test integration --local with .venv/bin/python as the controller and
#    target interpreter (the modules need `requests`, which the dev venv has; an
#    ansible-test --venv environment would not). The first target's setup_air_emulator
#    dependency starts the emulator; the others reuse it.
# 5. After a successful run, checks that the targets left nothing behind on the
#    emulator (no images, no open multipart uploads).
# 6. Stops the emulator (SIGTERM, then SIGKILL) and removes its data whatever the
#    outcome (trap on EXIT), and exits with ansible-test's status.
#
# Environment:
#   ANSIBLE_TEST_VENV=DIR    virtual environment whose ansible-test and python run the targets (default
#                            .venv; `make test-matrix` uses .cache/venv-2.16)
#   AIR_IT_ROOT=DIR          scratch root: the copy, the emulator's run directory (default
#                            .cache/ansible-test-integration)
#   AIR_IT_RUNS=N            run the selected targets N times in a row against the same
#                            emulator (default 1); 2 shows that a second run of every
#                            target passes again on the state the first one left
#   AIR_IT_KEEP_EMULATOR=1   leave the emulator running after the run (debugging);
#                            stop it later with --stop-emulator
#
#   scripts/ansible-test-integration.sh --shard K/N [ARGS]   only the K-th (0-based) of N shards of the
#                            targets (hidden ones left out; dealt by tests/integration/target-seconds.txt), in a scratch
#                            root of its own (.cache/ansible-test-integration-K-of-N) with its own
#                            emulator: `make test-integration` runs the N shards side by side.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

if [ "${1:-}" = "--shard" ]; then
    shard=${2:?--shard needs K/N}
    shift 2
    index=${shard%/*} count=${shard#*/}
    # Targets are dealt to the shards by their measured cost (tests/integration/target-seconds.txt; longest
    # first, each to the shard with the least so far), so the shards end together; a target not listed there
    # counts as 120 s.
    mapfile -t targets < <("$repo/.venv/bin/python" - "$repo/tests/integration" "$index" "$count" <<'PY'
import os
import sys

root, index, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seconds = {}
with open(os.path.join(root, "target-seconds.txt")) as listing:
    for line in listing:
        fields = line.split("#", 1)[0].split()
        if len(fields) == 2:
            seconds[fields[0]] = float(fields[1])
names = []
for name in sorted(os.listdir(os.path.join(root, "targets"))):
    try:
        with open(os.path.join(root, "targets", name, "aliases")) as aliases:
            if "hidden" in aliases.read().split():
                continue
    except OSError:
        pass
    names.append(name)
loads, shards = [0.0] * count, [[] for _ in range(count)]
for name in sorted(names, key=lambda n: (-seconds.get(n, 120.0), n)):
    lightest = loads.index(min(loads))
    loads[lightest] += seconds.get(name, 120.0)
    shards[lightest].append(name)
print("\n".join(sorted(shards[index])))
PY
)
    set -- "${targets[@]}" "$@"
    AIR_IT_ROOT="${AIR_IT_ROOT:-$repo/.cache/ansible-test-integration-$index-of-$count}"
    echo "==> integration shard $shard: ${targets[*]}" >&2
fi
# ansible-test and the Python that runs the modules come from ANSIBLE_TEST_VENV (default .venv); the
# emulator always from .venv.
venv="${ANSIBLE_TEST_VENV:-$repo/.venv}"
emulator_bin="$repo/.venv/bin/air-emulator"
root="${AIR_IT_ROOT:-$repo/.cache/ansible-test-integration}"
dest="$root/ansible_collections/nvidia/air"
run_dir="$root/emulator"
state_file="$run_dir/emulator.json"

# Where setup_air_emulator records an emulator it started without integration_config.yml
# (ansible-test run by hand): its defaults/main.yml.
fallback_run_dir="$HOME/.cache/nvidia.air-integration/emulator"

# Stops the emulator recorded in <run dir>/emulator.json (only if that pid really is an
# air-emulator) and removes the run directory.
stop_emulator() {
    local dir=${1:-$run_dir} pid
    [ -f "$dir/emulator.json" ] || return 0
    pid=$("$venv/bin/python" -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["pid"]))' "$dir/emulator.json" 2>/dev/null || true)
    if [ -n "$pid" ] && grep -q air-emulator "/proc/$pid/cmdline" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            grep -q air-emulator "/proc/$pid/cmdline" 2>/dev/null || break
            sleep 0.2
        done
        if grep -q air-emulator "/proc/$pid/cmdline" 2>/dev/null; then
            echo "==> air-emulator (pid $pid) ignored SIGTERM; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "==> stopped air-emulator (pid $pid)" >&2
    fi
    rm -rf "$dir"
}

if [ "${1:-}" = "--stop-emulator" ]; then
    stop_emulator "$run_dir"
    stop_emulator "$fallback_run_dir"
    exit 0
fi

if [ ! -x "$venv/bin/ansible-test" ] || [ ! -x "$emulator_bin" ]; then
    echo "error: $venv/bin/ansible-test or $emulator_bin missing; run make setup first" >&2
    exit 1
fi

# shellcheck disable=SC2317  # only called by the EXIT trap below
on_exit() {
    local status=$?
    if [ "${AIR_IT_KEEP_EMULATOR:-}" = 1 ]; then
        echo "==> AIR_IT_KEEP_EMULATOR=1: emulator left running ($state_file)" >&2
    else
        stop_emulator
    fi
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A clean state: no emulator or data from an earlier run.
stop_emulator
mkdir -p "$run_dir"

# Mirror the collection (and print the ansible-test version) with the shared sync script.
ANSIBLE_TEST_COPY="$dest" ANSIBLE_TEST_VENV="$venv" bash "$repo/scripts/ansible-test.sh" --version >/dev/null

cat >"$dest/tests/integration/integration_config.yml" <<EOF
---
# Written by scripts/ansible-test-integration.sh for this run; not part of the repository.
air_emulator_bin: "$emulator_bin"
# The collection under test (the smoke target reads its meta/runtime.yml, roles and plugins).
air_collection_root: "$dest"
air_emulator_run_dir: "$run_dir"
EOF

# Nothing of the targets may be left on the emulator: no image (every target deletes its
# own) and no open multipart upload. Claimed shares stay as records by design.
check_leftovers() {
    [ -f "$state_file" ] || return 0
    "$venv/bin/python" - "$state_file" <<'PY'
import json, sys, urllib.request
url = json.load(open(sys.argv[1]))["url"]
with urllib.request.urlopen(url + "/_emulator/state/", timeout=10) as answer:
    state = json.load(answer)
print("==> emulator after the run: %d images, %d shares, %d open uploads, %d pending jobs"
      % (state["images"], state["shares"], len(state["uploads"]), state["pending_jobs"]), file=sys.stderr)
if state["images"] or state["uploads"]:
    print("error: the targets left images or open uploads behind", file=sys.stderr)
    sys.exit(1)
PY
}

# Prefixes ansible-test's "Running <target> integration test role" lines with the elapsed seconds.
stamp_targets() {
    local began=$1 line
    while IFS= read -r line; do
        case $line in
            "Running "*" integration test role") printf '[%4d s] %s\n' "$(( $(date +%s) - began ))" "$line" ;;
            *) printf '%s\n' "$line" ;;
        esac
    done
}

cd "$dest"
runs=${AIR_IT_RUNS:-1}
start=$(date +%s)
status=0
for run in $(seq 1 "$runs"); do
    [ "$runs" -gt 1 ] && echo "==> run $run of $runs" >&2
    # Each target's start is stamped with the seconds since the run began (how the shards are balanced).
    PATH="$venv/bin:$PATH" "$venv/bin/ansible-test" integration --local --python-interpreter "$venv/bin/python" \
        "$@" 2>&1 | stamp_targets "$start" || status=$?
    [ "$status" -eq 0 ] || break
    check_leftovers || { status=1; break; }
done
echo "==> ansible-test integration finished in $(( $(date +%s) - start )) s (exit $status)" >&2
exit "$status"
