"""Authentication, scopes and cross-organisation access."""

from __future__ import annotations

import pytest
import requests

from airemu_helpers import (
    DEMO_TOKEN, PARTNER_TOKEN, READONLY_TOKEN, assert_error, complete_image, create_image, image_body, list_all,
    published_image, random_id, unchanged,
)


def test_missing_authorization_header_is_401(emulator):
    with unchanged(emulator):
        for method, path, body in (("GET", "images/", None), ("POST", "images/", image_body()),
                                   ("GET", "images/shares/", None)):
            response = requests.request(method, f"{emulator.url}/api/v3/{path}", json=body, timeout=10)
            assert_error(response, 401)
            assert "bearer" in response.headers.get("WWW-Authenticate", "").lower()


@pytest.mark.parametrize("header, secret", [
    ("Bearer nvapi-this-token-does-not-exist-42", "nvapi-this-token-does-not-exist-42"),
    ("Basic nvapi-demo-token", "nvapi-demo-token"),
    ("nvapi-demo-token", "nvapi-demo-token"),
    ("Bearer ", None),
])
def test_unknown_or_malformed_token_is_401_without_echoing_it(emulator, header, secret):
    with unchanged(emulator):
        for method, body in (("GET", None), ("POST", image_body())):
            response = requests.request(method, f"{emulator.url}/api/v3/images/", json=body,
                                        headers={"Authorization": header}, timeout=10)
            assert_error(response, 401)
            if secret:
                assert secret not in response.text
                assert all(secret not in value for value in response.headers.values())


@pytest.mark.parametrize("header", [None, "Bearer nvapi-this-token-does-not-exist-42"], ids=["no-header", "bad-token"])
def test_authentication_comes_before_body_parsing(emulator, header):
    """An unauthenticated request is 401 whatever its body; it must not get a 400 parse error."""
    image = create_image(emulator)
    headers = {"Content-Type": "application/json", **({"Authorization": header} if header else {})}
    with unchanged(emulator):
        for method, path in (("POST", "images/"), ("PATCH", f"images/{image['id']}/"),
                             ("PATCH", f"images/{image['id']}/start-upload/")):
            response = requests.request(method, f"{emulator.url}/api/v3/{path}", data=b"{not json",
                                        headers=headers, timeout=10)
            assert_error(response, 401)


def test_read_only_token_can_read(emulator, files):
    image = complete_image(emulator, files.small)
    assert [i["id"] for i in list_all(emulator, token=READONLY_TOKEN)] == [image["id"]]
    response = emulator.api("GET", f"images/{image['id']}", token=READONLY_TOKEN)
    assert response.status_code == 200
    assert response.json()["is_owned_by_client"] is True  # same org as the demo token


READ_ONLY_REFUSED = [
    ("POST", "images", lambda ids: image_body(name="read-only")),
    ("PATCH", "images/{ready}", lambda ids: {"notes": "changed"}),
    ("DELETE", "images/{ready}", lambda ids: {}),
    ("PATCH", "images/{ready}/start-upload", lambda ids: {"hash": "a" * 64, "size": 10}),
    ("PATCH", "images/{complete}/clear-upload", lambda ids: {}),
    ("PATCH", "images/{complete}/publish", lambda ids: {}),
    ("PATCH", "images/{complete}/unpublish", lambda ids: {}),
    ("POST", "images/shares", lambda ids: {"image": ids["complete"], "target_org": "partner-org"}),
    ("GET", "images/shares", lambda ids: None),
    ("POST", "images/claim-image-share", lambda ids: {"image_share": random_id()}),
]


@pytest.mark.parametrize("method, path, body", READ_ONLY_REFUSED,
                         ids=[f"{m} {p}" for m, p, _body in READ_ONLY_REFUSED])
def test_read_only_token_is_refused_with_403(emulator, files, method, path, body):
    ids = {"ready": create_image(emulator, name="ready")["id"],
           "complete": complete_image(emulator, files.small, name="complete")["id"]}
    with unchanged(emulator):
        response = emulator.api(method, path.format(**ids), token=READONLY_TOKEN, json=body(ids))
        assert_error(response, 403)


def test_read_only_token_cannot_abort_or_complete(emulator):
    image = create_image(emulator)
    start = emulator.api("PATCH", f"images/{image['id']}/start-upload", json={"hash": "b" * 64, "size": 100})
    assert start.status_code == 200
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}/abort-upload", token=READONLY_TOKEN, json={}), 403)
        parts = {"parts": [{"part_number": 1, "etag": "0" * 32}]}
        assert_error(emulator.api("PATCH", f"images/{image['id']}/complete-upload", token=READONLY_TOKEN,
                                  json=parts), 403)


# DRF checks permissions (and looks the object up) before it validates the body:
# a client without the scope must get 403, not a 400 that reveals validation rules.
PRECEDENCE = [
    ("PATCH", "images/{id}", {"cpu_arch": "sparc"}),
    ("PATCH", "images/{id}/start-upload", {"hash": "not-hex"}),
    ("PATCH", "images/{id}/complete-upload", {"parts": []}),
    ("PATCH", "images/{id}/publish", {"prefer_public": "maybe"}),
]


@pytest.mark.parametrize("method, path, body", PRECEDENCE, ids=[p for _method, p, _body in PRECEDENCE])
def test_missing_scope_wins_over_body_validation(emulator, method, path, body):
    image = create_image(emulator)
    with unchanged(emulator):
        assert_error(emulator.api(method, path.format(id=image["id"]), token=READONLY_TOKEN, json=body), 403)


@pytest.mark.parametrize("method, path, body", PRECEDENCE, ids=[p for _method, p, _body in PRECEDENCE])
def test_unknown_image_is_404_even_with_an_invalid_body(emulator, method, path, body):
    foreign = create_image(emulator, token=PARTNER_TOKEN)  # unpublished: invisible to demo-org
    with unchanged(emulator):
        assert_error(emulator.api(method, path.format(id=random_id()), json=body), 404)
        assert_error(emulator.api(method, path.format(id=foreign["id"]), json=body), 404)


def test_other_orgs_unpublished_image_is_404(emulator):
    foreign = create_image(emulator, token=PARTNER_TOKEN, name="partner-private")
    assert list_all(emulator, token=DEMO_TOKEN) == []
    with unchanged(emulator):
        path = f"images/{foreign['id']}"
        assert_error(emulator.api("GET", path), 404)
        assert_error(emulator.api("PATCH", path, json={"notes": "mine now"}), 404)
        assert_error(emulator.api("DELETE", path, json={}), 404)
        assert_error(emulator.api("PATCH", f"{path}/start-upload", json={"hash": "c" * 64, "size": 5}), 404)
        assert_error(emulator.api("PATCH", f"{path}/clear-upload", json={}), 404)
    assert emulator.api("GET", f"images/{foreign['id']}", token=PARTNER_TOKEN).json()["notes"] == ""


def test_other_orgs_published_image_is_visible_but_read_only(emulator, files):
    foreign = published_image(emulator, files.small, token=PARTNER_TOKEN, name="partner-public")
    listed = list_all(emulator, token=DEMO_TOKEN)
    assert [i["id"] for i in listed] == [foreign["id"]]
    assert listed[0]["is_owned_by_client"] is False
    assert listed[0]["publish_access_record_id"] is None  # returned only to the owning org
    got = emulator.api("GET", f"images/{foreign['id']}").json()
    assert got["is_owned_by_client"] is False and got["published"] is True
    owner_view = emulator.api("GET", f"images/{foreign['id']}", token=PARTNER_TOKEN).json()
    assert owner_view["is_owned_by_client"] is True and owner_view["publish_access_record_id"]
    with unchanged(emulator):
        path = f"images/{foreign['id']}"
        assert_error(emulator.api("PATCH", path, json={"notes": "hijacked"}), 403)
        assert_error(emulator.api("DELETE", path, json={}), 403)
        assert_error(emulator.api("PATCH", f"{path}/clear-upload", json={}), 403)
        assert_error(emulator.api("PATCH", f"{path}/unpublish", json={}), 403)
        assert_error(emulator.api("PATCH", f"{path}/start-upload", json={"hash": "d" * 64, "size": 5}), 403)
