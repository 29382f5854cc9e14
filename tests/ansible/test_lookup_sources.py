# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where ``lookup('nvidia.air.air_image', ...)`` takes its connection from, and in which order.

The lookup runs inside ``ansible-playbook`` on the controller, so the environment and ``ansible.cfg`` only
reach it through the process: these tests run real ``ansible-playbook`` processes with a chosen environment
(the lookup_air_image integration target covers arguments and variables; ansible-test gives its playbooks
no AIR_API_* variables). Precedence, highest first: argument, variable, environment, ``ansible.cfg``, then
``~/.ngc/config`` for the token.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from air_emulator.testing import DEMO_TOKEN

from conftest import COLLECTIONS

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
CLOSED_URL = "http://127.0.0.1:9"
BAD_TOKEN = "nvapi-refused-token"

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Write what the lookup found
      ansible.builtin.copy:
        content: "{{ lookup('nvidia.air.air_image', image_name, uploaded_only=false, field='id') }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


@pytest.fixture
def image(emulator, tmp_path):
    name = "lookup-sources-%s" % tmp_path.name[-10:].replace("_", "-")
    created = emulator.api("POST", "images", json={"name": name, "version": "1.0", "default_username": "u",
                                                   "default_password": "lookup-Passw0rd"})
    assert created.status_code == 201, created.text
    yield created.json()
    assert emulator.api("DELETE", "images/%s" % created.json()["id"], json={}).status_code == 204


def lookup_through(tmp_path, image, env=None, extra_vars=None, config=None, ngc_key=None):
    """Run the playbook with only ``env`` (plus what ansible needs); the lookup's result, or its error."""
    home = tmp_path / "home"
    (home / ".ngc").mkdir(parents=True, exist_ok=True)
    if ngc_key:
        (home / ".ngc" / "config").write_text("[CURRENT]\napikey = %s\n" % ngc_key)
    playbook, result = tmp_path / "lookup.yml", tmp_path / "result.txt"
    playbook.write_text(PLAYBOOK)
    if result.exists():
        result.unlink()
    environ = dict((k, v) for k, v in os.environ.items() if not k.startswith("AIR_") and k != "ANSIBLE_CONFIG")
    environ.update(HOME=str(home), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", **(env or {}))
    if config is not None:
        (tmp_path / "ansible.cfg").write_text(config)
        environ["ANSIBLE_CONFIG"] = str(tmp_path / "ansible.cfg")
    command = [ANSIBLE_PLAYBOOK, str(playbook), "-e", "image_name=%s" % image["name"], "-e",
               "result_file=%s" % result]
    for name, value in (extra_vars or {}).items():
        command += ["-e", "%s=%s" % (name, value)]
    done = subprocess.run(command, env=environ, cwd=str(tmp_path), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=120, check=False)
    if done.returncode == 0:
        return result.read_text()
    return "FAILED: " + done.stdout + done.stderr


def test_the_environment_variables_of_the_modules(emulator, image, tmp_path):
    found = lookup_through(tmp_path, image, env={"AIR_API_URL": emulator.url, "AIR_API_TOKEN": DEMO_TOKEN})
    assert found == image["id"]


def test_ansible_cfg_gives_the_url_and_the_environment_wins_over_it(emulator, image, tmp_path):
    config = "[nvidia_air]\napi_url = %s\nrequest_timeout = 20\n" % emulator.url
    assert lookup_through(tmp_path, image, env={"AIR_API_TOKEN": DEMO_TOKEN}, config=config) == image["id"]
    closed = "[nvidia_air]\napi_url = %s\n" % CLOSED_URL
    found = lookup_through(tmp_path, image, env={"AIR_API_URL": emulator.url, "AIR_API_TOKEN": DEMO_TOKEN},
                           config=closed)
    assert found == image["id"]


def test_a_variable_wins_over_the_environment(emulator, image, tmp_path):
    env = {"AIR_API_URL": CLOSED_URL, "AIR_API_TOKEN": BAD_TOKEN}
    found = lookup_through(tmp_path, image, env=env,
                           extra_vars={"nvidia_air_api_url": emulator.url, "nvidia_air_api_token": DEMO_TOKEN})
    assert found == image["id"]


def test_the_token_of_ngc_config_when_nothing_else_sets_one(emulator, image, tmp_path):
    assert lookup_through(tmp_path, image, env={"AIR_API_URL": emulator.url}, ngc_key=DEMO_TOKEN) == image["id"]


def test_no_token_anywhere_is_a_clear_error(emulator, image, tmp_path):
    found = lookup_through(tmp_path, image, env={"AIR_API_URL": emulator.url})
    assert found.startswith("FAILED: ")
    assert "nvidia.air.air_image: no Air API token" in found and "AIR_API_TOKEN" in found


def test_a_refused_token_from_the_environment_is_named_but_never_shown(emulator, image, tmp_path):
    found = lookup_through(tmp_path, image, env={"AIR_API_URL": emulator.url, "AIR_API_TOKEN": BAD_TOKEN})
    assert found.startswith("FAILED: ") and "HTTP 401" in found
    assert BAD_TOKEN not in found
