# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Interrupted uploads: kill -9 and resume, and the cases where resuming is impossible."""

from __future__ import annotations

import os

import pytest
import requests

from air_unit_helpers import (
    BIG_SIZE,
    CHUNK,
    DEMO_TOKEN,
    EMULATOR_ARGS,
    api_image,
    image_fields,
    journal_files,
    read_journal,
    kill_upload_midway,
    mode_of,
)

from air_emulator.testing import Emulator, LocalFile

from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy

PARTS = -(-BIG_SIZE // CHUNK)  # 5


def upload(uploader, image, local, **kwargs):
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("wait_timeout", 60)
    return uploader.upload(image, local.path, **kwargs)


def assert_clean_complete(emulator, image, local, cache_dir):
    assert image.upload_status == "COMPLETE"
    assert image.hash == local.sha256 and image.size == local.size
    server = api_image(emulator, image.id)
    assert (server["upload_status"], server["hash"], server["size"]) == ("COMPLETE", local.sha256, local.size)
    assert emulator.state()["uploads"] == []
    assert journal_files(cache_dir) == []


def interrupted(emulator, image, local, cache_dir, tmp_path, collections_path):
    """An upload of ``local`` into ``image`` killed with SIGKILL after two parts."""
    journal = kill_upload_midway(emulator, collections_path, image.id, local.path, cache_dir, tmp_path)
    assert api_image(emulator, image.id)["upload_status"] == "UPLOADING"
    (open_upload,) = emulator.state()["uploads"]
    assert open_upload["upload_id"] == journal["upload_id"] and open_upload["image_id"] == image.id
    assert {int(n) for n in journal["done"]} <= set(open_upload["parts_received"])
    return journal


def test_kill_and_resume(emulator, make_image, make_uploader, random_file, cache_dir, tmp_path, collections_path):
    local = random_file(BIG_SIZE)
    image = make_image()
    # A loose, pre-existing journal directory and a permissive umask: the journal must still be private.
    os.makedirs(os.path.join(cache_dir, "uploads"), mode=0o777)
    os.chmod(os.path.join(cache_dir, "uploads"), 0o777)
    old_umask = os.umask(0)
    try:
        journal = interrupted(emulator, image, local, cache_dir, tmp_path, collections_path)
    finally:
        os.umask(old_umask)

    (path,) = journal_files(cache_dir)
    assert mode_of(path) == 0o600
    assert mode_of(os.path.dirname(path)) == 0o700
    assert mode_of(path[:-len(".json")] + ".lock") == 0o600
    assert mode_of(path[:-len(".json")] + ".parts") == 0o600
    assert mode_of(os.path.join(cache_dir, "sha256")) == 0o700
    on_disk = read_journal(path)
    assert on_disk["image_id"] == image.id and on_disk["sha256"] == local.sha256
    assert len(on_disk["parts"]) == PARTS and len(on_disk["done"]) >= 2

    done, stats = upload(make_uploader(workers=4), image, local)
    assert stats["resumed"] is True
    assert stats["parts_total"] == PARTS
    assert stats["parts_resumed"] >= 2 and stats["parts_resumed"] == len(on_disk["done"])
    assert stats["parts_uploaded"] == stats["parts_total"] - stats["parts_resumed"]
    resumed_bytes = sum(p["length"] for p in on_disk["parts"] if p["number"] in on_disk["done"])
    assert stats["bytes_uploaded"] == local.size - resumed_bytes
    assert stats["hash_source"] == "cache"  # the killed run hashed the file already
    assert_clean_complete(emulator, done, local, cache_dir)
    assert journal["upload_id"] not in [u["upload_id"] for u in emulator.state()["uploads"]]


def test_resume_for_a_changed_file_restarts(emulator, make_image, make_uploader, random_file, cache_dir, tmp_path,
                                            collections_path, warnings_seen):
    local = random_file(BIG_SIZE)
    image = make_image()
    interrupted(emulator, image, local, cache_dir, tmp_path, collections_path)
    with open(local.path, "r+b") as handle:  # new content, same size
        handle.write(b"changed!")
    changed = LocalFile(local.path)
    done, stats = upload(make_uploader(), image, changed)
    assert any("started for a different file" in w for w in warnings_seen)
    assert stats["resumed"] is False and stats["parts_uploaded"] == PARTS
    assert_clean_complete(emulator, done, changed, cache_dir)


def test_resume_with_urls_rejected_as_expired_by_storage(emulator, make_image, make_uploader, random_file,
                                                         cache_dir, tmp_path, collections_path, warnings_seen):
    local = random_file(BIG_SIZE)
    image = make_image()
    interrupted(emulator, image, local, cache_dir, tmp_path, collections_path)
    emulator.advance_clock(3700)  # past the shared emulator's 3600 s URL lifetime; our clock does not know
    done, stats = upload(make_uploader(), image, local)
    assert any("interrupted upload" in w and "have expired" in w and "starting again" in w for w in warnings_seen)
    assert stats["resumed"] is False and stats["parts_resumed"] == 0
    assert stats["parts_uploaded"] == stats["parts_total"] == PARTS
    assert_clean_complete(emulator, done, local, cache_dir)


@pytest.fixture(scope="module")
def short_ttl_emulator():
    with Emulator(*EMULATOR_ARGS, "--url-ttl", "30") as emu:
        yield emu


def test_resume_with_expired_urls_restarts_cleanly(short_ttl_emulator, make_uploader, random_file, cache_dir,
                                                   tmp_path, collections_path, warnings_seen):
    emu = short_ttl_emulator
    emu.reset()
    assert emu.state()["settings"]["url_ttl"] == 30
    client = AirClient(api_url=emu.url, api_token=DEMO_TOKEN, retry=RetryPolicy(base=0.02))
    try:
        image = client.images.create(image_fields("short-ttl"))
        local = random_file(BIG_SIZE)
        journal = interrupted(emu, image, local, cache_dir, tmp_path, collections_path)
        emu.advance_clock(40)  # the journaled part URLs are now dead
        probe = journal["parts"][-1]
        refused = requests.put(probe["url"], data=b"x" * probe["length"], timeout=30)
        assert refused.status_code == 403 and "Request has expired" in refused.text

        done, stats = upload(make_uploader(for_client=client), image, local)
        assert any("its part URLs have expired" in w for w in warnings_seen)
        assert stats["resumed"] is False and stats["parts_resumed"] == 0
        assert stats["parts_uploaded"] == stats["parts_total"] == PARTS
        assert_clean_complete(emu, done, local, cache_dir)
    finally:
        client.close()
