# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The upload journal: what a later run needs to resume an interrupted upload.

Per (API, image) under ``<cache>/uploads/``: ``<key>.json`` holds the upload
id, the part plan with its presigned URLs (so: 0600 files in a 0700
directory), the file identity and hash, written once and atomically;
``<key>.parts`` gets one ``<part number> <etag>`` line appended per finished
part, so a 1,000-part upload does not rewrite the plan 1,000 times. Both are
removed when the upload completes or is aborted. A lock file keeps two runs on
this host from driving the same upload at once.

The journal is also this host's proof that an upload in progress is its own:
a run never aborts an upload it has no journal of (another host may be
sending it).

Without a usable cache directory (read-only home) the journal lives in memory
only: the upload works, a killed run cannot be resumed.
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

JOURNAL_VERSION = 2


class UploadJournal:
    def __init__(self, api_url, image_id, root=None, persistent=True, warn=None):
        self.directory = os.path.join(cache_root(root), "uploads")
        key = hashlib.sha256(("%s\n%s" % (api_url, image_id)).encode()).hexdigest()[:40]
        self.path = os.path.join(self.directory, key + ".json")
        self.parts_path = os.path.join(self.directory, key + ".parts")
        self.lock_path = os.path.join(self.directory, key + ".lock")
        self.persistent = persistent
        self.data = None
        self._warn = warn or (lambda message: None)
        self._lock_fd = None
        self._write_lock = threading.Lock()

    # ------------------------------------------------------------- host lock
    def try_acquire(self):
        """Take the per-image lock; False while another run on this host holds it.

        A lock file that cannot be made (full disk, lost permissions) turns the
        journal into a memory-only one, with a warning: the upload goes on.
        """
        if not self.persistent:
            return True
        try:
            fd = self._try_lock()
        except OSError as exc:
            self.persistent = False
            self._warn("cannot lock the upload journal in %s (%s); the upload goes on, but a killed run cannot "
                       "resume it" % (self.directory, exc.strerror or exc))
            return True
        if fd is None:
            return False
        self._lock_fd = fd
        return True

    def acquire(self):
        """Take the per-image lock or fail: another run on this host is uploading it."""
        if not self.try_acquire():
            raise AirUploadError("another run on this host is uploading this image right now", step="start-upload",
                                 hint="wait for it to finish, or run again afterwards")

    def _try_lock(self):
        """The locked file descriptor, or None when another process holds the lock."""
        private_dir(self.directory)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    def release(self):
        if self._lock_fd is not None:
            if not os.path.exists(self.path):  # nothing left to resume: do not leave the lock file behind
                _unlink(self.lock_path)
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def discard_if_idle(self):
        """Remove a leftover journal (it holds presigned URLs) unless a run on this host is using it.

        For an image with no upload in progress: a run killed after the
        server had completed its upload leaves one behind.
        """
        if not self.persistent or not os.path.exists(self.path):
            return False
        try:
            fd = self._try_lock()
        except OSError:
            return False
        if fd is None:
            return False
        try:
            self.remove()
            _unlink(self.lock_path)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return True

    # --------------------------------------------------------------- content
    def load(self):
        """The saved plan with ``done`` ({part number: etag}), or None."""
        if not self.persistent:
            return None
        data = read_json(self.path)
        if not data or data.get("version") != JOURNAL_VERSION:
            return None
        data["done"] = self._read_done()
        return data

    def _read_done(self):
        done = {}
        try:
            with open(self.parts_path) as handle:
                for line in handle:
                    fields = line.split()
                    # a line cut short by a kill has no newline (or no etag): ignore it
                    if line.endswith("\n") and len(fields) == 2 and fields[0].isdigit():
                        done[int(fields[0])] = fields[1]
        except OSError:
            pass
        return done

    def start(self, data):
        self.data = dict(data, version=JOURNAL_VERSION)
        self._write(self._write_plan)
        self.data["done"] = {}

    def _write_plan(self):
        private_dir(self.directory)
        fd = os.open(self.parts_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        write_json_atomic(self.path, self.data, mode=0o600)

    def resume(self, data):
        self.data = data

    def part_done(self, part_number, etag):
        with self._write_lock:
            self.data["done"][part_number] = etag

            def append():
                fd = os.open(self.parts_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, ("%d %s\n" % (part_number, etag)).encode())
                finally:
                    os.close(fd)

            self._write(append)

    def _write(self, write):
        """Persist, or carry on in memory (warned once) when the disk refuses."""
        if not self.persistent:
            return
        try:
            write()
        except OSError as exc:
            self.persistent = False
            self._warn("cannot write the upload journal in %s (%s); the upload goes on, but a killed run "
                       "cannot resume it" % (self.directory, exc.strerror or exc))
            self._unlink_files()

    def done_parts(self):
        return dict((self.data or {}).get("done", {}))

    def remove(self):
        self.data = None
        self._unlink_files()

    def _unlink_files(self):
        for path in (self.path, self.parts_path):
            _unlink(path)


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass
