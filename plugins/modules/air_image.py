#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: air_image
short_description: Manage NVIDIA Air image records
version_added: 0.1.0
description:
  - Create, update, publish, unpublish and delete NVIDIA Air images (the record that describes a disk image;
    its content is uploaded with M(nvidia.air.air_image_upload)).
  - An image is identified by O(id), or by O(name) and O(version) within the organization of the API token.
  - Only the options you set are compared with the image and changed; options left out are left alone.
author:
  - NVIDIA Air collection contributors (!UNKNOWN)
extends_documentation_fragment:
  - nvidia.air._auth
  - nvidia.air._auth.WAIT
  - nvidia.air._attributes
  - nvidia.air._attributes.ACTIONGROUP
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  id:
    description:
      - Id (UUID) of an existing image.
      - With O(id), O(name) and O(version) rename the image instead of identifying it.
    type: str
  name:
    description:
      - Name of the image (1 to 128 characters). Together with O(version) it identifies the image within your
        organization when O(id) is not given.
    type: str
  version:
    description:
      - Version of the image (1 to 64 characters). Required with O(name) unless O(id) is given.
    type: str
  state:
    description:
      - V(present) creates the image or updates it to match the options.
      - V(absent) deletes it; a published image is unpublished first. Deleting an absent image changes nothing.
    type: str
    choices: [present, absent]
    default: present
  default_username:
    description:
      - User name to log in to the operating system of the image (1 to 64 characters). Required to create.
    type: str
  default_password:
    description:
      - Password of O(default_username) (1 to 64 characters). Required to create.
      - Never shown; results and diffs carry C(********) instead.
    type: str
  mountpoint:
    description:
      - Partition holding the root file system of the image, for example C(/dev/sda1).
    type: str
  minimum_resources:
    description:
      - Resources a simulation node needs to run the image. Keys left out keep their current value.
    type: dict
    suboptions:
      cpu:
        description: Number of CPUs.
        type: int
      memory:
        description: Memory in MiB.
        type: int
      storage:
        description: Disk size in GB.
        type: int
  includes_air_agent:
    description:
      - Whether the image ships the Air agent.
    type: bool
  cpu_arch:
    description:
      - CPU architecture of the image.
    type: str
    choices: [x86, ARM]
  emulation_type:
    description:
      - Emulation types the image supports. Compared as a set (order does not matter).
    type: list
    elements: str
  emulation_version:
    description:
      - Version of the emulation the image supports.
    type: str
  provider:
    description:
      - How the image runs.
    type: str
    choices: [VM, CONTAINER]
  notes:
    description: Free-text notes.
    type: str
  release_notes:
    description: Release notes.
    type: str
  user_manual:
    description: User manual text.
    type: str
  published:
    description:
      - V(true) publishes the image to the Air catalog (it must be uploaded, C(upload_status=COMPLETE));
        V(false) unpublishes it. Not set leaves publication alone.
      - With O(wait=true) the module waits until C(PUBLISHING) or C(UNPUBLISHING) is over.
    type: bool
  publish_name:
    description:
      - Name to publish the image under (the catalog needs unique name and version pairs). The image keeps this
        name afterwards; later runs still find it by O(name) and O(version) or by O(publish_name) and
        O(publish_version).
    type: str
  publish_version:
    description:
      - Version to publish the image under. See O(publish_name).
    type: str
  clear_upload:
    description:
      - V(true) deletes the uploaded file of the image (C(upload_status) goes back to C(READY)), for example
        before uploading another one. Refused while the image is published unless O(published=false).
    type: bool
    default: false
  abort_upload:
    description:
      - V(true) aborts the multipart upload in progress on the image (C(upload_status=UPLOADING)), whoever
        started it, and the image goes back to C(READY). Use it for an upload whose run died on a host that
        cannot resume it; M(nvidia.air.air_image_upload) never aborts an upload it did not start and waits for
        it instead.
      - Nothing changes when no upload is in progress.
    type: bool
    default: false
notes:
  - The module runs where the task runs; the API is reached from there (usually C(delegate_to=localhost)).
  - A value of O(default_password) that also appears in other output (for example the name C(cumulus) and
    the password C(cumulus)) is masked there too by Ansible's C(no_log) handling; use a password that is not a
    substring of names.
  - Two runs on one image (two hosts, or a re-run while the first is still going). When the API refuses a
    create, publish or unpublish because another run just did the same, the module adopts the result instead
    of failing, and reports no change of its own.
seealso:
  - module: nvidia.air.air_image_upload
  - module: nvidia.air.air_image_share
  - module: nvidia.air.air_image_info
"""

EXAMPLES = r"""
- name: Register an image
  nvidia.air.air_image:
    name: cumulus-vx
    version: 5.16.0
    default_username: cumulus
    default_password: "{{ vault_cumulus_password }}"
    cpu_arch: x86
    provider: VM
    minimum_resources:
      cpu: 2
      memory: 2048
      storage: 10
    notes: Built by the release pipeline

- name: Publish it once it is uploaded, under a catalog name
  nvidia.air.air_image:
    name: cumulus-vx
    version: 5.16.0
    published: true
    publish_name: cumulus-vx-lts

- name: Set credentials once for every nvidia.air module
  module_defaults:
    group/nvidia.air.air:
      api_url: https://api.dsx-air.nvidia.com
      api_token: "{{ air_token }}"
  block:
    - name: Remove an image (unpublished first if needed)
      nvidia.air.air_image:
        name: cumulus-vx
        version: 5.15.0
        state: absent
"""

RETURN = r"""
image:
  description:
    - The image after the task (in check mode, the predicted image; C(id) is null for an image that would be
      created). Null after O(state=absent).
    - C(default_password) is always C(********).
  returned: always
  type: dict
  sample:
    id: 935b994e-9e1e-4d85-9275-10f7b3111cd9
    name: cumulus-vx
    version: 5.16.0
    created: "2026-11-27T10:00:00.000000Z"
    modified: "2026-11-27T10:00:00.000000Z"
    creator: user@example.com
    default_username: cumulus
    default_password: "********"
    mountpoint: null
    minimum_resources: {cpu: 1, memory: 1024, storage: 10}
    includes_air_agent: false
    cpu_arch: x86
    emulation_type: []
    emulation_version: ""
    provider: VM
    published: false
    publicly_published: false
    publish_access_record_id: null
    upload_status: READY
    last_uploaded_at: null
    size: 0
    hash: ""
    is_owned_by_client: true
    notes: ""
    release_notes: ""
    user_manual: ""
actions:
  description: What the task did (or would do in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["created image 'cumulus-vx' version '5.16.0'", "published image"]
failure:
  description: Structured details of a failure (step, HTTP status, the API's message and request id).
  returned: failed
  type: dict
  sample:
    type: AirApiError
    step: create
    status: 400
    message: "An image named 'cumulus-vx' version '5.16.0' already exists in your organization."
    detail: "An image named 'cumulus-vx' version '5.16.0' already exists in your organization."
    field_errors: {non_field_errors: ["The fields name, version must make a unique set."]}
    request_id: 4f0c1b1e-2f7a-4c55-9d55-0d8f0a9d3a11
    image_id: null
"""

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError, AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._models import UPLOADED_STATES, WRITABLE_FIELDS, Image, image_changes
from ansible_collections.nvidia.air.plugins.module_utils._module import WAIT_ARGSPEC, AirModule

CREATE_DEFAULTS = {
    "mountpoint": None, "minimum_resources": {"cpu": 1, "memory": 1024, "storage": 10},
    "includes_air_agent": False, "cpu_arch": "x86", "emulation_type": [], "emulation_version": "",
    "provider": "VM", "notes": "", "release_notes": "", "user_manual": "",
}


class AirImageModule(AirModule):
    argument_spec = dict(
        id=dict(type="str"),
        name=dict(type="str"),
        version=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        default_username=dict(type="str"),
        default_password=dict(type="str", no_log=True),
        mountpoint=dict(type="str"),
        minimum_resources=dict(type="dict", options=dict(
            cpu=dict(type="int"), memory=dict(type="int"), storage=dict(type="int"))),
        includes_air_agent=dict(type="bool"),
        cpu_arch=dict(type="str", choices=["x86", "ARM"]),
        emulation_type=dict(type="list", elements="str"),
        emulation_version=dict(type="str"),
        provider=dict(type="str", choices=["VM", "CONTAINER"]),
        notes=dict(type="str"),
        release_notes=dict(type="str"),
        user_manual=dict(type="str"),
        published=dict(type="bool"),
        publish_name=dict(type="str"),
        publish_version=dict(type="str"),
        clear_upload=dict(type="bool", default=False),
        abort_upload=dict(type="bool", default=False),
        **WAIT_ARGSPEC
    )
    module_kwargs = dict(required_one_of=[["id", "name"]])

    def check_options(self):
        p = self.params
        if not p["id"] and p["name"] and not p["version"]:
            raise AirInputError("version is required with name (name and version identify an image)",
                                step="check options")
        for key, value in (p["minimum_resources"] or {}).items():
            if value is not None and value < 1:
                raise AirInputError("minimum_resources.%s must be >= 1" % key, step="check options")

    def desired_fields(self):
        p = self.params
        fields = dict((f, p[f]) for f in WRITABLE_FIELDS if f not in ("name", "version") and p.get(f) is not None)
        if p["minimum_resources"] is not None:
            fields["minimum_resources"] = dict((k, v) for k, v in p["minimum_resources"].items() if v is not None)
        if p["id"]:  # with an id, name and version rename
            fields.update((f, p[f]) for f in ("name", "version") if p[f] is not None)
        return fields

    def lookup(self):
        p = self.params
        image = self.find_image(p["id"], p["name"], p["version"])
        if image is None and p["id"] and p["state"] == "present":
            raise AirInputError("no image with id %s is visible to this token" % p["id"], step="lookup", status=404,
                                image_id=p["id"])
        if image is None and not p["id"] and (p["publish_name"] or p["publish_version"]):
            # A previous run may have published (and so renamed) it: only a published image is proof of that;
            # an unpublished one that merely has the catalog name is someone else's.
            renamed = self.client.images.find(p["publish_name"] or p["name"], p["publish_version"] or p["version"])
            if renamed is not None and (renamed.published or renamed.upload_status == "PUBLISHING"):
                image = renamed
        return image

    def run(self):
        image = self.lookup()
        if self.params["state"] == "absent":
            self.absent(image)
            self.result["image"] = None
        else:
            self.result["image"] = self.present(image).to_result()

    # ------------------------------------------------------------------ present
    def present(self, image):
        image = self.create() if image is None else self.update(self.wait_settled(image))
        if self.params["abort_upload"] and image.upload_status == "UPLOADING":
            image = self.abort(image)
        if self.params["published"] is False and image.published:
            image = self.unpublish(image)
        if self.params["clear_upload"] and image.upload_status in UPLOADED_STATES:
            image = self.clear(image)
        if self.params["published"] and not image.published:
            image = self.publish(image)
        return image

    def create(self):
        p = self.params
        missing = [f for f in ("default_username", "default_password") if p[f] is None]
        if missing:
            raise AirInputError("image %r version %r does not exist; to create it, set %s"
                                % (p["name"], p["version"], " and ".join(missing)), step="create")
        fields = dict(name=p["name"], version=p["version"])
        fields.update(self.desired_fields())
        label = "%r version %r" % (p["name"], p["version"])
        try:
            image = self.change("created image %s" % label, lambda: self.client.images.create(fields))
        except AirApiError as exc:
            existing = self.client.images.find(p["name"], p["version"]) if exc.status == 400 else None
            if existing is None:
                raise
            self.warn("image %s was created by another run at the same time; using it" % existing.label)
            return self.update(self.wait_settled(existing))
        self.diff.add("exists", False, True)
        for field in sorted(fields):
            self.diff.add(field, None, fields[field])
        if image is None:  # check mode: what the API would return
            image = Image(dict(CREATE_DEFAULTS, id=None, upload_status="READY", published=False,
                               publicly_published=False, size=0, hash="", is_owned_by_client=True, **fields))
        return image

    def update(self, image):
        changes = image_changes(image, self.desired_fields())
        if not changes:
            return image
        for field, (before, after) in sorted(changes.items()):
            self.diff.add(field, before, after)
        fields = dict((field, after) for field, (_before, after) in changes.items())
        return self.change("updated %s of image %s" % (", ".join(sorted(changes)), image.label),
                           lambda: self.client.images.update(image, fields)) or _predicted(image, fields)

    def publish(self, image):
        p = self.params
        if image.upload_status != "COMPLETE":
            raise AirInputError(
                "image %s is %s; only an uploaded image (COMPLETE) can be published: upload it with "
                "nvidia.air.air_image_upload first" % (image.label, image.upload_status), step="publish",
                image_id=image.id)
        renames = dict((field, p[option]) for option, field in (("publish_name", "name"), ("publish_version", "version"))
                       if p[option] is not None and p[option] != image.data.get(field))
        try:
            published = self.change("published image %s" % image.label, lambda: self.settle(
                self.client.publishing.publish(image, p["publish_name"], p["publish_version"])))
        except AirApiError as exc:
            return self.settle(self.adopt(image, exc, "published",
                                          lambda i: i.published or i.upload_status == "PUBLISHING"))
        for field, value in sorted(renames.items()):
            self.diff.add(field, image.data.get(field), value)
        self.diff.add("published", False, True)
        return published or _predicted(image, dict(renames, published=True))

    def unpublish(self, image, force_wait=False):
        try:
            unpublished = self.change("unpublished image %s" % image.label, lambda: self.settle(
                self.client.publishing.unpublish(image), force_wait))
        except AirApiError as exc:
            return self.settle(self.adopt(image, exc, "unpublished",
                                          lambda i: not i.published or i.upload_status == "UNPUBLISHING"), force_wait)
        self.diff.add("published", True, False)
        return unpublished or _predicted(image, {"published": False})

    def abort(self, image):
        try:
            self.change("aborted the upload in progress of image %s" % image.label,
                        lambda: self.client.uploads.abort(image))
        except AirApiError as exc:
            return self.adopt(image, exc, "no longer uploading", lambda i: i.upload_status != "UPLOADING")
        self.diff.add("upload_status", "UPLOADING", "READY")
        return _predicted(image, {"upload_status": "READY"}) if self.check_mode else self.client.images.get(image.id)

    def adopt(self, image, refusal, what, reached):
        """After the API refused a write: the image as another run just left it if that is what we wanted,
        else the refusal is re-raised."""
        if refusal.status not in (400, 409):
            raise refusal
        current = self.client.images.get(image.id)
        if not reached(current):
            raise refusal
        self.warn("image %s was %s by another run at the same time" % (image.label, what))
        return current

    def clear(self, image):
        if image.published:
            raise AirInputError("cannot clear the upload of the published image %s; set published: false"
                                % image.label, step="clear-upload", image_id=image.id)
        cleared = {"upload_status": "READY", "hash": "", "size": 0, "last_uploaded_at": None}
        for field in ("upload_status", "hash", "size"):
            self.diff.add(field, image.data.get(field), cleared[field])
        return self.change("cleared the uploaded file of image %s" % image.label,
                           lambda: self.client.uploads.clear(image)) or _predicted(image, cleared)

    def settle(self, image, force_wait=False):
        """Wait until PUBLISHING / UNPUBLISHING is over (when wait is set)."""
        if not (self.params["wait"] or force_wait):
            return image
        return self.client.images.wait_for(image, lambda i: i.upload_status == "COMPLETE", step="wait",
                                           timeout=self.params["wait_timeout"],
                                           poll_interval=self.params["poll_interval"])

    # ------------------------------------------------------------------- absent
    def absent(self, image):
        if image is None:
            return
        self.diff.add("exists", True, False)
        if image.published:  # the API refuses to delete a published image
            image = self.unpublish(image, force_wait=True)
        if not self.check_mode:
            image = self.client.images.wait_for(
                image, lambda i: i.upload_status in ("READY", "UPLOADING", "COMPLETE"), step="wait to delete",
                timeout=self.params["wait_timeout"], poll_interval=self.params["poll_interval"])
        if self.change("deleted image %s" % image.label, lambda: self.client.images.delete(image)) is False:
            self.take_back_last_change("image %s was deleted by another run at the same time" % image.label)


def _predicted(image, fields):
    """The image as a write would leave it (check mode)."""
    return Image(dict(image.data, **fields))


def main():
    AirImageModule()()


if __name__ == "__main__":
    main()
