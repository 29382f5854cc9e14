"""Multipart upload protocol: start, part PUTs, complete, validation, abort, clear."""

from __future__ import annotations

import math
import os
import time

import pytest
import requests

from airemu_helpers import (
    CHUNK, IMAGE_FIELDS, MIB, PARTNER_TOKEN, Upload, assert_error, assert_s3_error, complete_image, complete_upload,
    create_image, get_image, md5, parse_ts, part_ranges, put_part, put_parts, random_id, raw_put, resign, sha256,
    start_upload, unchanged, upload_file,
)


def begin(emu, path: str, **kwargs) -> Upload:
    """Create an image and start (but do not send) an upload of ``path``."""
    image = create_image(emu, **kwargs)
    with open(path, "rb") as f:
        data = f.read()
    return Upload(image["id"], data, start_upload(emu, image["id"], data), {})


def parts_dir_entries(emu) -> list[str]:
    root = os.path.join(emu.data_dir, "parts")
    return [os.path.join(d, f) for d, _dirs, names in os.walk(root) for f in names]


# ------------------------------------------------------------------------ start
@pytest.mark.parametrize("size, count", [(1, 1), (CHUNK - 1, 1), (CHUNK, 1), (CHUNK + 1, 2), (3 * CHUNK, 3),
                                         (3 * CHUNK + 7, 4)])
def test_start_upload_plan(emulator, size, count):
    image = create_image(emulator)
    response = emulator.api("PATCH", f"images/{image['id']}/start-upload", json={"hash": "ab" * 32, "size": size})
    assert response.status_code == 200, response.text
    plan = response.json()
    assert set(plan) == {"upload_id", "part_urls", "chunk_size"}
    assert isinstance(plan["upload_id"], str) and plan["upload_id"]
    assert plan["chunk_size"] == CHUNK
    assert len(plan["part_urls"]) == count == math.ceil(size / plan["chunk_size"])
    assert [p["part_number"] for p in plan["part_urls"]] == list(range(1, count + 1))
    assert all(set(p) == {"part_number", "url"} and p["url"].startswith("http://") for p in plan["part_urls"])
    assert len({p["url"] for p in plan["part_urls"]}) == count
    assert get_image(emulator, image["id"])["upload_status"] == "UPLOADING"
    uploads = emulator.state()["uploads"]
    assert [(u["upload_id"], u["image_id"], u["parts_received"]) for u in uploads] == \
        [(plan["upload_id"], image["id"], [])]


def test_start_upload_of_the_largest_allowed_file_stays_within_10000_parts(emulator):
    image = create_image(emulator)
    size = 120_000_000_000
    plan = emulator.api("PATCH", f"images/{image['id']}/start-upload", json={"hash": "F" * 64, "size": size}).json()
    count = len(plan["part_urls"])
    assert count <= 10_000 and plan["chunk_size"] >= CHUNK
    assert count == math.ceil(size / plan["chunk_size"])
    assert [p["part_number"] for p in plan["part_urls"]] == list(range(1, count + 1))


BAD_START = [
    ({"hash": "abc", "size": 10}, "hash"), ({"hash": "g" * 64, "size": 10}, "hash"),
    ({"hash": "a" * 63, "size": 10}, "hash"), ({"hash": "a" * 65, "size": 10}, "hash"),
    ({"hash": 123, "size": 10}, "hash"), ({"hash": None, "size": 10}, "hash"),
    ({"hash": " " + "a" * 63, "size": 10}, "hash"),
    ({"hash": "a" * 64, "size": 0}, "size"), ({"hash": "a" * 64, "size": -1}, "size"),
    ({"hash": "a" * 64, "size": 120_000_000_001}, "size"), ({"hash": "a" * 64, "size": "10"}, "size"),
    ({"hash": "a" * 64, "size": 1.5}, "size"), ({"hash": "a" * 64, "size": True}, "size"),
    ({"hash": "a" * 64, "size": None}, "size"),
    ({"size": 10}, "hash"), ({"hash": "a" * 64}, "size"), ({}, "hash"), ({}, "size"),
    ({"hash": "a" * 64, "size": 10, "chunk_size": 5}, "chunk_size"),
]


@pytest.mark.parametrize("body, field", BAD_START, ids=[f"{f}:{sorted(b.items())}"[:50] for b, f in BAD_START])
def test_start_upload_validation(emulator, body, field):
    image = create_image(emulator)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{image['id']}/start-upload", json=body), 400, field)
    assert get_image(emulator, image["id"])["upload_status"] == "READY"


def test_upper_case_hash_is_accepted_and_stored_lower_case(emulator, files):
    image = create_image(emulator)
    with open(files.small, "rb") as f:
        data = f.read()
    upload_file(emulator, image["id"], files.small, declared_hash=sha256(data).upper())
    assert emulator.wait_for(image["id"], "COMPLETE")["hash"] == sha256(data)


def test_other_org_cannot_complete_or_abort(emulator, files):
    upload = begin(emulator, files.small)
    put_parts(upload)
    with unchanged(emulator):
        assert_error(complete_upload(emulator, upload.image_id, upload.etags, token=PARTNER_TOKEN), 404)
        assert_error(emulator.api("PATCH", f"images/{upload.image_id}/abort-upload", token=PARTNER_TOKEN, json={}),
                     404)


def test_second_start_upload_is_rejected(emulator, files):
    upload = begin(emulator, files.small)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{upload.image_id}/start-upload",
                                  json={"hash": sha256(upload.data), "size": len(upload.data)}), 400)
    assert [u["upload_id"] for u in emulator.state()["uploads"]] == [upload.plan["upload_id"]]
    put_parts(upload)
    assert complete_upload(emulator, upload.image_id, upload.etags).status_code == 200


# ------------------------------------------------------------------- round trip
def test_full_upload_reaches_complete(emulator, files):
    image = create_image(emulator)
    upload = upload_file(emulator, image["id"], files.big)
    assert len(upload.plan["part_urls"]) == 3
    assert set(upload.completed) == IMAGE_FIELDS
    assert upload.completed["upload_status"] == "VALIDATING"
    assert upload.completed["hash"] == "" and upload.completed["size"] == 0
    assert emulator.state()["uploads"] == []
    done = emulator.wait_for(image["id"], "COMPLETE")
    assert done["hash"] == sha256(upload.data) and done["size"] == len(upload.data) == 11 * MIB
    assert parse_ts(done["last_uploaded_at"]) >= parse_ts(image["created"])
    objects = emulator.state()["objects"]
    assert [o["size"] for o in objects] == [11 * MIB]
    assert emulator.state()["validation_errors"] == {}


def test_part_etag_is_the_quoted_md5_and_reuploading_a_part_replaces_it(emulator, files):
    upload = begin(emulator, files.two_parts)
    (n1, url1, blob1), (n2, url2, blob2) = part_ranges(upload.data, upload.plan)
    assert (n1, n2, len(blob1), len(blob2)) == (1, 2, CHUNK, 1000)
    wrong = put_part(url2, b"x" * 1000)
    assert wrong.status_code == 200 and wrong.headers["ETag"] == f'"{md5(b"x" * 1000)}"'
    first = put_part(url1, blob1)
    assert first.headers["ETag"] == f'"{md5(blob1)}"'
    right = put_part(url2, blob2)
    assert right.headers["ETag"] == f'"{md5(blob2)}"'
    assert emulator.state()["uploads"][0]["parts_received"] == [1, 2]
    assert emulator.state()["uploads"][0]["bytes_received"] == len(upload.data)
    etags = {1: first.headers["ETag"], 2: right.headers["ETag"]}  # quoted ETags are accepted too
    assert complete_upload(emulator, upload.image_id, etags).status_code == 200
    assert emulator.wait_for(upload.image_id, "COMPLETE")["hash"] == sha256(upload.data)


# ----------------------------------------------------------------- part PUT errors
def test_tampered_signature_is_403_signature_does_not_match(emulator, files):
    upload = begin(emulator, files.two_parts)
    url = upload.urls[1]
    signature = url.rsplit("X-Amz-Signature=", 1)[1][:64]
    tampered = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    blob = upload.data[:CHUNK]
    with unchanged(emulator):
        assert_s3_error(put_part(tampered, blob), 403, "SignatureDoesNotMatch")
        # changing a signed parameter without re-signing is the same thing
        assert_s3_error(put_part(url.replace("partNumber=1", "partNumber=2"), blob), 403, "SignatureDoesNotMatch")
        assert_s3_error(put_part(url.replace("X-Amz-Expires=3600", "X-Amz-Expires=9999"), blob), 403,
                        "SignatureDoesNotMatch")
        assert_s3_error(put_part(url.split("&X-Amz-Signature=")[0], blob), 403, "AccessDenied")
    assert put_part(url, blob).status_code == 200


def test_expired_part_url_is_403_access_denied(emulator, files):
    upload = begin(emulator, files.two_parts)
    blobs = {n: b for n, _url, b in part_ranges(upload.data, upload.plan)}
    emulator.advance_clock(1800)  # half of the default 3600 s lifetime
    assert put_part(upload.urls[1], blobs[1]).status_code == 200
    emulator.advance_clock(1805)
    with unchanged(emulator):
        assert_s3_error(put_part(upload.urls[2], blobs[2]), 403, "AccessDenied", "Request has expired")
    assert emulator.state()["uploads"][0]["parts_received"] == [1]


def test_missing_content_length_is_411(emulator, files):
    upload = begin(emulator, files.small)
    with unchanged(emulator):
        status, raw = raw_put(upload.urls[1], [])
        assert status == 411 and "<Code>MissingContentLength</Code>" in raw
        status, raw = raw_put(upload.urls[1], ["Transfer-Encoding: chunked"], b"5\r\nhello\r\n0\r\n\r\n")
        assert status == 411 and "<Code>MissingContentLength</Code>" in raw
    assert put_part(upload.urls[1], upload.data).status_code == 200


def test_chunked_body_from_requests_is_411(emulator, files):
    upload = begin(emulator, files.small)
    response = requests.put(upload.urls[1], data=iter([upload.data]), timeout=10)  # Transfer-Encoding: chunked
    assert_s3_error(response, 411, "MissingContentLength")
    assert emulator.state()["uploads"][0]["parts_received"] == []


def test_part_number_outside_the_plan_is_400(emulator, files):
    upload = begin(emulator, files.two_parts)
    with unchanged(emulator):
        for number in (0, 3, 10_001):
            assert_s3_error(put_part(resign(emulator, upload.urls[1], partNumber=number), b"z" * 10), 400,
                            "InvalidArgument")
    # the crafted signature itself is right: the same re-signing for a planned part is accepted
    assert put_part(resign(emulator, upload.urls[1], partNumber=2), b"y" * 1000).status_code == 200


def test_unknown_upload_is_404(emulator, files):
    upload = begin(emulator, files.small)
    with unchanged(emulator):
        assert_s3_error(put_part(resign(emulator, upload.urls[1], uploadId="no-such-upload"), upload.data), 404,
                        "NoSuchUpload")
    assert emulator.api("PATCH", f"images/{upload.image_id}/abort-upload", json={}).status_code == 204
    assert_s3_error(put_part(upload.urls[1], upload.data), 404, "NoSuchUpload")
    assert emulator.state()["uploads"] == [] and parts_dir_entries(emulator) == []


def test_part_url_is_dead_after_complete(emulator, files):
    image = create_image(emulator)
    upload = upload_file(emulator, image["id"], files.small)
    emulator.wait_for(image["id"], "COMPLETE")
    assert_s3_error(put_part(upload.urls[1], upload.data), 404, "NoSuchUpload")


# -------------------------------------------------------------------- complete
def test_complete_with_a_wrong_etag_keeps_the_upload_open(emulator, files):
    upload = begin(emulator, files.big)
    put_parts(upload)
    bad = {**upload.etags, 2: "0" * 32}
    with unchanged(emulator):
        error = assert_error(complete_upload(emulator, upload.image_id, bad), 400, "parts")
    assert "2" in error["parts"][0]
    assert get_image(emulator, upload.image_id)["upload_status"] == "UPLOADING"
    response = complete_upload(emulator, upload.image_id, upload.etags)
    assert response.status_code == 200 and response.json()["upload_status"] == "VALIDATING"
    assert emulator.wait_for(upload.image_id, "COMPLETE")["hash"] == sha256(upload.data)


def test_complete_with_a_missing_part_is_400(emulator, files):
    upload = begin(emulator, files.big)
    put_parts(upload, only={1, 2})
    with unchanged(emulator):
        # part 3 left out of the list
        assert_error(complete_upload(emulator, upload.image_id, upload.etags), 400, "parts")
        # part 3 listed but never uploaded
        listed = {**upload.etags, 3: md5(upload.data[2 * CHUNK:])}
        assert_error(complete_upload(emulator, upload.image_id, listed), 400, "parts")
        # a part beyond the plan
        extra = {**upload.etags, 3: listed[3], 4: "1" * 32}
        assert_error(complete_upload(emulator, upload.image_id, extra), 400, "parts")
    assert get_image(emulator, upload.image_id)["upload_status"] == "UPLOADING"


def test_complete_with_parts_out_of_order_or_repeated_is_400(emulator, files):
    upload = begin(emulator, files.big)
    put_parts(upload)
    path = f"images/{upload.image_id}/complete-upload"
    shuffled = [{"part_number": n, "etag": upload.etags[n]} for n in (2, 1, 3)]
    repeated = [{"part_number": n, "etag": upload.etags[n]} for n in (1, 2, 2, 3)]
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", path, json={"parts": shuffled}), 400, "parts")
        assert_error(emulator.api("PATCH", path, json={"parts": repeated}), 400, "parts")
    assert complete_upload(emulator, upload.image_id, upload.etags).status_code == 200


BAD_COMPLETE = [
    {}, {"parts": []}, {"parts": "1"}, {"parts": [{"part_number": 1}]}, {"parts": [{"etag": "a"}]},
    {"parts": [{"part_number": 0, "etag": "a" * 32}]}, {"parts": [{"part_number": "1", "etag": "a" * 32}]},
    {"parts": [{"part_number": 1, "etag": ""}]}, {"parts": [{"part_number": 1, "etag": 5}]},
    {"parts": [{"part_number": 1, "etag": "a" * 32, "size": 3}]},
]


@pytest.mark.parametrize("body", BAD_COMPLETE, ids=[str(b)[:40] for b in BAD_COMPLETE])
def test_complete_body_validation(emulator, files, body):
    upload = begin(emulator, files.small)
    put_parts(upload)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{upload.image_id}/complete-upload", json=body), 400, "parts")


def test_small_non_last_part_is_entity_too_small(emulator, files):
    upload = begin(emulator, files.two_parts)
    (_part1, url1, blob1), (_part2, url2, blob2) = part_ranges(upload.data, upload.plan)
    short = put_part(url1, blob1[:MIB])  # a client that sends a short first part
    last = put_part(url2, blob2)
    etags = {1: short.headers["ETag"].strip('"'), 2: last.headers["ETag"].strip('"')}
    with unchanged(emulator):
        error = assert_error(complete_upload(emulator, upload.image_id, etags), 400, "parts")
    assert error.get("code") == "EntityTooSmall" or "EntityTooSmall" in error["detail"]
    assert get_image(emulator, upload.image_id)["upload_status"] == "UPLOADING"
    etags[1] = put_part(url1, blob1).headers["ETag"].strip('"')
    assert complete_upload(emulator, upload.image_id, etags).status_code == 200
    assert emulator.wait_for(upload.image_id, "COMPLETE")["size"] == len(upload.data)


def test_complete_without_an_upload_is_400(emulator, files):
    image = create_image(emulator)
    with unchanged(emulator):
        assert_error(complete_upload(emulator, image["id"], {1: "a" * 32}), 400)
    done = complete_image(emulator, files.small, name="done")
    with open(files.small, "rb") as f:
        etag = md5(f.read())
    with unchanged(emulator):
        assert_error(complete_upload(emulator, done["id"], {1: etag}), 400)


# ------------------------------------------------------------------ validation
def test_wrong_declared_hash_sends_the_image_back_to_ready(emulator, files):
    image = create_image(emulator)
    upload = upload_file(emulator, image["id"], files.two_parts, declared_hash="c" * 64)
    assert upload.completed["upload_status"] == "VALIDATING"
    failed = emulator.wait_for(image["id"], "READY")
    assert (failed["hash"], failed["size"], failed["last_uploaded_at"]) == ("", 0, None)
    state = emulator.state()
    assert image["id"] in state["validation_errors"]
    assert "sha256" in state["validation_errors"][image["id"]]
    assert state["objects"] == [] and state["uploads"] == []
    # the image can be uploaded again, correctly this time
    upload_file(emulator, image["id"], files.two_parts)
    done = emulator.wait_for(image["id"], "COMPLETE")
    assert done["hash"] == sha256(upload.data)
    assert image["id"] not in emulator.state()["validation_errors"]


def test_wrong_declared_size_sends_the_image_back_to_ready(emulator, files):
    image = create_image(emulator)
    upload_file(emulator, image["id"], files.small, declared_size=4097)  # one byte more than sent
    failed = emulator.wait_for(image["id"], "READY")
    assert (failed["hash"], failed["size"]) == ("", 0)
    assert "size" in emulator.state()["validation_errors"][image["id"]]


def test_validating_image_refuses_abort_and_start(emulator, files):
    image = create_image(emulator)
    upload = upload_file(emulator, image["id"], files.small)
    # right after complete-upload the image is VALIDATING for --validation-delay (0.2 s)
    abort = emulator.api("PATCH", f"images/{image['id']}/abort-upload", json={})
    start = emulator.api("PATCH", f"images/{image['id']}/start-upload",
                         json={"hash": sha256(upload.data), "size": len(upload.data)})
    assert assert_error(abort, 400)["upload_status"] == "VALIDATING"
    assert assert_error(start, 400)["upload_status"] == "VALIDATING"
    assert emulator.wait_for(image["id"], "COMPLETE")["hash"] == sha256(upload.data)


# -------------------------------------------------------------- abort and clear
def test_abort_deletes_the_parts_and_returns_to_ready(emulator, files):
    upload = begin(emulator, files.big)
    put_parts(upload, only={1, 2})
    assert emulator.state()["uploads"][0]["parts_received"] == [1, 2]
    assert len(parts_dir_entries(emulator)) == 2
    response = emulator.api("PATCH", f"images/{upload.image_id}/abort-upload", json={})
    assert response.status_code == 204 and response.content == b""
    assert emulator.state()["uploads"] == []
    assert parts_dir_entries(emulator) == []
    image = get_image(emulator, upload.image_id)
    assert (image["upload_status"], image["hash"], image["size"]) == ("READY", "", 0)
    # and a fresh upload works
    upload_file(emulator, upload.image_id, files.small)
    assert emulator.wait_for(upload.image_id, "COMPLETE")["size"] == 4096


def test_abort_when_not_uploading_is_400(emulator, files):
    ready = create_image(emulator, name="ready")
    done = complete_image(emulator, files.small, name="done")
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{ready['id']}/abort-upload", json={}), 400)
        assert_error(emulator.api("PATCH", f"images/{done['id']}/abort-upload", json={}), 400)
        assert_error(emulator.api("PATCH", f"images/{random_id()}/abort-upload", json={}), 404)


def test_clear_upload_returns_a_complete_image_to_ready(emulator, files):
    done = complete_image(emulator, files.small)
    assert len(emulator.state()["objects"]) == 1
    response = emulator.api("PATCH", f"images/{done['id']}/clear-upload", json={})
    assert response.status_code == 200, response.text
    cleared = response.json()
    assert set(cleared) == IMAGE_FIELDS
    assert (cleared["upload_status"], cleared["hash"], cleared["size"], cleared["last_uploaded_at"]) == \
        ("READY", "", 0, None)
    assert emulator.state()["objects"] == []
    upload_file(emulator, done["id"], files.other)
    assert emulator.wait_for(done["id"], "COMPLETE")["size"] == 3000


def test_clear_upload_while_uploading_is_400(emulator, files):
    upload = begin(emulator, files.small)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{upload.image_id}/clear-upload", json={}), 400)


def test_start_upload_on_a_complete_image_is_400(emulator, files):
    done = complete_image(emulator, files.small)
    with unchanged(emulator):
        assert_error(emulator.api("PATCH", f"images/{done['id']}/start-upload",
                                  json={"hash": "a" * 64, "size": 10}), 400)
    assert get_image(emulator, done["id"]) == done


def test_deleting_an_uploading_image_aborts_its_upload(emulator, files):
    upload = begin(emulator, files.big)
    put_parts(upload, only={1})
    assert emulator.api("DELETE", f"images/{upload.image_id}", json={}).status_code == 204
    state = emulator.state()
    assert state["uploads"] == [] and state["images"] == 0
    assert parts_dir_entries(emulator) == []
    assert_s3_error(put_part(upload.urls[2], upload.data[CHUNK:2 * CHUNK]), 404, "NoSuchUpload")


def test_deleting_a_complete_image_deletes_its_object(emulator, files):
    done = complete_image(emulator, files.small)
    assert len(emulator.state()["objects"]) == 1
    assert emulator.api("DELETE", f"images/{done['id']}", json={}).status_code == 204
    assert emulator.state()["objects"] == []


def test_parts_can_be_sent_in_parallel(emulator, files):
    from concurrent.futures import ThreadPoolExecutor

    upload = begin(emulator, files.big)
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda item: (item[0], put_part(item[1], item[2])),
                                  part_ranges(upload.data, upload.plan)))
    assert time.monotonic() - started < 20
    etags = {n: r.headers["ETag"].strip('"') for n, r in responses}
    assert complete_upload(emulator, upload.image_id, etags).status_code == 200
    assert emulator.wait_for(upload.image_id, "COMPLETE")["hash"] == sha256(upload.data)
