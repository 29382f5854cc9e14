"""Publishing with visibility, the gated request flow and publish access records (PARs).

Most tests use ``held_emulator``: PUBLISHING / UNPUBLISHING last until the
test calls ``finish_transitions``, so every transient state can be observed
and acted on without racing the background worker.
"""

from __future__ import annotations

import pytest

from airemu_helpers import (
    ADMIN_EMAIL, DEMO_EMAIL, DEMO_TOKEN, PAR_FIELDS, PARTNER_TOKEN, UPLOADER_EMAIL, UPLOADER_TOKEN, assert_error,
    complete_image, create_image, create_share, finish_transitions, get_image, get_record, image_action, list_all,
    list_records, ok, orgs, parse_ts, review, unchanged,
)


@pytest.fixture
def emu(held_emulator):
    return held_emulator


def org_id(emu, name: str) -> str:
    return orgs(emu)[name]["id"]


def published(emu, path, token=DEMO_TOKEN, **publish_body) -> dict:
    """A COMPLETE image published directly (public unless the body says otherwise)."""
    image = complete_image(emu, path, token, name=publish_body.pop("name", "cumulus-vx"))
    ok(image_action(emu, image["id"], "publish", token, **publish_body))
    finish_transitions(emu)
    done = get_image(emu, image["id"], token)
    assert (done["upload_status"], done["published"]) == ("COMPLETE", True)
    return done


def requested(emu, image_id, action="request-publish", token=UPLOADER_TOKEN, **body) -> tuple[dict, dict]:
    """Send a request; return (image, its new record)."""
    body.setdefault("justification", "ready for partners")
    image = ok(image_action(emu, image_id, action, token, **body))
    return image, get_record(emu, image["publish_access_record_id"])


def partner_sees(emu, image_id) -> bool:
    return any(i["id"] == image_id for i in list_all(emu, token=PARTNER_TOKEN))


# --------------------------------------------------------------- direct publish
def test_direct_restricted_publish_creates_an_auto_approved_record(emu, files):
    image = complete_image(emu, files.small)
    partner = org_id(emu, "partner-org")
    response = image_action(emu, image["id"], "publish", prefer_public=False, allowed_orgs=[partner],
                            justification="partner preview")
    transient = ok(response)
    assert (transient["upload_status"], transient["published"]) == ("PUBLISHING", False)
    record_id = transient["publish_access_record_id"]
    assert record_id

    pending = get_record(emu, record_id)
    assert set(pending) == PAR_FIELDS
    assert pending["status"] == "APPROVED_PENDING_IMAGE_PUBLISH"
    assert (pending["image"], pending["image_name"], pending["image_version"]) == (
        image["id"], image["name"], image["version"])
    assert (pending["prefer_public"], pending["publicly_published"]) == (False, False)
    assert pending["justification"] == "partner preview"
    assert (pending["requested_by"], pending["reviewed_by"]) == (DEMO_EMAIL, None)  # auto-approved: no reviewer
    assert parse_ts(pending["reviewed_at"]) == parse_ts(pending["requested_at"])
    assert (pending["requesting_org"], pending["requesting_org_display_name"],
            pending["requesting_org_ngc_org_name"]) == ("Demo Org", "Demo Org", "demo-org")
    assert pending["allowed_orgs"] == sorted([org_id(emu, "demo-org"), partner])  # publishing org included
    assert (pending["denial_reason"], pending["allowed_orgs_request_text"]) == ("", "")
    assert not partner_sees(emu, image["id"])  # not in the catalog before PUBLISHING ends

    finish_transitions(emu)
    done = get_image(emu, image["id"])
    assert (done["upload_status"], done["published"], done["publicly_published"]) == ("COMPLETE", True, False)
    assert done["publish_access_record_id"] == record_id
    approved = get_record(emu, record_id)
    assert approved["status"] == "APPROVED"
    assert parse_ts(approved["modified"]) > parse_ts(pending["modified"])
    assert partner_sees(emu, image["id"])
    owner_view = get_record(emu, record_id, token=DEMO_TOKEN)
    assert owner_view["allowed_orgs"] is None  # allow-lists are for reviewers only
    assert {k: v for k, v in owner_view.items() if k != "allowed_orgs"} == \
        {k: v for k, v in approved.items() if k != "allowed_orgs"}


def test_direct_publish_to_no_other_org_is_visible_to_the_owner_only(emu, files):
    image = published(emu, files.small, prefer_public=False, allowed_orgs=[])
    assert image["publicly_published"] is False
    assert get_record(emu, image["publish_access_record_id"])["allowed_orgs"] == [org_id(emu, "demo-org")]
    assert not partner_sees(emu, image["id"])
    assert_error(emu.api("GET", f"images/{image['id']}", token=PARTNER_TOKEN), 404)


def test_direct_public_publish_then_unpublish_removes_the_record(emu, files):
    image = published(emu, files.small, justification=None)
    record_id = image["publish_access_record_id"]
    record = get_record(emu, record_id)
    assert (record["status"], record["publicly_published"], record["prefer_public"]) == ("APPROVED", True, True)
    assert (record["allowed_orgs"], record["justification"]) == ([], "")
    assert partner_sees(emu, image["id"])

    unpublishing = ok(image_action(emu, image["id"], "unpublish"))
    assert unpublishing["upload_status"] == "UNPUBLISHING" and unpublishing["published"] is True
    with unchanged(emu):  # in the pipeline: no request, no cancel
        body = assert_error(image_action(emu, image["id"], "request-unpublish", UPLOADER_TOKEN, justification="x"),
                            409)
        assert (body["publish_access_record_id"], body["upload_status"]) == (record_id, "UNPUBLISHING")
        assert_error(image_action(emu, image["id"], "cancel-publish-access-record", UPLOADER_TOKEN), 400)
    finish_transitions(emu)
    done = get_image(emu, image["id"])
    assert (done["published"], done["publicly_published"], done["publish_access_record_id"]) == (False, False, None)
    assert get_record(emu, record_id)["status"] == "REMOVED"
    assert not partner_sees(emu, image["id"])


def test_publish_is_409_while_publishing_and_names_the_record(emu, files):
    image = complete_image(emu, files.small)
    record_id = ok(image_action(emu, image["id"], "publish"))["publish_access_record_id"]
    with unchanged(emu):
        for action, token in (("publish", DEMO_TOKEN), ("request-publish", UPLOADER_TOKEN)):
            body = assert_error(image_action(emu, image["id"], action, token, justification="again"), 409)
            assert (body["publish_access_record_id"], body["publish_access_record_status"]) == (
                record_id, "APPROVED_PENDING_IMAGE_PUBLISH")
            assert record_id in body["detail"]
        assert_error(image_action(emu, image["id"], "cancel-publish-access-record"), 400)
        assert_error(review(emu, record_id, "approve"), 400)  # auto-approved: nothing to review


def test_publishing_completes_on_its_own_after_the_transition_delay(emulator, files):
    """The worker, not a test hook, ends PUBLISHING for an approved request (normal emulator)."""
    image = complete_image(emulator, files.small)
    ok(image_action(emulator, image["id"], "request-publish", UPLOADER_TOKEN, justification="please"))
    record_id = get_image(emulator, image["id"])["publish_access_record_id"]
    assert ok(review(emulator, record_id, "approve"))["status"] == "APPROVED_PENDING_IMAGE_PUBLISH"
    done = emulator.wait_for(image["id"], "COMPLETE")
    assert done["published"] is True
    assert get_record(emulator, record_id)["status"] == "APPROVED"


# -------------------------------------------------------------- request-publish
def test_request_publish_then_approve_restricted(emu, files):
    image = complete_image(emu, files.small)
    response = image_action(emu, image["id"], "request-publish", UPLOADER_TOKEN, justification="for partner labs",
                            prefer_public=False, allowed_orgs_request_text="Partner Org")
    pending_image = ok(response)
    assert (pending_image["upload_status"], pending_image["published"]) == ("PENDING_PUBLISH", False)
    record = get_record(emu, pending_image["publish_access_record_id"])
    assert set(record) == PAR_FIELDS
    assert (record["status"], record["requested_by"], record["justification"]) == (
        "PENDING", UPLOADER_EMAIL, "for partner labs")
    assert (record["prefer_public"], record["publicly_published"]) == (False, False)
    assert record["allowed_orgs_request_text"] == "Partner Org"
    assert (record["reviewed_by"], record["reviewed_at"], record["denial_reason"]) == (None, None, "")
    assert not partner_sees(emu, image["id"])
    assert emu.state()["publish_access_records"] == {"PENDING": 1}

    partner = org_id(emu, "partner-org")
    approved = ok(review(emu, record["id"], "approve", publicly_published=False, allowed_orgs=[partner]))
    assert set(approved) == PAR_FIELDS
    assert (approved["status"], approved["reviewed_by"]) == ("APPROVED_PENDING_IMAGE_PUBLISH", ADMIN_EMAIL)
    assert approved["reviewed_at"] and approved["allowed_orgs"] == sorted([org_id(emu, "demo-org"), partner])
    assert get_image(emu, image["id"])["upload_status"] == "PUBLISHING"

    finish_transitions(emu)
    done = get_image(emu, image["id"])
    assert (done["upload_status"], done["published"], done["publicly_published"]) == ("COMPLETE", True, False)
    assert get_record(emu, record["id"])["status"] == "APPROVED"
    assert partner_sees(emu, image["id"])
    assert emu.state()["publish_access_records"] == {"APPROVED": 1}


def test_approve_without_a_body_follows_prefer_public(emu, files):
    image = complete_image(emu, files.small)
    _image, record = requested(emu, image["id"])  # prefer_public defaults to true
    assert record["prefer_public"] is True
    assert ok(review(emu, record["id"], "approve"))["publicly_published"] is True
    finish_transitions(emu)
    assert get_image(emu, image["id"])["publicly_published"] is True
    assert partner_sees(emu, image["id"])


def test_request_publish_rename_applies_only_on_approval(emu, files):
    image = complete_image(emu, files.small, name="internal", version="0.1")
    pending, record = requested(emu, image["id"], name="catalog-name", version="1.0")
    assert (pending["name"], pending["version"]) == ("internal", "0.1")
    assert (record["image_name"], record["image_version"]) == ("catalog-name", "1.0")  # what gets published
    ok(review(emu, record["id"], "approve"))
    renamed = get_image(emu, image["id"])
    assert (renamed["name"], renamed["version"], renamed["upload_status"]) == ("catalog-name", "1.0", "PUBLISHING")
    finish_transitions(emu)
    assert get_image(emu, image["id"])["published"] is True


def test_approval_that_would_clash_in_the_catalog_is_refused(emu, files):
    image = complete_image(emu, files.small, name="wanted", version="1")
    _image, record = requested(emu, image["id"])
    published(emu, files.other, token=PARTNER_TOKEN, name="wanted", version="1")  # takes the catalog name meanwhile
    with unchanged(emu):
        error = assert_error(review(emu, record["id"], "approve"), 400, "non_field_errors")
    assert "published" in error["detail"]
    assert ok(review(emu, record["id"], "deny", denial_reason="name taken"))["status"] == "DENIED"


def test_deny_first_publish_leaves_the_image_unpublished(emu, files):
    image = complete_image(emu, files.small)
    _image, record = requested(emu, image["id"])
    denied = ok(review(emu, record["id"], "deny", denial_reason="missing release notes"))
    assert (denied["status"], denied["denial_reason"], denied["reviewed_by"]) == (
        "DENIED", "missing release notes", ADMIN_EMAIL)
    assert denied["reviewed_at"]
    after = get_image(emu, image["id"])
    assert (after["upload_status"], after["published"]) == ("COMPLETE", False)
    # the requester still reads the outcome through the image's record id
    assert after["publish_access_record_id"] == record["id"]
    assert get_record(emu, record["id"], UPLOADER_TOKEN)["denial_reason"] == "missing release notes"
    assert not partner_sees(emu, image["id"])
    # a closed record does not block a new request, which gets a new record
    _again, second = requested(emu, image["id"], justification="release notes added")
    assert second["id"] != record["id"] and second["status"] == "PENDING"
    assert get_record(emu, record["id"])["status"] == "DENIED"


def test_deny_without_a_reason_records_an_empty_one(emu, files):
    image = complete_image(emu, files.small)
    _image, record = requested(emu, image["id"])
    assert ok(review(emu, record["id"], "deny"))["denial_reason"] == ""


def test_cancel_request_publish(emu, files):
    image = complete_image(emu, files.small)
    _image, record = requested(emu, image["id"])
    cancelled_image = ok(image_action(emu, image["id"], "cancel-publish-access-record", UPLOADER_TOKEN))
    assert (cancelled_image["upload_status"], cancelled_image["published"]) == ("COMPLETE", False)
    assert cancelled_image["publish_access_record_id"] == record["id"]
    cancelled = get_record(emu, record["id"])
    assert (cancelled["status"], cancelled["requested_at"], cancelled["reviewed_by"]) == ("CANCELLED", None, None)
    with unchanged(emu):
        error = assert_error(image_action(emu, image["id"], "cancel-publish-access-record", UPLOADER_TOKEN), 400)
        assert "nothing to cancel" in error["detail"].lower()
        for verb in ("approve", "deny"):
            assert_error(review(emu, record["id"], verb), 400)


def test_cancel_with_nothing_ever_requested_is_400(emu, files):
    image = complete_image(emu, files.small)
    with unchanged(emu):
        body = assert_error(image_action(emu, image["id"], "cancel-publish-access-record"), 400)
    assert body["publish_access_record_id"] is None


OTHER_REQUESTS = [
    ("request-publish", {"justification": "again"}),
    ("request-unpublish", {"justification": "x"}),
    ("request-public", {"justification": "x", "prefer_public": True}),
    ("request-allowlist-change", {"justification": "x", "allowed_orgs_request_text": "Partner Org"}),
]


def test_every_request_is_409_while_a_publish_request_is_open(emu, files):
    image = complete_image(emu, files.small)
    _image, record = requested(emu, image["id"])
    with unchanged(emu):
        for action, body in OTHER_REQUESTS + [("publish", {}), ("unpublish", {})]:
            token = DEMO_TOKEN if action in ("publish", "unpublish") else UPLOADER_TOKEN
            error = assert_error(image_action(emu, image["id"], action, token, **body), 409)
            assert (error["publish_access_record_id"], error["publish_access_record_status"]) == (
                record["id"], "PENDING"), action
            assert error["upload_status"] == "PENDING_PUBLISH"


def test_pending_publish_image_cannot_be_deleted_until_cancelled(emu, files):
    image = complete_image(emu, files.small)
    requested(emu, image["id"])
    with unchanged(emu):
        assert_error(emu.api("DELETE", f"images/{image['id']}", json={}), 400)
    ok(image_action(emu, image["id"], "cancel-publish-access-record"))
    assert emu.api("DELETE", f"images/{image['id']}", json={}).status_code == 204
    assert list_records(emu) == []  # its records go with the image
    assert emu.state()["publish_access_records"] == {}


# ------------------------------------------------------- requests on published images
def test_request_unpublish_approve_with_rename(emu, files):
    image = published(emu, files.small, prefer_public=False, allowed_orgs=[org_id(emu, "partner-org")])
    live_id = image["publish_access_record_id"]
    pending, record = requested(emu, image["id"], "request-unpublish", justification="end of life",
                                version="5.16.0-retired")
    assert (pending["upload_status"], pending["published"]) == ("PENDING_UNPUBLISH", True)
    assert (record["status"], record["image_version"]) == ("PENDING_UNPUBLISH", "5.16.0-retired")
    assert partner_sees(emu, image["id"])  # still in the catalog while pending
    with unchanged(emu):
        assert_error(review(emu, record["id"], "approve", publicly_published=False), 400, "publicly_published")
    assert ok(review(emu, record["id"], "approve"))["status"] == "APPROVED"
    unpublishing = get_image(emu, image["id"])
    assert (unpublishing["upload_status"], unpublishing["version"]) == ("UNPUBLISHING", "5.16.0-retired")
    finish_transitions(emu)
    done = get_image(emu, image["id"])
    assert (done["upload_status"], done["published"], done["publish_access_record_id"]) == ("COMPLETE", False, None)
    assert {get_record(emu, i)["status"] for i in (live_id, record["id"])} == {"REMOVED"}
    assert not partner_sees(emu, image["id"])


@pytest.mark.parametrize("close", ["deny", "cancel"])
def test_closed_unpublish_request_keeps_the_image_published(emu, files, close):
    image = published(emu, files.small)
    _pending, record = requested(emu, image["id"], "request-unpublish")
    if close == "deny":
        ok(review(emu, record["id"], "deny", denial_reason="still in use"))
    else:
        ok(image_action(emu, image["id"], "cancel-publish-access-record", UPLOADER_TOKEN))
    after = get_image(emu, image["id"])
    assert (after["upload_status"], after["published"], after["publicly_published"]) == ("COMPLETE", True, True)
    assert get_record(emu, record["id"])["status"] == {"deny": "DENIED", "cancel": "CANCELLED"}[close]
    assert get_record(emu, image["publish_access_record_id"])["status"] == "APPROVED"  # the live record
    assert partner_sees(emu, image["id"])


def test_request_public_elevation(emu, files):
    image = published(emu, files.small, prefer_public=False, allowed_orgs=[])
    pending, record = requested(emu, image["id"], "request-public", prefer_public=True)
    assert pending["upload_status"] == "COMPLETE"  # visibility requests do not change upload_status
    assert (record["status"], record["prefer_public"], record["publicly_published"]) == (
        "PENDING_ELEVATION", True, False)
    with unchanged(emu):
        assert_error(review(emu, record["id"], "approve", publicly_published=False), 400, "publicly_published")
        assert_error(review(emu, record["id"], "approve", allowed_orgs=[org_id(emu, "partner-org")]), 400,
                     "allowed_orgs")
    approved = ok(review(emu, record["id"], "approve"))
    assert (approved["status"], approved["publicly_published"], approved["allowed_orgs"]) == ("APPROVED", True, [])
    after = get_image(emu, image["id"])
    assert (after["upload_status"], after["publicly_published"]) == ("COMPLETE", True)
    assert partner_sees(emu, image["id"])


def test_request_public_restriction(emu, files):
    image = published(emu, files.small)
    _pending, record = requested(emu, image["id"], "request-public", prefer_public=False,
                                 justification="customer-only build")
    assert (record["status"], record["publicly_published"]) == ("PENDING_RESTRICTION", True)
    with unchanged(emu):
        assert_error(review(emu, record["id"], "approve", publicly_published=True), 400, "publicly_published")
    approved = ok(review(emu, record["id"], "approve", allowed_orgs=[]))
    assert (approved["publicly_published"], approved["allowed_orgs"]) == (False, [org_id(emu, "demo-org")])
    assert get_image(emu, image["id"])["publicly_published"] is False
    assert not partner_sees(emu, image["id"])


def test_denied_visibility_change_leaves_visibility_as_it_was(emu, files):
    image = published(emu, files.small, prefer_public=False, allowed_orgs=[])
    _pending, record = requested(emu, image["id"], "request-public", prefer_public=True)
    assert ok(review(emu, record["id"], "deny", denial_reason="no"))["status"] == "DENIED"
    after = get_image(emu, image["id"])
    assert (after["publicly_published"], after["publish_access_record_id"]) == (False, record["id"])
    assert not partner_sees(emu, image["id"])


VISIBILITY_REQUESTS = [
    ("restricted", "request-public", {"prefer_public": True}, "PENDING_ELEVATION"),
    ("public", "request-public", {"prefer_public": False}, "PENDING_RESTRICTION"),
    ("restricted", "request-allowlist-change", {"allowed_orgs_request_text": "Partner Org"}, "PENDING_ALLOWLIST"),
]


@pytest.mark.parametrize("close", ["deny", "cancel"])
@pytest.mark.parametrize("kind, action, body, status", VISIBILITY_REQUESTS, ids=[s for *_x, s in VISIBILITY_REQUESTS])
def test_closed_visibility_requests_change_nothing_but_the_record(emu, files, kind, action, body, status, close):
    image = published(emu, files.small, **({"prefer_public": False} if kind == "restricted" else {}))
    _pending, record = requested(emu, image["id"], action, **body)
    assert record["status"] == status
    if close == "deny":
        ok(review(emu, record["id"], "deny"))
    else:
        ok(image_action(emu, image["id"], "cancel-publish-access-record", UPLOADER_TOKEN))
    after = get_image(emu, image["id"])
    assert {k: after[k] for k in ("upload_status", "published", "publicly_published")} == \
        {k: image[k] for k in ("upload_status", "published", "publicly_published")}
    assert partner_sees(emu, image["id"]) is (kind == "public")
    assert get_record(emu, record["id"])["status"] == {"deny": "DENIED", "cancel": "CANCELLED"}[close]
    _again, retry = requested(emu, image["id"], action, **body)  # the record is closed: a new request is fine
    assert retry["status"] == status


def test_request_allowlist_change(emu, files):
    image = published(emu, files.small, prefer_public=False, allowed_orgs=[])
    _pending, record = requested(emu, image["id"], "request-allowlist-change",
                                 allowed_orgs_request_text="add Partner Org (partner-org)")
    assert (record["status"], record["allowed_orgs_request_text"]) == (
        "PENDING_ALLOWLIST", "add Partner Org (partner-org)")
    assert record["allowed_orgs"] == [org_id(emu, "demo-org")]  # the current list until approval
    assert not partner_sees(emu, image["id"])
    partner = org_id(emu, "partner-org")
    approved = ok(review(emu, record["id"], "approve", allowed_orgs=[partner, partner]))
    assert approved["allowed_orgs"] == sorted([org_id(emu, "demo-org"), partner])
    assert partner_sees(emu, image["id"])
    assert get_image(emu, image["id"])["upload_status"] == "COMPLETE"
    # the next change replaces the whole list
    _pending, shrink = requested(emu, image["id"], "request-allowlist-change",
                                 allowed_orgs_request_text="remove Partner Org")
    ok(review(emu, shrink["id"], "approve", allowed_orgs=[]))
    assert not partner_sees(emu, image["id"])


STATE_RULES = [
    # (image kind, action, body, error field or None)
    ("unpublished", "request-unpublish", {}, None),
    ("unpublished", "request-public", {"prefer_public": True}, None),
    ("unpublished", "request-allowlist-change", {"allowed_orgs_request_text": "x"}, None),
    ("public", "request-publish", {}, None),
    ("public", "request-public", {"prefer_public": True}, "prefer_public"),
    ("public", "request-allowlist-change", {"allowed_orgs_request_text": "x"}, None),
    ("restricted", "request-public", {"prefer_public": False}, "prefer_public"),
    ("ready", "request-publish", {}, None),
]


@pytest.mark.parametrize("kind, action, body, field", STATE_RULES,
                         ids=[f"{kind}-{action}-{body.get('prefer_public', '')}" for kind, action, body, _f in
                              STATE_RULES])
def test_requests_follow_the_published_state(emu, files, kind, action, body, field):
    if kind == "ready":
        image = create_image(emu)
    elif kind == "unpublished":
        image = complete_image(emu, files.small)
    else:
        image = published(emu, files.small, **({"prefer_public": False} if kind == "restricted" else {}))
    with unchanged(emu):
        error = assert_error(image_action(emu, image["id"], action, UPLOADER_TOKEN, justification="why", **body),
                             400, *([field] if field else []))
    if kind == "ready":
        assert error["upload_status"] == "READY"


# --------------------------------------------------------------- set-visibility
def test_set_visibility_changes_the_live_record_at_once(emu, files):
    image = published(emu, files.small, prefer_public=False, allowed_orgs=[])
    live = image["publish_access_record_id"]
    made_public = ok(review(emu, live, "set-visibility", publicly_published=True))
    assert (made_public["publicly_published"], made_public["allowed_orgs"], made_public["status"]) == (
        True, [], "APPROVED")
    assert get_image(emu, image["id"])["publicly_published"] is True and partner_sees(emu, image["id"])
    partner = org_id(emu, "partner-org")
    restricted = ok(review(emu, live, "set-visibility", publicly_published=False, allowed_orgs=[partner]))
    assert restricted["allowed_orgs"] == sorted([org_id(emu, "demo-org"), partner])
    assert get_image(emu, image["id"])["publicly_published"] is False and partner_sees(emu, image["id"])
    owner_only = ok(review(emu, live, "set-visibility", publicly_published=False))  # omitted = owner only
    assert owner_only["allowed_orgs"] == [org_id(emu, "demo-org")]
    assert not partner_sees(emu, image["id"])


def test_set_visibility_refusals(emu, files):
    image = published(emu, files.small)
    live = image["publish_access_record_id"]
    _pending, denied = requested(emu, image["id"], "request-public", prefer_public=False)
    ok(review(emu, denied["id"], "deny"))
    unpublished = complete_image(emu, files.other, name="never-published")
    _pending, pending = requested(emu, unpublished["id"])
    with unchanged(emu):
        assert_error(review(emu, live, "set-visibility", publicly_published=True, allowed_orgs=[
            org_id(emu, "partner-org")]), 400, "allowed_orgs")
        assert_error(review(emu, live, "set-visibility"), 400, "publicly_published")
        assert_error(review(emu, live, "set-visibility", publicly_published="yes"), 400, "publicly_published")
        for record_id in (denied["id"], pending["id"]):  # not the live APPROVED record of a published image
            assert_error(review(emu, record_id, "set-visibility", publicly_published=True), 400)
        assert_error(review(emu, live, "set-visibility", DEMO_TOKEN, publicly_published=False), 403)
    ok(image_action(emu, image["id"], "unpublish"))
    with unchanged(emu):
        assert_error(review(emu, live, "set-visibility", publicly_published=False), 400)  # UNPUBLISHING
    finish_transitions(emu)
    with unchanged(emu):
        assert_error(review(emu, live, "set-visibility", publicly_published=False), 400)  # REMOVED


# ------------------------------------------------------------ shares and claims
def test_a_pending_image_can_still_be_claimed_from_an_earlier_share(emu, files):
    image = complete_image(emu, files.small)
    share = create_share(emu, image["id"])
    requested(emu, image["id"])
    claim = emu.api("POST", "images/claim-image-share", token=PARTNER_TOKEN, json={"image_share": share["id"]})
    assert claim.status_code == 201, claim.text
