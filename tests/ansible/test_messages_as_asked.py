# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Messages follow the user's words and the code's behaviour; secrets and versions as given (issue 19).

Each case runs the module through Ansible against the emulator, as a new user would.
"""

from __future__ import annotations

import json
import uuid

import pytest
from air_emulator.testing import DEMO_TOKEN

PASSWORD = "Messages-Passw0rd"
FAST_WAIT = dict(poll_interval=0.1, wait_timeout=60)


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator):
    emulator.reset()
    yield
    emulator.clear_faults()


def _uploaded(air, disk_image, name, version="1.0"):
    created = air("air_image", name=name, version=version, default_username="cumulus", default_password=PASSWORD)
    assert not created.get("failed"), created.get("msg")
    uploaded = air("air_image_upload", image=created["image"]["id"], src=disk_image.path, poll_interval=0.1)
    assert uploaded["image"]["upload_status"] == "COMPLETE", uploaded.get("msg")
    return uploaded["image"]


def test_naming_an_image_by_its_name_before_a_publish_rename_says_where_it_went(air, emulator, disk_image):
    name = "renamed-%s" % uuid.uuid4().hex[:8]
    image = _uploaded(air, disk_image, name)
    published = air("air_image", name=name, version="1.0", published=True, publish_version="1.0-catalog",
                    **FAST_WAIT)
    assert published.get("failed") is not True and published["image"]["version"] == "1.0-catalog", published

    again = air("air_image", name=name, version="1.0", published=True, **FAST_WAIT)
    assert again["failed"] is True
    assert "is READY" not in again["msg"] and "upload it with" not in again["msg"]
    assert again["msg"].startswith("check upload status failed: no image named %r version '1.0' is in your "
                                   "organization any more" % name), again["msg"]
    assert "%r version '1.0-catalog' (%s)" % (name, image["id"]) in again["msg"]
    assert again["changed"] is False


def test_publishing_an_image_that_never_existed_says_so(air, emulator):
    again = air("air_image", name="never-%s" % uuid.uuid4().hex[:8], version="1.0", published=True, **FAST_WAIT)
    assert again["failed"] is True
    assert "is in your organization, so there is nothing to publish" in again["msg"]
    assert again["failure"]["step"] == "check upload status"  # image_release's check mode relies on the step
    assert emulator.api("GET", "images").json()["results"] == []


def test_a_persistent_500_on_publish_fails_as_publish_not_as_the_scope_probe(air, emulator, disk_image):
    image = _uploaded(air, disk_image, "five-hundred-%s" % uuid.uuid4().hex[:8])
    emulator.add_fault(action="status", status=500, method="PATCH", path="/publish/", count=0)
    result = air("air_image", id=image["id"], published=True, **FAST_WAIT)
    assert result["failed"] is True
    assert result["msg"].startswith("publish failed") and "(HTTP 500)" in result["msg"], result["msg"]
    assert "check scopes" not in result["msg"] and result["failure"]["step"] == "publish"
    assert "scope" in result["failure"]["detail"]  # the probe is detail only


def test_a_persistent_500_on_retention_fails_as_delete_not_as_the_scope_probe(air, emulator, disk_image):
    name = "five-hundred-%s" % uuid.uuid4().hex[:8]
    for version in ("1.0", "2.0"):
        created = air("air_image", name=name, version=version, default_username="u", default_password=PASSWORD)
        assert not created.get("failed"), created.get("msg")
    emulator.add_fault(action="status", status=500, method="DELETE", path="/images/", count=0)
    result = air("air_image_retention", name=name, keep=1, state="absent", **FAST_WAIT)
    assert result["failed"] is True
    assert result["msg"].startswith("delete failed") and "(HTTP 500)" in result["msg"], result["msg"]
    assert "check scopes" not in result["msg"] and result["failure"]["step"] == "delete"
    assert "scope" in result["failure"]["detail"]
    assert len(emulator.api("GET", "images", params={"name": name}).json()["results"]) == 2


# ------------------------------------------------------------------- tokens
@pytest.mark.parametrize("pasted", [DEMO_TOKEN + "\n", DEMO_TOKEN + "\r\n", "\t" + DEMO_TOKEN + " "])
def test_a_token_pasted_with_white_space_around_it_works(air, emulator, pasted):
    result = air("air_image_info", token=pasted)
    assert not result.get("failed"), result.get("msg")
    assert result["images"] == []


@pytest.mark.parametrize("inner", ["\u200b", "\u00a0", "\n", " "], ids=["zero-width", "nbsp", "newline", "space"])
def test_a_token_that_cannot_be_sent_fails_in_one_line_naming_the_option(air, emulator, inner):
    token = "nvapi-abc" + inner + "hidden-token-rest"
    result = air("air_image_info", token=token)
    assert result["failed"] is True
    assert result["msg"].startswith("check options failed: api_token holds a character that cannot be sent in an "
                                    "HTTP header (U+"), result["msg"]
    assert "\n" not in result["msg"] and "latin-1" not in result["msg"]
    assert result["failure"]["type"] == "AirConfigError" and result["failure"]["attempts"] is None
    text = json.dumps(result)
    for fragment in ("hidden-token-rest", "nvapi-abc"):
        assert fragment not in text


def test_a_version_written_as_a_number_is_refused_through_ansible(air, emulator):
    result = air("air_image", name="float-version", version=5.1, default_username="u", default_password=PASSWORD)
    assert result["failed"] is True
    assert 'version: "5.1" (or "5.10")' in result["msg"]
    assert emulator.api("GET", "images").json()["results"] == []
