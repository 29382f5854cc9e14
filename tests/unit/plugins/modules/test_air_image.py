# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""air_image: option checks, the fields a task asks for, and check-mode predictions (stub client)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvidia.air.plugins.module_utils._errors import MASK, AirInputError
from ansible_collections.nvidia.air.plugins.modules.air_image import AirImageModule
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import (
    StubClient,
    image,
    make_module,
    run_module,
)


def module_with(args, **kwargs):
    return make_module(AirImageModule, args, **kwargs)


# ------------------------------------------------------------------ check_options
@pytest.mark.parametrize("args, message", [
    ({"name": "cumulus-vx"}, "version is required with name"),
    ({"name": "n", "version": "1", "minimum_resources": {"cpu": 0}}, "minimum_resources.cpu must be >= 1"),
    ({"name": "n", "version": "1", "minimum_resources": {"memory": -5}}, "minimum_resources.memory must be >= 1"),
])
def test_check_options_refuses(args, message):
    with pytest.raises(AirInputError) as raised:
        module_with(args).check_options()
    assert message in str(raised.value)


@pytest.mark.parametrize("args", [
    {"id": "935b994e-9e1e-4d85-9275-10f7b3111cd9"},
    {"id": "935b994e-9e1e-4d85-9275-10f7b3111cd9", "name": "renamed"},
    {"name": "n", "version": "1", "minimum_resources": {"cpu": 2}},
])
def test_check_options_accepts(args):
    module_with(args).check_options()


# ------------------------------------------------------------------ desired_fields
def test_only_options_that_are_set_are_desired():
    module = module_with({"name": "n", "version": "1", "notes": "", "includes_air_agent": False,
                          "emulation_type": ["NVUE"], "default_password": "pw-123456"})
    assert module.desired_fields() == {"notes": "", "includes_air_agent": False, "emulation_type": ["NVUE"],
                                       "default_password": "pw-123456"}


def test_name_and_version_identify_rather_than_rename_without_an_id():
    assert module_with({"name": "n", "version": "1"}).desired_fields() == {}


def test_name_and_version_rename_with_an_id():
    module = module_with({"id": "935b994e-9e1e-4d85-9275-10f7b3111cd9", "name": "new-name"})
    assert module.desired_fields() == {"name": "new-name"}


def test_partial_minimum_resources_keep_only_the_given_keys():
    module = module_with({"name": "n", "version": "1", "minimum_resources": {"memory": 4096}})
    assert module.desired_fields() == {"minimum_resources": {"memory": 4096}}


def test_publish_and_wait_options_are_not_image_fields():
    module = module_with({"name": "n", "version": "1", "published": True, "publish_name": "p", "wait": False,
                          "clear_upload": True, "state": "present"})
    assert module.desired_fields() == {}


# ------------------------------------------------------------------ check mode
def test_check_mode_create_predicts_the_image_and_masks_the_password(capsys):
    client = StubClient()
    result = run_module(AirImageModule, {"name": "new", "version": "1.0", "default_username": "root",
                                         "default_password": "pw-123456", "cpu_arch": "ARM"},
                        capsys, client=client, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["actions"] == ["created image 'new' version '1.0'"]
    predicted = result["image"]
    assert predicted["id"] is None and predicted["upload_status"] == "READY"
    assert predicted["cpu_arch"] == "ARM" and predicted["provider"] == "VM"
    assert predicted["default_password"] == MASK
    assert result["diff"]["before"]["exists"] is False and result["diff"]["after"]["exists"] is True
    assert result["diff"]["after"]["default_password"] == MASK
    assert "pw-123456" not in str(result)
    assert client.calls == [("find_image", "new", "1.0")]


def test_check_mode_create_needs_credentials(capsys):
    result = run_module(AirImageModule, {"name": "new", "version": "1.0"}, capsys, client=StubClient(),
                        check_mode=True)
    assert result["failed"] is True and result["changed"] is False
    assert "set default_username and default_password" in result["msg"]


def test_check_mode_update_lists_only_what_differs(capsys):
    current = image(notes="old", emulation_type=["NVUE", "CUMULUS"])
    args = {"name": current.name, "version": current.version, "notes": "new", "emulation_type": ["CUMULUS", "NVUE"],
            "minimum_resources": {"memory": 2048}}
    result = run_module(AirImageModule, args, capsys, client=StubClient([current]), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["actions"] == ["updated minimum_resources, notes of image %s" % current.label]
    assert result["diff"] == {
        "before": {"minimum_resources": {"cpu": 1, "memory": 1024, "storage": 10}, "notes": "old"},
        "after": {"minimum_resources": {"cpu": 1, "memory": 2048, "storage": 10}, "notes": "new"},
    }
    assert result["image"]["notes"] == "new"
    assert result["image"]["minimum_resources"] == {"cpu": 1, "memory": 2048, "storage": 10}


def test_check_mode_matching_image_is_not_changed(capsys):
    current = image()
    args = {"name": current.name, "version": current.version, "notes": "", "cpu_arch": "x86",
            "minimum_resources": {"cpu": 1}}
    result = run_module(AirImageModule, args, capsys, client=StubClient([current]), check_mode=True, diff=True)
    assert result["changed"] is False and result["actions"] == []
    assert result["diff"] == {"before": {}, "after": {}}


def test_changed_password_shows_as_changed_but_never_in_clear(capsys):
    current = image(default_password="old-password")
    args = {"name": current.name, "version": current.version, "default_password": "new-password"}
    result = run_module(AirImageModule, args, capsys, client=StubClient([current]), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {"default_password": MASK}
    assert result["diff"]["after"] == {"default_password": MASK + " (changed)"}
    assert "old-password" not in str(result) and "new-password" not in str(result)


def test_check_mode_absent_of_a_missing_image_changes_nothing(capsys):
    result = run_module(AirImageModule, {"name": "gone", "version": "1", "state": "absent"}, capsys,
                        client=StubClient(), check_mode=True)
    assert result["changed"] is False and result["image"] is None
