# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``image_release_keep``: ``ansible-playbook --check`` predicts the retention a real release then applies.

The version the release creates does not exist during the check-mode run; the role still counts it
(``keep_versions``), so the predicted deletions are the real ones. ``ansible_check_mode`` is only set by
``--check``, hence real ``ansible-playbook`` processes.
"""

from __future__ import annotations

import os

from air_emulator.testing import DEMO_TOKEN

from conftest import COLLECTIONS
from test_role_predictions import PLAYBOOK, _release


def _versions(entries):
    return [entry["version"] for entry in entries]


def _release_setup(emulator, tmp_path, name, version, keep):
    """A 1 MiB disk, the playbook, and the environment and variables that release it with ``keep``."""
    disk = tmp_path / "disk.qcow2"
    disk.write_bytes(os.urandom(1024 * 1024))
    (tmp_path / "release.yml").write_text(PLAYBOOK)
    variables = {
        "image_release_api_url": emulator.url, "image_release_api_token": DEMO_TOKEN,
        "image_release_name": name, "image_release_version": version, "image_release_file": str(disk),
        "image_release_default_username": "cumulus", "image_release_default_password": "keep-Passw0rd",
        "image_release_progress_interval": 1, "image_release_keep": keep,
    }
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), NVIDIA_AIR_CACHE_DIR=str(tmp_path / "cache"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    return env, variables


def test_check_mode_predicts_the_retention_after_a_new_release(emulator, tmp_path):
    name = "kept-%s" % tmp_path.name[-12:].replace("_", "-")
    # Three earlier versions (records are enough: retention counts every image of the name).
    for version in ("1.10.0", "1.2.0", "1.9.0"):
        created = emulator.api("POST", "images", json={"name": name, "version": version, "default_username": "u",
                                                       "default_password": "keep-Passw0rd"})
        assert created.status_code == 201, created.text
    env, variables = _release_setup(emulator, tmp_path, name, "1.11.0", keep=2)
    try:
        predicted = _release(tmp_path, env, variables, check=True, label="check")
        assert sorted(i["version"] for i in emulator.api("GET", "images", params={"name": name}).json()["results"]) \
            == ["1.10.0", "1.2.0", "1.9.0"]  # nothing written
        done = _release(tmp_path, env, variables, check=False, label="real")
        assert _versions(predicted["retention"]["kept"]) == _versions(done["retention"]["kept"]) == ["1.11.0", "1.10.0"]
        assert predicted["retention"]["kept"][0]["reasons"] == ["newest", "keep_versions", "would be created"]
        assert done["retention"]["kept"][0]["reasons"] == ["newest", "keep_versions"]
        assert _versions(predicted["retention"]["deleted"]) == _versions(done["retention"]["deleted"]) \
            == ["1.2.0", "1.9.0"]
        assert predicted["changed"] == done["changed"]
        assert done["changed"]["retention"] is True and done["changed"]["any"] is True
        left = emulator.api("GET", "images", params={"name": name}).json()["results"]
        assert sorted(i["version"] for i in left) == ["1.10.0", "1.11.0"]
        # A re-run, predicted and real, changes nothing.
        again_predicted = _release(tmp_path, env, variables, check=True, label="check-again")
        again = _release(tmp_path, env, variables, check=False, label="again")
        assert again_predicted["changed"] == again["changed"] == dict.fromkeys(done["changed"], False)
        assert again["retention"]["deleted"] == []
    finally:
        for image in emulator.api("GET", "images", params={"name": name}).json()["results"]:
            emulator.api("DELETE", "images/%s" % image["id"], json={})


def test_an_old_patch_released_after_newer_versions_is_kept(emulator, tmp_path):
    """Releasing 1.2.1 with keep 1 while 1.10.0 exists keeps both: the released version always stays."""
    name = "patch-%s" % tmp_path.name[-12:].replace("_", "-")
    created = emulator.api("POST", "images", json={"name": name, "version": "1.10.0", "default_username": "u",
                                                   "default_password": "keep-Passw0rd"})
    assert created.status_code == 201, created.text
    env, variables = _release_setup(emulator, tmp_path, name, "1.2.1", keep=1)
    try:
        done = _release(tmp_path, env, variables, check=False, label="real")
        assert [(e["version"], e["reasons"]) for e in done["retention"]["kept"]] == [
            ("1.10.0", ["newest"]), ("1.2.1", ["keep_versions"])]
        assert done["retention"]["deleted"] == [] and done["changed"]["retention"] is False
    finally:
        for image in emulator.api("GET", "images", params={"name": name}).json()["results"]:
            emulator.api("DELETE", "images/%s" % image["id"], json={})
