# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""air_image_share: validation of target_orgs and of option combinations (no API calls)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

import pytest

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError
from ansible_collections.nvidia.air.plugins.modules.air_image_share import AirImageShareModule
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import make_module, run_module

parse_targets = AirImageShareModule.parse_targets


def future(days=2):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)


def test_plain_org_names_keep_their_order():
    assert parse_targets(["partner-org", "lab-org"]) == [("partner-org", None), ("lab-org", None)]


def test_empty_list_is_no_targets():
    assert parse_targets([]) == []


def test_dict_items_with_expiry_are_normalised_to_microseconds():
    when = future().replace(microsecond=0)
    targets = parse_targets([{"org": "lab-org", "expires_at": when.isoformat()}, {"org": "partner-org"}])
    assert targets == [("lab-org", when.strftime("%Y-%m-%dT%H:%M:%S.000000Z")), ("partner-org", None)]


def test_expiry_with_an_offset_is_converted_to_utc():
    when = future().replace(microsecond=0)
    local = when.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    targets = parse_targets([{"org": "lab-org", "expires_at": local.isoformat()}])
    assert targets == [("lab-org", when.strftime("%Y-%m-%dT%H:%M:%S.000000Z"))]


def test_org_names_are_trimmed_as_a_comma_separated_survey_answer_needs():
    # Ansible turns the text "partner-org, demo-org" into ["partner-org", " demo-org"] for a list option.
    assert parse_targets(["partner-org", " demo-org ", {"org": "\tlab-org"}]) == [
        ("partner-org", None), ("demo-org", None), ("lab-org", None)]
    with pytest.raises(AirInputError) as raised:
        parse_targets(["demo-org", " demo-org"])
    assert "target_orgs[1]: 'demo-org' is listed twice" in str(raised.value)


def test_zulu_suffix_is_accepted():
    stamp = future().strftime("%Y-%m-%dT%H:%M:%SZ")
    (org, expires), = parse_targets([{"org": "lab-org", "expires_at": stamp}])
    assert org == "lab-org" and expires.startswith(stamp[:-1]) and expires.endswith("Z")


@pytest.mark.parametrize("items, message", [
    ([{"org": "lab-org", "expire": "2030-01-01T00:00:00Z"}], "target_orgs[0] has unknown key(s) expire"),
    ([5], "target_orgs[0] must be an org name or a dict"),
    ([["lab-org"]], "target_orgs[0] must be an org name or a dict"),
    (["ok-org", ""], "target_orgs has an empty entry after 'ok-org' (entry 2 of 2)"),
    (["ok-org", "   "], "target_orgs has an empty entry after 'ok-org' (entry 2 of 2)"),
    ([{"expires_at": "2030-01-01T00:00:00Z"}], "target_orgs[0]: org must be a non-empty string"),
    ([{"org": 7}], "target_orgs[0]: org must be a non-empty string"),
    (["lab-org", {"org": "lab-org"}], "target_orgs[1]: 'lab-org' is listed twice"),
    ([{"org": "lab-org", "expires_at": "next tuesday"}], "is not an ISO 8601 date and time"),
    ([{"org": "lab-org", "expires_at": "2001-01-01T00:00:00Z"}], "is in the past"),
])
def test_bad_items_fail_before_anything_is_sent(items, message):
    with pytest.raises(AirInputError) as raised:
        parse_targets(items)
    assert message in str(raised.value)
    assert raised.value.step == "check options"


@pytest.mark.parametrize("args, message", [
    ({"state": "present", "image": "935b994e-9e1e-4d85-9275-10f7b3111cd9"}, "target_orgs is required with state: present"),
    ({"target_orgs": ["lab-org"]}, "one of image, or name and version, is required"),
    ({"image": "935b994e-9e1e-4d85-9275-10f7b3111cd9", "name": "n", "version": "1", "target_orgs": []},
     "image and name are mutually exclusive"),
    ({"state": "claimed", "share_id": "0b0c3f3e", "target_orgs": ["lab-org"]}, "target_orgs is not used with state: claimed"),
    ({"state": "claimed", "share_id": "0b0c3f3e", "image": "935b994e"}, "image is not used with state: claimed"),
])
def test_option_combinations_are_checked_before_the_api_is_contacted(args, message):
    module = make_module(AirImageShareModule, args)
    with pytest.raises(AirInputError) as raised:
        module.check_options()
    assert message in str(raised.value)


def test_absent_without_target_orgs_means_every_share():
    module = make_module(AirImageShareModule, {"state": "absent", "name": "n", "version": "1"})
    module.check_options()
    assert module.targets == []


def test_argument_spec_rules_fail_the_module(capsys):
    # required_if state=claimed -> share_id; fail_json ends the run before any API call.
    with pytest.raises(SystemExit):
        make_module(AirImageShareModule, {"state": "claimed"})
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True
    assert "share_id" in result["msg"]


def test_a_failed_check_is_a_module_failure_with_a_failure_dict(capsys):
    result = run_module(AirImageShareModule, {"name": "n", "version": "1", "target_orgs": [{"org": ""}]}, capsys)
    assert result["failed"] is True and result["changed"] is False
    assert result["failure"]["type"] == "AirInputError"
    assert result["failure"]["step"] == "check options"
    assert "nvapi-unit-test-token" not in str(result)
