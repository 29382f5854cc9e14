# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AirClient publishing and org directory against the emulator: requests, records, scopes, org ids."""

from __future__ import annotations

import pytest

from air_unit_helpers import DEMO_TOKEN, air_raises, api_image, image_fields

from air_emulator.testing import ADMIN_TOKEN, UPLOADER_TOKEN
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError, AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._models import PublishAccessRecord

RECORDS = "publishing/image-publish-access-records"


def org_ids(emulator):
    return dict((org["name"], org["id"]) for org in emulator.admin("GET", "orgs"))


@pytest.fixture
def uploaded(client, make_uploader, random_file):
    """A COMPLETE image of demo-org."""
    image = client.images.create(image_fields("to-publish"))
    image, _stats = make_uploader().upload(image, random_file(4096).path, poll_interval=0.05)
    assert image.upload_status == "COMPLETE"
    return image


def records_of(emulator, image_id):
    return emulator.api("GET", RECORDS, params={"image": image_id}).json()["results"]


def review(emulator, record_id, action, **body):
    response = emulator.api("PATCH", "%s/%s/%s" % (RECORDS, record_id, action), token=ADMIN_TOKEN, json=body)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- org directory
def test_own_org_name_resolves_to_its_id_and_ids_pass_through(emulator, client):
    ids = org_ids(emulator)
    resolved = client.organizations.resolve(["demo-org", ids["partner-org"].upper()])
    assert resolved == [("demo-org", ids["demo-org"]), (None, ids["partner-org"])]


def test_org_names_match_whatever_their_case(emulator, client):
    assert client.organizations.resolve(["DEMO-ORG"]) == [("DEMO-ORG", org_ids(emulator)["demo-org"])]


def test_the_tokens_own_org_is_known_to_an_ordinary_token_only(emulator, client, make_client):
    assert client.organizations.own()["org_id"] == org_ids(emulator)["demo-org"]
    assert make_client(ADMIN_TOKEN).organizations.own() is None  # a reviewer sees every organization


def test_another_orgs_name_is_refused_asking_for_its_id(client):
    with air_raises(AirInputError, match="allowed_orgs\\[1\\]: organization 'partner-org' is not visible") as info:
        client.organizations.resolve(["demo-org", "partner-org"])
    assert "give the organization's id instead" in str(info.value)


def test_a_reviewer_token_resolves_every_org(emulator, make_client):
    assert make_client(ADMIN_TOKEN).organizations.resolve(["partner-org"]) == [
        ("partner-org", org_ids(emulator)["partner-org"])]


@pytest.mark.parametrize("items, message", [
    (["demo-org", "demo-org"], "listed twice"),
    ([""], r"allowed_orgs has an empty entry at the start \(entry 1 of 1\)"),
    ([None], "must be an org id or an NGC org name"),
])
def test_bad_allow_list_items_are_refused(emulator, client, items, message):
    with air_raises(AirInputError, match=message):
        client.organizations.resolve(items)


@pytest.mark.parametrize("given, message", [
    ("demo-org,", "allowed_orgs 'demo-org,' has an empty entry after 'demo-org' (entry 2 of 2); remove the comma "
                  "too many"),
    ("demo-org,,partner-org", "allowed_orgs 'demo-org,,partner-org' has an empty entry after 'demo-org' (entry 2 of 3)"),
])
def test_an_empty_allowed_org_is_named_as_the_user_wrote_it_before_any_request(emulator, client, given, message):
    emulator.add_fault(action="status", status=500, path="resource-budgets", count=0)  # no lookup may happen
    with air_raises(AirInputError) as info:
        client.organizations.resolve([item.strip() for item in given.split(",")], given=given)
    assert message in str(info.value) and "[1]" not in str(info.value)


def test_the_same_org_by_name_and_by_id_is_listed_twice(emulator, client):
    with air_raises(AirInputError, match="listed twice"):
        client.organizations.resolve(["demo-org", org_ids(emulator)["demo-org"]])


# ---------------------------------------------------------------- scopes
@pytest.mark.parametrize("token, expected", [(DEMO_TOKEN, True), (UPLOADER_TOKEN, False),
                                             ("nvapi-readonly-token", False)])
def test_may_publish_directly_tells_the_scope_without_publishing_anything(emulator, make_client, token, expected):
    client = make_client(token)
    assert client.publishing.may_publish_directly() is expected
    assert client.publishing.may_publish_directly() is expected  # kept: one probe per client
    state = emulator.state()
    assert state["images"] == 0 and state["publish_access_records"] == {}


@pytest.mark.parametrize("token, may_request, may_delete", [
    (DEMO_TOKEN, True, True), (UPLOADER_TOKEN, True, True), ("nvapi-readonly-token", False, False)])
def test_the_request_and_delete_scopes_are_told_without_writing(emulator, make_client, token, may_request, may_delete):
    client = make_client(token)
    assert client.publishing.may_request() is may_request
    assert client.images.may_delete() is may_delete
    state = emulator.state()
    assert state["images"] == 0 and state["publish_access_records"] == {}


# ---------------------------------------------------------------- the gated flow
def test_request_wait_for_review_and_read_the_outcome(emulator, make_client, uploaded):
    uploader = make_client(UPLOADER_TOKEN)
    partner = org_ids(emulator)["partner-org"]
    pending = uploader.publishing.request_publish(uploaded, "Lab access", prefer_public=False,
                                                  allowed_orgs_request_text="partner-org (%s)" % partner)
    assert pending.upload_status == "PENDING_PUBLISH" and not pending.published
    record = uploader.publishing.record_of(pending)
    assert isinstance(record, PublishAccessRecord)
    assert (record.status, record.prefer_public, record.allowed_orgs) == ("PENDING", False, None)
    assert record.is_pending and record.is_open
    assert [r.id for r in uploader.publishing.records(image=uploaded.id, status="PENDING")] == [record.id]

    with air_raises(AirApiError) as refused:
        uploader.publishing.request_publish(pending, "Again")
    assert refused.value.status == 409
    assert refused.value.body["publish_access_record_id"] == record.id

    review(emulator, record.id, "approve", allowed_orgs=[partner])
    published = emulator.wait_for(uploaded.id, "COMPLETE")
    assert published["published"] and not published["publicly_published"]
    live = uploader.publishing.live_record(uploader.images.get(uploaded.id))
    assert live.id == record.id and live.status == "APPROVED" and live.reviewed_by == "admin@air-admin.example.com"


def test_cancel_withdraws_the_pending_request(make_client, uploaded):
    uploader = make_client(UPLOADER_TOKEN)
    pending = uploader.publishing.request_publish(uploaded, "Lab access")
    record = uploader.publishing.record_of(pending)
    after = uploader.publishing.cancel(pending, record)
    assert after.upload_status == "COMPLETE" and after.publish_access_record_id == record.id
    assert uploader.publishing.record(record.id).status == "CANCELLED"


def test_the_newest_approved_record_governs_the_visibility(emulator, make_client, client, uploaded):
    ids = org_ids(emulator)
    client.publishing.publish(uploaded, prefer_public=False, allowed_orgs=[ids["partner-org"]],
                              justification="first")
    emulator.wait_for(uploaded.id, "COMPLETE")
    first = client.publishing.record_of(client.images.get(uploaded.id))
    changed = client.publishing.request_allowlist_change(client.images.get(uploaded.id), "second", "lab-org too")
    second = client.publishing.record_of(changed)
    review(emulator, second.id, "approve", allowed_orgs=[ids["partner-org"], ids["demo-org"]])
    denied = client.publishing.request_public(client.images.get(uploaded.id), True, "go public")
    review(emulator, client.publishing.record_of(denied).id, "deny", denial_reason="not yet")
    current = client.images.get(uploaded.id)
    assert client.publishing.record_of(current).status == "DENIED"
    assert first.status == "APPROVED" and client.publishing.record(first.id).status == "APPROVED"
    assert client.publishing.live_record(current).id == second.id


# ---------------------------------------------------------------- lost answers
@pytest.mark.parametrize("call", ["request_publish", "request_unpublish"])
def test_a_request_whose_answer_was_lost_is_not_sent_twice(emulator, client, make_client, uploaded, call):
    if call == "request_unpublish":
        client.publishing.publish(uploaded)
        uploaded = client.images.get(emulator.wait_for(uploaded.id, "COMPLETE")["id"])
    before = len(records_of(emulator, uploaded.id))
    uploader = make_client(UPLOADER_TOKEN)
    emulator.add_fault(action="drop", method="PATCH", path="/%s/$" % call.replace("_", "-"))
    after = getattr(uploader.publishing, call)(uploaded, "Lab access")
    assert after.upload_status in ("PENDING_PUBLISH", "PENDING_UNPUBLISH")
    assert len(records_of(emulator, uploaded.id)) == before + 1
    assert emulator.faults()[0]["fired"] == 1


def test_a_cancel_whose_answer_was_lost_is_not_an_error(emulator, make_client, uploaded):
    uploader = make_client(UPLOADER_TOKEN)
    pending = uploader.publishing.request_publish(uploaded, "Lab access")
    record = uploader.publishing.record_of(pending)
    emulator.add_fault(action="drop", method="PATCH", path="/cancel-publish-access-record/$")
    after = uploader.publishing.cancel(pending, record)
    assert after.upload_status == "COMPLETE"
    assert api_image(emulator, uploaded.id)["upload_status"] == "COMPLETE"
    assert emulator.faults()[0]["fired"] == 1
