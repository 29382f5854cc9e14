"""The /_emulator/faults/ admin API and each fault action, on API paths and part PUTs."""

from __future__ import annotations

import concurrent.futures
import time

import pytest
import requests

from airemu_helpers import (
    assert_error, assert_s3_error, complete_upload, create_image, image_body, list_all, md5, part_ranges,
    put_part, sha256, start_upload,
)

IMAGES = "^/api/v3/images/$"
PARTS = "^/_s3/"


def faults_url(emu, suffix=""):
    return f"{emu.url}/_emulator/faults/{suffix}"


def begin_part(emu, files):
    """A started single-part upload: (image id, url, data)."""
    image = create_image(emu)
    with open(files.small, "rb") as f:
        data = f.read()
    plan = start_upload(emu, image["id"], data)
    return image["id"], plan["part_urls"][0]["url"], data


def parts_received(emu):
    return emu.state()["uploads"][0]["parts_received"]


# ------------------------------------------------------------------- admin API
def test_add_list_delete_and_clear_rules(emulator):
    assert emulator.faults() == []
    first = emulator.add_fault(action="status", status=502, path=IMAGES, method="get")
    assert first["id"] >= 1 and first["method"] == "GET" and first["status"] == 502
    assert (first["nth"], first["count"], first["seen"], first["fired"]) == (1, 1, 0, 0)
    second = emulator.add_fault(action="delay", delay=0.01)
    assert second["id"] != first["id"] and second["method"] == "*" and second["path"] == ".*"
    assert [r["id"] for r in emulator.faults()] == [first["id"], second["id"]]
    assert requests.delete(faults_url(emulator, f"{first['id']}/"), timeout=10).status_code == 204
    assert [r["id"] for r in emulator.faults()] == [second["id"]]
    missing = requests.delete(faults_url(emulator, f"{first['id']}/"), timeout=10)
    assert missing.status_code == 404 and missing.json()["detail"]
    emulator.add_fault(action="drop", path="nowhere")
    emulator.clear_faults()
    assert emulator.faults() == []


def test_reset_clears_the_rules(emulator):
    emulator.add_fault(action="status", path=IMAGES)
    emulator.reset()
    assert emulator.faults() == []
    assert emulator.api("GET", "images").status_code == 200


INVALID_RULES = [
    ({}, "action"), ({"action": "explode"}, "action"), ({"action": None}, "action"),
    ({"action": "status", "status": 700}, "status"), ({"action": "status", "status": 99}, "status"),
    ({"action": "status", "status": "503"}, "status"), ({"action": "status", "status": 503.5}, "status"),
    ({"action": "status", "nth": 0}, "nth"), ({"action": "status", "nth": True}, "nth"),
    ({"action": "status", "count": -1}, "count"), ({"action": "status", "path": "("}, "path"),
    ({"action": "status", "path": 5}, "path"),
    ({"action": "status", "part_numbers": [0]}, "part_numbers"),
    ({"action": "status", "part_numbers": "1"}, "part_numbers"),
    ({"action": "delay", "delay": -1}, "delay"), ({"action": "delay", "delay": "slow"}, "delay"),
    ({"action": "status", "retry_after": -1}, "retry_after"),
    ({"action": "status", "colour": "red"}, "colour"), ({"action": "status", "id": 5}, "id"),
    ({"action": "status", "fired": 5}, "fired"),
    ({"action": "hold", "hold_timeout": -1}, "hold_timeout"), ({"action": "hold", "held": 1}, "held"),
    ({"action": "hold", "released": True}, "released"),
]


@pytest.mark.parametrize("rule, field", INVALID_RULES, ids=[f"{f}:{r}"[:50] for r, f in INVALID_RULES])
def test_invalid_rule_is_400_naming_the_field(emulator, rule, field):
    emulator.add_fault(action="delay", path="^/keep$")
    before = emulator.faults()
    assert_error(requests.post(faults_url(emulator), json=rule, timeout=10), 400, field)
    assert emulator.faults() == before


def test_rule_body_must_be_an_object(emulator):
    assert_error(requests.post(faults_url(emulator), json=[{"action": "status"}], timeout=10), 400)
    assert emulator.faults() == []


# ------------------------------------------------------------------ API faults
def test_status_with_retry_after_on_an_api_path(emulator):
    emulator.add_fault(action="status", status=503, retry_after=2, method="GET", path=IMAGES,
                       detail="Try again later.")
    response = emulator.api("GET", "images")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.json()["detail"] == "Try again later."
    assert emulator.api("GET", "images").status_code == 200  # count defaults to 1
    assert emulator.faults()[0]["fired"] == 1


def test_fractional_retry_after_and_429(emulator):
    emulator.add_fault(action="status", status=429, retry_after=1.5, path="^/api/v3/images/shares/$")
    response = emulator.api("GET", "images/shares")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "1.5")
    assert emulator.api("GET", "images").status_code == 200  # other paths are not affected


def test_status_fault_on_create_happens_before_the_request_takes_effect(emulator):
    emulator.add_fault(action="status", status=500, method="POST", path=IMAGES)
    assert emulator.api("POST", "images", json=image_body()).status_code == 500
    assert list_all(emulator) == []
    assert emulator.api("POST", "images", json=image_body()).status_code == 201


def test_method_filter(emulator):
    emulator.add_fault(action="status", status=502, method="POST", path=IMAGES, count=0)
    assert emulator.api("GET", "images").status_code == 200
    assert emulator.api("POST", "images", json=image_body()).status_code == 502
    assert emulator.faults()[0]["seen"] == 1


def test_nth_and_count(emulator):
    emulator.add_fault(action="status", status=502, method="GET", path=IMAGES, nth=2, count=2)
    codes = [emulator.api("GET", "images").status_code for _attempt in range(5)]
    assert codes == [200, 502, 502, 200, 200]
    rule = emulator.faults()[0]
    assert (rule["seen"], rule["fired"]) == (5, 2)


def test_count_zero_fires_forever(emulator):
    rule = emulator.add_fault(action="status", status=504, method="GET", path=IMAGES, count=0)
    assert [emulator.api("GET", "images").status_code for _attempt in range(4)] == [504] * 4
    requests.delete(faults_url(emulator, f"{rule['id']}/"), timeout=10)
    assert emulator.api("GET", "images").status_code == 200


def test_delay_on_an_api_path(emulator):
    emulator.add_fault(action="delay", delay=0.6, method="GET", path=IMAGES)
    started = time.monotonic()
    response = emulator.api("GET", "images")
    assert response.status_code == 200 and time.monotonic() - started >= 0.6
    started = time.monotonic()
    assert emulator.api("GET", "images").status_code == 200
    assert time.monotonic() - started < 0.5


def test_drop_on_create_loses_the_response_but_creates_the_image(emulator):
    emulator.add_fault(action="drop", method="POST", path=IMAGES)
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        emulator.api("POST", "images", json=image_body(name="lost-response")).json()
    images = list_all(emulator)
    assert [(i["name"], i["upload_status"]) for i in images] == [("lost-response", "READY")]
    retry = emulator.api("POST", "images", json=image_body(name="lost-response"))
    assert_error(retry, 400)  # the retry collides with the image the lost request created


def test_storage_only_actions_do_not_touch_api_paths(emulator):
    emulator.add_fault(action="omit_etag", count=0)
    emulator.add_fault(action="expire_url", count=0)
    assert emulator.api("GET", "images").status_code == 200
    assert emulator.api("POST", "images", json=image_body()).status_code == 201
    assert [r["seen"] for r in emulator.faults()] == [0, 0]


# -------------------------------------------------------------- part PUT faults
def test_status_with_retry_after_on_a_part_put(emulator, files):
    image = create_image(emulator)
    with open(files.two_parts, "rb") as f:
        data = f.read()
    plan = start_upload(emulator, image["id"], data)
    emulator.add_fault(action="status", status=503, retry_after=3, path=PARTS, part_numbers=[2])
    (_part1, url1, blob1), (_part2, url2, blob2) = part_ranges(data, plan)
    first = put_part(url1, blob1)
    assert first.status_code == 200
    failed = put_part(url2, blob2)
    assert_s3_error(failed, 503, "ServiceUnavailable")
    assert failed.headers["Retry-After"] == "3" and "ETag" not in failed.headers
    assert parts_received(emulator) == [1]
    second = put_part(url2, blob2)
    assert second.status_code == 200
    etags = {1: first.headers["ETag"].strip('"'), 2: second.headers["ETag"].strip('"')}
    assert complete_upload(emulator, image["id"], etags).status_code == 200


def test_drop_on_a_part_put(emulator, files):
    _image_id, url, data = begin_part(emulator, files)
    emulator.add_fault(action="drop", path=PARTS)
    with pytest.raises(requests.ConnectionError):
        put_part(url, data)
    assert parts_received(emulator) == []
    retry = put_part(url, data)
    assert retry.status_code == 200 and retry.headers["ETag"] == f'"{md5(data)}"'
    assert parts_received(emulator) == [1]


def test_delay_on_a_part_put(emulator, files):
    _image_id, url, data = begin_part(emulator, files)
    emulator.add_fault(action="delay", delay=0.5, path=PARTS)
    started = time.monotonic()
    assert put_part(url, data).status_code == 200
    assert time.monotonic() - started >= 0.5


def test_omit_etag_stores_the_part_without_an_etag_header(emulator, files):
    image_id, url, data = begin_part(emulator, files)
    emulator.add_fault(action="omit_etag", path=PARTS)
    response = put_part(url, data)
    assert response.status_code == 200 and "ETag" not in response.headers
    assert parts_received(emulator) == [1]
    assert complete_upload(emulator, image_id, {1: md5(data)}).status_code == 200
    assert emulator.wait_for(image_id, "COMPLETE")["hash"] == sha256(data)


def test_expire_url(emulator, files):
    _image_id, url, data = begin_part(emulator, files)
    emulator.add_fault(action="expire_url", path=PARTS)
    assert_s3_error(put_part(url, data), 403, "AccessDenied", "Request has expired")
    assert parts_received(emulator) == []
    assert put_part(url, data).status_code == 200


def test_part_numbers_and_nth_on_part_puts(emulator, files):
    _image_id, url, data = begin_part(emulator, files)
    emulator.add_fault(action="status", status=500, path=PARTS, part_numbers=[2], count=0)
    assert put_part(url, data).status_code == 200  # part 1 is not targeted
    emulator.clear_faults()
    emulator.add_fault(action="status", status=502, path=PARTS, nth=2)
    assert [put_part(url, data).status_code for _attempt in range(3)] == [200, 502, 200]


# ---------------------------------------------------------------------- gates
def test_a_hold_rule_keeps_an_api_request_until_released(emulator):
    gate = emulator.hold(method="POST", path=IMAGES)
    assert (gate["held"], gate["waiting"], gate["released"]) == (0, 0, False)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        creating = pool.submit(create_image, emulator)
        at_gate = emulator.wait_held(gate)
        assert (at_gate["held"], at_gate["waiting"]) == (1, 1)
        # Held before it took effect, and the emulator still answers everything else.
        assert list_all(emulator, "images") == []
        assert not creating.done()
        released = emulator.release(gate)
        assert released["released"] is True
        image = creating.result(timeout=30)
    assert [i["id"] for i in list_all(emulator, "images")] == [image["id"]]
    after = next(r for r in emulator.faults() if r["id"] == gate["id"])
    assert (after["held"], after["waiting"], after["fired"]) == (1, 0, 1)
    create_image(emulator, version="5.16.1")  # an open gate lets later requests pass
    assert next(r for r in emulator.faults() if r["id"] == gate["id"])["held"] == 1


def test_a_hold_rule_keeps_a_part_put_until_released(emulator, files):
    _image_id, url, data = begin_part(emulator, files)
    gate = emulator.hold(method="PUT", path=PARTS, part_numbers=[1])
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        putting = pool.submit(put_part, url, data)
        emulator.wait_held(gate)
        assert parts_received(emulator) == [] and not putting.done()
        emulator.release(gate)
        assert putting.result(timeout=30).status_code == 200
    assert parts_received(emulator) == [1]


@pytest.mark.parametrize("way", ["delete the rule", "clear the rules", "reset"])
def test_removing_a_hold_rule_lets_its_requests_go_on(emulator, way):
    gate = emulator.hold(method="POST", path=IMAGES)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        creating = pool.submit(emulator.api, "POST", "images", json=image_body())
        emulator.wait_held(gate)
        if way == "delete the rule":
            assert requests.delete(faults_url(emulator, f"{gate['id']}/"), timeout=10).status_code == 204
        elif way == "clear the rules":
            emulator.clear_faults()
        else:
            emulator.reset()
        assert creating.result(timeout=30).status_code == 201


def test_a_held_request_goes_on_after_hold_timeout(emulator):
    gate = emulator.hold(method="GET", path=IMAGES, hold_timeout=0.2)
    assert emulator.api("GET", "images").status_code == 200
    assert next(r for r in emulator.faults() if r["id"] == gate["id"])["held"] == 1


def test_wait_held_counts_several_requests_and_times_out_clearly(emulator):
    gate = emulator.hold(method="GET", path=IMAGES, count=2)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        listing = [pool.submit(emulator.api, "GET", "images") for _request in range(2)]
        assert emulator.wait_held(gate, held=2)["waiting"] == 2
        answer = requests.get(faults_url(emulator, f"{gate['id']}/wait/"), params={"held": 3, "timeout": 0.2},
                              timeout=10)
        assert answer.status_code == 408 and "2 of 3 requests" in answer.json()["detail"]
        emulator.release(gate)
        assert [f.result(timeout=30).status_code for f in listing] == [200, 200]


def test_gate_calls_for_an_unknown_rule_or_bad_arguments(emulator):
    assert requests.post(faults_url(emulator, "999/release/"), timeout=10).status_code == 404
    assert requests.get(faults_url(emulator, "999/wait/"), params={"timeout": 0}, timeout=10).status_code == 404
    gate = emulator.hold(path=IMAGES)
    assert_error(requests.get(faults_url(emulator, f"{gate['id']}/wait/"), params={"held": 0}, timeout=10), 400, "held")
    assert_error(requests.get(faults_url(emulator, f"{gate['id']}/wait/"), params={"timeout": 601}, timeout=10),
                 400, "timeout")
