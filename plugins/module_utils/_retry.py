# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The one retry policy: which failures are transient and how long to wait."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import random
import time

RETRY_STATUSES = frozenset((429, 502, 503, 504))
# Storage (presigned part PUTs) also retries its own 500 InternalError.
STORAGE_RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))


def parse_retry_after(value, now=None):
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), else None."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class RetryPolicy:
    """Capped exponential backoff with jitter; ``Retry-After`` wins when given.

    ``attempts`` counts every try, the first included.
    """

    def __init__(self, attempts=5, base=1.0, cap=30.0, max_retry_after=300.0, sleep=time.sleep, rand=random.random):
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._rand = rand

    def delay(self, retry_number, retry_after=None):
        """Seconds to wait before retry ``retry_number`` (1 = first retry)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.cap, self.base * (2 ** (retry_number - 1)))
        # "Equal jitter": at least half the backoff, never a thundering herd.
        return ceiling / 2.0 + self._rand() * ceiling / 2.0

    def sleep(self, retry_number, retry_after=None):
        seconds = self.delay(retry_number, retry_after)
        if seconds > 0:
            self._sleep(seconds)
        return seconds
