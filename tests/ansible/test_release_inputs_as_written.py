# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The roles take variables as the user wrote them (issue 19).

An unquoted version is a YAML number (``5.10`` is the float 5.1) and an AWX survey answer with a trailing comma
has an empty entry: each fails before anything is created, in one line naming the role's variable, with
``--check`` and without. The variables are written as YAML text, as a user writes them.
"""

from __future__ import annotations

import os
import textwrap

import pytest
from air_emulator.testing import DEMO_TOKEN

from test_role_predictions import PLAYBOOK, play_fails

CLAIM_PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  roles:
    - nvidia.air.image_claim
"""


RELEASE_VARS = """\
image_release_api_url: {url}
image_release_api_token: {token}
image_release_name: {name}
image_release_file: {disk}
image_release_default_username: cumulus
image_release_default_password: as-written-Passw0rd
image_release_progress_interval: 0
"""


@pytest.mark.parametrize("written, message", [
    ("image_release_version: 5.10",
     'image_release_version is the number 5.1, not a version: YAML reads an unquoted 5.10 as 5.1; write the version '
     'in quotes as you mean it, for example image_release_version: "5.1" (or "5.10"); nothing was released'),
    ("image_release_version: 2.20", 'image_release_version: "2.2" (or "2.20")'),
    ("image_release_version: 1.0", 'image_release_version: "1.0" (or "1.00")'),
    ('image_release_version: "5.10"\nimage_release_publish: true\nimage_release_publish_version: 5.20',
     'image_release_publish_version is the number 5.2, not a version'),
    ('image_release_version: "5.10"\nimage_release_emulation_version: 4.10',
     'image_release_emulation_version is the number 4.1, not a version'),
    ('image_release_version: "5.10"\nimage_release_share_with: "partner-org,"',
     "image_release_share_with 'partner-org,': an empty entry (a comma too many, or an empty item); remove it; "
     "nothing was released"),
    ('image_release_version: "5.10"\nimage_release_share_with: ",partner-org"',
     "image_release_share_with ',partner-org': an empty entry"),
    ('image_release_version: "5.10"\nimage_release_publish: true\nimage_release_allowed_orgs: [demo-org, ""]',
     "image_release_allowed_orgs: an empty entry"),
], ids=["5.10", "2.20", "1.0", "publish_version", "emulation_version", "share_with-trailing-comma",
        "share_with-leading-comma", "allowed_orgs-empty-item"])
@pytest.mark.parametrize("check", [True, False], ids=["check", "run"])
def test_release_refuses_variables_as_yaml_misread_them_before_anything_is_created(emulator, tmp_path, written,
                                                                                   message, check):
    disk = tmp_path / "disk.qcow2"
    disk.write_bytes(os.urandom(1024 * 1024))
    name = "as-written-%s" % tmp_path.name[-12:].replace("_", "-")
    variables = RELEASE_VARS.format(url=emulator.url, token=DEMO_TOKEN, name=name, disk=disk) + written + "\n"
    output = play_fails(tmp_path, PLAYBOOK, variables, check)
    assert message in output, output[-3000:]
    assert emulator.api("GET", "images", params={"name": name}).json()["results"] == []


def test_an_integer_version_is_a_version(emulator, tmp_path):
    """``image_release_version: 10`` is unambiguous: the role goes on (here to the missing file)."""
    variables = RELEASE_VARS.format(url=emulator.url, token=DEMO_TOKEN, name="int-version",
                                    disk=tmp_path / "missing.qcow2") + "image_release_version: 10\n"
    output = play_fails(tmp_path, PLAYBOOK, variables, check=False)
    assert "does not exist or is not a regular file" in output and "is the number" not in output


@pytest.mark.parametrize("check", [True, False], ids=["check", "run"])
def test_claim_refuses_a_version_written_as_a_number(emulator, tmp_path, check):
    variables = textwrap.dedent("""\
        image_claim_api_url: {url}
        image_claim_api_token: {token}
        image_claim_shares:
          - share_id: 6d0b8e0e-7a51-4f0c-9d7b-0c6c8f7e3a11
            name: claimed
            version: 5.10
        """).format(url=emulator.url, token=DEMO_TOKEN)
    output = play_fails(tmp_path, CLAIM_PLAYBOOK, variables, check)
    assert ("image_claim_shares: the version of share 6d0b8e0e-7a51-4f0c-9d7b-0c6c8f7e3a11 is the number 5.1, not a "
            'version: YAML reads an unquoted 5.10 as 5.1; write the version in quotes as you mean it, for example '
            'version: "5.1" (or "5.10"); nothing was claimed') in output, output[-3000:]
