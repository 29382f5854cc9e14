# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The date parser (module_utils/_dates.py): one table of accepted and refused strings.

`make test-dates` runs this file with `ansible-test units` on every Python from 3.9 to 3.13, so the table
holds on each Python a module may run on (datetime.fromisoformat differs between them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.nvidia.air.plugins.module_utils._dates import parse_datetime
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._models import ImageShare
from ansible_collections.nvidia.air.plugins.modules.air_image_share import AirImageShareModule

UTC = datetime.timezone.utc


def at(*fields, **offset):
    """An aware datetime; offset in hours/minutes (default UTC)."""
    zone = datetime.timezone(datetime.timedelta(**offset)) if offset else UTC
    return datetime.datetime(*fields, tzinfo=zone)


ACCEPTED = [
    # The Air API's own timestamps.
    ("2026-11-28T10:00:00.000000Z", at(2026, 11, 28, 10)),
    ("2026-11-28T10:00:00.123456Z", at(2026, 11, 28, 10, 0, 0, 123456)),
    # Offsets: Z, z, +hh:mm, +hhmm, +hh, negative, -00:00.
    ("2030-12-31T00:00:00Z", at(2030, 12, 31)),
    ("2030-12-31T00:00:00z", at(2030, 12, 31)),
    ("2030-12-31T00:00:00+00:00", at(2030, 12, 31)),
    ("2030-12-31T00:00:00+0000", at(2030, 12, 31)),
    ("2030-12-31T00:00:00+00", at(2030, 12, 31)),
    ("2030-12-31T02:30:00+02:30", at(2030, 12, 31, 2, 30, hours=2, minutes=30)),
    ("2030-12-31T02:30:00+0230", at(2030, 12, 31, 0, 0)),
    ("2030-12-30T19:00:00-05:00", at(2030, 12, 31, 0, 0)),
    ("2030-12-31T00:00:00-00:00", at(2030, 12, 31)),
    ("2030-12-31T12:00+01:00", at(2030, 12, 31, 11)),
    # No offset means UTC; a date alone means midnight.
    ("2030-12-31T00:00:00", at(2030, 12, 31)),
    ("2030-12-31T08:15", at(2030, 12, 31, 8, 15)),
    ("2030-12-31", at(2030, 12, 31)),
    # Separators: T, t or one space (str() of a datetime); a comma before the fraction.
    ("2030-12-31t00:00:00Z", at(2030, 12, 31)),
    ("2030-12-31 00:00:00+00:00", at(2030, 12, 31)),
    ("2030-12-31T00:00:00,5Z", at(2030, 12, 31, 0, 0, 0, 500000)),
    # Fractions: one digit to nanoseconds, cut to microseconds.
    ("2030-12-31T00:00:00.1Z", at(2030, 12, 31, 0, 0, 0, 100000)),
    ("2030-12-31T00:00:00.123Z", at(2030, 12, 31, 0, 0, 0, 123000)),
    ("2030-12-31T00:00:00.123456789Z", at(2030, 12, 31, 0, 0, 0, 123456)),
    # Surrounding white space (a folded YAML scalar).
    ("  2030-12-31T00:00:00Z\n", at(2030, 12, 31)),
    # Leap day.
    ("2028-02-29T00:00:00Z", at(2028, 2, 29)),
]

REFUSED = [
    "next tuesday",
    "tomorrow",
    "2030",
    "2030-12",
    "20301231",                    # basic format
    "20301231T000000Z",
    "2030-W52-1",                  # week date
    "2030-365",                    # ordinal date
    "2030-12-31T",
    "2030-12-31T00",               # hour without minutes
    "2030-12-31T0:00:00Z",
    "2030-12-31T00:00:00.Z",       # empty fraction
    "2030-12-31Z",                 # offset without a time
    "2030-12-31T00:00:00+5",
    "2030-12-31T00:00:00+05:3",
    "2030-12-31T00:00:00+05:60",
    "2030-12-31T00:00:00+24:00",   # offset of a day
    "2030-12-31T00:00:00+05:30:15",
    "2030-12-31T00:00:00 Z",
    "2030-12-31T00:00:00UTC",
    "2030-12-31T24:00:00Z",        # 24:00
    "2030-12-31T23:59:60Z",        # leap second
    "2030-02-30T00:00:00Z",        # no such day
    "2029-02-29",
    "2030-13-01",
    "2030-12-31T00:60:00Z",
    "2030/12/31 00:00:00",
    "31.12.2030",
    "2030-12-31T00:00:00+00:00junk",
    "2030-12-31\u00a000:00:00",    # no-break space
    "\u0662\u0660\u0663\u0660-12-31",  # Arabic-Indic digits (\d matches them; int() would too)
]


@pytest.mark.parametrize("text, expected", ACCEPTED, ids=[repr(t) for t, _e in ACCEPTED])
def test_accepted(text, expected):
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is not None


@pytest.mark.parametrize("text", REFUSED, ids=[repr(t) for t in REFUSED])
def test_refused_with_a_message_naming_the_value(text):
    with pytest.raises(ValueError) as raised:
        parse_datetime(text)
    assert repr(text.strip()) in str(raised.value)


def test_empty_and_none_are_no_date():
    assert parse_datetime(None) is None
    assert parse_datetime("") is None


def test_datetime_and_date_objects_pass_through():
    assert parse_datetime(datetime.datetime(2030, 12, 31, 1)) == at(2030, 12, 31, 1)
    aware = at(2030, 12, 31, 1, hours=3)
    assert parse_datetime(aware) is aware
    assert parse_datetime(datetime.date(2030, 12, 31)) == at(2030, 12, 31)


def test_a_share_from_the_api_expires_through_the_same_parser():
    share = ImageShare({"id": "s1", "state": "ACTIVE", "expires_at": "2030-12-31T00:00:00.000000Z"})
    assert share.expires == at(2030, 12, 31)
    assert share.is_live(now=at(2030, 12, 30))
    assert not share.is_live(now=at(2030, 12, 31))


@pytest.mark.parametrize("text", ["2099-12-31T00:00:00+0000", "2099-12-31", "2099-12-31 00:00:00Z"])
def test_air_image_share_accepts_expires_at_on_every_python(text):
    targets = AirImageShareModule.parse_targets([{"org": "lab-org", "expires_at": text}])
    assert targets == [("lab-org", "2099-12-31T00:00:00.000000Z")]


@pytest.mark.parametrize("text", ["2099-12-31T00:00:00+05:60", "20991231T000000Z", "2099-W01-1"])
def test_air_image_share_refuses_expires_at_on_every_python(text):
    with pytest.raises(AirInputError) as raised:
        AirImageShareModule.parse_targets([{"org": "lab-org", "expires_at": text}])
    # The parser's own reason: the form expected, or what is wrong with a value in that form.
    assert "target_orgs[0]: expires_at: %r is not a" % text in str(raised.value)


@pytest.mark.parametrize("text, reason", [
    ("2030-02-30", "is not a valid date and time: day is out of range for month"),
    ("9999-12-31T23:59:59-01:00", "is out of range: in UTC it falls outside the years 1 to 9999"),
    ("0001-01-01T00:30+01:00", "is out of range: in UTC it falls outside the years 1 to 9999"),
])
def test_dates_in_the_right_form_that_cannot_be_are_named_for_what_they_are(text, reason):
    with pytest.raises(ValueError) as raised:
        parse_datetime(text)
    assert str(raised.value) == "%r %s" % (text, reason)
    with pytest.raises(AirInputError) as raised:
        AirImageShareModule.parse_targets([{"org": "lab-org", "expires_at": text}])
    assert str(raised.value) == "check options failed: target_orgs[0]: expires_at: %r %s" % (text, reason)
