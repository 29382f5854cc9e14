"""The WAN model of the local data plane (``--storage-connection-rate``, ``--storage-link-rate``,
``--storage-latency``).

Every timing assertion is a lower bound the model guarantees (a shaped
transfer can never be faster than its rate allows) or a comparison of two
transfers measured side by side, so a busy machine cannot make them fail;
the model's accuracy is a benchmark figure (README, "WAN model").
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import subprocess
import sys
import threading
import time

import pytest

from air_emulator.testing import Emulator
from air_emulator.wan import BURST_BYTES, TokenBucket
from airemu_helpers import (
    EMULATOR_ARGS, MIB, assert_s3_error, complete_upload, create_image, md5, payload, put_part, start_upload,
)

AIR_EMULATOR = os.path.join(os.path.dirname(sys.executable), "air-emulator")
PART = 5 * MIB
RATE = 10  # MB/s
LATENCY_MS = 150
_names = itertools.count()


def part_upload(emu, parts: int = 2):
    """An image with an upload of ``parts`` parts of 5 MiB: (image id, data, [(number, url, bytes)])."""
    image = create_image(emu, name=f"wan-{next(_names)}")
    data = payload(parts * PART, seed=parts)
    plan = start_upload(emu, image["id"], data)
    ranges = [(p["part_number"], p["url"], data[(p["part_number"] - 1) * PART: p["part_number"] * PART])
              for p in plan["part_urls"]]
    return image["id"], data, ranges


def timed_put(url: str, blob: bytes) -> float:
    started = time.perf_counter()
    response = put_part(url, blob)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{md5(blob)}"'
    return time.perf_counter() - started


def timed_parallel(ranges) -> float:
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(ranges)) as pool:
        list(pool.map(lambda item: timed_put(item[1], item[2]), ranges))
    return time.perf_counter() - started


def seconds_at(rate_mb_per_s: float, size: int) -> float:
    return size / (rate_mb_per_s * 1e6)


@pytest.fixture(scope="module")
def per_connection():
    with Emulator(*EMULATOR_ARGS, "--storage-connection-rate", str(RATE), "--storage-latency",
                  str(LATENCY_MS)) as emu:
        yield emu


@pytest.fixture(scope="module")
def link_only():
    with Emulator(*EMULATOR_ARGS, "--storage-link-rate", str(RATE)) as emu:
        yield emu


# ------------------------------------------------------------------- settings
@pytest.mark.parametrize("args, mentions", [
    (("--storage-connection-rate", "0"), ["--storage-connection-rate", "positive"]),
    (("--storage-link-rate", "-5"), ["--storage-link-rate", "positive"]),
    (("--storage-link-rate", "nan"), ["--storage-link-rate"]),
    (("--storage-latency", "-1"), ["--storage-latency"]),
    (("--storage-latency", "inf"), ["--storage-latency"]),
    (("--storage-latency", "30", "--s3-endpoint", "http://127.0.0.1:9"), ["--s3-endpoint", "local data plane"]),
])
def test_bad_wan_settings_exit_2_with_a_clear_error(tmp_path, args, mentions):
    result = subprocess.run([AIR_EMULATOR, "--port", "0", "--data-dir", str(tmp_path / "data"), *args],
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2, result
    assert result.stderr.startswith("air-emulator: error: ") and result.stderr.count("\n") == 1, result.stderr
    for word in mentions:
        assert word in result.stderr


def test_the_model_is_off_by_default_and_shown_in_the_state(emulator, per_connection):
    assert emulator.state()["settings"]["wan"] == {
        "connection_rate_mb_per_s": None, "link_rate_mb_per_s": None, "latency_ms": 0.0}
    assert per_connection.state()["settings"]["wan"] == {
        "connection_rate_mb_per_s": float(RATE), "link_rate_mb_per_s": None, "latency_ms": float(LATENCY_MS)}


# ------------------------------------------------------------------- shaping
def test_one_connection_carries_at_most_its_rate_and_pays_the_latency(per_connection):
    image_id, _data, ranges = part_upload(per_connection, parts=1)
    number, url, blob = ranges[0]
    seconds = timed_put(url, blob)
    # 5 MiB at 10 MB/s is 0.52 s, plus the request's and the answer's latency.
    assert seconds >= seconds_at(RATE, len(blob)) + 2 * LATENCY_MS / 1000.0 - 0.01, seconds
    response = complete_upload(per_connection, image_id, {number: md5(blob)})
    assert response.status_code == 200, response.text  # shaped bytes are stored bytes


def test_connections_have_their_own_rate_so_parallel_parts_are_faster(per_connection):
    _image_id, _data, ranges = part_upload(per_connection, parts=2)
    sequential = sum(timed_put(url, blob) for _n, url, blob in ranges)
    _image_id, _data, ranges = part_upload(per_connection, parts=2)
    parallel = timed_parallel(ranges)
    assert parallel >= seconds_at(RATE, PART), parallel
    assert parallel < 0.75 * sequential, (parallel, sequential)


def test_the_link_rate_is_shared_by_every_connection(link_only):
    _image_id, _data, ranges = part_upload(link_only, parts=2)
    parallel = timed_parallel(ranges)
    # Two parts in parallel still take what both together take at the link's rate
    # (less the one block an idle link may bank).
    assert parallel >= seconds_at(RATE, 2 * PART - BURST_BYTES) - 0.01, parallel


def test_errors_pay_the_latency_and_refused_bodies_the_rate(per_connection):
    _image_id, _data, ranges = part_upload(per_connection, parts=1)
    _number, url, blob = ranges[0]
    started = time.perf_counter()
    response = put_part(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), blob)
    seconds = time.perf_counter() - started
    assert_s3_error(response, 403, "SignatureDoesNotMatch")
    # S3 reads the body before it answers; so does the model, at the connection's rate.
    assert seconds >= seconds_at(RATE, len(blob)) + 2 * LATENCY_MS / 1000.0 - 0.01, seconds


# --------------------------------------------------------------- the bucket itself
class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_token_bucket_starts_empty_queues_callers_and_banks_at_most_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(1000.0, burst=500.0, clock=clock)
    assert bucket.reserve(1000) == pytest.approx(1.0)  # empty at first: 1000 bytes wait 1 s
    assert bucket.reserve(500) == pytest.approx(1.5)  # the next caller queues behind the first
    clock.now += 10.0  # idle: refills, but banks only the burst
    assert bucket.reserve(500) == 0.0
    assert bucket.reserve(250) == pytest.approx(0.25)
    clock.now += 10.0
    bucket.empty()  # a new transfer: nothing banked
    assert bucket.reserve(100) == pytest.approx(0.1)


def test_token_bucket_rejects_a_rate_of_zero():
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_token_bucket_is_thread_safe():
    bucket = TokenBucket(1e6, burst=0.0, clock=FakeClock())  # time stands still: only the lock matters
    waits = []
    lock = threading.Lock()

    def take():
        for _run in range(200):
            wait = bucket.reserve(100)
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=take) for _run in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 800 reservations of 100 bytes at 1 MB/s: the last one waits for all 80,000 bytes (none was lost).
    assert max(waits) == pytest.approx(0.08)
    assert len(set(waits)) == 800
