# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Publication as a desired state (``_publication``): the allow-list line, the plan, the calls, denied requests.

Pure logic: images and publish access records are built here, nothing talks to a network.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvidia.air.plugins.module_utils import _publication as publication
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError, AirPublishRequestError
from ansible_collections.nvidia.air.plugins.module_utils._models import PublishAccessRecord
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import image

PARTNER = "13747243-62b0-53ba-a182-57f4abc0c82f"
LAB = "7a61c0d2-2b4e-5f1a-8c3d-9e0f1a2b3c4d"
ALLOWED = [("partner-org", PARTNER), (None, LAB)]
LINE = "Allowed organizations (nvidia.air): partner-org (%s), %s" % (PARTNER, LAB)


def record(status, **fields):
    data = {"id": "9e2a4c1d-5b6f-4a7e-8c9d-0e1f2a3b4c5d", "status": status, "image_name": "cumulus-vx",
            "image_version": "5.16.0", "prefer_public": True, "justification": "", "allowed_orgs_request_text": "",
            "denial_reason": "", "reviewed_by": None}
    data.update(fields)
    return PublishAccessRecord(data)


def complete(**fields):
    return image(**dict({"upload_status": "COMPLETE"}, **fields))


def published(public, **fields):
    return complete(published=True, publicly_published=public, **fields)


def no_allow_list_read():
    raise AssertionError("the allow-list was read although the comparison does not need it")


# ------------------------------------------------------------------ allow-list line
def test_the_allow_list_line_names_each_org_and_reads_back_as_ids():
    assert publication.allow_list_line(ALLOWED) == LINE
    assert publication.allow_list_in("Please.\n\n" + LINE) == sorted([PARTNER, LAB])


def test_an_empty_allow_list_is_the_owner_only_and_reads_back_empty():
    line = publication.allow_list_line([])
    assert "none besides the owning organization" in line
    assert publication.allow_list_in(line) == []


def test_text_without_the_line_has_no_known_allow_list():
    assert publication.allow_list_in("ship it to %s" % PARTNER) is None
    assert publication.allow_list_in(None) is None


def test_the_last_line_wins_and_ids_are_compared_lower_case():
    text = "%s\n%s" % (publication.allow_list_line([(None, LAB)]), publication.allow_list_line([(None, PARTNER.upper())]))
    assert publication.allow_list_in(text) == [PARTNER]


def test_a_record_names_its_allow_list_in_the_request_text_else_in_the_justification():
    assert publication.allow_list_of(record("APPROVED", allowed_orgs_request_text=LINE)) == sorted([PARTNER, LAB])
    assert publication.allow_list_of(record("APPROVED", justification="why\n\n" + LINE)) == sorted([PARTNER, LAB])
    assert publication.allow_list_of(record("APPROVED", justification="why")) is None
    assert publication.allow_list_of(None) is None


def test_the_line_goes_at_the_end_of_the_justification():
    assert publication.with_allow_list("Lab access.  ", LINE) == "Lab access.\n\n" + LINE
    assert publication.with_allow_list(None, LINE) == LINE


# ------------------------------------------------------------------ wanted
@pytest.mark.parametrize("current, desired, kind, public", [
    (complete(), publication.Desired(True), publication.PUBLISH, None),
    (complete(), publication.Desired(True, visibility="public"), publication.PUBLISH, True),
    (complete(), publication.Desired(True, visibility="restricted", allowed=ALLOWED), publication.PUBLISH, False),
    (published(True), publication.Desired(True, visibility="restricted"), publication.RESTRICT, False),
    (published(False), publication.Desired(True, visibility="public"), publication.ELEVATE, True),
    (published(True), publication.Desired(False), publication.UNPUBLISH, None),
])
def test_wanted_change(current, desired, kind, public):
    goal = publication.wanted(current, desired, no_allow_list_read)
    assert (goal.kind, goal.public) == (kind, public)


@pytest.mark.parametrize("current, desired", [
    (complete(), publication.Desired(False)),
    (published(True), publication.Desired(True)),
    (published(True), publication.Desired(True, visibility="public")),
    (published(False), publication.Desired(True, visibility="restricted")),  # allow-list left alone
])
def test_nothing_wanted(current, desired):
    assert publication.wanted(current, desired, no_allow_list_read) is None


def test_a_restricted_image_is_compared_with_the_allow_list_last_asked_for():
    desired = publication.Desired(True, visibility="restricted", allowed=list(reversed(ALLOWED)))
    assert publication.wanted(published(False), desired, lambda: sorted([PARTNER, LAB])) is None
    goal = publication.wanted(published(False), desired, lambda: [PARTNER])
    assert goal.kind == publication.ALLOWLIST and goal.allowed_ids == sorted([PARTNER, LAB])


def test_an_unknown_allow_list_is_asked_for():
    desired = publication.Desired(True, visibility="restricted", allowed=[])
    assert publication.wanted(published(False), desired, lambda: None).kind == publication.ALLOWLIST


# ------------------------------------------------------------------ plan
def test_a_pending_request_for_the_same_change_is_waited_for_whatever_its_justification():
    desired = publication.Desired(True, visibility="restricted", allowed=ALLOWED, justification="new words")
    pending = record("PENDING", prefer_public=False, allowed_orgs_request_text=LINE, justification="old words")
    plan = publication.plan(complete(upload_status="PENDING_PUBLISH"), pending, desired, no_allow_list_read)
    assert (plan.goal, plan.cancel, plan.waiting) == (None, None, pending)


def test_a_pending_publish_request_is_withdrawn_by_published_false():
    pending = record("PENDING")
    plan = publication.plan(complete(upload_status="PENDING_PUBLISH"), pending, publication.Desired(False),
                            no_allow_list_read)
    assert (plan.goal, plan.cancel) == (None, pending)


def test_a_pending_unpublish_request_is_withdrawn_by_published_true():
    pending = record("PENDING_UNPUBLISH")
    plan = publication.plan(published(True, upload_status="PENDING_UNPUBLISH"), pending, publication.Desired(True),
                            no_allow_list_read)
    assert (plan.goal, plan.cancel) == (None, pending)


def test_a_visibility_request_is_left_alone_when_the_task_does_not_set_visibility():
    pending = record("PENDING_ELEVATION")
    plan = publication.plan(published(False), pending, publication.Desired(True), no_allow_list_read)
    assert (plan.goal, plan.cancel, plan.waiting) == (None, None, pending)


def test_a_visibility_request_against_the_wanted_visibility_is_withdrawn():
    pending = record("PENDING_ELEVATION")
    plan = publication.plan(published(False), pending, publication.Desired(True, visibility="restricted"),
                            no_allow_list_read)
    assert plan.cancel is pending and plan.goal is None


def test_another_open_request_is_a_conflict_named_before_anything_is_written():
    pending = record("PENDING", prefer_public=True)
    desired = publication.Desired(True, visibility="restricted", allowed=ALLOWED)
    with pytest.raises(AirPublishRequestError) as raised:
        publication.plan(complete(upload_status="PENDING_PUBLISH"), pending, desired, no_allow_list_read)
    assert pending.id in str(raised.value) and "PENDING" in str(raised.value)
    assert raised.value.to_failure()["publish_access_record_id"] == pending.id


def test_a_pending_publish_under_another_name_is_a_conflict():
    pending = record("PENDING", image_name="catalog-name")
    with pytest.raises(AirPublishRequestError):
        publication.plan(complete(upload_status="PENDING_PUBLISH"), pending, publication.Desired(True),
                         no_allow_list_read)


def test_the_publish_pipeline_going_the_wanted_way_is_waited_for():
    running = record("APPROVED_PENDING_IMAGE_PUBLISH")
    plan = publication.plan(complete(upload_status="PUBLISHING"), running, publication.Desired(True), no_allow_list_read)
    assert plan.goal is None and plan.waiting is running
    with pytest.raises(AirPublishRequestError) as raised:
        publication.plan(complete(upload_status="PUBLISHING"), running, publication.Desired(False), no_allow_list_read)
    assert "PUBLISHING" in str(raised.value)


def test_decided_records_do_not_block_a_new_change():
    for status in ("DENIED", "CANCELLED", "APPROVED", "REMOVED"):
        plan = publication.plan(complete(), record(status), publication.Desired(True), no_allow_list_read)
        assert plan.goal.kind == publication.PUBLISH


# ------------------------------------------------------------------ calls
def test_a_restricted_direct_publish_sends_ids_and_names_them_in_the_justification():
    goal = publication.Goal(publication.PUBLISH, public=False, allowed=ALLOWED)
    method, kwargs = publication.direct_call(goal, "Lab access")
    assert method == "publish"
    assert kwargs["prefer_public"] is False and kwargs["allowed_orgs"] == sorted([PARTNER, LAB])
    assert kwargs["justification"] == "Lab access\n\n" + LINE


def test_a_default_direct_publish_leaves_visibility_and_justification_to_the_api():
    method, kwargs = publication.direct_call(publication.Goal(publication.PUBLISH, rename=("catalog", None)), None)
    assert method == "publish"
    assert kwargs == {"name": "catalog", "version": None, "prefer_public": None, "justification": None}


@pytest.mark.parametrize("goal, method, expected", [
    (publication.Goal(publication.PUBLISH, public=False, allowed=ALLOWED), "request_publish",
     {"prefer_public": False, "allowed_orgs_request_text": LINE, "justification": "why"}),
    (publication.Goal(publication.UNPUBLISH, rename=("old", "1")), "request_unpublish",
     {"justification": "why", "name": "old", "version": "1"}),
    (publication.Goal(publication.ELEVATE, public=True), "request_public",
     {"prefer_public": True, "justification": "why"}),
    (publication.Goal(publication.RESTRICT, public=False, allowed=ALLOWED), "request_public",
     {"prefer_public": False, "justification": "why\n\n" + LINE}),
    (publication.Goal(publication.ALLOWLIST, public=False, allowed=ALLOWED), "request_allowlist_change",
     {"justification": "why", "allowed_orgs_request_text": LINE}),
])
def test_request_calls(goal, method, expected):
    name, kwargs = publication.request_call(goal, complete(), "why")
    assert name == method
    assert dict((k, v) for k, v in kwargs.items() if k in expected) == expected


def test_texts_longer_than_the_api_takes_are_refused():
    goal = publication.Goal(publication.PUBLISH, public=False, allowed=ALLOWED)
    with pytest.raises(AirInputError) as raised:
        publication.check_call_texts(publication.direct_call(goal, "x" * 2000))
    assert "justification" in str(raised.value) and "2048" in str(raised.value)
    publication.check_call_texts(publication.direct_call(goal, "x" * 1900))


# ------------------------------------------------------------------ denied
def test_a_denied_request_is_not_asked_again_unchanged():
    current = complete()
    goal = publication.Goal(publication.PUBLISH, public=False, allowed=ALLOWED)
    call = publication.request_call(goal, current, "why")
    denied = record("DENIED", prefer_public=False, justification="why", allowed_orgs_request_text=LINE,
                    reviewed_by="reviewer@nvidia.com", denial_reason="Add release notes first")
    assert publication.denied_again(denied, goal, current, call)
    error = publication.denied_error(denied, goal, current)
    assert "reviewer@nvidia.com" in str(error) and "Add release notes first" in str(error)
    assert error.to_failure()["denial_reason"] == "Add release notes first"


@pytest.mark.parametrize("change", [
    {"justification": "why, with the release notes attached"},
    {"allowed_orgs_request_text": publication.allow_list_line([(None, PARTNER)])},
    {"prefer_public": True},
    {"image_name": "another-name"},
    {"status": "CANCELLED"},
])
def test_a_changed_request_after_a_denial_is_sent(change):
    current = complete()
    goal = publication.Goal(publication.PUBLISH, public=False, allowed=ALLOWED)
    fields = dict(prefer_public=False, justification="why", allowed_orgs_request_text=LINE)
    fields.update(change)
    denied = record(fields.pop("status", "DENIED"), **fields)
    assert not publication.denied_again(denied, goal, current, publication.request_call(goal, current, "why"))


def test_a_prediction_carries_what_the_request_asks_for():
    current = complete()
    goal = publication.Goal(publication.PUBLISH, public=False, allowed=ALLOWED, rename=("catalog", None))
    call = publication.request_call(goal, current, "why")
    predicted = publication.predicted_record(goal, current, call, "PENDING")
    assert predicted["id"] is None and predicted["status"] == "PENDING"
    assert (predicted["image_name"], predicted["image_version"]) == ("catalog", current.version)
    assert predicted["prefer_public"] is False and predicted["allowed_orgs_request_text"] == LINE
    assert set(predicted) == set(PublishAccessRecord.FIELDS)


@pytest.mark.parametrize("kwargs, start", [
    ({"justification": "j" * 2049}, "justification: the justification sent would be 2049 characters long"),
    ({"justification": "ok", "allowed_orgs_request_text": "o" * 4097},
     "allowed_orgs: the allowed_orgs_request_text sent would be 4097 characters long"),
])
def test_texts_too_long_for_the_api_name_the_option_to_change(kwargs, start):
    with pytest.raises(AirInputError) as raised:
        publication.check_call_texts(("request-publish", kwargs))
    assert str(raised.value).startswith("check options failed: " + start)
    assert ("shorten the justification" in str(raised.value)) == ("justification" in start.split(":")[0])
