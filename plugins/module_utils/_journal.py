# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The upload journal: what a later run needs to resume an interrupted upload.

One file per (API, image) under ``<cache>/uploads/``: the upload id, the part
plan with its presigned URLs (so: 0600 files in a 0700 directory), the file
identity and hash, and the ETag of every finished part. Written atomically
after each part; removed when the upload completes or is aborted. A lock file
keeps two runs on this host from driving the same upload at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import hashlib
import os
import threading

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirUploadError
from ansible_collections.nvidia.air.plugins.module_utils._files import (
    cache_root,
    private_dir,
    read_json,
    write_json_atomic,
)

JOURNAL_VERSION = 1


class UploadJournal:
    def __init__(self, api_url, image_id, root=None):
        self.directory = os.path.join(cache_root(root), "uploads")
        key = hashlib.sha256(("%s\n%s" % (api_url, image_id)).encode()).hexdigest()[:40]
        self.path = os.path.join(self.directory, key + ".json")
        self.lock_path = os.path.join(self.directory, key + ".lock")
        self.data = None
        self._lock_fd = None
        self._write_lock = threading.Lock()

    def acquire(self):
        """Take the per-image lock or fail: another run on this host is uploading it."""
        private_dir(self.directory)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise AirUploadError("another run on this host is uploading this image right now", step="start-upload")
        self._lock_fd = fd

    def release(self):
        if self._lock_fd is not None:
            if not os.path.exists(self.path):  # nothing left to resume: do not leave the lock file behind
                try:
                    os.unlink(self.lock_path)
                except OSError:
                    pass
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def load(self):
        data = read_json(self.path)
        if not data or data.get("version") != JOURNAL_VERSION:
            return None
        return data

    def start(self, data):
        self.data = dict(data, version=JOURNAL_VERSION, done={})
        self._write()

    def resume(self, data):
        self.data = data

    def part_done(self, part_number, etag):
        with self._write_lock:
            self.data["done"][str(part_number)] = etag
            self._write()

    def done_parts(self):
        return dict((int(k), v) for k, v in (self.data or {}).get("done", {}).items())

    def _write(self):
        private_dir(self.directory)
        write_json_atomic(self.path, self.data, mode=0o600)

    def remove(self):
        self.data = None
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
