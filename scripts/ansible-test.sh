#!/usr/bin/env bash
# Run ansible-test on a copy of the collection laid out as ansible_collections/nvidia/air.
#
#   scripts/ansible-test.sh sanity --venv --python 3.12
#   scripts/ansible-test.sh units --venv --python 3.12 tests/unit/plugins/modules/
#   scripts/ansible-test.sh --prepare-user-state   only make ansible-test's per-user state (see below)
#
# ansible-test only works from a directory .../ansible_collections/<namespace>/<name>
# and resolves the physical working directory, so a symlink is not enough. This
# script mirrors what git would commit -- tracked files plus untracked files that
# are not ignored (`git ls-files -co --exclude-standard`) -- into
#   .cache/ansible-test/ansible_collections/nvidia/air/
# (stale files there are deleted; unchanged files are not copied again), then runs
# .venv/bin/ansible-test with the given arguments from that copy.
#
# The copy gets its own (commit-less) git repository: ansible-test asks git which
# files belong to the content, and without a .git in the copy it would find the
# repository's own .git further up, in which .cache/ is ignored (no files at all).
# In the copy every file is "untracked but not ignored", which is what
# `git ls-files --cached --others --exclude-standard` (ansible-test's query) lists.
#
# Before that it links the Python interpreters it finds into <copy root>/python-bin
# (first on PATH) and makes sure ansible-test's pip bootstrap script is cached (see
# below and scripts/ansible-test-get-pip.py).
#
# Environment:
#   ANSIBLE_TEST_COPY   destination (default: <repo>/.cache/ansible-test/ansible_collections/nvidia/air)
#   ANSIBLE_TEST_VENV   virtual environment whose ansible-test runs (default: <repo>/.venv; `make test-matrix`
#                       uses .cache/venv-2.16 for ansible-core 2.16)
#   PYENV_VERSION       when pyenv is installed and this is not set, the global version
#                       followed by every installed 3.9 - 3.14 is used to find python3.X.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
venv="${ANSIBLE_TEST_VENV:-$repo/.venv}"
dest="${ANSIBLE_TEST_COPY:-$repo/.cache/ansible-test/ansible_collections/nvidia/air}"

case "$dest" in
    */ansible_collections/nvidia/air) ;;
    *) echo "error: ANSIBLE_TEST_COPY must end in ansible_collections/nvidia/air (got $dest)" >&2; exit 1 ;;
esac

if [ ! -x "$venv/bin/ansible-test" ]; then
    echo "error: $venv/bin/ansible-test not found; run make setup first" >&2
    exit 1
fi

# Per-user state that ansible-test makes on first use, under ~/.ansible/test, made here once under a lock:
# several ansible-test runs start side by side under `make test` (sanity, integration shards, the matrix), and
# on a new machine each would make it at the same moment (ansible-test's ssh-keygen then fails on the key the
# other run has just written: "already exists. Overwrite (y/n)?").
#
# - ~/.ansible/test/id_rsa{,.pub}: the SSH key every ansible-test run loads (integration --local too), made
#   as ansible-test makes it (core_ci.SshKey: PEM, "RSA PRIVATE KEY" headers for paramiko).
# - ~/.ansible/test/cache/get_pip_<version>.py: the pip bootstrap script ansible-test downloads from
#   ci-files.testing.ansible.com into each virtual environment it creates; when that host cannot be reached,
#   scripts/ansible-test-get-pip.py (pip from the interpreter's ensurepip wheel installs the pinned pip from
#   the index).
# Files are written under temporary names and moved into place, so no run ever sees half a file.
prepare_user_state() {
    local base="$HOME/.ansible/test" pip_version get_pip url tmp
    mkdir -p "$base/cache"
    if [ ! -s "$base/id_rsa" ] || [ ! -s "$base/id_rsa.pub" ]; then
        command -v ssh-keygen >/dev/null 2>&1 || {
            echo "error: ssh-keygen not found (ansible-test needs it); install openssh-client" >&2
            return 1
        }
        tmp=$(mktemp -d "$base/.key.XXXXXX")
        ssh-keygen -m PEM -q -t rsa -N '' -f "$tmp/id_rsa"
        sed -E -i 's/(BEGIN|END) PRIVATE KEY/\1 RSA PRIVATE KEY/' "$tmp/id_rsa"
        mv -f "$tmp/id_rsa.pub" "$base/id_rsa.pub"
        mv -f "$tmp/id_rsa" "$base/id_rsa"
        rmdir "$tmp"
        echo "==> made ansible-test's SSH key ($base/id_rsa)" >&2
    fi
    pip_version=$(cd /tmp && "$venv/bin/python" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3"))["pip"])')
    get_pip="$base/cache/get_pip_${pip_version//./_}.py"
    if [ ! -s "$get_pip" ]; then
        url="https://ci-files.testing.ansible.com/ansible-test/get-pip-$pip_version.py"
        tmp=$(mktemp "$get_pip.XXXXXX")
        if "$venv/bin/python" -c '
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=15) as answer, open(sys.argv[2], "wb") as out:
    out.write(answer.read())' "$url" "$tmp" 2>/dev/null && [ -s "$tmp" ]; then
            echo "==> cached the pip $pip_version bootstrap script from $url" >&2
        else
            cp "$repo/scripts/ansible-test-get-pip.py" "$tmp"
            echo "==> $url is not reachable; using scripts/ansible-test-get-pip.py as the pip bootstrap ($get_pip)" >&2
        fi
        chmod 0644 "$tmp"
        mv -f "$tmp" "$get_pip"
    fi
}

prepare_user_state_once() {
    mkdir -p "$HOME/.ansible/test"
    exec 9>"$HOME/.ansible/test/.nvidia-air-setup.lock"
    flock 9
    prepare_user_state
    exec 9>&-
}

if [ "${1:-}" = "--prepare-user-state" ]; then
    prepare_user_state_once
    exit 0
fi

# ansible-test looks for python3.X on PATH (for --python 3.X and for the module-side
# versions of the compile and import tests) and runs it with a minimal environment.
# pyenv shims fail there (they need PYENV_VERSION, which ansible-test does not pass
# on), so every interpreter found is linked as python3.X into a directory put first on
# PATH. With pyenv, versions that are installed but not selected are found too.
pybin="${dest%/ansible_collections/nvidia/air}/python-bin"  # next to the copy: one per copy
mkdir -p "$pybin"
if [ -z "${PYENV_VERSION:-}" ] && command -v pyenv >/dev/null 2>&1; then
    versions=$(pyenv version-name 2>/dev/null | tr ':' '\n' || true)
    for minor in 9 10 11 12 13 14; do
        newest=$(pyenv versions --bare 2>/dev/null | grep -E "^3\.$minor\.[0-9]+$" | sort -V | tail -n 1 || true)
        [ -n "$newest" ] && versions="$versions"$'\n'"$newest"
    done
    PYENV_VERSION=$(printf '%s\n' "$versions" | awk 'NF && !seen[$0]++' | paste -sd: -)
    if [ -n "$PYENV_VERSION" ]; then export PYENV_VERSION; else unset PYENV_VERSION; fi
fi
for minor in 9 10 11 12 13 14; do
    exe=$(PATH="${PATH#"$pybin:"}" "python3.$minor" -c 'import sys; print(sys.executable)' 2>/dev/null || true)
    if [ -n "$exe" ] && [ -x "$exe" ]; then
        ln -sfn "$exe" "$pybin/.python3.$minor.$$"
        mv -f "$pybin/.python3.$minor.$$" "$pybin/python3.$minor"  # atomic: a parallel run keeps working
    else
        rm -f "$pybin/python3.$minor"
    fi
done
export PATH="$pybin:$PATH"

# Mirror the collection into $dest.
mkdir -p "$dest"
sync_py=$(cat <<'PY'
import os
import shutil
import stat
import sys

src_root, dest_root = sys.argv[1], sys.argv[2]
# Directories in the copy that belong to ansible-test / the copy itself.
KEEP = {".git", os.path.join("tests", "output")}

wanted = set()
copied = 0
for rel in sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\0"):
    if not rel:
        continue
    src = os.path.join(src_root, rel)
    if not os.path.lexists(src):  # tracked but deleted in the working tree
        continue
    wanted.add(rel)
    dst = os.path.join(dest_root, rel)
    s = os.lstat(src)
    try:
        d = os.lstat(dst)
    except FileNotFoundError:
        d = None
    if stat.S_ISLNK(s.st_mode):
        target = os.readlink(src)
        if d is not None and stat.S_ISLNK(d.st_mode) and os.readlink(dst) == target:
            continue
    elif d is not None and stat.S_ISREG(d.st_mode) and (d.st_size, d.st_mtime_ns, d.st_mode) == (
            s.st_size, s.st_mtime_ns, s.st_mode):
        continue
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if d is not None:
        if stat.S_ISDIR(d.st_mode):
            shutil.rmtree(dst)
        else:
            os.unlink(dst)
    if stat.S_ISLNK(s.st_mode):
        os.symlink(os.readlink(src), dst)
    else:
        shutil.copy2(src, dst)
    copied += 1

removed = 0
for root, dirs, files in os.walk(dest_root, topdown=True):
    rel_root = os.path.relpath(root, dest_root)
    rel_root = "" if rel_root == "." else rel_root
    dirs[:] = [d for d in dirs if os.path.join(rel_root, d) not in KEEP]
    for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
        rel = os.path.join(rel_root, name)
        if rel not in wanted:
            os.unlink(os.path.join(root, name))
            removed += 1
for root, dirs, files in os.walk(dest_root, topdown=False):
    rel_root = os.path.relpath(root, dest_root)
    if rel_root == "." or any(rel_root == k or rel_root.startswith(k + os.sep) for k in KEEP):
        continue
    if not os.listdir(root):
        os.rmdir(root)

print("==> synced %d files into %s (%d copied, %d removed)" % (len(wanted), dest_root, copied, removed),
      file=sys.stderr)
PY
)
(cd "$repo" && git ls-files -z -co --exclude-standard) | "$venv/bin/python" -c "$sync_py" "$repo" "$dest"

if [ ! -e "$dest/.git" ]; then
    git -C "$dest" init -q
fi

prepare_user_state_once

cd "$dest"
exec "$venv/bin/ansible-test" "$@"
