"""Image history (``images/{id}/history/``, ``history-filters/``): what is recorded, filters, ordering,
who may read it, restarts and deletes (README choice 37)."""

from __future__ import annotations

import os
import sqlite3

import pytest
import requests
from air_emulator.testing import Emulator
from airemu_helpers import (
    ADMIN_TOKEN, DEMO_EMAIL, DEMO_TOKEN, EMULATOR_ARGS, PARTNER_EMAIL, PARTNER_TOKEN, READONLY_TOKEN, assert_error,
    complete_image, create_image, create_share, finish_transitions, image_action, list_records, ok, publish,
    random_id, review, unchanged, upload_file,
)

ENTRY_FIELDS = {"object_id", "model", "created", "actor", "description", "severity", "labels"}


def history(emu, image_id: str, token=None, **params) -> list[dict]:
    kwargs = {"token": token} if token else {}
    return ok(emu.api("GET", f"images/{image_id}/history", params={"limit": 1000, **params}, **kwargs))["results"]


def texts(entries) -> list[str]:
    return [e["description"] for e in entries]


def test_an_upload_and_publish_are_recorded_newest_first(emulator, files):
    image = create_image(emulator, name="hist", default_password="s3cret-pass")
    ok(emulator.api("PATCH", f"images/{image['id']}", json={"notes": "n", "default_password": "other-s3cret"}))
    upload_file(emulator, image["id"], files.small)
    emulator.wait_for(image["id"], "COMPLETE")
    publish(emulator, image["id"])

    entries = history(emulator, image["id"])
    assert all(set(e) == ENTRY_FIELDS for e in entries)
    assert {e["object_id"] for e in entries} == {image["id"]} and {e["model"] for e in entries} == {"image"}
    described = texts(reversed(entries))  # oldest first
    assert described[0] == "Image 'hist' version '5.16.0' created."
    assert described[1] == "Updated default_password, notes."
    assert described[2].startswith("Upload started: 4096 bytes in 1 part, declared sha256 ")
    assert described[3] == "Upload completed with 1 part; the file is being validated."
    assert described[4].startswith("Validation passed (sha256 ") and described[4].endswith("the image is COMPLETE.")
    assert described[5].startswith("Publish started as 'hist' version '5.16.0' (public): publish access record ")
    assert described[6].startswith("Published (public); publish access record ")
    assert len(described) == 7
    # who: the caller, or the emulator itself for what happens in the background
    assert [e["actor"] for e in reversed(entries)] == [DEMO_EMAIL] * 4 + ["system", DEMO_EMAIL, "system"]
    assert [e["labels"] for e in reversed(entries)] == [["image"], ["image"], ["upload"], ["upload"],
                                                        ["validation"], ["publishing"], ["publishing"]]
    assert {e["severity"] for e in entries} == {"INFO"}
    assert [e["created"] for e in entries] == sorted((e["created"] for e in entries), reverse=True)
    # the password's value is nowhere
    assert not any("s3cret" in str(e) for e in entries)


def test_a_rejected_file_is_an_error_entry_with_the_reason(emulator, files):
    image = create_image(emulator)
    upload_file(emulator, image["id"], files.small, declared_size=4097)  # 4096 bytes arrive
    emulator.wait_for(image["id"], "READY")

    errors = history(emulator, image["id"], severity="ERROR")
    assert texts(errors) == ["Validation failed: size 4096 != declared 4097; the file was discarded and the image is "
                             "READY again."]
    assert errors[0]["actor"] == "system" and errors[0]["labels"] == ["validation"]

    wrong = "0" * 64
    upload_file(emulator, image["id"], files.small, declared_hash=wrong)
    emulator.wait_for(image["id"], "READY")
    newest = history(emulator, image["id"], severity="ERROR")[0]
    assert newest["description"].startswith("Validation failed: sha256 ") and f"!= declared {wrong}" in \
        newest["description"]


def test_abort_clear_share_revoke_and_claim_are_recorded(emulator, files):
    aborted = create_image(emulator, name="aborted")
    upload_file(emulator, aborted["id"], files.small, complete=False)
    assert emulator.api("PATCH", f"images/{aborted['id']}/abort-upload", json={}).status_code == 204
    assert texts(history(emulator, aborted["id"]))[0] == "Upload aborted; the parts received were discarded."

    image = complete_image(emulator, files.small, name="shared")
    revoked = create_share(emulator, image["id"])
    assert emulator.api("DELETE", f"images/shares/{revoked['id']}", json={}).status_code == 204
    share = create_share(emulator, image["id"])
    claimed = emulator.api("POST", "images/claim-image-share", token=PARTNER_TOKEN,
                           json={"image_share": share["id"], "name": "mine"})
    assert claimed.status_code == 201, claimed.text
    copy = claimed.json()
    emulator.wait_for(copy["id"], "COMPLETE", token=PARTNER_TOKEN)

    sharing = history(emulator, image["id"], label="sharing", ordering="created")
    assert texts(sharing)[0].startswith(f"Shared with Partner Org (partner-org) as share {revoked['id']}, expires ")
    assert texts(sharing)[1] == f"Share {revoked['id']} with Partner Org (partner-org) revoked."
    assert texts(sharing)[3] == f"Share {share['id']} claimed by Partner Org (partner-org)."
    assert sharing[3]["actor"] == PARTNER_EMAIL
    # the copy's history is the claimer's: it starts with the claim
    copy_history = history(emulator, copy["id"], token=PARTNER_TOKEN, ordering="created")
    assert texts(copy_history)[0] == (f"Image 'mine' version '5.16.0' created by claiming share {share['id']} from "
                                      "Demo Org; copying its file.")
    assert copy_history[0]["labels"] == ["image", "sharing"]
    assert texts(copy_history)[1].startswith("Copy from the image share finished (sha256 ")
    ok(emulator.api("PATCH", f"images/{copy['id']}/clear-upload", token=PARTNER_TOKEN, json={}))
    assert texts(history(emulator, copy["id"], token=PARTNER_TOKEN))[0].startswith("Uploaded file cleared (sha256 ")


def test_each_publish_request_has_its_lifecycle(held_emulator, files):
    emu = held_emulator
    image = complete_image(emu, files.small)

    def request():
        return ok(image_action(emu, image["id"], "request-publish", justification="for the lab"))

    record = request()["publish_access_record_id"]
    ok(review(emu, record, "deny", denial_reason="add release notes"))
    cancelled = request()["publish_access_record_id"]
    ok(image_action(emu, image["id"], "cancel-publish-access-record"))
    approved = request()["publish_access_record_id"]
    ok(review(emu, approved, "approve"))
    finish_transitions(emu)

    publishing = texts(history(emu, image["id"], label="publishing", ordering="created"))
    assert publishing == [
        f"Publication (public) requested: publish access record {record} is PENDING. Justification: for the lab",
        f"Publish access record {record} (PENDING) denied: add release notes.",
        f"Publication (public) requested: publish access record {cancelled} is PENDING. Justification: for the lab",
        f"Publish access record {cancelled} (PENDING) cancelled.",
        f"Publication (public) requested: publish access record {approved} is PENDING. Justification: for the lab",
        f"Publish access record {approved} (PENDING) approved (public); it is APPROVED_PENDING_IMAGE_PUBLISH.",
        f"Published (public); publish access record {approved} is APPROVED.",
    ]
    assert [r["id"] for r in list_records(emu, image=image["id"], status="APPROVED")] == [approved]
    # the reviewer is the actor of the review
    reviewed = history(emu, image["id"], search="denied")
    assert [e["actor"] for e in reviewed] == ["admin@air-admin.example.com"]


def test_filters_ordering_and_pages(emulator, files):
    image = create_image(emulator)
    upload_file(emulator, image["id"], files.small, declared_size=4097)
    emulator.wait_for(image["id"], "READY")
    upload_file(emulator, image["id"], files.small)
    emulator.wait_for(image["id"], "COMPLETE")
    everything = history(emulator, image["id"])
    assert len(everything) == 7

    assert history(emulator, image["id"], actor="DEMO@Demo-Org.example.com") == \
        [e for e in everything if e["actor"] == DEMO_EMAIL]
    assert history(emulator, image["id"], actor="demo") == []  # exact, not a substring
    assert history(emulator, image["id"], label="validation") == [e for e in everything if e["labels"] == ["validation"]]
    assert history(emulator, image["id"], label="no-such-label") == []
    assert len(history(emulator, image["id"], search="DECLARED")) == 3  # two starts and the failure
    assert len(history(emulator, image["id"], search="error")) == 1  # the severity is searched
    assert history(emulator, image["id"], search="validation") == \
        [e for e in everything if "validation" in e["labels"]]  # labels are searched too
    assert history(emulator, image["id"], search="   ") == everything

    assert history(emulator, image["id"], ordering="created") == everything[::-1]
    assert history(emulator, image["id"], ordering="-created") == everything
    by_severity = history(emulator, image["id"], ordering="severity")
    assert by_severity[0]["severity"] == "ERROR" and by_severity[1:] == [e for e in everything if e["severity"] == "INFO"]
    by_actor = history(emulator, image["id"], ordering="-actor,created")
    assert [e["actor"] for e in by_actor] == ["system"] * 2 + [DEMO_EMAIL] * 5
    assert by_actor[2:] == [e for e in everything[::-1] if e["actor"] == DEMO_EMAIL]

    first = ok(emulator.api("GET", f"images/{image['id']}/history", params={"limit": 3, "label": "upload"}))
    assert first["count"] == 4 and len(first["results"]) == 3 and "label=upload" in first["next"]
    second = ok(requests.get(first["next"], headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, timeout=30))
    assert first["results"] + second["results"] == history(emulator, image["id"], label="upload")
    assert second["next"] is None

    for params, field in (({"ordering": "description"}, "ordering"), ({"ordering": "-created,-bogus"}, "ordering"),
                          ({"severity": "info"}, "severity"), ({"severity": "WARNING"}, "severity"),
                          ({"limit": "x"}, "limit"), ({"offset": "-1"}, "offset")):
        assert_error(emulator.api("GET", f"images/{image['id']}/history", params=params), 400, field)


def test_history_filters_are_the_distinct_values(emulator, files):
    image = create_image(emulator)
    assert ok(emulator.api("GET", f"images/{image['id']}/history-filters")) == {
        "actors": [DEMO_EMAIL], "severities": ["INFO"], "labels": ["image"]}
    upload_file(emulator, image["id"], files.small, declared_hash="f" * 64)
    emulator.wait_for(image["id"], "READY")
    assert ok(emulator.api("GET", f"images/{image['id']}/history-filters")) == {
        "actors": [DEMO_EMAIL, "system"], "severities": ["ERROR", "INFO"], "labels": ["image", "upload", "validation"]}


def test_who_may_read_a_history(emulator, files):
    own = create_image(emulator)
    published = publish(emulator, complete_image(emulator, files.small, name="pub")["id"])
    for path in ("history", "history-filters"):
        # a token of the same org with image_read only
        assert emulator.api("GET", f"images/{own['id']}/{path}", token=READONLY_TOKEN).status_code == 200
        # another org: an unpublished image does not exist for it; a published one is not its history
        assert_error(emulator.api("GET", f"images/{own['id']}/{path}", token=PARTNER_TOKEN), 404)
        body = assert_error(emulator.api("GET", f"images/{published['id']}/{path}", token=PARTNER_TOKEN), 403)
        assert "owns this image" in body["detail"]
        # a reviewer holds no image scope
        assert_error(emulator.api("GET", f"images/{own['id']}/{path}", token=ADMIN_TOKEN), 403)
        assert_error(emulator.api("GET", f"images/{random_id()}/{path}"), 404)
        assert_error(emulator.api("GET", f"images/not-a-uuid/{path}"), 404)
        response = emulator.api("GET", f"images/{own['id']}/{path}", headers={"Authorization": ""})
        assert response.status_code == 401


def test_refused_requests_record_nothing(emulator, files):
    image = create_image(emulator, name="one")
    create_image(emulator, name="two")
    before = history(emulator, image["id"])
    with unchanged(emulator):
        assert emulator.api("PATCH", f"images/{image['id']}", json={"name": "two"}).status_code == 400
        assert emulator.api("PATCH", f"images/{image['id']}/start-upload", json={"hash": "xyz", "size": 1}) \
            .status_code == 400
        assert emulator.api("PATCH", f"images/{image['id']}/abort-upload", json={}).status_code == 400
        assert emulator.api("PATCH", f"images/{image['id']}/publish", json={}).status_code == 400
        assert emulator.api("POST", "images/shares", json={"image": image["id"], "target_org": "partner-org"}) \
            .status_code == 400
    # a PATCH that changes nothing is not an event either
    ok(emulator.api("PATCH", f"images/{image['id']}", json={"name": "one"}))
    assert history(emulator, image["id"]) == before


def test_history_survives_a_restart_and_goes_with_the_image(files):
    with Emulator(*EMULATOR_ARGS) as emu:
        image = complete_image(emu, files.small)
        kept = complete_image(emu, files.other, name="kept")
        before = history(emu, image["id"])
        assert len(before) == 4
        emu.restart()
        assert history(emu, image["id"]) == before
        # entries written after the restart come after the old ones
        ok(emu.api("PATCH", f"images/{image['id']}", json={"notes": "after the restart"}))
        emu.restart()
        after = history(emu, image["id"])
        assert after[1:] == before and after[0]["description"] == "Updated notes."

        assert emu.api("DELETE", f"images/{image['id']}", json={}).status_code == 204
        assert_error(emu.api("GET", f"images/{image['id']}/history"), 404)
        with sqlite3.connect(os.path.join(emu.data_dir, "emulator.sqlite3")) as db:
            rows = db.execute("SELECT image_id, count(*) FROM history GROUP BY image_id").fetchall()
        assert rows == [(kept["id"], 4)]  # the deleted image's entries are gone, the other's stay

        emu.reset()
        with sqlite3.connect(os.path.join(emu.data_dir, "emulator.sqlite3")) as db:
            assert db.execute("SELECT count(*) FROM history").fetchone() == (0,)


@pytest.mark.parametrize("visibility", ["public", "restricted"])
def test_visibility_changes_are_recorded(held_emulator, files, visibility):
    emu = held_emulator
    image = complete_image(emu, files.small)
    body = {} if visibility == "public" else {"prefer_public": False}
    ok(image_action(emu, image["id"], "publish", **body))
    finish_transitions(emu)
    record = ok(emu.api("GET", f"images/{image['id']}"))["publish_access_record_id"]
    ok(review(emu, record, "set-visibility", publicly_published=visibility != "public"))
    ok(image_action(emu, image["id"], "unpublish"))
    finish_transitions(emu)
    newest = texts(history(emu, image["id"], label="publishing"))
    expected = "restricted to 1 organization" if visibility == "public" else "public"
    assert newest[2] == f"Visibility set to {expected} by a reviewer (publish access record {record})."
    assert newest[1] == "Unpublish started: the image leaves the catalog."
    assert newest[0] == f"Unpublished: the image left the catalog; publish access record {record} REMOVED."
