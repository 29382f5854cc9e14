# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Image shares (``/api/v3/images/shares/``) and claiming them (``claim-image-share``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError, AirNotFoundError
from ansible_collections.nvidia.air.plugins.module_utils._dates import parse_datetime
from ansible_collections.nvidia.air.plugins.module_utils._models import Image, ImageShare

# Claims that can be in flight in one organization at once; a lost claim is looked for among this
# many of the organization's newest images.
_RECENT_IMAGES = 50


class SharesApi:
    def __init__(self, transport, images):
        self.transport = transport
        self.images = images

    def list(self, **filters):
        """Shares made by the caller's organization (the API shows no others)."""
        return [ImageShare.from_api(d) for d in self.transport.paginate(["images", "shares"], "lookup", filters)]

    def get(self, share_id):
        return self.transport.request("GET", self.transport.url("images", "shares", share_id), "lookup",
                                      decode=ImageShare.from_api)

    def find_live(self, image_id, target_org):
        """The ACTIVE, unexpired share of ``image_id`` with ``target_org``, or None."""
        for share in self.list(image=image_id, target_org=target_org):
            if share.image == image_id and share.target_org == target_org and share.is_live():
                return share
        return None

    def create(self, image, target_org, expires_at=None):
        body = {"image": image.id, "target_org": target_org}
        if expires_at is not None:
            body["expires_at"] = expires_at
        return self.transport.request(
            "POST", self.transport.url("images", "shares"), "share", json=body, expect=(201,), idempotent=False,
            reconcile=lambda: self.find_live(image.id, target_org), decode=ImageShare.from_api,
            image=image.label, image_id=image.id)

    def delete(self, share):
        """True if revoked now, False if it was already gone."""
        try:
            self.transport.request("DELETE", self.transport.url("images", "shares", share.id), "revoke share",
                                   json={}, expect=(204,))
        except AirNotFoundError:
            return False
        return True

    def claim(self, share_id, name=None, version=None):
        """Claim a share addressed to the caller's org; returns the new image (COPYING_FROM_IMAGE_SHARE).

        The claiming org cannot read the share, so after a lost answer the
        claim is recognised by its result: an image of ours created after the
        claim was sent (named ``name`` ``version`` when given).
        """
        body = {"image_share": share_id}
        body.update(dict((k, v) for k, v in (("name", name), ("version", version)) if v is not None))
        self.transport.url("images", "shares", share_id)  # refuse a malformed id before anything is sent
        mark = self._newest_own_image()
        return self.transport.request(
            "POST", self.transport.url("images", "claim-image-share"), "claim", json=body, expect=(201,),
            idempotent=False, reconcile=lambda: self._claimed_since(mark, name, version), decode=Image.from_api)

    def _newest_own_image(self):
        newest = self.images.list(max_items=1, is_owned_by_client=True, ordering="-created")
        return parse_datetime(newest[0].created) if newest else None

    def _claimed_since(self, mark, name, version):
        recent = self.images.list(max_items=_RECENT_IMAGES, is_owned_by_client=True, ordering="-created")
        # A claimed copy starts COPYING_FROM_IMAGE_SHARE and ends COMPLETE; a new record starts READY.
        new = [i for i in recent if i.upload_status in ("COPYING_FROM_IMAGE_SHARE", "COMPLETE")]
        new = [i for i in new if mark is None or parse_datetime(i.created) > mark]
        if name is not None:
            new = [i for i in new if i.name == name and i.version == version]
        if len(new) > 1:
            raise AirApiError("the answer to the claim was lost and %d images appeared since (%s); look at them "
                              "with nvidia.air.air_image_info" % (len(new), ", ".join(i.id for i in new)),
                              step="claim")
        return new[0] if new else None
