"""Multipart uploads through the unmodified SDK: happy path, clear, abort, retry."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from air_sdk.endpoints.images import Image
from air_sdk.exceptions import AirUnexpectedResponse
from air_sdk.utils import wait_for_state


def _assert_no_open_uploads(emulator, objects: int):
    state = emulator.state()
    assert state["uploads"] == [], f"multipart uploads left open: {state['uploads']}"
    assert len(state["objects"]) == objects, state["objects"]
    return state


def _assert_complete(image: Image, file) -> None:
    assert image.upload_status == "COMPLETE"
    assert image.hash == file.sha256
    assert image.size == file.size
    assert image.last_uploaded_at is not None
    assert abs((datetime.now(timezone.utc) - image.last_uploaded_at).total_seconds()) < 120


def test_multipart_upload_with_parallel_workers(api, emulator, make_image, big_file):
    chunk = emulator.state()["settings"]["chunk_size"]
    assert math.ceil(big_file.size / chunk) == 5  # the file really is a 5-part upload
    image = make_image("up")

    returned = image.upload(filepath=big_file.path, max_workers=4)

    assert isinstance(returned, Image) and returned.id == image.id
    # complete-upload hands the file to (asynchronous) validation.
    assert returned.upload_status in ("VALIDATING", "COMPLETE")
    # Poll with the SDK's own waiter (READY would mean validation failed).
    wait_for_state(image, "COMPLETE", state_field="upload_status", timeout=timedelta(seconds=30),
                   poll_interval=timedelta(seconds=0.05), error_states="READY")
    _assert_complete(image, big_file)
    _assert_complete(api.images.get(image.id), big_file)
    state = _assert_no_open_uploads(emulator, objects=1)
    assert state["objects"][0]["size"] == big_file.size
    assert state["objects"][0]["parts"] == 5
    assert state["validation_errors"] == {}
    # Uploaded images are found by hash and status.
    assert [i.id for i in api.images.list(hash=big_file.sha256)] == [image.id]
    assert [i.id for i in api.images.list(upload_status="COMPLETE")] == [image.id]


def test_sequential_upload_wire_protocol(api, emulator, make_image, big_file, wait_image, monkeypatch):
    """max_workers=1 (default): check what the SDK sent and got on the control plane."""
    image = make_image("seq")
    calls = []
    original = api.client.patch

    def recording_patch(url, *args, **kwargs):
        response = original(url, *args, **kwargs)
        calls.append((url, kwargs.get("data"), response))
        return response

    monkeypatch.setattr(api.client, "patch", recording_patch)
    image.upload(filepath=big_file.path)
    monkeypatch.undo()

    actions = [url.rstrip("/").rsplit("/", 1)[-1] for url, _body, _response in calls]
    assert actions == ["start-upload", "complete-upload"]
    (_start_url, start_body, start), (_complete_url, complete_body, complete) = calls
    assert json.loads(start_body) == {"hash": big_file.sha256, "size": big_file.size}
    assert start.status_code == 200
    plan = start.json()
    assert plan["upload_id"]
    assert plan["chunk_size"] == 5 * 1024 * 1024
    assert [p["part_number"] for p in plan["part_urls"]] == [1, 2, 3, 4, 5]
    # Parts in order, each with the (unquoted) S3-style ETag = MD5 of that byte range.
    chunk = plan["chunk_size"]
    with open(big_file.path, "rb") as handle:
        md5s = [hashlib.md5(handle.read(chunk)).hexdigest() for _part in range(5)]
    assert json.loads(complete_body) == {
        "parts": [{"part_number": n, "etag": md5s[n - 1]} for n in range(1, 6)]
    }
    assert complete.status_code == 200
    assert complete.json()["upload_status"] == "VALIDATING"
    assert complete.json()["id"] == image.id

    done, seen = wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")
    assert set(seen) <= {"VALIDATING", "COMPLETE"}
    _assert_complete(done, big_file)
    _assert_no_open_uploads(emulator, objects=1)


def test_create_with_filepath_uploads_in_one_step(api, emulator, big_file, wait_image, unique):
    image = api.images.create(name=f"conf-{unique}-oneshot", version="1.0", default_username="u",
                              default_password="p", cpu_arch="ARM", filepath=big_file.path, max_workers=4)
    assert isinstance(image, Image)
    assert image.name == f"conf-{unique}-oneshot" and image.cpu_arch == "ARM"
    assert image.upload_status in ("VALIDATING", "COMPLETE")
    done, _seen = wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")
    _assert_complete(done, big_file)
    assert [i.id for i in api.images.list()] == [image.id]
    state = _assert_no_open_uploads(emulator, objects=1)
    assert state["objects"][0]["parts"] == 5


def test_clear_upload_resets_to_ready_and_allows_reupload(api, emulator, uploaded_image, small_file,
                                                          other_small_file, wait_image):
    image = uploaded_image("clear")
    _assert_no_open_uploads(emulator, objects=1)

    # A COMPLETE image must be cleared before a new upload.
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        image.upload(filepath=other_small_file.path)
    assert excinfo.value.status_code == 400
    assert api.images.get(image.id).hash == small_file.sha256

    cleared = image.clear_upload()
    assert isinstance(cleared, Image)
    for img in (cleared, image, api.images.get(image.id)):
        assert img.upload_status == "READY"
        assert img.hash == ""
        assert img.size == 0
        assert img.last_uploaded_at is None
    _assert_no_open_uploads(emulator, objects=0)

    image.upload(filepath=other_small_file.path)
    done, _seen = wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")
    _assert_complete(done, other_small_file)

    # Endpoint form with a primary key.
    cleared = api.images.clear_upload(image=image.id)
    assert (cleared.upload_status, cleared.hash, cleared.size) == ("READY", "", 0)
    _assert_no_open_uploads(emulator, objects=0)


@pytest.mark.parametrize("max_workers", [1, 4])
def test_permanent_part_failure_aborts_the_upload(api, emulator, make_image, big_file, small_file, wait_image,
                                                  max_workers):
    image = make_image(f"abort{max_workers}")
    emulator.add_fault(action="status", status=400, method="PUT", path="/_s3/", part_numbers=[2], count=0)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(AirUnexpectedResponse) as excinfo:
                image.upload(filepath=big_file.path, max_workers=max_workers)
        faults = emulator.faults()
    finally:
        emulator.clear_faults()

    assert excinfo.value.status_code in (None, 400)
    assert "400" in str(excinfo.value)
    # A 400 is not transient: the part was tried exactly once, never retried.
    assert faults[0]["fired"] == 1
    # The SDK aborted the upload itself, and the abort succeeded (no warning).
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "abort" in m.lower()], messages
    assert not [m for m in messages if "Retrying" in m], messages
    _assert_no_open_uploads(emulator, objects=0)
    fresh = api.images.get(image.id)
    assert (fresh.upload_status, fresh.hash, fresh.size) == ("READY", "", 0)
    assert fresh.last_uploaded_at is None

    # The image is usable again: a new upload goes through.
    image.upload(filepath=small_file.path)
    done, _seen = wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")
    _assert_complete(done, small_file)
    _assert_no_open_uploads(emulator, objects=1)


def test_transient_part_failure_is_retried(api, emulator, make_image, big_file, wait_image):
    image = make_image("retry")
    emulator.add_fault(action="status", status=503, retry_after=1, method="PUT", path="/_s3/",
                       part_numbers=[3], count=1)
    try:
        with pytest.warns(UserWarning, match=r"Part 3 upload failed \(HTTP 503\)"):
            image.upload(filepath=big_file.path, max_workers=4)
        faults = emulator.faults()
    finally:
        emulator.clear_faults()
    assert faults[0]["fired"] == 1  # exactly one injected failure, then the retry got through
    done, _seen = wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")
    _assert_complete(done, big_file)
    state = _assert_no_open_uploads(emulator, objects=1)
    assert state["objects"][0]["parts"] == 5


def test_second_upload_while_uploading_is_rejected(api, emulator, make_image, small_file):
    """One upload per image: start-upload on an UPLOADING image is refused."""
    image = make_image("busy")
    started = emulator.api("PATCH", f"images/{image.id}/start-upload",
                           json={"hash": small_file.sha256, "size": small_file.size})
    assert started.status_code == 200
    assert api.images.get(image.id).upload_status == "UPLOADING"
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        image.upload(filepath=small_file.path)
    assert excinfo.value.status_code == 400
    # The SDK never got an upload id, so it must not have aborted the running upload.
    assert api.images.get(image.id).upload_status == "UPLOADING"
    assert len(emulator.state()["uploads"]) == 1
