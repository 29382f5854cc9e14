# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The one retry loop of the collection: which failures are transient and how long to wait.

Every retried operation (API calls, part PUTs) goes through ``RetryPolicy.run``;
callers only say what one attempt is and which failures are worth another.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import random
import time

# The Air API refused to act (429) or a gateway failed before or after it acted.
RETRY_STATUSES = frozenset((429, 502, 503, 504))
# The server may or may not have acted: a call that can look at the server afterwards
# (or that is idempotent) retries these too.
LOST_STATUSES = frozenset((500, 502, 503, 504))
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

    def run(self, attempt, is_transient, on_retry=None, wait=None):
        """``attempt(number, last_error)`` until it returns a value or fails for good.

        ``is_transient(error)`` says whether a failure is worth another attempt;
        the error's ``retry_after`` attribute (seconds, from a Retry-After
        header) overrides the backoff. ``on_retry(error, number)`` is told of
        each retry; ``wait(seconds)`` replaces sleeping (it may raise to cancel).
        The last error is re-raised with ``attempts`` set to the number of tries.
        """
        number, last_error = 1, None
        while True:
            try:
                return attempt(number, last_error)
            except Exception as error:  # classified right here; anything else propagates unchanged
                if not is_transient(error):
                    raise
                if number >= self.attempts:
                    if number > 1:
                        try:
                            error.attempts = number
                        except AttributeError:
                            pass
                    raise
                seconds = self.delay(number, getattr(error, "retry_after", None))
                if on_retry is not None:
                    on_retry(error, number)
                if wait is not None:
                    wait(seconds)
                elif seconds > 0:
                    self._sleep(seconds)
                number, last_error = number + 1, error
