# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ImageUploader against the emulator: parts, stats, progress, hashing, faults, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import socket
import threading
import time
import warnings

import pytest

from air_unit_helpers import (
    BIG_SIZE,
    CHUNK,
    DEMO_TOKEN,
    MEDIUM_SIZE,
    MIB,
    air_raises,
    api_image,
    assert_nothing_started,
    assert_redacted,
    journal_files,
    mode_of,
    read_journal,
)

from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirError,
    AirFileChangedError,
    AirInputError,
    AirUploadError,
    AirUrlExpiredError,
    AirValidationError,
)
from ansible_collections.nvidia.air.plugins.module_utils._journal import UploadJournal
from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader

STATS_KEYS = {
    "bytes_total", "bytes_uploaded", "parts_total", "parts_uploaded", "parts_resumed", "seconds", "mb_per_s",
    "retries", "hash_seconds", "hash_source", "sha256", "workers", "chunk_size", "resumed", "upload_aborted",
    "validation_seconds", "adopted", "waited_seconds",
}
PROGRESS_KEYS = {
    "state", "image_id", "bytes_done", "bytes_total", "parts_done", "parts_total", "percent",
    "rate_bytes_per_second", "eta_seconds", "updated_at", "pid",
}


def upload(uploader, image, local, **kwargs):
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("wait_timeout", 60)
    return uploader.upload(image, local.path, **kwargs)


def assert_complete(emulator, image, local):
    """COMPLETE with the local file's hash and size; nothing left open."""
    assert image.upload_status == "COMPLETE"
    assert image.hash == local.sha256 and image.size == local.size
    server = api_image(emulator, image.id)
    assert (server["upload_status"], server["hash"], server["size"]) == ("COMPLETE", local.sha256, local.size)
    state = emulator.state()
    assert state["uploads"] == []
    stored = [o for o in state["objects"] if o["key"].startswith("images/%s/" % image.id)]
    assert [o["size"] for o in stored] == [local.size]


def assert_aborted(emulator, image, cache_dir, error):
    """The failed attempt was aborted: no open upload, image READY, no journal."""
    assert error.aborted is True
    assert error.to_failure()["upload_aborted"] is True
    assert_nothing_started(emulator, image.id, cache_dir)


def dedupe(states):
    out = []
    for state in states:
        if not out or out[-1] != state:
            out.append(state)
    return out


# ------------------------------------------------------------------ happy path
def test_multipart_upload_stats_and_progress(emulator, make_image, make_uploader, random_file, tmp_path, cache_dir):
    local = random_file(BIG_SIZE)
    image = make_image()
    snapshots = []
    progress_file = str(tmp_path / "progress.json")
    uploader = make_uploader(workers=4, progress_callback=snapshots.append, progress_file=progress_file)
    done, stats = upload(uploader, image, local)

    assert_complete(emulator, done, local)
    assert done.id == image.id
    assert STATS_KEYS <= set(stats)
    assert stats["bytes_total"] == stats["bytes_uploaded"] == local.size
    assert stats["parts_total"] == stats["parts_uploaded"] == 5
    assert stats["parts_resumed"] == 0 and stats["resumed"] is False
    assert stats["retries"] == 0
    assert stats["hash_source"] == "computed" and stats["sha256"] == local.sha256
    assert stats["hash_seconds"] >= 0 and stats["seconds"] > 0 and stats["mb_per_s"] > 0
    assert stats["validation_seconds"] > 0
    assert stats["chunk_size"] == CHUNK and stats["workers"] == 4
    assert journal_files(cache_dir) == []

    # progress callback: every phase, in order, with consistent counters
    assert all(PROGRESS_KEYS == set(s) for s in snapshots)
    assert dedupe(s["state"] for s in snapshots) == [
        "hashing", "starting", "uploading", "completing", "validating", "complete"]
    hashing = [s for s in snapshots if s["state"] == "hashing"]
    assert hashing[0]["bytes_done"] == 0 and hashing[0]["bytes_total"] == local.size
    starting = [s for s in snapshots if s["state"] == "starting"]
    assert starting[0]["bytes_done"] == local.size  # the whole file was hashed before start-upload
    uploading = [s for s in snapshots if s["state"] == "uploading"]
    assert [s["parts_done"] for s in uploading] == sorted(s["parts_done"] for s in uploading)
    assert uploading[-1]["parts_done"] == 5 and uploading[-1]["bytes_done"] == local.size
    assert all(s["parts_total"] == 5 and s["bytes_total"] == local.size for s in uploading)
    assert all(0 <= s["bytes_done"] <= local.size for s in uploading)
    assert any(s["rate_bytes_per_second"] > 0 and s["eta_seconds"] is not None for s in uploading)
    assert snapshots[-1]["image_id"] == image.id

    # progress file: the last snapshot, as JSON
    with open(progress_file) as handle:
        final = json.load(handle)
    assert final["state"] == "complete"
    assert final["bytes_done"] == final["bytes_total"] == local.size
    assert final["parts_done"] == final["parts_total"] == 5
    assert final["percent"] == 100.0
    assert final["rate_bytes_per_second"] == 0 and final["eta_seconds"] is None  # nothing moves any more
    assert final["pid"] == os.getpid()  # the controller checks that the process writing it is alive
    assert set(final) == PROGRESS_KEYS


def test_single_part_upload_with_one_worker(emulator, make_image, make_uploader, random_file):
    local = random_file(1000)
    done, stats = upload(make_uploader(workers=1), make_image(), local)
    assert_complete(emulator, done, local)
    assert stats["parts_total"] == 1 and stats["chunk_size"] == CHUNK


def test_hash_cache_and_mtime_invalidation(emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(2 * MIB + 3)
    first, stats = upload(make_uploader(), make_image(), local)
    assert stats["hash_source"] == "computed"
    assert_complete(emulator, first, local)

    second, stats = upload(make_uploader(), make_image(), local)  # a new run, same cache
    assert stats["hash_source"] == "cache" and stats["hash_seconds"] == 0
    assert second.hash == local.sha256

    st = os.stat(local.path)
    os.utime(local.path, ns=(st.st_atime_ns, st.st_mtime_ns + 2 * 10 ** 9))  # touched: same bytes
    third, stats = upload(make_uploader(), make_image(), local)
    assert stats["hash_source"] == "computed"
    assert third.hash == local.sha256

    # the cache is private: 0700 directory, 0600 entries
    directory = os.path.join(cache_dir, "sha256")
    assert mode_of(directory) == 0o700
    assert os.listdir(directory) and all(mode_of(os.path.join(directory, n)) == 0o600 for n in os.listdir(directory))


def test_caller_checksum_is_used(emulator, make_image, make_uploader, random_file):
    local = random_file(MEDIUM_SIZE)
    done, stats = upload(make_uploader(), make_image(), local, checksum=local.sha256.upper())
    assert stats["hash_source"] == "checksum" and stats["sha256"] == local.sha256
    assert_complete(emulator, done, local)


def test_wrong_checksum_fails_validation_fast(emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = make_image()
    wrong = hashlib.sha256(b"something else").hexdigest()
    started = time.monotonic()
    with air_raises(AirValidationError) as info:
        upload(make_uploader(), image, local, checksum=wrong, wait_timeout=120)
    assert time.monotonic() - started < 15  # seen as soon as the image is READY again, not at the timeout
    error = info.value
    assert error.step == "validate"
    assert "rejected" in error.message and "READY" in error.message
    assert error.stats["hash_source"] == "checksum" and error.stats["sha256"] == wrong
    assert_nothing_started(emulator, image.id, cache_dir)  # READY again, no open upload
    state = emulator.state()
    assert state["objects"] == []  # the rejected file was dropped: no orphan
    assert "sha256" in state["validation_errors"][image.id]
    assert api_image(emulator, image.id)["hash"] == ""


def test_upload_without_waiting_returns_validating(emulator, make_image, make_uploader, random_file):
    local = random_file(MEDIUM_SIZE)
    image, stats = upload(make_uploader(), make_image(), local, wait=False)
    assert image.upload_status == "VALIDATING"
    assert stats["validation_seconds"] is None
    assert emulator.wait_for(image.id, "COMPLETE")["hash"] == local.sha256


# ------------------------------------------------------------- faults on parts
@pytest.mark.parametrize("rule", [
    dict(action="status", status=503, retry_after=0.2, part_numbers=[2], count=2),
    dict(action="status", status=429, part_numbers=[1]),
    dict(action="status", status=500, part_numbers=[3]),  # S3 InternalError is transient
    dict(action="drop", part_numbers=[3]),
    dict(action="omit_etag", part_numbers=[1]),
], ids=["503-retry-after", "429", "500-once", "drop", "omit-etag"])
def test_transient_part_faults_are_retried(emulator, make_image, make_uploader, random_file, rule):
    local = random_file(MEDIUM_SIZE)
    emulator.add_fault(method="PUT", path="/_s3/", **rule)
    started = time.monotonic()
    done, stats = upload(make_uploader(workers=3), make_image(), local)
    assert_complete(emulator, done, local)
    (fired,) = emulator.faults()
    assert fired["fired"] == rule.get("count", 1)
    assert stats["retries"] == fired["fired"] > 0
    assert stats["parts_uploaded"] == 3
    if rule.get("retry_after"):
        assert time.monotonic() - started >= 2 * rule["retry_after"]


def test_permanent_part_failure_aborts(emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = make_image()
    emulator.add_fault(action="status", status=500, method="PUT", path="/_s3/", part_numbers=[2], count=0)
    with air_raises(AirUploadError) as info:
        upload(make_uploader(workers=3), image, local)
    error = info.value
    assert error.step == "part 2" and error.status == 500
    assert error.attempts == 5 and "(after 5 attempts)" in str(error)
    assert error.stats["retries"] == 4 and error.stats["upload_aborted"] is True
    assert_aborted(emulator, image, cache_dir, error)


def test_expired_url_aborts(emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = make_image()
    emulator.add_fault(action="expire_url", method="PUT", path="/_s3/", part_numbers=[2])
    with air_raises(AirUploadError) as info:
        upload(make_uploader(workers=3), image, local)
    error = info.value
    assert error.step == "part 2" and error.status == 403
    assert "presigned URL for part 2 has expired" in error.message
    assert "expired at" in error.message  # the expiry read from X-Amz-Date + X-Amz-Expires
    assert "workers" in error.hint
    assert isinstance(error.cause, AirUrlExpiredError)
    assert error.cause.to_failure()["storage_code"] == "AccessDenied"
    assert error.cause.part_number == 2
    assert error.stats["retries"] == 0  # an expired URL is never retried
    assert_aborted(emulator, image, cache_dir, error)


def _journal_kept_by_failed_abort(emulator, image, local, make_uploader, cache_dir):
    """A run whose part 3 fails and whose abort-upload fails too: the journal is kept."""
    emulator.add_fault(action="status", status=500, method="PUT", path="/_s3/", part_numbers=[3], count=0)
    emulator.add_fault(action="status", status=500, method="PATCH", path="/abort-upload/$", count=0)
    with air_raises(AirUploadError) as info:
        upload(make_uploader(workers=2), image, local)
    emulator.clear_faults()
    assert info.value.aborted is False and info.value.step == "part 3"
    assert api_image(emulator, image.id)["upload_status"] == "UPLOADING"
    (path,) = journal_files(cache_dir)
    journal = read_journal(path)
    assert sorted(journal["done"]) == [1, 2]
    assert mode_of(path[:-len(".json")] + ".parts") == 0o600
    return path, journal


def test_failed_abort_keeps_the_journal_and_the_next_run_resumes(emulator, make_image, make_uploader, random_file,
                                                                 cache_dir, warnings_seen):
    local = random_file(MEDIUM_SIZE)
    image = make_image()
    _journal_kept_by_failed_abort(emulator, image, local, make_uploader, cache_dir)
    assert any("abort-upload" in w and "journal is kept" in w for w in warnings_seen)
    done, stats = upload(make_uploader(), image, local)
    assert stats["resumed"] is True and stats["parts_resumed"] == 2 and stats["parts_uploaded"] == 1
    assert_complete(emulator, done, local)
    assert journal_files(cache_dir) == []


def _rewrite_urls(path, journal, rewrite):
    for part in journal["parts"]:
        part["url"] = rewrite(part["url"])
    with open(path, "w") as handle:
        json.dump(journal, handle)


def test_tampered_url_is_a_storage_403_not_a_token_problem(
        emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = make_image()
    path, journal = _journal_kept_by_failed_abort(emulator, image, local, make_uploader, cache_dir)
    _rewrite_urls(path, journal, lambda url: url.replace("X-Amz-Signature=", "X-Amz-Signature=00"))
    with air_raises(AirUploadError) as info:
        upload(make_uploader(), image, local)
    error = info.value
    assert error.step == "part 3" and error.status == 403
    assert not isinstance(error, AirUrlExpiredError) and not isinstance(error.cause, AirUrlExpiredError)
    assert "storage refused the presigned URL for part 3" in error.message
    assert "SignatureDoesNotMatch" in error.message
    assert "token" not in error.message.lower()
    assert error.hint == "this is the storage endpoint, not the Air API token"
    assert error.to_failure()["type"] == "AirUploadError"
    assert error.cause.to_failure()["storage_code"] == "SignatureDoesNotMatch"
    assert_aborted(emulator, image, cache_dir, error)


def test_unreachable_storage_error_hides_the_presigned_query(
        emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = make_image()
    path, journal = _journal_kept_by_failed_abort(emulator, image, local, make_uploader, cache_dir)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    dead = sock.getsockname()[1]
    sock.close()
    storage = emulator.state()["endpoint"]
    _rewrite_urls(path, journal, lambda url: url.replace(storage, "http://127.0.0.1:%d" % dead))
    with air_raises(AirUploadError) as info:
        upload(make_uploader(), image, local)
    error = info.value
    assert error.step == "part 3" and error.status is None
    assert "ConnectionError" in error.message and "(after 5 attempts)" in str(error)
    assert "/_s3/" in error.detail and "?<redacted>" in error.detail  # the URL is there, its query is not
    assert_aborted(emulator, image, cache_dir, error)


# -------------------------------------------------------- faults on API calls
@pytest.mark.parametrize("rule", [
    dict(action="drop", method="PATCH", path="/start-upload/$"),
    dict(action="status", status=503, method="PATCH", path="/start-upload/$"),
    dict(action="drop", method="PATCH", path="/complete-upload/$"),
    dict(action="status", status=502, method="PATCH", path="/complete-upload/$"),
    dict(action="status", status=503, retry_after=0.1, method="GET", path="/api/v3/images/[^/]+/$", count=3),
], ids=["start-drop", "start-503", "complete-drop", "complete-502", "get-503"])
def test_lost_api_responses_during_upload_are_reconciled(emulator, make_image, make_uploader, random_file, rule):
    local = random_file(MEDIUM_SIZE)
    image = make_image()
    emulator.add_fault(**rule)
    done, stats = upload(make_uploader(), image, local)
    assert_complete(emulator, done, local)
    assert emulator.faults()[0]["fired"] == rule.get("count", 1)
    if rule["action"] == "status":
        assert stats["retries"] >= 1


# ----------------------------------------------------------------- bad input
@pytest.fixture
def ready_image(make_image):
    return make_image()


def _assert_input_error(emulator, image, cache_dir, call, match):
    with air_raises(AirInputError, match=match) as info:
        call()
    assert info.value.step in ("check file", "check input")
    assert_nothing_started(emulator, image.id, cache_dir)
    return info.value


def test_missing_file(emulator, ready_image, make_uploader, tmp_path, cache_dir):
    path = str(tmp_path / "nope.img")
    _assert_input_error(emulator, ready_image, cache_dir, lambda: make_uploader().upload(ready_image, path),
                        "does not exist")
    _assert_input_error(emulator, ready_image, cache_dir, lambda: make_uploader().upload(ready_image, ""),
                        "src is empty")


def test_directory(emulator, ready_image, make_uploader, tmp_path, cache_dir):
    _assert_input_error(emulator, ready_image, cache_dir, lambda: make_uploader().upload(ready_image, str(tmp_path)),
                        "is a directory")


def test_fifo_is_not_a_regular_file(emulator, ready_image, make_uploader, tmp_path, cache_dir):
    fifo = str(tmp_path / "pipe.img")
    os.mkfifo(fifo)
    _assert_input_error(emulator, ready_image, cache_dir, lambda: make_uploader().upload(ready_image, fifo),
                        "not a regular file")
    _assert_input_error(emulator, ready_image, cache_dir, lambda: make_uploader().upload(ready_image, "/dev/null"),
                        "not a regular file")


def _as_unprivileged_user(fn, timeout=30.0):
    """Run ``fn`` as ``nobody`` in a forked child when we are root (root reads everything)."""
    if os.geteuid() != 0:
        return fn()
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process
        pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = fn()
        except BaseException as exc:
            result = {"crash": repr(exc)}
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _writable, _errors = select.select([read_end], [], [], 0.1)
            if ready:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    return json.loads(b"".join(chunks).decode())


def test_unreadable_file(emulator, ready_image, world_tmp):
    unreadable = os.path.join(world_tmp, "unreadable.img")
    with open(unreadable, "wb") as handle:
        handle.write(b"x" * 100)
    os.chmod(unreadable, 0o000)
    private = os.path.join(world_tmp, "private")
    os.mkdir(private, 0o700 if os.geteuid() == 0 else 0o000)  # not searchable for nobody / for us
    hidden = os.path.join(private, "hidden.img")
    if os.geteuid() == 0:
        with open(hidden, "wb") as handle:
            handle.write(b"y" * 100)
    cache = os.path.join(world_tmp, "cache")

    def attempt(path):
        def run():
            client = AirClient(api_url=emulator.url, api_token=DEMO_TOKEN)
            try:
                ImageUploader(client, cache_dir=cache).upload(ready_image, path)
            except AirError as exc:
                return {"type": type(exc).__name__, "step": exc.step, "texts": [str(exc), repr(exc)],
                        "failure": exc.to_failure()}
            return {"type": None}
        return _as_unprivileged_user(run)

    result = attempt(unreadable)
    assert result["type"] == "AirInputError", result
    assert result["step"] == "check file"
    assert "is not readable by this user" in result["texts"][0]
    result_hidden = attempt(hidden)
    assert result_hidden["type"] == "AirInputError", result_hidden
    assert "cannot stat" in result_hidden["texts"][0] and "Permission denied" in result_hidden["texts"][0]
    for found in (result, result_hidden):
        for text in found["texts"] + [json.dumps(found["failure"])]:
            assert_redacted(text)
    assert_nothing_started(emulator, ready_image.id)
    assert not os.path.exists(os.path.join(cache, "uploads"))


def test_empty_file(emulator, ready_image, make_uploader, tmp_path, cache_dir):
    empty = tmp_path / "empty.img"
    empty.write_bytes(b"")
    _assert_input_error(emulator, ready_image, cache_dir,
                        lambda: make_uploader().upload(ready_image, str(empty)), "is empty")


def test_file_over_120_gb(emulator, ready_image, make_uploader, tmp_path, cache_dir):
    huge = str(tmp_path / "huge.img")
    with open(huge, "wb") as handle:
        handle.truncate(120000000001)  # sparse: no disk space used
    assert os.stat(huge).st_blocks < 100
    started = time.monotonic()
    error = _assert_input_error(emulator, ready_image, cache_dir,
                                lambda: make_uploader().upload(ready_image, huge), "at most 120000000000 bytes")
    assert "120000000001 bytes" in str(error)
    assert time.monotonic() - started < 5  # refused before hashing


@pytest.mark.parametrize("workers", [0, -1, True, 2.5, "4", None])
def test_bad_workers(emulator, ready_image, client, cache_dir, workers):
    _assert_input_error(emulator, ready_image, cache_dir,
                        lambda: ImageUploader(client, workers=workers, cache_dir=cache_dir), "workers must be")


def test_bad_uploader_settings(emulator, ready_image, client, cache_dir, tmp_path):
    _assert_input_error(emulator, ready_image, cache_dir,
                        lambda: ImageUploader(client, part_timeout=0, cache_dir=cache_dir), "part_timeout")
    _assert_input_error(emulator, ready_image, cache_dir,
                        lambda: ImageUploader(client, cache_dir=cache_dir,
                                              progress_file=str(tmp_path / "missing" / "p.json")),
                        "progress_file")
    warned = []
    ImageUploader(client, workers=11, cache_dir=cache_dir, warn=warned.append)
    assert len(warned) == 1 and "workers=11" in warned[0]


@pytest.mark.parametrize("checksum", ["abc", "g" * 64, "a" * 63, "a" * 65, " " + "a" * 64, "sha256:" + "a" * 64])
def test_bad_checksum(emulator, ready_image, make_uploader, random_file, cache_dir, checksum):
    local = random_file(1000)
    _assert_input_error(emulator, ready_image, cache_dir,
                        lambda: make_uploader().upload(ready_image, local.path, checksum=checksum),
                        "checksum must be a SHA-256")


def test_complete_image_is_refused(emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(1000)
    image, _stats = upload(make_uploader(), make_image(), local)
    other = random_file(2000)
    with air_raises(AirUploadError, match="only a READY image") as info:
        upload(make_uploader(), image, other)
    assert info.value.step == "start-upload"
    assert "clear" in info.value.hint
    assert_nothing_started(emulator, image.id, cache_dir, status="COMPLETE")
    assert api_image(emulator, image.id)["hash"] == local.sha256


def test_a_second_run_on_this_host_waits_for_the_first_then_gives_up_clearly(
        emulator, ready_image, make_uploader, random_file, client, cache_dir):
    local = random_file(1000)
    lock = UploadJournal(client.api_url, ready_image.id, cache_dir)
    lock.acquire()
    try:
        with air_raises(AirUploadError, match="another run on this host is still uploading") as info:
            upload(make_uploader(), ready_image, local, wait_timeout=0.5)
    finally:
        lock.release()
    assert info.value.step == "wait for another upload"
    assert_nothing_started(emulator, ready_image.id, cache_dir)


def test_a_second_run_on_this_host_goes_on_once_the_first_is_done(
        emulator, ready_image, make_uploader, random_file, client, cache_dir):
    local = random_file(1000)
    lock = UploadJournal(client.api_url, ready_image.id, cache_dir)
    lock.acquire()
    states = []

    def release_once_waiting(snapshot):
        # The first run (this test's lock) ends only once the second is waiting for it, on any machine.
        states.append(snapshot["state"])
        if snapshot["state"] == "waiting":
            lock.release()

    done, stats = upload(make_uploader(progress_callback=release_once_waiting), ready_image, local, wait_timeout=30)
    assert "waiting" in states and done.upload_status == "COMPLETE" and stats["adopted"] is False
    assert_complete(emulator, done, local)


def test_file_changed_during_upload(emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(MEDIUM_SIZE)
    image = make_image()
    # Every part waits at the emulator's gate until the file has been touched: parts are in flight when it changes.
    gate = emulator.hold(method="PUT", path="/_s3/", count=0)
    touched = threading.Event()

    def touch_while_parts_are_in_flight():
        emulator.wait_held(gate)
        st = os.stat(local.path)
        os.utime(local.path, ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))
        touched.set()
        emulator.release(gate)

    toucher = threading.Thread(target=touch_while_parts_are_in_flight, daemon=True)
    toucher.start()
    with air_raises(AirFileChangedError) as info:
        upload(make_uploader(workers=3), image, local)
    toucher.join(5)
    assert touched.is_set()
    assert emulator.state()["uploads"] == []
    error = info.value
    assert "changed while it was being uploaded" in error.message
    assert error.step == "upload"  # noticed before complete-upload was sent
    assert_aborted(emulator, image, cache_dir, error)
