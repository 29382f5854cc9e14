# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The upload actions of an image: start, complete, abort and clear (contract §8).

The bytes themselves go to presigned storage URLs (``_uploader``); these are
the four API calls around them. None is idempotent, so each one says how to
recognise, after a lost answer, that it took effect.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError


class UploadsApi:
    def __init__(self, transport, images):
        self.transport = transport
        self.images = images

    def start(self, image, sha256, size):
        """``{upload_id, part_urls, chunk_size}`` for a READY image (it becomes UPLOADING).

        The part URLs exist only in the answer: when it is lost and the image
        turned UPLOADING right then, that upload is this call's and is aborted
        before trying again (an upload nobody can send parts to would block
        the image).
        """
        def reconcile():
            if self.images.get(image.id, step="start-upload").upload_status == "UPLOADING":
                self.abort(image)
            return None  # never "done": the URLs are gone, so start again

        answer = self.transport.request(
            "PATCH", self.transport.url("images", image.id, "start-upload"), "start-upload",
            json={"hash": sha256, "size": size}, idempotent=False, reconcile=reconcile, image=image.label,
            image_id=image.id)
        if not isinstance(answer, dict):
            raise AirApiError("start-upload answered without an upload plan", step="start-upload",
                              image=image.label, image_id=image.id)
        return answer

    def complete(self, image, parts):
        """Complete with ``[{part_number, etag}]``; the image becomes VALIDATING."""
        return self.images.action(image, "complete-upload", "complete", {"parts": parts},
                                  done=lambda i: i.upload_status in ("VALIDATING", "COMPLETE"))

    def abort(self, image):
        self.images.action(image, "abort-upload", "abort", done=lambda i: i.upload_status != "UPLOADING",
                           expect=(204,))

    def clear(self, image):
        """Delete the uploaded file; the image becomes READY."""
        return self.images.action(image, "clear-upload", "clear-upload", done=lambda i: i.upload_status == "READY")
