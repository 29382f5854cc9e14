#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: air_os_image_manifest
short_description: Manage the OS image manifest of an NVIDIA Air image
version_added: 0.1.0
description:
  - An OS image manifest ties a network OS image (Cumulus Linux, SONiC, ...) to the hardware models it can
    emulate. For each model it pins a platform-information version and an OS-template version; it also lists
    capability flags and names the partition that OS templates are rendered into.
  - With O(state=present), creates the manifest of one of your images, or changes only what differs from the
    options you set. Options left out are left alone.
  - With O(state=absent), deletes the manifest (the image stays).
  - The image is identified by O(image), or by O(name) and O(version) within the organization of the API token.
    An image has at most one manifest.
author:
  - NVIDIA Air collection contributors (!UNKNOWN)
extends_documentation_fragment:
  - nvidia.air._auth
  - nvidia.air._attributes
  - nvidia.air._attributes.ACTIONGROUP
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the image, its manifest and the catalogue as a real run does, so it fails on the same
        bad input and predicts the same change.
  diff_mode:
    support: full
    details:
      - Shows C(platforms), C(capabilities) and C(os_template_partition) before and after (whole values), and
        C(exists) when the manifest is created or deleted.
  idempotent:
    support: full
options:
  state:
    description:
      - V(present) creates the manifest or updates it to match the options.
      - V(absent) deletes it. Deleting an absent manifest (or the manifest of an image that does not exist)
        changes nothing.
    type: str
    choices: [present, absent]
    default: present
  image:
    description:
      - Id of your image. Alternatively O(name) and O(version).
    type: str
  name:
    description:
      - Name of your image (with O(version)).
    type: str
  version:
    description:
      - Version of your image (with O(name)).
    type: str
  os_type:
    description:
      - The network OS the image runs, as the Air catalogue names it, for example C(cumulus-linux) or C(sonic).
        It selects the platform information and OS templates the pins in O(platforms) must exist for.
      - Required to create the manifest. It cannot be changed afterwards; a different value fails naming the
        current one (delete the manifest with O(state=absent) and create it again).
    type: str
  platforms:
    description:
      - Hardware models the image runs on, as a dictionary keyed by model name (for example C(SN3700)). Each
        value is a dictionary with C(platform_information_version) and C(os_template_version); a key left out
        or null means not pinned.
      - Write versions as strings (V("5.10")); a YAML number such as V(5.10) is refused because YAML reads it as
        V(5.1). Whole numbers (V(202311)) are accepted.
      - Every pin must exist in the Air catalogue for O(os_type) (platform information of that model, OS
        templates of that OS type); the module checks that before writing and names each bad model and version.
      - The models listed are compared one by one; models of the manifest that are not listed are kept unless
        O(purge_platforms=true).
    type: dict
  purge_platforms:
    description:
      - Remove the models of the manifest that are not in O(platforms). Needs O(platforms) (V({}) removes every
        model).
    type: bool
    default: false
  capabilities:
    description:
      - Capability flags of the image, the complete set. A key means the capability is supported; its value is
        a dictionary of settings (V({}) for none). Capabilities of the manifest that are not listed are removed.
      - The Air API knows C(vsock); other keys are refused before anything is sent.
    type: dict
  os_template_partition:
    description:
      - Partition the rendered OS-template files are written to, a filesystem label (for example C(SONiC-OS)) or
        a C(/dev/...) device path. Not set on a new manifest means the partition of the image's C(mountpoint).
      - Must not be empty; at most 128 characters.
    type: str
notes:
  - The image must be uploaded (C(upload_status=COMPLETE)) before it can get a manifest; the module fails naming
    the image's status otherwise. Only the organization that owns the image can change its manifest.
  - Pins are checked against the platform information and OS templates visible to the API token.
  - A manifest that another run creates at the same time is adopted (and updated if it differs), not counted as
    a change of this task.
seealso:
  - module: nvidia.air.air_image
  - module: nvidia.air.air_image_upload
  - module: nvidia.air.air_image_info
  - ref: ansible_collections.nvidia.air.docsite.guide_images
    description: The image guide, with a section on OS image manifests and the image_release role.
"""

EXAMPLES = r"""
- name: Attach a manifest for two switch models
  nvidia.air.air_os_image_manifest:
    name: cumulus-vx
    version: 5.11.0
    os_type: cumulus-linux
    platforms:
      SN3700:
        platform_information_version: "1.1"
        os_template_version: "5.11"
      SN5600:
        platform_information_version: "1.0"
        os_template_version: "5.11"
    capabilities:
      vsock: {}
    os_template_partition: /dev/sda3

- name: Move one model to a newer OS template (the other model is kept)
  nvidia.air.air_os_image_manifest:
    name: cumulus-vx
    version: 5.11.0
    platforms:
      SN3700:
        platform_information_version: "1.1"
        os_template_version: "5.11"

- name: Keep only SN3700
  nvidia.air.air_os_image_manifest:
    name: cumulus-vx
    version: 5.11.0
    platforms:
      SN3700:
        platform_information_version: "1.1"
        os_template_version: "5.11"
    purge_platforms: true

- name: Delete the manifest (the image stays)
  nvidia.air.air_os_image_manifest:
    image: 935b994e-9e1e-4d85-9275-10f7b3111cd9
    state: absent
"""

RETURN = r"""
manifest:
  description:
    - The manifest after the task (in check mode, the predicted manifest; C(id) is null for a manifest that
      would be created). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Id of the manifest.
      type: str
    created:
      description: When the manifest was created (ISO 8601).
      type: str
    modified:
      description: When the manifest last changed (ISO 8601).
      type: str
    image:
      description: Id of the image the manifest describes.
      type: str
    os_type:
      description: The network OS of the image.
      type: str
    creator:
      description: Who created the manifest.
      type: str
    os_template_partition:
      description: Partition OS templates are rendered into; null means the image's C(mountpoint).
      type: str
    capabilities:
      description: Capability flags (key = supported, value = settings).
      type: dict
    platforms:
      description: Hardware model to its C(platform_information_version) and C(os_template_version) (null = not
        pinned).
      type: dict
  sample:
    id: d55a035b-6151-4f21-b3a1-ea47fde5e6cc
    created: "2026-11-29T16:39:19.971552Z"
    modified: "2026-11-29T16:39:19.971552Z"
    image: 935b994e-9e1e-4d85-9275-10f7b3111cd9
    os_type: cumulus-linux
    creator: user@example.com
    os_template_partition: /dev/sda3
    capabilities: {vsock: {}}
    platforms:
      SN3700: {platform_information_version: "1.1", os_template_version: "5.11"}
      SN5600: {platform_information_version: "1.0", os_template_version: "5.11"}
actions:
  description: What the task did (or would do in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["updated platforms of the OS image manifest of image 'cumulus-vx' version '5.11.0'"]
failure:
  description: Structured details of a failure (step, HTTP status, the API's message and request id).
  returned: failed
  type: dict
  sample:
    type: AirInputError
    step: check pins
    status: null
    message: "SN9999: unknown model for os_type 'cumulus-linux' (known models: SN3700, SN5600)"
"""

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError, AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._models import (
    CAPABILITY_KEYS,
    PIN_KEYS,
    OSImageManifest,
    manifest_changes,
)
from ansible_collections.nvidia.air.plugins.module_utils._module import AirModule

# Options that describe the manifest (not used with state=absent).
MANIFEST_OPTIONS = ("os_type", "platforms", "capabilities", "os_template_partition")
PARTITION_MAX = 128  # characters, as the API's manifest serializer allows


def _version(where, value):
    """A pin as the API wants it: a non-empty string, or None (not pinned)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise AirInputError("%s must be a version string, got %r" % (where, value), step="check options")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise AirInputError("%s is the number %r; quote versions (YAML reads 5.10 as the number 5.1)"
                            % (where, value), step="check options")
    if not isinstance(value, str) or not value.strip():
        raise AirInputError("%s must be a non-empty version string or null (not pinned), got %r" % (where, value),
                            step="check options")
    return value


def parse_platforms(value):
    """``{model: {platform_information_version, os_template_version}}`` with both pins (str or None)."""
    platforms = {}
    for model, pins in value.items():
        where = "platforms.%s" % model
        if not isinstance(model, str) or not model.strip():
            raise AirInputError("platforms: model names must be non-empty strings, got %r" % (model,),
                                step="check options")
        if pins is None:
            pins = {}
        if not isinstance(pins, dict):
            raise AirInputError("%s must be a dictionary with %s" % (where, " and ".join(PIN_KEYS)),
                                step="check options")
        unknown = sorted(set(pins) - set(PIN_KEYS))
        if unknown:
            raise AirInputError("%s has unknown key(s) %s; use %s" % (where, ", ".join(unknown), " and ".join(PIN_KEYS)),
                                step="check options")
        platforms[model] = dict((key, _version("%s.%s" % (where, key), pins.get(key))) for key in PIN_KEYS)
    return platforms


def parse_capabilities(value):
    unknown = sorted(set(value) - set(CAPABILITY_KEYS))
    if unknown:
        raise AirInputError("capabilities has unknown key(s) %s; the Air API knows %s"
                            % (", ".join(unknown), ", ".join(CAPABILITY_KEYS)), step="check options")
    for key, settings in value.items():
        if not isinstance(settings, dict):
            raise AirInputError("capabilities.%s must be a dictionary of settings ({} for none), got %r"
                                % (key, settings), step="check options")
    return dict(value)


class AirOsImageManifestModule(AirModule):
    argument_spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        image=dict(type="str"),
        name=dict(type="str"),
        version=dict(type="str"),
        os_type=dict(type="str"),
        platforms=dict(type="dict"),
        purge_platforms=dict(type="bool", default=False),
        capabilities=dict(type="dict"),
        os_template_partition=dict(type="str"),
    )
    module_kwargs = dict(
        required_one_of=[["image", "name"]],
        mutually_exclusive=[["image", "name"]],
        required_together=[["name", "version"]],
    )

    def check_options(self):
        p = self.params
        if p["state"] == "absent":
            for option in MANIFEST_OPTIONS + ("purge_platforms",):
                if p[option] not in (None, False):
                    raise AirInputError("%s is not used with state: absent" % option, step="check options")
            return
        if p["os_type"] is not None and not p["os_type"].strip():
            raise AirInputError("os_type must not be empty", step="check options")
        if p["os_template_partition"] is not None and not p["os_template_partition"].strip():
            raise AirInputError("os_template_partition must not be empty (a filesystem label such as SONiC-OS or a "
                                "/dev/... path; leave it out to keep the current one)", step="check options")
        if p["os_template_partition"] is not None and len(p["os_template_partition"]) > PARTITION_MAX:
            raise AirInputError("os_template_partition must be at most %d characters (the Air API's limit), got %d"
                                % (PARTITION_MAX, len(p["os_template_partition"])), step="check options")
        if p["purge_platforms"] and p["platforms"] is None:
            raise AirInputError("purge_platforms needs platforms (platforms: {} removes every model)",
                                step="check options")
        if p["platforms"] is not None:
            p["platforms"] = parse_platforms(p["platforms"])
        if p["capabilities"] is not None:
            p["capabilities"] = parse_capabilities(p["capabilities"])

    def desired(self):
        return dict((option, self.params[option]) for option in ("platforms", "capabilities", "os_template_partition")
                    if self.params[option] is not None)

    def run(self):
        p = self.params
        image = self.find_image(p["image"], p["name"], p["version"], required=p["state"] == "present")
        if image is None:  # state=absent: no image, no manifest
            self.result["manifest"] = None
            return
        if not image.is_owned_by_client:
            raise AirInputError("image %s belongs to another organization; only its owner can change its OS image "
                                "manifest" % image.label, step="lookup", image_id=image.id)
        current = self.client.manifests.for_image(image.id)
        if p["state"] == "absent":
            self.absent(image, current)
            self.result["manifest"] = None
        else:
            manifest = self.create(image) if current is None else self.update(image, current)
            self.result["manifest"] = manifest.to_result()

    # ------------------------------------------------------------------ present
    def create(self, image):
        p = self.params
        if p["os_type"] is None:
            raise AirInputError("image %s has no OS image manifest; to create it, set os_type" % image.label,
                                step="create manifest", image_id=image.id)
        fields = dict(self.desired(), os_type=p["os_type"])
        fields.setdefault("platforms", {})
        # The pins first: a check-mode run on an image still uploading (image_release does one before its upload)
        # finds the task's own mistakes before it is told to wait for the upload.
        self.check_pins(image, p["os_type"], fields["platforms"])
        if image.upload_status != "COMPLETE":
            raise AirInputError("image %s is %s; an OS image manifest can only be attached to an uploaded image "
                                "(COMPLETE)" % (image.label, image.upload_status), step="check upload status",
                                image_id=image.id)
        try:
            manifest = self.change("created the OS image manifest of image %s (%s: %s)"
                                   % (image.label, p["os_type"], ", ".join(sorted(fields["platforms"])) or "no models"),
                                   lambda: self.client.manifests.create(image, fields))
        except AirApiError as exc:
            existing = self.client.manifests.for_image(image.id) if exc.status == 400 else None
            if existing is None:
                raise
            self.warn("the OS image manifest of image %s was created by another run at the same time; using it"
                      % image.label)
            return self.update(image, existing)
        self.diff.add("exists", False, True)
        for field in sorted(fields):
            self.diff.add(field, None, fields[field])
        if manifest is None:  # check mode: what the API would return
            predicted = dict(dict.fromkeys(("id", "created", "modified", "creator", "os_template_partition")),
                             image=image.id, capabilities={})
            predicted.update(fields)
            manifest = OSImageManifest(predicted)
        return manifest

    def update(self, image, current):
        p = self.params
        if p["os_type"] is not None and p["os_type"] != current.os_type:
            raise AirInputError(
                "the OS image manifest of image %s has os_type %r, which cannot be changed to %r; delete the manifest "
                "(state: absent) and create it again" % (image.label, current.os_type, p["os_type"]),
                step="check options", image_id=image.id)
        changes = manifest_changes(current, self.desired(), p["purge_platforms"])
        if not changes:
            return current
        if "platforms" in changes:
            self.check_pins(image, current.os_type, changes["platforms"][1])
        for field, (before, after) in sorted(changes.items()):
            self.diff.add(field, before, after)
        fields = dict((field, after) for field, (_before, after) in changes.items())
        action = "updated %s of the OS image manifest of image %s" % (", ".join(sorted(changes)), image.label)
        updated = self.change(action, lambda: self.client.manifests.update(current, fields, image))
        return updated or OSImageManifest(dict(current.data, **fields))

    def check_pins(self, image, os_type, platforms):
        """Refuse an unknown os_type, model or version before anything is written."""
        catalogue = self.client.manifests.catalogue(os_type)
        if catalogue.is_empty:
            raise AirInputError("unknown os_type %r: the Air catalogue has no platform information or OS templates "
                                "for it (known: %s)" % (os_type, ", ".join(self.client.manifests.os_types()) or "none"),
                                step="check pins", image=image.label, image_id=image.id)
        errors = catalogue.pin_errors(platforms)
        if errors:
            raise AirInputError("; ".join(errors), step="check pins", image=image.label, image_id=image.id)

    # ------------------------------------------------------------------- absent
    def absent(self, image, current):
        if current is None:
            return
        self.diff.add("exists", True, False)
        self.change("deleted the OS image manifest of image %s" % image.label,
                    lambda: self.client.manifests.delete(current, image))


def main():
    AirOsImageManifestModule()()


if __name__ == "__main__":
    main()
