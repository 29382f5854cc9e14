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
  - Publication is a desired state too, public or restricted to a list of organizations (O(visibility),
    O(allowed_orgs)). A token with the C(air:image_publish) scope (role C(air_image_publisher)) publishes and
    unpublishes directly; other tokens (for example a CI key with the C(air_image_uploader) role) ask an Air
    reviewer with a publish request, which the module sends once and then waits for across runs. See
    O(publish_method).
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
    details:
      - Check mode asks the API whether the token may publish directly (see O(publish_method)) and reads the
        image's publish requests, so it predicts a direct publication, a request, a withdrawal or a refusal
        exactly as a real run makes it.
  diff_mode:
    support: full
  idempotent:
    support: full
    details:
      - A publish request is sent once. Later runs find it on the image (its C(publish_access_record_id)) and
        report no change while it waits for a reviewer, the publication once it is approved, and fail with the
        reviewer's reason once it is denied.
      - The Air API shows the allow-list of a restricted image only to its reviewers. The module therefore
        compares O(allowed_orgs) with the list it asked for last, which it writes on one line
        (C(Allowed organizations (nvidia.air)) followed by names and ids) into the request's
        C(allowed_orgs_request_text), or at the end of the justification of a direct publication and of a
        request to restrict a public image, and reads back from the approved record that governs the image.
        A list a reviewer approved differently, or changed later, is not seen; an image published without such
        a line (by hand, or with another tool) gets one allow-list change request, after which runs agree.
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
      - How it is done depends on O(publish_method). A publish request that is still waiting for a reviewer is
        reported as it is (RV(publish_request)), without a change; V(false) withdraws a waiting publish request,
        and V(true) a waiting unpublish request.
      - With O(wait=true) the module waits until C(PUBLISHING) or C(UNPUBLISHING) is over (never for a
        reviewer).
    type: bool
  publish_name:
    description:
      - Name to publish the image under (the catalog needs unique name and version pairs). The image keeps this
        name afterwards; later runs still find it by O(name) and O(version) or by O(publish_name) and
        O(publish_version).
      - With a publish request the image is renamed when the reviewer approves it.
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
  visibility:
    description:
      - Who sees the published image. V(public) is every Air user; V(restricted) is your organization and the
        organizations in O(allowed_orgs).
      - Not set leaves the visibility of a published image alone, and publishes a new one the way the Air API
        does by default, V(public). Setting O(allowed_orgs) implies V(restricted).
      - Changing the visibility of a published image is always a request to an Air reviewer (the API has no
        direct call for it); it needs O(justification).
      - Needs O(published=true).
    type: str
    choices: [public, restricted]
  allowed_orgs:
    description:
      - The organizations that see the image with O(visibility=restricted), besides your own (always included).
        An empty list means your organization only.
      - Each item is an organization id (UUID) or an NGC org name. Names are looked up in the Air API's
        organization directory (C(GET /api/v3/resource-budgets/)), where a token sees only its own
        organization unless it has the C(air:sre) scope; so give other organizations by id (a member of that
        organization reads it as C(org_id) there). A name that cannot be looked up fails the task before
        anything is written. An id is checked by the Air API only when the publication is sent, so check mode
        cannot tell an unknown id from a good one.
      - Your own organization always sees the image, so listing it or not is the same allow-list.
      - Compared as a set with the list last asked for; see the C(idempotent) attribute for what the module can
        and cannot see. Not set leaves the allow-list of a published restricted image alone (a new restricted
        publication is then visible to your organization only).
      - Needs O(published=true); not allowed with O(visibility=public).
    type: list
    elements: str
  justification:
    description:
      - Why the image is published (or unpublished, or its visibility changed), for the Air reviewers and the
        audit record (at most 2048 characters, with the allow-list line the module adds for a restricted
        visibility).
      - Required, and not blank, whenever the module sends a request to a reviewer; optional for a direct
        publication.
      - A request the reviewer denied is not sent again unchanged; changing the justification asks again.
    type: str
  publish_method:
    description:
      - How publication changes are made.
      - V(direct) publishes and unpublishes at once; it needs a token with the C(air:image_publish) scope (role
        C(air_image_publisher)), otherwise the task fails before anything is written.
      - V(request) always asks an Air reviewer (C(request-publish), C(request-unpublish)); this needs
        C(air:image_write) or C(air:image_publish) and a O(justification). The task ends with the request
        waiting (RV(publish_request) has its C(status)); run it again after the review.
      - V(auto) uses V(direct) when the token may, else V(request). To find out, the module sends a publish of
        the nil image id, which the Air API answers with 403 when the scope is missing and 404 when it is there
        (it checks scopes before it looks an image up); nothing can be published that way.
      - Visibility changes of a published image are always requests, whatever the method (V(direct) fails).
    type: str
    choices: [auto, direct, request]
    default: auto
  unpublish_name:
    description:
      - Name to give the image when it is unpublished (O(published=false)), for example its name from before
        O(publish_name). With a request it is renamed when the reviewer approves. Later runs also find the
        image under this name.
    type: str
  unpublish_version:
    description:
      - Version to give the image when it is unpublished. See O(unpublish_name).
    type: str
notes:
  - The module runs where the task runs; the API is reached from there (usually C(delegate_to=localhost)).
  - A value of O(default_password) that also appears in other output (for example the name C(cumulus) and
    the password C(cumulus)) is masked there too by Ansible's C(no_log) handling; use a password that is not a
    substring of names.
  - Two runs on one image (two hosts, or a re-run while the first is still going). When the API refuses a
    create, publish, unpublish or publish request because another run just did the same, the module adopts the
    result instead of failing, and reports no change of its own.
  - Only one publish request can be open per image. A task that wants something else than the open request
    asks for fails before anything is written, naming that request (C(failure.publish_access_record_id)).
  - O(state=absent) withdraws a waiting request of the image and unpublishes it first. With a request to
    unpublish, the image is deleted by a later run, once the reviewer has approved.
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

- name: Publish to two partner organizations only (direct with a publisher token, else a request)
  nvidia.air.air_image:
    name: cumulus-vx
    version: 5.16.0
    published: true
    visibility: restricted
    allowed_orgs:
      - 1c9e3b1e-7f51-5c3a-9e0e-5b8a1d2c3f40  # partner org id (other orgs cannot be looked up by name)
      - 7a61c0d2-2b4e-5f1a-8c3d-9e0f1a2b3c4d
    justification: Early access for the joint validation lab
  register: release

- name: Say when a reviewer still has to approve
  ansible.builtin.debug:
    msg: "Publish request {{ release.publish_request.id }} is {{ release.publish_request.status }}"
  when: release.publish_request.status | default('') is match('PENDING')

- name: Make the image public later (always a request to an Air reviewer)
  nvidia.air.air_image:
    name: cumulus-vx
    version: 5.16.0
    published: true
    visibility: public
    justification: General availability of 5.16.0

- name: Withdraw a publish request that has not been reviewed yet, or unpublish
  nvidia.air.air_image:
    name: cumulus-vx
    version: 5.16.0
    published: false
    justification: Superseded by 5.16.1
    unpublish_name: cumulus-vx-retired

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
      created). Null after O(state=absent), unless the image waits for a reviewer to approve its unpublication.
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
publish_request:
  description:
    - The publish access record the image points at after the task (its last direct publication or publish
      request), null when it has none. In check mode, the record a request would create (C(id) null).
    - C(status) is C(PENDING), C(PENDING_ELEVATION), C(PENDING_RESTRICTION), C(PENDING_ALLOWLIST) or
      C(PENDING_UNPUBLISH) while a reviewer has not answered; then C(APPROVED) (C(APPROVED_PENDING_IMAGE_PUBLISH)
      while the image is published), C(DENIED) (see C(denial_reason)) or C(CANCELLED).
    - C(allowed_orgs) is null; the Air API shows it to its reviewers only.
  returned: when O(published) is set, and with O(state=absent) when the image waits for an unpublish request
  type: dict
  sample:
    id: 9e2a4c1d-5b6f-4a7e-8c9d-0e1f2a3b4c5d
    created: "2026-11-27T10:00:00.000000Z"
    modified: "2026-11-27T10:00:00.000000Z"
    image: 935b994e-9e1e-4d85-9275-10f7b3111cd9
    image_name: cumulus-vx
    image_version: 5.16.0
    requested_by: ci@example.com
    requested_at: "2026-11-27T10:00:00.000000Z"
    requesting_org: Demo Org
    requesting_org_display_name: Demo Org
    requesting_org_ngc_org_name: demo-org
    reviewed_by: null
    reviewed_at: null
    status: PENDING
    publicly_published: false
    prefer_public: false
    justification: Early access for the joint validation lab
    allowed_orgs_request_text: "Allowed organizations (nvidia.air): 1c9e3b1e-7f51-5c3a-9e0e-5b8a1d2c3f40"
    allowed_orgs: null
    denial_reason: ""
actions:
  description: What the task did (or would do in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["created image 'cumulus-vx' version '5.16.0'", "published image 'cumulus-vx' version '5.16.0' (...) (public)"]
failure:
  description:
    - Structured details of a failure (step, HTTP status, the API's message and request id).
    - When a publish access record stands in the way (C(type=AirPublishRequestError), a denied request asked
      again or another request still open), also C(publish_access_record_id), C(publish_access_record_status)
      and C(denial_reason).
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

from ansible_collections.nvidia.air.plugins.module_utils import _publication as publication
from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirAuthError,
    AirInputError,
    AirPublishRequestError,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import (
    PAR_PENDING_STATUSES,
    UPLOADED_STATES,
    WRITABLE_FIELDS,
    Image,
    image_changes,
)
from ansible_collections.nvidia.air.plugins.module_utils._module import WAIT_ARGSPEC, AirModule

CREATE_DEFAULTS = {
    "mountpoint": None, "minimum_resources": {"cpu": 1, "memory": 1024, "storage": 10},
    "includes_air_agent": False, "cpu_arch": "x86", "emulation_type": [], "emulation_version": "",
    "provider": "VM", "notes": "", "release_notes": "", "user_manual": "",
}
# What check mode returns as publish_request when the record would not change.
_UNCHANGED = object()


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
        visibility=dict(type="str", choices=["public", "restricted"]),
        allowed_orgs=dict(type="list", elements="str"),
        justification=dict(type="str"),
        publish_method=dict(type="str", default="auto", choices=["auto", "direct", "request"]),
        unpublish_name=dict(type="str"),
        unpublish_version=dict(type="str"),
        **WAIT_ARGSPEC
    )
    module_kwargs = dict(required_one_of=[["id", "name"]])

    def __init__(self):
        super(AirImageModule, self).__init__()
        self.desired = None  # publication.Desired, when the task sets published (or deletes)
        self.predicted_request = _UNCHANGED
        self._allow_lists = {}
        self._record_hidden = False  # readable_record() warned that this token may not read records

    def check_options(self):
        p = self.params
        if not p["id"] and p["name"] and not p["version"]:
            raise AirInputError("version is required with name (name and version identify an image)",
                                step="check options")
        for key, value in (p["minimum_resources"] or {}).items():
            if value is not None and value < 1:
                raise AirInputError("minimum_resources.%s must be >= 1" % key, step="check options")
        self.check_publication_options()

    def check_publication_options(self):
        p = self.params
        if p["allowed_orgs"] is not None and p["visibility"] == "public":
            raise AirInputError("allowed_orgs is only used with visibility: restricted (a public image is visible to "
                                "every organization)", step="check options")
        if (p["visibility"] or p["allowed_orgs"] is not None) and (p["published"] is not True or p["state"] == "absent"):
            raise AirInputError("visibility and allowed_orgs describe a publication: they need published: true",
                                step="check options")
        if (p["unpublish_name"] or p["unpublish_version"]) and (p["published"] is not False or p["state"] == "absent"):
            raise AirInputError("unpublish_name and unpublish_version rename the image when it is unpublished: they "
                                "need published: false", step="check options")
        if p["justification"] is not None and len(p["justification"]) > publication.MAX_JUSTIFICATION:
            raise AirInputError("justification is %d characters long; the Air API takes at most %d"
                                % (len(p["justification"]), publication.MAX_JUSTIFICATION), step="check options")

    def desired_fields(self):
        p = self.params
        fields = dict((f, p[f]) for f in WRITABLE_FIELDS if f not in ("name", "version") and p.get(f) is not None)
        if p["minimum_resources"] is not None:
            fields["minimum_resources"] = dict((k, v) for k, v in p["minimum_resources"].items() if v is not None)
        if p["id"]:  # with an id, name and version rename
            fields.update((f, p[f]) for f in ("name", "version") if p[f] is not None)
        return fields

    def desired_publication(self):
        """The publication the task asks for; org names are resolved here, before anything is written."""
        p = self.params
        if p["state"] == "absent":
            return publication.Desired(False, justification=p["justification"])
        if p["published"] is None:
            return None
        allowed = (self.client.organizations.resolve(p["allowed_orgs"], given=self.given.get("allowed_orgs"))
                   if p["allowed_orgs"] is not None else None)
        if allowed is not None:
            # The owning organization always sees its image: listing it changes nothing, so it is not compared.
            allowed = [(label, org_id) for label, org_id in allowed if org_id != self.own_org_id()]
        visibility = p["visibility"] or ("restricted" if allowed is not None else None)
        return publication.Desired(
            p["published"], visibility=visibility, allowed=allowed, justification=p["justification"],
            publish_rename=(p["publish_name"], p["publish_version"]),
            unpublish_rename=(p["unpublish_name"], p["unpublish_version"]))

    def lookup(self):
        p = self.params
        image = self.find_image(p["id"], p["name"], p["version"])
        if image is None and p["id"] and p["state"] == "present":
            raise AirInputError("no image with id %s is visible to this token" % p["id"], step="lookup", status=404,
                                image_id=p["id"])
        # A previous run may have published or unpublished (and so renamed) it: only an image whose publication
        # state matches the rename is proof of that; one that merely has the name is someone else's.
        for name, version, published in ((p["publish_name"], p["publish_version"], True),
                                         (p["unpublish_name"], p["unpublish_version"], False)):
            if image is None and not p["id"] and (name or version):
                renamed = self.client.images.find(name or p["name"], version or p["version"])
                if renamed is not None and (renamed.published or renamed.upload_status == "PUBLISHING") == published:
                    image = renamed
        return image

    def run(self):
        self.desired = self.desired_publication()
        image = self.lookup()
        if self.params["state"] == "absent":
            image = self.absent(image)
            self.result["image"] = image.to_result() if image is not None else None
        else:
            image = self.present(image)
            self.result["image"] = image.to_result()
        if self.params["published"] is not None or (image is not None and self.params["state"] == "absent"):
            self.result["publish_request"] = self.request_result(image)
            self.tell_if_waiting(image, self.result["publish_request"])

    # ------------------------------------------------------------------ present
    def present(self, image):
        plan = None
        if image is None:
            if self.params["published"]:
                # A new image has no file yet, so it cannot be published: say why before creating anything,
                # after the task's own mistakes (scope, justification) that the plan finds first.
                self.plan_publication(_unsaved(dict(name=self.params["name"], version=self.params["version"])))
            image = self.create()
        else:
            image = self.wait_settled(image)
            plan = self.plan_publication(image)  # reads and checks only: refusals come before any write
            image = self.update(image)
        if self.params["abort_upload"] and image.upload_status == "UPLOADING":
            image = self.abort(image)
        if self.params["published"] is False:
            image = self.apply_publication(image, plan)
        if self.params["clear_upload"] and image.upload_status in UPLOADED_STATES:
            image = self.clear(image)
        if self.params["published"]:
            image = self.apply_publication(image, plan)
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
            image = _unsaved(fields)
        return image

    def update(self, image):
        changes = image_changes(image, self.desired_fields())
        if not changes:
            return image
        self.require_owner(image, "change %s" % ", ".join(sorted(changes)))
        for field, (before, after) in sorted(changes.items()):
            self.diff.add(field, before, after)
        fields = dict((field, after) for field, (_before, after) in changes.items())
        return self.change("updated %s of image %s" % (", ".join(sorted(changes)), image.label),
                           lambda: self.client.images.update(image, fields)) or _predicted(image, fields)

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
        self.require_owner(image, "clear its upload")
        if image.upload_status == "PENDING_UNPUBLISH":
            self.warn("the upload of image %s is cleared once its unpublish request is approved; run again then"
                      % image.label)
            return image
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

    # -------------------------------------------------------------- publication
    def plan_publication(self, image):
        """The ``Plan`` that brings the image's publication where the task wants it, with its call chosen.

        Only reads: the image's record, the allow-list last asked for, whether
        the token may publish directly. Everything the API would refuse for
        the task's input (a denied request asked again, an open request in the
        way, a missing justification or scope) is refused here.
        """
        if self.desired is None:
            return None
        record = self.readable_record(image) if image.id else None
        plan = publication.plan(image, record, self.desired, lambda: self.known_allow_list(image, record))
        goal = plan.goal
        if goal is None:
            return plan
        self.require_owner(image, goal.describe())
        plan.method = self.method_for(goal)
        justification = self.params["justification"]
        if plan.method == "direct":
            plan.call = publication.direct_call(goal, justification)
        else:
            self.require_justification(image, goal)
            plan.call = publication.request_call(goal, image, justification)
            if publication.denied_again(record, goal, image, plan.call):
                raise publication.denied_error(record, goal, image)
        publication.check_call_texts(plan.call)
        # Last: a check-mode run on an image still uploading (image_release does one before its upload) finds
        # the task's own mistakes (scope, justification, texts) before it is told to wait for the upload.
        if goal.kind == publication.PUBLISH and image.id is None:
            raise AirInputError(self.nothing_to_publish(image), step="check upload status")
        if goal.kind == publication.PUBLISH and image.upload_status != "COMPLETE":
            raise AirInputError(
                "image %s is %s; only an uploaded image (COMPLETE) can be published: upload it with "
                "nvidia.air.air_image_upload first" % (image.label, image.upload_status), step="check upload status",
                image_id=image.id)
        return plan

    def nothing_to_publish(self, image):
        """Why no image called ``image``'s name and version can be published: none has that name (any more).

        Publishing with publish_name/publish_version renames the image, so a later task that still names it by
        its old name finds nothing: the published images of the organization that kept that name or that
        version are likely the renamed one, and are named if the token sees them.
        """
        def kept(candidate, key, value):
            published = candidate.published or candidate.upload_status == "PUBLISHING"
            other = (candidate.name, candidate.version) != (image.name, image.version)
            return candidate.is_owned_by_client and published and getattr(candidate, key) == value and other

        renamed = [i for key, value in (("name", image.name), ("version", image.version))
                   for i in self.client.images.list(is_owned_by_client=True, **{key: value}) if kept(i, key, value)]
        if renamed:
            found = []
            for candidate in renamed:
                if candidate.id not in [i.id for i in found]:
                    found.append(candidate)
            return ("no image named %r version %r is in your organization any more: publishing with publish_name or "
                    "publish_version renames the image, and your published image %s has that name or version; name "
                    "it by its id or its new name and version, or give publish_name and publish_version as when it "
                    "was published" % (image.name, image.version, " / ".join(i.label for i in found)))
        return ("no image named %r version %r is in your organization, so there is nothing to publish: create it and "
                "upload its file with nvidia.air.air_image_upload first (if it was published under another name with "
                "publish_name/publish_version, name it as it is called now)" % (image.name, image.version))

    @staticmethod
    def require_owner(image, what):
        """Refuse, before any write (and in check mode too), to change an image another organization owns."""
        if image.id and image.data.get("is_owned_by_client") is False:
            raise AirInputError("image %s belongs to another organization; only its owner can %s"
                                % (image.label, what), step="check owner", image_id=image.id)

    def method_for(self, goal):
        """``direct`` or ``request`` for ``goal``, from publish_method and the token's scopes."""
        method = self._method_for(goal)
        if method == "request" and not self.client.publishing.may_request(step="request to %s" % goal.kind):
            raise AirInputError(
                "this token may neither publish (air:image_publish) nor ask an Air reviewer (air:image_write), "
                "so it cannot %s" % goal.describe(), step="check scopes", status=403)
        return method

    def _method_for(self, goal):
        method = self.params["publish_method"]
        if goal.kind in publication.VISIBILITY_GOALS:
            if method == "direct":
                raise AirInputError(
                    "publish_method: direct cannot change the visibility of a published image: the Air API does "
                    "that only through a reviewed request (request-public, request-allowlist-change); use "
                    "publish_method: auto or request", step="check options")
            return "request"
        if method == "request":
            return "request"
        if self.client.publishing.may_publish_directly(step=goal.kind):
            return "direct"
        if method == "direct":
            raise AirInputError(
                "publish_method: direct needs the air:image_publish scope (role air_image_publisher), which this "
                "token does not have; use publish_method: request (or auto) to ask an Air reviewer instead",
                step="check scopes")
        return "request"

    def require_justification(self, image, goal):
        if (self.params["justification"] or "").strip():
            return
        why = ("publish_method is request" if self.params["publish_method"] == "request"
               else "the Air API takes this change only as a reviewed request"
               if goal.kind in publication.VISIBILITY_GOALS
               else "the token has no air:image_publish scope, so publish_method auto asks a reviewer")
        raise AirInputError("justification is required to ask an Air reviewer to %s (%s)"
                            % (goal.describe(image.label), why), step="check options")

    def own_org_id(self):
        own = self.client.organizations.own()
        return (own.get("org_id") or "").lower() if own else None

    def known_allow_list(self, image, record):
        """Org ids of the allow-list last asked for and approved (None: unknown), read once per image."""
        if image.id not in self._allow_lists:
            live = record if record is not None and record.status == "APPROVED" \
                else self.readable_record(image, self.client.publishing.live_record)
            known = publication.allow_list_of(live)
            self._allow_lists[image.id] = None if known is None else [i for i in known if i != self.own_org_id()]
            if self._allow_lists[image.id] is None and self.params["allowed_orgs"] is not None:
                self.warn("image %s was not published with an allow-list this collection can read back (the Air "
                          "API shows allow-lists only to reviewers); asking for the one given" % image.label)
        return self._allow_lists[image.id]

    def apply_publication(self, image, plan):
        if plan is None:  # created by this task: nothing was there to plan with
            plan = self.plan_publication(image)
        if plan is None:
            return image
        if plan.cancel is not None:
            image = self.cancel_request(image, plan.cancel)
        if plan.goal is None:
            return image
        if plan.method == "request":
            return self.send_request(image, plan)
        if plan.goal.kind == publication.UNPUBLISH:
            return self.unpublish_directly(image, plan.call)
        return self.publish_directly(image, plan)

    def publish_directly(self, image, plan):
        goal, kwargs = plan.goal, plan.call[1]
        renames = dict((field, kwargs[field]) for field in ("name", "version")
                       if kwargs.get(field) is not None and kwargs[field] != image.data.get(field))
        try:
            published = self.change("published image %s %s" % (image.label, goal.visibility_text()),
                                    lambda: self.settle(self.client.publishing.publish(image, **kwargs)))
        except AirApiError as exc:
            return self.settle(self.adopt(image, exc, "published",
                                          lambda i: i.published or i.upload_status == "PUBLISHING"))
        for field, value in sorted(renames.items()):
            self.diff.add(field, image.data.get(field), value)
        self.diff.add("published", False, True)
        self.diff.add("visibility", None, "restricted" if goal.restricted else "public")
        if goal.restricted:
            self.diff.add("allowed_orgs", None, goal.allowed_ids or [])
        if published is None:
            self.predicted_request = publication.predicted_record(
                goal, image, plan.call, "APPROVED" if self.params["wait"] else "APPROVED_PENDING_IMAGE_PUBLISH")
            self.predicted_request["publicly_published"] = not goal.restricted
        return published or _predicted(image, dict(renames, published=True, publicly_published=not goal.restricted))

    def unpublish_directly(self, image, call, force_wait=False):
        _method, kwargs = call
        renames = dict((field, kwargs[field]) for field in ("name", "version")
                       if kwargs.get(field) is not None and kwargs[field] != image.data.get(field))
        try:
            unpublished = self.change("unpublished image %s" % image.label, lambda: self.settle(
                self.client.publishing.unpublish(image, **kwargs), force_wait))
        except AirApiError as exc:
            return self.settle(self.adopt(image, exc, "unpublished",
                                          lambda i: not i.published or i.upload_status == "UNPUBLISHING"), force_wait)
        for field, value in sorted(renames.items()):
            self.diff.add(field, image.data.get(field), value)
        self.diff.add("published", True, False)
        if unpublished is None and (self.params["wait"] or force_wait):
            self.predicted_request = None  # the image leaves the catalog: it points at no record any more
        return unpublished or _predicted(image, dict(renames, published=False, publicly_published=False))

    def send_request(self, image, plan):
        goal = plan.goal
        method, kwargs = plan.call
        status = publication.REQUEST_STATUS[goal.kind]
        try:
            requested = self.change("requested to %s" % goal.describe(image.label),
                                    lambda: getattr(self.client.publishing, method)(image, **kwargs))
        except AirApiError as exc:
            return self.adopt_request(image, goal, exc)
        self.diff.add("publish_request", self.request_summary(image, plan.record),
                      self.requested_summary(image, goal, status))
        if requested is not None:
            return requested
        self.predicted_request = publication.predicted_record(goal, image, plan.call, status)
        upload_status = publication.REQUEST_UPLOAD_STATUS.get(goal.kind)
        return _predicted(image, {"upload_status": upload_status}) if upload_status else image

    def adopt_request(self, image, goal, refusal):
        """A request the API refused (400/409): adopt the same request sent by another run, else fail naming
        the open record."""
        if refusal.status not in (400, 409):
            raise refusal
        current = self.client.images.get(image.id)
        record = self.client.publishing.record_of(current)
        if record is not None and record.is_pending and goal.matches(record, current):
            self.warn("image %s: another run sent the same publish request (%s) at the same time"
                      % (image.label, record.id))
            return current
        if refusal.status == 409 and record is not None and record.is_open:
            raise AirPublishRequestError(
                "image %s has an open publish request %s (%s): %s" % (image.label, record.id, record.status,
                                                                      refusal.message),
                record=record.to_result(), step=refusal.step, status=409, image_id=image.id,
                request_id=refusal.request_id)
        raise refusal

    def cancel_request(self, image, record):
        try:
            cancelled = self.change("cancelled publish request %s (%s) of image %s"
                                    % (record.id, record.status, image.label),
                                    lambda: self.client.publishing.cancel(image, record))
        except AirApiError as exc:
            return self.adopt(image, exc, "withdrawn from review",
                              lambda _i: self.client.publishing.record(record.id).status == "CANCELLED")
        self.diff.add("publish_request", {"status": record.status}, {"status": "CANCELLED"})
        if cancelled is not None:
            return cancelled
        self.predicted_request = dict(record.to_result(), status="CANCELLED", requested_at=None)
        if image.upload_status in publication.REQUEST_UPLOAD_STATUS.values():
            return _predicted(image, {"upload_status": "COMPLETE"})
        return image

    def request_summary(self, image, record):
        """The diff's ``publish_request`` before a request: the last record's status and what is live."""
        summary = {"status": record.status if record is not None else None}
        if image.published:
            summary["visibility"] = "public" if image.publicly_published else "restricted"
            if not image.publicly_published and self.params["allowed_orgs"] is not None:
                summary["allowed_orgs"] = self.known_allow_list(image, record)
        return summary

    @staticmethod
    def requested_summary(image, goal, status):
        """The diff's ``publish_request`` after a request: its status and what it asks for."""
        summary = {"status": status}
        if goal.kind != publication.UNPUBLISH:
            summary["visibility"] = "restricted" if goal.restricted else "public"
        if goal.restricted and goal.allowed is not None:
            summary["allowed_orgs"] = goal.allowed_ids
        if goal.kind in (publication.PUBLISH, publication.UNPUBLISH):
            name, version = goal.target_name(image)
            if (name, version) != (image.name, image.version):
                summary.update(name=name, version=version)
        return summary

    def readable_record(self, image, read=None):
        """The image's publish access record (``read``: ``record_of`` unless told), or None when this token may
        not read records (``air:image_write`` or ``air:image_publish``): a read-only token can still confirm a
        publication that holds, and is refused with the scope it lacks as soon as something would change."""
        try:
            return (read or self.client.publishing.record_of)(image)
        except AirAuthError as exc:
            if exc.status != 403:
                raise
            if not self._record_hidden:
                self._record_hidden = True
                self.warn("this token may not read publish requests (%s); publish_request is not reported"
                          % exc.message)
            return None

    def request_result(self, image):
        """``publish_request``: the image's record after the task (predicted in check mode)."""
        if image is None:
            return None
        if self.check_mode and self.predicted_request is not _UNCHANGED:
            return self.predicted_request
        record = self.readable_record(image) if image.id else None
        return record.to_result() if record is not None else None

    def tell_if_waiting(self, image, record):
        """A task that ends with a request waiting for a reviewer says so (it reports ok, not published)."""
        if record and record.get("status") in PAR_PENDING_STATUSES:
            self.warn("publish request %s of image %s waits for an Air reviewer (%s); run again after the review"
                      % (record.get("id") or "(to be sent)", image.label, record["status"]))

    # ------------------------------------------------------------------- absent
    def absent(self, image):
        """Delete the image; a published one is unpublished first. Returns the image while an unpublish
        request keeps it (None once deleted)."""
        if image is None:
            return None
        self.require_owner(image, "delete it")
        image = self.wait_settled(image)
        record = self.readable_record(image) if image.publish_access_record_id else None
        pending = record if record is not None and record.is_pending else None
        unpublish = None
        if image.published and not (pending and pending.status == "PENDING_UNPUBLISH"):
            unpublish = self.plan_unpublish_before_delete(image, record)
        if pending is not None and pending.status != "PENDING_UNPUBLISH":
            image = self.cancel_request(image, pending)  # a request about an image that goes away
        if unpublish is not None:
            if unpublish.method == "request":
                image = self.send_request(image, unpublish)
            else:
                image = self.unpublish_directly(image, unpublish.call, force_wait=True)
        if image.upload_status == "PENDING_UNPUBLISH":
            return image  # deleted by a later run, once a reviewer has approved the unpublish request
        self.diff.add("exists", True, False)
        if not self.check_mode:
            image = self.client.images.wait_for(
                image, lambda i: i.upload_status in ("READY", "UPLOADING", "COMPLETE"), step="wait to delete",
                timeout=self.params["wait_timeout"], poll_interval=self.params["poll_interval"])
        if self.change("deleted image %s" % image.label, lambda: self.client.images.delete(image)) is False:
            self.take_back_last_change("image %s was deleted by another run at the same time" % image.label)
        return None

    def plan_unpublish_before_delete(self, image, record):
        plan = publication.Plan(goal=publication.Goal(publication.UNPUBLISH), record=record)
        plan.method = self.method_for(plan.goal)
        if plan.method == "request":
            self.require_justification(image, plan.goal)
            plan.call = publication.request_call(plan.goal, image, self.params["justification"])
            if publication.denied_again(record, plan.goal, image, plan.call):
                raise publication.denied_error(record, plan.goal, image)
        else:
            plan.call = publication.direct_call(plan.goal, None)
        return plan


def _unsaved(fields):
    """The image the API would create from ``fields`` (check mode, and plans made before creating it)."""
    return Image(dict(CREATE_DEFAULTS, id=None, upload_status="READY", published=False, publicly_published=False,
                      publish_access_record_id=None, size=0, hash="", is_owned_by_client=True, **fields))


def _predicted(image, fields):
    """The image as a write would leave it (check mode)."""
    return Image(dict(image.data, **fields))


def main():
    AirImageModule()()


if __name__ == "__main__":
    main()
