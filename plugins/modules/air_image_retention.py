#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: air_image_retention
short_description: Keep the newest versions of an NVIDIA Air image and delete or unpublish the others
version_added: 0.1.0
description:
  - For one image name (O(name)), or each name that contains the text of O(search), keeps the newest O(keep)
    versions of your organization's images and deletes the others (O(state=absent)) or only unpublishes them
    (O(state=unpublished)).
  - Newest means the collection's version order, not the creation date (C(5.16.3) built after C(5.17.0) is
    still older); see O(nvidia.air.air_image_info#module:sort). Images of equal versions are ordered by
    C(created).
  - O(keep_days) and O(keep_versions) keep more images; an image is kept when any of the three rules keeps it.
  - A published image is unpublished before it is deleted (the Air API refuses to delete published images).
  - An image the Air API refuses to delete because other objects use it (HTTP 400 C(PROTECTED), for example
    simulation nodes running it) is kept and listed in RV(protected) with what holds it; the task fails for
    that only with O(fail_on_protected=true).
  - An image that is being uploaded (C(UPLOADING)) or has a publish request open (C(PENDING_PUBLISH),
    C(PENDING_UNPUBLISH)) is left alone and listed in RV(busy); images in other transient states are
    waited for.
  - An image that is still C(UNPUBLISHING) (for example after an earlier run with O(wait=false)) counts as
    unpublished. It is not unpublished again and is not listed in RV(unpublished). With O(state=absent) it is
    deleted once its unpublication is over.
  - Before the first change the module checks that the token may make all of them (see the notes), so a
    token that lacks a scope fails without deleting or unpublishing anything, in check mode too.
  - Only images your organization owns are considered, whatever their C(upload_status) (records whose
    upload never finished count as versions too).
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
      - Check mode lists exactly the images a real run would delete or unpublish. Whether the Air API refuses
        a deletion because the image is in use is only known when the deletion is sent, so check mode lists
        such an image in RV(deleted), and a real run lists it in RV(protected).
  diff_mode:
    support: full
  idempotent:
    support: full
    details:
      - A second run deletes nothing more; an image kept because it is in use is reported in RV(protected)
        again, without a change.
options:
  name:
    description:
      - Name of the images (exact). Exactly one of O(name) and O(search) is required.
    type: str
  search:
    description:
      - Selects image names instead of one O(name) - every name of your organization's images that contains
        this text (case-insensitive). The Air API's free-text search also matches versions; a name whose
        images match only through their version (C(cumulus-vx) version C(5.10.0-sonic-interop) for
        V(sonic)) is not selected.
      - The retention rules then apply to each selected name separately, over all images of that name,
        whether their version contains the text or not.
    type: str
  keep:
    description:
      - How many of the newest versions of each name to keep.
      - V(0) keeps none (only O(keep_days) and O(keep_versions) then keep images) and needs
        O(allow_delete_all=true).
    type: int
    required: true
  keep_days:
    description:
      - Also keep every image created less than this many days ago (fractions allowed), whatever its rank.
      - From V(0) to V(36500) (a hundred years, which keeps every image there is).
    type: float
  keep_versions:
    description:
      - Versions (exact text) always kept, for example a long-term support release. They are ranked with the
        others, so a listed version among the newest O(keep) takes one of those places.
      - A version that matches no image is an error before anything is changed (a pin exists to protect an
        image). A number is refused (YAML reads an unquoted V(5.10) as V(5.1)), so write versions in quotes.
      - In check mode a listed version that does not exist yet is ranked as an image created now (with
        O(name) only). This is how the C(nvidia.air.image_release) role's check mode predicts retention after
        a release that would create the image.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(absent) deletes the images that are not kept (a published one is unpublished first).
      - V(unpublished) only unpublishes the published ones among them and deletes nothing.
    type: str
    choices: [absent, unpublished]
    default: absent
  fail_on_protected:
    description:
      - Fail the task (after handling every other image) when the Air API refuses to delete an image because
        it is in use. Those images are reported in RV(protected) either way.
    type: bool
    default: false
  allow_delete_all:
    description:
      - Must be V(true) for O(keep=0), which may delete or unpublish every version of a name.
    type: bool
    default: false
  wait:
    description:
      - With O(state=unpublished), wait until C(UNPUBLISHING) is over before returning, also for images an
        earlier run left C(UNPUBLISHING). With O(state=absent) the module always waits for the unpublication
        before deleting.
notes:
  - The module runs where the task runs; the API is reached from there (usually C(delegate_to=localhost)).
  - Deleting needs the C(air:image_write) scope (role C(air_image_uploader) or C(air_image_publisher)) and
    unpublishing C(air:image_publish) (role C(air_image_publisher)); unpublishing through a reviewed request
    is not done here. The module asks the Air API which of them the token holds (without changing anything)
    before the first change, and only when the run needs them. A token that cannot do all the run would do
    fails at once with one line naming the missing scope (and the published images concerned), before
    anything is deleted or unpublished. Check mode asks too and fails the same way.
seealso:
  - module: nvidia.air.air_image_info
  - module: nvidia.air.air_image
  - plugin: nvidia.air.air_image
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Keep the three newest cumulus-vx versions, delete the others
  nvidia.air.air_image_retention:
    name: cumulus-vx
    keep: 3
  register: retention

- name: Show what was kept back because simulations use it
  ansible.builtin.debug:
    msg: "{{ item.name }} {{ item.version }} is used by {{ item.protected_instances | map(attribute='name') | join(', ') }}"
  loop: "{{ retention.protected }}"

- name: Keep the newest two and everything from the last 30 days, plus the LTS release; fail if one is in use
  nvidia.air.air_image_retention:
    name: cumulus-vx
    keep: 2
    keep_days: 30
    keep_versions: [5.9.2]
    fail_on_protected: true

- name: Take every image of the sonic family but the newest out of the catalog (images stay)
  nvidia.air.air_image_retention:
    search: sonic
    keep: 1
    state: unpublished
"""

RETURN = r"""
kept:
  description:
    - Images kept, newest first per name, each with C(reasons) (C(newest), C(keep_days), C(keep_versions),
      C(would be created) for a version of O(keep_versions) that a release in check mode would create).
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 935b994e-9e1e-4d85-9275-10f7b3111cd9, name: cumulus-vx, version: 5.17.0,
       created: "2026-11-27T10:00:00.000000Z", upload_status: COMPLETE, published: false, reasons: [newest]}
deleted:
  description:
    - Images deleted (in check mode, that would be deleted), oldest first within each name. Empty with
      O(state=unpublished).
    - Here and in RV(unpublished), RV(protected) and RV(busy), each image is shown as the task found it.
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 0b0c3f3e-6a4e-4a8e-9a59-6d1f0e7c2b11, name: cumulus-vx, version: 5.15.0,
       created: "2026-10-01T10:00:00.000000Z", upload_status: COMPLETE, published: false}
unpublished:
  description: Images unpublished (in check mode, that would be), before their deletion or as the goal.
  returned: always
  type: list
  elements: dict
  sample: []
protected:
  description:
    - Images the Air API refused to delete because other objects use them, with C(protected_instances),
      the API's list of those objects (for example C({type, id, name, simulation}) of simulation nodes).
    - An image that was published is listed in RV(unpublished) too; it was unpublished before the deletion
      was refused.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 5c1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6
      name: cumulus-vx
      version: 5.16.0
      created: "2026-10-20T10:00:00.000000Z"
      upload_status: COMPLETE
      published: false
      protected_instances: [{type: node, id: 3b7f6c1e-8d2a-4e5b-9c0f-1a2b3c4d5e6f, name: leaf01}]
busy:
  description:
    - Images that are not kept but were left alone because they are busy (an upload in progress, a publish
      request open), with the C(reason). A later run handles them.
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 7d9e0f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a, name: cumulus-vx, version: 5.14.0,
       created: "2026-09-01T10:00:00.000000Z", upload_status: UPLOADING, published: false,
       reason: an upload is in progress}
actions:
  description: What the task did (or would do in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["unpublished image 'cumulus-vx' version '5.15.0' (0b0c3f3e-6a4e-4a8e-9a59-6d1f0e7c2b11)",
           "deleted image 'cumulus-vx' version '5.15.0' (0b0c3f3e-6a4e-4a8e-9a59-6d1f0e7c2b11)"]
failure:
  description: Structured details of a failure (step, HTTP status, the API's message and request id).
  returned: failed
  type: dict
  sample: {type: AirAuthError, step: delete, status: 403, message: You do not have permission to perform this action.}
"""

import datetime

from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirAuthError,
    AirInputError,
    AirProtectedError,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import SETTLING_STATES, Image, utcnow
from ansible_collections.nvidia.air.plugins.module_utils._module import WAIT_ARGSPEC, AirModule
from ansible_collections.nvidia.air.plugins.module_utils._versions import Version, created_at, image_sort_key, newest_first

# States a run must not interrupt: an upload someone is sending, a publish request a reviewer holds.
HANDS_OFF = {
    "UPLOADING": "an upload is in progress",
    "PENDING_PUBLISH": "a publish request is open (cancel it first)",
    "PENDING_UNPUBLISH": "an unpublish request is open (cancel it first)",
}
SUMMARY_FIELDS = ("id", "name", "version", "created", "upload_status", "published")
# timedelta and dates overflow long before this; a century already keeps every image there is.
MAX_KEEP_DAYS = 36500


def summary(image, **extra):
    entry = dict((field, image.data.get(field)) for field in SUMMARY_FIELDS)
    entry.update(extra)
    return entry


def label(image):
    return "%s %s" % (image.name, image.version)


def labels(images):
    """``name version`` of each image, by name and then the version order (not as text: 5.16.0 < 5.100.0)."""
    return [label(image) for image in sorted(images, key=lambda image: image_sort_key(image, "name"))]


def to_unpublish(image):
    """Whether retention has to unpublish ``image``: UNPUBLISHING counts as done (still ``published`` meanwhile)."""
    return (image.published or image.upload_status == "PUBLISHING") and image.upload_status != "UNPUBLISHING"


def held_by(entry):
    """``name version (node leaf01, node spine01)`` for a ``protected`` entry."""
    holders = ", ".join("%s %s" % (i.get("type", "object"), i.get("name") or i.get("id", "?"))
                        for i in entry["protected_instances"])
    return "%s %s (%s)" % (entry["name"], entry["version"], holders or "the API named no objects")


def plan(images, keep, keep_days=None, keep_versions=(), now=None):
    """Which images stay: ``(kept, candidates)``.

    ``kept`` is ``[(image, reasons)]``, newest first within each name (names in the order they first
    appear); ``candidates`` are the other images, oldest first within each name. An image stays when it is
    among the ``keep`` newest of its name (version order), was created less than ``keep_days`` days before
    ``now``, or has a version listed in ``keep_versions``.
    """
    now = now or utcnow()
    cutoff = now - datetime.timedelta(days=keep_days) if keep_days is not None else None
    names = []
    for image in images:
        if image.name not in names:
            names.append(image.name)
    kept, candidates = [], []
    for name in names:
        ranked = newest_first([image for image in images if image.name == name])
        for rank, image in enumerate(ranked):
            reasons = [reason for reason, applies in (
                ("newest", rank < keep),
                ("keep_days", cutoff is not None and created_at(image) > cutoff),
                ("keep_versions", image.version in keep_versions),
            ) if applies]
            if reasons:
                kept.append((image, reasons))
        candidates.extend(reversed([image for image in ranked if all(image is not k for k, _r in kept)]))
    return kept, candidates


class AirImageRetentionModule(AirModule):
    argument_spec = dict(
        name=dict(type="str"),
        search=dict(type="str"),
        keep=dict(type="int", required=True),
        keep_days=dict(type="float"),
        keep_versions=dict(type="list", elements="str", default=[]),
        state=dict(type="str", default="absent", choices=["absent", "unpublished"]),
        fail_on_protected=dict(type="bool", default=False),
        allow_delete_all=dict(type="bool", default=False),
        **WAIT_ARGSPEC
    )
    module_kwargs = dict(required_one_of=[["name", "search"]], mutually_exclusive=[["name", "search"]])

    def check_options(self):
        p = self.params
        for option in ("name", "search"):
            if p[option] is not None and not p[option].strip():
                raise AirInputError("%s must not be empty" % option, step="check options")
        if p["keep"] < 0:
            raise AirInputError("keep must be 0 or more (got %d)" % p["keep"], step="check options")
        if p["keep"] == 0 and not p["allow_delete_all"]:
            raise AirInputError(
                "keep: 0 may %s every version of %s; set allow_delete_all: true to allow that"
                % ("delete" if p["state"] == "absent" else "unpublish",
                   repr(p["name"]) if p["name"] else "every name matching %r" % p["search"]),
                step="check options")
        if p["keep_days"] is not None and not 0 <= p["keep_days"] <= MAX_KEEP_DAYS:  # NaN fails both
            raise AirInputError("keep_days must be a number of days from 0 to %d (got %s)"
                                % (MAX_KEEP_DAYS, p["keep_days"]), step="check options")

    # ----------------------------------------------------------------- lookup
    def images(self):
        """Every image the organization owns of ``name``, or of each name ``search`` selects."""
        return [image for name in self.names() for image in self.client.images.list(is_owned_by_client=True, name=name)
                if image.is_owned_by_client and image.name == name]

    def names(self):
        """``[name]``, or the names containing ``search`` (case-insensitive) in the order the API lists them.

        The API's search matches versions too; a name found only through a version is not selected.
        """
        p = self.params
        if p["name"]:
            return [p["name"]]
        text, names = p["search"].lower(), []
        for image in self.client.images.list(is_owned_by_client=True, search=p["search"]):
            if image.is_owned_by_client and text in image.name.lower() and image.name not in names:
                names.append(image.name)
        return names

    def would_be_created(self, images):
        """Check mode: versions of ``keep_versions`` that do not exist yet, as images created now."""
        p = self.params
        if not (self.check_mode and p["name"]):
            return []
        existing = set(image.version for image in images)
        now = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return [Image({"id": None, "name": p["name"], "version": version, "created": now, "published": False,
                       "upload_status": None, "is_owned_by_client": True})
                for version in p["keep_versions"] if version not in existing]

    def check_pins(self, images):
        """Every version of ``keep_versions`` must be one of ``images``: a pin exists to protect an image, and one
        that protects nothing (a typo, another spelling) would let the image it meant be deleted."""
        versions = sorted(set(image.version for image in images), key=Version, reverse=True)
        unmatched = [version for version in self.params["keep_versions"] if version not in versions]
        if unmatched:
            shown = ", ".join(repr(v) for v in versions[:10]) + (", ..." if len(versions) > 10 else "")
            raise AirInputError(
                "keep_versions %s match%s no image of %s (versions there: %s); a pin protects an image, so nothing "
                "was changed. Write each pin exactly as the image's version, in quotes"
                % (", ".join(repr(v) for v in unmatched), "es" if len(unmatched) == 1 else "",
                   repr(self.params["name"]) if self.params["name"] else "the names matching %r" % self.params["search"],
                   shown or "none"), step="check pins")

    # -------------------------------------------------------------------- run
    def run(self):
        p = self.params
        for key in ("kept", "deleted", "unpublished", "protected", "busy"):
            self.result[key] = []
        images = self.images()
        hypothetical = self.would_be_created(images)
        self.check_pins(images + hypothetical)
        kept, candidates = plan(images + hypothetical, p["keep"], p["keep_days"], p["keep_versions"])
        self.result["kept"] = [summary(image, reasons=reasons if image.id else reasons + ["would be created"])
                               for image, reasons in kept]
        published_before = labels(i for i in images if to_unpublish(i))
        self.check_scopes([i for i in candidates if i.upload_status not in HANDS_OFF])
        for image in candidates:
            if image.upload_status in HANDS_OFF:
                self.result["busy"].append(summary(image, reason=HANDS_OFF[image.upload_status]))
            elif p["state"] == "absent":
                self.remove(image)
            elif image.upload_status == "UNPUBLISHING":  # an earlier run's wait: false; no change of this run
                if p["wait"]:
                    self.settled(image)
            elif to_unpublish(image):
                self.unpublish(self.settled(image), wait=p["wait"], found=image)
        self.record_diff(images, published_before)
        protected = self.result["protected"]
        if protected and p["fail_on_protected"]:
            raise AirProtectedError(
                "%d image(s) not deleted because they are in use: %s"
                % (len(protected), "; ".join(held_by(entry) for entry in protected)), step="retention",
                protected_instances=[i for entry in protected for i in entry["protected_instances"]],
                hint="fail_on_protected is true")

    def check_scopes(self, actionable):
        """Fail before the first write when the token cannot finish: a retention half done is worse than none.

        Both probes are read-only (``may_delete``, ``may_publish_directly``) and run in check mode too, so
        it predicts the failure. ``actionable``: the images that are not kept and not busy.
        """
        missing = []
        if self.params["state"] == "absent" and actionable and not self.client.images.may_delete():
            missing.append("deleting needs the air:image_write scope (role air_image_uploader or "
                           "air_image_publisher)")
        published = [i for i in actionable if to_unpublish(i)]
        if published and not self.client.publishing.may_publish_directly(step="unpublish"):
            missing.append("unpublishing %s needs the air:image_publish scope (role air_image_publisher)"
                           % ", ".join(labels(published)))
        if missing:
            raise AirAuthError("%s, which this token does not have; nothing was changed" % "; ".join(missing),
                               step="check scopes", status=403)

    def record_diff(self, images, published_before):
        if not self.result["changed"]:
            return
        gone = set(entry["id"] for entry in self.result["deleted"])
        unpublished = set(entry["id"] for entry in self.result["unpublished"])
        if gone:
            self.diff.add("images", labels(images), labels(i for i in images if i.id not in gone))
        if unpublished:
            self.diff.add("published", published_before,
                          labels(i for i in images if to_unpublish(i) and i.id not in unpublished | gone))

    # ---------------------------------------------------------------- actions
    def settled(self, image):
        """The image once VALIDATING, PUBLISHING, ... are over (check mode does not wait)."""
        if self.check_mode or image.upload_status not in SETTLING_STATES:
            return image
        return self.client.images.wait_for(
            image, lambda i: i.upload_status not in SETTLING_STATES, step="wait to settle",
            timeout=self.params["wait_timeout"], poll_interval=self.params["poll_interval"])

    def remove(self, found):
        """Delete ``found`` (unpublished first); the result lists show images as they were found."""
        image = self.settled(found)
        if image.upload_status in HANDS_OFF:  # it changed while we waited
            self.result["busy"].append(summary(found, reason=HANDS_OFF[image.upload_status]))
            return
        if to_unpublish(image):
            image = self.unpublish(image, wait=True, found=found)
        action = "deleted image %s" % image.label
        if self.check_mode:
            self.change(action)
        else:
            try:
                gone_now = self.client.images.delete(image)
            except AirProtectedError as exc:
                self.result["protected"].append(summary(found, protected_instances=exc.protected_instances))
                return
            if not gone_now:  # another run deleted it meanwhile: not this task's change
                self.warn("image %s was deleted by another run at the same time" % image.label)
                return
            self.change(action)
        self.result["deleted"].append(summary(found))

    def unpublish(self, image, wait, found=None):
        """Unpublish ``image``; the image as it is afterwards (predicted in check mode)."""
        action = "unpublished image %s" % image.label
        if self.check_mode:
            after = Image(dict(image.data, published=False, publicly_published=False, upload_status="COMPLETE"))
        else:
            try:
                after = self.client.publishing.unpublish(image)
            except AirApiError as exc:
                current = self.client.images.get(image.id) if exc.status in (400, 409) else None
                if current is None or (current.published and current.upload_status != "UNPUBLISHING"):
                    raise
                self.warn("image %s was unpublished by another run at the same time" % image.label)
                return self.done_unpublishing(current) if wait else current
            if wait:
                after = self.done_unpublishing(after)
        self.change(action)
        self.result["unpublished"].append(summary(found or image))
        return after

    def done_unpublishing(self, image):
        return self.client.images.wait_for(
            image, lambda i: i.upload_status != "UNPUBLISHING", step="wait to unpublish",
            timeout=self.params["wait_timeout"], poll_interval=self.params["poll_interval"])


def main():
    AirImageRetentionModule()()


if __name__ == "__main__":
    main()
