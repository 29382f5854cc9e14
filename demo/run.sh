#!/usr/bin/env bash
# Runs demo/demo.yml twice (the second run must change nothing) in a scratch directory that is removed
# afterwards. `make demo` calls it under air-emulator-run (which sets AIR_API_URL to the emulator), or
# directly when AIR_API_URL points at a real Air API.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -z "${AIR_API_URL:-}" ]; then
    echo "demo: AIR_API_URL is not set; run 'make demo'" >&2
    exit 2
fi
if [ -z "${AIR_EMULATOR_URL:-}" ] && [ -z "${AIR_API_TOKEN:-}" ]; then
    echo "demo: AIR_API_URL points at a real Air API; set AIR_API_TOKEN (and AIR_PARTNER_API_TOKEN, AIR_PARTNER_ORG)" >&2
    exit 2
fi

AIR_DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nvidia-air-demo.XXXXXX")
export AIR_DEMO_DIR
# Upload journals and hash caches of the demo stay in the scratch directory too.
export NVIDIA_AIR_CACHE_DIR="$AIR_DEMO_DIR/cache"
trap 'rm -rf "$AIR_DEMO_DIR"' EXIT
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

# On the emulator the storage answers at loopback speed; slow each part down so the upload is visibly in
# flight (a progress line a second) before validation, as it is over a real link.
if [ -n "${AIR_EMULATOR_URL:-}" ]; then
    curl -fsS -X POST "$AIR_EMULATOR_URL/_emulator/faults/" -H 'Content-Type: application/json' \
        -d '{"action": "delay", "delay": 1.5, "method": "PUT", "path": "/_s3/", "count": 0}' >/dev/null
fi

for round in 1 2; do
    echo
    echo "=== demo run $round of 2$([ "$round" = 2 ] && echo ': the same play again, nothing may change')"
    AIR_DEMO_ROUND=$round ansible-playbook demo/demo.yml
done
