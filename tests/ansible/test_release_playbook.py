# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``ansible-playbook nvidia.air.release -e @vars.yml``: build and release, then nothing to do."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import yaml
from air_emulator.testing import DEMO_TOKEN

from conftest import COLLECTIONS

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def _run(vars_file, env, check=False):
    # ansible-playbook's workers need a valid stdin; CI runs without one.
    done = subprocess.run([ANSIBLE_PLAYBOOK, "nvidia.air.release", "-e", "@%s" % vars_file] + (["--check"] if check else []),
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    recap = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", done.stdout)
    assert recap, done.stdout[-2000:]
    return done.stdout, int(recap.group(2))


def test_release_playbook_builds_releases_and_is_idempotent(emulator, tmp_path):
    source = tmp_path / "disk.raw"
    source.write_bytes(os.urandom(7 * 1024 * 1024))
    name = "playbook-release-%s" % tmp_path.name[-8:].replace("_", "")
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text(yaml.safe_dump({
        "image_build_source": str(source),
        "image_build_output": str(tmp_path / "disk.qcow2"),
        "image_release_api_url": emulator.url,
        "image_release_api_token": DEMO_TOKEN,
        "image_release_name": name,
        "image_release_version": "1.0.0",
        "image_release_default_username": "cumulus",
        "image_release_default_password": "release-Passw0rd",
        "image_release_share_with": ["partner-org"],
        "image_release_progress_interval": 1,
    }))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), NVIDIA_AIR_CACHE_DIR=str(tmp_path / "cache"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")

    # --check before the first build: the build is predicted, the release of a file not built yet is not.
    checked, _changed = _run(vars_file, env, check=True)
    assert "would be built first (or rebuilt); its release is predicted once it exists" in checked, checked[-3000:]
    assert not (tmp_path / "disk.qcow2").exists()
    assert emulator.api("GET", "images", params={"name": name}).json()["results"] == []

    first, changed = _run(vars_file, env)
    assert changed > 0, first[-3000:]
    assert "%s 1.0.0" % name in first and ": COMPLETE" in first and "'partner-org'" in first, first[-3000:]

    images = emulator.api("GET", "images", params={"name": name}).json()["results"]
    assert [i["upload_status"] for i in images] == ["COMPLETE"], images
    shares = emulator.api("GET", "images/shares", params={"image": images[0]["id"]}).json()["results"]
    assert [(s["target_org"], s["state"]) for s in shares] == [("partner-org", "ACTIVE")], shares
    assert "release-Passw0rd" not in first and DEMO_TOKEN not in first

    second, changed = _run(vars_file, env)
    assert changed == 0, second[-3000:]
    assert "no change" in second
