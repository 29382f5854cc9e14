# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""air_image_info: sort and latest apply to what the API returned, limit after them (stub client)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

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
