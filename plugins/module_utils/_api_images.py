# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Image records: ``/api/v3/images/`` (list, get, create, update, delete, wait, history) and image actions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirError,
    AirNotFoundError,
    AirTimeoutError,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import HistoryEntry, Image


# How often a wait looks (``poll_gap``): most transitions and validations end within seconds, and the run should
# notice at once; a long wait backs off to the caller's poll_interval.
QUICK_POLL = 0.25  # seconds between reads for the first QUICK_PHASE seconds
QUICK_PHASE = 2.0
BRISK_POLL = 0.5  # then until BRISK_PHASE seconds: within half a second of the end, at most 120 reads a minute
BRISK_PHASE = 30.0


def poll_gap(elapsed, poll_interval):
    """Seconds to the next read of a wait that began ``elapsed`` seconds ago.

    0.25 s for the first 2 s, 0.5 s until 30 s, then ``poll_interval``; never more than ``poll_interval``.
    A wait therefore makes at most 8 + 56 reads in its first 30 s and 60 / poll_interval a minute after.
    """
    if elapsed < QUICK_PHASE:
        gap = QUICK_POLL
    elif elapsed < BRISK_PHASE:
        gap = BRISK_POLL
    else:
        gap = poll_interval
    return min(gap, poll_interval)


class ImagesApi:
    def __init__(self, transport):
        self.transport = transport

    def list(self, max_items=None, **filters):
        """Images visible to the token; ``filters`` are the API's query parameters."""
        return [Image.from_api(d) for d in self.transport.paginate(["images"], "lookup", filters, max_items)]

    def get(self, image_id, step="lookup"):
        return self.transport.request("GET", self.transport.url("images", image_id), step, image_id=image_id,
                                      decode=Image.from_api)

    def history(self, image_id, max_items=None, step="history", **filters):
        """The image's history entries, newest first unless ``ordering`` says otherwise; ``filters`` are the API's
        (``severity``, ``actor``, ``label``, ``search``, ``ordering``). Only the image's organization may read it."""
        return [HistoryEntry.from_api(d)
                for d in self.transport.paginate(["images", image_id, "history"], step, filters, max_items)]

    def history_filters(self, image_id):
        """The distinct ``actors``, ``severities`` and ``labels`` of the image's history."""
        return self.transport.request("GET", self.transport.url("images", image_id, "history-filters"), "history",
                                      image_id=image_id)

    def newest_error(self, image_id, step="validate"):
        """The description of the image's newest ERROR history entry (the server's reason, e.g. why it rejected
        an uploaded file); None when there is none or the history cannot be read (it is optional in the API)."""
        try:
            entries = self.history(image_id, max_items=1, step=step, severity="ERROR", ordering="-created")
        except AirError:
            return None
        return entries[0].description if entries and entries[0].description else None

    def find(self, name, version, step="lookup"):
        """The caller's own image called name+version, None if there is none."""
        found = [
            image for image in self.list(name=name, version=version, is_owned_by_client=True)
            if image.name == name and image.version == version and image.is_owned_by_client
        ]
        if len(found) > 1:
            raise AirApiError(
                "%d images are named %r version %r (%s); use the image id"
                % (len(found), name, version, ", ".join(i.id for i in found)), step=step)
        return found[0] if found else None

    def create(self, fields):
        """POST an image; after a lost answer the image is looked up by name+version before re-sending."""
        return self.transport.request(
            "POST", self.transport.url("images"), "create", json=fields, expect=(201,), idempotent=False,
            reconcile=lambda: self.find(fields.get("name"), fields.get("version"), step="create"),
            decode=Image.from_api, image="%r version %r" % (fields.get("name"), fields.get("version")))

    def update(self, image, fields):
        return self.transport.request("PATCH", self.transport.url("images", image.id), "update", json=fields,
                                      decode=Image.from_api, image=image.label, image_id=image.id)

    def delete(self, image):
        """True if deleted now, False if it was already gone."""
        try:
            self.transport.request("DELETE", self.transport.url("images", image.id), "delete", json={},
                                   expect=(204,), image=image.label, image_id=image.id)
        except AirNotFoundError:
            return False
        return True

    def may_delete(self):
        """Whether the token holds ``air:image_write`` (delete), asked without deleting anything."""
        return self.transport.allows("DELETE", step="delete")

    def action(self, image, action, step, body=None, done=None, expect=(200,)):
        """PATCH ``images/<id>/<action>/``; after a lost answer ``done(current image)`` says whether it happened."""
        def reconcile():
            current = self.get(image.id, step=step)
            return current if done(current) else None

        return self.transport.request(
            "PATCH", self.transport.url("images", image.id, action), step, json=body or {}, expect=expect,
            idempotent=False, reconcile=reconcile if done is not None else None, decode=Image.from_api,
            image=image.label, image_id=image.id)

    def wait_for(self, image, done, failed=None, step="wait", timeout=600.0, poll_interval=5.0,
                 clock=time.monotonic, sleep=time.sleep, on_poll=None):
        """Poll until ``done(image)``; ``failed(image)`` returns a reason to stop early.

        ``on_poll(image)`` sees every image read (progress displays). The reads follow ``poll_gap``.
        """
        started = clock()
        deadline = started + timeout
        current = image
        while True:
            if done(current):
                return current
            reason = failed(current) if failed else None
            if reason:
                raise AirApiError(reason, step=step, image=current.label, image_id=current.id)
            if clock() >= deadline:
                raise AirTimeoutError(
                    "still %s after %ss" % (current.upload_status, timeout), step=step, image=current.label,
                    image_id=current.id, last_status=current.upload_status,
                    hint="the server may still finish; re-run to pick up where it stands")
            sleep(max(0.0, min(poll_gap(clock() - started, poll_interval), deadline - clock())))
            current = self.get(image.id, step=step)
            if on_poll is not None:
                on_poll(current)
