# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The parts of a multipart upload: the server's plan as byte ranges, and sending them to storage.

``plan_parts`` turns a start-upload answer into ``Part``s; ``PartSender``
PUTs them to their presigned URLs, each streamed from its file offset, as
many at once as the worker policy (``_concurrency``) allows, each one under
the retry policy with an end-to-end deadline per attempt.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import datetime
import math
import re
import threading
from concurrent.futures import ThreadPoolExecutor, wait as wait_futures, FIRST_COMPLETED

from urllib.parse import parse_qs, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.timeout import Timeout
except ImportError:
    HTTPAdapter = object  # the client reports the missing library before anything is sent

from ansible_collections.nvidia.air.plugins.module_utils._concurrency import balanced, is_throttling, worker_policy
from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirFileChangedError,
    AirStorageError,
    AirUrlExpiredError,
    redact,
    redact_url,
)
from ansible_collections.nvidia.air.plugins.module_utils._files import FileSlice
from ansible_collections.nvidia.air.plugins.module_utils._retry import STORAGE_RETRY_STATUSES, parse_retry_after

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000
SEND_BLOCK = 1024 * 1024  # urllib3 sends 16 KiB blocks by default; 1 MiB halves the client's CPU
CONNECT_TIMEOUT = 30.0


class _PartAdapter(HTTPAdapter):
    """Connection pool for presigned PUTs with large send blocks."""

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        kwargs["blocksize"] = SEND_BLOCK
        super(_PartAdapter, self).init_poolmanager(connections, maxsize, block=block, **kwargs)


class Part:
    __slots__ = ("number", "offset", "length", "url")

    def __init__(self, number, offset, length, url):
        self.number, self.offset, self.length, self.url = number, offset, length, url

    def to_dict(self):
        return {"number": self.number, "offset": self.offset, "length": self.length, "url": self.url}

    @classmethod
    def from_dict(cls, data):
        return cls(data["number"], data["offset"], data["length"], data["url"])


def plan_parts(size, chunk_size, part_urls):
    """Byte ranges for the server's plan; refuse a plan S3 would reject."""
    if not isinstance(part_urls, list) or not part_urls:
        raise ValueError("start-upload returned no part URLs")
    try:
        chunk_size = int(chunk_size)
        numbers = [int(item.get("part_number", index + 1)) for index, item in enumerate(part_urls)]
        urls = [str(item["url"]) for item in part_urls]
    except (AttributeError, KeyError, TypeError, ValueError):
        raise ValueError("start-upload returned malformed part_urls")
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError("part numbers are not 1..%d in order" % len(numbers))
    count = len(numbers)
    if count > MAX_PARTS:
        raise ValueError("%d parts exceed S3's limit of %d" % (count, MAX_PARTS))
    if chunk_size <= 0 or count != int(math.ceil(size / float(chunk_size))):
        raise ValueError("%d part URLs do not fit a %d-byte file in %d-byte parts" % (count, size, chunk_size))
    if count > 1 and chunk_size < MIN_PART_SIZE:
        raise ValueError("chunk_size %d is below S3's 5 MiB minimum part size" % chunk_size)
    return [Part(n, (n - 1) * chunk_size, min(chunk_size, size - (n - 1) * chunk_size), urls[n - 1])
            for n in numbers]


def url_expiry(url):
    """Epoch seconds when a presigned URL expires (SigV4 or SigV2), None if unknown."""
    query = parse_qs(urlsplit(url).query)
    try:
        if "X-Amz-Date" in query and "X-Amz-Expires" in query:
            signed = datetime.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
            signed = signed.replace(tzinfo=datetime.timezone.utc).timestamp()
            return signed + float(query["X-Amz-Expires"][0])
        if "Expires" in query:
            return float(query["Expires"][0])
    except (ValueError, IndexError):
        return None
    return None


def _storage_error_code(response):
    text = response.text or ""
    code = re.search(r"<Code>([^<]+)</Code>", text)
    message = re.search(r"<Message>([^<]+)</Message>", text)
    return (code.group(1) if code else None), (message.group(1) if message else None)


def _check_response(response, part, step):
    """None for a good answer, else the error (its ``retry_after`` from the answer)."""
    status = response.status_code
    if status == 200:
        if response.headers.get("ETag", "").strip().strip('"'):
            return None
        return AirStorageError("storage answered 200 without an ETag", step=step, part_number=part.number,
                               code="MissingETag")
    code, message = _storage_error_code(response)
    if status == 403 and (code == "AccessDenied" and "expired" in (message or "").lower()):
        expires = url_expiry(part.url)
        when = ""
        if expires is not None:
            when = " (it expired at %s UTC)" % datetime.datetime.fromtimestamp(
                expires, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return AirUrlExpiredError(
            "the presigned URL for part %d has expired%s" % (part.number, when), step=step, status=status,
            part_number=part.number, code=code,
            hint="the upload took longer than the URLs live; use more workers or a faster link")
    if status == 403:
        return AirStorageError(
            "storage refused the presigned URL for part %d (%s: %s)"
            % (part.number, code or "AccessDenied", message or "forbidden"),
            step=step, status=status, part_number=part.number, code=code,
            hint="this is the storage endpoint, not the Air API token")
    return AirStorageError(
        "storage answered HTTP %d for part %d%s" % (status, part.number, " (%s)" % code if code else ""),
        step=step, status=status, part_number=part.number, code=code, detail=message,
        retry_after=parse_retry_after(response.headers.get("Retry-After")))


def _out_of_time(error):
    """Mark a part's error as having run out of ``part_timeout`` (the worker policy sends fewer at once)."""
    error.out_of_time = True
    return error


class _Cancelled(Exception):
    """Another part failed: this one stops."""


class _OutOfTime(Exception):
    """One attempt at a part ran past ``part_timeout``."""


class PartSender:
    """Sends parts to storage for one uploader; counts the retries of part PUTs.

    ``check_file()`` runs before each attempt (raising ``AirFileChangedError``
    when the file is not the one hashed any more); ``progress`` is the
    uploader's ``Progress``.
    """

    def __init__(self, verify, part_timeout, retry, progress, check_file, clock):
        self.verify = verify
        self.part_timeout = part_timeout
        self.retry = retry
        self.progress = progress
        self.check_file = check_file
        self._clock = clock
        self._local = threading.local()
        self.retries = 0
        self._retries_lock = threading.Lock()
        self.policy = None  # the worker policy of the parts being sent

    def session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()  # no Authorization: presigned URLs carry their own credentials
            session.verify = self.verify
            session.mount("https://", _PartAdapter(pool_maxsize=2))
            session.mount("http://", _PartAdapter(pool_maxsize=2))
            self._local.session = session
        return session

    def timeout(self):
        """Connect and each blocking send within ``part_timeout``, the answer within what is left of it."""
        return Timeout(connect=min(CONNECT_TIMEOUT, self.part_timeout), read=self.part_timeout,
                       total=self.part_timeout)

    def send(self, parts, path, workers, stats, on_part_done):
        """Send ``parts`` of ``path``, at most as many at once as the worker policy for ``workers`` allows.

        ``on_part_done(part, etag)`` runs for each part the storage accepted;
        ``stats`` gets ``parts_uploaded``, ``bytes_uploaded``, ``workers_peak``
        and ``workers`` (the count the policy settled on). The first part that
        fails for good stops the others and its error is raised.
        """
        if not parts:
            return
        stop = threading.Event()
        lock = threading.Lock()
        workers = self.policy = worker_policy(workers, self._clock, parts=len(parts),
                                              part_size=max(part.length for part in parts))

        def run(part):
            if stop.is_set():
                raise _Cancelled()
            etag = self._put(part, path, stop)
            on_part_done(part, etag)
            with lock:
                stats["parts_uploaded"] += 1
                stats["bytes_uploaded"] += part.length
            self.progress.part_finished()
            return part.number

        waiting, running = collections.deque(parts), set()

        def slots():
            """Parts to have in flight now: the fixed count or the one ``auto`` measures, and once ``auto`` has
            decided, its room spread over equal waves."""
            if workers.auto and workers.done:
                return balanced(workers.room, len(waiting) + len(running))
            return workers.limit

        def count_in_effect():
            """Whether the policy's count is what runs (parts wait for a slot, or every slot is busy)."""
            return bool(waiting) or len(running) >= workers.limit

        pool = ThreadPoolExecutor(max_workers=min(workers.cap, len(parts)), thread_name_prefix="air-part")
        try:
            while waiting or running:
                while waiting and len(running) < slots():
                    running.add(pool.submit(run, waiting.popleft()))
                stats["workers_peak"] = max(stats["workers_peak"], len(running))
                check_in = workers.next_check(self._clock()) if count_in_effect() else None
                finished, running = wait_futures(running, timeout=check_in, return_when=FIRST_COMPLETED)
                failures = [f.exception() for f in finished if f.exception() is not None]
                if failures:
                    stop.set()
                    failures += [f.exception() for f in wait_futures(running)[0] if f.exception() is not None]
                    real = [e for e in failures if not isinstance(e, _Cancelled)]
                    raise real[0] if real else failures[0]
                if count_in_effect():  # measured only then: a count that cannot be filled says nothing
                    workers.observe(self._clock(), self.progress.bytes_done, len(waiting) + len(running))
        finally:
            stop.set()
            pool.shutdown(wait=True)
            stats["workers"] = min(workers.settled, stats["workers_peak"]) if workers.auto else workers.settled

    def _put(self, part, path, stop):
        """PUT one part under the retry policy; returns its ETag (unquoted)."""
        step = "part %d" % part.number

        def attempt(_number, _last_error):
            if stop.is_set():
                raise _Cancelled()
            self.check_file()
            started = self._clock()
            deadline = started + self.part_timeout

            def before_read():
                if stop.is_set():
                    raise _Cancelled()
                if self._clock() > deadline:
                    raise _OutOfTime()

            with FileSlice(path, part.offset, part.length, on_read=self.progress.add_bytes,
                           before_read=before_read) as body:
                try:
                    response = self.session().put(part.url, data=body, timeout=self.timeout(),
                                                  verify=self.verify)
                except (_Cancelled, AirFileChangedError):
                    self.progress.add_bytes(-body.sent)
                    raise
                except _OutOfTime:
                    self.progress.add_bytes(-body.sent)
                    raise _out_of_time(AirStorageError("part %d did not finish within part_timeout (%gs)"
                                                       % (part.number, self.part_timeout), step=step,
                                                       part_number=part.number)) from None
                except requests.exceptions.RequestException as exc:
                    self.progress.add_bytes(-body.sent)
                    if stop.is_set():
                        raise _Cancelled()
                    timed_out = isinstance(exc, requests.exceptions.Timeout) or \
                        self._clock() - started >= self.part_timeout
                    if timed_out:
                        what = "part %d did not finish within part_timeout (%gs)" % (part.number, self.part_timeout)
                    else:
                        what = "%s to %s" % (type(exc).__name__, redact_url(part.url))
                    error = AirStorageError(what, step=step, part_number=part.number, detail=redact(str(exc)))
                    raise (_out_of_time(error) if timed_out else error) from None
                problem = _check_response(response, part, step)
                if problem is not None:
                    self.progress.add_bytes(-body.sent)
                    raise problem
                return response.headers["ETag"].strip().strip('"')

        def is_transient(error):
            if not isinstance(error, AirStorageError) or isinstance(error, AirUrlExpiredError):
                return False
            return error.status is None or error.status in STORAGE_RETRY_STATUSES or error.code == "MissingETag"

        def count_retry(error, _number):
            with self._retries_lock:
                self.retries += 1
            # Throttled, or out of time because too many parts share the link: fewer parts at once.
            if is_throttling(getattr(error, "status", None), getattr(error, "code", None)) or \
                    getattr(error, "out_of_time", False):
                self.policy.slow_down(self._clock())

        def wait(seconds):
            if stop.wait(seconds):
                raise _Cancelled()

        return self.retry.run(attempt, is_transient, on_retry=count_retry, wait=wait)
