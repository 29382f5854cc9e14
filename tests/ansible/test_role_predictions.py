# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``ansible-playbook --check`` with the image_release role predicts every step a real run then takes (issue 8).

The role's check-mode branch depends on ``ansible_check_mode``, which only ``--check`` sets, so these
tests run real ``ansible-playbook`` processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from air_emulator.testing import DEMO_TOKEN

from conftest import COLLECTIONS

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Release
      ansible.builtin.include_role:
        name: nvidia.air.image_release
    - name: Write the result where the test reads it (also in check mode)
      ansible.builtin.copy:
        content: "{{ image_release_result | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
"""


def play_fails(tmp_path, playbook, variables_yaml, check):
    """Run ``playbook`` with ``variables_yaml`` as extra vars (``--check`` if ``check``); it must fail (exit 2).

    Returns its output. The play writes ``result_file`` (``<tmp_path>/result.json``) when it gets that far.
    """
    (tmp_path / "play.yml").write_text(playbook)
    (tmp_path / "vars.yml").write_text(variables_yaml)
    command = [ANSIBLE_PLAYBOOK, str(tmp_path / "play.yml"), "-e", "@%s" % (tmp_path / "vars.yml"),
               "-e", "result_file=%s" % (tmp_path / "result.json")] + (["--check"] if check else [])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), NVIDIA_AIR_CACHE_DIR=str(tmp_path / "cache"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 2, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


def _release(tmp_path, env, variables, check, label):
    result_file = tmp_path / ("result-%s.json" % label)
    command = [ANSIBLE_PLAYBOOK, str(tmp_path / "release.yml"), "-e", "@%s" % (tmp_path / "vars.yml"),
               "-e", "result_file=%s" % result_file] + (["--check"] if check else [])
    (tmp_path / "vars.yml").write_text(yaml.safe_dump(variables))
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return json.loads(result_file.read_text())


def _manifest(os_template_version):
    return {"os_type": "cumulus-linux", "platforms": {
        "SN3700": {"platform_information_version": "1.1", "os_template_version": os_template_version},
        "SN5600": {"platform_information_version": "1.0", "os_template_version": "5.11"}}}


@pytest.mark.parametrize("publish,share_with,manifest", [(True, ["partner-org"], True), (False, [], False),
                                                         (True, [], False)])
def test_check_mode_predicts_every_step_of_a_new_release_through_a_symlink(emulator, tmp_path, publish, share_with,
                                                                           manifest):
    disk = tmp_path / "disk.qcow2"
    disk.write_bytes(os.urandom(6 * 1024 * 1024))
    (tmp_path / "disk-link.qcow2").symlink_to(disk)
    (tmp_path / "release.yml").write_text(PLAYBOOK)
    name = "predicted-%s" % tmp_path.name[-12:].replace("_", "-")
    variables = {
        "image_release_api_url": emulator.url, "image_release_api_token": DEMO_TOKEN,
        "image_release_name": name, "image_release_version": "1.0.0",
        "image_release_file": str(tmp_path / "disk-link.qcow2"),
        "image_release_default_username": "cumulus", "image_release_default_password": "predict-Passw0rd",
        "image_release_publish": publish, "image_release_publish_name": name + "-catalog",
        "image_release_share_with": share_with, "image_release_progress_interval": 1,
    }
    if manifest:
        variables["image_release_os_image_manifest"] = _manifest("5.11")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), NVIDIA_AIR_CACHE_DIR=str(tmp_path / "cache"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    try:
        predicted = _release(tmp_path, env, variables, check=True, label="check")
        assert emulator.api("GET", "images", params={"search": name}).json()["results"] == []  # nothing written
        done = _release(tmp_path, env, variables, check=False, label="real")
        assert predicted["image_id"] is None
        assert predicted["changed"] == done["changed"], (predicted["changed"], done["changed"])
        assert done["changed"] == {"image": True, "upload": True, "publish": publish, "share": bool(share_with),
                                   "manifest": manifest, "any": True}
        assert done["upload_status"] == "COMPLETE"
        assert (done["manifest"] or {}).get("platforms") == (variables.get("image_release_os_image_manifest") or
                                                             {}).get("platforms")
        # And a check-mode run of the released image predicts no change, like the real re-run.
        again_predicted = _release(tmp_path, env, variables, check=True, label="check-again")
        again = _release(tmp_path, env, variables, check=False, label="again")
        assert again_predicted["changed"] == again["changed"] == dict.fromkeys(done["changed"], False)
        if manifest:  # one changed pin of the uploaded image: the manifest module itself predicts it
            variables["image_release_os_image_manifest"] = _manifest("5.9")
            pin_predicted = _release(tmp_path, env, variables, check=True, label="check-pin")
            assert pin_predicted["manifest"]["platforms"]["SN3700"]["os_template_version"] == "5.9"
            pin = _release(tmp_path, env, variables, check=False, label="pin")
            assert pin_predicted["changed"] == pin["changed"] == dict(dict.fromkeys(done["changed"], False),
                                                                      manifest=True, any=True)
            assert pin["manifest"]["platforms"] == pin_predicted["manifest"]["platforms"]
    finally:
        for image in emulator.api("GET", "images", params={"search": name}).json()["results"]:
            if image["published"]:
                emulator.api("PATCH", "images/%s/unpublish" % image["id"], json={})
                emulator.wait_for(image["id"], "COMPLETE")
            emulator.api("DELETE", "images/%s" % image["id"], json={})
