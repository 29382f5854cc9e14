# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``air_image_retention`` against an emulator of its own whose PUBLISHING / UNPUBLISHING last until the test
ends them (clock + jobs), so a run can find images an earlier run left UNPUBLISHING; and ``search`` over
names that also appear in other names' versions.

Check mode needs ``--check``, hence real ``ansible-playbook`` processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import yaml
from air_emulator.testing import DEMO_TOKEN, Emulator

from conftest import CHUNK_SIZE, COLLECTIONS

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
# Transitions last until _finish_transitions.
HELD = 100000


@pytest.fixture(scope="module")
def held_emulator():
    with Emulator("--chunk-size", str(CHUNK_SIZE), "--validation-delay", "0.2",
                  "--transition-delay", str(HELD)) as emu:
        yield emu


def _finish_transitions(emulator):
    emulator.advance_clock(HELD + 1)
    emulator.admin("POST", "jobs/run")


def _env(tmp_path):
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), NVIDIA_AIR_CACHE_DIR=str(tmp_path / "cache"),
                ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")


def _playbook(tmp_path, label, tasks, check=False, background=False):
    """Run ``tasks`` (the last one registers ``result``); the registered result and the output, or the process."""
    result_file = tmp_path / ("result-%s.json" % label)
    tasks = tasks + [{"name": "Write the result", "ansible.builtin.copy": {
        "content": "{{ result | to_json }}", "dest": str(result_file), "mode": "0600"}, "check_mode": False}]
    playbook = tmp_path / ("%s.yml" % label)
    playbook.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    command = [ANSIBLE_PLAYBOOK, str(playbook)] + (["--check"] if check else [])
    if background:
        return subprocess.Popen(command, env=_env(tmp_path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True), result_file
    done = subprocess.run(command, env=_env(tmp_path), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return json.loads(result_file.read_text()), done.stdout + done.stderr


def _retention(emulator, tmp_path, label, check=False, **args):
    args.update(api_url=emulator.url, api_token=DEMO_TOKEN, poll_interval=0.25)
    return _playbook(tmp_path, label, [{"name": "Retention", "nvidia.air.air_image_retention": args,
                                        "register": "result"}], check=check)


def _versions(entries):
    return [entry["version"] for entry in entries]


def _images(emulator, name):
    return emulator.api("GET", "images", params={"name": name}).json()["results"]


def test_search_selects_names_and_ranks_all_their_images(held_emulator, tmp_path):
    """The tester's catalog: "sonic" is in the name sonic-vs and in two versions of cumulus-vx."""
    catalog = {"cumulus-vx": ["5.16.0", "5.9.0", "5.10.0-sonic-interop", "5.11.0-sonic-interop"],
               "sonic-vs": ["202405", "202411"]}
    for name, versions in catalog.items():
        for version in versions:
            created = held_emulator.api("POST", "images", json={
                "name": name, "version": version, "default_username": "u", "default_password": "keep-Passw0rd"})
            assert created.status_code == 201, created.text
    try:
        sonic, _output = _retention(held_emulator, tmp_path, "sonic", search="sonic", keep=1)
        assert [(e["name"], e["version"]) for e in sonic["kept"]] == [("sonic-vs", "202411")]
        assert [(e["name"], e["version"]) for e in sonic["deleted"]] == [("sonic-vs", "202405")]
        assert sorted(_versions(_images(held_emulator, "cumulus-vx"))) == sorted(catalog["cumulus-vx"])
        # A selected name is ranked over all its images: 5.16.0 is the newest cumulus-vx, whatever matched.
        cumulus, _output = _retention(held_emulator, tmp_path, "cumulus", check=True, search="Cumulus", keep=1)
        assert [(e["name"], e["version"]) for e in cumulus["kept"]] == [("cumulus-vx", "5.16.0")]
        assert _versions(cumulus["deleted"]) == ["5.9.0", "5.10.0-sonic-interop", "5.11.0-sonic-interop"]
    finally:
        for name in catalog:
            for image in _images(held_emulator, name):
                held_emulator.api("DELETE", "images/%s" % image["id"], json={})


def test_a_rerun_while_images_are_still_unpublishing(held_emulator, tmp_path):
    """Images an earlier run left UNPUBLISHING (wait: false) count as unpublished; absent deletes them after."""
    name = "u1-%s" % tmp_path.name[-12:].replace("_", "-")
    disk = tmp_path / "disk.img"
    disk.write_bytes(os.urandom(64 * 1024))
    connection = {"api_url": held_emulator.url, "api_token": DEMO_TOKEN, "poll_interval": 0.25}
    _playbook(tmp_path, "setup", [
        {"name": "Create", "nvidia.air.air_image": dict(connection, name=name, version="{{ item }}",
                                                        default_username="u", default_password="keep-Passw0rd"),
         "loop": ["1.0.0", "1.1.0", "1.2.0"], "register": "created"},
        {"name": "Upload", "nvidia.air.air_image_upload": dict(connection, image="{{ item.image.id }}",
                                                               src=str(disk)),
         "loop": "{{ created.results }}"},
        {"name": "Publish", "nvidia.air.air_image": dict(connection, id="{{ item.image.id }}", published=True,
                                                         wait=False),
         "loop": "{{ created.results }}", "register": "result"}])
    _finish_transitions(held_emulator)
    assert all(i["published"] and i["upload_status"] == "COMPLETE" for i in _images(held_emulator, name))
    try:
        args = dict(name=name, keep=1, state="unpublished", wait=False)
        first, _output = _retention(held_emulator, tmp_path, "first", **args)
        assert first["changed"] and _versions(first["unpublished"]) == ["1.0.0", "1.1.0"]
        assert sorted(i["upload_status"] for i in _images(held_emulator, name)) == \
            ["COMPLETE", "UNPUBLISHING", "UNPUBLISHING"]

        predicted, _output = _retention(held_emulator, tmp_path, "again-check", check=True, **args)
        again, output = _retention(held_emulator, tmp_path, "again", **args)
        for result in (predicted, again):
            assert result["changed"] is False and result["actions"] == [] and result["unpublished"] == []
        assert "another run" not in output and not again.get("warnings")

        # state: absent deletes them once the unpublication is over, without unpublishing them again.
        absent = dict(name=name, keep=1)
        predicted, _output = _retention(held_emulator, tmp_path, "absent-check", check=True, **absent)
        assert predicted["changed"] is True and predicted["unpublished"] == []
        assert _versions(predicted["deleted"]) == ["1.0.0", "1.1.0"]
        assert [a.split(" ", 1)[0] for a in predicted["actions"]] == ["deleted", "deleted"]
        # A fault rule that changes nothing counts the reads of the first image: two or more mean the run is
        # polling it, waiting for UNPUBLISHING to end.
        oldest = [i for i in _images(held_emulator, name) if i["version"] == "1.0.0"][0]
        sensor = held_emulator.add_fault(action="delay", delay=0, method="GET", count=0,
                                         path="/api/v3/images/%s/$" % oldest["id"])
        process, result_file = _playbook(tmp_path, "absent", [{
            "name": "Retention", "nvidia.air.air_image_retention": dict(connection, **absent),
            "register": "result"}], background=True)
        deadline = time.monotonic() + 120
        while [r["seen"] for r in held_emulator.faults() if r["id"] == sensor["id"]] < [2]:
            assert process.poll() is None and time.monotonic() < deadline, "the run did not wait for UNPUBLISHING"
            time.sleep(0.2)
        held_emulator.clear_faults()
        _finish_transitions(held_emulator)
        output = process.communicate(timeout=300)[0]
        assert process.returncode == 0, output[-4000:]
        done = json.loads(result_file.read_text())
        assert done["changed"] is True and done["unpublished"] == [] and done["actions"] == predicted["actions"]
        assert _versions(done["deleted"]) == ["1.0.0", "1.1.0"]
        assert _versions(_images(held_emulator, name)) == ["1.2.0"]
    finally:
        _finish_transitions(held_emulator)
        for image in _images(held_emulator, name):
            if image["published"]:
                held_emulator.api("PATCH", "images/%s/unpublish" % image["id"], json={})
                _finish_transitions(held_emulator)
            held_emulator.api("DELETE", "images/%s" % image["id"], json={})
