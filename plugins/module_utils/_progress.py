# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Upload progress: a callback and an optional JSON progress file, throttled.

The progress file is what the ``air_image_upload`` action plugin reads on the
controller to print progress lines while the module runs in the background; its
``pid`` lets the controller notice a module that died.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import os
import threading
import time

from ansible_collections.nvidia.air.plugins.module_utils._files import write_json_atomic

MIN_INTERVAL = 0.25  # at most four updates a second
RATE_WINDOW = 10.0  # seconds of byte counts the current rate is measured over
HEARTBEAT = 1.0  # seconds between two writes of the progress files while nothing else moves


class Progress:
    """Thread-safe counters; ``snapshot()`` is what the callback and the file get.

    States: hashing, waiting (for another run's upload of the same image),
    starting, uploading, completing, validating, complete, failed.

    ``percent`` counts bytes handed to the network (or hashed); while
    uploading it stays below 100 until the storage has acknowledged every
    part. ``rate_bytes_per_second`` and ``eta_seconds`` are measured over the
    last ``RATE_WINDOW`` seconds, so they follow a link that speeds up or
    slows down.
    """

    def __init__(self, callback=None, path=None, clock=time.monotonic, paths=()):
        self._callback = callback
        self._paths = [p for p in [path] + list(paths) if p]
        self._clock = clock
        self._lock = threading.Lock()
        self._last_emit = None
        self.state = "starting"
        self.image_id = None
        self.bytes_total = 0
        self.bytes_done = 0
        self.parts_total = 0
        self.parts_done = 0
        self._samples = collections.deque()  # (time, bytes_done), bounded by RATE_WINDOW
        self._heartbeat = None
        if self._paths:
            # A stalled part still moves the clock: the files show the rate falling and stay fresh.
            self._stop = threading.Event()
            self._heartbeat = threading.Thread(target=self._beat, name="air-progress", daemon=True)
            self._heartbeat.start()

    def _beat(self):
        while not self._stop.wait(HEARTBEAT):
            self.emit(force=True)

    def close(self):
        """Stop the heartbeat (the files keep their last snapshot)."""
        if self._heartbeat is not None:
            self._stop.set()
            self._heartbeat.join(HEARTBEAT * 2)
            self._heartbeat = None

    def set_state(self, state, **fields):
        with self._lock:
            if state != self.state:
                self._samples.clear()  # a new phase measures its own rate
            self.state = state
            for name, value in fields.items():
                setattr(self, name, value)
        self.emit(force=True)

    def add_bytes(self, count):
        with self._lock:
            self.bytes_done += count
        self.emit()

    def part_finished(self):
        with self._lock:
            self.parts_done += 1
        self.emit(force=True)

    def _rate(self, now):
        """Bytes per second over the recent window (caller holds the lock)."""
        self._samples.append((now, self.bytes_done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= RATE_WINDOW:
            self._samples.popleft()
        first_time, first_bytes = self._samples[0]
        elapsed = now - first_time
        return max(0.0, (self.bytes_done - first_bytes) / elapsed) if elapsed > 0 else 0.0

    def snapshot(self):
        with self._lock:
            now = self._clock()
            rate = self._rate(now) if self.state in ("hashing", "uploading") else 0.0
            left = max(0, self.bytes_total - self.bytes_done)
            return {
                "state": self.state,
                "image_id": self.image_id,
                "bytes_done": self.bytes_done,
                "bytes_total": self.bytes_total,
                "parts_done": self.parts_done,
                "parts_total": self.parts_total,
                "percent": self._percent(),
                "rate_bytes_per_second": round(rate, 1),
                "eta_seconds": round(left / rate, 1) if rate > 0 else None,
                "updated_at": time.time(),
                "pid": os.getpid(),
            }

    def _percent(self):
        if not self.bytes_total:
            return 0.0
        percent = round(100.0 * self.bytes_done / self.bytes_total, 1)
        if self.state in ("uploading", "completing") and self.parts_done < self.parts_total:
            percent = min(percent, 99.9)
        return percent

    def emit(self, force=False):
        now = self._clock()
        with self._lock:
            if not force and self._last_emit is not None and now - self._last_emit < MIN_INTERVAL:
                return
            self._last_emit = now
        snap = self.snapshot()
        if self._callback is not None:
            self._callback(snap)
        for path in self._paths:
            try:
                write_json_atomic(path, snap, mode=0o600)
            except OSError:
                pass  # progress is advisory; never fail an upload over it

    @staticmethod
    def prepare_file(path):
        """Check up front that the progress file's directory exists."""
        directory = os.path.dirname(os.path.abspath(path))
        return os.path.isdir(directory)
