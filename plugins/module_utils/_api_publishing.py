# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Publishing an image into the Air catalog (contract §4 rows 10-16, §10)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _rename(name, version):
    return dict((k, v) for k, v in (("name", name), ("version", version)) if v is not None)


class PublishingApi:
    def __init__(self, transport, images):
        self.transport = transport
        self.images = images

    def publish(self, image, name=None, version=None):
        """Direct publish (scope ``air:image_publish``), optionally renamed; answers PUBLISHING."""
        return self.images.action(image, "publish", "publish", _rename(name, version),
                                  done=lambda i: i.published or i.upload_status == "PUBLISHING")

    def unpublish(self, image, name=None, version=None):
        return self.images.action(image, "unpublish", "unpublish", _rename(name, version),
                                  done=lambda i: not i.published or i.upload_status == "UNPUBLISHING")
