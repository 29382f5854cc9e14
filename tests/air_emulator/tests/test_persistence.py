"""State survives a restart on the same data dir, including an upload in flight."""

from __future__ import annotations

from air_emulator.testing import Emulator
from airemu_helpers import (
    CHUNK, EMULATOR_ARGS, PARTNER_TOKEN, Upload, complete_image, complete_upload, create_image, create_share,
    part_ranges, put_part, put_parts, sha256, snapshot, start_upload, upload_file,
)


def _run_validations(emu):
    """Let the held validations run now (the test emulator holds them for an hour of emulated time)."""
    emu.advance_clock(VALIDATION_HOLD + 1)
    emu.admin("POST", "jobs/run")


VALIDATION_HOLD = 3600


def test_restart_keeps_images_shares_and_in_flight_uploads(files):
    args = list(EMULATOR_ARGS)
    # Validations wait for the test (a restart takes what it takes on a loaded machine).
    args[args.index("--validation-delay") + 1] = str(VALIDATION_HOLD)
    with Emulator(*args) as emu:
        done = create_image(emu, name="done")
        upload_file(emu, done["id"], files.small)
        _run_validations(emu)  # before any part URL is issued: moving the clock ages URLs too
        done = emu.wait_for(done["id"], "COMPLETE")
        create_image(emu, name="ready", notes="keep me", cpu_arch="ARM")
        create_image(emu, token=PARTNER_TOKEN, name="partner-ready")
        share = create_share(emu, done["id"])

        flying = create_image(emu, name="in-flight")
        with open(files.big, "rb") as f:
            data = f.read()
        upload = Upload(flying["id"], data, start_upload(emu, flying["id"], data), {})
        put_parts(upload, only={1, 2})

        validating = create_image(emu, name="validating")
        pending = upload_file(emu, validating["id"], files.other)
        assert emu.api("GET", f"images/{validating['id']}").json()["upload_status"] == "VALIDATING"

        before = snapshot(emu)
        endpoint = emu.state()["endpoint"]
        assert before["state"]["uploads"][0]["parts_received"] == [1, 2]
        assert before["state"]["pending_jobs"] == 1

        emu.restart()
        # the validation job was still pending at shutdown and is still pending now
        assert emu.api("GET", f"images/{validating['id']}").json()["upload_status"] == "VALIDATING"

        assert emu.state()["endpoint"] == endpoint  # the API port may change; the data plane's must not
        after = snapshot(emu)
        after_images = {t: [i for i in imgs if i["id"] != validating["id"]] for t, imgs in after["images"].items()}
        before_images = {t: [i for i in imgs if i["id"] != validating["id"]] for t, imgs in before["images"].items()}
        assert after_images == before_images
        assert after["shares"] == before["shares"]
        assert after["state"]["uploads"] == before["state"]["uploads"]
        assert after["state"]["objects"] == before["state"]["objects"]
        assert emu.api("GET", f"images/shares/{share['id']}").json() == share

        # the last part goes to the SAME presigned URL, and the upload completes
        number, url, blob = list(part_ranges(data, upload.plan))[2]
        assert url == upload.urls[3] and len(blob) == len(data) - 2 * CHUNK
        response = put_part(url, blob)
        assert response.status_code == 200, response.text
        upload.etags[number] = response.headers["ETag"].strip('"')
        assert complete_upload(emu, flying["id"], upload.etags).status_code == 200

        # the validation that was pending at shutdown still runs (with the new one)
        _run_validations(emu)
        assert emu.wait_for(validating["id"], "COMPLETE")["hash"] == sha256(pending.data)
        image = emu.wait_for(flying["id"], "COMPLETE")
        assert (image["hash"], image["size"]) == (sha256(data), len(data))

        # the share still works after the restart
        claim = emu.api("POST", "images/claim-image-share", token=PARTNER_TOKEN, json={"image_share": share["id"]})
        assert claim.status_code == 201, claim.text
        assert emu.wait_for(claim.json()["id"], "COMPLETE", token=PARTNER_TOKEN)["hash"] == done["hash"]


def test_part_urls_issued_before_a_restart_still_verify(files):
    with Emulator(*EMULATOR_ARGS) as emu:
        image = create_image(emu)
        with open(files.small, "rb") as f:
            data = f.read()
        plan = start_upload(emu, image["id"], data)
        emu.restart()
        emu.restart()
        response = put_part(plan["part_urls"][0]["url"], data)
        assert response.status_code == 200, response.text
        assert complete_upload(emu, image["id"], {1: response.headers["ETag"].strip('"')}).status_code == 200
        assert emu.wait_for(image["id"], "COMPLETE")["hash"] == sha256(data)


def test_emulated_time_survives_a_restart(files):
    """Restarting must not change what the API shows: an expired share stays expired."""
    with Emulator(*EMULATOR_ARGS) as emu:
        share = create_share(emu, complete_image(emu, files.small)["id"])
        emu.advance_clock(25 * 3600)
        assert emu.api("GET", f"images/shares/{share['id']}").json()["state"] == "EXPIRED"
        before = snapshot(emu)
        emu.restart()
        assert emu.api("GET", f"images/shares/{share['id']}").json()["state"] == "EXPIRED"
        assert snapshot(emu) == before
        claim = emu.api("POST", "images/claim-image-share", token=PARTNER_TOKEN, json={"image_share": share["id"]})
        assert claim.status_code == 400, claim.text
