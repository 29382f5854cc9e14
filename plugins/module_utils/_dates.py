# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The one parser for dates and times: user input (``expires_at``) and the Air API's timestamps.

``datetime.fromisoformat`` accepts far more on Python 3.11+ than on 3.9 and 3.10 (``Z``, ``+0000``, any
number of fraction digits, week dates, basic format), so a module would accept an input on one target and
reject it on another. This grammar is the same on every Python:

    YYYY-MM-DD[(T|t| )hh:mm[:ss[(.|,)f...]][Z|z|+hh|+hhmm|+hh:mm|-...]]

- a date alone means midnight; a time without an offset means UTC;
- fractions of a second beyond microseconds are cut (not rounded);
- surrounding white space is ignored; anything else (week or ordinal dates, the basic format ``20301231``,
  24:00, leap seconds, an offset without a time or of 24 hours or more) is refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

# The accepted form, spelled out in error messages.
DATETIME_FORMAT = "YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.ffffff]] with an optional Z or +hh:mm offset"

_DATETIME = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,  # \d is 0-9 only (int() would take other scripts' digits too)
)


def parse_datetime(value):
    """An aware ``datetime.datetime`` from an ISO 8601 string; None and "" give None.

    A ``datetime`` passes through (a naive one is taken as UTC); a ``date`` means its midnight in UTC.
    Anything else is turned into a string first. Raises ValueError (naming the accepted form) for a string
    outside the grammar in the module docstring, a date or time that does not exist (2030-02-30), or one
    that has no UTC equivalent (9999-12-31T23:59:59-01:00).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    text = str(value).strip()
    match = _DATETIME.fullmatch(text)
    if not match:
        raise ValueError("%r is not an ISO 8601 date and time (%s)" % (text, DATETIME_FORMAT))
    fields = match.groupdict()
    try:
        parsed = datetime.datetime(
            int(fields["year"]), int(fields["month"]), int(fields["day"]),
            int(fields["hour"] or 0), int(fields["minute"] or 0), int(fields["second"] or 0),
            int((fields["fraction"] or "0")[:6].ljust(6, "0")),
            tzinfo=_timezone(fields["offset"]))
    except ValueError as error:
        raise ValueError("%r is not a valid date and time: %s" % (text, error))
    try:
        parsed.astimezone(datetime.timezone.utc)  # every caller compares or sends it in UTC
    except OverflowError:
        raise ValueError("%r is out of range: in UTC it falls outside the years 1 to 9999" % text)
    return parsed


def _timezone(offset):
    """``datetime.timezone`` of ``Z``, ``+hh``, ``+hhmm`` or ``+hh:mm`` (None: UTC)."""
    if offset is None or offset in "Zz":
        return datetime.timezone.utc
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if minutes >= 60:
        raise ValueError("offset minutes must be below 60")
    delta = datetime.timedelta(hours=hours, minutes=minutes)
    # timezone() itself refuses offsets of 24 hours or more.
    return datetime.timezone(-delta if offset[0] == "-" else delta)
