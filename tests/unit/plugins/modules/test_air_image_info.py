# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""air_image_info: sort and latest apply to what the API returned, limit after them (stub client)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirAuthError
from ansible_collections.nvidia.air.plugins.module_utils._models import PublishAccessRecord
from ansible_collections.nvidia.air.plugins.modules.air_image_info import AirImageInfoModule
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import StubClient, image, run_module


def img(name, version, created, number, **fields):
    return image(id="00000000-0000-4000-8000-%012d" % number, name=name, version=version,
                 created="2026-11-%02dT10:00:00Z" % created, **fields)


# Listed by the API in creation order.
LISTED = [img("cumulus-vx", "5.16.0", 1, 1), img("cumulus-vx", "5.100.0", 2, 2), img("sonic-vs", "202505", 3, 3),
          img("cumulus-vx", "5.17.0-rc1", 4, 4, upload_status="COMPLETE"), img("sonic-vs", "202311", 5, 5)]


def listed(capsys, **args):
    result = run_module(AirImageInfoModule, args, capsys, client=StubClient(LISTED))
    assert not result.get("failed"), result
    return [(i["name"], i["version"]) for i in result["images"]]


def test_without_sort_or_latest_the_api_order_and_limit_stay(capsys):
    assert listed(capsys) == [(i.name, i.version) for i in LISTED]
    assert listed(capsys, limit=2) == [("cumulus-vx", "5.16.0"), ("cumulus-vx", "5.100.0")]


def test_latest_keeps_the_newest_version_of_each_name_in_the_api_order(capsys):
    assert listed(capsys, latest=True) == [("cumulus-vx", "5.100.0"), ("sonic-vs", "202505")]


def test_latest_applies_after_the_api_filters(capsys):
    assert listed(capsys, latest=True, upload_status="COMPLETE") == [("cumulus-vx", "5.17.0-rc1")]


@pytest.mark.parametrize("sort, expected", [
    ("-version", [("sonic-vs", "202505"), ("sonic-vs", "202311"), ("cumulus-vx", "5.100.0"),
                  ("cumulus-vx", "5.17.0-rc1"), ("cumulus-vx", "5.16.0")]),
    ("name", [("cumulus-vx", "5.16.0"), ("cumulus-vx", "5.17.0-rc1"), ("cumulus-vx", "5.100.0"),
              ("sonic-vs", "202311"), ("sonic-vs", "202505")]),
    ("-created", [("sonic-vs", "202311"), ("cumulus-vx", "5.17.0-rc1"), ("sonic-vs", "202505"),
                  ("cumulus-vx", "5.100.0"), ("cumulus-vx", "5.16.0")]),
])
def test_sort(capsys, sort, expected):
    assert listed(capsys, sort=sort) == expected


def test_limit_applies_after_sort_and_latest(capsys):
    assert listed(capsys, sort="-version", limit=2) == [("sonic-vs", "202505"), ("sonic-vs", "202311")]
    assert listed(capsys, latest=True, sort="name", limit=1) == [("cumulus-vx", "5.100.0")]


def test_an_unknown_sort_key_and_sort_with_ordering_are_refused(capsys):
    result = run_module(AirImageInfoModule, {"sort": "size"}, capsys, client=StubClient(LISTED))
    assert result["failed"] and "value of sort must be one of: version, -version, created" in result["msg"]
    result = run_module(AirImageInfoModule, {"sort": "name", "ordering": "name"}, capsys, client=StubClient(LISTED))
    assert result["failed"] and "mutually exclusive: ordering|sort" in result["msg"]


@pytest.mark.parametrize("other", [{"name": "cumulus-vx"}, {"version": "5.16.0"}, {"search": "cumulus"},
                                   {"latest": True}])
def test_id_with_another_image_filter_is_refused_not_ignored(capsys, other):
    args = dict({"id": "00000000-0000-4000-8000-000000000001"}, **other)
    result = run_module(AirImageInfoModule, args, capsys, client=StubClient(LISTED))
    assert result["failed"] and "mutually exclusive: id|%s" % list(other)[0] in result["msg"]


class _Refusing:
    """A part of the client whose reads answer 403, as the Air API does for a scope the token lacks."""

    def __getattr__(self, name):
        def refuse(*_args, **_kwargs):
            raise AirAuthError("You do not have permission to perform this action.", status=403, step="list")
        return refuse


class _Records:
    def records(self, **filters):
        return [PublishAccessRecord({"id": "9e2a4c1d-5b6f-4a7e-8c9d-0e1f2a3b4c5d", "status": "PENDING"})]


def test_images_a_reviewers_token_may_not_read_are_empty_when_only_another_part_is_asked_for(capsys):
    client = StubClient(LISTED)
    client.images, client.publishing = _Refusing(), _Records()
    result = run_module(AirImageInfoModule, {"publish_requests": True}, capsys, client=client)
    assert not result.get("failed"), result
    assert result["images"] == [] and [r["status"] for r in result["publish_requests"]] == ["PENDING"]


@pytest.mark.parametrize("args, refused", [
    ({"publish_requests": True}, "publishing"),  # asked for, not readable: a read-only token
    ({"publish_requests": True, "name": "cumulus-vx"}, "images"),  # images filtered: they were asked for too
    ({}, "images"),
])
def test_a_part_asked_for_that_cannot_be_read_fails(capsys, args, refused):
    client = StubClient(LISTED)
    client.publishing = _Records()
    setattr(client, refused, _Refusing())
    result = run_module(AirImageInfoModule, args, capsys, client=client)
    assert result["failed"] and "permission" in result["msg"]


@pytest.mark.parametrize("args, message", [
    ({"share_state": "ACTIVE"}, "share_state filter(s) the records of shares: set shares: true"),
    ({"publish_request_status": "PENDING", "publish_request_org": "demo-org"},
     "publish_request_status, publish_request_org filter(s) the records of publish_requests: set publish_requests: true"),
])
def test_a_filter_of_a_part_not_asked_for_is_refused(capsys, args, message):
    result = run_module(AirImageInfoModule, args, capsys, client=StubClient(LISTED))
    assert result["failed"] and message in result["msg"]


# ------------------------------------------------------------------ history and share filters
class _Recorder:
    """``shares.list`` / ``images.history`` that record what the module asked the API for."""

    def __init__(self, calls, answer):
        self.calls, self.answer = calls, answer

    def list(self, **filters):
        self.calls.append(("shares", filters))
        return []

    def history(self, image_id, max_items=None, **filters):
        self.calls.append(("history", image_id, max_items, filters))
        return self.answer


ENTRY = {"created": "2026-11-28T10:00:02.000000Z", "actor": "system", "severity": "ERROR", "labels": ["validation"],
         "description": "Validation failed: size 1 != declared 2", "object_id": LISTED[0].id, "model": "image",
         "extra": "not in the result"}


def run_recorded(capsys, args, images=None):
    from ansible_collections.nvidia.air.plugins.module_utils._models import HistoryEntry

    client, calls = StubClient(LISTED if images is None else images), []
    recorder = _Recorder(calls, [HistoryEntry(ENTRY)])
    client.shares = recorder
    client.images.history = recorder.history
    return run_module(AirImageInfoModule, args, capsys, client=client), calls


def test_every_share_option_is_the_apis_filter(capsys):
    args = {"shares": True, "share_image": LISTED[0].id, "share_state": "CLAIMED", "share_target_org": "partner-org",
            "share_target_org_display_name": "Partner Org", "share_source_org_display_name": "Demo Org",
            "share_claimed_by": "ci@partner.example.com", "share_image_name": "cumulus-vx",
            "share_image_version": "5.16.0", "share_search": "cumulus", "share_ordering": "-image_name,created"}
    result, calls = run_recorded(capsys, args)
    assert not result.get("failed"), result
    assert calls == [("shares", {
        "image": LISTED[0].id, "state": "CLAIMED", "target_org": "partner-org", "target_org_display_name": "Partner Org",
        "source_org_display_name": "Demo Org", "claimed_by": "ci@partner.example.com", "image_name": "cumulus-vx",
        "image_version": "5.16.0", "search": "cumulus", "ordering": "-image_name,created"})]
    assert result["shares"] == []
    # "" is a filter of its own for claimed_by: the shares nobody claimed
    result, calls = run_recorded(capsys, {"shares": True, "share_claimed_by": ""})
    assert calls == [("shares", {"claimed_by": ""})]


def test_history_of_own_images_only_with_the_apis_filters(capsys):
    theirs = img("catalog", "1.0", 6, 6, is_owned_by_client=False, published=True)
    args = {"history": True, "history_severity": "ERROR", "history_actor": "CI@example.com",
            "history_label": "validation", "history_search": "declared", "history_ordering": "-created",
            "history_limit": 1}
    result, calls = run_recorded(capsys, args, images=LISTED[:2] + [theirs])
    assert not result.get("failed"), result
    filters = {"severity": "ERROR", "actor": "CI@example.com", "label": "validation", "search": "declared",
               "ordering": "-created"}
    assert calls == [("history", LISTED[0].id, 1, filters), ("history", LISTED[1].id, 1, filters)]
    expected = dict((k, v) for k, v in ENTRY.items() if k != "extra")
    assert [i["history"] for i in result["images"]] == [[expected], [expected], None]
    assert list(result["images"][0]["history"][0]) == ["created", "actor", "severity", "labels", "description",
                                                       "object_id", "model"]


def test_without_history_no_history_is_read(capsys):
    result, calls = run_recorded(capsys, {})
    assert calls == [] and "history" not in result["images"][0]


@pytest.mark.parametrize("args, message", [
    ({"history_label": "publishing"}, "history_label filter(s) the records of history: set history: true"),
    ({"history_limit": 5}, "history_limit filter(s) the records of history: set history: true"),
    ({"share_claimed_by": "a@b.c"}, "share_claimed_by filter(s) the records of shares: set shares: true"),
    ({"history": True, "history_limit": 0}, "history_limit must be at least 1"),
    ({"history": True, "history_label": "  "}, "history_label is empty; give a value or leave the option out"),
    ({"history": True, "history_actor": ""}, "history_actor is empty"),
    ({"shares": True, "share_image_name": ""}, "share_image_name is empty"),
    ({"history": True, "history_severity": "WARNING"}, "value of history_severity must be one of: INFO, ERROR"),
    ({"history": True, "history_ordering": "description"}, "value of history_ordering must be one of: created"),
    ({"shares": True, "share_image": "../x"}, "share_image"),
])
def test_odd_history_and_share_options_are_refused_before_any_request(capsys, args, message):
    result, calls = run_recorded(capsys, args)
    assert result["failed"] and message in result["msg"], result
    assert calls == []


def test_an_image_deleted_after_the_listing_has_no_history(capsys):
    from ansible_collections.nvidia.air.plugins.module_utils._errors import AirNotFoundError

    client, asked = StubClient(LISTED[:2]), []

    def history(image_id, max_items=None, **filters):
        asked.append(image_id)
        if image_id == LISTED[0].id:
            raise AirNotFoundError("No Image matches the given query.", status=404, step="history")
        return []

    client.images.history = history
    result = run_module(AirImageInfoModule, {"history": True}, capsys, client=client)
    assert not result.get("failed"), result
    assert asked == [LISTED[0].id, LISTED[1].id]
    assert [i["history"] for i in result["images"]] == [None, []]
