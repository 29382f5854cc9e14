"""Image shares and claims through the unmodified SDK."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from air_sdk.endpoints.images import Image, ImageShare
from air_sdk.exceptions import AirUnexpectedResponse

PARTNER_ORG = "partner-org"
DEMO_ORG = "demo-org"


def _close(a: datetime, b: datetime, seconds: float = 0.01) -> bool:
    return abs((a - b).total_seconds()) < seconds


def test_share_create_list_get_delete(api, partner_api, uploaded_image, other_small_file):
    alpha = uploaded_image("alpha")
    zulu = uploaded_image("zulu", file=other_small_file, version="2.0")

    # Image.share(): default expiry (24 h per the contract).
    share_a = alpha.share(target_org=PARTNER_ORG)
    assert isinstance(share_a, ImageShare)
    assert (share_a.image_name, share_a.image_version) == (alpha.name, alpha.version)
    assert share_a.target_org == PARTNER_ORG
    assert share_a.state == "ACTIVE"
    assert share_a.claimed_by == ""
    assert share_a.source_org_display_name and share_a.target_org_display_name
    assert share_a.source_org_display_name != share_a.target_org_display_name
    assert _close(share_a.expires_at, share_a.created + timedelta(hours=24), seconds=5)
    assert share_a.expires_at.tzinfo is not None
    # `image` is a lazy foreign key that resolves through GET images/{id}/.
    assert str(share_a.image.__pk__) == alpha.id
    assert share_a.image.name == alpha.name and share_a.image.hash == alpha.hash

    # Endpoint form with an explicit expires_at.
    expires = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=250_000)
    share_z = api.images.share(image=zulu, target_org=PARTNER_ORG, expires_at=expires)
    assert (share_z.image_name, share_z.image_version, share_z.state) == (zulu.name, "2.0", "ACTIVE")
    assert _close(share_z.expires_at, expires)

    # List + filters + ordering.
    listed = list(api.images.shares.list())
    assert {s.id for s in listed} == {share_a.id, share_z.id}
    assert {s.id for s in api.images.shares.list(state="ACTIVE")} == {share_a.id, share_z.id}
    assert list(api.images.shares.list(state="CLAIMED")) == []
    assert list(api.images.shares.list(state="EXPIRED")) == []
    assert {s.id for s in api.images.shares.list(target_org=PARTNER_ORG)} == {share_a.id, share_z.id}
    assert list(api.images.shares.list(target_org=DEMO_ORG)) == []
    assert [s.id for s in api.images.shares.list(image=zulu.id)] == [share_z.id]
    assert [s.id for s in api.images.shares.list(image_name=alpha.name)] == [share_a.id]
    assert [s.image_name for s in api.images.shares.list(ordering="-image_name")] == [zulu.name, alpha.name]
    assert [s.image_name for s in api.images.shares.list(ordering="image_name")] == [alpha.name, zulu.name]
    assert [s.id for s in api.images.shares.list(search="zulu")] == [share_z.id]
    api.set_page_size(1)
    assert [s.id for s in api.images.shares.list(ordering="image_name")] == [share_a.id, share_z.id]
    api.set_page_size(200)

    # Get.
    got = api.images.shares.get(share_z.id)
    assert isinstance(got, ImageShare)
    assert (got.id, got.image_name, got.target_org, got.state) == (share_z.id, zulu.name, PARTNER_ORG, "ACTIVE")
    assert _close(got.expires_at, expires)

    # Shares are listed only for the source org.
    assert list(partner_api.images.shares.list()) == []
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        partner_api.images.shares.get(share_a.id)
    assert excinfo.value.status_code in (403, 404)

    # Delete (revoke) an ACTIVE share.
    api.images.shares.delete(share_a.id)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.shares.get(share_a.id)
    assert excinfo.value.status_code == 404
    assert [s.id for s in api.images.shares.list()] == [share_z.id]
    # A revoked share cannot be claimed.
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        partner_api.images.claim_image_share(image_share=share_a.id)
    assert excinfo.value.status_code == 400
    assert list(partner_api.images.list()) == []


def test_share_preconditions(api, make_image, uploaded_image):
    ready = make_image("ready")
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        ready.share(target_org=PARTNER_ORG)  # image must be COMPLETE
    assert excinfo.value.status_code == 400

    done = uploaded_image("done")
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        done.share(target_org=DEMO_ORG)  # not with the own org
    assert excinfo.value.status_code == 400
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        done.share(target_org=PARTNER_ORG, expires_at=datetime.now(timezone.utc) - timedelta(minutes=1))
    assert excinfo.value.status_code == 400
    assert list(api.images.shares.list()) == []


def test_claim_image_share(api, partner_api, uploaded_image, small_file, wait_image, unique):
    source = uploaded_image("src", default_username="vx", cpu_arch="ARM")
    share = source.share(target_org=PARTNER_ORG)
    claimed_name, claimed_version = f"conf-{unique}-mine", "7.0"

    claimed = partner_api.images.claim_image_share(image_share=share.id, name=claimed_name,
                                                   version=claimed_version)
    assert isinstance(claimed, Image)
    assert claimed.id != source.id
    assert (claimed.name, claimed.version) == (claimed_name, claimed_version)
    assert claimed.upload_status == "COPYING_FROM_IMAGE_SHARE"
    assert claimed.is_owned_by_client is True
    assert claimed.published is False

    done, seen = wait_image(partner_api, claimed.id, lambda i: i.upload_status == "COMPLETE")
    assert set(seen) <= {"COPYING_FROM_IMAGE_SHARE", "COMPLETE"}
    assert done.hash == source.hash == small_file.sha256
    assert done.size == source.size == small_file.size
    assert done.last_uploaded_at is not None
    assert done.is_owned_by_client is True
    assert [i.id for i in partner_api.images.list()] == [claimed.id]
    assert [i.id for i in partner_api.images.list(is_owned_by_client=True)] == [claimed.id]
    # The copy belongs to the partner org only.
    assert [i.id for i in api.images.list()] == [source.id]
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.get(claimed.id)
    assert excinfo.value.status_code == 404

    # The source org's share is now CLAIMED and kept as a record.
    after = api.images.shares.get(share.id)
    assert after.state == "CLAIMED"
    assert after.claimed_by
    assert [s.id for s in api.images.shares.list(state="CLAIMED")] == [share.id]
    assert list(api.images.shares.list(state="ACTIVE")) == []
    assert [s.id for s in api.images.shares.list(claimed_by=after.claimed_by)] == [share.id]

    # A claimed share cannot be deleted, nor claimed again.
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.shares.delete(share.id)
    assert excinfo.value.status_code == 400
    assert api.images.shares.get(share.id).state == "CLAIMED"
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        partner_api.images.claim_image_share(image_share=share.id, name=f"{claimed_name}-2")
    assert excinfo.value.status_code == 400

    # The copy is independent of the source image.
    source.clear_upload()
    api.images.delete(source.id)
    kept = partner_api.images.get(claimed.id)
    assert (kept.upload_status, kept.hash, kept.size) == ("COMPLETE", small_file.sha256, small_file.size)


def test_claim_keeps_name_when_not_renamed(api, partner_api, uploaded_image, wait_image):
    source = uploaded_image("plain", version="3.1")
    share = api.images.share(image=source.id, target_org=PARTNER_ORG)
    claimed = partner_api.images.claim_image_share(image_share=share.id)
    assert (claimed.name, claimed.version) == (source.name, "3.1")
    done, _seen = wait_image(partner_api, claimed.id, lambda i: i.upload_status == "COMPLETE")
    assert done.hash == source.hash


def test_only_the_target_org_can_claim(api, uploaded_image):
    source = uploaded_image("own")
    share = source.share(target_org=PARTNER_ORG)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.claim_image_share(image_share=share.id)
    assert excinfo.value.status_code == 400
    assert api.images.shares.get(share.id).state == "ACTIVE"
    assert [i.id for i in api.images.list()] == [source.id]


def test_expired_share_cannot_be_claimed(api, partner_api, emulator, uploaded_image):
    source = uploaded_image("exp")
    share = source.share(target_org=PARTNER_ORG, expires_at=datetime.now(timezone.utc) + timedelta(minutes=5))
    emulator.advance_clock(600)
    assert api.images.shares.get(share.id).state == "EXPIRED"
    assert [s.id for s in api.images.shares.list(state="EXPIRED")] == [share.id]
    assert list(api.images.shares.list(state="ACTIVE")) == []
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        partner_api.images.claim_image_share(image_share=share.id)
    assert excinfo.value.status_code == 400
    assert list(partner_api.images.list()) == []
