"""Image CRUD, listing, pagination, auth and publishing through the unmodified SDK."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from unittest import mock

import pytest
from air_sdk import AirApi
from air_sdk.endpoints.images import Image, MinimumResources
from air_sdk.exceptions import AirUnexpectedResponse

DEMO_EMAIL = "demo@demo-org.example.com"
PARTNER_EMAIL = "partner@partner-org.example.com"

# Contract §5: every Image carries exactly these fields.
IMAGE_FIELDS = {
    "id", "name", "version", "created", "modified", "creator", "default_username", "default_password",
    "mountpoint", "minimum_resources", "includes_air_agent", "cpu_arch", "emulation_type",
    "emulation_version", "provider", "published", "publicly_published", "publish_access_record_id",
    "upload_status", "last_uploaded_at", "size", "hash", "is_owned_by_client", "notes", "release_notes",
    "user_manual",
}

FULL_SPEC = dict(
    version="5.16.0",
    default_username="cumulus",
    default_password="CumulusLinux!",
    mountpoint="/mnt/my-image",
    minimum_resources={"cpu": 2, "memory": 2048, "storage": 20},
    includes_air_agent=True,
    cpu_arch="ARM",
    emulation_type=["SIMX", "VM"],
    emulation_version="2.4.1",
    provider="CONTAINER",
    notes="internal build notes",
    release_notes="* fixed the boot loop",
    user_manual="Log in as cumulus.",
)


def _recent(value: datetime, slack: float = 120.0) -> bool:
    return value.tzinfo is not None and abs((datetime.now(timezone.utc) - value).total_seconds()) < slack


def _names(images) -> list[str]:
    return [i.name for i in images]


# ------------------------------------------------------------------------ create
def test_create_with_every_writable_field(api, emulator, unique):
    name = f"conf-{unique}-full"
    image = api.images.create(name=name, **FULL_SPEC)

    assert isinstance(image, Image)
    # Writable fields come back as sent.
    assert image.name == name
    assert image.version == "5.16.0"
    assert image.default_username == "cumulus"
    assert image.default_password == "CumulusLinux!"
    assert image.mountpoint == "/mnt/my-image"
    assert image.minimum_resources == MinimumResources(cpu=2, memory=2048, storage=20)
    assert image.includes_air_agent is True
    assert image.cpu_arch == "ARM"
    assert image.emulation_type == ["SIMX", "VM"]
    assert image.emulation_version == "2.4.1"
    assert image.provider == "CONTAINER"
    assert image.notes == "internal build notes"
    assert image.release_notes == "* fixed the boot loop"
    assert image.user_manual == "Log in as cumulus."
    # Read-only fields have their initial values.
    assert isinstance(image.id, str) and len(image.id) == 36
    assert image.creator == DEMO_EMAIL
    assert image.upload_status == "READY"
    assert image.size == 0
    assert image.hash == ""
    assert image.last_uploaded_at is None
    assert image.published is False
    assert image.publicly_published is False
    assert image.publish_access_record_id is None
    assert image.is_owned_by_client is True
    assert _recent(image.created) and _recent(image.modified)
    assert image.modified >= image.created

    # The same record is served by GET, and the wire format has exactly the §5 field set.
    fetched = api.images.get(image.id)
    assert dataclasses.asdict(fetched) == dataclasses.asdict(image)
    raw = emulator.api("GET", f"images/{image.id}")
    assert raw.status_code == 200
    assert set(raw.json()) == IMAGE_FIELDS


def test_create_with_required_fields_only_applies_defaults(api, unique):
    image = api.images.create(name=f"conf-{unique}-min", version="1", default_username="u",
                              default_password="p")
    assert image.mountpoint is None
    assert image.minimum_resources == MinimumResources(cpu=1, memory=1024, storage=10)
    assert image.includes_air_agent is False
    assert image.cpu_arch == "x86"
    assert image.emulation_type == []
    assert image.emulation_version == ""
    assert image.provider == "VM"
    assert (image.notes, image.release_notes, image.user_manual) == ("", "", "")
    assert (image.upload_status, image.size, image.hash, image.published) == ("READY", 0, "", False)
    assert image.is_owned_by_client is True


def test_create_duplicate_name_and_version_is_rejected(api, make_image):
    first = make_image("dup", version="1.0")
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        make_image("dup", version="1.0")
    assert excinfo.value.status_code == 400
    # Same name with another version is fine.
    second = make_image("dup", version="1.1")
    assert second.name == first.name and second.id != first.id
    assert sorted(i.version for i in api.images.list(name=first.name)) == ["1.0", "1.1"]


def test_create_missing_required_field_is_rejected(api, unique):
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.create(name=f"conf-{unique}", version="1", default_username="u")
    assert excinfo.value.status_code == 400
    assert "default_password" in str(excinfo.value)
    assert list(api.images.list()) == []


# --------------------------------------------------------------- get / update / delete
def test_get_update_rename_and_delete(api, make_image, unique):
    image = make_image("crud", notes="")
    image_id = image.id

    got = api.images.get(image_id)
    assert (got.id, got.name, got.version) == (image_id, image.name, "1.0.0")

    # update() patches and refreshes the instance in place.
    before = image.modified
    image.update(notes="new notes", release_notes="rn", user_manual="um", default_username="admin",
                 includes_air_agent=True, emulation_type=["SIMX"])
    assert image.notes == "new notes"
    assert (image.release_notes, image.user_manual, image.default_username) == ("rn", "um", "admin")
    assert image.includes_air_agent is True and image.emulation_type == ["SIMX"]
    assert image.modified >= before
    fresh = api.images.get(image_id)
    assert (fresh.notes, fresh.default_username, fresh.includes_air_agent) == ("new notes", "admin", True)
    assert fresh.upload_status == "READY"  # metadata edits leave the upload state alone

    # Rename via update().
    old_name = image.name
    new_name = f"conf-{unique}-renamed"
    image.update(name=new_name, version="2.0.0")
    assert (image.name, image.version) == (new_name, "2.0.0")
    assert (api.images.get(image_id).name, api.images.get(image_id).version) == (new_name, "2.0.0")
    assert list(api.images.list(name=old_name)) == []
    assert [i.id for i in api.images.list(name=new_name)] == [image_id]

    # The SDK's legacy attribute assignment auto-PATCHes.
    image.notes = "assigned"
    assert api.images.get(image_id).notes == "assigned"

    # The endpoint-level patch() returns the updated image.
    patched = api.images.patch(image_id, mountpoint="/mnt/root")
    assert patched.mountpoint == "/mnt/root" and patched.notes == "assigned"

    # Read-only fields cannot be written (refused, or ignored as DRF does).
    try:
        api.images.patch(image_id, upload_status="COMPLETE", hash="0" * 64, size=10)
    except AirUnexpectedResponse as exc:
        assert exc.status_code == 400
    fresh = api.images.get(image_id)
    assert (fresh.upload_status, fresh.hash, fresh.size) == ("READY", "", 0)

    image.delete()
    assert image.id is None
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.get(image_id)
    assert excinfo.value.status_code == 404
    assert list(api.images.list()) == []


def test_delete_by_primary_key(api, make_image):
    keep = make_image("keep")
    gone = make_image("gone")
    api.images.delete(gone.id)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.get(gone.id)
    assert excinfo.value.status_code == 404
    assert [i.id for i in api.images.list()] == [keep.id]
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.delete(gone.id)
    assert excinfo.value.status_code == 404


def test_rename_onto_existing_name_and_version_is_rejected(api, make_image):
    a = make_image("a", version="1")
    b = make_image("b", version="1")
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        b.update(name=a.name)
    assert excinfo.value.status_code == 400
    assert api.images.get(b.id).name == b.name


# ------------------------------------------------------------------------- listing
@pytest.fixture
def catalog(api, partner_api, make_image, uploaded_image, small_file, other_small_file, unique, wait_image):
    """Four demo images with varied metadata (one uploaded) plus one image the
    partner org uploaded and published publicly (so demo sees it, not owning it)."""
    p = f"conf-{unique}"
    images = {
        "alpha": make_image("alpha", version="1.0", cpu_arch="x86", includes_air_agent=False, provider="VM"),
        "bravo": make_image("bravo", version="2.0", cpu_arch="ARM", includes_air_agent=True, provider="VM"),
        "charlie": make_image("charlie", version="1.0", cpu_arch="x86", includes_air_agent=True,
                              provider="CONTAINER"),
        "delta": uploaded_image("delta", version="3.0", cpu_arch="ARM", includes_air_agent=False,
                                provider="CONTAINER", file=small_file),
    }
    papa = uploaded_image("papa", client=partner_api, version="1.0", file=other_small_file)
    papa.publish()
    wait_image(partner_api, papa.id, lambda i: i.published and i.upload_status == "COMPLETE")
    images["papa"] = api.images.get(papa.id)
    assert images["papa"].is_owned_by_client is False
    return p, images


LIST_CASES = [
    ({"name": "{p}-bravo"}, {"bravo"}),
    ({"version": "1.0"}, {"alpha", "charlie", "papa"}),
    ({"cpu_arch": "ARM"}, {"bravo", "delta"}),
    ({"cpu_arch": "x86"}, {"alpha", "charlie", "papa"}),
    ({"includes_air_agent": True}, {"bravo", "charlie"}),
    ({"includes_air_agent": False}, {"alpha", "delta", "papa"}),
    ({"provider": "CONTAINER"}, {"charlie", "delta"}),
    ({"provider": "VM"}, {"alpha", "bravo", "papa"}),
    ({"upload_status": "READY"}, {"alpha", "bravo", "charlie"}),
    ({"upload_status": "COMPLETE"}, {"delta", "papa"}),
    ({"is_owned_by_client": True}, {"alpha", "bravo", "charlie", "delta"}),
    ({"is_owned_by_client": False}, {"papa"}),
    ({"published": True}, {"papa"}),
    ({"published": False}, {"alpha", "bravo", "charlie", "delta"}),
    ({"publicly_published": True}, {"papa"}),
    ({"creator": DEMO_EMAIL}, {"alpha", "bravo", "charlie", "delta"}),
    ({"creator": PARTNER_EMAIL}, {"papa"}),
    ({"search": "charl"}, {"charlie"}),
    ({"search": "BRAVO"}, {"bravo"}),
    ({"search": "3.0"}, {"delta"}),
    ({"search": "no-such-thing"}, set()),
    ({"cpu_arch": "x86", "includes_air_agent": True}, {"charlie"}),
    ({"provider": "CONTAINER", "upload_status": "COMPLETE", "is_owned_by_client": True}, {"delta"}),
    ({"name": "{p}-alpha", "version": "2.0"}, set()),
]


def test_list_filters(api, catalog):
    p, images = catalog
    assert {i.id for i in api.images.list()} == {i.id for i in images.values()}
    failures = []
    for params, expected in LIST_CASES:
        params = {k: (v.format(p=p) if isinstance(v, str) else v) for k, v in params.items()}
        got = {i.name for i in api.images.list(**params)}
        want = {images[key].name for key in expected}
        if got != want:
            failures.append(f"list({params}) -> {sorted(got)}, expected {sorted(want)}")
    assert not failures, "\n".join(failures)


def test_list_filter_by_hash(api, catalog, small_file, other_small_file):
    _prefix, images = catalog
    assert [i.id for i in api.images.list(hash=small_file.sha256)] == [images["delta"].id]
    assert [i.id for i in api.images.list(hash=other_small_file.sha256)] == [images["papa"].id]
    assert list(api.images.list(hash="0" * 64)) == []


def test_list_results_are_full_images(api, catalog):
    _prefix, images = catalog
    listed = {i.id: i for i in api.images.list()}
    for image in images.values():
        assert dataclasses.asdict(listed[image.id]) == dataclasses.asdict(api.images.get(image.id))


def test_list_ordering(api, make_image):
    for suffix in ("c", "a", "e", "b", "d"):
        make_image(suffix)
    names = _names(api.images.list(ordering="name"))
    assert names == sorted(names) and len(names) == 5
    assert _names(api.images.list(ordering="-name")) == sorted(names, reverse=True)
    # Secondary key: same name, versions ordered descending.
    base = names[0]
    make_image(version="0.9", name=base)
    rows = [(i.name, i.version) for i in api.images.list(ordering="name,-version")]
    assert rows[:2] == [(base, "1.0.0"), (base, "0.9")]


def test_pagination_follows_next(api, emulator, make_image):
    for suffix in ("e", "b", "d", "a", "c"):
        make_image(suffix)
    api.set_page_size(2)
    with mock.patch.object(api.client, "get", wraps=api.client.get) as spy:
        names = _names(api.images.list(ordering="name"))
    assert len(names) == 5 and len(set(names)) == 5
    assert names == sorted(names)
    # 3 pages of 2, 2, 1: the first request carries the params, the rest follow `next` verbatim.
    assert spy.call_count == 3
    # Raw page shape (§2): count/next/previous/results; the SDK relies on `next` only.
    page = emulator.api("GET", "images", params={"limit": 2, "offset": 2, "ordering": "name"}).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 5 and len(page["results"]) == 2
    assert page["next"] and page["previous"]
    first_call = spy.call_args_list[0]
    assert first_call.kwargs["params"]["limit"] == 2
    assert first_call.kwargs["params"]["ordering"] == "name"
    for later in spy.call_args_list[1:]:
        url = later.args[0]
        assert url.startswith("http") and "limit=2" in url and "offset=" in url and "ordering=name" in url
        assert "params" not in later.kwargs


def test_pagination_keeps_filters_and_ordering_across_pages(api, make_image):
    arm = [make_image(f"arm{n}", cpu_arch="ARM") for n in range(5)]
    for n in range(3):
        make_image(f"x86{n}", cpu_arch="x86")
    api.set_page_size(2)
    names = _names(api.images.list(cpu_arch="ARM", ordering="-name"))
    assert names == sorted((i.name for i in arm), reverse=True)
    api.set_page_size(3)
    assert len(list(api.images.list())) == 8
    # Explicit offset + limit: one page only.
    api.set_page_size(200)
    assert _names(api.images.list(cpu_arch="ARM", ordering="name", offset=3)) == sorted(i.name for i in arm)[3:]


# ---------------------------------------------------------------------------- auth
def test_bad_token_is_rejected(emulator):
    bogus = AirApi(api_url=emulator.url, api_key="nvapi-not-a-real-key")
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        list(bogus.images.list())
    assert excinfo.value.status_code in (401, 403)


def test_read_only_token_can_read_but_not_write(api, readonly_api, make_image, unique):
    image = make_image("ro")
    assert [i.id for i in readonly_api.images.list()] == [image.id]
    assert readonly_api.images.get(image.id).is_owned_by_client is True
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        readonly_api.images.create(name=f"conf-{unique}-ro2", version="1", default_username="u",
                                   default_password="p")
    assert excinfo.value.status_code == 403
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        readonly_api.images.patch(image.id, notes="nope")
    assert excinfo.value.status_code == 403
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        readonly_api.images.delete(image.id)
    assert excinfo.value.status_code == 403
    assert api.images.get(image.id).notes == ""
    assert len(list(api.images.list())) == 1


def test_other_org_cannot_see_unpublished_image(partner_api, make_image):
    image = make_image("private")
    assert list(partner_api.images.list()) == []
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        partner_api.images.get(image.id)
    assert excinfo.value.status_code == 404


# ---------------------------------------------------------------------- publishing
def test_publish_and_unpublish_with_rename(api, partner_api, uploaded_image, small_file, wait_image, unique):
    image = uploaded_image("pub")
    image_id = image.id
    pub_name, pub_version = f"conf-{unique}-catalog", "9.9.0"

    response = image.publish(name=pub_name, version=pub_version)
    assert isinstance(response, Image)
    assert (response.name, response.version) == (pub_name, pub_version)
    assert response.upload_status in ("PUBLISHING", "COMPLETE")
    assert image.name == pub_name  # the SDK refreshed the instance

    published, seen = wait_image(api, image_id, lambda i: i.published and i.upload_status == "COMPLETE")
    assert set(seen) <= {"PUBLISHING", "COMPLETE"}
    assert (published.name, published.version) == (pub_name, pub_version)
    assert published.publicly_published is True
    assert published.publish_access_record_id  # owner sees its publish access record
    assert (published.hash, published.size) == (small_file.sha256, small_file.size)
    assert [i.id for i in api.images.list(published=True)] == [image_id]

    # The partner org now sees it in its listing, but does not own it.
    partner_view = [i for i in partner_api.images.list() if i.id == image_id]
    assert len(partner_view) == 1
    seen_by_partner = partner_view[0]
    assert seen_by_partner.is_owned_by_client is False
    assert (seen_by_partner.name, seen_by_partner.version) == (pub_name, pub_version)
    assert seen_by_partner.published is True and seen_by_partner.upload_status == "COMPLETE"
    assert seen_by_partner.publish_access_record_id is None  # only returned to the owning org
    assert [i.id for i in partner_api.images.list(is_owned_by_client=False)] == [image_id]
    assert list(partner_api.images.list(is_owned_by_client=True)) == []
    assert partner_api.images.get(image_id).hash == small_file.sha256
    # ... and cannot change it.
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        partner_api.images.patch(image_id, notes="hijack")
    assert excinfo.value.status_code in (403, 404)

    # Unpublish, renaming back.
    back_name, back_version = f"conf-{unique}-private", "9.9.1"
    response = image.unpublish(name=back_name, version=back_version)
    assert (response.name, response.version) == (back_name, back_version)
    assert response.upload_status in ("UNPUBLISHING", "COMPLETE")
    unpublished, seen = wait_image(api, image_id, lambda i: not i.published and i.upload_status == "COMPLETE")
    assert set(seen) <= {"UNPUBLISHING", "COMPLETE"}
    assert (unpublished.name, unpublished.version) == (back_name, back_version)
    assert unpublished.publicly_published is False
    assert (unpublished.hash, unpublished.size) == (small_file.sha256, small_file.size)
    assert list(api.images.list(published=True)) == []

    assert [i for i in partner_api.images.list() if i.id == image_id] == []
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        partner_api.images.get(image_id)
    assert excinfo.value.status_code == 404


def test_publish_endpoint_form_and_restricted_visibility(api, partner_api, uploaded_image, wait_image,
                                                         emulator):
    orgs = {o["name"]: o["id"] for o in emulator.admin("GET", "orgs")}
    image = uploaded_image("restricted")
    api.images.publish(image=image.id, prefer_public=False, allowed_orgs=[orgs["partner-org"]],
                       justification="partner preview")
    done, _seen = wait_image(api, image.id, lambda i: i.published and i.upload_status == "COMPLETE")
    assert done.publicly_published is False
    assert [i.id for i in partner_api.images.list(published=True)] == [image.id]
    assert list(partner_api.images.list(publicly_published=True)) == []


def test_publish_requires_complete_upload(api, make_image):
    image = make_image("not-uploaded")
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        image.publish()
    assert excinfo.value.status_code == 400
    fresh = api.images.get(image.id)
    assert fresh.published is False and fresh.upload_status == "READY"


def test_published_image_cannot_be_deleted(api, uploaded_image, wait_image):
    image = uploaded_image("pubdel")
    image.publish()
    wait_image(api, image.id, lambda i: i.published and i.upload_status == "COMPLETE")
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.images.delete(image.id)
    assert excinfo.value.status_code == 400
    assert api.images.get(image.id).published is True
