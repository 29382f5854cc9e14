# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AirClient against the emulator: pagination, retries, errors, lost responses."""

from __future__ import annotations

import email.utils
import re
import socket
import time
import uuid

import pytest

from air_unit_helpers import DEMO_TOKEN, PASSWORD, READONLY_TOKEN, air_raises, api_image, assert_redacted, image_fields

from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirError,
    AirAuthError,
    AirConnectionError,
    AirNotFoundError,
    AirProtectedError,
    AirTimeoutError,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import Image, ImageShare
from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy, parse_retry_after

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def own_images(emulator, **params):
    params.setdefault("limit", 1000)
    return emulator.api("GET", "images", params=params).json()["results"]


# ----------------------------------------------------------------- pagination
def test_list_follows_next_across_pages(make_client):
    client = make_client(page_size=3)
    created = [client.images.create(image_fields("page-%d" % n, cpu_arch="ARM" if n % 2 else "x86",
                                                 includes_air_agent=n < 2)) for n in range(7)]
    listed = client.images.list()
    assert len(listed) == 7  # 3 + 3 + 1: only possible by following `next`
    assert sorted(i.id for i in listed) == sorted(i.id for i in created)
    assert all(isinstance(i, Image) for i in listed)

    # Filters are carried by the emulator's `next` URLs across pages.
    arm = client.images.list(cpu_arch="ARM")
    assert sorted(i.name for i in arm) == ["page-1", "page-3", "page-5"]
    x86 = client.images.list(cpu_arch="x86", ordering="-name")
    assert [i.name for i in x86] == ["page-6", "page-4", "page-2", "page-0"]  # 2 pages, order kept
    assert sorted(i.name for i in client.images.list(includes_air_agent=True)) == ["page-0", "page-1"]
    assert len(client.images.list(includes_air_agent=False)) == 5
    assert [i.name for i in client.images.list(name="page-4", version="1.0")] == ["page-4"]
    assert len(client.images.list(upload_status="READY", is_owned_by_client=True)) == 7
    assert client.images.list(upload_status="COMPLETE") == []
    assert client.images.list(name="page-4", version="2.0") == []

    found = client.images.find("page-4", "1.0")
    assert found.id == created[4].id and found.data == api_image_data(client, created[4].id)
    assert client.images.find("page-9", "1.0") is None


def api_image_data(client, image_id):
    return client.images.get(image_id).data


def test_filters_cannot_smuggle_other_orgs_images(make_client, client):
    partner = make_client("nvapi-partner-token")
    partner.images.create(image_fields("shared-name"))
    mine = client.images.create(image_fields("shared-name"))
    assert [i.id for i in client.images.list(name="shared-name")] == [mine.id]
    assert client.images.find("shared-name", "1.0").id == mine.id


# -------------------------------------------------------------- retry/backoff
def test_get_retries_429_and_503_then_succeeds(emulator, client):
    image = client.images.create(image_fields("retry-me"))
    emulator.add_fault(action="status", status=429, method="GET", path="/api/v3/images/$", count=2)
    assert [i.id for i in client.images.list()] == [image.id]
    assert client.retries == 2

    emulator.add_fault(action="status", status=503, retry_after=0.3, method="GET",
                       path="/api/v3/images/%s/$" % image.id, count=1)
    started = time.monotonic()
    assert client.images.get(image.id).id == image.id
    assert time.monotonic() - started >= 0.3  # Retry-After honoured, not the 0.02 s backoff
    assert client.retries == 3
    assert all(rule["fired"] == rule["count"] for rule in emulator.faults())


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_gives_up_after_the_last_attempt(emulator, make_client, status):
    client = make_client(retry=RetryPolicy(attempts=3, base=0.01))
    emulator.add_fault(action="status", status=status, method="GET", path="/api/v3/images/$", count=0,
                       detail="backend on fire")
    with air_raises(AirApiError) as info:
        client.images.list()
    error = info.value
    assert error.status == status and error.step == "lookup"
    assert "backend on fire" in str(error)
    assert client.retries == 2  # 3 attempts
    assert UUID_RE.match(error.request_id)


def test_post_create_503_is_reconciled_and_resent(emulator, client):
    emulator.add_fault(action="status", status=503, method="POST", path="/api/v3/images/$", count=1)
    image = client.images.create(image_fields("after-503"))
    assert image.name == "after-503" and image.upload_status == "READY"
    assert client.retries == 1
    assert [i["id"] for i in own_images(emulator, name="after-503")] == [image.id]


def test_post_create_429_is_resent(emulator, client):
    emulator.add_fault(action="status", status=429, retry_after=0.05, method="POST", path="/api/v3/images/$")
    image = client.images.create(image_fields("after-429"))
    assert client.retries == 1
    assert [i["id"] for i in own_images(emulator, name="after-429")] == [image.id]


def test_create_not_duplicated_when_the_response_is_lost(emulator, client):
    emulator.add_fault(action="drop", method="POST", path="/api/v3/images/$")
    image = client.images.create(image_fields("dropped", "2.0", cpu_arch="ARM"))
    assert isinstance(image, Image)
    assert (image.name, image.version, image.cpu_arch, image.upload_status) == ("dropped", "2.0", "ARM", "READY")
    assert [i["id"] for i in own_images(emulator, name="dropped")] == [image.id]
    assert emulator.state()["images"] == 1
    assert emulator.faults()[0]["fired"] == 1


def test_create_share_not_duplicated_when_the_response_is_lost(emulator, client, make_uploader, random_file):
    image = client.images.create(image_fields("to-share"))
    image, _stats = make_uploader().upload(image, random_file(4096).path, poll_interval=0.05)
    assert image.upload_status == "COMPLETE"
    emulator.add_fault(action="drop", method="POST", path="/api/v3/images/shares/$")
    share = client.shares.create(image, "partner-org")
    assert isinstance(share, ImageShare)
    assert (share.image, share.target_org, share.state) == (image.id, "partner-org", "ACTIVE")
    shares = emulator.api("GET", "images/shares").json()["results"]
    assert [s["id"] for s in shares] == [share.id]
    assert client.shares.find_live(image.id, "partner-org").id == share.id


def test_connection_refused_is_a_connection_error():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    client = AirClient(api_url="http://127.0.0.1:%d" % port, api_token=DEMO_TOKEN,
                       retry=RetryPolicy(attempts=2, base=0.01))
    with air_raises(AirConnectionError, match="cannot reach") as info:
        client.images.list()
    assert info.value.step == "lookup"
    assert client.retries == 1
    client.close()


# --------------------------------------------------------------------- errors
def test_validation_400_is_not_retried_and_carries_details(client):
    with air_raises(AirApiError) as info:
        client.images.create(image_fields("bad", cpu_arch="sparc"))
    error = info.value
    assert type(error) is AirApiError  # pylint: disable=unidiomatic-typecheck  # not a subclass
    assert error.step == "create" and error.status == 400
    assert error.field_errors == {"cpu_arch": ['"sparc" is not a valid choice.']}
    assert UUID_RE.match(error.request_id)
    assert client.retries == 0
    text = str(error)
    assert text.startswith("create failed for image 'bad' version '1.0'")
    assert "(HTTP 400)" in text and "cpu_arch" in text and error.request_id in text
    failure = error.to_failure()
    assert failure["type"] == "AirApiError" and failure["status"] == 400 and failure["step"] == "create"
    assert failure["field_errors"] == error.field_errors and failure["request_id"] == error.request_id


def test_duplicate_name_is_a_non_field_error(client):
    client.images.create(image_fields("twice"))
    with air_raises(AirApiError) as info:
        client.images.create(image_fields("twice"))
    assert info.value.status == 400
    assert "non_field_errors" in info.value.field_errors
    assert "already exists" in info.value.detail


def test_unknown_field_error_does_not_echo_the_password(client):
    with air_raises(AirApiError) as info:
        client.images.create(image_fields("typo", defualt_password=PASSWORD))
    assert "defualt_password" in info.value.field_errors


def test_bad_token_is_an_auth_error(make_client):
    bad = "nvapi-wrong-token-0123456789"
    client = make_client(bad)
    with air_raises(AirAuthError, extra_secrets=(bad,)) as info:
        client.images.list()
    error = info.value
    assert error.status == 401 and error.step == "lookup"
    assert "api_token" in error.hint and "AIR_API_TOKEN" in error.hint
    assert client.retries == 0


def test_read_only_token_is_an_auth_error_on_write(make_client, emulator):
    client = make_client(READONLY_TOKEN)
    assert client.images.list() == []  # reading is allowed
    with air_raises(AirAuthError) as info:
        client.images.create(image_fields("nope"))
    error = info.value
    assert error.status == 403 and error.step == "create"
    assert "image_write" in error.message
    assert "not allowed" in error.hint
    assert emulator.state()["images"] == 0


def test_missing_image_is_not_found(client):
    missing = str(uuid.uuid4())
    with air_raises(AirNotFoundError) as info:
        client.images.get(missing)
    assert info.value.status == 404 and info.value.image_id == missing
    assert client.images.delete(Image({"id": missing})) is False


def test_delete_of_an_image_in_use_is_a_protected_error_naming_the_holders(client, emulator):
    image = client.images.create(image_fields("held"))
    emulator.mark_in_use(image.id, {"type": "node", "name": "leaf01"})
    with air_raises(AirProtectedError) as info:
        client.images.delete(image)
    error = info.value
    assert (error.status, error.step, error.image_id) == (400, "delete", image.id)
    assert [(i["type"], i["name"]) for i in error.protected_instances] == [("node", "leaf01")]
    assert error.to_failure()["protected_instances"] == error.protected_instances
    assert "in use by 1 object (node leaf01)" in str(error)
    assert client.retries == 0  # a refusal, not a lost answer
    assert api_image(emulator, image.id)["id"] == image.id
    emulator.clear_in_use(image.id)
    assert client.images.delete(image) is True


def test_a_validation_400_is_not_a_protected_error(client):
    with air_raises(AirApiError) as info:
        client.images.create({"name": "only-a-name"})
    assert not isinstance(info.value, AirProtectedError)


def test_wait_for_image_times_out_with_last_status(client):
    image = client.images.create(image_fields("waiting"))
    with air_raises(AirTimeoutError) as info:
        client.images.wait_for(image, lambda i: i.upload_status == "COMPLETE", timeout=0.2, poll_interval=0.05)
    assert info.value.last_status == "READY"
    assert info.value.to_failure()["last_status"] == "READY"


def test_image_results_mask_the_password(client, emulator):
    image = client.images.create(image_fields("masked"))
    assert image.default_password == PASSWORD  # the API returns it in clear text
    assert_redacted(repr(image))
    assert image.to_result()["default_password"] == "********"
    assert api_image(emulator, image.id)["default_password"] == PASSWORD


# --------------------------------------------------------------- retry policy
def test_retry_delay_honours_retry_after_and_caps():
    policy = RetryPolicy(attempts=5, base=1.0, cap=8.0, max_retry_after=60.0, rand=lambda: 0.5)
    assert policy.delay(1, retry_after=7) == 7
    assert policy.delay(1, retry_after=0) == 0
    assert policy.delay(3, retry_after=3600) == 60.0  # a silly Retry-After is capped
    # equal jitter: between half and all of min(cap, base * 2**(n-1))
    assert policy.delay(1) == 0.75
    assert policy.delay(2) == 1.5
    assert policy.delay(4) == 6.0
    assert policy.delay(10) == 6.0  # capped at 8 -> 4 + 0.5 * 4
    low = RetryPolicy(base=1.0, cap=8.0, rand=lambda: 0.0)
    high = RetryPolicy(base=1.0, cap=8.0, rand=lambda: 1.0)
    for n in range(1, 8):
        ceiling = min(8.0, 2 ** (n - 1))
        assert low.delay(n) == ceiling / 2 and high.delay(n) == ceiling
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


class _Flaky(AirError):
    pass


def test_retry_run_retries_transient_failures_with_backoff_and_retry_after():
    slept, told = [], []
    policy = RetryPolicy(attempts=4, base=1.0, sleep=slept.append, rand=lambda: 1.0)
    answers = [_Flaky("busy", retry_after=0), _Flaky("busy"), "done"]

    def attempt(number, last_error):
        told.append((number, type(last_error).__name__))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert policy.run(attempt, lambda e: isinstance(e, _Flaky)) == "done"
    assert told == [(1, "NoneType"), (2, "_Flaky"), (3, "_Flaky")]  # each attempt sees the failure before it
    assert slept == [2.0]  # Retry-After: 0 does not sleep; then the backoff of retry 2


def test_retry_run_gives_up_after_the_attempts_and_says_how_many():
    policy = RetryPolicy(attempts=3, base=0.0, sleep=lambda s: None)
    calls = []

    def attempt(number, _last):
        calls.append(number)
        raise _Flaky("still busy")

    with pytest.raises(_Flaky) as info:
        policy.run(attempt, lambda e: True)
    assert calls == [1, 2, 3] and info.value.attempts == 3
    assert "(after 3 attempts)" in str(info.value)


def test_retry_run_does_not_retry_what_is_not_transient_and_lets_wait_cancel():
    policy = RetryPolicy(attempts=5, base=0.0, sleep=lambda s: None)
    calls = []

    def refused(number, _last):
        calls.append(number)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        policy.run(refused, lambda e: isinstance(e, _Flaky))
    assert calls == [1]

    def cancel(_seconds):
        raise KeyboardInterrupt

    def always_busy(_number, _last):
        raise _Flaky("x")

    with pytest.raises(KeyboardInterrupt):
        policy.run(always_busy, lambda e: True, wait=cancel)


def test_parse_retry_after_seconds_and_dates():
    assert parse_retry_after(None) is None
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(12) == 12.0
    assert parse_retry_after("soon") is None
    now = 1_700_000_000.0
    in_30s = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(in_30s, now=now) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == pytest.approx(60.0)
    live = parse_retry_after(email.utils.formatdate(time.time() + 100, usegmt=True))
    assert 95 <= live <= 100


def test_a_wait_polls_quickly_first_then_backs_off_with_bounded_reads(client):
    # A clock that only the wait's own sleeps move: the schedule is counted, not timed.
    now = [0.0]
    reads = []
    image = client.images.create(image_fields("poll-schedule"))

    def sleep(seconds):
        now[0] += seconds

    def seen(_image):
        reads.append(now[0])

    with air_raises(AirTimeoutError):
        client.images.wait_for(image, lambda i: i.upload_status == "COMPLETE", timeout=150, poll_interval=5,
                               clock=lambda: now[0], sleep=sleep, on_poll=seen)
    gaps = [later - earlier for earlier, later in zip([0.0] + reads, reads)]
    # Within half a second of any change in the first 30 s ...
    assert max(gap for at, gap in zip(reads, gaps) if at <= 30) <= 0.5
    assert all(gap == pytest.approx(0.25) for at, gap in zip(reads, gaps) if at <= 2)
    # ... then poll_interval, never more often: at most 64 reads in the first 30 s and 12 a minute after.
    assert len([at for at in reads if at <= 30]) <= 64
    assert len([at for at in reads if 90 < at <= 150]) <= 12
    assert all(gap == pytest.approx(5) for at, gap in zip(reads, gaps) if 35 < at < 150)


def test_a_wait_never_polls_less_often_than_its_poll_interval(client):
    now = [0.0]
    reads = []
    image = client.images.create(image_fields("poll-short"))

    def sleep(seconds):
        now[0] += seconds

    with air_raises(AirTimeoutError):
        client.images.wait_for(image, lambda i: i.upload_status == "COMPLETE", timeout=5, poll_interval=0.1,
                               clock=lambda: now[0], sleep=sleep, on_poll=lambda _i: reads.append(now[0]))
    gaps = [later - earlier for earlier, later in zip([0.0] + reads, reads)]
    assert max(gaps) == pytest.approx(0.1)
