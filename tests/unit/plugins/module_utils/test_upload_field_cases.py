# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What users actually do to uploads (issue 8): rewritten and shrinking files, stalls, two hosts on one image,
flaky completes, lost claims, read-only homes. Each case failed before the fix it names."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time

import pytest
import requests

from air_unit_helpers import (
    BIG_SIZE,
    CHUNK,
    DEMO_TOKEN,
    PARTNER_TOKEN,
    air_raises,
    api_image,
    image_fields,
    journal_files,
    kill_upload_midway,
    wait_until,
)

from air_emulator.testing import LocalFile, write_random_file

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirFileChangedError, AirUploadError
from ansible_collections.nvidia.air.plugins.module_utils._files import FileSlice

PINNED_MTIME = 1700000000


def upload(uploader, image, local, **kwargs):
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("wait_timeout", 60)
    return uploader.upload(image, local.path, **kwargs)


def assert_complete_with(emulator, image_id, local):
    server = api_image(emulator, image_id)
    assert (server["upload_status"], server["hash"], server["size"]) == ("COMPLETE", local.sha256, local.size)
    assert emulator.state()["uploads"] == []


class ForeignUpload:
    """An upload driven by "another host": raw API calls and part PUTs, no collection code."""

    def __init__(self, emulator, image_id, local, token=DEMO_TOKEN):
        self.emulator, self.image_id, self.local, self.token = emulator, image_id, local, token
        answer = emulator.api("PATCH", "images/%s/start-upload" % image_id, token=token,
                              json={"hash": local.sha256, "size": local.size})
        assert answer.status_code == 200, answer.text
        self.plan = answer.json()

    def send_parts(self):
        etags = []
        with open(self.local.path, "rb") as handle:
            for part in self.plan["part_urls"]:
                handle.seek((part["part_number"] - 1) * self.plan["chunk_size"])
                body = handle.read(self.plan["chunk_size"])
                response = requests.put(part["url"], data=body, timeout=60)
                assert response.status_code == 200, response.text
                etags.append({"part_number": part["part_number"], "etag": response.headers["ETag"].strip('"')})
        return etags

    def finish(self):
        answer = self.emulator.api("PATCH", "images/%s/complete-upload" % self.image_id, token=self.token,
                                   json={"parts": self.send_parts()})
        assert answer.status_code == 200, answer.text

    def abort(self):
        answer = self.emulator.api("PATCH", "images/%s/abort-upload" % self.image_id, token=self.token, json={})
        assert answer.status_code == 204, answer.text


def when_waiting(uploader_kwargs, action):
    """Uploader kwargs whose progress callback runs ``action`` once, when the uploader starts waiting."""
    fired = threading.Event()

    def callback(snapshot):
        if snapshot["state"] == "waiting" and not fired.is_set():
            fired.set()
            threading.Thread(target=action, daemon=True).start()

    return dict(uploader_kwargs, progress_callback=callback), fired


# ---------------------------------------------------------- the local file is the truth
def _pinned_copy(source, target):
    subprocess.run(["cp", "-p", source, target], check=True)


def test_a_file_rewritten_with_the_same_path_inode_size_and_mtime_is_hashed_again(tmp_path, make_uploader, cache_dir):
    first = write_random_file(str(tmp_path / "first.img"), 6000000)
    second = write_random_file(str(tmp_path / "second.img"), 6000000)
    for path in (first.path, second.path):
        os.utime(path, (PINNED_MTIME, PINNED_MTIME))
    disk = str(tmp_path / "disk.qcow2")
    _pinned_copy(first.path, disk)
    before = os.stat(disk)
    sha, _identity, source, _seconds = make_uploader().file_sha256(disk)
    assert (sha, source) == (first.sha256, "computed")
    assert make_uploader().file_sha256(disk)[2] == "cache"  # unchanged: the cache answers

    _pinned_copy(second.path, disk)  # same path, inode, size and mtime: only the content (and ctime) moved
    after = os.stat(disk)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    sha, _identity, source, _seconds = make_uploader().file_sha256(disk)
    assert (sha, source) == (second.sha256, "computed")


def test_a_file_that_shrinks_during_the_upload_fails_at_once_and_is_aborted(emulator, make_image, make_uploader,
                                                                            tmp_path, cache_dir):
    local = write_random_file(str(tmp_path / "shrinks.img"), 31000000)
    image = make_image()
    # Part 2 waits at the emulator's gate until the file has shrunk: the rest of the upload reads a shorter file.
    gate = emulator.hold(method="PUT", path="/_s3/", part_numbers=[2])

    def truncate_after_part_one(snapshot):
        if snapshot["state"] == "uploading" and snapshot["parts_done"] == 1 and os.path.getsize(local.path) > 12000000:
            os.truncate(local.path, 12000000)
            emulator.release(gate)

    uploader = make_uploader(workers=1, progress_callback=truncate_after_part_one)
    started = time.monotonic()
    with air_raises(AirFileChangedError, match="changed while it was being uploaded") as info:
        upload(uploader, image, local)
    assert time.monotonic() - started < 60  # a hang guard: the server is never left waiting for missing bytes
    assert uploader.part_retries == 0  # a changed file is not a transient failure
    assert info.value.aborted is True
    assert emulator.state()["uploads"] == [] and api_image(emulator, image.id)["upload_status"] == "READY"
    assert journal_files(cache_dir) == []


def test_a_slice_of_a_file_that_ends_early_raises_instead_of_sending_short(tmp_path):
    path = str(tmp_path / "slice.img")
    write_random_file(path, 3 * 1024 * 1024)
    with FileSlice(path, 1024 * 1024, 2 * 1024 * 1024) as body:
        assert len(body.read(1024 * 1024)) == 1024 * 1024
        os.truncate(path, 2560 * 1024)  # the slice is at 2 MiB; half a MiB of it is left
        assert len(body.read(1024 * 1024)) == 512 * 1024  # what is left of the file...
        with pytest.raises(AirFileChangedError, match="shorter than when it was hashed"):
            body.read(1024 * 1024)  # ...and then the promised bytes are missing
    os.unlink(path)
    with pytest.raises(AirFileChangedError, match="cannot read"):
        FileSlice(path, 0, 10)


def test_a_part_attempt_that_exceeds_part_timeout_end_to_end_is_abandoned_and_retried(
        emulator, make_image, make_uploader, random_file):
    local = random_file(BIG_SIZE)
    image = make_image()
    # The first attempt of part 2 waits at the emulator's gate (until the test ends): it can only time out.
    stall = emulator.hold(method="PUT", path="/_s3/", part_numbers=[2], count=1)
    uploader = make_uploader(workers=2, part_timeout=2)
    done, stats = upload(uploader, image, local)
    assert done.upload_status == "COMPLETE" and done.hash == local.sha256
    assert uploader.part_retries >= 1 and stats["retries"] >= 1
    assert [f for f in emulator.faults() if f["id"] == stall["id"]][0]["fired"] == 1


def test_a_part_that_always_stalls_fails_after_its_attempts_naming_part_timeout(
        emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(BIG_SIZE)
    image = make_image()
    emulator.hold(method="PUT", path="/_s3/", part_numbers=[2], count=0)  # every attempt of part 2 stalls
    from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy
    uploader = make_uploader(workers=2, part_timeout=1, retry=RetryPolicy(attempts=2, base=0.02, cap=0.1))
    with air_raises(AirUploadError) as info:
        upload(uploader, image, local)
    assert info.value.step == "part 2" and info.value.attempts == 2
    assert "part 2 did not finish within part_timeout (1s)" in info.value.message
    assert info.value.aborted is True and emulator.state()["uploads"] == []


# ------------------------------------------------------- someone else on the same image
def test_two_hosts_uploading_the_same_file_into_one_image_at_once_both_end_with_it(
        emulator, make_image, make_client, make_uploader, random_file, tmp_path):
    local = random_file(BIG_SIZE)
    image = make_image()
    # Every part waits at the emulator's gate until one host waits for the other's upload: the two runs meet
    # however fast either one is.
    gate = emulator.hold(method="PUT", path="/_s3/", count=0)
    hosts = [make_uploader(**dict(when_waiting({}, lambda: emulator.release(gate))[0], for_client=make_client(),
                                  cache_dir=str(tmp_path / ("host-%d" % n)), workers=2))
             for n in (1, 2)]
    results, errors = {}, []
    barrier = threading.Barrier(2)

    def run(n):
        try:
            barrier.wait(10)
            results[n] = upload(hosts[n], image, local)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == [] and len(results) == 2
    adopted = sorted(stats["adopted"] for _image, stats in results.values())
    assert adopted == [False, True]  # one host uploaded, the other waited and found the same file
    for done, stats in results.values():
        assert done.upload_status == "COMPLETE" and done.hash == local.sha256
        if stats["adopted"]:
            assert stats["parts_uploaded"] == 0 and stats["bytes_uploaded"] == 0 and stats["waited_seconds"] > 0
    assert_complete_with(emulator, image.id, local)
    assert all(journal_files(str(tmp_path / ("host-%d" % n))) == [] for n in (1, 2))


def test_an_upload_another_host_is_sending_is_waited_for_then_adopted(emulator, make_image, make_uploader,
                                                                      random_file, cache_dir):
    local = random_file(BIG_SIZE)
    image = make_image()
    other = ForeignUpload(emulator, image.id, local)
    kwargs, fired = when_waiting({}, other.finish)
    done, stats = upload(make_uploader(**kwargs), image, local)
    assert fired.is_set()
    assert stats["adopted"] is True and stats["bytes_uploaded"] == 0
    assert done.upload_status == "COMPLETE" and done.hash == local.sha256
    assert_complete_with(emulator, image.id, local)
    assert journal_files(cache_dir) == []


def test_a_different_file_from_the_other_host_fails_naming_on_mismatch(emulator, make_image, make_uploader,
                                                                       random_file):
    mine, theirs = random_file(BIG_SIZE, "mine.img"), random_file(BIG_SIZE - 1, "theirs.img")
    image = make_image()
    other = ForeignUpload(emulator, image.id, theirs)
    kwargs, _fired = when_waiting({}, other.finish)
    with air_raises(AirUploadError, match="holds a different file .* another run uploaded it") as info:
        upload(make_uploader(**kwargs), image, mine)
    assert "on_mismatch: replace" in info.value.hint
    assert_complete_with(emulator, image.id, theirs)  # theirs stands; nothing of ours was started


def test_an_upload_nobody_finishes_is_reported_and_never_aborted(emulator, make_image, make_uploader, random_file):
    local = random_file(BIG_SIZE)
    image = make_image()
    ForeignUpload(emulator, image.id, local)
    with air_raises(AirUploadError, match="did not start") as info:
        upload(make_uploader(), image, local, wait_timeout=1)
    assert "abort_upload: true" in info.value.hint
    (still_open,) = emulator.state()["uploads"]  # the other host's upload is left alone
    assert still_open["image_id"] == image.id
    assert api_image(emulator, image.id)["upload_status"] == "UPLOADING"


def test_when_the_other_host_gives_up_this_run_uploads(emulator, make_image, make_uploader, random_file):
    local = random_file(BIG_SIZE)
    image = make_image()
    other = ForeignUpload(emulator, image.id, local)
    kwargs, fired = when_waiting({}, other.abort)
    done, stats = upload(make_uploader(**kwargs), image, local)
    assert fired.is_set() and stats["adopted"] is False
    assert stats["parts_uploaded"] == stats["parts_total"] == -(-BIG_SIZE // CHUNK)
    assert_complete_with(emulator, image.id, local)


def test_after_losing_its_upload_to_another_host_a_run_never_aborts_theirs(emulator, make_image, make_uploader,
                                                                           random_file, warnings_seen):
    local = random_file(BIG_SIZE)
    image = make_image()
    # Once part 1 is acknowledged (workers 1: before part 2 is sent), another host aborts ours and starts its own.
    taken_over = {}

    def take_over(snapshot):
        if snapshot["state"] == "uploading" and snapshot["parts_done"] >= 1 and not taken_over:
            taken_over["busy"] = True
            emulator.api("PATCH", "images/%s/abort-upload" % image.id, json={})
            taken_over["other"] = ForeignUpload(emulator, image.id, local)

            def finish_later():
                wait_until(lambda: any("did not start" in w for w in warnings_seen), timeout=30,
                           what="our run waiting for theirs")
                taken_over["other"].finish()

            threading.Thread(target=finish_later, daemon=True).start()

    done, stats = upload(make_uploader(workers=1, progress_callback=take_over), image, local)
    assert "other" in taken_over
    assert any("no longer exists" in w for w in warnings_seen)  # NoSuchUpload: nothing of ours to abort
    assert stats["adopted"] is True
    assert done.upload_status == "COMPLETE" and done.hash == local.sha256
    assert_complete_with(emulator, image.id, local)  # their complete-upload succeeded: we never aborted it


# ------------------------------------------------------- a fully sent upload is precious
def test_one_500_on_complete_upload_is_retried_after_looking_at_the_image(emulator, make_image, make_uploader,
                                                                          random_file):
    local = random_file(BIG_SIZE)
    image = make_image()
    emulator.add_fault(action="status", status=500, method="PATCH", path="/complete-upload/$", count=1)
    done, stats = upload(make_uploader(), image, local)
    assert stats["retries"] >= 1
    assert stats["parts_uploaded"] == stats["parts_total"] and stats["bytes_uploaded"] == local.size  # sent once
    assert done.upload_status == "COMPLETE"
    assert_complete_with(emulator, image.id, local)


def test_a_complete_that_keeps_failing_keeps_the_upload_so_the_next_run_sends_no_part(
        emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(BIG_SIZE)
    image = make_image()
    emulator.add_fault(action="status", status=500, method="PATCH", path="/complete-upload/$", count=0)
    with air_raises(AirUploadError, match="all 5 parts are uploaded") as info:
        upload(make_uploader(), image, local)
    assert info.value.step == "complete" and info.value.aborted is False
    assert "without sending the parts again" in info.value.hint
    assert len(journal_files(cache_dir)) == 1 and len(emulator.state()["uploads"]) == 1
    emulator.clear_faults()

    done, stats = upload(make_uploader(), image, local)
    assert stats["resumed"] is True and stats["parts_uploaded"] == 0 and stats["bytes_uploaded"] == 0
    assert stats["parts_resumed"] == 5
    assert_complete_with(emulator, image.id, local)
    assert journal_files(cache_dir) == []


def test_a_journal_left_by_a_run_killed_after_the_server_completed_is_removed(
        emulator, make_image, make_uploader, random_file, cache_dir, tmp_path, collections_path):
    local = random_file(BIG_SIZE)
    image = make_image()
    kill_upload_midway(emulator, collections_path, image.id, local.path, cache_dir, tmp_path)
    leftover = str(tmp_path / "leftover")
    shutil.copytree(os.path.join(cache_dir, "uploads"), leftover)
    done, _stats = upload(make_uploader(), image, local)  # resumes and completes
    assert journal_files(cache_dir) == []
    shutil.rmtree(os.path.join(cache_dir, "uploads"))
    shutil.copytree(leftover, os.path.join(cache_dir, "uploads"))  # as if killed while complete was in flight
    assert len(journal_files(cache_dir)) == 1
    make_uploader().discard_stale_journal(done)
    assert os.listdir(os.path.join(cache_dir, "uploads")) == []  # plan, parts log and lock file are gone


# ----------------------------------------------------------- claims proven, not guessed
@pytest.fixture
def shared_image(make_image, make_uploader, random_file, client):
    local = random_file(6000000)
    image, _stats = upload(make_uploader(), make_image("lab-image"), local)
    return client.shares.create(image, "partner-org"), local


@pytest.mark.parametrize("named", [False, True])
def test_a_claim_whose_answer_is_lost_is_found_again_not_claimed_twice(emulator, make_client, shared_image, named):
    share, local = shared_image
    partner = make_client(token=PARTNER_TOKEN)
    partner.images.create(image_fields("unrelated"))  # an image of theirs created before the claim
    emulator.add_fault(action="drop", method="POST", path="/claim-image-share/$", count=1)
    name, version = ("lab-copy", "2.0") if named else (None, None)
    claimed = partner.shares.claim(share.id, name, version)
    assert claimed is not None and claimed.upload_status in ("COPYING_FROM_IMAGE_SHARE", "COMPLETE")
    assert (claimed.name, claimed.version) == ((name, version) if named else ("lab-image", "1.0"))
    mine = partner.images.list(is_owned_by_client=True)
    assert sorted(i.name for i in mine) == sorted(["unrelated", claimed.name])  # one claim, not two
    assert emulator.wait_for(claimed.id, "COMPLETE", token=PARTNER_TOKEN)["hash"] == local.sha256


# ------------------------------------------------------------- a locked-down host
@pytest.fixture
def read_only_home(tmp_path, monkeypatch):
    """A home directory nothing can be written into (a read-only bind mount as root, mode 0555 otherwise)."""
    home = tmp_path / "home"
    home.mkdir()
    mounted = False
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(home), str(home)], check=True)
        subprocess.run(["mount", "-o", "remount,ro,bind", str(home)], check=True)
        mounted = True
    else:
        home.chmod(0o555)
    monkeypatch.setenv("HOME", str(home))
    for name in ("NVIDIA_AIR_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(OSError):
        (home / ".cache").mkdir()
    yield str(home)
    if mounted:
        subprocess.run(["umount", str(home)], check=True)
    else:
        home.chmod(0o755)


def test_a_read_only_home_still_uploads_and_says_what_is_off(emulator, read_only_home, client, make_image,
                                                             random_file, warnings_seen):
    from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader
    local = random_file(BIG_SIZE)
    image = make_image()
    uploader = ImageUploader(client, warn=warnings_seen.append)  # cache dir from HOME, as the module does
    done, stats = upload(uploader, image, local)
    assert done.upload_status == "COMPLETE" and stats["hash_source"] == "computed"
    (warning,) = [w for w in warnings_seen if "cache directory" in w]
    assert "NVIDIA_AIR_CACHE_DIR" in warning and "Read-only file system" in warning or "Permission denied" in warning
    assert os.listdir(read_only_home) == []
    assert_complete_with(emulator, image.id, LocalFile(local.path))


# ------------------------------------------------------- found by trying to break the above
@pytest.mark.parametrize("status", [409, 403, 400])
def test_a_complete_refused_for_another_reason_than_the_parts_keeps_the_upload(emulator, make_image, make_uploader,
                                                                               random_file, cache_dir, status):
    local = random_file(BIG_SIZE)
    image = make_image()
    emulator.add_fault(action="status", status=status, method="PATCH", path="/complete-upload/$", count=1)
    with air_raises(AirUploadError, match="complete-upload was refused") as info:
        upload(make_uploader(), image, local)
    assert info.value.aborted is False and len(journal_files(cache_dir)) == 1
    done, stats = upload(make_uploader(), image, local)
    assert stats["parts_uploaded"] == 0 and stats["resumed"] is True
    assert_complete_with(emulator, image.id, local)


def test_parts_the_storage_refuses_at_complete_abort_the_upload(emulator, make_image, make_uploader, random_file,
                                                                cache_dir, tmp_path, collections_path):
    local = random_file(BIG_SIZE)
    image = make_image()
    kill_upload_midway(emulator, collections_path, image.id, local.path, cache_dir, tmp_path)
    (parts_log,) = [p[:-len(".json")] + ".parts" for p in journal_files(cache_dir)]
    with open(parts_log) as handle:
        lines = handle.read().splitlines()
    lines[0] = "%s %s" % (lines[0].split()[0], "0" * 32)  # an ETag the storage never gave
    with open(parts_log, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    with air_raises(AirUploadError, match="InvalidPart") as info:
        upload(make_uploader(), image, local)
    assert info.value.aborted is True
    assert emulator.state()["uploads"] == [] and journal_files(cache_dir) == []


def test_a_fully_sent_upload_is_completed_even_after_its_part_urls_expired(emulator, make_image, make_uploader,
                                                                           random_file, cache_dir):
    local = random_file(BIG_SIZE)
    image = make_image()
    emulator.add_fault(action="status", status=500, method="PATCH", path="/complete-upload/$", count=0)
    with air_raises(AirUploadError, match="all 5 parts are uploaded"):
        upload(make_uploader(), image, local)
    emulator.clear_faults()
    emulator.advance_clock(7200)  # the journal's URLs (1 h) are long dead: completing needs none of them
    done, stats = upload(make_uploader(), image, local)
    assert stats["parts_uploaded"] == 0 and stats["parts_resumed"] == 5
    assert_complete_with(emulator, image.id, local)


def test_a_file_replaced_by_another_run_after_this_one_completed_is_not_reported_as_uploaded(
        emulator, make_image, make_uploader, random_file, client):
    mine, theirs = random_file(BIG_SIZE, "mine.img"), random_file(BIG_SIZE - 7, "theirs.img")
    image = make_image()

    def replace_during_validation(snapshot):
        if snapshot["state"] == "validating" and not replaced:
            replaced.append(True)
            emulator.wait_for(image.id, "COMPLETE")
            client.uploads.clear(client.images.get(image.id))  # another host, on_mismatch: replace
            other = ForeignUpload(emulator, image.id, theirs)
            other.finish()

    replaced = []
    with air_raises(AirUploadError, match="holds a different file") as info:
        upload(make_uploader(progress_callback=replace_during_validation), image, mine)
    assert "two runs disagree" in info.value.hint
    assert replaced


@pytest.mark.parametrize("layout", ["uploads-is-a-file", "dangling-symlink"])
def test_a_cache_directory_that_cannot_hold_the_journal_is_a_warning_not_an_oserror(
        emulator, make_image, make_uploader, random_file, cache_dir, warnings_seen, layout):
    os.makedirs(cache_dir)
    if layout == "uploads-is-a-file":
        with open(os.path.join(cache_dir, "uploads"), "w") as handle:
            handle.write("not a directory")
    else:
        os.symlink("/nonexistent/target", os.path.join(cache_dir, "uploads"))
    local = random_file(BIG_SIZE)
    done, _stats = upload(make_uploader(), make_image(), local)
    assert done.upload_status == "COMPLETE"
    assert any("cache directory" in w and "NVIDIA_AIR_CACHE_DIR" in w for w in warnings_seen)


@pytest.mark.parametrize("value", ["935b994e-9e1e-4d85-9275-10f7b3111cd9\n", "935b994e-9e1e-4d85-9275-10f7b3111cd9\r\n"])
def test_an_id_with_a_trailing_newline_is_refused(value):
    from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError
    from ansible_collections.nvidia.air.plugins.module_utils._models import check_id
    with pytest.raises(AirInputError, match="must be an Air id"):
        check_id(value, "id")


def test_a_stalled_upload_shows_its_rate_falling_in_the_progress_file(emulator, make_image, make_uploader,
                                                                      random_file, tmp_path):
    from ansible_collections.nvidia.air.plugins.module_utils._progress import RATE_WINDOW
    local = random_file(BIG_SIZE)
    image = make_image()
    # Part 2 waits at the emulator's gate until the watcher has seen the stall through a whole rate window and
    # the rate at zero: the stall lasts as long as the check needs, on any machine.
    gate = emulator.hold(method="PUT", path="/_s3/", part_numbers=[2])
    progress_file = str(tmp_path / "stall.json")
    uploader = make_uploader(workers=1, progress_file=progress_file)
    seen = []

    def watch():
        deadline = time.monotonic() + RATE_WINDOW + 120
        while time.monotonic() < deadline:
            try:
                with open(progress_file) as handle:
                    snapshot = __import__("json").load(handle)
            except (OSError, ValueError):
                snapshot = None
            if snapshot and snapshot["state"] == "uploading" and snapshot["parts_done"] == 1:
                seen.append((time.monotonic(), snapshot["rate_bytes_per_second"], snapshot["eta_seconds"],
                             snapshot["updated_at"]))
                stalled_through_a_window = (seen[-1][0] - seen[0][0] >= RATE_WINDOW
                                            and seen[-1][3] - seen[0][3] >= RATE_WINDOW - 1)
                if stalled_through_a_window and seen[-1][1] == 0:
                    emulator.release(gate)
            if snapshot and snapshot["parts_done"] >= 2:
                return
            time.sleep(0.5)

    watcher = threading.Thread(target=watch)
    watcher.start()
    upload(uploader, image, local)
    watcher.join(RATE_WINDOW + 120)
    uploader.progress.close()
    assert seen, "the stall was never seen in the progress file"
    stalled_for = seen[-1][0] - seen[0][0]
    assert stalled_for >= RATE_WINDOW  # the part was held that long
    # The file kept being rewritten during the stall, and once the window held no moving bytes the rate said so.
    assert seen[-1][3] - seen[0][3] >= RATE_WINDOW - 1
    assert seen[-1][1] == 0 and seen[-1][2] is None
