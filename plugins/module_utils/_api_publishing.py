# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Publishing an image into the Air catalog (contract §4 rows 10-16, §9, §10).

Two ways in:

- direct ``publish`` / ``unpublish`` (scope ``air:image_publish``, role
  ``air_image_publisher``): an auto-approved publish access record (PAR),
  then the ``PUBLISHING`` / ``UNPUBLISHING`` pipeline;
- the gated flow (``air:image_write`` or ``air:image_publish``):
  ``request-publish``, ``request-unpublish``, ``request-public``,
  ``request-allowlist-change`` create a pending PAR that an Air reviewer
  approves or denies; ``cancel-publish-access-record`` withdraws it.

Every call creates a new PAR and points the image's
``publish_access_record_id`` at it; the pointer stays through approve, deny
and cancel (so the outcome is read from the image's record) and becomes null
once an unpublish has finished. While a record is open the API answers every
other publishing call with 409 naming it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.nvidia.air.plugins.module_utils._dates import parse_datetime
from ansible_collections.nvidia.air.plugins.module_utils._models import PublishAccessRecord

RECORDS = ("publishing", "image-publish-access-records")


def _body(**fields):
    return dict((k, v) for k, v in fields.items() if v is not None)


class PublishingApi:
    def __init__(self, transport, images):
        self.transport = transport
        self.images = images

    # ------------------------------------------------------------ direct calls
    def publish(self, image, name=None, version=None, prefer_public=None, allowed_orgs=None, justification=None):
        """Direct publish (scope ``air:image_publish``), optionally renamed; answers PUBLISHING.

        ``prefer_public`` false restricts the image to ``allowed_orgs`` (org
        ids; the owning org is always included); the API's default is public.
        """
        body = _body(name=name, version=version, prefer_public=prefer_public, allowed_orgs=allowed_orgs,
                     justification=justification)
        return self.images.action(image, "publish", "publish", body,
                                  done=lambda i: i.published or i.upload_status == "PUBLISHING")

    def unpublish(self, image, name=None, version=None):
        """Direct unpublish (scope ``air:image_publish``), optionally renamed; answers UNPUBLISHING."""
        return self.images.action(image, "unpublish", "unpublish", _body(name=name, version=version),
                                  done=lambda i: not i.published or i.upload_status == "UNPUBLISHING")

    def may_publish_directly(self, step="publish"):
        """Whether the token holds ``air:image_publish`` (direct publish and unpublish)."""
        return self.transport.allows("PATCH", "publish", step=step)

    def may_request(self, step="request publication"):
        """Whether the token may ask a reviewer (``air:image_write`` or ``air:image_publish``)."""
        return self.transport.allows("PATCH", "request-publish", step=step)

    # ----------------------------------------------------------- gated requests
    def request_publish(self, image, justification, prefer_public=None, allowed_orgs_request_text=None, name=None,
                        version=None):
        """Ask a reviewer to publish (PAR ``PENDING``, image ``PENDING_PUBLISH``); the rename applies on approval."""
        body = _body(justification=justification, prefer_public=prefer_public,
                     allowed_orgs_request_text=allowed_orgs_request_text, name=name, version=version)
        return self._request(image, "request-publish", "request publication", body)

    def request_unpublish(self, image, justification, name=None, version=None):
        """Ask a reviewer to unpublish (PAR and image ``PENDING_UNPUBLISH``); the rename applies on approval."""
        return self._request(image, "request-unpublish", "request unpublication",
                             _body(justification=justification, name=name, version=version))

    def request_public(self, image, prefer_public, justification):
        """Ask to make a published image public (``PENDING_ELEVATION``) or restricted (``PENDING_RESTRICTION``)."""
        return self._request(image, "request-public", "request a visibility change",
                             {"prefer_public": bool(prefer_public), "justification": justification})

    def request_allowlist_change(self, image, justification, allowed_orgs_request_text):
        """Ask to change the allow-list of a published restricted image (``PENDING_ALLOWLIST``)."""
        return self._request(image, "request-allowlist-change", "request an allow-list change",
                             {"justification": justification,
                              "allowed_orgs_request_text": allowed_orgs_request_text})

    def _request(self, image, action, step, body):
        # A request that took effect points the image at a record other than the one it had.
        before = image.publish_access_record_id
        return self.images.action(image, action, step, body,
                                  done=lambda i: i.publish_access_record_id not in (None, before))

    def cancel(self, image, record):
        """Withdraw the pending ``record`` of ``image`` (``CANCELLED``; a PENDING_* image is COMPLETE again)."""
        return self.images.action(image, "cancel-publish-access-record", "cancel publish request", {},
                                  done=lambda _image: self.record(record.id).status == "CANCELLED")

    # ------------------------------------------------------------------ records
    def records(self, max_items=None, **filters):
        """Publish access records of the caller's org (every org's for reviewers), filtered like the API."""
        return [PublishAccessRecord.from_api(d)
                for d in self.transport.paginate(list(RECORDS), "lookup publish requests", filters, max_items)]

    def record(self, record_id):
        return self.transport.request("GET", self.transport.url(*(RECORDS + (record_id,))), "lookup publish request",
                                      decode=PublishAccessRecord.from_api)

    def record_of(self, image):
        """The record the image points at (its last publish or request), None if it has none."""
        return self.record(image.publish_access_record_id) if image.publish_access_record_id else None

    def live_record(self, image):
        """The approved record that governs the published image's visibility now (the newest approved one).

        Older approved records stay ``APPROVED`` after a later visibility
        change; unpublishing turns them ``REMOVED``.
        """
        approved = [r for r in self.records(image=image.id, status="APPROVED") if r.image == image.id]
        if not approved:
            return None
        return max(approved, key=lambda r: (_when(r.reviewed_at or r.requested_at), _when(r.created)))


def _when(value):
    try:
        return parse_datetime(value) or _EPOCH
    except ValueError:
        return _EPOCH


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
