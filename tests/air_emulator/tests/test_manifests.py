"""OS image manifests (``manifests/os-images/``) and the read-only catalogue they pin."""

from __future__ import annotations

import contextlib

import pytest
import requests

from air_emulator.testing import Emulator
from airemu_helpers import (
    DEMO_EMAIL, DEMO_TOKEN, EMULATOR_ARGS, PARTNER_TOKEN, READONLY_TOKEN, assert_error, complete_image, create_image,
    create_share, list_all, parse_ts, publish, random_id, snapshot, upload_file,
)

MANIFEST_FIELDS = {"id", "created", "modified", "image", "os_type", "creator", "os_template_partition",
                   "capabilities", "platforms"}
PLATFORM_INFORMATION_FIELDS = {"id", "created", "modified", "model", "platform_information_version", "port_map",
                               "ports_config", "creator", "os_type", "emulation_type", "vars", "simulator_config",
                               "minimum_resources"}
OS_TEMPLATE_FIELDS = {"id", "created", "modified", "os_type", "os_template_version", "org", "render", "creator",
                      "generate", "vars"}
TWO_MODELS = {
    "SN3700": {"platform_information_version": "1.1", "os_template_version": "5.11"},
    "SN5600": {"platform_information_version": "1.0", "os_template_version": "5.9"},
}


def manifest_body(image_id: str, **overrides) -> dict:
    body = {"image": image_id, "os_type": "cumulus-linux", "platforms": TWO_MODELS}
    body.update(overrides)
    return body


def create_manifest(emu, image_id: str, token: str = DEMO_TOKEN, **overrides) -> dict:
    response = emu.api("POST", "manifests/os-images", token=token, json=manifest_body(image_id, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def manifests_seen(emu) -> dict:
    return {"count": emu.state()["manifests"],
            "lists": {t: list_all(emu, "manifests/os-images", t) for t in (DEMO_TOKEN, PARTNER_TOKEN)}}


@contextlib.contextmanager
def unchanged(emu):
    """Images, shares, uploads and manifests are exactly as before the block."""
    before = (snapshot(emu), manifests_seen(emu))
    yield
    assert (snapshot(emu), manifests_seen(emu)) == before


@pytest.fixture
def image(emulator, files):
    return complete_image(emulator, files.small)


# -------------------------------------------------------------------- catalogue
def test_platform_information_catalogue_in_the_sdk_shape(emulator):
    records = list_all(emulator, "manifests/platform-information")
    assert [(r["os_type"], r["model"], r["platform_information_version"]) for r in records] == [
        ("cumulus-linux", "SN3700", "1.0"), ("cumulus-linux", "SN3700", "1.1"), ("cumulus-linux", "SN5600", "1.0"),
        ("sonic", "SN4700", "1.0"), ("sonic", "SN4700", "2.0"),
    ]
    for record in records:
        assert set(record) == PLATFORM_INFORMATION_FIELDS
        assert record["emulation_type"] is None  # exactly one of os_type / emulation_type is set
        config = record["ports_config"]
        # every split option and the default split are port_map keys (the API's own rule)
        assert set(config["split_options"]) | {config["default_split"]} <= set(record["port_map"]) - {"mgmt"}
        assert len(record["port_map"]["1"]) == config["num_label_ports"]
        entry = next(iter(record["port_map"]["1"].values()))
        assert set(entry) == {"asic", "label_port", "local_port", "split_num"}
        assert set(record["minimum_resources"]) == {"cpu", "memory", "storage"}
        parse_ts(record["created"])
    assert record["port_map"]["2"]["Ethernet4"]["label_port"] == "1"  # SONiC names lanes, not splits
    sn3700 = records[1]["port_map"]
    assert sn3700["2"]["swp1s1"] == {"asic": "1", "label_port": "1", "local_port": "2", "split_num": "2"}

    assert emulator.api("GET", f"manifests/platform-information/{records[3]['id']}").json() == records[3]
    assert_error(emulator.api("GET", f"manifests/platform-information/{random_id()}"), 404)
    # the same records for every org and for a read-only token
    assert list_all(emulator, "manifests/platform-information", PARTNER_TOKEN) == records
    assert list_all(emulator, "manifests/platform-information", READONLY_TOKEN) == records


def test_platform_information_filters_search_and_ordering(emulator):
    def versions(**params):
        return [(r["model"], r["platform_information_version"])
                for r in list_all(emulator, "manifests/platform-information", **params)]

    assert versions(model="SN3700") == [("SN3700", "1.0"), ("SN3700", "1.1")]
    assert versions(os_type="sonic") == [("SN4700", "1.0"), ("SN4700", "2.0")]
    assert versions(platform_information_version="1.0") == [("SN3700", "1.0"), ("SN5600", "1.0"), ("SN4700", "1.0")]
    assert versions(search="sn56") == [("SN5600", "1.0")]
    newest_first = versions(os_type="sonic", ordering="-platform_information_version")
    assert newest_first == [("SN4700", "2.0"), ("SN4700", "1.0")]
    assert versions(emulation_type="x") == []
    assert_error(emulator.api("GET", "manifests/platform-information", params={"ordering": "port_map"}), 400,
                 "ordering")


def test_os_template_catalogue_in_the_sdk_shape(emulator):
    records = list_all(emulator, "manifests/os-templates")
    assert [(r["os_type"], r["os_template_version"]) for r in records] == [
        ("cumulus-linux", "5.9"), ("cumulus-linux", "5.11"), ("sonic", "202311"), ("sonic", "202405")]
    for record in records:
        assert set(record) == OS_TEMPLATE_FIELDS
        assert all(path.startswith("/") and set(entry) >= {"content"} for path, entry in record["render"].items())
        assert record["generate"] == {"mgmt_mac": "MGMT_MAC"}
    assert [r["os_template_version"] for r in list_all(emulator, "manifests/os-templates", os_type="sonic",
                                                       ordering="-os_template_version")] == ["202405", "202311"]
    assert [r["id"] for r in list_all(emulator, "manifests/os-templates", os_template_version="5.11")] == \
        [records[1]["id"]]
    assert emulator.api("GET", f"manifests/os-templates/{records[0]['id']}").json() == records[0]
    assert_error(emulator.api("GET", "manifests/os-templates/not-a-uuid"), 404)


def test_catalogue_is_read_only(emulator):
    record = list_all(emulator, "manifests/platform-information")[0]
    template = list_all(emulator, "manifests/os-templates")[0]
    assert_error(emulator.api("POST", "manifests/platform-information", json={"model": "X"}), 405)
    assert_error(emulator.api("POST", "manifests/os-templates", json={"os_type": "x"}), 405)
    assert_error(emulator.api("DELETE", f"manifests/platform-information/{record['id']}"), 405)
    assert_error(emulator.api("PATCH", f"manifests/os-templates/{template['id']}", json={}), 405)
    assert list_all(emulator, "manifests/platform-information")[0] == record


# ----------------------------------------------------------------- happy path
def test_create_get_list_patch_delete(emulator, image):
    response = emulator.api("POST", "manifests/os-images", json=manifest_body(
        image["id"], capabilities={"vsock": {}}, os_template_partition="/dev/sda3"))
    assert response.status_code == 201, response.text
    manifest = response.json()
    assert set(manifest) == MANIFEST_FIELDS
    assert manifest["image"] == image["id"] and manifest["os_type"] == "cumulus-linux"
    assert manifest["platforms"] == TWO_MODELS
    assert manifest["capabilities"] == {"vsock": {}} and manifest["os_template_partition"] == "/dev/sda3"
    assert manifest["creator"] == DEMO_EMAIL and manifest["created"] == manifest["modified"]
    assert emulator.api("GET", f"manifests/os-images/{manifest['id']}").json() == manifest
    assert list_all(emulator, "manifests/os-images") == [manifest]
    assert list_all(emulator, "manifests/os-images", READONLY_TOKEN) == [manifest]
    assert emulator.state()["manifests"] == 1

    # PATCH replaces whole fields: one pin changed, one model dropped
    one_model = {"SN3700": {"platform_information_version": "1.0", "os_template_version": "5.11"}}
    response = emulator.api("PATCH", f"manifests/os-images/{manifest['id']}", json={"platforms": one_model})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["platforms"] == one_model
    assert {k: patched[k] for k in ("id", "image", "os_type", "capabilities", "os_template_partition", "created")} \
        == {k: manifest[k] for k in ("id", "image", "os_type", "capabilities", "os_template_partition", "created")}
    assert parse_ts(patched["modified"]) > parse_ts(manifest["modified"])

    # null clears the partition (files go to the image mountpoint); {} drops every capability
    response = emulator.api("PATCH", f"manifests/os-images/{manifest['id']}",
                            json={"os_template_partition": None, "capabilities": {}})
    assert response.status_code == 200, response.text
    assert (response.json()["os_template_partition"], response.json()["capabilities"]) == (None, {})
    assert emulator.api("GET", f"manifests/os-images/{manifest['id']}").json() == response.json()

    response = emulator.api("DELETE", f"manifests/os-images/{manifest['id']}", json={})
    assert response.status_code == 204 and response.content == b""
    assert_error(emulator.api("GET", f"manifests/os-images/{manifest['id']}"), 404)
    assert list_all(emulator, "manifests/os-images") == []
    assert emulator.state()["manifests"] == 0
    # the image is untouched, and can get a new manifest
    assert emulator.api("GET", f"images/{image['id']}").json()["upload_status"] == "COMPLETE"
    create_manifest(emulator, image["id"], os_type="sonic", platforms={})


def test_defaults_and_unpinned_versions(emulator, image):
    body = {"image": image["id"], "os_type": "sonic"}
    response = emulator.api("POST", "manifests/os-images", json=body)
    assert response.status_code == 201, response.text
    manifest = response.json()
    assert (manifest["platforms"], manifest["capabilities"], manifest["os_template_partition"]) == ({}, {}, None)
    # null = not pinned: only the model has to exist for the os_type
    unpinned = {"SN4700": {"platform_information_version": None, "os_template_version": "202405"}}
    response = emulator.api("PATCH", f"manifests/os-images/{manifest['id']}", json={"platforms": unpinned})
    assert response.status_code == 200, response.text
    assert response.json()["platforms"] == unpinned


def test_list_filters_search_ordering_and_pages(emulator, files):
    first = complete_image(emulator, files.small, name="cumulus-vx", version="5.11")
    second = complete_image(emulator, files.small, name="cumulus-vx", version="5.12")
    third = complete_image(emulator, files.small, name="sonic-vs", version="202405")
    m1 = create_manifest(emulator, first["id"])
    m2 = create_manifest(emulator, second["id"])
    m3 = create_manifest(emulator, third["id"], os_type="sonic", platforms={})

    def ids(**params):
        return [m["id"] for m in list_all(emulator, "manifests/os-images", **params)]

    assert ids() == [m1["id"], m2["id"], m3["id"]]
    assert ids(ordering="-created") == [m3["id"], m2["id"], m1["id"]]
    assert ids(os_type="sonic") == [m3["id"]]
    assert ids(image=second["id"]) == [m2["id"]]
    assert ids(image=second["id"].upper()) == [m2["id"]]
    assert ids(image=random_id()) == []
    assert ids(search="SONIC-VS") == [m3["id"]]  # image name
    assert ids(search=first["id"][:8]) == [m1["id"]]  # image id
    assert ids(search="demo@") == [m1["id"], m2["id"], m3["id"]]  # creator
    assert ids(search="cumulus-linux") == [m1["id"], m2["id"]]  # os_type

    page = emulator.api("GET", "manifests/os-images", params={"limit": 2}).json()
    assert page["count"] == 3 and [m["id"] for m in page["results"]] == [m1["id"], m2["id"]]
    rest = requests.get(page["next"], headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=30).json()
    assert [m["id"] for m in rest["results"]] == [m3["id"]] and rest["next"] is None

    assert_error(emulator.api("GET", "manifests/os-images", params={"image": "nope"}), 400, "image")
    error = assert_error(emulator.api("GET", "manifests/os-images", params={"ordering": "os_type"}), 400, "ordering")
    assert "created" in error["detail"]


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("status", ["READY", "UPLOADING"])
def test_image_must_be_complete(emulator, files, status):
    target = create_image(emulator)
    if status == "UPLOADING":
        upload_file(emulator, target["id"], files.small, complete=False)
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images", json=manifest_body(target["id"])), 400,
                             "image")
    assert error["upload_status"] == status and error["type"] == "VALIDATION"
    assert status in error["detail"] and "COMPLETE" in error["detail"]


def test_image_must_exist_and_belong_to_the_caller(emulator, files):
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images", json=manifest_body(random_id())), 400,
                             "image")
    assert "does not exist" in error["detail"]
    hidden = complete_image(emulator, files.small, token=PARTNER_TOKEN, name="partner-private")
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images", json=manifest_body(hidden["id"])), 400,
                             "image")
    assert "does not exist" in error["detail"]  # another org's unpublished image is not revealed
    public = complete_image(emulator, files.other, token=PARTNER_TOKEN, name="partner-public")
    publish(emulator, public["id"], token=PARTNER_TOKEN)
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images", json=manifest_body(public["id"])), 400,
                             "image")
    assert "another organization" in error["detail"]
    with unchanged(emulator):
        assert_error(emulator.api("POST", "manifests/os-images", json=manifest_body("not-a-uuid")), 400, "image")


def test_one_manifest_per_image(emulator, image):
    first = create_manifest(emulator, image["id"])
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images",
                                          json=manifest_body(image["id"], os_type="sonic", platforms={})), 400,
                             "image")
    assert first["id"] in error["detail"] and "PATCH" in error["detail"]


@pytest.mark.parametrize("capabilities, named", [
    ({"vsock": {}, "serial_console": {}}, "serial_console"),
    ({"VSOCK": {}}, "VSOCK"),
    ({"vsock": True}, "vsock"),
    (["vsock"], "dictionary"),
])
def test_unknown_or_malformed_capabilities(emulator, image, capabilities, named):
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images",
                                          json=manifest_body(image["id"], capabilities=capabilities)), 400,
                             "capabilities")
    assert named in error["detail"]
    manifest = create_manifest(emulator, image["id"])
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"manifests/os-images/{manifest['id']}",
                                  json={"capabilities": capabilities}), 400, "capabilities")


@pytest.mark.parametrize("partition", ["", "   ", "x" * 129, 7])
def test_blank_or_bad_partition(emulator, image, partition):
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images",
                                          json=manifest_body(image["id"], os_template_partition=partition)), 400,
                             "os_template_partition")
    assert error["detail"].startswith("os_template_partition: ")
    manifest = create_manifest(emulator, image["id"], os_template_partition="SONiC-OS")
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"manifests/os-images/{manifest['id']}",
                                  json={"os_template_partition": partition}), 400, "os_template_partition")


@pytest.mark.parametrize("platforms, named", [
    ({"SN9999": {"platform_information_version": "1.0", "os_template_version": "5.9"}},
     ["SN9999", "unknown model", "SN3700, SN5600"]),
    ({"SN3700": {"platform_information_version": "9.9", "os_template_version": "5.9"}},
     ["SN3700", "platform_information_version '9.9'", "1.0, 1.1"]),
    ({"SN3700": {"platform_information_version": "1.0", "os_template_version": "4.0"}},
     ["SN3700", "os_template_version '4.0'", "5.11, 5.9"]),
    # SN4700 exists, but only for SONiC
    ({"SN4700": {"platform_information_version": "1.0", "os_template_version": "5.9"}},
     ["SN4700", "cumulus-linux"]),
    ({"SN3700": {"platform_information_version": "1.0"}}, ["SN3700", "missing key(s) os_template_version"]),
    ({"SN3700": {"platform_information_version": "1.0", "os_template_version": "5.9", "extra": 1}},
     ["SN3700", "unknown key(s) extra"]),
    ({"SN3700": {"platform_information_version": "", "os_template_version": "5.9"}}, ["SN3700", "non-blank"]),
    ({"SN3700": "1.0"}, ["SN3700"]),
])
def test_pins_must_name_catalogue_records(emulator, image, platforms, named):
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images",
                                          json=manifest_body(image["id"], platforms=platforms)), 400, "platforms")
    for text in named:
        assert text in error["detail"], error
    manifest = create_manifest(emulator, image["id"])
    with unchanged(emulator):
        error = assert_error(emulator.api("PATCH", f"manifests/os-images/{manifest['id']}",
                                          json={"platforms": platforms}), 400, "platforms")
    assert named[0] in error["detail"]


def test_every_bad_pin_is_listed(emulator, image):
    platforms = {
        "SN3700": {"platform_information_version": "9", "os_template_version": "9"},
        "SN5600": {"platform_information_version": "1.0", "os_template_version": "5.9"},
        "SN0000": {"platform_information_version": "1.0", "os_template_version": "5.9"},
    }
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images",
                                          json=manifest_body(image["id"], platforms=platforms)), 400, "platforms")
    assert len(error["platforms"]) == 3
    assert [m.split(":")[0] for m in error["platforms"]] == ["SN3700", "SN3700", "SN0000"]


def test_unknown_os_type(emulator, image):
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images",
                                          json=manifest_body(image["id"], os_type="cumulus", platforms={})), 400,
                             "os_type")
    assert "'cumulus'" in error["detail"] and "cumulus-linux, sonic" in error["detail"]


def test_required_unknown_and_read_only_fields(emulator, image):
    with unchanged(emulator):
        error = assert_error(emulator.api("POST", "manifests/os-images", json={}), 400, "image", "os_type")
        assert error["image"] == ["This field is required."]
        assert_error(emulator.api("POST", "manifests/os-images",
                                  json=manifest_body(image["id"], platform={})), 400, "platform")
        assert_error(emulator.api("POST", "manifests/os-images",
                                  json=manifest_body(image["id"], creator="me")), 400, "creator")
        assert_error(emulator.api("POST", "manifests/os-images", json=["not", "an", "object"]), 400)
    manifest = create_manifest(emulator, image["id"])
    with unchanged(emulator):
        for field in ("id", "created", "modified", "creator"):
            error = assert_error(emulator.api("PATCH", f"manifests/os-images/{manifest['id']}",
                                              json={field: manifest[field]}), 400, field)
            assert error[field] == ["This field is read-only."]


def test_image_and_os_type_are_immutable(emulator, files, image):
    manifest = create_manifest(emulator, image["id"])
    other = complete_image(emulator, files.other, name="other")
    with unchanged(emulator):
        error = assert_error(emulator.api("PATCH", f"manifests/os-images/{manifest['id']}",
                                          json={"os_type": "sonic", "platforms": {}}), 400, "os_type")
        assert "cannot be changed" in error["detail"] and "'cumulus-linux'" in error["detail"]
        assert "platforms" not in error  # the reason is the os_type, nothing else
        error = assert_error(emulator.api("PATCH", f"manifests/os-images/{manifest['id']}",
                                          json={"image": other["id"]}), 400, "image")
        assert "cannot be changed" in error["detail"]
    # sending the current values back is not a change
    response = emulator.api("PATCH", f"manifests/os-images/{manifest['id']}",
                            json={"image": image["id"], "os_type": "cumulus-linux"})
    assert response.status_code == 200, response.text
    assert {k: v for k, v in response.json().items() if k != "modified"} == \
        {k: v for k, v in manifest.items() if k != "modified"}


# ------------------------------------------------------- orgs, scopes, lifecycle
def test_other_orgs_see_manifests_of_published_images_but_cannot_change_them(emulator, image):
    manifest = create_manifest(emulator, image["id"])
    assert_error(emulator.api("GET", f"manifests/os-images/{manifest['id']}", token=PARTNER_TOKEN), 404)
    assert list_all(emulator, "manifests/os-images", PARTNER_TOKEN) == []
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"manifests/os-images/{manifest['id']}", token=PARTNER_TOKEN,
                                  json={"platforms": {}}), 404)
        assert_error(emulator.api("DELETE", f"manifests/os-images/{manifest['id']}", token=PARTNER_TOKEN), 404)

    publish(emulator, image["id"])
    assert emulator.api("GET", f"manifests/os-images/{manifest['id']}", token=PARTNER_TOKEN).json() == manifest
    assert list_all(emulator, "manifests/os-images", PARTNER_TOKEN, image=image["id"]) == [manifest]
    with unchanged(emulator):
        error = assert_error(emulator.api("PATCH", f"manifests/os-images/{manifest['id']}", token=PARTNER_TOKEN,
                                          json={"platforms": {}}), 403)
        assert "owns" in error["detail"]
        assert_error(emulator.api("DELETE", f"manifests/os-images/{manifest['id']}", token=PARTNER_TOKEN), 403)


def test_scopes(files):
    """Reads need air:image_read (catalogue too); create, PATCH and DELETE need air:image_write."""
    args = (*EMULATOR_ARGS, "--org", "demo-org=all-token", "--org", "demo-org=read-token:read",
            "--org", "demo-org=write-token:write")
    with Emulator(*args) as emu:
        image = complete_image(emu, files.small, token="all-token")
        body = manifest_body(image["id"])
        with unchanged_for(emu, "all-token"):
            error = assert_error(emu.api("POST", "manifests/os-images", token="read-token", json=body), 403)
        assert "air:image_write" in error["detail"]
        manifest = create_manifest(emu, image["id"], token="write-token")
        with unchanged_for(emu, "all-token"):
            assert_error(emu.api("PATCH", f"manifests/os-images/{manifest['id']}", token="read-token",
                                 json={"platforms": {}}), 403)
            assert_error(emu.api("DELETE", f"manifests/os-images/{manifest['id']}", token="read-token"), 403)
        for path in ("manifests/os-images", f"manifests/os-images/{manifest['id']}",
                     "manifests/platform-information", "manifests/os-templates"):
            error = assert_error(emu.api("GET", path, token="write-token"), 403)
            assert "air:image_read" in error["detail"]
            assert emu.api("GET", path, token="read-token").status_code == 200
        assert_error(emu.api("GET", "manifests/os-images", token="wrong-token"), 401)
        assert emu.api("DELETE", f"manifests/os-images/{manifest['id']}", token="write-token").status_code == 204


@contextlib.contextmanager
def unchanged_for(emu, token: str):
    before = (emu.state()["manifests"], list_all(emu, "manifests/os-images", token))
    yield
    assert (emu.state()["manifests"], list_all(emu, "manifests/os-images", token)) == before


def test_deleting_the_image_deletes_its_manifest(emulator, files, image):
    manifest = create_manifest(emulator, image["id"])
    other = complete_image(emulator, files.other, name="other")
    kept = create_manifest(emulator, other["id"])
    assert emulator.api("DELETE", f"images/{image['id']}", json={}).status_code == 204
    assert_error(emulator.api("GET", f"manifests/os-images/{manifest['id']}"), 404)
    assert list_all(emulator, "manifests/os-images") == [kept]
    assert emulator.state()["manifests"] == 1


def test_a_published_image_keeps_its_manifest_and_cannot_be_deleted_with_it(emulator, image):
    manifest = create_manifest(emulator, image["id"])
    publish(emulator, image["id"])
    with unchanged(emulator):
        assert_error(emulator.api("DELETE", f"images/{image['id']}", json={}), 400)
    assert emulator.api("GET", f"manifests/os-images/{manifest['id']}").json() == manifest


def test_clearing_the_upload_keeps_the_manifest(emulator, files, image):
    """The manifest describes the image record, not one uploaded file."""
    manifest = create_manifest(emulator, image["id"])
    assert emulator.api("PATCH", f"images/{image['id']}/clear-upload", json={}).status_code == 200
    assert emulator.api("GET", f"manifests/os-images/{manifest['id']}").json() == manifest
    response = emulator.api("PATCH", f"manifests/os-images/{manifest['id']}", json={"capabilities": {"vsock": {}}})
    assert response.status_code == 200, response.text
    upload_file(emulator, image["id"], files.other)
    emulator.wait_for(image["id"], "COMPLETE")
    assert emulator.api("GET", f"manifests/os-images/{manifest['id']}").json() == response.json()


def test_a_claimed_copy_has_no_manifest(emulator, image):
    create_manifest(emulator, image["id"])
    share = create_share(emulator, image["id"])
    claim = emulator.api("POST", "images/claim-image-share", token=PARTNER_TOKEN, json={"image_share": share["id"]})
    assert claim.status_code == 201, claim.text
    copy = emulator.wait_for(claim.json()["id"], "COMPLETE", token=PARTNER_TOKEN)
    assert list_all(emulator, "manifests/os-images", PARTNER_TOKEN) == []
    create_manifest(emulator, copy["id"], token=PARTNER_TOKEN, os_type="sonic", platforms={})


def test_reset_clears_manifests_but_not_the_catalogue(emulator, image):
    create_manifest(emulator, image["id"])
    catalogue = list_all(emulator, "manifests/platform-information")
    emulator.reset()
    assert emulator.state()["manifests"] == 0
    assert list_all(emulator, "manifests/os-images") == []
    assert list_all(emulator, "manifests/platform-information") == catalogue


def test_manifests_survive_a_restart(files):
    with Emulator(*EMULATOR_ARGS) as emu:
        image = complete_image(emu, files.small)
        manifest = create_manifest(emu, image["id"], capabilities={"vsock": {"port": 1024}})
        catalogue = (list_all(emu, "manifests/platform-information"), list_all(emu, "manifests/os-templates"))
        emu.restart()
        assert emu.api("GET", f"manifests/os-images/{manifest['id']}").json() == manifest
        assert emu.state()["manifests"] == 1
        assert (list_all(emu, "manifests/platform-information"), list_all(emu, "manifests/os-templates")) == \
            catalogue
        # the one-per-image rule holds after the restart too
        assert_error(emu.api("POST", "manifests/os-images", json=manifest_body(image["id"])), 400, "image")
