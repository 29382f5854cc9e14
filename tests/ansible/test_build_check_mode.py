# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``ansible-playbook --check`` with the image_build role: a first build is predicted, not attempted.

Before, the role's check-mode run failed whenever the output did not exist yet (nothing was converted, so
there was nothing to hash or record), which broke ``nvidia.air.release --check`` for every first build.
``ansible_check_mode`` is only set by ``--check``, hence real ``ansible-playbook`` processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import COLLECTIONS

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Build
      ansible.builtin.include_role:
        name: nvidia.air.image_build
    - name: Write the result where the test reads it (also in check mode)
      ansible.builtin.copy:
        content: "{{ image_build_result | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
"""


def _build(tmp_path, check, label):
    result_file = tmp_path / ("result-%s.json" % label)
    command = [ANSIBLE_PLAYBOOK, str(tmp_path / "build.yml"),
               "-e", "image_build_source=%s" % (tmp_path / "disk.raw"),
               "-e", "image_build_output=%s" % (tmp_path / "disk.qcow2"),
               "-e", "result_file=%s" % result_file] + (["--check"] if check else [])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return json.loads(result_file.read_text())


def test_check_mode_predicts_a_first_build_and_a_rebuild_without_writing(tmp_path):
    (tmp_path / "build.yml").write_text(PLAYBOOK)
    (tmp_path / "disk.raw").write_bytes(os.urandom(1024 * 1024))
    output = tmp_path / "disk.qcow2"

    predicted = _build(tmp_path, check=True, label="first-check")
    assert predicted["changed"] is True
    assert (predicted["file_size"], predicted["sha256"], predicted["virtual_size"]) == (None, None, None)
    assert not output.exists() and not (tmp_path / "disk.qcow2.build.json").exists()

    built = _build(tmp_path, check=False, label="build")
    assert built["changed"] is True and built["file_size"] == output.stat().st_size
    assert built["virtual_size"] == 1024 * 1024 and len(built["sha256"]) == 64

    unchanged = _build(tmp_path, check=True, label="unchanged-check")
    assert unchanged == dict(built, changed=False)

    (tmp_path / "disk.raw").write_bytes(os.urandom(1024 * 1024))  # a new source: a rebuild is predicted
    before = output.read_bytes()
    rebuild = _build(tmp_path, check=True, label="rebuild-check")
    assert rebuild["changed"] is True and rebuild["sha256"] is None
    assert output.read_bytes() == before


def test_the_source_itself_as_output_is_refused(tmp_path):
    (tmp_path / "build.yml").write_text(PLAYBOOK)
    (tmp_path / "disk.raw").write_bytes(os.urandom(1024 * 1024))
    (tmp_path / "disk.qcow2").symlink_to(tmp_path / "disk.raw")  # the output names the source through a link
    command = [ANSIBLE_PLAYBOOK, str(tmp_path / "build.yml"), "-e", "image_build_source=%s" % (tmp_path / "disk.raw"),
               "-e", "image_build_output=%s" % (tmp_path / "disk.qcow2"), "-e", "result_file=%s" % (tmp_path / "r")]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    before = (tmp_path / "disk.raw").read_bytes()
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 2 and "is the source disk itself" in done.stdout, done.stdout[-3000:]
    assert (tmp_path / "disk.raw").read_bytes() == before
