# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The cross-organization image flow, every step an Ansible task (pytest-ansible).

demo-org creates an image, uploads a file, publishes it and shares it with
partner-org; partner-org claims the share. Every step is run again and must
report no change; the partner cannot touch the demo image; cleanup leaves no
image behind. What the modules report is cross-checked against the emulator.
"""

from __future__ import annotations

import json
import uuid

import pytest

from air_emulator.testing import DEMO_TOKEN, PARTNER_TOKEN, READONLY_TOKEN

CHUNK_SIZE = 5 * 1024 * 1024  # the emulator's part size (see conftest.py)
FAST_WAIT = dict(poll_interval=0.1, wait_timeout=30)  # transitions last 0.2 s in the emulator
PASSWORD = "Tq7-vault-Zx9"  # not a substring of anything else in the results
MASK = "********"
PARTNER_EMAIL = "partner@partner-org.example.com"


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator):
    """Each test starts from an empty emulator (no images, shares, uploads, faults)."""
    emulator.reset()
    yield
    emulator.clear_faults()


# --------------------------------------------------------------------- helpers
def ok(result):
    """The result of a task that must have succeeded, without warnings."""
    assert not result.get("failed"), "task failed: %s\n%s" % (result.get("msg"), json.dumps(result, indent=1))
    assert not result.get("warnings"), result["warnings"]
    assert not result.get("deprecations"), result["deprecations"]
    return result


def unchanged(result):
    """The result of a re-run: success, nothing changed, nothing done."""
    ok(result)
    assert result["changed"] is False, result.get("actions")
    assert result.get("actions", []) == [], result["actions"]
    return result


def failed(result, status, step):
    """The result of a task that must have failed with ``status`` at ``step``."""
    assert result.get("failed") is True, "task did not fail: %s" % json.dumps(result, indent=1)
    failure = result.get("failure")
    assert isinstance(failure, dict), result
    assert failure["status"] == status, failure
    assert failure["step"] == step, failure
    return failure


def api_images(emulator, token, **filters):
    """Images visible to ``token`` straight from the emulator (not through the modules)."""
    response = emulator.api("GET", "images", token=token, params=filters)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def api_image(emulator, image_id, token=DEMO_TOKEN):
    response = emulator.api("GET", "images/%s" % image_id, token=token)
    assert response.status_code == 200, response.text
    return response.json()


# ----------------------------------------------------------------------- tests
def test_cross_org_flow(air, emulator, disk_image):
    suffix = uuid.uuid4().hex[:8]
    name, version = "ansible-flow-%s" % suffix, "1.0.0"
    partner_name = "ansible-flow-%s-claimed" % suffix
    label = "%r version %r" % (name, version)

    # ---- 1. demo-org creates the image
    create = dict(name=name, version=version, default_username="cumulus", default_password=PASSWORD,
                  cpu_arch="x86", provider="VM", notes="built by tests/ansible",
                  minimum_resources=dict(cpu=2, memory=2048, storage=10), **FAST_WAIT)
    result = ok(air("air_image", **create))
    assert result["changed"] is True
    assert result["actions"] == ["created image %s" % label]
    image = result["image"]
    image_id = image["id"]
    assert image_id
    assert (image["name"], image["version"]) == (name, version)
    assert image["upload_status"] == "READY"
    assert image["published"] is False
    assert image["notes"] == "built by tests/ansible"
    assert image["minimum_resources"] == {"cpu": 2, "memory": 2048, "storage": 10}
    assert image["default_password"] == MASK
    assert PASSWORD not in json.dumps(result)
    stored = api_image(emulator, image_id)
    assert (stored["name"], stored["version"], stored["upload_status"]) == (name, version, "READY")

    result = unchanged(air("air_image", **create))
    assert result["image"]["id"] == image_id

    # ---- 2. upload ~12 MiB with 4 workers (5 MiB parts -> 3 parts)
    upload = dict(name=name, version=version, src=disk_image.path, workers=4, poll_interval=0.1, wait_timeout=60)
    result = ok(air("air_image_upload", **upload))
    assert result["changed"] is True
    assert result["sha256"] == disk_image.sha256
    image = result["image"]
    assert image["id"] == image_id
    assert image["upload_status"] == "COMPLETE"
    assert (image["hash"], image["size"]) == (disk_image.sha256, disk_image.size)
    stats = result["upload"]
    assert stats["bytes_total"] == stats["bytes_uploaded"] == disk_image.size
    assert stats["parts_total"] == stats["parts_uploaded"] == 3
    assert (stats["parts_resumed"], stats["resumed"]) == (0, False)
    assert (stats["workers"], stats["chunk_size"]) == (4, CHUNK_SIZE)
    assert emulator.state()["settings"]["chunk_size"] == CHUNK_SIZE
    assert stats["sha256"] == disk_image.sha256
    assert stats["upload_aborted"] is None
    stored = api_image(emulator, image_id)
    assert (stored["upload_status"], stored["hash"], stored["size"]) == ("COMPLETE", disk_image.sha256, disk_image.size)
    assert emulator.state()["uploads"] == []  # no multipart upload left open

    result = unchanged(air("air_image_upload", **upload))
    assert result["upload"] is None
    assert result["sha256"] == result["image"]["hash"] == disk_image.sha256

    # ---- 3. publish
    publish = dict(name=name, version=version, published=True, **FAST_WAIT)
    result = ok(air("air_image", **publish))
    assert result["changed"] is True
    assert result["actions"] == ["published image %s (%s) (public)" % (label, image_id)]
    image = result["image"]
    assert image["id"] == image_id
    assert image["published"] is True
    assert image["upload_status"] == "COMPLETE"  # wait: PUBLISHING is over
    stored = api_image(emulator, image_id)
    assert (stored["published"], stored["upload_status"]) == (True, "COMPLETE")

    result = unchanged(air("air_image", **publish))
    assert result["image"]["published"] is True

    # ---- 4. share with partner-org; the share id is the claim code
    share = dict(name=name, version=version, target_orgs=["partner-org"], **FAST_WAIT)
    result = ok(air("air_image_share", **share))
    assert result["changed"] is True
    assert (result["created"], result["revoked"]) == (["partner-org"], [])
    assert result["image"]["id"] == image_id
    assert len(result["shares"]) == 1, result["shares"]
    live = result["shares"][0]
    assert (live["image"], live["target_org"], live["state"], live["claimed_by"]) == (
        image_id, "partner-org", "ACTIVE", "")
    claim_code = live["id"]
    assert claim_code

    result = unchanged(air("air_image_share", **share))
    assert (result["created"], result["revoked"]) == ([], [])
    assert [s["id"] for s in result["shares"]] == [claim_code]

    # ---- 5. partner-org claims it and waits for COMPLETE
    claim = dict(state="claimed", share_id=claim_code, name=partner_name, version=version, **FAST_WAIT)
    result = ok(air("air_image_share", token=PARTNER_TOKEN, **claim))
    assert result["changed"] is True
    assert result["actions"] == ["claimed share %s" % claim_code]
    copy = result["image"]
    partner_id = copy["id"]
    assert partner_id and partner_id != image_id
    assert (copy["name"], copy["version"]) == (partner_name, version)
    assert copy["upload_status"] == "COMPLETE"
    assert copy["is_owned_by_client"] is True
    assert copy["hash"] == disk_image.sha256
    assert copy["size"] == disk_image.size

    # The partner's own view (air_image_info) and the emulator agree.
    partner_view = dict(name=partner_name, version=version)
    result = unchanged(air("air_image_info", token=PARTNER_TOKEN, **partner_view))
    assert [i["id"] for i in result["images"]] == [partner_id]
    assert result["images"][0]["hash"] == disk_image.sha256
    assert api_image(emulator, partner_id, token=PARTNER_TOKEN)["hash"] == disk_image.sha256

    # ---- 6. demo-org sees its share as CLAIMED
    shares_info = dict(id=image_id, shares=True, share_image=image_id)
    result = unchanged(air("air_image_info", **shares_info))
    assert [i["id"] for i in result["images"]] == [image_id]
    assert len(result["shares"]) == 1, result["shares"]
    claimed = result["shares"][0]
    assert (claimed["id"], claimed["state"], claimed["claimed_by"], claimed["target_org"]) == (
        claim_code, "CLAIMED", PARTNER_EMAIL, "partner-org")

    # ---- 7. every step once more, now that the image is published, shared and claimed
    # (the demo steps were also re-run right after they ran)
    assert unchanged(air("air_image", **create))["image"]["published"] is True
    assert unchanged(air("air_image_upload", **upload))["upload"] is None
    assert unchanged(air("air_image", **publish))["image"]["id"] == image_id
    result = unchanged(air("air_image_share", **share))  # the claimed share still counts as "shared"
    assert (result["created"], result["revoked"]) == ([], [])
    assert [(s["id"], s["state"]) for s in result["shares"]] == [(claim_code, "CLAIMED")]
    result = unchanged(air("air_image_share", token=PARTNER_TOKEN, **claim))  # found by name and version
    assert (result["image"]["id"], result["image"]["hash"]) == (partner_id, disk_image.sha256)
    assert [i["id"] for i in api_images(emulator, PARTNER_TOKEN, is_owned_by_client="true")] == [partner_id]
    result = unchanged(air("air_image_info", **shares_info))
    assert [(s["id"], s["state"]) for s in result["shares"]] == [(claim_code, "CLAIMED")]  # no new share

    # ---- 8. the partner can see the published demo image but not change or delete it: refused before any
    # request is sent (the image says it is not the partner's), where the API would answer 403
    before = api_image(emulator, image_id)
    result = air("air_image", token=PARTNER_TOKEN, id=image_id, notes="changed by partner-org", **FAST_WAIT)
    failure = failed(result, None, "check owner")
    assert failure["type"] == "AirInputError" and "only its owner can change notes" in failure["message"]
    assert failure["image_id"] == image_id
    result = air("air_image", token=PARTNER_TOKEN, id=image_id, state="absent", **FAST_WAIT)
    failure = failed(result, None, "check owner")
    assert failure["type"] == "AirInputError" and "only its owner can delete it" in failure["message"]
    after = api_image(emulator, image_id)
    assert (after["notes"], after["published"], after["modified"]) == (
        before["notes"], True, before["modified"])

    # ---- 9. cleanup: unpublish + delete both images, then nothing changes any more
    demo_absent = dict(name=name, version=version, state="absent", **FAST_WAIT)
    partner_absent = dict(name=partner_name, version=version, state="absent", **FAST_WAIT)
    result = ok(air("air_image", **demo_absent))
    assert result["changed"] is True
    assert result["image"] is None
    demo_label = "%s (%s)" % (label, image_id)
    assert result["actions"] == ["unpublished image %s" % demo_label, "deleted image %s" % demo_label]
    result = ok(air("air_image", token=PARTNER_TOKEN, **partner_absent))
    assert result["changed"] is True
    assert result["image"] is None
    assert result["actions"] == ["deleted image %r version %r (%s)" % (partner_name, version, partner_id)]

    assert unchanged(air("air_image", **demo_absent))["image"] is None
    assert unchanged(air("air_image", token=PARTNER_TOKEN, **partner_absent))["image"] is None

    for token in (DEMO_TOKEN, PARTNER_TOKEN):
        for image_name in (name, partner_name):
            assert api_images(emulator, token, name=image_name) == [], (token, image_name)
        for gone in (image_id, partner_id):
            assert emulator.api("GET", "images/%s" % gone, token=token).status_code == 404
    assert emulator.state()["images"] == 0


def test_readonly_token_cannot_create(air, emulator):
    name, version = "ansible-readonly-%s" % uuid.uuid4().hex[:8], "1.0.0"
    result = air("air_image", token=READONLY_TOKEN, name=name, version=version, default_username="cumulus",
                 default_password=PASSWORD, **FAST_WAIT)
    failure = failed(result, 403, "create")
    assert failure["type"] == "AirAuthError"
    assert "image_write" in failure["message"], failure
    assert result.get("image") is None
    assert PASSWORD not in json.dumps(result)

    for token in (DEMO_TOKEN, READONLY_TOKEN):
        assert api_images(emulator, token, name=name) == []
    assert emulator.state()["images"] == 0


def test_refused_write_reports_no_change(air, emulator):
    name, version = "ansible-readonly-%s" % uuid.uuid4().hex[:8], "1.0.0"
    result = air("air_image", token=READONLY_TOKEN, name=name, version=version, default_username="cumulus",
                 default_password=PASSWORD, **FAST_WAIT)
    failed(result, 403, "create")
    assert emulator.state()["images"] == 0  # nothing was created ...
    assert result["actions"] == []  # ... so nothing was done
    assert result["changed"] is False  # ... and nothing changed
