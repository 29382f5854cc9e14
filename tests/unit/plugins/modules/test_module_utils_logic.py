# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic the modules rely on: change detection, diff masking, error text scrubbing.

(The module_utils tests in tests/unit/plugins/module_utils/ run the client against the
emulator with plain pytest; these need nothing but the collection.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvidia.air.plugins.module_utils import _errors
from ansible_collections.nvidia.air.plugins.module_utils._diff import CHANGED_SECRET, DifferenceTracker
from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    MASK,
    AirApiError,
    AirUploadError,
    redact,
    redact_url,
    register_secret,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import Image, image_changes
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import image


# ------------------------------------------------------------------ image_changes
def test_set_fields_ignore_order_and_duplicates():
    current = image(emulation_type=["NVUE", "CUMULUS"])
    assert image_changes(current, {"emulation_type": ["CUMULUS", "NVUE", "NVUE"]}) == {}


def test_set_fields_report_a_real_difference_with_the_value_to_send():
    current = image(emulation_type=["NVUE"])
    assert image_changes(current, {"emulation_type": ["NVUE", "CUMULUS"]}) == {
        "emulation_type": (["NVUE"], ["NVUE", "CUMULUS"])}


def test_partial_minimum_resources_merge_into_the_current_dict():
    current = image(minimum_resources={"cpu": 2, "memory": 1024, "storage": 10})
    assert image_changes(current, {"minimum_resources": {"memory": 4096}}) == {
        "minimum_resources": ({"cpu": 2, "memory": 1024, "storage": 10}, {"cpu": 2, "memory": 4096, "storage": 10})}


def test_partial_minimum_resources_equal_on_the_given_keys_are_no_change():
    current = image(minimum_resources={"cpu": 2, "memory": 1024, "storage": 10})
    assert image_changes(current, {"minimum_resources": {"cpu": 2, "storage": None}}) == {}


def test_minimum_resources_missing_on_the_server_are_created():
    current = image(minimum_resources=None)
    assert image_changes(current, {"minimum_resources": {"cpu": 1}}) == {"minimum_resources": (None, {"cpu": 1})}


def test_none_means_leave_alone_and_read_only_fields_are_ignored():
    current = image(notes="keep")
    assert image_changes(current, {"notes": None, "upload_status": "COMPLETE", "hash": "ab" * 32}) == {}


def test_empty_string_is_a_value():
    current = image(notes="something")
    assert image_changes(current, {"notes": ""}) == {"notes": ("something", "")}


def test_plain_dicts_work_as_the_current_image():
    assert image_changes({"name": "a"}, {"name": "b", "version": "1"}) == {"name": ("a", "b"), "version": (None, "1")}


def test_to_result_masks_the_password_and_keeps_contract_keys():
    result = Image({"id": "x", "default_password": "pw-123456", "unknown_field": 1}).to_result()
    assert result["default_password"] == MASK
    assert "unknown_field" not in result
    assert result["upload_status"] is None


# ------------------------------------------------------------------ DifferenceTracker
def test_tracker_records_before_and_after():
    tracker = DifferenceTracker()
    assert not tracker.has_differences()
    tracker.add("notes", "old", "new")
    tracker.add("exists", False, True)
    assert tracker.has_differences()
    assert tracker.get() == {"before": {"notes": "old", "exists": False}, "after": {"notes": "new", "exists": True}}


def test_tracker_masks_secrets_but_still_shows_a_change():
    tracker = DifferenceTracker()
    tracker.add("default_password", "old-password", "new-password")
    assert tracker.get() == {"before": {"default_password": MASK}, "after": {"default_password": CHANGED_SECRET}}


def test_tracker_shows_a_secret_being_set_or_cleared():
    tracker = DifferenceTracker()
    tracker.add("default_password", None, "new-password")
    assert tracker.get() == {"before": {"default_password": None}, "after": {"default_password": MASK}}
    tracker = DifferenceTracker()
    tracker.add("default_password", "old-password", "")
    assert tracker.get() == {"before": {"default_password": MASK}, "after": {"default_password": ""}}


def test_tracker_get_returns_copies():
    tracker = DifferenceTracker()
    tracker.add("notes", "a", "b")
    tracker.get()["before"]["notes"] = "tampered"
    assert tracker.get()["before"]["notes"] == "a"


# ------------------------------------------------------------------ redaction
@pytest.fixture
def secrets(monkeypatch):
    """Registered secrets are process-wide: start and end each test with none."""
    monkeypatch.setattr(_errors, "_secrets", set())


@pytest.mark.parametrize("text, expected", [
    ("PUT https://s3.example.com/b/k?X-Amz-Signature=abc&uploadId=1 failed",
     "PUT https://s3.example.com/b/k?<redacted> failed"),
    ("url: /_s3/bucket/key?partNumber=2&X-Amz-Credential=AKIA'", "url: /_s3/bucket/key?<redacted>'"),
    ("no query here?", "no query here?"),
    (None, None),
])
def test_redact_strips_query_strings(secrets, text, expected):
    assert redact(text) == expected


def test_redact_masks_registered_secrets_longest_first(secrets):
    register_secret("nvapi-abcdef")
    register_secret("nvapi-abcdef-longer")
    register_secret("abc")  # too short to be masked safely
    assert redact("token nvapi-abcdef-longer and nvapi-abcdef, abc") == "token %s and %s, abc" % (MASK, MASK)


def test_redact_url_drops_query_and_userinfo(secrets):
    assert redact_url("https://user:pw@s3.example.com/bucket/key?X-Amz-Signature=1") == \
        "https://%s@s3.example.com/bucket/key" % MASK
    assert redact_url("") == ""


def test_errors_are_scrubbed_and_carry_a_failure_dict(secrets):
    register_secret("Sup3r-Secret")
    exc = AirApiError("create failed: password Sup3r-Secret rejected", step="create", status=400,
                      field_errors={"default_password": ["Sup3r-Secret is too weak"]}, request_id="req-1",
                      image_id="img-1")
    text = str(exc)
    assert "Sup3r-Secret" not in text
    assert text.startswith("create failed for image img-1: create failed: password %s rejected (HTTP 400)" % MASK)
    assert "(request id req-1)" in text
    failure = exc.to_failure()
    assert failure["type"] == "AirApiError" and failure["status"] == 400 and failure["step"] == "create"
    assert failure["field_errors"] == {"default_password": ["%s is too weak" % MASK]}


def test_upload_error_reports_whether_the_upload_was_aborted():
    assert AirUploadError("part 3 failed", aborted=True, step="part 3").to_failure()["upload_aborted"] is True
