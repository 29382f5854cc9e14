# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""How many parts an upload sends at once: a fixed number, or ``auto``.

Over a WAN one connection rarely fills the link (TCP windows, per-connection
limits at the storage), so parallel parts are what make an upload fast, and
how many are needed depends on the link. ``auto`` finds out while uploading:

- it starts with ``AUTO_START`` parts in flight and measures the upload's
  throughput (bytes handed to the network per second) over ``WINDOW`` seconds,
  once the parts it just added have had ``SETTLE`` seconds to get going (a new
  connection first fills its socket buffers at memory speed);
- it doubles the count while the throughput rises at least half as much as
  the count did, then grows by a quarter while it still rises by ``MIN_GAIN``;
- when the throughput stops rising it goes back to the last count that helped
  and keeps it: more parts would only cost memory and connections;
- a storage that asks to slow down (HTTP 429 or 503, S3's ``SlowDown``)
  halves the count and it stays there;
- never more than ``AUTO_CAP`` parts at once (each costs about
  ``MEMORY_PER_WORKER_MIB`` of memory and one connection).

The uploader asks ``limit`` how many parts may be in flight, calls
``observe()`` when ``next_check()`` says so, and ``slow_down()`` when the
storage throttles; ``settled`` is the count it reports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError

AUTO = "auto"
AUTO_START = 4  # today's default for a fixed count: never slower than it to begin with
AUTO_CAP = 16
MEMORY_PER_WORKER_MIB = 2  # its 1 MiB send block plus socket buffers and a thread
SETTLE = 0.5  # seconds new parts get before the throughput counts
WINDOW = 1.0  # seconds the throughput is measured over
MIN_GAIN = 0.10  # a rise below 10 % is noise, not a reason to add parts
THROTTLE_STATUSES = frozenset((429, 503))


def parse_workers(value, step="check input"):
    """``workers`` as given (int, digits or ``auto``) -> an int >= 1 or ``AUTO``; AirInputError otherwise."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO:
            return AUTO
        if text.isdigit():
            value = int(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AirInputError("workers must be a whole number of at least 1, or auto (got %r)" % (value,),
                            step=step)
    return value


def worker_policy(workers, clock):
    """The policy for one batch of part uploads: ``FixedWorkers`` or ``AutoWorkers``."""
    return AutoWorkers(clock) if workers == AUTO else FixedWorkers(workers)


def is_throttling(status, code):
    """Whether a storage answer asks the client to send less."""
    return status in THROTTLE_STATUSES or code == "SlowDown"


class FixedWorkers:
    """``workers: N``: N parts at once, whatever happens (today's meaning)."""

    auto = False

    def __init__(self, count):
        self.limit = self.cap = self.settled = count

    def next_check(self, now):
        return None

    def observe(self, now, bytes_sent):
        pass

    def slow_down(self, now):
        pass


class AutoWorkers:
    """``workers: auto``; see the module docstring. Thread-safe (``slow_down`` comes from part threads)."""

    auto = True

    def __init__(self, clock, start=AUTO_START, cap=AUTO_CAP, settle=SETTLE, window=WINDOW, min_gain=MIN_GAIN):
        self.cap = cap
        self.limit = min(start, cap)
        self._clock = clock
        self._settle, self._window, self._min_gain = settle, window, min_gain
        self._lock = threading.Lock()
        self._doubling = True
        self._helped = None  # (count, bytes/s) of the last count that raised the throughput
        self._changed_at = clock()
        self._window_start = None  # (time, bytes sent) where the current measurement began
        self._slowed_at = None
        self.done = False  # no more changes, except a slow-down
        self.history = [(self.limit, None)]  # (count, the throughput that decided it) for the stats and tests

    @property
    def settled(self):
        return self.limit

    def next_check(self, now):
        """Seconds until ``observe`` has something to do (None once settled)."""
        with self._lock:
            if self.done:
                return None
            if self._window_start is None:
                return max(0.0, self._changed_at + self._settle - now)
            return max(0.0, self._window_start[0] + self._window - now)

    def observe(self, now, bytes_sent):
        """Account ``bytes_sent`` (a running total) at ``now``; may change ``limit``."""
        with self._lock:
            if self.done or now < self._changed_at + self._settle:
                return
            if self._window_start is None:
                self._window_start = (now, bytes_sent)
                return
            started, sent_then = self._window_start
            if now - started < self._window:
                return
            self._decide((bytes_sent - sent_then) / (now - started), now)

    def _decide(self, rate, now):
        count = self.limit
        if self._helped is not None:
            before, before_rate = self._helped
            gain = rate / before_rate - 1.0 if before_rate > 0 else float("inf")
            expected = float(count) / before - 1.0
            if not (self._doubling and gain >= expected / 2.0):
                self._doubling = False
                if gain < self._min_gain:  # no longer rising: back to the count that helped, and stay
                    self._set(before, now, rate)
                    self.done = True
                    return
        self._helped = (count, rate)
        grown = min(self.cap, count * 2 if self._doubling else count + max(1, count // 4))
        if grown == count:
            self.done = True
            return
        self._set(grown, now, rate)

    def _set(self, count, now, rate):
        self.limit = count
        self._changed_at = now
        self._window_start = None
        self.history.append((count, round(rate, 1)))

    def slow_down(self, now):
        """The storage throttled a part: halve the count (once per measurement window) and keep it."""
        with self._lock:
            if self._slowed_at is not None and now - self._slowed_at < self._window:
                return
            self._slowed_at = now
            self.done = True
            if self.limit > 1:
                self.limit = max(1, self.limit // 2)
                self.history.append((self.limit, None))
