#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: air_image_share
short_description: Share NVIDIA Air images with other organizations, or claim shared images
version_added: 0.1.0
description:
  - With O(state=present) or O(state=absent), manages the shares of one of your images as a set of target
    organizations. Each share's id is the claim code the other organization uses.
  - A live share (C(ACTIVE) and not expired) or a claimed one (C(CLAIMED)) means the organization has the image;
    an expired share counts as absent, so the image is shared again. Claimed shares cannot be revoked and are
    left alone by O(purge) and O(state=absent).
  - With O(state=claimed), claims a share addressed to your organization (O(share_id)), which copies the image
    into your organization.
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
      - A claim cannot be tried without making it (the API shows shares only to the sharing organization). With
        O(name) and O(version), check mode predicts no change when your organization has an image of that name
        with content (a claimed copy), and the failure a real run would meet when that name is held by an image
        without content; otherwise it predicts a change.
  diff_mode:
    support: full
  idempotent:
    support: full
    details:
      - For O(state=claimed), give O(name) and O(version) so later runs find the claimed image. Without them a
        later run only learns from the API that the share was claimed, and returns no image.
options:
  state:
    description:
      - V(present) makes sure every organization in O(target_orgs) has a live share of the image (and, with
        O(purge=true), revokes live shares to organizations not listed).
      - V(absent) revokes the live shares to the organizations in O(target_orgs), or all of them when
        O(target_orgs) is not given.
      - V(claimed) claims the share O(share_id) into your organization.
    type: str
    choices: [present, absent, claimed]
    default: present
  image:
    description:
      - Id of your image to share (O(state=present) or O(state=absent)). Alternatively O(name) and O(version).
    type: str
  name:
    description:
      - With O(state=present) or O(state=absent), the name of your image to share (with O(version)).
      - With O(state=claimed), the name to give the claimed image (default, the shared image's name).
    type: str
  version:
    description:
      - The version that goes with O(name).
    type: str
  target_orgs:
    description:
      - Organizations (NGC org names) to share with. Each item is an org name, or a dictionary with C(org) and
        an optional C(expires_at) (ISO 8601 date and time in the future; the API's default is 24 hours).
      - C(expires_at) is C(YYYY-MM-DD) or C(YYYY-MM-DDThh:mm[:ss[.ffffff]]) with an optional C(Z), C(+hh),
        C(+hhmm) or C(+hh:mm) offset (none means UTC; a date alone means its midnight). The same forms are
        accepted whatever the Python version of the host the module runs on.
      - C(expires_at) applies when a share is created; an existing live share is kept as it is.
    type: list
    elements: raw
  purge:
    description:
      - With O(state=present), revoke live shares to organizations that are not in O(target_orgs).
    type: bool
    default: false
  share_id:
    description:
      - The share to claim (the claim code the sharing organization gave you). Required with O(state=claimed).
    type: str
notes:
  - If creating one of several shares fails, the shares this task created are revoked again before it fails, so
    a failed task leaves the shares as they were.
  - A share the API refuses because another run created it at the same time is adopted, not counted as a change.
  - A claim is always sent to the API (a name alone proves nothing); when the API answers that the share was
    already claimed, the image named O(name) and O(version) is returned as the claimed copy. If that name is
    held by another image, the task fails naming it. A claim whose answer was lost is found again among your
    organization's new images, so a re-sent claim never reports a change it did not make, nor misses one it did.
seealso:
  - module: nvidia.air.air_image
  - module: nvidia.air.air_image_info
"""

EXAMPLES = r"""
- name: Share with two partner organizations
  nvidia.air.air_image_share:
    name: cumulus-vx
    version: 5.16.0
    target_orgs:
      - partner-org
      - org: lab-org
        expires_at: "2026-12-31T00:00:00Z"
  register: shared

- name: Show the claim codes
  ansible.builtin.debug:
    msg: "{{ shared.shares | items2dict(key_name='target_org', value_name='id') }}"

- name: Share with exactly this list (revoke the others)
  nvidia.air.air_image_share:
    name: cumulus-vx
    version: 5.16.0
    target_orgs: [partner-org]
    purge: true

- name: Claim a share in the receiving organization
  nvidia.air.air_image_share:
    state: claimed
    share_id: 0b0c3f3e-6a4e-4a8e-9a59-6d1f0e7c2b11
    name: cumulus-vx-partner
    version: 5.16.0
    api_token: "{{ partner_token }}"
"""

RETURN = r"""
shares:
  description:
    - Live and claimed shares of the image after the task (in check mode, predicted; a share to be created has a
      null C(id)).
    - C(id) is the claim code for the target organization.
  returned: when O(state) is V(present) or V(absent)
  type: list
  elements: dict
  sample:
    - id: 0b0c3f3e-6a4e-4a8e-9a59-6d1f0e7c2b11
      created: "2026-11-27T10:00:00.000000Z"
      modified: "2026-11-27T10:00:00.000000Z"
      image: 935b994e-9e1e-4d85-9275-10f7b3111cd9
      image_name: cumulus-vx
      image_version: 5.16.0
      source_org_display_name: Demo Org
      target_org_display_name: Partner Org
      target_org: partner-org
      claimed_by: ""
      state: ACTIVE
      expires_at: "2026-11-28T10:00:00.000000Z"
created:
  description: Organizations a share was created for (or would be in check mode).
  returned: when O(state) is V(present) or V(absent)
  type: list
  elements: str
  sample: [partner-org]
revoked:
  description: Organizations whose share was revoked (or would be in check mode).
  returned: when O(state) is V(present) or V(absent)
  type: list
  elements: str
  sample: []
image:
  description:
    - With O(state=claimed), the claimed image in your organization (C(default_password) is C(********)); null
      when a previous run claimed the share and no O(name) and O(version) were given.
    - Otherwise the shared image.
  returned: always
  type: dict
  sample: {id: 5d7e1c9a-1f0b-4f59-8c1e-2c2d3e4f5a6b, name: cumulus-vx-partner, version: 5.16.0,
           upload_status: COMPLETE, is_owned_by_client: true}
actions:
  description: What the task did (or would do in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["shared image 'cumulus-vx' version '5.16.0' with partner-org"]
failure:
  description: Structured details of a failure (step, HTTP status, the API's message and request id).
  returned: failed
  type: dict
  sample: {type: AirApiError, step: share, status: 400, message: "target_org: Organization 'nope' does not exist."}
"""

import datetime

from ansible_collections.nvidia.air.plugins.module_utils._dates import parse_datetime
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError, AirError, AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._models import Image, empty_entry, utcnow
from ansible_collections.nvidia.air.plugins.module_utils._module import WAIT_ARGSPEC, AirModule


class AirImageShareModule(AirModule):
    argument_spec = dict(
        state=dict(type="str", default="present", choices=["present", "absent", "claimed"]),
        image=dict(type="str"),
        name=dict(type="str"),
        version=dict(type="str"),
        target_orgs=dict(type="list", elements="raw"),
        purge=dict(type="bool", default=False),
        share_id=dict(type="str"),
        **WAIT_ARGSPEC
    )
    module_kwargs = dict(
        required_if=[["state", "claimed", ["share_id"]]],
        required_together=[["name", "version"]],
    )

    def check_options(self):
        p = self.params
        if p["state"] == "claimed":
            for option in ("image", "target_orgs"):
                if p[option]:
                    raise AirInputError("%s is not used with state: claimed" % option, step="check options")
            return
        if not p["image"] and not p["name"]:
            raise AirInputError("one of image, or name and version, is required", step="check options")
        if p["image"] and p["name"]:
            raise AirInputError("image and name are mutually exclusive", step="check options")
        if p["state"] == "present" and p["target_orgs"] is None:
            raise AirInputError("target_orgs is required with state: present", step="check options")
        self.targets = self.parse_targets(p["target_orgs"] or [], self.given.get("target_orgs"))

    @staticmethod
    def parse_targets(items, given=None):
        """``[(org, expires_at or None)]`` in the given order; bad items fail before anything is sent.

        ``given`` is target_orgs as the task wrote it (a survey's ``"partner-org,"``), quoted for an empty entry.
        """
        targets, seen = [], set()
        for index, item in enumerate(items):
            where = "target_orgs[%d]" % index
            if isinstance(item, str) and not item.strip():
                raise empty_entry("target_orgs", items, index, given)
            if isinstance(item, str):
                org, expires = item, None
            elif isinstance(item, dict):
                unknown = sorted(set(item) - {"org", "expires_at"})
                if unknown:
                    raise AirInputError("%s has unknown key(s) %s; use org and expires_at" % (where, ", ".join(unknown)),
                                        step="check options")
                org, expires = item.get("org"), item.get("expires_at")
            else:
                raise AirInputError("%s must be an org name or a dict with org and expires_at" % where,
                                    step="check options")
            if not isinstance(org, str) or not org.strip():
                raise AirInputError("%s: org must be a non-empty string" % where, step="check options")
            org = org.strip()  # "a, b" from a survey's text field arrives as ["a", " b"]
            if org in seen:
                raise AirInputError("%s: %r is listed twice" % (where, org), step="check options")
            seen.add(org)
            if expires is not None:
                try:
                    when = parse_datetime(str(expires))
                except ValueError as exc:
                    raise AirInputError("%s: expires_at: %s" % (where, exc), step="check options")
                if when <= utcnow():
                    raise AirInputError("%s: expires_at %s is in the past" % (where, expires), step="check options")
                expires = when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            targets.append((org, expires))
        return targets

    def run(self):
        if self.params["state"] == "claimed":
            self.claim()
        else:
            self.reconcile()

    # ----------------------------------------------------------------- sharing
    def reconcile(self):
        p = self.params
        image = self.find_image(p["image"], p["name"], p["version"], required=True)
        shares = [s for s in self.client.shares.list(image=image.id) if s.image == image.id]
        live = [s for s in shares if s.is_live()]
        # A claimed share has done its job: it satisfies "shared with" and cannot be revoked.
        claimed = [s for s in shares if s.state == "CLAIMED"]
        by_org = dict((s.target_org, s) for s in live + claimed)
        wanted = [org for org, _expires in self.targets]
        if p["state"] == "present":
            to_create = [(org, expires) for org, expires in self.targets if org not in by_org]
            to_revoke = [s for s in live if s.target_org not in wanted] if p["purge"] else []
        else:
            to_create = []
            to_revoke = [s for s in live if not wanted or s.target_org in wanted]
        if to_create:
            self.refuse_own_org([org for org, _expires in to_create])
        if to_create and image.upload_status != "COMPLETE":
            waiting = (": wait for the review of its publish request, or withdraw it (nvidia.air.air_image "
                       "published: false), then share" if image.upload_status.startswith("PENDING_") else "")
            raise AirInputError("image %s is %s; only an uploaded image (COMPLETE) can be shared%s"
                                % (image.label, image.upload_status, waiting), step="check upload status",
                                image_id=image.id)
        before = sorted(by_org)
        shares, created = self.create_all(image, to_create)
        revoked = []
        for share in to_revoke:
            if self.change("revoked the share of image %s with %s" % (image.label, share.target_org),
                           lambda share=share: self.client.shares.delete(share)) is False:
                self.take_back_last_change("the share of image %s with %s was revoked by another run at the same "
                                           "time" % (image.label, share.target_org))
            else:
                revoked.append(share.target_org)
        kept = [s.to_result() for s in live + claimed if s not in to_revoke]
        self.result.update(image=image.to_result(), shares=kept + shares, created=created, revoked=revoked)
        after = sorted((set(before) - set(revoked)) | set(created))
        if after != before:
            self.diff.add("target_orgs", before, after)

    def refuse_own_org(self, orgs):
        """Fail before any write (and in check mode too) when asked to share with the token's own organization.

        The org directory shows an ordinary token its own organization only; when it shows several (a
        reviewer's token) or cannot be read, the API's own refusal at create time has to do.
        """
        own = self.client.organizations.own()
        if own is not None and own.get("ngc_org_name") in orgs:
            raise AirInputError("target_orgs: %r is your own organization; an image cannot be shared with it"
                                % own["ngc_org_name"], step="check options")

    def create_all(self, image, to_create):
        """Create shares: ``(share results, orgs this task shared with)``.

        If one fails, the shares made here are revoked before failing. A share
        the API refuses because another run just created it is adopted (it is
        what we wanted), not counted as ours.
        """
        made, results, created = [], [], []
        try:
            for org, expires in to_create:
                try:
                    share = self.change("shared image %s with %s" % (image.label, org),
                                        lambda org=org, expires=expires: self.client.shares.create(image, org, expires))
                except AirApiError as exc:
                    share = self.client.shares.find_live(image.id, org) if exc.status == 400 else None
                    if share is None:
                        raise
                    self.warn("image %s was shared with %s by another run at the same time" % (image.label, org))
                    results.append(share.to_result())
                    continue
                created.append(org)
                if share is None:  # check mode: what the API would return
                    results.append(dict(id=None, image=image.id, image_name=image.name, image_version=image.version,
                                        target_org=org, state="ACTIVE", expires_at=expires, claimed_by=""))
                else:
                    made.append(share)
                    results.append(share.to_result())
        except AirError:
            for share in made:
                try:
                    self.client.shares.delete(share)
                except AirError as exc:
                    self.warn("could not revoke the share %s created before the failure: %s" % (share.id, exc))
            self.result.update(changed=False, actions=[])  # rolled back: the shares are as they were
            raise
        return results, created

    # ---------------------------------------------------------------- claiming
    def claim(self):
        """Claim ``share_id``; "already done" only when the API says this share was claimed.

        The claiming organization cannot read the share, so an image that
        merely has the wanted name proves nothing: the claim is always sent,
        and its refusal tells what stands.
        """
        p = self.params
        if self.check_mode:
            return self.predict_claim()
        try:
            image = self.change("claimed share %s" % p["share_id"],
                                lambda: self.client.shares.claim(p["share_id"], p["name"], p["version"]))
        except AirApiError as exc:
            if exc.status != 400:
                raise
            return self.refused_claim(exc)
        self.diff.add("claimed", False, True)
        self.result["image"] = self.settled(image).to_result()

    def refused_claim(self, refusal):
        p = self.params
        share_errors = " ".join(refusal.field_errors.get("image_share", []))
        if "already been claimed" in share_errors:
            if not p["name"]:
                self.result["image"] = None
                self.warn("share %s was already claimed; give name and version to get the claimed image back"
                          % p["share_id"])
                return
            existing = self.client.images.find(p["name"], p["version"], step="claim")
            if existing is None:
                refusal.hint = ("your organization has no image named %r version %r: was the share claimed under "
                                "another name?" % (p["name"], p["version"]))
                raise refusal
            if not could_be_a_claimed_copy(existing):
                raise self.name_taken(existing)  # the same proof check mode asks for
            self.result["image"] = self.settled(existing).to_result()
            return
        if p["name"] and refusal.field_errors.get("non_field_errors"):
            holder = self.client.images.find(p["name"], p["version"], step="claim")
            if holder is not None:
                raise self.name_taken(holder)
        raise refusal

    def predict_claim(self):
        """Check mode: no claim can be tried, so judge from the image that has the wanted name, if any."""
        p = self.params
        holder = self.client.images.find(p["name"], p["version"], step="claim") if p["name"] else None
        if holder is not None and not could_be_a_claimed_copy(holder):
            raise self.name_taken(holder)
        if holder is not None:
            self.result["image"] = holder.to_result()
            return
        self.diff.add("claimed", False, True)
        self.change("claimed share %s" % p["share_id"])
        self.result["image"] = Image(dict(id=None, name=p["name"], version=p["version"],
                                          upload_status="COPYING_FROM_IMAGE_SHARE")).to_result()

    def name_taken(self, holder):
        return AirInputError(
            "cannot claim share %s as %r version %r: that name is taken in your organization by image %s (%s), "
            "which is not a copy of this share" % (self.params["share_id"], holder.name, holder.version,
                                                   holder.label, holder.upload_status), step="claim",
            image_id=holder.id, hint="claim it under another name or version, or remove that image")

    def settled(self, image):
        if not self.params["wait"] or image.upload_status != "COPYING_FROM_IMAGE_SHARE":
            return image
        return self.client.images.wait_for(image, lambda i: i.upload_status == "COMPLETE",
                                           lambda i: "the copy failed (image is READY)" if i.upload_status == "READY"
                                           else None, step="wait for the claimed copy",
                                           timeout=self.params["wait_timeout"],
                                           poll_interval=self.params["poll_interval"])


def could_be_a_claimed_copy(image):
    """A claimed copy is being copied or holds the shared file: an image without content never is one."""
    return image.upload_status == "COPYING_FROM_IMAGE_SHARE" or image.is_uploaded


def main():
    AirImageShareModule()()


if __name__ == "__main__":
    main()
