# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""How many parts an upload sends at once: a fixed number, or ``auto``.

Over a WAN one connection rarely fills the link (TCP windows, per-connection
limits at the storage), so parallel parts are what make an upload fast, and
how many are needed depends on the link. ``auto`` finds out while uploading:

- it starts with ``AUTO_START`` parts in flight (parts of ``LARGE_PART`` or
  more: twice as many, measured in half the time, see ``worker_policy``) and
  measures the upload's
  throughput (bytes handed to the network per second) over ``WINDOW`` seconds,
  once the parts it just added have had ``SETTLE`` seconds to get going (a new
  connection first fills its socket buffers at memory speed);
- it doubles the count while the throughput rises at least half as much as
  the count did, then grows by a quarter while it still rises by ``MIN_GAIN``;
- when the throughput stops rising it goes back to the last count that helped
  and keeps it: more parts would only cost memory and connections;
- a storage that asks to slow down (HTTP 429 or 503, S3's ``SlowDown``),
  or a part that runs out of ``part_timeout`` (too many parts share a slow
  link), halves the count and it stays there;
- never more than ``AUTO_CAP`` parts at once (each costs about
  ``MEMORY_PER_WORKER_MIB`` of memory and one connection).

A file has a finite number of parts, and the last of them decide when the
upload ends: a last wave of a few parts at one connection's rate leaves the
link idle. ``balanced()`` spreads the parts left over waves of equal size:
22 parts with room for 16 go as 11 and 11, not 16 and 6. So told how many
parts are left, ``auto`` never grows past ``balanced(AUTO_CAP, left)`` (more
would not save a wave), and once it has decided, the uploader keeps
``balanced(room, left)`` in flight, where ``room`` is the largest count that
did not lower the throughput (on a full link more parts in flight cost
nothing but memory, and they shorten the last wave).

The uploader keeps that many parts in flight (``limit`` for a fixed count
and while ``auto`` measures), calls ``observe()`` when ``next_check()`` says
so, and ``slow_down()`` when the storage throttles; ``settled`` is the count
it reports.
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
WINDOW = 1.0  # seconds the throughput is measured over (shorter ones see the bursts of socket buffers)
MIN_GAIN = 0.10  # a rise below 10 % is noise, not a reason to add parts
LARGE_PART = 32 * 1024 * 1024  # parts at least this large start with more and are measured faster
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


def worker_policy(workers, clock, parts=None, part_size=None):
    """The policy for one batch of ``parts`` part uploads of up to ``part_size`` bytes: ``FixedWorkers`` or
    ``AutoWorkers``.

    Large parts (Air hands out 100 MB) start ``2 * AUTO_START`` at once, so a file of a handful of them goes
    all at once, and are measured in half the time: such a part takes seconds even on a fast link, so a new
    one starts (and fills its socket buffers at memory speed) only every few seconds, and short windows see the
    link's rate. Small parts keep the first count and the longer windows.
    """
    if workers != AUTO:
        return FixedWorkers(workers)
    if part_size is not None and part_size >= LARGE_PART:
        return AutoWorkers(clock, start=2 * AUTO_START, settle=SETTLE / 2, window=WINDOW / 2)
    return AutoWorkers(clock)


def balanced(room, left):
    """Parts to keep in flight with ``left`` parts to send and room for ``room``: as many waves as ``room``
    needs, each of the same size, so the last wave is as large as the others."""
    if left <= room:
        return max(left, 0)
    waves = -(-left // room)
    return -(-left // waves)


def is_throttling(status, code):
    """Whether a storage answer asks the client to send less."""
    return status in THROTTLE_STATUSES or code == "SlowDown"


class FixedWorkers:
    """``workers: N``: N parts at once, whatever happens (today's meaning)."""

    auto = False

    def __init__(self, count):
        self.limit = self.cap = self.settled = self.room = count

    def next_check(self, now):
        return None

    def observe(self, now, bytes_sent, left=None):
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
        self._best = None  # (count, bytes/s): the largest count measured at no less than the best rate
        self.done = False  # no more changes, except a slow-down
        self.history = [(self.limit, None)]  # (count, the throughput that decided it) for the stats and tests

    @property
    def settled(self):
        return self.limit

    @property
    def room(self):
        """Parts that may be in flight: ``limit``, or the largest count that did not lower the throughput."""
        with self._lock:
            if self._slowed_at is not None or self._best is None:
                return self.limit
            return max(self.limit, self._best[0])

    def next_check(self, now):
        """Seconds until ``observe`` has something to do (None once settled)."""
        with self._lock:
            if self.done:
                return None
            if self._window_start is None:
                return max(0.0, self._changed_at + self._settle - now)
            return max(0.0, self._window_start[0] + self._window - now)

    def observe(self, now, bytes_sent, left=None):
        """Account ``bytes_sent`` (a running total) at ``now``, ``left`` parts not yet sent; may change ``limit``."""
        with self._lock:
            if self.done or now < self._changed_at + self._settle:
                return
            if self._window_start is None:
                self._window_start = (now, bytes_sent)
                return
            started, sent_then = self._window_start
            if now - started < self._window:
                return
            self._decide((bytes_sent - sent_then) / (now - started), now, left)

    def _decide(self, rate, now, left=None):
        count = self.limit
        if self._best is None or rate >= self._best[1] * (1.0 - self._min_gain):
            self._best = (max(count, self._best[0]) if self._best else count,
                          max(rate, self._best[1]) if self._best else rate)
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
        if left is not None:  # beyond the balanced count at the cap, more parts in flight save no wave
            grown = max(count, min(grown, balanced(self.cap, left)))
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
