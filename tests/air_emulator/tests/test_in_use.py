"""Images in use (admin API ``/_emulator/images/{id}/in-use/``): DELETE is a 400 PROTECTED naming the holders."""

from __future__ import annotations

import requests
from air_emulator.testing import Emulator

from airemu_helpers import (
    EMULATOR_ARGS, READONLY_TOKEN, assert_error, complete_image, create_image, get_image, list_all, published_image, random_id,
    unchanged,
)

NODES = [{"type": "node", "name": "leaf01", "simulation": "6f1d2a7e-0c8b-4f43-9d7a-2b1c0e5a9f10"},
         {"type": "node", "name": "spine01", "id": "3b7f6c1e-8d2a-4e5b-9c0f-1a2b3c4d5e6f"}]


def _admin(emulator, method, image_id, **kwargs):
    return requests.request(method, f"{emulator.url}/_emulator/images/{image_id}/in-use/", timeout=30, **kwargs)


def test_an_image_in_use_cannot_be_deleted_and_the_400_lists_what_holds_it(emulator, files):
    image = complete_image(emulator, files.small)
    marked = emulator.mark_in_use(image["id"], *NODES)
    assert marked["image"] == image["id"]
    instances = marked["protected_instances"]
    assert [(i["type"], i["name"]) for i in instances] == [("node", "leaf01"), ("node", "spine01")]
    assert instances[0]["simulation"] == NODES[0]["simulation"]
    assert instances[1]["id"] == NODES[1]["id"]
    assert len(instances[0]["id"]) == 36  # a generated UUID when none is given
    with unchanged(emulator):
        error = assert_error(emulator.api("DELETE", f"images/{image['id']}", json={}), 400)
    assert error["type"] == "PROTECTED"
    assert error["protected_instances"] == instances
    assert "in use by 2 objects (node leaf01, node spine01)" in error["detail"]
    assert get_image(emulator, image["id"]) == image  # marking it changed nothing the API shows
    assert emulator.state()["in_use"] == {image["id"]: 2}


def test_freeing_the_image_lets_it_be_deleted(emulator, files):
    image = complete_image(emulator, files.small)
    emulator.mark_in_use(image["id"])
    assert emulator.clear_in_use(image["id"]) == {"image": image["id"], "protected_instances": []}
    assert emulator.state()["in_use"] == {}
    assert emulator.api("DELETE", f"images/{image['id']}", json={}).status_code == 204
    assert list_all(emulator) == []


def test_posting_again_replaces_the_holders_and_an_empty_list_frees_it(emulator):
    image = create_image(emulator)
    emulator.mark_in_use(image["id"], *NODES)
    again = emulator.mark_in_use(image["id"], {"type": "marketplace_demo", "name": "demo"})
    assert [(i["type"], i["name"]) for i in again["protected_instances"]] == [("marketplace_demo", "demo")]
    assert _admin(emulator, "GET", image["id"]).json() == again
    freed = _admin(emulator, "POST", image["id"], json={"instances": []}).json()
    assert freed["protected_instances"] == []
    assert emulator.api("DELETE", f"images/{image['id']}", json={}).status_code == 204


def test_a_published_image_in_use_names_both_reasons(emulator, files):
    image = published_image(emulator, files.small)
    emulator.mark_in_use(image["id"], NODES[0])
    with unchanged(emulator):
        error = assert_error(emulator.api("DELETE", f"images/{image['id']}", json={}), 400)
    assert error["type"] == "PROTECTED"
    assert "published" in error["detail"] and "in use by 1 object (node leaf01)" in error["detail"]
    assert [i["name"] for i in error["protected_instances"]] == ["leaf01"]


def test_a_published_image_not_in_use_is_protected_with_no_instances(emulator, files):
    image = published_image(emulator, files.small)
    error = assert_error(emulator.api("DELETE", f"images/{image['id']}", json={}), 400)
    assert (error["type"], error["protected_instances"]) == ("PROTECTED", [])


def test_an_image_in_use_cannot_be_cleared_but_can_be_unpublished(emulator, files):
    image = published_image(emulator, files.small)
    emulator.mark_in_use(image["id"], NODES[0])
    unpublished = emulator.api("PATCH", f"images/{image['id']}/unpublish", json={})
    assert unpublished.status_code == 200, unpublished.text
    emulator.wait_for(image["id"], "COMPLETE")
    with unchanged(emulator):
        error = assert_error(emulator.api("PATCH", f"images/{image['id']}/clear-upload", json={}), 400)
    assert "in use by 1 object" in error["detail"]
    assert emulator.api("DELETE", f"images/{image['id']}", json={}).json()["type"] == "PROTECTED"


def test_the_permission_check_comes_before_the_in_use_check(emulator):
    image = create_image(emulator)
    emulator.mark_in_use(image["id"])
    with unchanged(emulator):
        assert_error(emulator.api("DELETE", f"images/{image['id']}", token=READONLY_TOKEN, json={}), 403)


def test_in_use_survives_a_restart():
    with Emulator(*EMULATOR_ARGS) as emu:
        image = create_image(emu)
        emu.mark_in_use(image["id"], NODES[0])
        emu.restart()
        assert emu.api("DELETE", f"images/{image['id']}", json={}).json()["type"] == "PROTECTED"
        assert emu.state()["in_use"] == {image["id"]: 1}


def test_reset_forgets_images_in_use(emulator):
    image = create_image(emulator)
    emulator.mark_in_use(image["id"])
    emulator.reset()
    assert emulator.state()["in_use"] == {}


def test_bad_admin_requests_are_400_or_404_and_change_nothing(emulator):
    image = create_image(emulator)
    bad_bodies = [
        {}, {"instances": "leaf01"}, {"instances": ["leaf01"]}, {"instances": [{"kind": "node"}]},
        {"instances": [{"name": ""}]}, {"instances": [{"name": 5}]}, {"instances": [{"name": "x" * 129}]},
        {"instances": [], "extra": 1},
    ]
    with unchanged(emulator):
        for body in bad_bodies:
            assert_error(_admin(emulator, "POST", image["id"], json=body), 400, "instances")
        for unknown in (random_id(), "not-a-uuid"):
            assert _admin(emulator, "POST", unknown, json={"instances": []}).status_code == 404
            assert _admin(emulator, "GET", unknown).status_code == 404
    assert emulator.state()["in_use"] == {}
