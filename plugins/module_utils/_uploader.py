# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Parallel multipart upload of an image file, with resume across runs.

hash (cached) -> start-upload -> parts PUT to presigned URLs by a pool of
workers, each streamed from its file offset (``_parts``) -> complete-upload ->
wait for the server's validation. This module decides what happens to the
image's upload; ``_parts`` only sends bytes.

Rules when runs meet on one image (the image guide's "Concurrency and
recovery rules" explain them to users):

- A run drives only an upload it can show is its own: one it started, or one
  its journal on this host describes and the server confirms (the image was
  not touched since, or a part PUT to that upload succeeds). It never aborts
  any other upload; it waits (up to ``wait_timeout``) until that upload ends
  and then adopts the result if it is the same file.
- Any failure of its own upload aborts it (no orphaned multipart upload),
  except a failed complete-upload after every part was sent: that upload and
  its journal are kept, so the next run sends no part again.
- After ``NoSuchUpload`` its upload is gone: there is nothing to abort.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

try:
    import requests
except ImportError:
    pass  # the client reports the missing library before anything is sent

from ansible_collections.nvidia.air.plugins.module_utils._concurrency import AUTO, AUTO_START
from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirError,
    AirFileChangedError,
    AirInputError,
    AirStorageError,
    AirTimeoutError,
    AirUploadError,
    AirUrlExpiredError,
    AirValidationError,
    redact,
)
from ansible_collections.nvidia.air.plugins.module_utils._files import (
    cache_problem,
    check_checksum,
    check_source,
    current_identity,
)
from ansible_collections.nvidia.air.plugins.module_utils._hashing import HashCache, resolve_sha256
from ansible_collections.nvidia.air.plugins.module_utils._journal import UploadJournal
from ansible_collections.nvidia.air.plugins.module_utils._models import UPLOADED_STATES
from ansible_collections.nvidia.air.plugins.module_utils._parts import Part, PartSender, plan_parts, url_expiry
from ansible_collections.nvidia.air.plugins.module_utils._progress import Progress
from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy
from ansible_collections.nvidia.air.plugins.module_utils._transport import is_lost

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000
RECOMMENDED_MAX_WORKERS = 10
SEND_BLOCK = 1024 * 1024  # urllib3 sends 16 KiB blocks by default; 1 MiB halves the client's CPU
URL_EXPIRY_MARGIN = 60.0  # do not resume with URLs this close to expiry
CONNECT_TIMEOUT = 30.0
MAX_RESTARTS = 3  # fresh starts after losing an upload (bounded: a flapping server cannot loop us forever)
# complete-upload errors (S3's, passed on by the Air API) that prove the sent parts unusable.
BAD_PARTS_CODES = frozenset(("InvalidPart", "InvalidPartOrder", "EntityTooSmall"))


class _Restart(Exception):
    """This run's upload cannot go on; ``aborted`` tells whether it was aborted (else it was already gone)."""

    def __init__(self, reason, aborted):
        super(_Restart, self).__init__(reason)
        self.reason, self.aborted = reason, aborted


class _Kept(Exception):
    """The upload is left open on purpose (see ``_complete``); ``error`` is what the caller gets."""

    def __init__(self, error):
        super(_Kept, self).__init__(str(error))
        self.error = error


class _Job:
    """One ``upload()`` call: the file, its hash and what this run proved and did."""

    def __init__(self, path, identity, sha256, stats, wait_timeout, poll_interval):
        self.path, self.identity, self.sha256, self.stats = path, identity, sha256, stats
        self.wait_timeout, self.poll_interval = wait_timeout, poll_interval
        self.plan = None
        self.resumed = False
        self.owned = False  # this run started the upload, or the server confirmed it is the journal's
        self.met_other_run = False  # another run's upload was found on the image


class ImageUploader:
    """Uploads one local file into one Air image. Thread-safe per call, not across calls."""

    def __init__(self, client, workers=4, part_timeout=300.0, part_attempts=5, hash_cache=True, cache_dir=None,
                 progress_file=None, progress_callback=None, retry=None, warn=None, clock=time.monotonic,
                 sleep=time.sleep, watcher_progress_file=None):
        if workers != AUTO and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise AirInputError("workers must be an integer >= 1 or %r (got %r)" % (AUTO, workers), step="check input")
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
        self._warn = warn or (lambda message: None)
        problem = cache_problem(cache_dir)
        self.persistent = problem is None
        if problem:
            self._warn("cannot use the cache directory (%s); resuming a killed upload and the hash cache are off "
                       "for this run: set NVIDIA_AIR_CACHE_DIR to a writable directory to have them" % problem)
        self.hash_cache = HashCache(cache_dir) if hash_cache and self.persistent else None
        # watcher_progress_file: the action plugin's own copy, whatever the user does with progress_file.
        self.progress = Progress(progress_callback, progress_file, clock=clock,
                                 paths=[watcher_progress_file] if watcher_progress_file else ())
        self._clock = clock
        self._sleep = sleep
        self._hashed = None
        self._job = None  # the upload() in progress (its file is what each part attempt checks)
        self.parts = PartSender(client.verify, self.part_timeout, self.retry, self.progress,
                                check_file=lambda: self._check_unchanged(self._job), clock=clock)
        if workers != AUTO and workers > RECOMMENDED_MAX_WORKERS:
            self._warn("workers=%d is above %d; more parallel parts rarely help and multiply memory and "
                       "connections (4-8 is usually best)" % (workers, RECOMMENDED_MAX_WORKERS))

    # ------------------------------------------------------------------ hashing
    def file_sha256(self, path, checksum=None, compute=True):
        """``(sha256, identity, source, seconds)`` without contacting the API.

        The answer is kept, so ``upload()`` of the same unchanged file does not
        hash (or count hashing) twice. With ``compute=False`` it never reads the
        file: None when the hash is neither given nor cached.
        """
        identity = check_source(path)
        checksum = check_checksum(checksum)
        if self._hashed is not None and self._hashed[1] == identity and (checksum or self._hashed[0]) == \
                self._hashed[0]:
            return self._hashed
        if not compute:
            sha256, source, seconds = resolve_sha256(path, identity, checksum, self.hash_cache, compute=False)
            if sha256 is None:
                return None
            self._hashed = (sha256, identity, source, seconds)
            return self._hashed
        self.progress.set_state("hashing", bytes_total=identity["size"], bytes_done=0)
        sha256, source, seconds = resolve_sha256(path, identity, checksum, self.hash_cache,
                                                 on_read=self.progress.add_bytes)
        self._hashed = (sha256, identity, source, seconds)
        return self._hashed

    def discard_stale_journal(self, image):
        """Forget this host's journal of ``image`` when it has no upload in progress.

        A run killed while complete-upload was in flight (and the server
        completed it) leaves one; it holds presigned URLs, so it must not stay.
        """
        if image.upload_status != "UPLOADING" and self.persistent:
            UploadJournal(self.client.api_url, image.id, self.cache_dir).discard_if_idle()

    # ------------------------------------------------------------------- upload
    def upload(self, image, path, checksum=None, wait=True, wait_timeout=1800.0, poll_interval=5.0):
        """Upload ``path`` into ``image``; returns ``(image, stats)``.

        ``image`` should be READY, or UPLOADING from an interrupted run (see the
        module docstring for whose upload is resumed, waited for or aborted).
        ``stats["adopted"]`` is true when another run uploaded the same file
        while this one waited (nothing was sent).
        """
        sha256, identity, source, hash_seconds = self.file_sha256(path, checksum)
        stats = {
            "bytes_total": identity["size"], "bytes_uploaded": 0, "parts_total": 0, "parts_uploaded": 0,
            "parts_resumed": 0, "seconds": 0.0, "mb_per_s": 0.0, "retries": 0, "hash_seconds": round(hash_seconds, 3),
            "hash_source": source, "sha256": sha256, "workers": AUTO_START if self.workers == AUTO else self.workers,
            "workers_auto": self.workers == AUTO, "workers_peak": 0, "chunk_size": None, "resumed": False,
            "upload_aborted": None, "validation_seconds": None, "adopted": False, "waited_seconds": 0.0,
        }
        job = self._job = _Job(path, identity, sha256, stats, wait_timeout, poll_interval)
        journal = UploadJournal(self.client.api_url, image.id, self.cache_dir, persistent=self.persistent,
                                warn=self._warn)
        self._acquire(journal, image, job)
        try:
            image = self._drive(self.client.images.get(image.id, step="start-upload"), journal, job)
        finally:
            journal.release()
        if stats["adopted"] and not image.has_content(sha256, identity["size"]):
            raise self._other_file(image, job)
        if wait and image.upload_status == "VALIDATING":
            image = self._wait_validated(image, job)
        if image.is_uploaded and not image.has_content(sha256, identity["size"]):
            # Between this run's complete-upload and now, another run replaced the file (on_mismatch: replace
            # on another host): say so instead of reporting this file as uploaded.
            raise self._other_file(image, job)
        self.progress.set_state("complete" if image.upload_status == "COMPLETE" else "validating")
        return image, stats

    def _drive(self, image, journal, job):
        """Bring ``image`` from wherever it stands to an uploaded file; the one place uploads (re)start."""
        restarts = 0
        while True:
            status = image.upload_status
            if status == "VALIDATING":  # another run's upload (ours returns from the transfer below)
                image = self._wait_for_other_run(image, job)
                continue
            if status in UPLOADED_STATES and (job.met_other_run or image.has_content(job.sha256, job.identity["size"])):
                job.stats["adopted"] = True  # another run uploaded a file (upload() checks it is this one)
                return image
            if status == "UPLOADING":
                image = self._take_over(image, journal, job)
                if image.upload_status != "UPLOADING":
                    continue
            elif status == "READY":
                image = self._start(image, journal, job)
                if image.upload_status != "UPLOADING" or not job.owned:
                    continue  # another run got there first
            else:
                raise AirUploadError(
                    "image is %s; only a READY image can take an upload" % status, step="start-upload",
                    image=image.label, image_id=image.id,
                    hint="clear the uploaded file first (air_image clear_upload, or on_mismatch: replace)"
                    if status == "COMPLETE" else None)
            try:
                return self._transfer_and_complete(image, journal, job)
            except _Restart as restart:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise AirUploadError("gave up after %d fresh starts: %s" % (MAX_RESTARTS, restart.reason),
                                         step="upload", image=image.label, image_id=image.id,
                                         aborted=restart.aborted, stats=job.stats)
                self._warn("%s; %s" % (restart.reason, "starting again" if restart.aborted else
                                       "looking at the image again"))
                journal.remove()
                job.owned, job.resumed, job.plan = False, False, None
                job.stats.update(resumed=False, parts_resumed=0)
                image = self.client.images.get(image.id, step="start-upload")

    def _acquire(self, journal, image, job):
        """Take this host's lock on the image, waiting (up to ``wait_timeout``) while another run holds it.

        That run may be a background job whose controller went away; once it
        ends, ``_drive`` finds what it left (a finished upload, or a journal
        to resume).
        """
        if journal.try_acquire():
            return
        job.met_other_run = True
        self.progress.set_state("waiting", image_id=image.id)
        self._warn("another run on this host is uploading into image %s; waiting up to %ss for it to finish"
                   % (image.label, job.wait_timeout))
        deadline = self._clock() + job.wait_timeout
        while not journal.try_acquire():
            if self._clock() >= deadline:
                raise AirUploadError(
                    "another run on this host is still uploading into image %s after %ss" % (image.label,
                                                                                             job.wait_timeout),
                    step="wait for another upload", image=image.label, image_id=image.id, stats=job.stats,
                    hint="wait for it to finish, or run again afterwards")
            self._sleep(min(job.poll_interval, max(0.0, deadline - self._clock())))
            self._still_alive()

    # ------------------------------------------------- whose upload is it?
    def _take_over(self, image, journal, job):
        """An UPLOADING image: resume it (ours), abort it (ours, unusable) or wait for it (not ours).

        Returns the image: still UPLOADING with ``job.plan`` set to resume, or
        in the state the wait or the abort left it.
        """
        saved = journal.load()
        if saved is not None and saved.get("image_id") == image.id:
            problem = self._resume_problem(saved, job)
            if problem is None:
                journal.resume(saved)
                job.plan = [Part.from_dict(p) for p in saved["parts"]]
                job.resumed = True
                job.owned = saved.get("image_modified") == image.modified  # untouched since we started it
                job.stats.update(resumed=True, chunk_size=saved["chunk_size"])
                return image
            if self._confirmed_ours(image, saved):
                self._warn("image %s has an upload from an earlier run on this host that cannot be resumed (%s); "
                           "aborting it and starting again" % (image.label, problem))
                self.client.uploads.abort(image)
                journal.remove()
                return self.client.images.get(image.id, step="start-upload")
            journal.remove()  # its upload was replaced by another run's: that one is not ours to abort
        return self._wait_for_other_run(image, job)

    def _resume_problem(self, saved, job):
        if saved.get("identity") != job.identity or saved.get("sha256") != job.sha256:
            return "it was started for a different file"
        if len(saved.get("done") or {}) == len(saved.get("parts") or ()):
            return None  # every part is sent: completing needs no part URL, however old
        expires = saved.get("urls_expire_at")
        if expires is not None and expires - URL_EXPIRY_MARGIN <= time.time():
            return "its part URLs have expired"
        return None

    def _confirmed_ours(self, image, saved):
        """Whether the server shows that the journal's upload is the image's current one.

        The image not modified since we started it is proof; otherwise an empty
        PUT to one of the journal's part URLs is (200: that upload exists;
        NoSuchUpload: it was replaced). Expired URLs prove nothing.
        """
        if saved.get("image_modified") and saved.get("image_modified") == image.modified:
            return True
        parts = saved.get("parts") or []
        expires = saved.get("urls_expire_at")
        if not parts or (expires is not None and expires <= time.time()):
            return False
        try:
            response = self.parts.session().put(parts[0]["url"], data=b"", timeout=self.parts.timeout(),
                                                verify=self.client.verify)
        except requests.exceptions.RequestException:
            return False
        return response.status_code == 200

    def _wait_for_other_run(self, image, job):
        """Wait (up to ``wait_timeout``) until an upload this run did not start is over (uploaded and
        validated, or aborted); return the image then."""
        job.met_other_run = True
        self.progress.set_state("waiting", image_id=image.id)
        self._warn("image %s has an upload in progress that this run did not start (another host or run); "
                   "waiting up to %ss for it to end" % (image.label, job.wait_timeout))
        started = self._clock()
        try:
            image = self.client.images.wait_for(
                image, lambda i: i.upload_status not in ("UPLOADING", "VALIDATING"), step="wait for another upload",
                timeout=job.wait_timeout, poll_interval=job.poll_interval, clock=self._clock, sleep=self._sleep,
                on_poll=self._still_alive)
        except AirTimeoutError as exc:
            raise AirUploadError(
                "image %s has an upload in progress that this run did not start, and it was still UPLOADING "
                "after %ss" % (image.label, job.wait_timeout), step="wait for another upload", image=image.label,
                image_id=image.id, stats=job.stats, cause=exc,
                hint="if no other run is uploading it, abort that upload with nvidia.air.air_image "
                     "(abort_upload: true) and run again")
        finally:
            job.stats["waited_seconds"] = round(job.stats["waited_seconds"] + self._clock() - started, 3)
        return image

    def _other_file(self, image, job):
        return AirUploadError(
            "image %s holds a different file (sha256 %s, %s bytes) than %s: another run uploaded it at the same "
            "time" % (image.label, image.hash or "unknown", image.size, job.path), step="upload", image=image.label,
            image_id=image.id, stats=job.stats,
            hint="two runs disagree about this image's file; run again (with on_mismatch: replace) to upload %s"
                 % job.path)

    # ------------------------------------------------------------------ start
    def _start(self, image, journal, job):
        """start-upload for a READY image; returns it UPLOADING with ``job.plan`` (or as another run left it)."""
        self.progress.set_state("starting", image_id=image.id)
        size = job.identity["size"]
        try:
            answer = self.client.uploads.start(image, job.sha256, size)
        except AirApiError as exc:
            if exc.status not in (400, 409):
                raise
            current = self.client.images.get(image.id, step="start-upload")
            if current.upload_status == "READY":
                raise
            job.met_other_run = True
            return current  # refused because another run started (or finished) an upload meanwhile
        job.owned = True
        try:
            plan = plan_parts(size, answer.get("chunk_size"), answer.get("part_urls"))
            if not answer.get("upload_id"):
                raise ValueError("start-upload returned no upload_id")
        except (ValueError, AttributeError) as exc:
            aborted = self._abort(image)
            raise AirUploadError("the server's upload plan is unusable: %s" % exc, step="start-upload",
                                 image=image.label, image_id=image.id, aborted=aborted)
        image = self.client.images.get(image.id, step="start-upload")
        expiries = [e for e in (url_expiry(p.url) for p in plan) if e is not None]
        journal.start({
            "api_url": self.client.api_url, "image_id": image.id, "upload_id": answer["upload_id"],
            "sha256": job.sha256, "size": size, "chunk_size": int(answer["chunk_size"]),
            "identity": job.identity, "parts": [p.to_dict() for p in plan],
            "urls_expire_at": min(expiries) if expiries else None, "started_at": time.time(),
            "image_modified": image.modified,
        })
        job.plan = plan
        job.stats["chunk_size"] = int(answer["chunk_size"])
        return image

    # --------------------------------------------------------------- transfer
    def _transfer_and_complete(self, image, journal, job):
        plan, stats = job.plan, job.stats
        done = journal.done_parts()
        todo = [p for p in plan if p.number not in done]
        stats.update(parts_total=len(plan), parts_resumed=len(done))
        self.progress.set_state("uploading", image_id=image.id, parts_total=len(plan), parts_done=len(done),
                                bytes_total=job.identity["size"],
                                bytes_done=sum(p.length for p in plan if p.number in done))
        started = self._clock()
        try:
            self.parts.send(todo, job.path, self.workers, job.stats,
                            on_part_done=lambda part, etag: self._part_done(job, journal, part, etag))
            self._check_unchanged(job, image)
            self.progress.set_state("completing")
            parts = [{"part_number": n, "etag": etag} for n, etag in sorted(journal.done_parts().items())]
            image = self._complete(image, parts, job)
        except _Restart:
            raise
        except _Kept as kept:
            self.progress.set_state("failed")
            raise kept.error
        except AirUrlExpiredError as exc:
            if job.resumed:
                # An interrupted upload whose URLs ran out: abort it if it is ours and start afresh.
                aborted = job.owned and self._abort(image)
                raise _Restart("the part URLs of the interrupted upload of %s have expired" % image.label, aborted)
            minutes = (self._clock() - started) / 60.0
            rate = stats["bytes_uploaded"] / max(self._clock() - started, 1e-6) / 1e6
            exc.hint = ("the part URLs expired after %.1f min of uploading at %.1f MB/s; a faster link or more "
                        "workers finish within their lifetime, a re-run starts a fresh upload" % (minutes, rate))
            raise self._failed(image, journal, exc, job)
        except AirStorageError as exc:
            if exc.code == "NoSuchUpload":
                # Someone aborted it (or replaced it with theirs): nothing of ours is left to abort.
                raise _Restart("the upload of %s no longer exists on the storage side" % image.label, False)
            raise self._failed(image, journal, exc, job)
        except AirError as exc:
            raise self._failed(image, journal, exc, job)
        except Exception as exc:  # a bug must not leave an upload open either
            raise self._failed(image, journal, AirUploadError("unexpected error: %s" % redact(repr(exc)),
                                                              step="upload"), job)
        journal.remove()
        seconds = self._clock() - started
        stats["seconds"] = round(seconds, 3)
        stats["mb_per_s"] = round(stats["bytes_uploaded"] / seconds / 1e6, 1) if seconds > 0 else 0.0
        stats["retries"] = self.parts.retries + self.client.retries
        return image

    @staticmethod
    def _part_done(job, journal, part, etag):
        job.owned = True  # the storage accepted a part of the journal's upload: it is ours
        journal.part_done(part.number, etag)

    @property
    def part_retries(self):
        """Part PUTs retried so far."""
        return self.parts.retries

    def _check_unchanged(self, job, image=None):
        if current_identity(job.path) != job.identity:
            raise AirFileChangedError(
                "%s changed while it was being uploaded (size, modification or change time differ)" % job.path,
                step="upload", image=image.label if image else None, image_id=image.id if image else None)

    def _complete(self, image, parts, job):
        """complete-upload; a sent upload is precious: a server that keeps failing does not cost it."""
        try:
            return self.client.uploads.complete(image, parts)
        except AirError as exc:
            if is_lost(exc):  # the client already looked at the image and retried (bounded)
                raise self._kept(image, parts, job, exc, "kept failing", "the next run completes it")
            if exc.status == 400 and getattr(exc, "body", {}).get("code") in BAD_PARTS_CODES:
                if not job.owned:
                    # A resumed upload whose parts the storage does not recognise: it is not ours to abort.
                    raise _Restart("complete-upload refused the interrupted upload of %s (%s)"
                                   % (image.label, exc.message), False)
                raise  # the parts themselves are wrong: abort, the next run sends them again
            current = self.client.images.get(image.id, step="complete")
            if current.upload_status in ("VALIDATING",) or current.is_uploaded:
                return current  # refused because it is done already (another attempt, another run)
            if current.upload_status == "READY":
                raise _Restart("the upload of %s was aborted while this run completed it (%s)"
                               % (image.label, exc.message), False)
            # Anything else (a token that lost a scope, a conflict, ...) says nothing against the parts.
            raise self._kept(image, parts, job, exc, "was refused", "once the cause is fixed, the next run completes it")

    def _kept(self, image, parts, job, exc, what, next_run):
        """The failure of a fully sent upload whose complete failed: upload and journal stay for the next run."""
        job.stats.update(retries=self.parts.retries + self.client.retries, upload_aborted=False)
        return _Kept(AirUploadError(
            "all %d parts are uploaded, but complete-upload %s: %s" % (len(parts), what, exc.message),
            step="complete", image=image.label, image_id=image.id, status=exc.status, aborted=False,
            stats=job.stats, cause=exc, request_id=exc.request_id,
            hint="the upload and its journal are kept: %s without sending the parts again" % next_run))

    def _failed(self, image, journal, exc, job):
        """Abort this run's upload after a failure and say whether that worked."""
        stats = job.stats
        stats["retries"] = self.parts.retries + self.client.retries
        aborted = None
        if job.owned:
            aborted = self._abort(image)
            if aborted:
                journal.remove()
        else:
            self._warn("the upload of %s failed before the server confirmed it was this run's; it is left as it "
                       "is (not aborted)" % image.label)
        stats["upload_aborted"] = aborted
        self.progress.set_state("failed")
        message = exc.message if isinstance(exc, AirError) else str(exc)
        cls = type(exc) if isinstance(exc, AirUploadError) else AirUploadError
        kwargs = dict(step=exc.step if isinstance(exc, AirError) else "upload", image=image.label, image_id=image.id,
                      status=getattr(exc, "status", None), detail=getattr(exc, "detail", None),
                      field_errors=getattr(exc, "field_errors", None), request_id=getattr(exc, "request_id", None),
                      hint=getattr(exc, "hint", None))
        error = cls(message, aborted=aborted, stats=stats, cause=exc, **kwargs)
        error.attempts = getattr(exc, "attempts", None)
        return error

    def _abort(self, image):
        try:
            self.client.uploads.abort(image)
            return True
        except AirError as exc:
            if exc.status == 400:  # not UPLOADING (anymore): nothing is left open
                return True
            self._warn("abort-upload for %s failed: %s; the journal is kept so the next run can resume or "
                       "abort it" % (image.label, exc))
            return False

    # ------------------------------------------------------------- part uploads
    # ------------------------------------------------------------------ waiting
    def _still_alive(self, _image=None):
        """Refresh the progress file while nothing moves (it shows the controller this run is alive)."""
        self.progress.emit(force=True)

    def _wait_validated(self, image, job):
        self.progress.set_state("validating")
        started = self._clock()

        def failed(current):
            if current.upload_status == "READY":
                reason = self.client.images.newest_error(current.id)  # the server's own words, when it has them
                if reason:
                    return "the server's validation rejected the file; the image is READY again. The server says: %s" \
                        % reason
                return "the server's validation rejected the file (size or SHA-256 mismatch); the image is READY again"
            return None

        try:
            image = self.client.images.wait_for(image, lambda i: i.upload_status in UPLOADED_STATES, failed,
                                                step="validate", timeout=job.wait_timeout,
                                                poll_interval=job.poll_interval, on_poll=self._still_alive)
        except AirTimeoutError:
            self.progress.set_state("failed")
            raise
        except AirError as exc:
            self.progress.set_state("failed")
            if exc.step == "validate" and exc.status is None:
                raise AirValidationError(exc.message, step="validate", image=image.label, image_id=image.id,
                                         stats=job.stats)
            raise
        job.stats["validation_seconds"] = round(self._clock() - started, 3)
        return image
