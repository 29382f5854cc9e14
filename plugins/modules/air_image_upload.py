#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: air_image_upload
short_description: Upload a disk image file into an NVIDIA Air image
version_added: 0.1.0
description:
  - Makes the content of an NVIDIA Air image equal a local file, read on the host the module runs on.
  - Nothing is uploaded when the image already holds a file with the same SHA-256 and size.
  - The file is sent as a parallel multipart upload to the presigned URLs the Air API hands out, each part
    streamed from its offset in the file (memory stays flat whatever the file size), with per-part retries.
  - An upload interrupted by a killed run (async timeout, cancelled job, lost controller) is resumed by the next
    run on the same host from the parts that are missing, as long as its URLs still work; otherwise it is aborted
    and started again. Any other failure aborts the upload, so no multipart upload is left behind;
    C(upload_aborted) in RV(failure) says whether that worked. The exception is a complete-upload that keeps
    failing after every part was sent; that upload is kept, and the next run completes it without sending any
    part again.
  - An upload in progress that this host did not start (another host, or a run whose journal is gone) is never
    aborted; the module waits for it, up to O(wait_timeout). If it ends with the same file, the task reports no
    change; with a different file, it fails (use O(on_mismatch=replace)); if it is aborted, this run uploads.
    M(nvidia.air.air_image) with O(nvidia.air.air_image#module:abort_upload=true) aborts an upload whose run
    died.
author:
  - NVIDIA Air collection contributors (!UNKNOWN)
extends_documentation_fragment:
  - nvidia.air._auth
  - nvidia.air._attributes
  - nvidia.air._attributes.ACTIONGROUP
attributes:
  action:
    description: Has an action plugin that runs parts of the task on the controller.
    support: full
    details:
      - The action plugin runs the module on the target host as a background job and prints its progress on
        the controller (see O(progress_interval)).
  async:
    description: Supports being used with the C(async) keyword.
    support: full
    details:
      - With C(async) set on the task the module runs as a plain async module, without progress lines.
  check_mode:
    support: full
    details:
      - Check mode hashes the local file (using the hash cache) to decide whether an upload is needed.
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  image:
    description:
      - Id of the image to upload into. Alternatively give O(name) and O(version).
    type: str
  name:
    description:
      - Name of the image in your organization (with O(version)).
    type: str
  version:
    description:
      - Version of the image (with O(name)).
    type: str
  src:
    description:
      - Path of the disk image file (for example a qcow2) on the host the module runs on. It is never copied
        through the controller; use C(delegate_to) to run the module where the file is.
    type: path
    required: true
  checksum:
    description:
      - SHA-256 of O(src) if you already know it (64 hexadecimal characters). Skips hashing the file; the Air
        API verifies it after the upload and the task fails if it is wrong.
    type: str
  on_mismatch:
    description:
      - What to do when the image already holds a different file.
      - V(fail) stops with both hashes in the message.
      - V(replace) deletes the uploaded file and uploads O(src); refused while the image is published.
    type: str
    choices: [fail, replace]
    default: fail
  workers:
    description:
      - Parts uploaded in parallel, V(auto) (the default), or a whole number of at least 1 that pins it (above
        10 a warning is shown).
      - V(auto) finds the number for your link while it uploads. It starts with 4 parts in parallel (8 when the
        parts are 32 MiB or more, as Air's 100 MB parts are, so a file of up to 8 of them goes all at once),
        measures the throughput over a second (half a second for large parts), doubles the number while the
        throughput keeps rising (then grows it by a quarter while it still rises by 10 %), and stops adding parts
        once they stop adding throughput. When the storage asks to slow down (HTTP 429 or 503, C(SlowDown)), or
        a part runs out of O(part_timeout), it halves the number and keeps it. It never uses more than 16 (the
        cap). The parts
        left are spread over waves of equal size (22 parts go as 11 and 11, not 16 and 6), so the last parts
        do not leave the link idle. RV(upload.workers) reports the number it settled on.
      - Over a WAN one connection rarely fills the link, so more parts in parallel make a long upload faster.
        Each worker needs about 1 MiB of memory (its send block and a thread) and one connection; multiply by
        your Ansible forks.
    type: raw
    default: auto
  part_timeout:
    description:
      - Seconds one attempt at a part may take, end to end (sending and the storage's answer), before it is
        abandoned and retried.
    type: float
    default: 300
  wait:
    description:
      - Wait until the Air API has validated the upload (C(VALIDATING) to C(COMPLETE)) and fail if it rejects
        the file. With V(false) the module returns once the upload is complete on the storage side.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for validation, for an image still C(VALIDATING) or C(COPYING_FROM_IMAGE_SHARE) from
        earlier, and for an upload in progress that another run is sending.
    type: float
    default: 1800
  poll_interval:
    description:
      - The longest time between two status checks while waiting. A wait checks every 0.25 s for its first 2 s
        and every 0.5 s until 30 s, so it sees the end of a short validation at once, then every
        O(poll_interval) seconds (at most 8 + 56 requests in the first 30 s).
    type: float
    default: 5
  progress_interval:
    description:
      - Seconds between two progress lines the task prints while the upload runs (the module runs as a
        background job on the host and the controller reads its progress). Each line shows the phase
        (C(hashing), C(waiting), C(starting), C(uploading), C(completing), C(validating), C(complete),
        C(failed)), the percent, MB done and in total, parts acknowledged and in total, the rate over the last 10
        seconds and the time left; the percent reaches 100 only when the storage has acknowledged every part.
        One summary line follows at the end (not with C(no_log)). A delegated task's lines name both hosts
        (C(host -> delegate)).
      - V(0) turns the lines off and runs the module as a plain module; otherwise at least 0.01. Ignored in check
        mode and when the task sets its own C(async) (then poll with M(ansible.builtin.async_status) and watch
        O(progress_file)).
      - If the background process dies, the task fails within two intervals saying so; a job that never starts
        (a full or read-only job directory) fails after a minute.
      - The lines go to stdout, where a job's output streams (the default, C(minimal) and YAML output, AWX), except
        when the play's stdout callback writes data (C(ansible.posix.json), C(ansible.posix.jsonl), an ad-hoc
        run's json with E(ANSIBLE_LOAD_CALLBACK_PLUGINS)); then they go to stderr, so that output still parses.
        A stdout callback is taken as data when C(json) is in the last part of its name, or when it is listed in
        the controller's E(NVIDIA_AIR_DATA_CALLBACKS) (comma separated names).
      - When the task returns, nothing of its run is left in the host's remote tmp (the module's payload holds
        the task's arguments, O(api_token) among them).
    type: float
    default: 10
  progress_file:
    description:
      - Path of a JSON file, rewritten at most four times a second, with the upload's C(state), C(bytes_done),
        C(bytes_total), C(parts_done), C(parts_total), C(percent), C(rate_bytes_per_second) and C(eta_seconds).
        Watch it with C(async) and M(ansible.builtin.slurp), or C(watch cat) by hand.
      - Its directory must exist.
    type: path
  hash_cache:
    description:
      - Remember the SHA-256 of files under C(~/.cache/nvidia.air/) (or E(NVIDIA_AIR_CACHE_DIR)), keyed by
        path, size, modification time, change time (ctime) and inode, so an unchanged multi-GB file is not hashed
        again on every run. Any rewrite of the file changes its ctime, even one that restores the size and
        modification time (C(cp -p), C(touch -d)), so a cached hash never outlives the content it was computed on.
    type: bool
    default: true
notes:
  - Large images. Hashing runs at about 2 GB/s per core; the upload's speed is set by your link and
    O(workers) (V(auto), the default, finds the number for the link). Presigned part URLs expire (the lifetime is
    set by Air); a very slow link may need more workers.
  - Async and AWX. Run long uploads with C(async) and C(poll), or C(poll=0) and M(ansible.builtin.async_status),
    and watch O(progress_file). If the async limit kills the task, the next run resumes the upload. In AWX size
    the job timeout for the whole upload.
  - The upload journal (with presigned URLs, which are credentials) is kept in C(~/.cache/nvidia.air/uploads/)
    with mode 0600 while an upload is in progress, and removed when it ends (also by a later run that finds the
    upload completed). On a host where that directory cannot be written (read-only home), the upload still works
    with a warning, without resume and hash cache; set E(NVIDIA_AIR_CACHE_DIR) to a writable directory.
  - The file is checked before each part and read to its end; a file that changes or shrinks during the upload
    fails the task at once (C(AirFileChangedError)) and the upload is aborted. Each attempt at a part is abandoned
    and retried once it has taken O(part_timeout) seconds.
seealso:
  - module: nvidia.air.air_image
  - module: nvidia.air.air_image_info
"""

EXAMPLES = r"""
- name: Upload a qcow2 (skipped when the image already holds this file)
  nvidia.air.air_image_upload:
    name: cumulus-vx
    version: 5.16.0
    src: /srv/images/cumulus-vx-5.16.0.qcow2
  delegate_to: localhost

- name: Upload with exactly 8 parts in parallel (the default, auto, finds the number for the link)
  nvidia.air.air_image_upload:
    name: cumulus-vx
    version: 5.16.0
    src: /srv/images/cumulus-vx-5.16.0.qcow2
    workers: 8

- name: Replace the file of an unpublished image
  nvidia.air.air_image_upload:
    image: 935b994e-9e1e-4d85-9275-10f7b3111cd9
    src: /srv/images/cumulus-vx-5.16.0-fixed.qcow2
    on_mismatch: replace

- name: Long upload in the background with a progress file
  nvidia.air.air_image_upload:
    name: sonic
    version: "202505"
    src: /srv/images/sonic.qcow2
    progress_file: /tmp/sonic-upload.json
  async: 7200
  poll: 0
  register: upload_job
"""

RETURN = r"""
image:
  description: The image after the task (C(default_password) is C(********)). See M(nvidia.air.air_image).
  returned: always
  type: dict
  sample: {id: 935b994e-9e1e-4d85-9275-10f7b3111cd9, name: cumulus-vx, version: 5.16.0, upload_status: COMPLETE,
           size: 24117248, hash: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
sha256:
  description: SHA-256 of O(src).
  returned: always
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
upload:
  description: Statistics of the upload; null when nothing was uploaded.
  returned: always
  type: dict
  contains:
    bytes_total:
      description: Size of the file.
      type: int
    bytes_uploaded:
      description: Bytes sent by this run (less than C(bytes_total) when it resumed).
      type: int
    parts_total:
      description: Number of parts of the upload.
      type: int
    parts_uploaded:
      description: Parts sent by this run.
      type: int
    parts_resumed:
      description: Parts a previous, interrupted run had already sent.
      type: int
    resumed:
      description: Whether this run resumed an interrupted upload.
      type: bool
    seconds:
      description: Seconds from the start of the upload to its completion (hashing and validation excluded).
      type: float
    mb_per_s:
      description: Throughput of this run in MB/s (10^6 bytes per second).
      type: float
    retries:
      description: Requests that were retried (parts and API calls).
      type: int
    hash_seconds:
      description: Seconds spent hashing the file (0 when it came from the cache or O(checksum)).
      type: float
    hash_source:
      description: Where the SHA-256 came from.
      type: str
      choices: [computed, cache, checksum]
    validation_seconds:
      description: Seconds the Air API took to validate the upload (null without O(wait)).
      type: float
    workers:
      description:
        - Parallel workers used. With O(workers=auto), the number it settled on (never more than the parts
          that were in flight at once).
      type: int
    workers_auto:
      description: Whether O(workers=auto) chose the number of workers.
      type: bool
    workers_peak:
      description: The most parts that were in flight at once.
      type: int
    chunk_size:
      description: Part size chosen by the Air API.
      type: int
    sha256:
      description: SHA-256 of the file.
      type: str
    upload_aborted:
      description: Null for a successful upload.
      type: bool
    adopted:
      description:
        - True when another run uploaded this same file into the image while this run waited for it; nothing was
          sent and the task reports no change.
      type: bool
    waited_seconds:
      description: Seconds this run waited for another run's upload of the same image.
      type: float
  sample: {bytes_total: 24117248, bytes_uploaded: 24117248, parts_total: 5, parts_uploaded: 5, parts_resumed: 0,
           resumed: false, seconds: 0.41, mb_per_s: 58.8, retries: 0, hash_seconds: 0.02, hash_source: computed,
           validation_seconds: 0.5, workers: 4, workers_auto: false, workers_peak: 4, chunk_size: 5242880,
           upload_aborted: null,
           sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
actions:
  description: What the task did (or would do in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["uploaded /srv/images/cumulus-vx.qcow2 (24117248 bytes, 5 parts)"]
failure:
  description:
    - Structured details of a failure. C(upload_aborted) tells whether the failed upload was aborted on the
      server (true), could not be aborted (false; the next run resumes or aborts it), or none was open (null).
  returned: failed
  type: dict
  sample: {type: AirUploadError, step: part 3, status: 403, upload_aborted: true,
           message: the presigned URL for part 3 has expired, image_id: 935b994e-9e1e-4d85-9275-10f7b3111cd9}
"""

import os

from ansible_collections.nvidia.air.plugins.module_utils._concurrency import parse_workers
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._files import check_checksum, check_source
from ansible_collections.nvidia.air.plugins.module_utils._models import SETTLING_STATES, UPLOADED_STATES, Image
from ansible_collections.nvidia.air.plugins.module_utils._module import AirModule
from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader


# Set by the action plugin for the module it runs in the background: a progress file of its own to watch, so
# a progress_file shared by several tasks cannot mislead it.
WATCHER_PROGRESS_ENV = "NVIDIA_AIR_WATCHER_PROGRESS_FILE"
# Set by the action plugin for its decision pass (a plain run before any background job): the run ends with
# "undecided" where it would hash the file, wait or send anything, so a no-op needs no background job.
DECIDE_ENV = "NVIDIA_AIR_DECIDE_ONLY"
MIN_PROGRESS_INTERVAL = 0.01  # as the action plugin: more often floods a job's output


class AirImageUploadModule(AirModule):
    argument_spec = dict(
        image=dict(type="str"),
        name=dict(type="str"),
        version=dict(type="str"),
        src=dict(type="path", required=True),
        checksum=dict(type="str"),
        on_mismatch=dict(type="str", default="fail", choices=["fail", "replace"]),
        workers=dict(type="raw", default="auto"),
        part_timeout=dict(type="float", default=300.0),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="float", default=1800.0),
        poll_interval=dict(type="float", default=5.0),
        progress_file=dict(type="path"),
        progress_interval=dict(type="float", default=10.0),
        hash_cache=dict(type="bool", default=True),
    )
    module_kwargs = dict(
        required_one_of=[["image", "name"]],
        mutually_exclusive=[["image", "name"]],
        required_together=[["name", "version"]],
    )

    def check_options(self):
        p = self.params
        # Bad input fails here, before the API is contacted.
        check_source(p["src"])
        check_checksum(p["checksum"])
        p["workers"] = parse_workers(p["workers"], step="check options")
        interval = p["progress_interval"]
        if interval != 0 and not MIN_PROGRESS_INTERVAL <= interval <= self.max_seconds:  # NaN fails both
            raise AirInputError("progress_interval must be 0 (no progress lines) or from %s to %d seconds (got %s)"
                                % (MIN_PROGRESS_INTERVAL, self.max_seconds, interval), step="check options")
        self.uploader = ImageUploader(
            self.client, workers=p["workers"], part_timeout=p["part_timeout"], hash_cache=p["hash_cache"],
            progress_file=p["progress_file"], warn=self.warn,
            watcher_progress_file=os.environ.get(WATCHER_PROGRESS_ENV))

    def run(self):
        p = self.params
        deciding = os.environ.get(DECIDE_ENV) == "1" and not self.check_mode
        image = self.find_image(p["image"], p["name"], p["version"], required=True)  # before a long hash
        hashed = self.uploader.file_sha256(p["src"], p["checksum"], compute=not deciding)
        if hashed is None:
            return self.undecided("the SHA-256 of %s is neither cached nor given" % p["src"])
        sha256, identity, _source, _seconds = hashed
        self.result.update(sha256=sha256, upload=None)
        if deciding and image.upload_status in SETTLING_STATES:
            return self.undecided("image %s is %s" % (image.label, image.upload_status))
        image = self.wait_settled(image, "check its content")
        size = identity["size"]
        if image.has_content(sha256, size):
            if not self.check_mode:
                self.uploader.discard_stale_journal(image)
            self.result["image"] = image.to_result()
            return
        if deciding:
            return self.undecided("image %s does not hold this file" % image.label)
        self.diff.add("hash", image.hash, sha256)
        self.diff.add("size", image.size, size)
        self.diff.add("upload_status", image.upload_status, "COMPLETE" if p["wait"] else "VALIDATING")
        if image.upload_status in UPLOADED_STATES:
            image = self.replace(image, sha256, size)
        action = "%s %s (%d bytes) into image %s" % (
            "resumed uploading" if image.upload_status == "UPLOADING" else "uploaded", p["src"], size, image.label)
        outcome = self.change(action, lambda: self.uploader.upload(
            image, p["src"], checksum=p["checksum"], wait=p["wait"], wait_timeout=p["wait_timeout"],
            poll_interval=p["poll_interval"]))
        if outcome is None:  # check mode
            image = Image(dict(image.data, hash=sha256, size=size, upload_status="COMPLETE"))
        else:
            image, self.result["upload"] = outcome
            if self.result["upload"]["adopted"]:
                self.adopted(image)
        self.result["image"] = image.to_result()

    def undecided(self, reason):
        """The decision pass ends here: the action plugin runs the module again in the background."""
        self.result = {"changed": False, "undecided": reason}

    def adopted(self, image):
        """Another run uploaded this very file while this one waited: this task changed nothing itself."""
        self.take_back_last_change("another run uploaded %s into image %s while this run waited; nothing was sent"
                                   % (self.params["src"], image.label))

    def replace(self, image, sha256, size):
        if self.params["on_mismatch"] == "fail":
            raise AirInputError(
                "image %s already holds a different file (sha256 %s, %d bytes) than %s (sha256 %s, %d bytes)"
                % (image.label, image.hash, image.size, self.params["src"], sha256, size), step="compare",
                image_id=image.id, hint="set on_mismatch: replace to upload the new file")
        if image.published:
            raise AirInputError("image %s is published; unpublish it before replacing its file" % image.label,
                                step="compare", image_id=image.id)
        cleared = self.change("cleared the previous file of image %s" % image.label,
                              lambda: self.client.uploads.clear(image))
        return cleared or Image(dict(image.data, upload_status="READY", hash="", size=0))

    def fail(self, exc):
        stats = getattr(exc, "stats", None)
        if stats is not None:
            self.result["upload"] = stats
        self.finish()
        super(AirImageUploadModule, self).fail(exc)

    def exit(self):
        self.finish()
        super(AirImageUploadModule, self).exit()

    def finish(self):
        """Stop the progress heartbeat; the action plugin's own progress file goes with this process."""
        uploader = getattr(self, "uploader", None)
        if uploader is not None:
            uploader.progress.close()
        watcher_file = os.environ.get(WATCHER_PROGRESS_ENV)
        if watcher_file:
            try:
                os.unlink(watcher_file)
            except OSError:
                pass


def main():
    AirImageUploadModule()()


if __name__ == "__main__":
    main()
