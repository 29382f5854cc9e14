# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Local files: source checks, file identity, private cache files, part slices."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import stat
import tempfile

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirFileChangedError, AirInputError

MAX_UPLOAD_SIZE = 120000000000  # the API's limit for one image file
SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")  # with fullmatch: no trailing newline
CACHE_ENV = "NVIDIA_AIR_CACHE_DIR"


def check_source(path):
    """Identity of a file we may upload, or ``AirInputError`` saying why not."""
    if not path:
        raise AirInputError("src is empty", step="check file")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AirInputError("%s does not exist on this host" % path, step="check file")
    except OSError as exc:
        raise AirInputError("cannot stat %s: %s" % (path, exc.strerror), step="check file")
    if stat.S_ISDIR(st.st_mode):
        raise AirInputError("%s is a directory, not an image file" % path, step="check file")
    if not stat.S_ISREG(st.st_mode):
        raise AirInputError("%s is not a regular file" % path, step="check file")
    if not os.access(path, os.R_OK):
        raise AirInputError("%s is not readable by this user" % path, step="check file")
    if st.st_size == 0:
        raise AirInputError("%s is empty" % path, step="check file")
    if st.st_size > MAX_UPLOAD_SIZE:
        raise AirInputError("%s is %d bytes; the Air API accepts at most %d bytes (120 GB)"
                            % (path, st.st_size, MAX_UPLOAD_SIZE), step="check file")
    return identity_of(path, st)


def identity_of(path, st=None):
    """What must stay the same for a hash (or an upload) to remain valid.

    ``ctime_ns`` is in it because nobody can set it: a file rewritten in
    place with its size and mtime restored (``cp -p``, ``touch -d``) still
    gets a new ctime, so a cached hash or an upload journal never outlives a
    rewrite (the rule git's index uses too).
    """
    st = st or os.stat(path)
    return {"path": os.path.realpath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns, "inode": st.st_ino, "device": st.st_dev}


def current_identity(path):
    """``identity_of(path)``, or None when the file is gone or unreadable."""
    try:
        return identity_of(path)
    except OSError:
        return None


def check_checksum(checksum):
    if checksum is not None and not SHA256_RE.fullmatch(str(checksum)):
        raise AirInputError("checksum must be a SHA-256 hex digest (64 hexadecimal characters)", step="check file")
    return checksum.lower() if checksum else None


def cache_root(override=None):
    """``$NVIDIA_AIR_CACHE_DIR``, else ``$XDG_CACHE_HOME/nvidia.air``, else ``~/.cache/nvidia.air``."""
    if override:
        return os.path.expanduser(override)
    if os.environ.get(CACHE_ENV):
        return os.path.expanduser(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nvidia.air")


def private_dir(path):
    """Create ``path`` (0700) and tighten it if it already exists."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    if stat.S_IMODE(os.stat(path).st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def cache_problem(root=None, subdirs=("uploads", "sha256")):
    """Why the cache directory cannot be used (a short reason), or None when it can.

    Resume and the hash cache need it; a host with a read-only home (or a
    full disk, or a file where a directory should be) still uploads without
    them. Each of ``subdirs`` is made and written to, as the journal and the
    hash cache will.
    """
    root = cache_root(root)
    for path in [root] + [os.path.join(root, name) for name in subdirs]:
        try:
            private_dir(path)
            probe = tempfile.NamedTemporaryFile(prefix=".probe-", dir=path)
            probe.close()
        except OSError as exc:
            return "%s: %s" % (path, exc.strerror or exc)
    return None


def write_json_atomic(path, data, mode=0o600):
    """Write via a temp file + rename so readers never see half a file."""
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, sort_keys=True)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def read_json(path):
    """The JSON in ``path``, or None if missing or unreadable (caches are best effort)."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


class FileSlice:
    """A read-only window of a file for ``requests`` bodies.

    ``__len__`` gives requests the exact Content-Length; ``read(n)`` returns at
    most ``n`` bytes as a view of one buffer that the next ``read`` refills
    (the HTTP client sends a block before it reads the next), so memory stays
    at one send block per part in flight, with no allocation per block.
    ``on_read(count)`` reports progress; ``before_read()`` runs before every
    block and may raise to stop the transfer (cancelled, out of time). A file
    that ends before the window does raises ``AirFileChangedError`` at once:
    the server would otherwise wait for bytes that never come.
    """

    def __init__(self, path, offset, length, on_read=None, before_read=None):
        try:
            self._file = open(path, "rb", buffering=0)
            self._file.seek(offset)
        except OSError as exc:
            raise AirFileChangedError("cannot read %s any more: %s" % (path, exc.strerror or exc), step="upload")
        self._path = path
        self._remaining = length
        self._buffer = None
        self._on_read = on_read
        self._before_read = before_read
        self.sent = 0

    def __len__(self):
        return self._remaining

    def read(self, size=-1):
        if self._remaining <= 0:
            return b""
        if self._before_read is not None:
            self._before_read()
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        if self._buffer is None or len(self._buffer) < size:
            self._buffer = memoryview(bytearray(size))
        try:
            count = self._file.readinto(self._buffer[:size])
        except OSError as exc:
            raise AirFileChangedError("cannot read %s any more: %s" % (self._path, exc.strerror or exc),
                                      step="upload")
        if not count:
            raise AirFileChangedError("%s changed while it was being uploaded (it is shorter than when it was "
                                      "hashed)" % self._path, step="upload")
        self._remaining -= count
        self.sent += count
        if self._on_read is not None:
            self._on_read(count)
        return self._buffer[:count]

    def close(self):
        self._file.close()
        self._buffer = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
