"""Publishing rules: scopes, bad input (state unchanged), record listing, persistence, org lookup."""

from __future__ import annotations

import contextlib
import urllib.parse

import pytest

from air_emulator.testing import Emulator
from airemu_helpers import (
    ADMIN_TOKEN, DEMO_TOKEN, HELD_EMULATOR_ARGS, PAR_PATH, PARTNER_TOKEN, READONLY_TOKEN, UPLOADER_EMAIL,
    UPLOADER_TOKEN, assert_error, complete_image, create_image, finish_transitions, get_image, get_record,
    image_action, list_records, ok, orgs, random_id, review, snapshot, unchanged,
)

REQUEST_ACTIONS = ("request-publish", "request-unpublish", "request-public", "request-allowlist-change",
                   "cancel-publish-access-record")


@pytest.fixture
def emu(held_emulator):
    return held_emulator


def publish_now(emu, image_id, token=DEMO_TOKEN, **body) -> dict:
    ok(image_action(emu, image_id, "publish", token, **body))
    finish_transitions(emu)
    return get_image(emu, image_id, token)


def request_publish(emu, image_id, token=UPLOADER_TOKEN, **body) -> dict:
    body.setdefault("justification", "please publish")
    image = ok(image_action(emu, image_id, "request-publish", token, **body))
    return get_record(emu, image["publish_access_record_id"], token)


# ----------------------------------------------------------------------- scopes
SCOPED_TOKENS = (
    "--org", "acme=acme-writer:read,write", "--org", "acme=acme-publisher:read,publish",
    "--org", "acme=acme-reader:read", "--org", "acme=acme-sharer:read,share,claim", "--org", "acme=acme-all",
    "--org", "ops=ops-admin:air:admin", "--org", "ops=ops-sre:sre",
)


@pytest.fixture(scope="module")
def scoped():
    """An emulator whose org ``acme`` has one token per scope set, and reviewers in ``ops``."""
    with Emulator(*HELD_EMULATOR_ARGS, *SCOPED_TOKENS) as emulator:
        yield emulator


@contextlib.contextmanager
def scoped_unchanged(emu):
    def view():
        return emu.state(), list_records(emu, "ops-admin"), ok(emu.api("GET", "images", token="acme-writer"))

    before = view()
    yield
    assert view() == before


def test_requests_and_cancel_accept_image_write_or_image_publish(scoped, files):
    scoped.reset()
    for token in ("acme-writer", "acme-publisher"):
        image = complete_image(scoped, files.small, token="acme-writer", name=f"by-{token}")
        assert ok(image_action(scoped, image["id"], "request-publish", token, justification="j"))[
            "upload_status"] == "PENDING_PUBLISH"
        assert len(ok(scoped.api("GET", PAR_PATH, token=token))["results"]) >= 1
        assert ok(image_action(scoped, image["id"], "cancel-publish-access-record", token))[
            "upload_status"] == "COMPLETE"


def test_tokens_without_write_or_publish_cannot_request(scoped, files):
    scoped.reset()
    image = complete_image(scoped, files.small, token="acme-writer")
    record = request_publish(scoped, image["id"], token="acme-writer")
    with scoped_unchanged(scoped):
        for token in ("acme-reader", "acme-sharer"):
            for action in REQUEST_ACTIONS:
                error = assert_error(image_action(scoped, image["id"], action, token, justification="j"), 403)
                assert "air:image_write or air:image_publish" in error["detail"]
            assert_error(scoped.api("GET", PAR_PATH, token=token), 403)
            assert_error(scoped.api("GET", f"{PAR_PATH}/{record['id']}", token=token), 403)


def test_direct_publish_needs_image_publish(scoped, files):
    scoped.reset()
    image = complete_image(scoped, files.small, token="acme-writer")
    with scoped_unchanged(scoped):
        for action in ("publish", "unpublish"):
            error = assert_error(image_action(scoped, image["id"], action, "acme-writer"), 403)
            assert "air:image_publish" in error["detail"]
    assert ok(image_action(scoped, image["id"], "publish", "acme-publisher"))["upload_status"] == "PUBLISHING"


def test_only_reviewer_scopes_review(scoped, files):
    scoped.reset()
    first = complete_image(scoped, files.small, token="acme-writer", name="first")
    second = complete_image(scoped, files.small, token="acme-writer", name="second")
    one, two = request_publish(scoped, first["id"], "acme-writer"), request_publish(scoped, second["id"], "acme-writer")
    with scoped_unchanged(scoped):
        for token in ("acme-writer", "acme-publisher", "acme-all"):  # "all" means every image scope, not admin
            for verb in ("approve", "deny", "set-visibility"):
                error = assert_error(review(scoped, one["id"], verb, token, publicly_published=True), 403)
                assert "air:admin or air:sre" in error["detail"]
    assert ok(review(scoped, one["id"], "approve", "ops-sre"))["reviewed_by"] == "user2@ops.example.com"
    assert ok(review(scoped, two["id"], "deny", "ops-admin"))["reviewed_by"] == "user1@ops.example.com"
    assert {r["id"] for r in list_records(scoped, "ops-sre")} == {one["id"], two["id"]}


def test_seeded_tokens(emu, files):
    image = complete_image(emu, files.small)
    record = request_publish(emu, image["id"])
    with unchanged(emu):
        for action in ("publish", "unpublish"):
            error = assert_error(image_action(emu, image["id"], action, UPLOADER_TOKEN), 403)
            assert "air:image_publish" in error["detail"]
        assert_error(image_action(emu, image["id"], "request-publish", READONLY_TOKEN, justification="j"), 403)
        assert_error(emu.api("GET", PAR_PATH, token=READONLY_TOKEN), 403)
        assert_error(emu.api("GET", "images", token=ADMIN_TOKEN), 403)  # the reviewer holds no image scope
        assert_error(review(emu, record["id"], "approve", DEMO_TOKEN), 403)
        assert_error(review(emu, random_id(), "approve", DEMO_TOKEN), 403)  # scope before lookup
        assert_error(review(emu, random_id(), "approve"), 404)
        assert_error(review(emu, "not-a-uuid", "deny"), 404)
        assert_error(emu.api("GET", f"{PAR_PATH}/{random_id()}"), 404)
        assert_error(emu.api("GET", f"{PAR_PATH}/not-a-uuid"), 404)
        assert_error(emu.api("GET", PAR_PATH, headers={"Authorization": ""}), 401)


@pytest.mark.parametrize("action", REQUEST_ACTIONS)
def test_missing_scope_wins_over_body_validation(emu, files, action):
    image = complete_image(emu, files.small)
    with unchanged(emu):
        assert_error(image_action(emu, image["id"], action, READONLY_TOKEN, justification=""), 403)


@pytest.mark.parametrize("action", REQUEST_ACTIONS)
def test_requests_on_images_the_org_does_not_own(emu, files, action):
    foreign_private = create_image(emu, token=PARTNER_TOKEN, name="partner-private")
    foreign_public = complete_image(emu, files.small, token=PARTNER_TOKEN, name="partner-public")
    publish_now(emu, foreign_public["id"], PARTNER_TOKEN)
    with unchanged(emu):
        for image_id in (random_id(), foreign_private["id"]):
            assert_error(image_action(emu, image_id, action, justification="j"), 404)
        assert_error(image_action(emu, foreign_public["id"], action, justification="j"), 403)


# -------------------------------------------------------------------- bad input
def partner_id(emu) -> str:
    return orgs(emu)["partner-org"]["id"]


BAD_REQUESTS = [
    ("request-publish", lambda e: {}, "justification"),
    ("request-publish", lambda e: {"justification": ""}, "justification"),
    ("request-publish", lambda e: {"justification": "   "}, "justification"),
    ("request-publish", lambda e: {"justification": None}, "justification"),
    ("request-publish", lambda e: {"justification": "j" * 2049}, "justification"),
    ("request-publish", lambda e: {"justification": "ok", "prefer_public": "yes"}, "prefer_public"),
    ("request-publish", lambda e: {"justification": "ok", "allowed_orgs_request_text": "t" * 4097},
     "allowed_orgs_request_text"),
    ("request-publish", lambda e: {"justification": "ok", "allowed_orgs": [partner_id(e)]}, "allowed_orgs"),
    ("request-publish", lambda e: {"justification": "ok", "name": ""}, "name"),
    ("request-publish", lambda e: {"justification": "ok", "version": "v" * 65}, "version"),
    ("request-publish", lambda e: {"justification": "ok", "colour": "red"}, "colour"),
    ("request-unpublish", lambda e: {}, "justification"),
    ("request-unpublish", lambda e: {"justification": "ok", "prefer_public": True}, "prefer_public"),
    ("request-public", lambda e: {"justification": "ok"}, "prefer_public"),
    ("request-public", lambda e: {"prefer_public": True}, "justification"),
    ("request-public", lambda e: {"prefer_public": True, "justification": "j" * 2049}, "justification"),
    ("request-allowlist-change", lambda e: {"justification": "ok"}, "allowed_orgs_request_text"),
    ("request-allowlist-change", lambda e: {"justification": "ok", "allowed_orgs_request_text": ""},
     "allowed_orgs_request_text"),
    ("request-allowlist-change", lambda e: {"justification": "ok", "allowed_orgs_request_text": "t" * 4097},
     "allowed_orgs_request_text"),
    ("request-allowlist-change", lambda e: {"allowed_orgs_request_text": "Partner Org"}, "justification"),
    ("cancel-publish-access-record", lambda e: {"justification": "x"}, "justification"),
]


@pytest.mark.parametrize("action, body, field", BAD_REQUESTS,
                         ids=[f"{a}-{f}-{i}" for i, (a, _b, f) in enumerate(BAD_REQUESTS)])
def test_request_body_validation(emu, files, action, body, field):
    image = complete_image(emu, files.small)
    if action != "request-publish":  # the others need a published (restricted) image to pass the state rules
        publish_now(emu, image["id"], prefer_public=False)
    with unchanged(emu):
        error = assert_error(image_action(emu, image["id"], action, UPLOADER_TOKEN, **body(emu)), 400, field)
    if field == "allowed_orgs":
        assert "allowed_orgs_request_text" in error["allowed_orgs"][0]


def test_a_body_that_is_not_an_object_is_400(emu, files):
    image = complete_image(emu, files.small)
    with unchanged(emu):
        response = emu.api("PATCH", f"images/{image['id']}/request-publish", token=UPLOADER_TOKEN,
                           json=["justification"])
        assert_error(response, 400, "non_field_errors")


def test_request_renames_must_be_free(emu, files):
    create_image(emu, name="taken", version="1")
    publish_now(emu, complete_image(emu, files.other, token=PARTNER_TOKEN, name="catalog", version="1")["id"],
                PARTNER_TOKEN)
    image = complete_image(emu, files.small, name="mine", version="1")
    with unchanged(emu):
        assert_error(image_action(emu, image["id"], "request-publish", UPLOADER_TOKEN, justification="j",
                                  name="taken"), 400, "non_field_errors")
        assert_error(image_action(emu, image["id"], "request-publish", UPLOADER_TOKEN, justification="j",
                                  name="catalog"), 400, "non_field_errors")
    publish_now(emu, image["id"])
    with unchanged(emu):
        assert_error(image_action(emu, image["id"], "request-unpublish", UPLOADER_TOKEN, justification="j",
                                  name="taken"), 400, "non_field_errors")


BAD_REVIEWS = [
    ("approve", lambda e: {"allowed_orgs": ["not-a-uuid"]}, "allowed_orgs"),
    ("approve", lambda e: {"publicly_published": False, "allowed_orgs": [random_id()]}, "allowed_orgs"),
    ("approve", lambda e: {"publicly_published": False, "allowed_orgs": "partner-org"}, "allowed_orgs"),
    ("approve", lambda e: {"publicly_published": "no"}, "publicly_published"),
    ("approve", lambda e: {"publicly_published": True, "allowed_orgs": [partner_id(e)]}, "allowed_orgs"),
    ("approve", lambda e: {"reason": "x"}, "reason"),
    ("deny", lambda e: {"denial_reason": "d" * 2049}, "denial_reason"),
    ("deny", lambda e: {"denial_reason": 5}, "denial_reason"),
    ("deny", lambda e: {"reason": "x"}, "reason"),
    ("set-visibility", lambda e: {"publicly_published": False, "allowed_orgs": [random_id()]}, "allowed_orgs"),
]


@pytest.mark.parametrize("verb, body, field", BAD_REVIEWS,
                         ids=[f"{v}-{f}-{i}" for i, (v, _b, f) in enumerate(BAD_REVIEWS)])
def test_review_body_validation(emu, files, verb, body, field):
    image = complete_image(emu, files.small)
    if verb == "set-visibility":
        record_id = publish_now(emu, image["id"])["publish_access_record_id"]
    else:
        record_id = request_publish(emu, image["id"])["id"]
    with unchanged(emu):
        assert_error(review(emu, record_id, verb, **body(emu)), 400, field)


# ------------------------------------------------------------------ listing
@pytest.fixture
def four_records(emu, files):
    """alpha PENDING (uploader), bravo APPROVED restricted, charlie DENIED (uploader), delta partner's public."""
    alpha = request_publish(emu, complete_image(emu, files.small, name="alpha")["id"], justification="unique-words")
    bravo_image = publish_now(emu, complete_image(emu, files.small, name="bravo")["id"], prefer_public=False,
                              justification="internal")
    charlie = request_publish(emu, complete_image(emu, files.small, name="charlie")["id"])
    ok(review(emu, charlie["id"], "deny", denial_reason="no"))
    delta_image = publish_now(emu, complete_image(emu, files.other, token=PARTNER_TOKEN, name="delta")["id"],
                              PARTNER_TOKEN)
    return {"alpha": alpha["id"], "bravo": bravo_image["publish_access_record_id"], "charlie": charlie["id"],
            "delta": delta_image["publish_access_record_id"], "bravo_image": bravo_image["id"]}


def names(emu, token=ADMIN_TOKEN, **params) -> list[str]:
    return [r["image_name"] for r in list_records(emu, token, **params)]


def test_record_filters_search_and_ordering(emu, four_records):
    assert names(emu, ordering="image_name") == ["alpha", "bravo", "charlie", "delta"]
    assert names(emu, ordering="-image_name") == ["delta", "charlie", "bravo", "alpha"]
    assert names(emu, ordering="-created") == ["delta", "charlie", "bravo", "alpha"]
    assert names(emu, ordering="requesting_org_ngc_org_name,-image_name") == ["charlie", "bravo", "alpha", "delta"]
    assert names(emu, status="PENDING") == ["alpha"]
    assert sorted(names(emu, status="APPROVED")) == ["bravo", "delta"]
    assert names(emu, status="DENIED") == ["charlie"]
    assert names(emu, image=four_records["bravo_image"]) == ["bravo"]
    assert names(emu, publicly_published="True") == ["delta"]
    assert sorted(names(emu, publicly_published="false")) == ["alpha", "bravo", "charlie"]
    assert sorted(names(emu, requested_by_email=UPLOADER_EMAIL.upper())) == ["alpha", "charlie"]
    assert names(emu, requesting_org_ngc_org_name="PARTNER-ORG") == ["delta"]
    assert sorted(names(emu, requesting_org_display_name="demo org")) == ["alpha", "bravo", "charlie"]
    assert names(emu, search="CHARL") == ["charlie"]
    assert names(emu, search="unique-words") == ["alpha"]  # justification is searched
    assert names(emu, search="partner") == ["delta"]  # so is the requesting org
    with unchanged(emu):
        for params, field in (({"status": "LIVE"}, "status"), ({"image": "nope"}, "image"),
                              ({"publicly_published": "maybe"}, "publicly_published"),
                              ({"ordering": "justification"}, "ordering"), ({"limit": "0"}, "limit")):
            assert_error(emu.api("GET", PAR_PATH, token=ADMIN_TOKEN, params=params), 400, field)


@pytest.mark.usefixtures("four_records")
def test_record_pagination(emu):
    only_demo = {"limit": 3, "ordering": "image_name", "requesting_org_ngc_org_name": "demo-org"}
    first = ok(emu.api("GET", PAR_PATH, token=ADMIN_TOKEN, params=only_demo))
    assert (first["count"], first["previous"]) == (3, None) and first["next"] is None
    page = ok(emu.api("GET", PAR_PATH, token=ADMIN_TOKEN, params={"limit": 2, "ordering": "image_name"}))
    assert page["count"] == 4 and [r["image_name"] for r in page["results"]] == ["alpha", "bravo"]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page["next"]).query))
    assert page["next"].startswith(emu.url) and query == {"limit": "2", "offset": "2", "ordering": "image_name"}
    second = ok(emu.api("GET", page["next"].replace(f"{emu.url}/api/v3/", ""), token=ADMIN_TOKEN,
                        params=query))
    assert [r["image_name"] for r in second["results"]] == ["charlie", "delta"]
    assert second["next"] is None and second["previous"]


def test_owners_see_only_their_records_and_no_allow_lists(emu, four_records):
    demo = list_records(emu, DEMO_TOKEN)
    assert sorted(r["image_name"] for r in demo) == ["alpha", "bravo", "charlie"]
    assert {r["allowed_orgs"] for r in demo} == {None}
    assert [r["image_name"] for r in list_records(emu, UPLOADER_TOKEN, status="PENDING")] == ["alpha"]
    assert [r["image_name"] for r in list_records(emu, PARTNER_TOKEN)] == ["delta"]
    with unchanged(emu):
        assert_error(emu.api("GET", f"{PAR_PATH}/{four_records['delta']}", token=DEMO_TOKEN), 404)
        assert_error(emu.api("GET", f"{PAR_PATH}/{four_records['alpha']}", token=PARTNER_TOKEN), 404)
    assert get_record(emu, four_records["bravo"])["allowed_orgs"] == [orgs(emu)["demo-org"]["id"]]


def test_state_counts_records_and_reset_clears_them(emu, four_records):
    assert emu.state()["publish_access_records"] == {"APPROVED": 2, "DENIED": 1, "PENDING": 1}
    emu.reset()
    assert emu.state()["publish_access_records"] == {}
    assert list_records(emu) == []
    assert_error(emu.api("GET", f"{PAR_PATH}/{four_records['alpha']}", token=ADMIN_TOKEN), 404)


# -------------------------------------------------------------- persistence
def test_records_and_publish_pipelines_survive_a_restart(files):
    with Emulator(*HELD_EMULATOR_ARGS) as emu:
        pending = request_publish(emu, complete_image(emu, files.small, name="pending")["id"])
        live = publish_now(emu, complete_image(emu, files.small, name="live")["id"], prefer_public=False,
                           allowed_orgs=[partner_id(emu)])
        denied = request_publish(emu, complete_image(emu, files.small, name="denied")["id"])
        ok(review(emu, denied["id"], "deny", denial_reason="kept across restarts"))
        in_pipeline = request_publish(emu, complete_image(emu, files.small, name="in-pipeline")["id"])
        ok(review(emu, in_pipeline["id"], "approve"))
        before = snapshot(emu)
        assert before["state"]["pending_jobs"] == 1

        emu.restart()
        assert snapshot(emu) == before
        assert get_record(emu, denied["id"])["denial_reason"] == "kept across restarts"
        assert get_record(emu, live["publish_access_record_id"])["allowed_orgs"] == sorted(
            [orgs(emu)["demo-org"]["id"], partner_id(emu)])
        assert any(i["id"] == live["id"] for i in ok(emu.api("GET", "images", token=PARTNER_TOKEN))["results"])

        finish_transitions(emu)  # the approval made before the restart completes
        assert get_record(emu, in_pipeline["id"])["status"] == "APPROVED"
        assert get_image(emu, in_pipeline["image"])["published"] is True
        ok(review(emu, pending["id"], "approve", publicly_published=False))  # reviewable after a restart
        finish_transitions(emu)
        assert get_image(emu, pending["image"])["publicly_published"] is False


# ------------------------------------------------------ org lookup (resource budgets)
BUDGET_FIELDS = {
    "id", "created", "modified", "org_display_name", "org_nca_id", "org_id", "ngc_org_name", "cpu", "memory",
    "disk_storage_total", "disk_storage_per_node", "image_storage", "userconfigs", "usage", "total_compute_hours",
    "remaining_compute_hours",
}


def budgets(emu, token=DEMO_TOKEN, **params) -> dict:
    return ok(emu.api("GET", "resource-budgets", token=token, params=params))


def test_an_org_looks_up_its_own_id_by_name(emu, files):
    complete_image(emu, files.small)
    page = budgets(emu, ngc_org_name="demo-org")
    assert page["count"] == 1
    (own,) = page["results"]
    assert set(own) == BUDGET_FIELDS
    assert (own["ngc_org_name"], own["org_display_name"], own["org_id"]) == (
        "demo-org", "Demo Org", orgs(emu)["demo-org"]["id"])
    assert own["usage"]["image_storage"] == 1 and set(own["usage"]) == {
        "cpu", "memory", "disk_storage", "image_storage", "userconfigs"}
    assert ok(emu.api("GET", f"resource-budgets/{own['id']}")) == own
    assert budgets(emu, READONLY_TOKEN) == budgets(emu)  # any scope may read its org
    # like the real API, other orgs stay hidden without air:admin / air:sre
    assert budgets(emu, ngc_org_name="partner-org")["count"] == 0
    partner_budget = budgets(emu, PARTNER_TOKEN)["results"][0]
    assert_error(emu.api("GET", f"resource-budgets/{partner_budget['id']}"), 404)
    assert_error(emu.api("GET", f"resource-budgets/{random_id()}"), 404)
    assert_error(emu.api("GET", "resource-budgets", headers={"Authorization": ""}), 401)


def test_reviewers_see_every_org(emu):
    everyone = budgets(emu, ADMIN_TOKEN, ordering="-ngc_org_name")
    assert [b["ngc_org_name"] for b in everyone["results"]] == ["partner-org", "demo-org", "air-admin"]
    assert {b["org_id"] for b in everyone["results"]} == {o["id"] for o in orgs(emu).values()}
    (partner,) = budgets(emu, ADMIN_TOKEN, ngc_org_name="partner-org")["results"]
    assert partner["org_id"] == partner_id(emu)
    assert [b["ngc_org_name"] for b in budgets(emu, ADMIN_TOKEN, search="Partner")["results"]] == ["partner-org"]
    assert_error(emu.api("GET", "resource-budgets", token=ADMIN_TOKEN, params={"ordering": "colour"}), 400,
                 "ordering")
