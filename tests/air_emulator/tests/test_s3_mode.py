"""--s3-endpoint: real multipart uploads on a moto S3 server through real presigned URLs."""

from __future__ import annotations

import socket

import pytest
import requests

from air_emulator.testing import Emulator
from airemu_helpers import (
    CHUNK, Upload, assert_error, complete_upload, create_image, md5, put_parts, sha256, start_upload, unchanged,
    upload_file,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def s3_emulator(moto_url):
    with Emulator("--s3-endpoint", moto_url, "--chunk-size", str(CHUNK), "--validation-delay", "0.2",
                  "--transition-delay", "0.2") as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fresh(s3_emulator):
    s3_emulator.reset()
    yield


def begin(emu, path):
    image = create_image(emu)
    with open(path, "rb") as f:
        data = f.read()
    return Upload(image["id"], data, start_upload(emu, image["id"], data), {})


def test_upload_through_presigned_s3_urls(s3_emulator, moto_url, files):
    state = s3_emulator.state()
    assert (state["data_plane"], state["endpoint"]) == ("s3", moto_url)
    image = create_image(s3_emulator)
    upload = upload_file(s3_emulator, image["id"], files.big, complete=False)
    assert len(upload.plan["part_urls"]) == 3
    assert all(p["url"].startswith(f"{moto_url}/") and "X-Amz-Signature=" in p["url"]
               for p in upload.plan["part_urls"])
    uploads = s3_emulator.state()["uploads"]
    assert [(u["upload_id"], u["image_id"], u["parts_received"]) for u in uploads] == \
        [(upload.plan["upload_id"], image["id"], [1, 2, 3])]
    response = complete_upload(s3_emulator, image["id"], upload.etags)
    assert response.status_code == 200 and response.json()["upload_status"] == "VALIDATING"
    done = s3_emulator.wait_for(image["id"], "COMPLETE")
    assert (done["hash"], done["size"]) == (sha256(upload.data), len(upload.data))
    state = s3_emulator.state()
    assert state["uploads"] == []
    assert [o["size"] for o in state["objects"]] == [len(upload.data)]
    # the object really is in the bucket, byte for byte
    key = state["objects"][0]["key"]
    body = requests.get(f"{moto_url}/air-emulator/{key}", timeout=30).content
    assert md5(body) == md5(upload.data)


def test_abort_leaves_no_multipart_upload(s3_emulator, files):
    upload = begin(s3_emulator, files.big)
    put_parts(upload, only={1})
    assert len(s3_emulator.state()["uploads"]) == 1
    assert s3_emulator.api("PATCH", f"images/{upload.image_id}/abort-upload", json={}).status_code == 204
    assert s3_emulator.state()["uploads"] == []
    assert s3_emulator.api("GET", f"images/{upload.image_id}").json()["upload_status"] == "READY"


def test_wrong_etag_on_complete_is_400(s3_emulator, files):
    upload = begin(s3_emulator, files.big)
    put_parts(upload)
    with unchanged(s3_emulator):
        assert_error(complete_upload(s3_emulator, upload.image_id, {**upload.etags, 1: "f" * 32}), 400, "parts")
        assert_error(complete_upload(s3_emulator, upload.image_id, {1: upload.etags[1], 2: upload.etags[2]}), 400,
                     "parts")
    assert complete_upload(s3_emulator, upload.image_id, upload.etags).status_code == 200
    assert s3_emulator.wait_for(upload.image_id, "COMPLETE")["hash"] == sha256(upload.data)


def test_wrong_declared_hash_and_clear_upload_in_s3_mode(s3_emulator, files):
    image = create_image(s3_emulator)
    upload_file(s3_emulator, image["id"], files.two_parts, declared_hash="0" * 64)
    failed = s3_emulator.wait_for(image["id"], "READY")
    assert (failed["hash"], failed["size"]) == ("", 0)
    assert s3_emulator.state()["objects"] == []
    upload_file(s3_emulator, image["id"], files.two_parts)
    s3_emulator.wait_for(image["id"], "COMPLETE")
    assert len(s3_emulator.state()["objects"]) == 1
    cleared = s3_emulator.api("PATCH", f"images/{image['id']}/clear-upload", json={})
    assert cleared.status_code == 200 and cleared.json()["upload_status"] == "READY"
    assert s3_emulator.state()["objects"] == []
