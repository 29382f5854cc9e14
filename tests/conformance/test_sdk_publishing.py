"""Visibility, the gated publish flow and publish access records through the unmodified SDK.

Three roles, as in Air: the demo org's uploader (``air:image_read`` +
``air:image_write``, what a CI key holds) requests, the reviewer
(``air:admin``, its own org) approves or denies through
``api.image_publish_access_records``, and ``api`` (every image scope)
publishes directly. Org ids for ``allowed_orgs`` come from
``api.organizations`` (``GET resource-budgets/``), where each org sees its own.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from air_emulator.testing import ADMIN_TOKEN, UPLOADER_TOKEN
from air_sdk import AirApi
from air_sdk.endpoints.image_publish_access_records import ImagePublishAccessRecord
from air_sdk.endpoints.images import Image
from air_sdk.exceptions import AirUnexpectedResponse

UPLOADER_EMAIL = "uploader@demo-org.example.com"
ADMIN_EMAIL = "admin@air-admin.example.com"


@pytest.fixture
def uploader_api(emulator) -> AirApi:
    """The demo org with read + write only: publishing goes through requests."""
    return AirApi(api_url=emulator.url, api_key=UPLOADER_TOKEN)


@pytest.fixture
def admin_api(emulator) -> AirApi:
    """The reviewer (``air:admin``)."""
    return AirApi(api_url=emulator.url, api_key=ADMIN_TOKEN)


@pytest.fixture
def org_id():
    """``org_id(client)``: the id of the client's own org, looked up by name like a user would."""

    def lookup(client: AirApi, name: str) -> str:
        (org,) = list(client.organizations.list(ngc_org_name=name))
        assert org.ngc_org_name == name
        return org.org_id

    return lookup


def published_state(wait_image, client, image_id):
    image, _seen = wait_image(client, image_id, lambda i: i.published and i.upload_status == "COMPLETE")
    return image


def partner_sees(partner_api, image_id) -> bool:
    return any(i.id == image_id for i in partner_api.images.list())


def test_publish_restricted_with_allowed_orgs_and_justification(
        api, partner_api, admin_api, uploaded_image, wait_image, org_id):
    partner = org_id(partner_api, "partner-org")  # the partner looks its id up and hands it over
    demo = org_id(api, "demo-org")
    image = uploaded_image("restricted")
    response = image.publish(prefer_public=False, allowed_orgs=[partner], justification="partner preview")
    assert isinstance(response, Image) and response.upload_status in ("PUBLISHING", "COMPLETE")
    done = published_state(wait_image, api, image.id)
    assert done.publicly_published is False
    assert partner_sees(partner_api, image.id)

    record = api.image_publish_access_records.get(done.publish_access_record_id)
    assert isinstance(record, ImagePublishAccessRecord)
    assert (record.status, record.justification, record.prefer_public) == ("APPROVED", "partner preview", False)
    assert (record.publicly_published, record.requested_by, record.reviewed_by) == (
        False, "demo@demo-org.example.com", None)
    assert record.allowed_orgs is None  # owners do not see allow-lists
    assert isinstance(record.requested_at, datetime) and isinstance(record.reviewed_at, datetime)
    assert str(record.image.__pk__) == image.id and record.image.name == image.name  # lazy FK resolves
    assert admin_api.image_publish_access_records.get(record.id).allowed_orgs == sorted([demo, partner])


def test_direct_publish_needs_the_publish_scope(uploader_api, uploaded_image):
    image = uploaded_image("no-publish", client=uploader_api)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        image.publish()
    assert excinfo.value.status_code == 403 and "air:image_publish" in str(excinfo.value)
    assert uploader_api.images.get(image.id).upload_status == "COMPLETE"


def test_request_publish_then_approve(uploader_api, admin_api, partner_api, uploaded_image, wait_image, org_id):
    image = uploaded_image("gated", client=uploader_api)
    response = image.request_publish(justification="for partner labs", prefer_public=False,
                                     allowed_orgs_request_text="Partner Org", version="2.0.0")
    assert isinstance(response, Image)
    assert (image.upload_status, image.published) == ("PENDING_PUBLISH", False)  # the SDK refreshed it
    assert image.version == "1.0.0"  # the rename waits for the approval

    (record,) = list(admin_api.image_publish_access_records.list(status="PENDING"))
    assert record.id == image.publish_access_record_id
    assert (record.image_name, record.image_version, record.requested_by) == (image.name, "2.0.0", UPLOADER_EMAIL)
    assert (record.justification, record.allowed_orgs_request_text) == ("for partner labs", "Partner Org")
    assert (record.requesting_org_ngc_org_name, record.requesting_org_display_name) == ("demo-org", "Demo Org")
    assert (record.reviewed_by, record.reviewed_at, record.denial_reason) == (None, None, "")

    partner = org_id(partner_api, "partner-org")
    approved = record.approve(publicly_published=False, allowed_orgs=[partner])
    assert isinstance(approved, ImagePublishAccessRecord)
    assert approved.status in ("APPROVED_PENDING_IMAGE_PUBLISH", "APPROVED")
    assert (approved.reviewed_by, approved.publicly_published) == (ADMIN_EMAIL, False)
    assert partner in approved.allowed_orgs

    done, seen = wait_image(uploader_api, image.id, lambda i: i.published and i.upload_status == "COMPLETE")
    assert set(seen) <= {"PUBLISHING", "COMPLETE"}
    assert (done.version, done.publicly_published) == ("2.0.0", False)
    assert uploader_api.image_publish_access_records.get(record.id).status == "APPROVED"
    assert partner_sees(partner_api, image.id)


def test_request_publish_then_deny(uploader_api, admin_api, partner_api, uploaded_image):
    image = uploaded_image("denied", client=uploader_api)
    image.request_publish(justification="please")
    denied = admin_api.image_publish_access_records.deny(record=image.publish_access_record_id,
                                                         denial_reason="missing release notes")
    assert (denied.status, denied.denial_reason, denied.reviewed_by) == ("DENIED", "missing release notes",
                                                                         ADMIN_EMAIL)
    image.refresh()
    assert (image.upload_status, image.published) == ("COMPLETE", False)
    mine = uploader_api.image_publish_access_records.get(image.publish_access_record_id)
    assert (mine.status, mine.denial_reason) == ("DENIED", "missing release notes")
    assert not partner_sees(partner_api, image.id)


def test_cancel_publish_access_record(api, uploader_api, uploaded_image):
    image = uploaded_image("cancelled", client=uploader_api)
    image.request_publish(justification="changed my mind soon")
    record_id = image.publish_access_record_id
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        image.request_publish(justification="twice")
    assert excinfo.value.status_code == 409 and record_id in str(excinfo.value)

    response = image.cancel_publish_access_record()
    assert isinstance(response, Image) and image.upload_status == "COMPLETE"
    record = uploader_api.image_publish_access_records.get(record_id)
    assert (record.status, record.requested_at) == ("CANCELLED", None)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.cancel_publish_access_record(image=image.id)  # endpoint form; nothing pending now
    assert excinfo.value.status_code == 400


def test_request_unpublish_then_approve(api, uploader_api, admin_api, partner_api, uploaded_image, wait_image):
    image = uploaded_image("retire")
    image.publish()
    published_state(wait_image, api, image.id)
    mine = uploader_api.images.get(image.id)
    mine.request_unpublish(justification="end of life")
    assert (mine.upload_status, mine.published) == ("PENDING_UNPUBLISH", True)
    record = admin_api.image_publish_access_records.get(mine.publish_access_record_id)
    assert record.status == "PENDING_UNPUBLISH"
    record.approve()
    done, _seen = wait_image(api, image.id, lambda i: not i.published and i.upload_status == "COMPLETE")
    assert done.publish_access_record_id is None
    assert admin_api.image_publish_access_records.get(record.id).status == "REMOVED"
    assert not partner_sees(partner_api, image.id)


def test_visibility_requests_and_set_visibility(api, uploader_api, admin_api, partner_api, uploaded_image,
                                                wait_image, org_id):
    image = uploaded_image("visibility")
    image.publish(prefer_public=False, allowed_orgs=[], justification="owner only first")
    published_state(wait_image, api, image.id)
    mine = uploader_api.images.get(image.id)
    records = admin_api.image_publish_access_records

    mine.request_public(prefer_public=True, justification="open it up")
    assert records.get(mine.publish_access_record_id).status == "PENDING_ELEVATION"
    records.deny(record=mine.publish_access_record_id, denial_reason="not yet")
    assert not partner_sees(partner_api, image.id)

    mine.request_allowlist_change(justification="add the partner", allowed_orgs_request_text="partner-org")
    allowlist = records.get(mine.publish_access_record_id)
    assert allowlist.status == "PENDING_ALLOWLIST" and mine.upload_status == "COMPLETE"
    allowlist.approve(allowed_orgs=[org_id(partner_api, "partner-org")])
    assert partner_sees(partner_api, image.id)

    mine.request_public(prefer_public=True, justification="now public")
    elevation = records.get(mine.publish_access_record_id)
    assert elevation.approve().publicly_published is True
    assert uploader_api.images.get(image.id).publicly_published is True

    restricted = elevation.set_visibility(publicly_published=False)
    assert restricted.publicly_published is False and restricted.allowed_orgs == [org_id(api, "demo-org")]
    assert not partner_sees(partner_api, image.id)

    with pytest.raises(AirUnexpectedResponse) as excinfo:
        mine.request_public(prefer_public=False, justification="keep it restricted")  # already restricted
    assert excinfo.value.status_code == 400


def test_list_records_with_filters_and_pages(uploader_api, admin_api, partner_api, uploaded_image, wait_image,
                                             unique):
    first = uploaded_image("first", client=uploader_api)
    second = uploaded_image("second", client=uploader_api)
    theirs = uploaded_image("theirs", client=partner_api)
    first.request_publish(justification=f"alpha {unique}")
    second.request_publish(justification="bravo")
    admin_api.image_publish_access_records.deny(record=second.publish_access_record_id)
    theirs.publish()
    published_state(wait_image, partner_api, theirs.id)

    records = admin_api.image_publish_access_records
    admin_api.set_page_size(1)  # every list below follows `next` page by page
    assert [r.image_name for r in records.list(ordering="image_name")] == sorted(
        [first.name, second.name, theirs.name])
    assert [r.id for r in records.list(image=first.id)] == [first.publish_access_record_id]
    assert [r.status for r in records.list(requesting_org_ngc_org_name="partner-org")] == ["APPROVED"]
    assert [r.image_name for r in records.list(publicly_published=True)] == [theirs.name]
    assert {r.image_name for r in records.list(requested_by_email=UPLOADER_EMAIL.upper())} == {
        first.name, second.name}
    assert [r.image_name for r in records.list(search=unique, status="PENDING")] == [first.name]
    assert [r.status for r in records.list(requesting_org_display_name="demo org", ordering="-status")] == [
        "PENDING", "DENIED"]
    # owners see their org's records only, without allow-lists
    assert {r.image_name for r in uploader_api.image_publish_access_records.list()} == {first.name, second.name}
    assert {r.allowed_orgs is None for r in partner_api.image_publish_access_records.list()} == {True}
