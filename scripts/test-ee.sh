#!/usr/bin/env bash
# Check the example execution environment, docs/awx/execution-environment.yml (`make test-ee`).
#
# 1. Builds the collection into .cache/ee/build and copies it, with docs/awx/execution-environment.yml and
#    docs/awx/requirements.yml, into .cache/ee/src, as a user would; the tarball's name must be the one the
#    example refers to (it names galaxy.yml's version).
# 2. Runs `ansible-builder create` there (no container runtime needed) into .cache/ee/context and checks the
#    context: the Containerfile, the tarball under _build/collections/ and the requirements.yml that installs
#    it from /build/collections/.
# 3. Replays the image's galaxy and builder stages without a container: installs the collection as
#    requirements.yml says (with /build read as the context's _build) into .cache/ee/collections, runs the
#    context's own _build/scripts/introspect.py on it, and checks that the Python requirements it would
#    install carry `requests` with the minimum from requirements.txt and the system packages carry qemu-utils
#    and qemu-img from bindep.txt.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv="$repo/.venv"
root="$repo/.cache/ee"
example="$repo/docs/awx/execution-environment.yml"

fail() { echo "error: $*" >&2; exit 1; }

rm -rf "$root"
mkdir -p "$root/build" "$root/src" "$root/collections" "$root/introspected"
(cd "$repo" && "$venv/bin/ansible-galaxy" collection build --force --output-path "$root/build" >/dev/null)
tarball=$(basename "$(ls "$root"/build/nvidia-air-*.tar.gz)")
grep -q "src: $tarball\$" "$example" ||
    fail "$example does not install $tarball (galaxy.yml's version); update the tarball name there and in requirements.yml"
cp "$root/build/$tarball" "$example" "$repo/docs/awx/requirements.yml" "$root/src/"

echo "==> ansible-builder create ($("$venv/bin/ansible-builder" --version)) on docs/awx/execution-environment.yml"
(cd "$root/src" && "$venv/bin/ansible-builder" create -f execution-environment.yml -c "$root/context" \
    --output-filename Containerfile >"$root/create.log" 2>&1) || { cat "$root/create.log" >&2; fail "ansible-builder create failed"; }
context="$root/context"
[ -f "$context/Containerfile" ] || fail "no Containerfile in $context"
[ -f "$context/_build/collections/$tarball" ] || fail "the context does not carry _build/collections/$tarball"
grep -q "name: /build/collections/$tarball" "$context/_build/requirements.yml" ||
    fail "the context's requirements.yml does not install /build/collections/$tarball"
grep -q "ansible-galaxy collection install .*-r requirements.yml" "$context/Containerfile" ||
    fail "the Containerfile does not install the collections of requirements.yml"

# The galaxy stage: `COPY _build /build`, then ansible-galaxy collection install -r requirements.yml.
sed "s#/build/#$context/_build/#" "$context/_build/requirements.yml" >"$root/requirements-local.yml"
ANSIBLE_COLLECTIONS_PATH="$root/collections" \
    "$venv/bin/ansible-galaxy" collection install -r "$root/requirements-local.yml" -p "$root/collections" >/dev/null
# The builder stage: the context's introspect.py collects what the installed collections declare.
"$venv/bin/python" "$context/_build/scripts/introspect.py" introspect --sanitize "$root/collections" \
    --write-pip "$root/introspected/requirements.txt" --write-bindep "$root/introspected/bindep.txt" >/dev/null

minimum=$(grep -E '^requests' "$repo/requirements.txt" | tr -d ' ')
if [ -z "$minimum" ] || [ "$minimum" = requests ]; then fail "requirements.txt declares no minimum requests version"; fi
echo "==> the image would install:"
sed 's/^/    /' "$root/introspected/requirements.txt" "$root/introspected/bindep.txt"
grep -qE "^${minimum//./\\.}( |\$)" "$root/introspected/requirements.txt" ||
    fail "the execution environment's Python requirements lack $minimum"
grep -qE '^qemu-utils \[platform:dpkg\]' "$root/introspected/bindep.txt" ||
    fail "the execution environment's system packages lack qemu-utils [platform:dpkg]"
grep -qE '^qemu-img \[platform:rpm\]' "$root/introspected/bindep.txt" ||
    fail "the execution environment's system packages lack qemu-img [platform:rpm]"
echo "==> test-ee: the context installs $tarball, with $minimum and qemu-utils / qemu-img"
