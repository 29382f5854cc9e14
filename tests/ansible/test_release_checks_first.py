# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_release finds the task's own mistakes before the upload, and ``--check`` finds the same ones.

Each case fails in check mode and then in a real run with the same message; the real run sends no part
(every part PUT is refused meanwhile, so a run that reached its upload would fail on that instead) and
leaves no image behind. ``ansible_check_mode`` is only set by ``--check``, hence real ``ansible-playbook``.
"""

from __future__ import annotations

import os

import pytest
import yaml
from air_emulator.testing import DEMO_TOKEN, UPLOADER_TOKEN

from test_role_predictions import PLAYBOOK, play_fails


# The last case: the sharing scope shows only on an existing image's shares, so check mode cannot see it
# for an image that does not exist yet (the role's README says so); the real run still fails before the upload.
@pytest.mark.parametrize("token, extra, message, check_sees_it", [
    (UPLOADER_TOKEN, {"image_release_publish": True}, "justification is required to ask an Air reviewer", True),
    (UPLOADER_TOKEN, {"image_release_publish": True, "image_release_publish_method": "direct"},
     "publish_method: direct needs the air:image_publish scope", True),
    (DEMO_TOKEN, {"image_release_publish": True, "image_release_allowed_orgs": ["no-such-org"]},
     "organization 'no-such-org' is not visible to this token", True),
    (UPLOADER_TOKEN, {"image_release_share_with": ["partner-org"]}, "requires scope air:image_sharing", False),
])
def test_mistakes_fail_before_the_upload_and_in_check_mode_alike(emulator, tmp_path, token, extra, message,
                                                                 check_sees_it):
    disk = tmp_path / "disk.qcow2"
    disk.write_bytes(os.urandom(6 * 1024 * 1024))
    name = "checked-%s" % tmp_path.name[-12:].replace("_", "-")
    variables = dict({
        "image_release_api_url": emulator.url, "image_release_api_token": token,
        "image_release_name": name, "image_release_version": "1.0.0", "image_release_file": str(disk),
        "image_release_default_username": "cumulus", "image_release_default_password": "checked-Passw0rd",
        "image_release_progress_interval": 0}, **extra)
    if check_sees_it:
        assert message in play_fails(tmp_path, PLAYBOOK, yaml.safe_dump(variables), check=True)
    emulator.add_fault(action="status", status=400, method="PUT", path="/_s3/", count=0)
    try:
        output = play_fails(tmp_path, PLAYBOOK, yaml.safe_dump(variables), check=False)
    finally:
        emulator.clear_faults()
    assert message in output and "the image this run created was deleted again" in output
    assert emulator.api("GET", "images", params={"name": name}).json()["results"] == []
