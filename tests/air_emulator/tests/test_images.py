"""Image create / retrieve / update / delete and body validation."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from airemu_helpers import (
    DEMO_EMAIL, DEMO_TOKEN, IMAGE_FIELDS, PARTNER_TOKEN, assert_error, create_image, get_image, image_body, list_all,
    parse_ts, random_id, unchanged,
)

CREATE_DEFAULTS = {
    "mountpoint": None, "minimum_resources": {"cpu": 1, "memory": 1024, "storage": 10},
    "includes_air_agent": False, "cpu_arch": "x86", "emulation_type": [], "emulation_version": "",
    "provider": "VM", "published": False, "publicly_published": False, "publish_access_record_id": None,
    "upload_status": "READY", "last_uploaded_at": None, "size": 0, "hash": "", "is_owned_by_client": True,
    "notes": "", "release_notes": "", "user_manual": "",
}


def test_create_returns_201_with_every_field_and_the_defaults(emulator):
    before = time.time()
    response = emulator.api("POST", "images", json=image_body())
    assert response.status_code == 201, response.text
    image = response.json()
    assert set(image) == IMAGE_FIELDS
    assert str(uuid.UUID(image["id"])) == image["id"]
    for field, value in CREATE_DEFAULTS.items():
        assert image[field] == value, field
    assert (image["name"], image["version"]) == ("cumulus-vx", "5.16.0")
    assert (image["default_username"], image["default_password"]) == ("cumulus", "cumulus")
    assert image["creator"] == DEMO_EMAIL
    assert before - 5 <= parse_ts(image["created"]) <= time.time() + 5
    assert image["modified"] == image["created"]
    assert get_image(emulator, image["id"]) == image
    assert emulator.state()["images"] == 1


def test_create_accepts_every_writable_field(emulator):
    body = image_body(
        mountpoint="/mnt/root", minimum_resources={"cpu": 4, "memory": 8192, "storage": 40},
        includes_air_agent=True, cpu_arch="ARM", emulation_type=["KVM", "QEMU"], emulation_version="8.2",
        provider="CONTAINER", notes="n", release_notes="r", user_manual="u",
    )
    image = emulator.api("POST", "images", json=body).json()
    for field, value in body.items():
        assert image[field] == value, field


def test_create_without_any_required_field_names_all_of_them(emulator):
    with unchanged(emulator):
        assert_error(emulator.api("POST", "images", json={}), 400,
                     "name", "version", "default_username", "default_password")


@pytest.mark.parametrize("missing", ["name", "version", "default_username", "default_password"])
def test_create_without_one_required_field_names_it(emulator, missing):
    body = image_body()
    del body[missing]
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "images", json=body), 400, missing)
    assert not {"name", "version", "default_username", "default_password"} - {missing} & set(error)


BAD_VALUES = [
    ("cpu_arch", "arm"), ("cpu_arch", "x86_64"), ("cpu_arch", 1), ("cpu_arch", None),
    ("provider", "KVM"), ("provider", "vm"), ("provider", None),
    ("includes_air_agent", "yes"), ("includes_air_agent", 1), ("includes_air_agent", "true"),
    ("includes_air_agent", None),
    ("minimum_resources", "big"), ("minimum_resources", [1, 2, 3]), ("minimum_resources", {"cpu": 0}),
    ("minimum_resources", {"cpu": "2"}), ("minimum_resources", {"memory": True}), ("minimum_resources", {"gpu": 1}),
    ("emulation_type", "KVM"), ("emulation_type", [1]), ("emulation_type", [""]), ("emulation_type", None),
    ("emulation_version", 3), ("name", ""), ("name", "   "), ("name", "x" * 129), ("name", 5), ("name", None),
    ("version", "v" * 65), ("default_username", None), ("default_password", ""), ("default_password", "p" * 65),
    ("mountpoint", ""), ("mountpoint", 7), ("notes", 1),
]
BAD_IDS = [f"{field}={value!r}"[:40] for field, value in BAD_VALUES]


@pytest.mark.parametrize("field, value", BAD_VALUES, ids=BAD_IDS)
def test_create_rejects_a_bad_value_and_names_the_field(emulator, field, value):
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "images", json=image_body(**{field: value})), 400, field)
    assert error["type"] == "VALIDATION"


@pytest.mark.parametrize("field, value", BAD_VALUES, ids=BAD_IDS)
def test_patch_rejects_a_bad_value_and_names_the_field(emulator, field, value):
    image = create_image(emulator)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}", json={field: value}), 400, field)


READ_ONLY_VALUES = [
    ("hash", "a" * 64), ("size", 1024), ("upload_status", "COMPLETE"), ("id", str(uuid.uuid4())),
    ("published", True), ("publicly_published", True), ("creator", "eve@example.com"),
    ("is_owned_by_client", True), ("last_uploaded_at", "2025-01-01T00:00:00Z"), ("created", "2025-01-01T00:00:00Z"),
    ("publish_access_record_id", str(uuid.uuid4())),
]


@pytest.mark.parametrize("field, value", READ_ONLY_VALUES, ids=[f for f, _value in READ_ONLY_VALUES])
def test_read_only_fields_are_rejected_on_create_and_patch(emulator, field, value):
    image = create_image(emulator)
    with unchanged(emulator):
        assert_error(emulator.api("POST", "images", json=image_body(name="other", **{field: value})), 400, field)
        assert_error(emulator.api("PATCH", f"images/{image['id']}", json={field: value}), 400, field)


def test_unknown_field_is_rejected(emulator):
    image = create_image(emulator)
    with unchanged(emulator):
        assert_error(emulator.api("POST", "images", json=image_body(name="new", colour="blue")), 400, "colour")
        assert_error(emulator.api("PATCH", f"images/{image['id']}", json={"colour": "blue", "notes": "x"}), 400,
                     "colour")


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"{not json", b'{"name": "a",}'])
def test_body_that_is_not_a_json_object_is_rejected(emulator, raw):
    image = create_image(emulator)
    headers = {"Content-Type": "application/json"}
    with unchanged(emulator):
        assert_error(emulator.api("POST", "images", data=raw, headers=headers), 400)
        assert_error(emulator.api("PATCH", f"images/{image['id']}", data=raw, headers=headers), 400)


def test_duplicate_name_and_version_in_the_same_org_is_rejected(emulator):
    create_image(emulator, name="dup", version="1")
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "images", json=image_body(name="dup", version="1")), 400)
    assert "name" in json.dumps(error) and "version" in json.dumps(error)
    # same name with another version, or the same pair in another org, is fine
    assert emulator.api("POST", "images", json=image_body(name="dup", version="2")).status_code == 201
    other = emulator.api("POST", "images", token=PARTNER_TOKEN, json=image_body(name="dup", version="1"))
    assert other.status_code == 201
    assert other.json()["creator"] == "partner@partner-org.example.com"
    assert len(list_all(emulator, token=DEMO_TOKEN)) == 2
    assert len(list_all(emulator, token=PARTNER_TOKEN)) == 1


def test_patch_updates_fields_and_modified(emulator):
    image = create_image(emulator)
    time.sleep(0.01)
    change = {"notes": "hello", "cpu_arch": "ARM", "includes_air_agent": True, "mountpoint": None,
              "emulation_type": ["KVM"], "default_password": "new-secret"}
    response = emulator.api("PATCH", f"images/{image['id']}", json=change)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert set(patched) == IMAGE_FIELDS
    for field, value in change.items():
        assert patched[field] == value
    assert patched["created"] == image["created"]
    assert parse_ts(patched["modified"]) > parse_ts(image["modified"])
    assert get_image(emulator, image["id"]) == patched


def test_patch_rename_to_a_taken_name_is_rejected(emulator):
    create_image(emulator, name="taken", version="1")
    image = create_image(emulator, name="free", version="1")
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}", json={"name": "taken"}), 400)
        assert_error(emulator.api("PATCH", f"images/{image['id']}", json={"name": "taken", "version": "1"}), 400)
    # renaming to its own current pair, or to a pair only another org uses, is fine
    assert emulator.api("PATCH", f"images/{image['id']}", json={"name": "free", "version": "1"}).status_code == 200
    create_image(emulator, token=PARTNER_TOKEN, name="theirs", version="1")
    renamed = emulator.api("PATCH", f"images/{image['id']}", json={"name": "theirs"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "theirs"


def test_delete_returns_204_then_404(emulator):
    keep = create_image(emulator, name="keep")
    image = create_image(emulator, name="drop")
    response = emulator.api("DELETE", f"images/{image['id']}", json={})  # the SDK sends an empty JSON body
    assert response.status_code == 204 and response.content == b""
    assert_error(emulator.api("GET", f"images/{image['id']}"), 404)
    assert_error(emulator.api("DELETE", f"images/{image['id']}", json={}), 404)
    assert_error(emulator.api("PATCH", f"images/{image['id']}", json={"notes": "x"}), 404)
    assert [i["id"] for i in list_all(emulator)] == [keep["id"]]
    # and without a body
    assert emulator.api("DELETE", f"images/{keep['id']}").status_code == 204
    assert emulator.state()["images"] == 0


@pytest.mark.parametrize("image_id", ["not-a-uuid", "12345", str(uuid.uuid4())])
def test_unknown_image_id_is_404(emulator, image_id):
    assert_error(emulator.api("GET", f"images/{image_id}"), 404)


def test_trailing_slash_is_optional(emulator):
    base, headers = f"{emulator.url}/api/v3", {"Authorization": f"Bearer {DEMO_TOKEN}"}
    created = requests.post(f"{base}/images", json=image_body(), headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    image_id = created.json()["id"]
    listed = requests.get(f"{base}/images", headers=headers, timeout=10)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    got = requests.get(f"{base}/images/{image_id}", headers=headers, timeout=10)
    assert got.status_code == 200 and got.json()["id"] == image_id
    patched = requests.patch(f"{base}/images/{image_id}", json={"notes": "no slash"}, headers=headers, timeout=10)
    assert patched.status_code == 200 and patched.json()["notes"] == "no slash"
    start = requests.patch(f"{base}/images/{image_id}/start-upload", json={"hash": "e" * 64, "size": 3},
                           headers=headers, timeout=10)
    assert start.status_code == 200
    assert requests.patch(f"{base}/images/{image_id}/abort-upload", json={}, headers=headers,
                          timeout=10).status_code == 204
    assert requests.delete(f"{base}/images/{image_id}", headers=headers, timeout=10).status_code == 204
    assert requests.get(f"{base}/images/shares", headers=headers, timeout=10).status_code == 200


def test_error_bodies_carry_the_request_id(emulator):
    response = emulator.api("GET", f"images/{random_id()}")
    body = assert_error(response, 404)
    assert body["request_id"] == response.headers["x-request-id"]


def test_unsupported_method_is_405(emulator):
    image = create_image(emulator)
    with unchanged(emulator):
        assert_error(emulator.api("PUT", f"images/{image['id']}", json=image_body()), 405)
        assert_error(emulator.api("DELETE", "images", json={}), 405)
