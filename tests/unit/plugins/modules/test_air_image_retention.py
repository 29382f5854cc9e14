# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""air_image_retention: option checks, which images stay (plan), and check-mode predictions (stub client).

Real deletions, unpublications and the API's PROTECTED refusals run against the emulator in the
air_image_retention integration target.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import itertools

import pytest

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError
from ansible_collections.nvidia.air.plugins.modules.air_image_retention import AirImageRetentionModule, plan
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import (
    StubClient,
    image,
    make_module,
    run_module,
)

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone.utc)
_IDS = itertools.count(1)


def img(version, days_ago, name="cumulus-vx", **fields):
    created = (NOW - datetime.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return image(id="00000000-0000-4000-8000-%012d" % next(_IDS), name=name, version=version, created=created,
                 upload_status=fields.pop("upload_status", "COMPLETE"), **fields)


def versions(entries):
    return [entry.version if hasattr(entry, "version") else entry["version"] for entry in entries]


# ----------------------------------------------------------------------- plan
# Created out of version order: a created-date rule would keep 1.3.0, 1.10.0-rc1 and 1.9.0.
FAMILY = [img("1.10.0", 6), img("1.2.0", 5), img("1.11.0", 4), img("1.9.0", 3), img("1.10.0-rc1", 2),
          img("1.3.0", 1)]


def test_plan_keeps_the_newest_by_version_and_lists_the_rest_oldest_first():
    kept, candidates = plan(FAMILY, 3, now=NOW)
    assert versions(i for i, _reasons in kept) == ["1.11.0", "1.10.0", "1.10.0-rc1"]
    assert all(reasons == ["newest"] for _i, reasons in kept)
    assert versions(candidates) == ["1.2.0", "1.3.0", "1.9.0"]


def test_plan_keeps_recent_images_and_listed_versions_too():
    kept, candidates = plan(FAMILY, 1, keep_days=2.5, keep_versions=["1.2.0"], now=NOW)
    assert [(i.version, reasons) for i, reasons in kept] == [
        ("1.11.0", ["newest"]), ("1.10.0-rc1", ["keep_days"]), ("1.3.0", ["keep_days"]), ("1.2.0", ["keep_versions"])]
    assert versions(candidates) == ["1.9.0", "1.10.0"]


def test_plan_applies_to_each_name_separately():
    images = [img("2.0", 3, "a"), img("1.0", 2, "b"), img("1.0", 1, "a"), img("2.0", 1, "b"), img("3.0", 0, "b")]
    kept, candidates = plan(images, 1, now=NOW)
    assert [(i.name, i.version) for i, _r in kept] == [("a", "2.0"), ("b", "3.0")]
    assert [(i.name, i.version) for i in candidates] == [("a", "1.0"), ("b", "1.0"), ("b", "2.0")]


def test_plan_with_keep_zero_keeps_nothing_by_rank():
    kept, candidates = plan(FAMILY, 0, now=NOW)
    assert kept == [] and len(candidates) == 6


def test_plan_with_more_to_keep_than_there_are_keeps_all():
    kept, candidates = plan(FAMILY, 10, now=NOW)
    assert len(kept) == 6 and candidates == []


# ------------------------------------------------------------- check_options
@pytest.mark.parametrize("args, message", [
    ({"name": "n", "keep": -1}, "keep must be 0 or more (got -1)"),
    ({"name": "n", "keep": 0}, "keep: 0 may delete every version of 'n'; set allow_delete_all: true"),
    ({"search": "n", "keep": 0, "state": "unpublished"},
     "keep: 0 may unpublish every version of every name matching 'n'; set allow_delete_all: true"),
    ({"name": "n", "keep": 1, "keep_days": -0.5}, "keep_days must be a number of days from 0 to 36500 (got -0.5)"),
    ({"name": " ", "keep": 1}, "name must not be empty"),
    ({"search": "", "keep": 1}, "search must not be empty"),
])
def test_check_options_refuses(args, message):
    with pytest.raises(AirInputError) as raised:
        make_module(AirImageRetentionModule, args).check_options()
    assert message in str(raised.value)


def test_keep_zero_with_allow_delete_all_is_accepted():
    make_module(AirImageRetentionModule, {"name": "n", "keep": 0, "allow_delete_all": True}).check_options()


@pytest.mark.parametrize("args, message", [
    ({"keep": 1}, "one of the following is required: name, search"),
    ({"name": "n", "search": "n", "keep": 1}, "mutually exclusive: name|search"),
    ({"name": "n"}, "missing required arguments: keep"),
    ({"name": "n", "keep": 1, "state": "deleted"}, "value of state must be one of: absent, unpublished"),
])
def test_argument_spec_refuses(args, message, capsys):
    result = run_module(AirImageRetentionModule, args, capsys)
    assert result["failed"] and message in result["msg"]


# ------------------------------------------------------------------ check mode
def test_check_mode_predicts_deletions_unpublications_and_skips_without_writing(capsys):
    published = img("1.9.0", 3, published=True)
    uploading = img("1.1.0", 9, upload_status="UPLOADING")
    other_org = img("0.1.0", 9, is_owned_by_client=False)
    client = StubClient(FAMILY[:3] + [published] + FAMILY[4:] + [uploading, other_org])
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 3}, capsys, client=client,
                        check_mode=True, diff=True)
    assert result["changed"] is True
    assert versions(result["kept"]) == ["1.11.0", "1.10.0", "1.10.0-rc1"]
    assert versions(result["deleted"]) == ["1.2.0", "1.3.0", "1.9.0"]
    assert versions(result["unpublished"]) == ["1.9.0"]
    assert result["deleted"][2]["published"] is True  # shown as found
    assert [(e["version"], e["reason"]) for e in result["busy"]] == [("1.1.0", "an upload is in progress")]
    assert result["protected"] == []
    assert result["actions"] == [
        "deleted image 'cumulus-vx' version '1.2.0' (%s)" % FAMILY[1].id,
        "deleted image 'cumulus-vx' version '1.3.0' (%s)" % FAMILY[5].id,
        "unpublished image 'cumulus-vx' version '1.9.0' (%s)" % published.id,
        "deleted image 'cumulus-vx' version '1.9.0' (%s)" % published.id,
    ]
    assert result["diff"]["before"]["images"] == ["cumulus-vx %s" % v for v in (
        "1.1.0", "1.2.0", "1.3.0", "1.9.0", "1.10.0-rc1", "1.10.0", "1.11.0")]
    assert result["diff"]["after"]["images"] == ["cumulus-vx %s" % v for v in ("1.1.0", "1.10.0-rc1", "1.10.0", "1.11.0")]
    assert result["diff"]["before"]["published"] == ["cumulus-vx 1.9.0"] and result["diff"]["after"]["published"] == []
    # Reads and the two scope probes only.
    assert client.calls == [("list_images", {"is_owned_by_client": True, "name": "cumulus-vx"}), ("may_delete",),
                            ("may_publish_directly",)]


def test_check_mode_with_nothing_to_do_reports_no_change(capsys):
    client = StubClient(FAMILY)
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 6}, capsys, client=client,
                        check_mode=True, diff=True)
    assert result["changed"] is False and result["actions"] == []
    assert result["deleted"] == [] and len(result["kept"]) == 6
    assert result["diff"] == {"before": {}, "after": {}}


def test_check_mode_unpublished_only_touches_published_images(capsys):
    published = img("1.2.0", 5, published=True, publicly_published=True)
    client = StubClient([FAMILY[0], published, FAMILY[2]])
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 1, "state": "unpublished"}, capsys,
                        client=client, check_mode=True)
    assert result["changed"] is True
    assert versions(result["unpublished"]) == ["1.2.0"] and result["deleted"] == []
    assert len(result["actions"]) == 1 and result["actions"][0].startswith("unpublished image")


def test_check_mode_counts_a_listed_version_a_release_would_create(capsys):
    """image_release in check mode: 1.12.0 does not exist yet but is ranked as created now."""
    client = StubClient(FAMILY)
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 3, "keep_versions": ["1.12.0"]},
                        capsys, client=client, check_mode=True)
    assert [(e["version"], e["reasons"]) for e in result["kept"]] == [
        ("1.12.0", ["newest", "keep_versions", "would be created"]), ("1.11.0", ["newest"]), ("1.10.0", ["newest"])]
    assert result["kept"][0]["id"] is None
    assert versions(result["deleted"]) == ["1.2.0", "1.3.0", "1.9.0", "1.10.0-rc1"]


def test_search_groups_by_name_and_ignores_other_names(capsys):
    client = StubClient([img("1.0", 2, "sonic-vs"), img("2.0", 1, "sonic-vs"), img("1.0", 2, "sonic-lab"),
                         img("9.0", 1, "cumulus-vx")])
    result = run_module(AirImageRetentionModule, {"search": "sonic", "keep": 1}, capsys, client=client,
                        check_mode=True)
    assert [(e["name"], e["version"]) for e in result["kept"]] == [("sonic-vs", "2.0"), ("sonic-lab", "1.0")]
    assert [(e["name"], e["version"]) for e in result["deleted"]] == [("sonic-vs", "1.0")]


# --------------------------------------------------------------------- search
# The tester's catalog: "sonic" is in two cumulus-vx versions and in the name sonic-vs.
CATALOG = [img("5.16.0", 9), img("5.9.0", 8), img("5.10.0-sonic-interop", 7), img("5.11.0-sonic-interop", 6),
           img("202405", 5, "sonic-vs"), img("202411", 4, "sonic-vs")]


def test_search_selects_names_containing_the_text_not_versions(capsys):
    client = StubClient(CATALOG)
    result = run_module(AirImageRetentionModule, {"search": "SONIC", "keep": 1}, capsys, client=client,
                        check_mode=True)
    assert [(e["name"], e["version"]) for e in result["kept"]] == [("sonic-vs", "202411")]
    assert [(e["name"], e["version"]) for e in result["deleted"]] == [("sonic-vs", "202405")]
    # cumulus-vx matched the API's search only by version: not selected, so none of it is touched.
    assert all(e["name"] == "sonic-vs" for key in ("kept", "deleted", "unpublished", "busy") for e in result[key])


def test_search_ranks_every_image_of_a_selected_name(capsys):
    """The keep rules see all images of the name, not only those the search text matched."""
    client = StubClient(CATALOG)
    result = run_module(AirImageRetentionModule, {"search": "vx", "keep": 1}, capsys, client=client,
                        check_mode=True)
    assert versions(result["kept"]) == ["5.16.0"]
    assert versions(result["deleted"]) == ["5.9.0", "5.10.0-sonic-interop", "5.11.0-sonic-interop"]
    assert ("list_images", {"is_owned_by_client": True, "name": "cumulus-vx"}) in client.calls


# --------------------------------------------------------------- token scopes
PUBLISHED = img("1.2.0", 5, published=True)


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_token_that_cannot_unpublish_fails_before_any_write(capsys, check_mode):
    """The stub refuses writes: a real run that reached one would fail the test with an AssertionError."""
    client = StubClient([FAMILY[0], PUBLISHED, FAMILY[2], FAMILY[3]], may_publish=False)
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 1}, capsys, client=client,
                        check_mode=check_mode)
    assert result["failed"] and result["changed"] is False and result["actions"] == []
    assert result["failure"]["step"] == "check scopes"
    assert "air:image_publish" in result["msg"] and "air_image_publisher" in result["msg"]
    assert "cumulus-vx 1.2.0" in result["msg"] and "1.9.0" not in result["msg"]
    assert "\n" not in result["msg"]
    assert result["deleted"] == [] and result["unpublished"] == []


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_token_that_cannot_delete_fails_before_any_write(capsys, check_mode):
    client = StubClient([FAMILY[0], PUBLISHED, FAMILY[2]], may_delete=False)
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 1}, capsys, client=client,
                        check_mode=check_mode)
    assert result["failed"] and result["changed"] is False and result["actions"] == []
    assert result["failure"]["step"] == "check scopes" and "air:image_write" in result["msg"]
    assert result["deleted"] == [] and result["unpublished"] == []


def test_scopes_are_probed_only_for_what_the_run_would_do(capsys):
    """Unpublishing only unpublished images with a token that can do neither: nothing to do, no failure."""
    client = StubClient(FAMILY[:3], may_delete=False, may_publish=False)
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 1, "state": "unpublished"}, capsys,
                        client=client)
    assert "failed" not in result and result["changed"] is False
    assert client.calls == [("list_images", {"is_owned_by_client": True, "name": "cumulus-vx"})]


# ------------------------------------------------------------ UNPUBLISHING
@pytest.mark.parametrize("check_mode", [True, False])
def test_an_image_still_unpublishing_counts_as_unpublished(capsys, check_mode):
    """A previous run with wait: false left it UNPUBLISHING (still published): nothing to do, no warning."""
    leaving = img("1.2.0", 5, published=True, upload_status="UNPUBLISHING")
    client = StubClient([FAMILY[0], leaving], may_publish=False)
    result = run_module(AirImageRetentionModule,
                        {"name": "cumulus-vx", "keep": 1, "state": "unpublished", "wait": False}, capsys,
                        client=client, check_mode=check_mode, diff=True)
    assert "failed" not in result and result["changed"] is False and result["actions"] == []
    assert result["unpublished"] == [] and not result.get("warnings")
    assert result["diff"] == {"before": {}, "after": {}}


def test_check_mode_predicts_only_the_deletion_of_an_image_still_unpublishing(capsys):
    leaving = img("1.2.0", 5, published=True, upload_status="UNPUBLISHING")
    client = StubClient([FAMILY[0], leaving], may_publish=False)
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 1}, capsys, client=client,
                        check_mode=True, diff=True)
    assert result["changed"] is True and result["unpublished"] == []
    assert result["actions"] == ["deleted image 'cumulus-vx' version '1.2.0' (%s)" % leaving.id]
    assert "published" not in result["diff"]["before"]


# ------------------------------------------------------------ option ranges
@pytest.mark.parametrize("keep_days", [1000000, 36501, float("nan"), float("inf"), "nan", "inf", "-inf"])
def test_check_options_refuses_keep_days_out_of_range(keep_days):
    with pytest.raises(AirInputError) as raised:
        make_module(AirImageRetentionModule, {"name": "n", "keep": 1, "keep_days": keep_days}).check_options()
    assert "keep_days must be a number of days from 0 to 36500" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_keep_days_at_its_maximum_keeps_everything(capsys):
    client = StubClient(FAMILY)
    result = run_module(AirImageRetentionModule, {"name": "cumulus-vx", "keep": 1, "keep_days": 36500}, capsys,
                        client=client, check_mode=True)
    assert "failed" not in result and len(result["kept"]) == 6 and result["changed"] is False


# --------------------------------------------------------------------- diff
def test_diff_lists_images_in_version_order(capsys):
    family = [img("5.100.0", 3, "fam"), img("5.16.0", 2, "fam"), img("5.9.0", 1, "fam", published=True)]
    client = StubClient(family)
    result = run_module(AirImageRetentionModule, {"name": "fam", "keep": 1}, capsys, client=client,
                        check_mode=True, diff=True)
    assert result["diff"]["before"]["images"] == ["fam 5.9.0", "fam 5.16.0", "fam 5.100.0"]
    assert result["diff"]["after"]["images"] == ["fam 5.100.0"]
    assert result["diff"]["before"]["published"] == ["fam 5.9.0"]
