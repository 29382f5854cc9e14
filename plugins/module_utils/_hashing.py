# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""SHA-256 of image files, streamed, with a cache keyed by the file's identity."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import time

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._files import (
    cache_root,
    identity_of,
    private_dir,
    read_json,
    write_json_atomic,
)

READ_SIZE = 1024 * 1024  # hashlib releases the GIL; 1 MiB reads run at the SHA-NI ceiling


def sha256_file(path, on_read=None):
    """Hex SHA-256 of ``path`` read in 1 MiB blocks (never the whole file)."""
    digest = hashlib.sha256()
    buffer = bytearray(READ_SIZE)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as handle:
            while True:
                count = handle.readinto(buffer)
                if not count:
                    break
                digest.update(view[:count])
                if on_read is not None:
                    on_read(count)
    except OSError as exc:
        raise AirInputError("cannot read %s: %s" % (path, exc.strerror or exc), step="hash")
    return digest.hexdigest()


class HashCache:
    """``<cache>/sha256/<key>.json`` per file identity (path, size, mtime_ns, inode, device)."""

    def __init__(self, root=None):
        self.directory = os.path.join(cache_root(root), "sha256")

    @staticmethod
    def _key(identity):
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:40]

    def get(self, identity):
        entry = read_json(os.path.join(self.directory, self._key(identity) + ".json"))
        if entry and entry.get("identity") == identity:
            return entry.get("sha256")
        return None

    def put(self, identity, sha256):
        try:
            private_dir(self.directory)
            write_json_atomic(os.path.join(self.directory, self._key(identity) + ".json"),
                              {"identity": identity, "sha256": sha256, "stored_at": time.time()})
        except OSError:
            pass  # a cache that cannot be written only costs a re-hash next time


def resolve_sha256(path, identity, checksum=None, cache=None, on_read=None, compute=True):
    """``(sha256, source, seconds)``; source is ``checksum``, ``cache`` or ``computed``.

    A caller-supplied checksum is trusted here and verified by the server's
    validation after the upload. With ``compute=False`` the file is not read:
    ``(None, None, 0.0)`` when neither a checksum nor a cached hash is there.
    """
    if checksum:
        return checksum.lower(), "checksum", 0.0
    if cache is not None:
        cached = cache.get(identity)
        if cached:
            return cached, "cache", 0.0
    if not compute:
        return None, None, 0.0
    started = time.monotonic()
    sha256 = sha256_file(path, on_read=on_read)
    seconds = time.monotonic() - started
    if identity_of(path) != identity:
        raise AirInputError("%s changed while it was being hashed" % path, step="hash")
    if cache is not None:
        cache.put(identity, sha256)
    return sha256, "computed", seconds
