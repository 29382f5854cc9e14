# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Image records: ``/api/v3/images/`` (list, get, create, update, delete, wait) and image actions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirNotFoundError,
    AirTimeoutError,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import Image


class ImagesApi:
    def __init__(self, transport):
        self.transport = transport

    def list(self, max_items=None, **filters):
        """Images visible to the token; ``filters`` are the API's query parameters."""
        return [Image.from_api(d) for d in self.transport.paginate(["images"], "lookup", filters, max_items)]

    def get(self, image_id, step="lookup"):
        return self.transport.request("GET", self.transport.url("images", image_id), step, image_id=image_id,
                                      decode=Image.from_api)

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

        ``on_poll(image)`` sees every image read (progress displays).
        """
        deadline = clock() + timeout
        current, polls = image, 0
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
            # Start fast (most transitions take seconds), back off to poll_interval.
            sleep(max(0.0, min(poll_interval, 0.25 * 2 ** min(polls, 10), deadline - clock())))
            polls += 1
            current = self.get(image.id, step=step)
            if on_poll is not None:
                on_poll(current)
