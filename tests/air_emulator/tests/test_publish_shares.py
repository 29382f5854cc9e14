"""Publish / unpublish, visibility, and image shares (create, list, expire, claim)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airemu_helpers import (
    DEMO_TOKEN, IMAGE_FIELDS, PARTNER_EMAIL, PARTNER_TOKEN, READONLY_TOKEN, SHARE_FIELDS, assert_error,
    complete_image, create_image, create_share, get_image, list_all, orgs, parse_ts, publish, published_image,
    random_id, unchanged,
)


def iso_in(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------- publishing
def test_publish_requires_a_complete_image(emulator, files):
    ready = create_image(emulator)
    with unchanged(emulator):
        error = assert_error(emulator.api("PATCH", f"images/{ready['id']}/publish", json={}), 400)
    assert error["upload_status"] == "READY"
    uploading = create_image(emulator, name="uploading")
    emulator.api("PATCH", f"images/{uploading['id']}/start-upload", json={"hash": "a" * 64, "size": 1})
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{uploading['id']}/publish", json={}), 400)


def test_publish_goes_through_publishing_to_a_public_catalog_entry(emulator, files):
    image = complete_image(emulator, files.small)
    response = emulator.api("PATCH", f"images/{image['id']}/publish", json={"justification": "release"})
    assert response.status_code == 200, response.text
    transient = response.json()
    assert set(transient) == IMAGE_FIELDS
    assert transient["upload_status"] == "PUBLISHING" and transient["published"] is False
    assert emulator.api("GET", f"images/{image['id']}").json()["upload_status"] == "PUBLISHING"
    done = emulator.wait_for(image["id"], "COMPLETE")
    assert done["published"] is True and done["publicly_published"] is True
    assert done["publish_access_record_id"]
    assert (done["hash"], done["size"]) == (image["hash"], image["size"])
    seen = emulator.api("GET", f"images/{image['id']}", token=PARTNER_TOKEN).json()
    assert seen["is_owned_by_client"] is False and seen["published"] is True
    assert [i["id"] for i in list_all(emulator, token=PARTNER_TOKEN)] == [image["id"]]


def test_publish_twice_is_400(emulator, files):
    image = published_image(emulator, files.small)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}/publish", json={}), 400)


def test_publish_can_rename(emulator, files):
    image = complete_image(emulator, files.small, name="internal", version="0.1")
    response = emulator.api("PATCH", f"images/{image['id']}/publish", json={"name": "public-name", "version": "1.0"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["version"]) == ("public-name", "1.0")
    done = emulator.wait_for(image["id"], "COMPLETE")
    assert (done["name"], done["version"], done["published"]) == ("public-name", "1.0", True)


def test_publish_rename_to_a_name_taken_in_the_own_org_is_400(emulator, files):
    create_image(emulator, name="taken", version="1")
    image = complete_image(emulator, files.small, name="mine", version="1")
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}/publish", json={"name": "taken"}), 400)


def test_publish_collision_with_another_orgs_published_image_is_400(emulator, files):
    published_image(emulator, files.other, token=PARTNER_TOKEN, name="shared-name", version="1")
    mine = complete_image(emulator, files.small, name="shared-name", version="1")  # fine while unpublished
    with unchanged(emulator):
        error = assert_error(emulator.api("PATCH", f"images/{mine['id']}/publish", json={}), 400)
    assert "published" in error["detail"].lower()
    other = complete_image(emulator, files.small, name="other-name", version="1")
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{other['id']}/publish",
                                  json={"name": "shared-name", "version": "1"}), 400)
    renamed = publish(emulator, mine["id"], version="2")
    assert (renamed["name"], renamed["version"]) == ("shared-name", "2")


def test_unpublish(emulator, files):
    image = published_image(emulator, files.small)
    response = emulator.api("PATCH", f"images/{image['id']}/unpublish", json={})
    assert response.status_code == 200 and response.json()["upload_status"] == "UNPUBLISHING"
    done = emulator.wait_for(image["id"], "COMPLETE")
    assert (done["published"], done["publicly_published"], done["publish_access_record_id"]) == (False, False, None)
    assert_error(emulator.api("GET", f"images/{image['id']}", token=PARTNER_TOKEN), 404)
    assert list_all(emulator, token=PARTNER_TOKEN) == []


def test_unpublish_of_an_unpublished_image_is_400(emulator, files):
    image = complete_image(emulator, files.small)
    ready = create_image(emulator, name="ready")
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}/unpublish", json={}), 400)
        assert_error(emulator.api("PATCH", f"images/{ready['id']}/unpublish", json={}), 400)


def test_published_image_cannot_be_deleted_or_cleared(emulator, files):
    image = published_image(emulator, files.small)
    with unchanged(emulator):
        error = assert_error(emulator.api("DELETE", f"images/{image['id']}", json={}), 400)
        assert error["type"] == "PROTECTED"
        assert_error(emulator.api("PATCH", f"images/{image['id']}/clear-upload", json={}), 400)
    assert get_image(emulator, image["id"]) == image


def test_publish_with_the_read_only_token_is_403(emulator, files):
    image = complete_image(emulator, files.small)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}/publish", token=READONLY_TOKEN, json={}), 403)


def test_restricted_publish_limits_visibility_to_the_allow_list(emulator, files):
    org_ids = {name: org["id"] for name, org in orgs(emulator).items()}
    assert set(org_ids) == {"demo-org", "partner-org", "air-admin"}
    hidden = published_image(emulator, files.small, name="hidden",
                             publish_body={"prefer_public": False, "allowed_orgs": []})
    assert hidden["publicly_published"] is False and hidden["published"] is True
    assert_error(emulator.api("GET", f"images/{hidden['id']}", token=PARTNER_TOKEN), 404)
    assert list_all(emulator, token=PARTNER_TOKEN) == []
    shared = published_image(emulator, files.other, name="allowed",
                             publish_body={"prefer_public": False, "allowed_orgs": [org_ids["partner-org"]]})
    assert shared["publicly_published"] is False
    visible = list_all(emulator, token=PARTNER_TOKEN)
    assert [i["id"] for i in visible] == [shared["id"]]
    assert visible[0]["is_owned_by_client"] is False
    assert list_all(emulator, token=PARTNER_TOKEN, publicly_published="false")[0]["id"] == shared["id"]
    assert {i["id"] for i in list_all(emulator, token=DEMO_TOKEN)} == {hidden["id"], shared["id"]}


BAD_PUBLISH = [
    ({"prefer_public": "no"}, "prefer_public"),
    ({"prefer_public": False, "allowed_orgs": ["not-a-uuid"]}, "allowed_orgs"),
    ({"prefer_public": False, "allowed_orgs": [random_id()]}, "allowed_orgs"),
    ({"prefer_public": False, "allowed_orgs": "partner-org"}, "allowed_orgs"),
    ({"justification": "j" * 2049}, "justification"),
    ({"name": ""}, "name"), ({"version": "v" * 65}, "version"),
    ({"reason": "x"}, "reason"),
]


@pytest.mark.parametrize("body, field", BAD_PUBLISH, ids=[f for _body, f in BAD_PUBLISH])
def test_publish_body_validation(emulator, files, body, field):
    image = complete_image(emulator, files.small)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}/publish", json=body), 400, field)


def test_allowed_orgs_need_prefer_public_false(emulator, files):
    image = complete_image(emulator, files.small)
    partner_id = orgs(emulator)["partner-org"]["id"]
    with unchanged(emulator):
        for body in ({"allowed_orgs": [partner_id]}, {"prefer_public": True, "allowed_orgs": [partner_id]}):
            assert_error(emulator.api("PATCH", f"images/{image['id']}/publish", json=body), 400, "allowed_orgs")


def test_renames_of_published_images_respect_the_catalog_and_the_org(emulator, files):
    published_image(emulator, files.other, token=PARTNER_TOKEN, name="catalog", version="1")
    create_image(emulator, name="taken", version="1")
    mine = published_image(emulator, files.small, name="mine", version="1")
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{mine['id']}", json={"name": "catalog"}), 400)
        assert_error(emulator.api("PATCH", f"images/{mine['id']}/unpublish", json={"name": "taken"}), 400)
    response = emulator.api("PATCH", f"images/{mine['id']}/unpublish", json={"name": "catalog"})
    assert response.status_code == 200 and response.json()["name"] == "catalog"  # unpublished: no catalog clash
    assert emulator.wait_for(mine["id"], "COMPLETE")["published"] is False


# ----------------------------------------------------------------------- shares
def test_create_share(emulator, files):
    image = complete_image(emulator, files.small, name="to-share", version="2.0")
    response = emulator.api("POST", "images/shares", json={"image": image["id"], "target_org": "partner-org"})
    assert response.status_code == 201, response.text
    share = response.json()
    assert set(share) == SHARE_FIELDS
    assert share["image"] == image["id"]
    assert (share["image_name"], share["image_version"]) == ("to-share", "2.0")
    assert (share["target_org"], share["target_org_display_name"]) == ("partner-org", "Partner Org")
    assert share["source_org_display_name"] == "Demo Org"
    assert (share["state"], share["claimed_by"]) == ("ACTIVE", "")
    assert abs(parse_ts(share["expires_at"]) - parse_ts(share["created"]) - 24 * 3600) < 5
    assert emulator.api("GET", f"images/shares/{share['id']}").json() == share
    assert list_all(emulator, "images/shares") == [share]


def test_create_share_with_an_explicit_expiry(emulator, files):
    image = complete_image(emulator, files.small)
    expires = iso_in(2 * 3600)
    share = create_share(emulator, image["id"], expires_at=expires)
    assert abs(parse_ts(share["expires_at"]) - parse_ts(expires)) < 1


def test_only_complete_own_images_can_be_shared(emulator, files):
    ready = create_image(emulator, name="ready")
    foreign = published_image(emulator, files.other, token=PARTNER_TOKEN, name="theirs")
    foreign_private = create_image(emulator, token=PARTNER_TOKEN, name="theirs-private")
    with unchanged(emulator):
        for image_id in (ready["id"], foreign["id"], foreign_private["id"], random_id(), "not-a-uuid"):
            assert_error(emulator.api("POST", "images/shares", json={"image": image_id, "target_org": "partner-org"}),
                         400, "image")


SHARE_TARGETS = [("no-such-org", "target_org"), ("demo-org", "target_org"), ("", "target_org"), (5, "target_org")]


@pytest.mark.parametrize("target, field", SHARE_TARGETS, ids=[str(t) for t, _field in SHARE_TARGETS])
def test_share_target_must_be_another_existing_org(emulator, files, target, field):
    image = complete_image(emulator, files.small)
    with unchanged(emulator):
        assert_error(emulator.api("POST", "images/shares", json={"image": image["id"], "target_org": target}), 400,
                     field)


def test_share_body_validation(emulator, files):
    image = complete_image(emulator, files.small)
    cases = [
        ({"image": image["id"], "target_org": "partner-org", "expires_at": iso_in(-60)}, "expires_at"),
        ({"image": image["id"], "target_org": "partner-org", "expires_at": "tomorrow"}, "expires_at"),
        ({"image": image["id"], "target_org": "partner-org", "expires_at": 12}, "expires_at"),
        ({"target_org": "partner-org"}, "image"),
        ({"image": image["id"]}, "target_org"),
        ({"image": image["id"], "target_org": "partner-org", "state": "CLAIMED"}, "state"),
    ]
    with unchanged(emulator):
        for body, field in cases:
            assert_error(emulator.api("POST", "images/shares", json=body), 400, field)


def test_duplicate_active_share_is_400(emulator, files):
    image = complete_image(emulator, files.small)
    first = create_share(emulator, image["id"])
    with unchanged(emulator):
        assert_error(emulator.api("POST", "images/shares", json={"image": image["id"], "target_org": "partner-org"}),
                     400)
    assert emulator.api("DELETE", f"images/shares/{first['id']}", json={}).status_code == 204
    create_share(emulator, image["id"])  # allowed again once the first one is gone


def test_share_list_is_scoped_to_the_source_org(emulator, files):
    mine = create_share(emulator, complete_image(emulator, files.small)["id"])
    assert list_all(emulator, "images/shares", token=PARTNER_TOKEN) == []  # addressed to it, but not its own
    theirs = create_share(emulator, complete_image(emulator, files.other, token=PARTNER_TOKEN)["id"],
                          target_org="demo-org", token=PARTNER_TOKEN)
    assert [s["id"] for s in list_all(emulator, "images/shares")] == [mine["id"]]
    assert [s["id"] for s in list_all(emulator, "images/shares", token=PARTNER_TOKEN)] == [theirs["id"]]
    with unchanged(emulator):
        for share, token in ((mine, PARTNER_TOKEN), (theirs, DEMO_TOKEN)):
            assert_error(emulator.api("GET", f"images/shares/{share['id']}", token=token), 404)
            assert_error(emulator.api("DELETE", f"images/shares/{share['id']}", token=token, json={}), 404)
        assert_error(emulator.api("GET", f"images/shares/{random_id()}"), 404)
        assert_error(emulator.api("GET", "images/shares/not-a-uuid"), 404)
        assert_error(emulator.api("DELETE", f"images/shares/{random_id()}", json={}), 404)


def claim(emu, share_id, token=PARTNER_TOKEN, **extra):
    return emu.api("POST", "images/claim-image-share", token=token, json={"image_share": share_id, **extra})


def test_share_filters(emulator, files):
    claimed_image = complete_image(emulator, files.small, name="claimed")
    expiring_image = complete_image(emulator, files.small, name="expiring")
    active_image = complete_image(emulator, files.small, name="active")
    claimed = create_share(emulator, claimed_image["id"])
    assert claim(emulator, claimed["id"]).status_code == 201
    expiring = create_share(emulator, expiring_image["id"], expires_at=iso_in(600))
    emulator.advance_clock(3600)
    active = create_share(emulator, active_image["id"])

    def ids(**params):
        return {s["id"] for s in list_all(emulator, "images/shares", **params)}

    assert ids(state="ACTIVE") == {active["id"]}
    assert ids(state="CLAIMED") == {claimed["id"]}
    assert ids(state="EXPIRED") == {expiring["id"]}
    assert ids(target_org="partner-org") == {claimed["id"], expiring["id"], active["id"]}
    assert ids(target_org="demo-org") == set()
    assert ids(image=expiring_image["id"]) == {expiring["id"]}
    assert ids(image=expiring_image["id"], state="ACTIVE") == set()
    assert ids(claimed_by=PARTNER_EMAIL) == {claimed["id"]}
    assert ids(image_name="active") == {active["id"]}
    assert ids(search="expir") == {expiring["id"]}
    names = [s["image_name"] for s in list_all(emulator, "images/shares", ordering="-image_name")]
    assert names == ["expiring", "claimed", "active"]


def test_every_share_filter(emulator, files):
    """The reference page's share filters, each alone and with others; e-mails and org names in any case."""
    first = complete_image(emulator, files.small, name="cumulus-vx", version="5.16.0")
    second = complete_image(emulator, files.small, name="sonic-vs", version="202405")
    to_partner = create_share(emulator, first["id"])
    assert claim(emulator, to_partner["id"]).status_code == 201
    to_admin = create_share(emulator, first["id"], target_org="air-admin")
    other = create_share(emulator, second["id"])
    everyone = {to_partner["id"], to_admin["id"], other["id"]}

    def ids(**params):
        return {s["id"] for s in list_all(emulator, "images/shares", **params)}

    assert ids(claimed_by=PARTNER_EMAIL) == ids(claimed_by=PARTNER_EMAIL.upper()) == {to_partner["id"]}
    assert ids(claimed_by="partner") == set()  # an address, not a substring
    assert ids(claimed_by="") == {to_admin["id"], other["id"]}  # not claimed
    assert ids(image=first["id"]) == ids(image=first["id"].upper()) == {to_partner["id"], to_admin["id"]}
    assert ids(image_name="cumulus-vx") == {to_partner["id"], to_admin["id"]}
    assert ids(image_name="cumulus") == ids(image_name="CUMULUS-VX") == set()  # exact, as the image list's name
    assert ids(image_version="202405") == {other["id"]}
    assert ids(image_name="cumulus-vx", image_version="202405") == set()
    assert ids(source_org_display_name="Demo Org") == ids(source_org_display_name="demo org") == everyone
    assert ids(source_org_display_name="Partner Org") == set()  # only the caller's own shares are listed
    assert ids(target_org_display_name="air admin") == {to_admin["id"]}
    assert ids(target_org="PARTNER-ORG") == {to_partner["id"], other["id"]}
    assert ids(search="Air Adm") == {to_admin["id"]}
    assert ids(search="2024") == {other["id"]}
    assert ids(search="demo org") == everyone
    assert ids(search="partner-org") == set()  # search covers names, versions and display names only
    ordered = list_all(emulator, "images/shares", ordering="target_org_display_name,-image_name")
    assert [s["id"] for s in ordered] == [to_admin["id"], other["id"], to_partner["id"]]
    assert [s["id"] for s in list_all(emulator, "images/shares", ordering="-claimed_by")][0] == to_partner["id"]
    for params, field in (({"image": "not-a-uuid"}, "image"), ({"state": "active"}, "state"),
                          ({"ordering": "image"}, "ordering"), ({"ordering": "-secret"}, "ordering")):
        assert_error(emulator.api("GET", "images/shares", params=params), 400, field)


def test_share_expiry(emulator, files):
    image = complete_image(emulator, files.small)
    share = create_share(emulator, image["id"])
    emulator.advance_clock(24 * 3600 - 120)
    assert emulator.api("GET", f"images/shares/{share['id']}").json()["state"] == "ACTIVE"
    emulator.advance_clock(240)
    assert emulator.api("GET", f"images/shares/{share['id']}").json()["state"] == "EXPIRED"
    assert list_all(emulator, "images/shares")[0]["state"] == "EXPIRED"
    with unchanged(emulator):
        assert_error(claim(emulator, share["id"]), 400, "image_share")
    # an expired share no longer blocks a new one
    assert create_share(emulator, image["id"])["state"] == "ACTIVE"


def test_claim_by_the_wrong_org_is_400(emulator, files):
    image = complete_image(emulator, files.small)
    share = create_share(emulator, image["id"])
    with unchanged(emulator):
        assert_error(claim(emulator, share["id"], token=DEMO_TOKEN), 400, "image_share")


def test_claim_copies_the_image_into_the_claimers_org(emulator, files):
    source = complete_image(emulator, files.small, name="golden", version="7", cpu_arch="ARM", notes="hi",
                            includes_air_agent=True)
    share = create_share(emulator, source["id"])
    response = claim(emulator, share["id"])
    assert response.status_code == 201, response.text
    copy = response.json()
    assert set(copy) == IMAGE_FIELDS
    assert copy["id"] != source["id"]
    assert copy["upload_status"] == "COPYING_FROM_IMAGE_SHARE"
    assert (copy["name"], copy["version"], copy["creator"]) == ("golden", "7", PARTNER_EMAIL)
    assert copy["is_owned_by_client"] is True and copy["published"] is False
    for field in ("cpu_arch", "notes", "includes_air_agent", "default_username", "minimum_resources"):
        assert copy[field] == source[field], field
    done = emulator.wait_for(copy["id"], "COMPLETE", token=PARTNER_TOKEN)
    assert (done["hash"], done["size"]) == (source["hash"], source["size"])
    assert done["last_uploaded_at"]
    claimed = emulator.api("GET", f"images/shares/{share['id']}").json()
    assert (claimed["state"], claimed["claimed_by"]) == ("CLAIMED", PARTNER_EMAIL)
    assert_error(emulator.api("GET", f"images/{copy['id']}"), 404)  # the copy belongs to partner-org only
    with unchanged(emulator):
        assert_error(claim(emulator, share["id"]), 400, "image_share")
        assert_error(emulator.api("DELETE", f"images/shares/{share['id']}", json={}), 400)
    # the copy is independent of the source
    assert emulator.api("DELETE", f"images/{source['id']}", json={}).status_code == 204
    assert [o["size"] for o in emulator.state()["objects"]] == [source["size"]]
    assert get_image(emulator, copy["id"], token=PARTNER_TOKEN)["upload_status"] == "COMPLETE"


def test_claim_with_rename_and_name_collisions(emulator, files):
    create_image(emulator, token=PARTNER_TOKEN, name="golden", version="7")
    source = complete_image(emulator, files.small, name="golden", version="7")
    share = create_share(emulator, source["id"])
    with unchanged(emulator):
        assert_error(claim(emulator, share["id"]), 400)
        assert_error(claim(emulator, share["id"], version="7"), 400)
    response = claim(emulator, share["id"], version="7-copy")
    assert response.status_code == 201
    assert (response.json()["name"], response.json()["version"]) == ("golden", "7-copy")
    emulator.wait_for(response.json()["id"], "COMPLETE", token=PARTNER_TOKEN)


def test_claim_body_validation(emulator, files):
    image = complete_image(emulator, files.small)
    share = create_share(emulator, image["id"])
    with unchanged(emulator):
        for body, field in (({}, "image_share"), ({"image_share": "nope"}, "image_share"),
                            ({"image_share": random_id()}, "image_share"),
                            ({"image_share": share["id"], "name": ""}, "name"),
                            ({"image_share": share["id"], "version": "v" * 65}, "version"),
                            ({"image_share": share["id"], "colour": "red"}, "colour")):
            assert_error(emulator.api("POST", "images/claim-image-share", token=PARTNER_TOKEN, json=body), 400,
                         field)


def test_deleted_share_cannot_be_claimed(emulator, files):
    share = create_share(emulator, complete_image(emulator, files.small)["id"])
    response = emulator.api("DELETE", f"images/shares/{share['id']}", json={})
    assert response.status_code == 204 and response.content == b""
    assert_error(emulator.api("GET", f"images/shares/{share['id']}"), 404)
    with unchanged(emulator):
        assert_error(claim(emulator, share["id"]), 400, "image_share")


def test_share_endpoints_need_the_sharing_scope(emulator, files):
    share = create_share(emulator, complete_image(emulator, files.small)["id"])
    with unchanged(emulator):
        assert_error(emulator.api("GET", f"images/shares/{share['id']}", token=READONLY_TOKEN), 403)
        assert_error(emulator.api("DELETE", f"images/shares/{share['id']}", token=READONLY_TOKEN, json={}), 403)
