# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Uploads through real S3 multipart semantics: the emulator's data plane on a moto server."""

from __future__ import annotations

import os

import socket

import pytest

from air_unit_helpers import CHUNK, DEMO_TOKEN, MEDIUM_SIZE, air_raises, api_image, image_fields, journal_files

from air_emulator.testing import Emulator

from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirUploadError
from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy
from ansible_collections.nvidia.air.plugins.module_utils._parts import url_expiry


def _free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(scope="module")
def s3_emulator():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        with Emulator("--s3-endpoint", "http://127.0.0.1:%d" % port, "--chunk-size", str(CHUNK),
                      "--validation-delay", "0.2") as emu:
            yield emu
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_emulator):
    s3_emulator.reset()
    client = AirClient(api_url=s3_emulator.url, api_token=DEMO_TOKEN, retry=RetryPolicy(base=0.02))
    yield client
    client.close()


def test_upload_through_moto_s3(s3_emulator, s3_client, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = s3_client.images.create(image_fields("on-moto"))
    done, stats = make_uploader(for_client=s3_client, workers=3).upload(
        image, local.path, poll_interval=0.05, wait_timeout=60)
    assert done.upload_status == "COMPLETE"
    assert done.hash == local.sha256 and done.size == local.size
    assert stats["parts_total"] == stats["parts_uploaded"] == 3 and stats["retries"] == 0
    state = s3_emulator.state()
    assert state["data_plane"] == "s3"
    assert state["uploads"] == []  # S3's own list of multipart uploads
    assert [o["size"] for o in state["objects"]] == [local.size]
    assert journal_files(cache_dir) == []
    server = api_image(s3_emulator, image.id)
    assert (server["upload_status"], server["hash"]) == ("COMPLETE", local.sha256)


def test_real_presigned_urls_carry_their_expiry(s3_emulator, s3_client, random_file):
    local = random_file(MEDIUM_SIZE)
    image = s3_client.images.create(image_fields("expiry"))
    answer = s3_client.uploads.start(image, local.sha256, local.size)
    try:
        assert [p["part_number"] for p in answer["part_urls"]] == [1, 2, 3]
        for part in answer["part_urls"]:
            assert "X-Amz-Signature=" in part["url"]
            expires = url_expiry(part["url"])  # SigV4: X-Amz-Date + X-Amz-Expires
            assert expires is not None
    finally:
        s3_client.uploads.abort(image)
    assert s3_emulator.state()["uploads"] == []


def test_failure_on_moto_aborts_the_s3_upload(s3_emulator, s3_client, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = s3_client.images.create(image_fields("fails-on-moto"))

    def shrink_after_the_first_part(snapshot):  # the parts go straight to S3: fail the attempt from our side
        if snapshot["state"] == "uploading" and snapshot["parts_done"] == 1 and os.path.getsize(local.path) > 1:
            os.truncate(local.path, 1)

    with air_raises(AirUploadError) as info:
        make_uploader(for_client=s3_client, workers=1, progress_callback=shrink_after_the_first_part).upload(
            image, local.path, poll_interval=0.05)
    error = info.value
    assert "changed while it was being uploaded" in error.message
    assert error.aborted is True
    state = s3_emulator.state()
    assert state["uploads"] == []  # the multipart upload (and its part) is gone from S3
    assert state["objects"] == []
    assert api_image(s3_emulator, image.id)["upload_status"] == "READY"
    assert journal_files(cache_dir) == []


def test_a_complete_that_keeps_failing_on_moto_is_finished_by_the_next_run_without_resending(
        s3_emulator, s3_client, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = s3_client.images.create(image_fields("kept-on-moto"))
    s3_emulator.add_fault(action="status", status=500, method="PATCH", path="/complete-upload/$", count=0)
    with air_raises(AirUploadError, match="all 3 parts are uploaded") as info:
        make_uploader(for_client=s3_client, workers=3).upload(image, local.path, poll_interval=0.05)
    assert info.value.aborted is False
    (kept,) = s3_emulator.state()["uploads"]  # the real S3 multipart upload is still open with its parts
    assert len(journal_files(cache_dir)) == 1
    s3_emulator.clear_faults()
    done, stats = make_uploader(for_client=s3_client).upload(image, local.path, poll_interval=0.05)
    assert stats["resumed"] is True and stats["parts_uploaded"] == 0 and stats["parts_resumed"] == 3
    assert done.upload_status == "COMPLETE" and done.hash == local.sha256
    assert s3_emulator.state()["uploads"] == [] and journal_files(cache_dir) == []
