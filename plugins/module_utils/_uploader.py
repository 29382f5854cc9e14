# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Parallel multipart upload of an image file, with resume across runs.

hash (cached) -> start-upload -> parts PUT to presigned URLs by a pool of
workers, each streamed from its file offset -> complete-upload -> wait for the
server's validation. Every failure that ends the attempt aborts the upload; a
run that is killed leaves a journal that the next run resumes from.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait as wait_futures, FIRST_EXCEPTION

from urllib.parse import parse_qs, urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter

    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False
    HTTPAdapter = object

from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirError,
    AirFileChangedError,
    AirInputError,
    AirStorageError,
    AirTimeoutError,
    AirUploadError,
    AirUrlExpiredError,
    AirValidationError,
    redact,
    redact_url,
)
from ansible_collections.nvidia.air.plugins.module_utils._files import (
    FileSlice,
    check_checksum,
    check_source,
    identity_of,
)
from ansible_collections.nvidia.air.plugins.module_utils._hashing import HashCache, resolve_sha256
from ansible_collections.nvidia.air.plugins.module_utils._journal import UploadJournal
from ansible_collections.nvidia.air.plugins.module_utils._progress import Progress
from ansible_collections.nvidia.air.plugins.module_utils._retry import (
    STORAGE_RETRY_STATUSES,
    RetryPolicy,
    parse_retry_after,
)

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000
RECOMMENDED_MAX_WORKERS = 10
SEND_BLOCK = 1024 * 1024  # urllib3 sends 16 KiB blocks by default; 1 MiB halves the client's CPU
URL_EXPIRY_MARGIN = 60.0  # do not resume with URLs this close to expiry


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


class _Cancelled(Exception):
    pass


class ImageUploader:
    """Uploads one local file into one Air image. Thread-safe per call, not across calls."""

    def __init__(self, client, workers=4, part_timeout=300.0, part_attempts=5, hash_cache=True, cache_dir=None,
                 progress_file=None, progress_callback=None, retry=None, warn=None, clock=time.monotonic,
                 sleep=time.sleep):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise AirInputError("workers must be an integer >= 1 (got %r)" % (workers,), step="check input")
        if part_timeout is None or part_timeout <= 0:
            raise AirInputError("part_timeout must be a positive number of seconds", step="check input")
        if progress_file and not Progress.prepare_file(progress_file):
            raise AirInputError("the directory of progress_file %s does not exist" % progress_file,
                                step="check input")
        self.client = client
        self.workers = workers
        self.part_timeout = float(part_timeout)
        self.retry = retry or RetryPolicy(attempts=part_attempts, sleep=sleep)
        self.cache_dir = cache_dir
        self.hash_cache = HashCache(cache_dir) if hash_cache else None
        self.progress = Progress(progress_callback, progress_file, clock=clock)
        self._warn = warn or (lambda message: None)
        self._clock = clock
        self._local = threading.local()
        self._hashed = None
        self.part_retries = 0
        self._retries_lock = threading.Lock()
        if workers > RECOMMENDED_MAX_WORKERS:
            self._warn("workers=%d is above %d; more parallel parts rarely help and multiply memory and "
                       "connections (4-8 is usually best)" % (workers, RECOMMENDED_MAX_WORKERS))

    # ------------------------------------------------------------------ hashing
    def file_sha256(self, path, checksum=None):
        """``(sha256, identity, source, seconds)`` without contacting the API.

        The answer is kept, so ``upload()`` of the same unchanged file does not
        hash (or count hashing) twice.
        """
        identity = check_source(path)
        checksum = check_checksum(checksum)
        if self._hashed is not None and self._hashed[1] == identity and (checksum or self._hashed[0]) == \
                self._hashed[0]:
            return self._hashed
        self.progress.set_state("hashing", bytes_total=identity["size"], bytes_done=0)
        sha256, source, seconds = resolve_sha256(path, identity, checksum, self.hash_cache,
                                                 on_read=self.progress.add_bytes)
        self._hashed = (sha256, identity, source, seconds)
        return self._hashed

    # ------------------------------------------------------------------- upload
    def upload(self, image, path, checksum=None, wait=True, wait_timeout=1800.0, poll_interval=5.0):
        """Upload ``path`` into ``image``; returns ``(image, stats)``.

        ``image`` must be READY, or UPLOADING from an interrupted run (resumed
        when our journal matches and its URLs still work, aborted otherwise).
        """
        sha256, identity, source, hash_seconds = self.file_sha256(path, checksum)
        stats = {
            "bytes_total": identity["size"], "bytes_uploaded": 0, "parts_total": 0, "parts_uploaded": 0,
            "parts_resumed": 0, "seconds": 0.0, "mb_per_s": 0.0, "retries": 0, "hash_seconds": round(hash_seconds, 3),
            "hash_source": source, "sha256": sha256, "workers": self.workers, "chunk_size": None, "resumed": False,
            "upload_aborted": None, "validation_seconds": None,
        }
        journal = UploadJournal(self.client.api_url, image.id, self.cache_dir)
        journal.acquire()
        try:
            image = self.client.get_image(image.id, step="start-upload")
            plan, resumed = self._prepare(image, journal, identity, sha256, stats)
            image = self._transfer_and_complete(image, path, identity, journal, plan, resumed, stats)
        finally:
            journal.release()
        if wait:
            image = self._wait_validated(image, stats, wait_timeout, poll_interval)
        self.progress.set_state("complete" if image.upload_status == "COMPLETE" else "validating")
        return image, stats

    def _prepare(self, image, journal, identity, sha256, stats):
        """Resume our own interrupted upload, or start a fresh one."""
        if image.upload_status == "UPLOADING":
            saved = journal.load()
            reason = self._resume_problem(saved, identity, sha256)
            if reason is None:
                journal.resume(saved)
                stats.update(resumed=True, chunk_size=saved["chunk_size"])
                return [Part.from_dict(p) for p in saved["parts"]], True
            self._warn("image %s has an upload in progress that this run cannot resume (%s); aborting it "
                       "and starting again" % (image.label, reason))
            self.client.abort_upload(image)
            journal.remove()
            image = self.client.get_image(image.id, step="start-upload")
        if image.upload_status != "READY":
            raise AirUploadError(
                "image is %s; only a READY image can take an upload" % image.upload_status, step="start-upload",
                image=image.label, image_id=image.id,
                hint="clear the uploaded file first (air_image clear_upload, or on_mismatch: replace)"
                if image.upload_status == "COMPLETE" else None)
        journal.remove()
        return self._start(image, journal, identity, sha256, stats), False

    def _resume_problem(self, saved, identity, sha256):
        if not saved:
            return "no journal of it on this host"
        if saved.get("identity") != identity or saved.get("sha256") != sha256:
            return "it was started for a different file"
        expires = saved.get("urls_expire_at")
        if expires is not None and expires - URL_EXPIRY_MARGIN <= time.time():
            return "its part URLs have expired"
        return None

    def _start(self, image, journal, identity, sha256, stats):
        self.progress.set_state("starting", image_id=image.id)
        answer = self.client.start_upload(image, sha256, identity["size"])
        try:
            plan = plan_parts(identity["size"], answer.get("chunk_size"), answer.get("part_urls"))
            if not answer.get("upload_id"):
                raise ValueError("start-upload returned no upload_id")
        except (ValueError, AttributeError) as exc:
            aborted = self._abort(image)
            raise AirUploadError("the server's upload plan is unusable: %s" % exc, step="start-upload",
                                 image=image.label, image_id=image.id, aborted=aborted)
        expiries = [e for e in (url_expiry(p.url) for p in plan) if e is not None]
        journal.start({
            "api_url": self.client.api_url, "image_id": image.id, "upload_id": answer["upload_id"],
            "sha256": sha256, "size": identity["size"], "chunk_size": int(answer["chunk_size"]),
            "identity": identity, "parts": [p.to_dict() for p in plan],
            "urls_expire_at": min(expiries) if expiries else None, "started_at": time.time(),
        })
        stats["chunk_size"] = int(answer["chunk_size"])
        return plan

    def _transfer_and_complete(self, image, path, identity, journal, plan, resumed, stats):
        done = journal.done_parts()
        todo = [p for p in plan if p.number not in done]
        stats.update(parts_total=len(plan), parts_resumed=len(done))
        self.progress.set_state("uploading", image_id=image.id, parts_total=len(plan), parts_done=len(done),
                                bytes_total=identity["size"],
                                bytes_done=sum(p.length for p in plan if p.number in done))
        started = self._clock()
        try:
            try:
                self._put_parts(path, todo, journal, stats)
            except (AirUrlExpiredError, AirStorageError) as exc:
                if not resumed or not (isinstance(exc, AirUrlExpiredError) or exc.code == "NoSuchUpload"):
                    raise
                # The interrupted upload cannot be continued: start it again cleanly.
                self._warn("resuming %s failed (%s); aborting that upload and starting again"
                           % (image.label, exc.message))
                self.client.abort_upload(image)
                journal.remove()
                image = self.client.get_image(image.id, step="start-upload")
                sha256 = stats["sha256"]
                plan = self._start(image, journal, identity, sha256, stats)
                stats.update(resumed=False, parts_resumed=0, parts_total=len(plan))
                self.progress.set_state("uploading", parts_total=len(plan), parts_done=0, bytes_done=0)
                self._put_parts(path, plan, journal, stats)
            if identity_of(path) != identity:
                raise AirFileChangedError("%s changed while it was being uploaded (size or mtime differ)" % path,
                                          step="complete", image=image.label, image_id=image.id)
            self.progress.set_state("completing")
            parts = [{"part_number": n, "etag": etag} for n, etag in sorted(journal.done_parts().items())]
            image = self.client.complete_upload(image, parts)
        except AirError as exc:
            if isinstance(exc, AirUrlExpiredError):
                minutes = (self._clock() - started) / 60.0
                rate = stats["bytes_uploaded"] / max(self._clock() - started, 1e-6) / 1e6
                exc.hint = ("the part URLs expired after %.1f min of uploading at %.1f MB/s; a faster link or more "
                            "workers finish within their lifetime, a re-run starts a fresh upload" % (minutes, rate))
            raise self._failed(image, journal, exc, stats)
        except Exception as exc:  # a bug must not leave an upload open either
            raise self._failed(image, journal, AirUploadError("unexpected error: %s" % redact(repr(exc)),
                                                              step="upload"), stats)
        journal.remove()
        seconds = self._clock() - started
        stats["seconds"] = round(seconds, 3)
        stats["mb_per_s"] = round(stats["bytes_uploaded"] / seconds / 1e6, 1) if seconds > 0 else 0.0
        stats["retries"] = self.part_retries + self.client.retries
        return image

    def _failed(self, image, journal, exc, stats):
        """Abort the upload after a failure and say whether that worked."""
        stats["retries"] = self.part_retries + self.client.retries
        aborted = self._abort(image)
        if aborted:
            journal.remove()
        stats["upload_aborted"] = aborted
        self.progress.set_state("failed")
        message = exc.message if isinstance(exc, AirError) else str(exc)
        cls = type(exc) if isinstance(exc, AirUploadError) else AirUploadError
        kwargs = dict(step=exc.step if isinstance(exc, AirError) else "upload", image=image.label, image_id=image.id,
                      status=getattr(exc, "status", None), detail=getattr(exc, "detail", None),
                      field_errors=getattr(exc, "field_errors", None), request_id=getattr(exc, "request_id", None),
                      hint=getattr(exc, "hint", None))
        return cls(message, aborted=aborted, stats=stats, cause=exc, **kwargs)

    def _abort(self, image):
        try:
            self.client.abort_upload(image)
            return True
        except AirError as exc:
            if exc.status == 400:  # not UPLOADING (anymore): nothing is left open
                return True
            self._warn("abort-upload for %s failed: %s; the journal is kept so the next run can resume or "
                       "abort it" % (image.label, exc))
            return False

    # ------------------------------------------------------------- part uploads
    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()  # no Authorization: presigned URLs carry their own credentials
            session.verify = self.client.verify
            session.mount("https://", _PartAdapter(pool_maxsize=2))
            session.mount("http://", _PartAdapter(pool_maxsize=2))
            self._local.session = session
        return session

    def _put_parts(self, path, parts, journal, stats):
        if not parts:
            return
        stop = threading.Event()
        lock = threading.Lock()

        def run(part):
            if stop.is_set():
                raise _Cancelled()
            etag = self._put_part(path, part, stop)
            journal.part_done(part.number, etag)
            with lock:
                stats["parts_uploaded"] += 1
                stats["bytes_uploaded"] += part.length
            self.progress.part_finished()
            return part.number

        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(parts)), thread_name_prefix="air-part")
        try:
            futures = [pool.submit(run, part) for part in parts]
            finished, _pending = wait_futures(futures, return_when=FIRST_EXCEPTION)
            failures = [f.exception() for f in finished if f.exception() is not None]
            if failures:
                stop.set()
                for future in futures:
                    future.cancel()
                wait_futures(futures)
                real = [e for e in failures if not isinstance(e, _Cancelled)]
                raise real[0] if real else failures[0]
        finally:
            stop.set()
            pool.shutdown(wait=True)

    def _put_part(self, path, part, stop):
        """PUT one part with retries; returns its ETag (unquoted)."""
        step = "part %d" % part.number
        attempt = 0
        while True:
            attempt += 1
            retry_after = None
            with FileSlice(path, part.offset, part.length, on_read=self.progress.add_bytes,
                           cancelled=stop.is_set) as body:
                try:
                    response = self._session().put(part.url, data=body, timeout=(30.0, self.part_timeout),
                                                   verify=self.client.verify)
                except requests.exceptions.RequestException as exc:
                    self.progress.add_bytes(-body.sent)
                    if stop.is_set():
                        raise _Cancelled()
                    problem = AirStorageError("%s to %s" % (type(exc).__name__, redact_url(part.url)), step=step,
                                              part_number=part.number, detail=redact(str(exc)))
                except IOError:
                    self.progress.add_bytes(-body.sent)
                    raise _Cancelled()
                else:
                    problem, retry_after = self._check_part_response(response, part, step)
                    if problem is None:
                        return response.headers["ETag"].strip().strip('"')
                    self.progress.add_bytes(-body.sent)
            if problem.status is not None and problem.status not in STORAGE_RETRY_STATUSES and \
                    problem.code != "MissingETag":
                raise problem
            if attempt >= self.retry.attempts:
                problem.message = "%s (after %d attempts)" % (problem.message, attempt)
                raise problem
            with self._retries_lock:
                self.part_retries += 1
            if stop.wait(self.retry.delay(attempt, retry_after)):
                raise _Cancelled()

    def _check_part_response(self, response, part, step):
        """``(None, None)`` for a good answer, else ``(error, retry_after)``."""
        status = response.status_code
        if status == 200:
            if response.headers.get("ETag", "").strip().strip('"'):
                return None, None
            return AirStorageError("storage answered 200 without an ETag", step=step, part_number=part.number,
                                   code="MissingETag"), None
        code, message = _storage_error_code(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 403 and (code == "AccessDenied" and "expired" in (message or "").lower()):
            expires = url_expiry(part.url)
            when = ""
            if expires is not None:
                when = " (it expired at %s UTC)" % datetime.datetime.fromtimestamp(
                    expires, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
            return AirUrlExpiredError(
                "the presigned URL for part %d has expired%s" % (part.number, when), step=step, status=status,
                part_number=part.number, code=code,
                hint="the upload took longer than the URLs live; use more workers or a faster link"), None
        if status == 403:
            return AirStorageError(
                "storage refused the presigned URL for part %d (%s: %s)"
                % (part.number, code or "AccessDenied", message or "forbidden"),
                step=step, status=status, part_number=part.number, code=code,
                hint="this is the storage endpoint, not the Air API token"), None
        return AirStorageError(
            "storage answered HTTP %d for part %d%s" % (status, part.number, " (%s)" % code if code else ""),
            step=step, status=status, part_number=part.number, code=code, detail=message), retry_after

    # ------------------------------------------------------------------ waiting
    def _wait_validated(self, image, stats, timeout, poll_interval):
        self.progress.set_state("validating")
        started = self._clock()

        def failed(current):
            if current.upload_status == "READY":
                return "the server's validation rejected the file (size or SHA-256 mismatch); the image is READY again"
            return None

        try:
            image = self.client.wait_for_image(image, lambda i: i.upload_status == "COMPLETE", failed,
                                               step="validate", timeout=timeout, poll_interval=poll_interval)
        except AirTimeoutError:
            self.progress.set_state("failed")
            raise
        except AirError as exc:
            self.progress.set_state("failed")
            if exc.step == "validate" and exc.status is None:
                raise AirValidationError(exc.message, step="validate", image=image.label, image_id=image.id,
                                         stats=stats)
            raise
        stats["validation_seconds"] = round(self._clock() - started, 3)
        return image
