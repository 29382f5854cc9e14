# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""air_image publication options: option checks and check-mode decisions (stub client, no network).

The stub answers reads only (the image, its publish access records, whether the
token may publish directly); any write fails the test, so every check-mode
prediction and every refusal here is shown to happen before anything is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirAuthError, AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._models import PublishAccessRecord
from ansible_collections.nvidia.air.plugins.modules.air_image import AirImageModule
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import (
    StubClient,
    _ReadOnly,
    image,
    make_module,
    run_module,
)

PARTNER = "13747243-62b0-53ba-a182-57f4abc0c82f"
OWN = "86b2699f-3c1d-5e0a-9f4b-2d7c8e1a6b53"  # the token's organization
RECORD_ID = "9e2a4c1d-5b6f-4a7e-8c9d-0e1f2a3b4c5d"
LINE = "Allowed organizations (nvidia.air): %s" % PARTNER


class StubPublishing(_ReadOnly):
    def __init__(self, records, may_publish, calls, may_request=True):
        super(StubPublishing, self).__init__("publishing")
        self._records, self._may_publish, self._calls = records, may_publish, calls
        self._may_request = may_request

    def record_of(self, current):
        self._calls.append(("record_of", current.id))
        return self._records.get(current.publish_access_record_id)

    def live_record(self, current):
        self._calls.append(("live_record", current.id))
        approved = [r for r in self._records.values() if r.status == "APPROVED"]
        return approved[-1] if approved else None

    def may_publish_directly(self, step="publish"):
        self._calls.append(("may_publish_directly",))
        return self._may_publish

    def may_request(self, step="request publication"):
        self._calls.append(("may_request",))
        return self._may_request


class StubOrganizations(_ReadOnly):
    def __init__(self, calls):
        super(StubOrganizations, self).__init__("organizations")
        self._calls = calls

    def resolve(self, items, option="allowed_orgs", given=None):
        self._calls.append(("resolve", list(items)))
        return [(None, item) for item in items]

    def own(self):
        return {"org_id": OWN, "ngc_org_name": "demo-org"}


class PublishingClient(StubClient):
    def __init__(self, images=(), records=(), may_publish=True, may_request=True):
        super(PublishingClient, self).__init__(images)
        self.publishing = StubPublishing(dict((r.id, r) for r in records), may_publish, self.calls, may_request)
        self.organizations = StubOrganizations(self.calls)


def record(status, **fields):
    data = {"id": RECORD_ID, "status": status, "image_name": "cumulus-vx", "image_version": "5.16.0",
            "prefer_public": True, "justification": "", "allowed_orgs_request_text": "", "denial_reason": "",
            "reviewed_by": None, "image": "935b994e-9e1e-4d85-9275-10f7b3111cd9"}
    data.update(fields)
    return PublishAccessRecord(data)


def uploaded(**fields):
    return image(**dict({"upload_status": "COMPLETE"}, **fields))


def run(args, capsys, client, check_mode=True, diff=True):
    current = client.images._images[0]
    args = dict({"name": current.name, "version": current.version}, **args)
    return run_module(AirImageModule, args, capsys, client=client, check_mode=check_mode, diff=diff)


# ------------------------------------------------------------------ option checks
@pytest.mark.parametrize("args, message", [
    ({"published": True, "visibility": "public", "allowed_orgs": [PARTNER]}, "only used with visibility: restricted"),
    ({"visibility": "restricted"}, "need published: true"),
    ({"published": False, "allowed_orgs": []}, "need published: true"),
    ({"state": "absent", "published": True, "visibility": "public"}, "need published: true"),
    ({"published": True, "unpublish_name": "old"}, "need published: false"),
    ({"published": True, "justification": "x" * 2049}, "2049 characters long"),
])
def test_publication_options_are_refused(args, message):
    with pytest.raises(AirInputError) as raised:
        make_module(AirImageModule, dict({"name": "n", "version": "1"}, **args)).check_options()
    assert message in str(raised.value)


def test_allowed_orgs_imply_a_restricted_visibility():
    client = PublishingClient()
    module = make_module(AirImageModule, {"name": "n", "version": "1", "published": True,
                                          "allowed_orgs": [PARTNER]})
    module._client = client
    desired = module.desired_publication()
    assert desired.visibility == "restricted" and desired.allowed_ids == [PARTNER]
    assert ("resolve", [PARTNER]) in client.calls


# ------------------------------------------------------------------ check mode
def test_check_mode_predicts_a_request_when_the_token_may_not_publish(capsys):
    client = PublishingClient([uploaded()], may_publish=False)
    result = run({"published": True, "allowed_orgs": [PARTNER], "justification": "Lab access"}, capsys, client)
    assert result["changed"] is True
    assert result["actions"][0].startswith("requested to publish image")
    assert result["publish_request"]["status"] == "PENDING" and result["publish_request"]["id"] is None
    assert result["publish_request"]["allowed_orgs_request_text"] == LINE
    assert result["image"]["upload_status"] == "PENDING_PUBLISH" and result["image"]["published"] is False
    assert result["diff"]["after"]["publish_request"] == {
        "status": "PENDING", "visibility": "restricted", "allowed_orgs": [PARTNER]}


def test_check_mode_predicts_a_restricted_direct_publication(capsys):
    client = PublishingClient([uploaded()], may_publish=True)
    result = run({"published": True, "allowed_orgs": [PARTNER]}, capsys, client)
    assert result["changed"] is True and "restricted to %s" % PARTNER in result["actions"][0]
    assert result["image"]["published"] is True and result["image"]["publicly_published"] is False
    assert result["diff"]["after"] == {"published": True, "visibility": "restricted", "allowed_orgs": [PARTNER]}
    assert result["publish_request"]["justification"] == LINE


def test_a_request_without_justification_fails_before_anything_is_written(capsys):
    client = PublishingClient([uploaded()], may_publish=False)
    result = run({"published": True}, capsys, client, check_mode=False)
    assert result["failed"] is True and result["changed"] is False
    assert "justification is required" in result["msg"] and "air:image_publish" in result["msg"]


def test_direct_without_the_scope_names_the_scope_and_suggests_a_request(capsys):
    client = PublishingClient([uploaded()], may_publish=False)
    result = run({"published": True, "publish_method": "direct"}, capsys, client, check_mode=False)
    assert result["failed"] is True and result["changed"] is False
    assert "air:image_publish" in result["msg"] and "publish_method: request" in result["msg"]


def test_direct_cannot_change_the_visibility_of_a_published_image(capsys):
    current = uploaded(published=True, publicly_published=True)
    client = PublishingClient([current], may_publish=True)
    result = run({"published": True, "visibility": "restricted", "publish_method": "direct"}, capsys, client,
                 check_mode=False)
    assert result["failed"] is True and "only through a reviewed request" in result["msg"]


def test_a_pending_request_is_reported_without_a_change(capsys):
    pending = record("PENDING", prefer_public=False, allowed_orgs_request_text=LINE)
    current = uploaded(upload_status="PENDING_PUBLISH", publish_access_record_id=RECORD_ID)
    client = PublishingClient([current], [pending], may_publish=False)
    result = run({"published": True, "allowed_orgs": [PARTNER], "justification": "Lab access"}, capsys, client,
                 check_mode=False)
    assert result["changed"] is False and result["actions"] == []
    assert result["publish_request"]["id"] == RECORD_ID and result["publish_request"]["status"] == "PENDING"
    assert ("may_publish_directly",) not in client.calls  # nothing to send: no need to know


def test_a_denied_request_fails_with_the_reviewers_reason(capsys):
    denied = record("DENIED", prefer_public=False, allowed_orgs_request_text=LINE, justification="Lab access",
                    reviewed_by="reviewer@nvidia.com", denial_reason="Add release notes first")
    client = PublishingClient([uploaded(publish_access_record_id=RECORD_ID)], [denied], may_publish=False)
    result = run({"published": True, "allowed_orgs": [PARTNER], "justification": "Lab access"}, capsys, client,
                 check_mode=False)
    assert result["failed"] is True and result["changed"] is False
    assert "Add release notes first" in result["msg"] and "reviewer@nvidia.com" in result["msg"]
    assert result["failure"]["type"] == "AirPublishRequestError"
    assert result["failure"]["publish_access_record_id"] == RECORD_ID


def test_check_mode_predicts_withdrawing_a_pending_publish_request(capsys):
    pending = record("PENDING")
    current = uploaded(upload_status="PENDING_PUBLISH", publish_access_record_id=RECORD_ID)
    client = PublishingClient([current], [pending], may_publish=False)
    result = run({"published": False}, capsys, client)
    assert result["changed"] is True and result["actions"][0].startswith("cancelled publish request %s" % RECORD_ID)
    assert result["publish_request"]["status"] == "CANCELLED"
    assert result["image"]["upload_status"] == "COMPLETE"
    assert result["diff"] == {"before": {"publish_request": {"status": "PENDING"}},
                              "after": {"publish_request": {"status": "CANCELLED"}}}


def test_the_same_allow_list_as_last_approved_is_no_change(capsys):
    live = record("APPROVED", prefer_public=False, justification="Lab access\n\n" + LINE)
    current = uploaded(published=True, publicly_published=False, publish_access_record_id=RECORD_ID)
    client = PublishingClient([current], [live], may_publish=True)
    result = run({"published": True, "allowed_orgs": [PARTNER]}, capsys, client)
    assert result["changed"] is False and result["publish_request"]["status"] == "APPROVED"


@pytest.mark.parametrize("approved, asked", [([PARTNER], [PARTNER, OWN]), ([PARTNER, OWN], [PARTNER]),
                                             ([OWN], []), ([], [OWN])])
def test_the_owning_organization_in_an_allow_list_changes_nothing(capsys, approved, asked):
    # The owner always sees its image: listing it or not is the same allow-list, and no reviewer is asked.
    line = "Allowed organizations (nvidia.air): %s" % (", ".join(approved) or "none besides the owning organization")
    live = record("APPROVED", prefer_public=False, justification="Lab access\n\n" + line)
    current = uploaded(published=True, publicly_published=False, publish_access_record_id=RECORD_ID)
    client = PublishingClient([current], [live], may_publish=True)
    result = run({"published": True, "allowed_orgs": asked}, capsys, client)
    assert result["changed"] is False and result["publish_request"]["status"] == "APPROVED"


def test_another_allow_list_is_an_allow_list_change_request(capsys):
    live = record("APPROVED", prefer_public=False, justification="Lab access\n\n" + LINE)
    current = uploaded(published=True, publicly_published=False, publish_access_record_id=RECORD_ID)
    client = PublishingClient([current], [live], may_publish=True)
    result = run({"published": True, "allowed_orgs": [], "justification": "Partner left"}, capsys, client)
    assert result["changed"] is True
    assert result["publish_request"]["status"] == "PENDING_ALLOWLIST"
    assert result["diff"]["before"]["publish_request"]["allowed_orgs"] == [PARTNER]
    assert result["diff"]["after"]["publish_request"]["allowed_orgs"] == []


@pytest.mark.parametrize("args, what", [
    ({"published": False, "justification": "Lab closed"}, "only its owner can unpublish it"),
    ({"state": "absent"}, "only its owner can delete it"),
    ({"notes": "ours now"}, "only its owner can change notes"),
])
def test_another_orgs_image_is_refused_before_any_write_in_check_mode_too(capsys, args, what):
    theirs = uploaded(published=True, publicly_published=False, is_owned_by_client=False)
    for check_mode in (True, False):
        client = PublishingClient([theirs], may_publish=True)
        result = run(args, capsys, client, check_mode=check_mode)
        assert result["failed"] is True and result["changed"] is False and result["actions"] == []
        assert result["failure"]["step"] == "check owner" and what in result["msg"]


def test_a_read_only_token_is_refused_before_a_request_in_check_mode_too(capsys):
    current = uploaded()
    for check_mode in (True, False):
        client = PublishingClient([current], may_publish=False, may_request=False)
        result = run({"published": True, "justification": "Lab access"}, capsys, client, check_mode=check_mode)
        assert result["failed"] is True and result["changed"] is False and result["actions"] == []
        assert result["failure"]["step"] == "check scopes"
        assert "may neither publish (air:image_publish) nor ask an Air reviewer (air:image_write)" in result["msg"]


@pytest.mark.parametrize("args, may_publish, step, message", [
    ({"publish_method": "direct"}, False, "check scopes", "publish_method: direct needs the air:image_publish scope"),
    ({}, False, "check options", "justification is required to ask an Air reviewer"),
    ({}, True, "check upload status", "no image named 'new-image' version '1' is in your organization, so there is "
                                      "nothing to publish: create it and upload its file"),
])
def test_publishing_a_new_image_is_refused_before_it_is_created(capsys, args, may_publish, step, message):
    # The image would be created READY, without a file: nothing can publish it, so nothing is created.
    for check_mode in (True, False):
        client = PublishingClient([], may_publish=may_publish)
        result = run_module(AirImageModule, dict({"name": "new-image", "version": "1", "published": True,
                                                  "default_username": "u", "default_password": "new-Passw0rd"},
                                                 **args), capsys, client=client, check_mode=check_mode)
        assert result["failed"] is True and result["changed"] is False and result["actions"] == []
        assert result["failure"]["step"] == step and message in result["msg"]


class _HiddenRecords(StubPublishing):
    """A read-only token: the image shows its record's id, the record itself answers 403."""

    def record_of(self, current):
        self._calls.append(("record_of", current.id))
        raise AirAuthError("You do not have permission to perform this action.", status=403, step="lookup")

    def live_record(self, current):
        self._calls.append(("live_record", current.id))
        raise AirAuthError("You do not have permission to perform this action.", status=403, step="lookup")


def test_a_read_only_token_confirms_a_publication_that_holds(capsys):
    current = uploaded(published=True, publish_access_record_id=RECORD_ID)
    client = PublishingClient([current], may_publish=False, may_request=False)
    client.publishing = _HiddenRecords({}, False, client.calls, may_request=False)
    result = run({"published": True}, capsys, client, check_mode=False)
    assert not result.get("failed"), result
    assert result["changed"] is False and result["publish_request"] is None
    client = PublishingClient([current], may_publish=False, may_request=False)
    client.publishing = _HiddenRecords({}, False, client.calls, may_request=False)
    result = run({"published": False, "justification": "Lab closed"}, capsys, client, check_mode=False)
    assert result["failed"] is True and result["failure"]["step"] == "check scopes"
