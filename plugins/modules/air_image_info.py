#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: air_image_info
short_description: List NVIDIA Air images and shares
version_added: 0.1.0
description:
  - Returns the NVIDIA Air images visible to the API token (your organization's images and published ones),
    one by O(id) or filtered like the Air API's image list.
  - With O(shares=true) also returns the shares your organization created.
  - With O(history=true) also returns the history of each image your organization owns (who did what when, and
    the server's reasons, for example why it rejected an uploaded file).
  - With O(manifests=true) also returns the OS image manifest of each image.
  - With O(publish_requests=true) also returns your organization's publish access records (direct publications
    and publish requests with their review).
  - Never changes anything. No match is an empty list, not an error.
author:
  - NVIDIA Air collection contributors (!UNKNOWN)
extends_documentation_fragment:
  - nvidia.air._auth
  - nvidia.air._attributes
  - nvidia.air._attributes.ACTIONGROUP
  - nvidia.air._attributes.INFO_MODULE
options:
  id:
    description:
      - Id of one image. Mutually exclusive with O(name), O(version), O(search) and O(latest); the other filters
        are not applied to it.
    type: str
  name:
    description: Only images with this exact name.
    type: str
  version:
    description: Only images with this exact version.
    type: str
  cpu_arch:
    description: Only images of this CPU architecture.
    type: str
    choices: [x86, ARM]
  creator:
    description: Only images created by this user (e-mail address).
    type: str
  includes_air_agent:
    description: Only images that do (V(true)) or do not (V(false)) ship the Air agent.
    type: bool
  provider:
    description: Only images of this provider.
    type: str
    choices: [VM, CONTAINER]
  published:
    description: Only published (V(true)) or unpublished (V(false)) images.
    type: bool
  upload_status:
    description: Only images in this upload state.
    type: str
    choices: [READY, UPLOADING, VALIDATING, COMPLETE, PUBLISHING, UNPUBLISHING, COPYING_FROM_IMAGE_SHARE,
              PENDING_PUBLISH, PENDING_UNPUBLISH]
  hash:
    description: Only images whose file has this SHA-256.
    type: str
  is_owned_by_client:
    description: Only images your organization owns (V(true)) or only others' published images (V(false)).
    type: bool
  search:
    description: Free-text search (the API matches names and versions).
    type: str
  ordering:
    description: Field to sort by, C(-) in front for descending, for example C(-created). Several fields are
      separated by commas.
    type: str
  limit:
    description:
      - Return at most this many images (all pages are read otherwise).
      - With O(sort) or O(latest), every page is read and the limit applies to the sorted result.
    type: int
  sort:
    description:
      - Sort the images the API returned (after its filters) by C(version), C(created) or C(name); C(-) in
        front sorts descending, so V(-version) lists the newest version first.
      - V(version) uses the collection's version order, not the text order of the API's O(ordering). Numbers
        compare as numbers (C(5.9.0) < C(5.16.0) < C(5.100.0), C(202505) < C(202511)), a C(v) in front does
        not count (C(v2) = C(2)), pre-releases come before their release (C(1.0.0-rc1) < C(1.0.0)), and
        images of equal versions are ordered by C(created). The image guide lists the whole order.
      - V(name) sorts by name, then by the version order; V(created) by creation time, then by version.
      - Cannot be combined with O(ordering).
    type: str
    choices: [version, -version, created, -created, name, -name]
  latest:
    description:
      - Return only the newest image of each name by the version order (see O(sort); C(created) breaks ties),
        for example the newest uploaded C(cumulus-vx) with O(name=cumulus-vx), O(upload_status=COMPLETE) and
        O(is_owned_by_client=true).
      - Applies after the API's filters (O(name), O(search), O(published), O(upload_status),
        O(is_owned_by_client) and the others), so it picks the newest of what they match. Images of the same
        name in other organizations count unless O(is_owned_by_client) is set.
      - The images keep the API's order unless O(sort) is set.
    type: bool
    default: false
  shares:
    description: Also return the shares your organization created, in RV(shares).
    type: bool
    default: false
  share_image:
    description: With O(shares=true), only shares of this image id.
    type: str
  share_state:
    description: With O(shares=true), only shares in this state.
    type: str
    choices: [ACTIVE, CLAIMED, EXPIRED]
  share_target_org:
    description: With O(shares=true), only shares to this organization (NGC org name, any case).
    type: str
  share_target_org_display_name:
    description: With O(shares=true), only shares to the organization with this display name (any case).
    type: str
  share_source_org_display_name:
    description: With O(shares=true), only shares from the organization with this display name (any case). The API
      lists only your organization's shares, so this matches all of them or none.
    type: str
  share_claimed_by:
    description: With O(shares=true), only shares claimed by this user (e-mail address, any case); V("") for shares
      nobody has claimed.
    type: str
  share_image_name:
    description: With O(shares=true), only shares of images with this exact name.
    type: str
  share_image_version:
    description: With O(shares=true), only shares of images with this exact version.
    type: str
  share_search:
    description: With O(shares=true), free-text search (the API matches image name and version and the source and
      target organizations' display names).
    type: str
  share_ordering:
    description: With O(shares=true), field to sort the shares by, C(-) in front for descending, for example
      C(-image_name); several fields are separated by commas. The API names the fields it accepts when one is not.
    type: str
  history:
    description:
      - Also return each image's history, in C(history) of every item of RV(images). These are the API's events
        (create, changes, uploads, validation with the server's reason when it rejects a file, publishing and every
        publish request, shares and claims), newest first unless O(history_ordering) says otherwise.
      - Only an image's own organization may read its history, so C(history) is null for other organizations'
        published images (no request is made for them).
      - One request per image (more for long histories), so narrow the images with the other filters.
    type: bool
    default: false
  history_severity:
    description: With O(history=true), only entries of this severity; V(ERROR) are what went wrong (a rejected file).
    type: str
    choices: [INFO, ERROR]
  history_actor:
    description: With O(history=true), only entries of this actor (a user's e-mail address, any case; the API's own
      transitions, such as validation, have their own actor).
    type: str
  history_label:
    description: With O(history=true), only entries carrying this label, for example V(publishing), V(upload),
      V(validation) or V(sharing).
    type: str
  history_search:
    description: With O(history=true), free-text search in the entries' actor, description, severity and labels.
    type: str
  history_ordering:
    description: With O(history=true), the order of the entries (the API's default is newest first).
    type: str
    choices: [created, -created, actor, -actor, severity, -severity]
  history_limit:
    description: With O(history=true), at most this many entries per image (the first ones in the order asked for,
      so the newest by default).
    type: int
  manifests:
    description:
      - Also return each image's OS image manifest, in C(manifest) of every item of RV(images) (null for an image
        without one).
    type: bool
    default: false
  publicly_published:
    description: Only published images that every Air user sees (V(true)), or only images that are not public
      (V(false), unpublished or restricted to a list of organizations).
    type: bool
  publish_requests:
    description:
      - Also return the publish access records visible to the token, in RV(publish_requests)
        (your organization's; every organization's for Air reviewers). Needs the C(air:image_write) or
        C(air:image_publish) scope.
      - Images, shares and publish requests are read with their own scopes. A task that asks for publish
        requests or shares and sets no image filter gets an empty RV(images), with a warning, when the token
        may not read images (a reviewer's token); a part asked for that the token may not read fails the task.
      - The O(publish_request_image) ... O(publish_request_ordering) filters (and the C(share_*) filters for
        O(shares)) need this option set; without it they fail instead of being ignored.
    type: bool
    default: false
  publish_request_image:
    description: With O(publish_requests=true), only records of this image id.
    type: str
  publish_request_status:
    description: With O(publish_requests=true), only records in this status.
    type: str
    choices: [PENDING, PENDING_ELEVATION, PENDING_RESTRICTION, PENDING_UNPUBLISH, PENDING_ALLOWLIST,
              APPROVED_PENDING_IMAGE_PUBLISH, APPROVED, DENIED, REMOVED, CANCELLED]
  publish_request_publicly_published:
    description: With O(publish_requests=true), only records whose approved visibility is public (V(true)) or
      restricted (V(false)).
    type: bool
  publish_request_requested_by:
    description: With O(publish_requests=true), only records requested by this user (e-mail address, any case).
    type: str
  publish_request_org:
    description: With O(publish_requests=true), only records of this requesting organization (NGC org name, any
      case); useful with a reviewer's token.
    type: str
  publish_request_org_display_name:
    description: With O(publish_requests=true), only records of the requesting organization with this display
      name (any case).
    type: str
  publish_request_search:
    description: With O(publish_requests=true), free-text search (the API matches image name and version,
      justification, requested organizations, requester and organization names).
    type: str
  publish_request_ordering:
    description: With O(publish_requests=true), field to sort the records by, C(-) in front for descending, for
      example C(-created).
    type: str
seealso:
  - module: nvidia.air.air_image
  - module: nvidia.air.air_image_share
  - module: nvidia.air.air_os_image_manifest
"""

EXAMPLES = r"""
- name: My uploaded images, newest first
  nvidia.air.air_image_info:
    is_owned_by_client: true
    upload_status: COMPLETE
    ordering: -created
  register: mine

- name: One image by name and version
  nvidia.air.air_image_info:
    name: cumulus-vx
    version: 5.16.0
  register: found

- name: Wait until an upload started elsewhere is validated
  nvidia.air.air_image_info:
    id: "{{ image_id }}"
  register: info
  until: info.images[0].upload_status == 'COMPLETE'
  retries: 60
  delay: 10

- name: The newest uploaded cumulus-vx of my organization, by version (5.100.0 after 5.16.0)
  nvidia.air.air_image_info:
    name: cumulus-vx
    upload_status: COMPLETE
    is_owned_by_client: true
    latest: true
  register: newest

- name: Every version of an image family, newest first
  nvidia.air.air_image_info:
    search: cumulus
    sort: -version
  register: family

- name: Public images in the catalog
  nvidia.air.air_image_info:
    published: true
    publicly_published: true
  register: public

- name: Publish requests of my organization that wait for a reviewer
  nvidia.air.air_image_info:
    id: "{{ image_id }}"
    publish_requests: true
    publish_request_image: "{{ image_id }}"
    publish_request_status: PENDING
  register: waiting

- name: Live shares of an image (the ids are the claim codes)
  nvidia.air.air_image_info:
    id: "{{ image_id }}"
    shares: true
    share_image: "{{ image_id }}"
    share_state: ACTIVE
  register: shared

- name: Why did the server reject my upload? (the newest error of the image's history)
  nvidia.air.air_image_info:
    id: "{{ image_id }}"
    history: true
    history_severity: ERROR
    history_limit: 1
  register: rejected

- name: Every publishing event of an image, oldest first
  nvidia.air.air_image_info:
    id: "{{ image_id }}"
    history: true
    history_label: publishing
    history_ordering: created
  register: publishing

- name: Shares of cumulus-vx 5.16.0 that the partner has claimed
  nvidia.air.air_image_info:
    id: "{{ image_id }}"
    shares: true
    share_image_name: cumulus-vx
    share_image_version: 5.16.0
    share_claimed_by: ci@partner.example.com
    share_ordering: -created
  register: claimed

- name: An image with the hardware models it runs on
  nvidia.air.air_image_info:
    name: cumulus-vx
    version: 5.16.0
    manifests: true
  register: found

- name: Show the models
  ansible.builtin.debug:
    msg: "{{ found.images[0].manifest.platforms | default({}, true) | list }}"
"""

RETURN = r"""
images:
  description:
    - Matching images (C(default_password) is C(********)); empty when nothing matches.
    - The keys are those of RV(nvidia.air.air_image#module:image).
    - With O(manifests=true), also C(manifest), the keys of RV(nvidia.air.air_os_image_manifest#module:manifest)
      (null when the image has no manifest).
    - With O(history=true), also C(history), a list of entries with the keys C(created), C(actor), C(severity)
      (C(INFO) or C(ERROR)), C(labels) (a list), C(description), C(object_id) (the image id) and C(model)
      (C(image)); null for an image of another organization (and for one deleted while the task ran).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 935b994e-9e1e-4d85-9275-10f7b3111cd9
      name: cumulus-vx
      version: 5.16.0
      upload_status: COMPLETE
      published: false
      hash: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
      size: 24117248
      is_owned_by_client: true
      history:
        - created: "2026-11-28T10:00:02.000000Z"
          actor: system
          severity: ERROR
          labels: [validation]
          description: "Validation failed: size 4096 != declared 4097; the file was discarded and the image is READY
            again."
          object_id: 935b994e-9e1e-4d85-9275-10f7b3111cd9
          model: image
shares:
  description:
    - Shares your organization created (only with O(shares=true)); the keys are those of
      RV(nvidia.air.air_image_share#module:shares).
  returned: when O(shares=true)
  type: list
  elements: dict
  sample:
    - id: 0b0c3f3e-6a4e-4a8e-9a59-6d1f0e7c2b11
      image: 935b994e-9e1e-4d85-9275-10f7b3111cd9
      target_org: partner-org
      state: ACTIVE
      expires_at: "2026-11-28T10:00:00.000000Z"
publish_requests:
  description:
    - Publish access records (only with O(publish_requests=true)); the keys are those of
      RV(nvidia.air.air_image#module:publish_request). C(allowed_orgs) is null unless the token is an Air
      reviewer's.
  returned: when O(publish_requests=true)
  type: list
  elements: dict
  sample:
    - id: 9e2a4c1d-5b6f-4a7e-8c9d-0e1f2a3b4c5d
      image: 935b994e-9e1e-4d85-9275-10f7b3111cd9
      image_name: cumulus-vx
      image_version: 5.16.0
      requested_by: ci@example.com
      status: DENIED
      reviewed_by: reviewer@nvidia.com
      denial_reason: Add release notes first
      prefer_public: true
      allowed_orgs: null
failure:
  description: Structured details of a failure (step, HTTP status, the API's message and request id).
  returned: failed
  type: dict
  sample: {type: AirAuthError, step: lookup, status: 401, message: Invalid token.}
"""

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirAuthError, AirInputError, AirNotFoundError
from ansible_collections.nvidia.air.plugins.module_utils._models import HISTORY_ORDERING, HISTORY_SEVERITIES, PAR_STATUSES
from ansible_collections.nvidia.air.plugins.module_utils._module import AirModule
from ansible_collections.nvidia.air.plugins.module_utils._versions import SORT_CHOICES, latest_per_name, sort_images

IMAGE_FILTERS = ("name", "version", "cpu_arch", "creator", "includes_air_agent", "provider", "published",
                 "upload_status", "hash", "is_owned_by_client", "search", "ordering", "publicly_published")
# Option -> query parameter of GET /api/v3/publishing/image-publish-access-records/.
PUBLISH_REQUEST_FILTERS = (
    ("publish_request_image", "image"), ("publish_request_status", "status"),
    ("publish_request_publicly_published", "publicly_published"), ("publish_request_requested_by", "requested_by_email"),
    ("publish_request_org", "requesting_org_ngc_org_name"),
    ("publish_request_org_display_name", "requesting_org_display_name"), ("publish_request_search", "search"),
    ("publish_request_ordering", "ordering"),
)
# Option -> query parameter of GET /api/v3/images/shares/.
SHARE_FILTERS = (
    ("share_image", "image"), ("share_state", "state"), ("share_target_org", "target_org"),
    ("share_target_org_display_name", "target_org_display_name"),
    ("share_source_org_display_name", "source_org_display_name"), ("share_claimed_by", "claimed_by"),
    ("share_image_name", "image_name"), ("share_image_version", "image_version"), ("share_search", "search"),
    ("share_ordering", "ordering"),
)
# Option -> query parameter of GET /api/v3/images/<id>/history/ (history_limit is ours: entries per image).
HISTORY_FILTERS = (
    ("history_severity", "severity"), ("history_actor", "actor"), ("history_label", "label"),
    ("history_search", "search"), ("history_ordering", "ordering"),
)
# Filters where an empty text can only be a mistake (an unset variable): it would match nothing, or everything.
NOT_BLANK = ("history_actor", "history_label", "history_search", "share_image_name", "share_image_version",
             "share_target_org", "share_target_org_display_name", "share_source_org_display_name", "share_search",
             "share_ordering")


class AirImageInfoModule(AirModule):
    id_options = AirModule.id_options + ("share_image", "publish_request_image")
    argument_spec = dict(
        id=dict(type="str"),
        name=dict(type="str"),
        version=dict(type="str"),
        cpu_arch=dict(type="str", choices=["x86", "ARM"]),
        creator=dict(type="str"),
        includes_air_agent=dict(type="bool"),
        provider=dict(type="str", choices=["VM", "CONTAINER"]),
        published=dict(type="bool"),
        upload_status=dict(type="str", choices=[
            "READY", "UPLOADING", "VALIDATING", "COMPLETE", "PUBLISHING", "UNPUBLISHING", "COPYING_FROM_IMAGE_SHARE",
            "PENDING_PUBLISH", "PENDING_UNPUBLISH"]),
        hash=dict(type="str"),
        is_owned_by_client=dict(type="bool"),
        search=dict(type="str"),
        ordering=dict(type="str"),
        limit=dict(type="int"),
        sort=dict(type="str", choices=list(SORT_CHOICES)),
        latest=dict(type="bool", default=False),
        shares=dict(type="bool", default=False),
        share_image=dict(type="str"),
        share_state=dict(type="str", choices=["ACTIVE", "CLAIMED", "EXPIRED"]),
        share_target_org=dict(type="str"),
        share_target_org_display_name=dict(type="str"),
        share_source_org_display_name=dict(type="str"),
        share_claimed_by=dict(type="str"),
        share_image_name=dict(type="str"),
        share_image_version=dict(type="str"),
        share_search=dict(type="str"),
        share_ordering=dict(type="str"),
        history=dict(type="bool", default=False),
        history_severity=dict(type="str", choices=list(HISTORY_SEVERITIES)),
        history_actor=dict(type="str"),
        history_label=dict(type="str"),
        history_search=dict(type="str"),
        history_ordering=dict(type="str", choices=list(HISTORY_ORDERING)),
        history_limit=dict(type="int"),
        manifests=dict(type="bool", default=False),
        publicly_published=dict(type="bool"),
        publish_requests=dict(type="bool", default=False),
        publish_request_image=dict(type="str"),
        publish_request_status=dict(type="str", choices=list(PAR_STATUSES)),
        publish_request_publicly_published=dict(type="bool"),
        publish_request_requested_by=dict(type="str"),
        publish_request_org=dict(type="str"),
        publish_request_org_display_name=dict(type="str"),
        publish_request_search=dict(type="str"),
        publish_request_ordering=dict(type="str"),
    )
    module_kwargs = dict(mutually_exclusive=[["ordering", "sort"], ["id", "name"], ["id", "version"], ["id", "search"],
                                             ["id", "latest"]])

    def check_options(self):
        p = self.params
        for option in ("limit", "history_limit"):
            if p[option] is not None and p[option] < 1:
                raise AirInputError("%s must be at least 1" % option, step="check options")
        for option in NOT_BLANK:
            if p[option] is not None and not p[option].strip():
                raise AirInputError("%s is empty; give a value or leave the option out" % option, step="check options")
        # A filter of a part that is not asked for would be ignored, and the task would seem to have applied it.
        for part, options in (("shares", tuple(option for option, _query in SHARE_FILTERS)),
                              ("history", tuple(option for option, _query in HISTORY_FILTERS) + ("history_limit",)),
                              ("publish_requests", tuple(option for option, _query in PUBLISH_REQUEST_FILTERS))):
            given = [option for option in options if p[option] is not None]
            if given and not p[part]:
                raise AirInputError("%s filter(s) the records of %s: set %s: true" % (", ".join(given), part, part),
                                    step="check options")

    def run(self):
        p = self.params
        self.result.pop("actions")
        # The images are always read, the other parts only when asked for. A reviewer's token may read publish
        # requests but not images: when the task asks only for another part (no image filter), images the token
        # may not read are an empty list with a warning. A part asked for that cannot be read fails the task.
        try:
            self.add_images()
        except AirAuthError as exc:
            if exc.status != 403 or not (p["shares"] or p["publish_requests"]) or self.filters_images():
                raise
            self.result["images"] = []
            self.warn("images is empty: this token may not read images (%s)" % exc.message)
        if p["shares"]:
            self.add_shares()
        if p["publish_requests"]:
            self.add_publish_requests()

    def filters_images(self):
        p = self.params
        return bool(p["id"]) or any(p[f] is not None for f in IMAGE_FILTERS) or bool(p["latest"])

    def add_images(self):
        p = self.params
        if p["id"]:
            try:
                images = [self.client.images.get(p["id"])]
            except AirNotFoundError:
                images = []
        else:
            filters = dict((f, p[f]) for f in IMAGE_FILTERS if p[f] is not None)
            ordered_here = p["sort"] or p["latest"]
            images = self.ordered(self.client.images.list(max_items=None if ordered_here else p["limit"], **filters))
        self.result["images"] = [image.to_result() for image in images]
        if p["manifests"]:
            by_image = self.client.manifests.by_image([image.id for image in images])
            for result in self.result["images"]:
                result["manifest"] = by_image[result["id"]].to_result() if result["id"] in by_image else None
        if p["history"]:
            self.add_history(images)

    def api_filters(self, options):
        """The query parameters of the ``(option, parameter)`` pairs whose option is set."""
        return dict((query, self.params[option]) for option, query in options if self.params[option] is not None)

    def add_history(self, images):
        """Each own image's history (only the owning organization may read it); null for the others, and for an
        image deleted since it was listed."""
        filters = self.api_filters(HISTORY_FILTERS)
        for image, result in zip(images, self.result["images"]):
            entries = None
            if image.is_owned_by_client:
                try:
                    entries = [entry.to_result() for entry in self.client.images.history(
                        image.id, max_items=self.params["history_limit"], **filters)]
                except AirNotFoundError:
                    entries = None
            result["history"] = entries

    def add_shares(self):
        shares = self.client.shares.list(**self.api_filters(SHARE_FILTERS))
        self.result["shares"] = [share.to_result() for share in shares]

    def add_publish_requests(self):
        self.result["publish_requests"] = [
            r.to_result() for r in self.client.publishing.records(**self.api_filters(PUBLISH_REQUEST_FILTERS))]

    def ordered(self, images):
        """``latest`` and ``sort`` on what the API returned, then ``limit``."""
        p = self.params
        if not (p["sort"] or p["latest"]):
            return images
        if p["latest"]:
            images = latest_per_name(images)
        if p["sort"]:
            images = sort_images(images, p["sort"])
        return images[:p["limit"]] if p["limit"] else images

    def exit(self):
        self.module.exit_json(**self.result)


def main():
    AirImageInfoModule()()


if __name__ == "__main__":
    main()
