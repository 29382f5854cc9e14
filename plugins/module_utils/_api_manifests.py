# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""OS image manifests (``/api/v3/manifests/os-images/``) and the catalogue their pins name.

A manifest ties one image to the hardware models it runs on: per model it pins
a platform-information version and an OS-template version (nv-air-sdk 1.9.0
``os_image_manifests``). The catalogue is read-only here:
``manifests/platform-information/`` (model -> versions, per ``os_type``) and
``manifests/os-templates/`` (template versions, per ``os_type``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError, AirNotFoundError
from ansible_collections.nvidia.air.plugins.module_utils._models import OSImageManifest

# Up to this many images, their manifests are looked up one by one; more are found in one listing.
_FEW_IMAGES = 5


def _version_key(version):
    """Natural order for messages: 5.9 before 5.11."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", version) if part]


def _names(items):
    return ", ".join(sorted(items, key=_version_key)) or "none"


class Catalogue:
    """The platform information and OS templates of one ``os_type``, as the token sees them.

    ``models`` maps a hardware model to its platform-information versions;
    ``templates`` lists the OS-template versions (templates are per OS type,
    not per model).
    """

    def __init__(self, os_type, platform_information, os_templates):
        self.os_type = os_type
        self.models = {}
        for record in platform_information:
            if record.get("os_type") == os_type:
                self.models.setdefault(record.get("model"), set()).add(record.get("platform_information_version"))
        self.templates = set(r.get("os_template_version") for r in os_templates if r.get("os_type") == os_type)

    @property
    def is_empty(self):
        return not self.models and not self.templates

    def pin_errors(self, platforms):
        """One message per unknown model, platform-information version or OS-template version (empty = all good).

        ``platforms`` is ``{model: {platform_information_version, os_template_version}}``;
        a null version is not pinned and is not checked.
        """
        errors = []
        for model in sorted(platforms, key=_version_key):
            pins = platforms[model]
            if model not in self.models:
                errors.append("%s: unknown model for os_type %r (known models: %s)"
                              % (model, self.os_type, _names(self.models)))
                continue
            version = pins.get("platform_information_version")
            if version is not None and version not in self.models[model]:
                errors.append("%s: platform_information_version %r does not exist for os_type %r (available: %s)"
                              % (model, version, self.os_type, _names(self.models[model])))
            template = pins.get("os_template_version")
            if template is not None and template not in self.templates:
                errors.append("%s: os_template_version %r does not exist for os_type %r (available: %s)"
                              % (model, template, self.os_type, _names(self.templates)))
        return errors


class ManifestsApi:
    def __init__(self, transport):
        self.transport = transport

    # ------------------------------------------------------------------ manifests
    def list(self, max_items=None, **filters):
        """Manifests of the images the token can see; filters ``image``, ``os_type``, ``search``, ``ordering``."""
        return [OSImageManifest.from_api(d)
                for d in self.transport.paginate(["manifests", "os-images"], "lookup", filters, max_items)]

    def get(self, manifest_id):
        return self.transport.request("GET", self.transport.url("manifests", "os-images", manifest_id), "lookup",
                                      decode=OSImageManifest.from_api)

    def for_image(self, image_id, step="lookup"):
        """The manifest of ``image_id``, None if it has none (the API keeps at most one per image)."""
        found = [m for m in self.list(image=image_id) if m.image == image_id]
        if len(found) > 1:
            raise AirApiError("image %s has %d OS image manifests (%s); the API should keep one"
                              % (image_id, len(found), ", ".join(m.id for m in found)), step=step, image_id=image_id)
        return found[0] if found else None

    def by_image(self, image_ids):
        """``{image id: manifest}`` for the images among ``image_ids`` that have one."""
        wanted = set(image_ids)
        if len(wanted) <= _FEW_IMAGES:
            manifests = [self.for_image(image_id) for image_id in sorted(wanted)]
        else:
            manifests = self.list()
        return dict((m.image, m) for m in manifests if m is not None and m.image in wanted)

    def create(self, image, fields):
        """POST ``{image, os_type, platforms?, capabilities?, os_template_partition?}`` for ``image``.

        After a lost answer the image's manifest is looked up before anything
        is sent again (one manifest per image: a second POST would be a 400).
        """
        body = dict(fields, image=image.id)
        return self.transport.request(
            "POST", self.transport.url("manifests", "os-images"), "create manifest", json=body, expect=(201,),
            idempotent=False, reconcile=lambda: self.for_image(image.id, step="create manifest"),
            decode=OSImageManifest.from_api, image=image.label, image_id=image.id)

    def update(self, manifest, fields, image=None):
        """PATCH ``platforms`` / ``capabilities`` / ``os_template_partition``; each replaces the stored value
        whole, so sending it again is harmless (retried like a read)."""
        return self.transport.request(
            "PATCH", self.transport.url("manifests", "os-images", manifest.id), "update manifest", json=fields,
            decode=OSImageManifest.from_api, image=image.label if image else None, image_id=manifest.image)

    def delete(self, manifest, image=None):
        """True if deleted now, False if it was already gone."""
        try:
            self.transport.request("DELETE", self.transport.url("manifests", "os-images", manifest.id),
                                   "delete manifest", json={}, expect=(204,), image=image.label if image else None,
                                   image_id=manifest.image)
        except AirNotFoundError:
            return False
        return True

    # ------------------------------------------------------------------ catalogue
    def platform_information(self, **filters):
        """Platform-information records (dicts; filters ``os_type``, ``model``, ``platform_information_version``)."""
        return self.transport.paginate(["manifests", "platform-information"], "read the catalogue", filters)

    def os_templates(self, **filters):
        """OS-template records (dicts; filters ``os_type``, ``os_template_version``)."""
        return self.transport.paginate(["manifests", "os-templates"], "read the catalogue", filters)

    def catalogue(self, os_type):
        return Catalogue(os_type, self.platform_information(os_type=os_type), self.os_templates(os_type=os_type))

    def os_types(self):
        """Every ``os_type`` the catalogue has platform information or OS templates for, sorted."""
        records = self.platform_information() + self.os_templates()
        return sorted(set(r.get("os_type") for r in records if r.get("os_type")))
