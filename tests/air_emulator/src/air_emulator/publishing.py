"""Publishing: direct publish/unpublish, the gated request flow and publish access records.

Contract sections 4 (rows 10-16), 6, 9 and 10, completed from the Air API
reference pages under ``docs.nvidia.com/dsx-air/api-reference/{images,publishing}``.
The rules the contract leaves open are listed in the emulator README
("Publishing and publish access records").

A publish access record (PAR) is created by every direct publish and every
``request-*`` call; the image's ``publish_access_record_id`` then names it.
Records are documents in the ``publish_access_records`` table; internal keys
start with ``_`` and never leave the emulator:

- ``_org``: the requesting (owning) org's name;
- ``_kind``: ``publish`` (request-publish and direct publish), ``unpublish``,
  ``elevation``, ``restriction`` or ``allowlist``;
- ``_allowed_orgs``: the effective allow-list (org ids, requesting org
  included) while the record governs a restricted image, shown to reviewers
  as ``allowed_orgs``;
- ``_rename``: ``{name, version}`` a request applies when it is approved.

The image keeps ``_live_par``, the APPROVED record whose visibility is live
(the record ``set-visibility`` acts on), and, while ``PUBLISHING``,
``_publish = {public, allowed}``, the visibility to apply when the publish
pipeline ends.
"""

# Publishing is the service's publishing half: it uses the service's image lookups.
# pylint: disable=protected-access

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request

from . import validation as v
from .config import REVIEWER_SCOPES, Org
from .validation import ApiError, FieldError, forbidden, invalid, not_found

PAR_STATUSES = ("PENDING", "PENDING_ELEVATION", "PENDING_RESTRICTION", "PENDING_UNPUBLISH", "PENDING_ALLOWLIST",
                "APPROVED_PENDING_IMAGE_PUBLISH", "APPROVED", "DENIED", "REMOVED", "CANCELLED")
# Waiting for a reviewer: what approve, deny and cancel act on.
PENDING_STATUSES = PAR_STATUSES[:5]
# A record in one of these states blocks every other publishing call on its image (409).
OPEN_STATUSES = PENDING_STATUSES + ("APPROVED_PENDING_IMAGE_PUBLISH",)
PIPELINE_STATES = ("PUBLISHING", "UNPUBLISHING")
# Field order of the PAR resource (SDK 1.9.0 ImagePublishAccessRecord); every field is always returned.
PAR_FIELDS = (
    "id", "created", "modified", "image", "image_name", "image_version", "requested_by", "requested_at",
    "requesting_org", "requesting_org_display_name", "requesting_org_ngc_org_name", "reviewed_by", "reviewed_at",
    "status", "publicly_published", "prefer_public", "justification", "allowed_orgs_request_text", "allowed_orgs",
    "denial_reason",
)
REQUEST_SCOPES = ("image_write", "image_publish")
RENAME = {"name": v.string(1, 128), "version": v.string(1, 64)}
JUSTIFICATION = v.string(1, 2048)  # request-*: required and not blank
DUPLICATE = "The fields name, version must make a unique set."

PAR_FILTERS = {"image": None, "status": PAR_STATUSES}
PAR_BOOL_FILTERS = ("publicly_published",)
PAR_CASELESS_FILTERS = ("requested_by_email", "requesting_org_display_name", "requesting_org_ngc_org_name")
PAR_ORDERING = ("created", "modified", "image_name", "image_version", "requested_at", "reviewed_at",
                "requested_by_email", "requesting_org_display_name", "requesting_org_ngc_org_name", "status")
PAR_SEARCH = ("image_name", "image_version", "justification", "allowed_orgs_request_text", "requested_by_email",
              "requesting_org_ngc_org_name", "requesting_org_display_name")


def is_reviewer(principal) -> bool:
    """``air:admin`` or ``air:sre``: sees every org's records and may approve, deny and set visibility."""
    return any(principal.can(scope) for scope in REVIEWER_SCOPES)


def _require_any(principal, scopes: tuple) -> None:
    if not any(principal.can(scope) for scope in scopes):
        names = " or ".join(f"air:{scope}" for scope in scopes)
        raise forbidden(f"You do not have permission to perform this action (requires scope {names}).")


def org_id_list(settings):
    """Validator for ``allowed_orgs``: a list of known org ids, returned normalised and de-duplicated."""
    known = {org.id for org in settings.orgs.values()}

    def check(value):
        if not isinstance(value, list):
            raise FieldError("Expected a list of organization ids.")
        cleaned = []
        for item in value:
            if v.uuid_string(item) not in known:
                raise FieldError(f"Unknown organization id {item!r}.")
            cleaned.append(str(uuid.UUID(item)))
        return sorted(set(cleaned))

    return check


class Publishing:
    """Publish/unpublish, the request flow and the reviewer actions.

    Like ``Service``, every public method checks scope, ownership, body and
    state before its first write and runs in one store transaction.
    """

    def __init__(self, service) -> None:
        self.service = service
        self.store = service.store
        self.clock = service.clock
        self.settings = service.settings

    # ------------------------------------------------------------------ helpers
    def _owned_image(self, image_id: str, principal, scopes: tuple) -> dict:
        _require_any(principal, scopes)
        image = self.service._find_image(image_id, principal)
        if image["_org"] != principal.org.name:
            raise forbidden("Only the organization that owns this image can change it.")
        return image

    def _record_of(self, image: dict) -> dict | None:
        record_id = image.get("publish_access_record_id")
        return self.store.get_par(record_id) if record_id else None

    def _refuse_if_busy(self, image: dict) -> None:
        """409 while a request is open or the image is in the publish pipeline; the body names the record."""
        record = self._record_of(image)
        if record is not None and record["status"] in OPEN_STATUSES:
            raise ApiError(
                409, f"Image {image['id']} already has an open publish access record {record['id']} "
                     f"({record['status']}); cancel it or wait for the review before making another request.",
                publish_access_record_id=record["id"], publish_access_record_status=record["status"],
                upload_status=image["upload_status"])
        if image["upload_status"] in PIPELINE_STATES:
            raise ApiError(
                409, f"Image {image['id']} is {image['upload_status']}; wait until it finishes.",
                publish_access_record_id=record["id"] if record else None,
                publish_access_record_status=record["status"] if record else None,
                upload_status=image["upload_status"])

    @staticmethod
    def _require_complete(image: dict, action: str) -> None:
        if image["upload_status"] != "COMPLETE":
            raise ApiError(400, f"Cannot {action}: image upload_status is {image['upload_status']}. "
                                "Only COMPLETE images take part in publishing.",
                           type="VALIDATION", upload_status=image["upload_status"])

    def _checked_name(self, image: dict, data: dict, catalog: bool) -> tuple[str, str]:
        """The (name, version) after an optional rename; 400 if it clashes in the org or the catalog."""
        name, version = data.get("name", image["name"]), data.get("version", image["version"])
        renamed = (name, version) != (image["name"], image["version"])
        if renamed and self.service._name_taken(image["_org"], name, version, exclude=image["id"]):
            raise invalid({"non_field_errors": [DUPLICATE]},
                          f"An image named {name!r} version {version!r} already exists in your organization.")
        if catalog and self.service._catalog_taken(name, version, image["id"]):
            raise invalid(
                {"non_field_errors": ["A published image with this name and version already exists."]},
                f"A published image named {name!r} version {version!r} already exists; publish under another "
                "name or version.",
            )
        return name, version

    @staticmethod
    def _effective_allow_list(image: dict, allowed: list) -> list:
        """The allow-list as stored and shown to reviewers: always includes the owning (requesting) org."""
        return sorted(set(allowed) | {Org(image["_org"]).id})

    def _new_record(self, image: dict, principal, kind: str, status: str, *, rename: dict | None = None,
                    now: float | None = None, **fields) -> dict:
        """Create a record for ``image`` and point the image's ``publish_access_record_id`` at it."""
        now = self.clock.now() if now is None else now
        record = {
            "id": str(uuid.uuid4()), "created": now, "modified": now, "image": image["id"],
            "image_name": (rename or image)["name"], "image_version": (rename or image)["version"],
            "requested_by": principal.email, "requested_at": now,
            "requesting_org": principal.org.display_name,
            "requesting_org_display_name": principal.org.display_name,
            "requesting_org_ngc_org_name": principal.org.name,
            "reviewed_by": None, "reviewed_at": None, "status": status,
            # until a review changes them: the visibility the image has now
            "publicly_published": bool(image["published"] and image["publicly_published"]),
            "prefer_public": True, "justification": "", "allowed_orgs_request_text": "", "denial_reason": "",
            "_org": image["_org"], "_kind": kind, "_allowed_orgs": list(image.get("_allowed_orgs") or []),
            "_rename": rename,
        }
        record.update(fields)
        self.store.put_par(record)
        image["publish_access_record_id"] = record["id"]
        return record

    def _touch(self, doc: dict) -> dict:
        doc["modified"] = self.clock.now()
        return doc

    def _log(self, image: dict, actor, text: str) -> None:
        """A publishing entry in the image's history (history.py); ``actor`` None = the pipeline."""
        self.service.history.record(image, actor, text, "publishing")

    def _requested(self, image: dict, principal, what: str, record: dict) -> None:
        self._log(image, principal, f"{what} requested: publish access record {record['id']} is {record['status']}. "
                                    f"Justification: {record['justification']}")

    def _schedule(self, image: dict, action: str) -> None:
        self.store.schedule(image["id"], action, self.clock.now() + self.settings.transition_delay)

    def record_json(self, record: dict, principal) -> dict:
        body = {name: record.get(name) for name in PAR_FIELDS}
        body["allowed_orgs"] = list(record["_allowed_orgs"]) if is_reviewer(principal) else None
        for name in ("created", "modified", "requested_at", "reviewed_at"):
            body[name] = v.iso(record.get(name))
        return body

    # ----------------------------------------------------------- direct actions
    def publish(self, image_id: str, body, principal) -> dict:
        """Auto-approved publish: PAR ``APPROVED_PENDING_IMAGE_PUBLISH``, image ``PUBLISHING``, then both done."""
        schema = dict(RENAME, prefer_public=v.boolean, allowed_orgs=org_id_list(self.settings),
                      justification=v.string(0, 2048, nullable=True))
        with self.store.tx():
            image = self._owned_image(image_id, principal, ("image_publish",))
            data = v.clean(body, schema)
            self._refuse_if_busy(image)
            self._require_complete(image, "publish")
            if image["published"]:
                raise invalid(detail="Image is already published.")
            public = data.get("prefer_public", True)
            allowed = data.get("allowed_orgs") or []
            if public and allowed:
                raise invalid({"allowed_orgs": ["Only allowed when prefer_public is false."]})
            name, version = self._checked_name(image, data, catalog=True)
            effective = [] if public else self._effective_allow_list(image, allowed)
            image.update(name=name, version=version)
            now = self.clock.now()
            record = self._new_record(image, principal, "publish", "APPROVED_PENDING_IMAGE_PUBLISH",
                                      prefer_public=public, publicly_published=public, _allowed_orgs=effective,
                                      justification=data.get("justification") or "", now=now, reviewed_at=now)
            image.update(upload_status="PUBLISHING", _publish={"public": public, "allowed": effective})
            self.store.put_image(self._touch(image))
            self._log(image, principal, f"Publish started as {image['name']!r} version {image['version']!r} "
                                        f"({_visibility(public, effective)}): publish access record {record['id']} "
                                        "is APPROVED_PENDING_IMAGE_PUBLISH.")
            self._schedule(image, "publish")
        return image

    def unpublish(self, image_id: str, body, principal) -> dict:
        """Direct unpublish: image ``UNPUBLISHING``; when it ends the live record becomes ``REMOVED``."""
        with self.store.tx():
            image = self._owned_image(image_id, principal, ("image_publish",))
            data = v.clean(body, RENAME)
            self._refuse_if_busy(image)
            self._require_complete(image, "unpublish")
            if not image["published"]:
                raise invalid(detail="Image is not published.")
            name, version = self._checked_name(image, data, catalog=False)
            image.update(name=name, version=version, upload_status="UNPUBLISHING")
            self.store.put_image(self._touch(image))
            self._schedule(image, "unpublish")
            self._log(image, principal, "Unpublish started: the image leaves the catalog.")
        return image

    # ----------------------------------------------------------------- requests
    def request_publish(self, image_id: str, body, principal) -> dict:
        schema = dict(RENAME, justification=JUSTIFICATION, prefer_public=v.boolean,
                      allowed_orgs_request_text=v.string(0, 4096))
        with self.store.tx():
            image = self._owned_image(image_id, principal, REQUEST_SCOPES)
            data = _clean_request(body, schema, required=("justification",))
            self._refuse_if_busy(image)
            self._require_complete(image, "request publication")
            if image["published"]:
                raise invalid(detail="Image is already published; use request-public or request-allowlist-change "
                                     "to change its visibility.")
            name, version = self._checked_name(image, data, catalog=True)
            record = self._new_record(image, principal, "publish", "PENDING", rename=_rename(image, name, version),
                                      prefer_public=data.get("prefer_public", True),
                                      justification=data["justification"],
                                      allowed_orgs_request_text=data.get("allowed_orgs_request_text", ""))
            image["upload_status"] = "PENDING_PUBLISH"
            self.store.put_image(self._touch(image))
            visibility = "public" if record["prefer_public"] else "restricted"
            self._requested(image, principal, f"Publication ({visibility})", record)
        return image

    def request_unpublish(self, image_id: str, body, principal) -> dict:
        schema = dict(RENAME, justification=JUSTIFICATION)
        with self.store.tx():
            image = self._owned_image(image_id, principal, REQUEST_SCOPES)
            data = _clean_request(body, schema, required=("justification",))
            self._refuse_if_busy(image)
            self._require_complete(image, "request unpublication")
            if not image["published"]:
                raise invalid(detail="Image is not published.")
            name, version = self._checked_name(image, data, catalog=False)
            record = self._new_record(image, principal, "unpublish", "PENDING_UNPUBLISH",
                                      rename=_rename(image, name, version),
                                      prefer_public=image["publicly_published"], justification=data["justification"])
            image["upload_status"] = "PENDING_UNPUBLISH"
            self.store.put_image(self._touch(image))
            self._requested(image, principal, "Unpublication", record)
        return image

    def request_public(self, image_id: str, body, principal) -> dict:
        schema = {"prefer_public": v.boolean, "justification": JUSTIFICATION}
        with self.store.tx():
            image = self._owned_image(image_id, principal, REQUEST_SCOPES)
            data = _clean_request(body, schema, required=("prefer_public", "justification"))
            self._refuse_if_busy(image)
            self._require_complete(image, "request a visibility change")
            if not image["published"]:
                raise invalid(detail="Only published images can change visibility; use request-publish.")
            public = data["prefer_public"]
            if public and image["publicly_published"]:
                raise invalid({"prefer_public": ["The image is already public."]})
            if not public and not image["publicly_published"]:
                raise invalid({"prefer_public": ["The image is already restricted; use request-allowlist-change "
                                                 "to change which organizations see it."]})
            kind, status = ("elevation", "PENDING_ELEVATION") if public else ("restriction", "PENDING_RESTRICTION")
            record = self._new_record(image, principal, kind, status, prefer_public=public,
                                      justification=data["justification"])
            self.store.put_image(self._touch(image))
            self._requested(image, principal, "Visibility change to %s" % ("public" if public else "restricted"),
                            record)
        return image

    def request_allowlist_change(self, image_id: str, body, principal) -> dict:
        schema = {"justification": JUSTIFICATION, "allowed_orgs_request_text": v.string(1, 4096)}
        with self.store.tx():
            image = self._owned_image(image_id, principal, REQUEST_SCOPES)
            data = _clean_request(body, schema, required=("justification", "allowed_orgs_request_text"))
            self._refuse_if_busy(image)
            self._require_complete(image, "request an allow-list change")
            if not image["published"] or image["publicly_published"]:
                raise invalid(detail="Only published restricted images have an allow-list; use request-public "
                                     "with prefer_public false to restrict a public image.")
            record = self._new_record(image, principal, "allowlist", "PENDING_ALLOWLIST", prefer_public=False,
                                      justification=data["justification"],
                                      allowed_orgs_request_text=data["allowed_orgs_request_text"])
            self.store.put_image(self._touch(image))
            self._requested(image, principal, "Allow-list change", record)
        return image

    def cancel(self, image_id: str, body, principal) -> dict:
        """Withdraw the open request: record ``CANCELLED`` (``requested_at`` null), image back to ``COMPLETE``."""
        with self.store.tx():
            image = self._owned_image(image_id, principal, REQUEST_SCOPES)
            v.clean(body, {})
            record = self._record_of(image)
            if image["upload_status"] in PIPELINE_STATES:
                raise ApiError(400, f"Cannot cancel: image is {image['upload_status']}; the change is already "
                                    "being applied.", type="VALIDATION", upload_status=image["upload_status"])
            if record is None or record["status"] not in PENDING_STATUSES:
                raise ApiError(400, "Nothing to cancel: the image has no pending publish access record.",
                               type="VALIDATION", upload_status=image["upload_status"],
                               publish_access_record_id=record["id"] if record else None)
            was = record["status"]
            record.update(status="CANCELLED", requested_at=None)
            self.store.put_par(self._touch(record))
            _settle(image)
            self.store.put_image(self._touch(image))
            self._log(image, principal, f"Publish access record {record['id']} ({was}) cancelled.")
        return image

    # ------------------------------------------------------------------ records
    def list_records(self, principal) -> list[dict]:
        _require_any(principal, REQUEST_SCOPES + REVIEWER_SCOPES)
        return self.store.all_pars(None if is_reviewer(principal) else principal.org.name)

    def get_record(self, record_id: str, principal) -> dict:
        _require_any(principal, REQUEST_SCOPES + REVIEWER_SCOPES)
        record = None
        try:
            record = self.store.get_par(str(uuid.UUID(record_id)))
        except ValueError:
            pass
        if record is None or not (is_reviewer(principal) or record["_org"] == principal.org.name):
            raise not_found("No ImagePublishAccessRecord matches the given query.")
        return record

    def _reviewable(self, record_id: str, principal, action: str) -> tuple[dict, dict]:
        _require_any(principal, REVIEWER_SCOPES)
        record = self.get_record(record_id, principal)
        if record["status"] not in PENDING_STATUSES:
            raise ApiError(400, f"Cannot {action} a publish access record that is {record['status']}; only "
                                f"{', '.join(PENDING_STATUSES)} records are reviewed.",
                           type="VALIDATION", publish_access_record_status=record["status"])
        return record, self.store.get_image(record["image"])

    def _reviewed(self, record: dict, principal, status: str) -> None:
        now = self.clock.now()
        record.update(status=status, reviewed_by=principal.email, reviewed_at=now, modified=now)

    def approve(self, record_id: str, body, principal) -> dict:
        """Approve a pending record; see the README for what each kind does."""
        schema = {"publicly_published": v.boolean, "allowed_orgs": org_id_list(self.settings)}
        with self.store.tx():
            record, image = self._reviewable(record_id, principal, "approve")
            data = v.clean(body, schema)
            was = record["status"]
            if record["_kind"] == "unpublish":
                self._approve_unpublish(record, image, data, principal)
            else:
                public = self._approved_visibility(record, data)
                effective = [] if public else self._effective_allow_list(image, data.get("allowed_orgs", []))
                if record["_kind"] == "publish":
                    self._approve_publish(record, image, public, effective, principal)
                else:
                    self._reviewed(record, principal, "APPROVED")
                    record.update(publicly_published=public, _allowed_orgs=effective)
                    image.update(publicly_published=public, _allowed_orgs=effective, _live_par=record["id"])
            self.store.put_par(record)
            self.store.put_image(self._touch(image))
            outcome = "" if record["_kind"] == "unpublish" else \
                f" ({_visibility(record['publicly_published'], record['_allowed_orgs'])})"
            self._log(image, principal, f"Publish access record {record['id']} ({was}) approved{outcome}; it is "
                                        f"{record['status']}.")
        return record

    @staticmethod
    def _approved_visibility(record: dict, data: dict) -> bool:
        public = data.get("publicly_published", record["prefer_public"])
        kind = record["_kind"]
        if kind == "elevation" and not public:
            raise invalid({"publicly_published": ["A PENDING_ELEVATION record can only be approved as public."]})
        if kind in ("restriction", "allowlist") and public:
            raise invalid({"publicly_published": [
                f"A {record['status']} record is approved as restricted; deny it to leave the image as it is."]})
        if public and data.get("allowed_orgs"):
            raise invalid({"allowed_orgs": ["Must be omitted or empty when approving as public."]})
        return public

    def _approve_publish(self, record: dict, image: dict, public: bool, effective: list, principal) -> None:
        name, version = self._checked_name(image, record["_rename"] or {}, catalog=True)
        self._reviewed(record, principal, "APPROVED_PENDING_IMAGE_PUBLISH")
        record.update(publicly_published=public, _allowed_orgs=effective)
        image.update(name=name, version=version, upload_status="PUBLISHING",
                     _publish={"public": public, "allowed": effective})
        self._schedule(image, "publish")

    def _approve_unpublish(self, record: dict, image: dict, data: dict, principal) -> None:
        if data:
            raise invalid({name: ["Not used when approving an unpublish request (send an empty body)."]
                           for name in data})
        name, version = self._checked_name(image, record["_rename"] or {}, catalog=False)
        self._reviewed(record, principal, "APPROVED")
        image.update(name=name, version=version, upload_status="UNPUBLISHING")
        self._schedule(image, "unpublish")

    def deny(self, record_id: str, body, principal) -> dict:
        """Deny a pending record: a first publish stays unpublished, anything else leaves visibility as is."""
        with self.store.tx():
            record, image = self._reviewable(record_id, principal, "deny")
            data = v.clean(body, {"denial_reason": v.string(0, 2048)})
            was = record["status"]
            self._reviewed(record, principal, "DENIED")
            record["denial_reason"] = data.get("denial_reason", "")
            self.store.put_par(record)
            _settle(image)
            self.store.put_image(self._touch(image))
            self._log(image, principal, f"Publish access record {record['id']} ({was}) denied: "
                                        f"{record['denial_reason'] or 'no reason given'}.")
        return record

    def set_visibility(self, record_id: str, body, principal) -> dict:
        """Change the live visibility of a published image at once (full replacement allow-list)."""
        schema = {"publicly_published": v.boolean, "allowed_orgs": org_id_list(self.settings)}
        with self.store.tx():
            _require_any(principal, REVIEWER_SCOPES)
            record = self.get_record(record_id, principal)
            data = v.clean(body, schema, required=("publicly_published",))
            image = self.store.get_image(record["image"])
            if record["status"] != "APPROVED" or image.get("_live_par") != record["id"] or \
                    not image["published"] or image["upload_status"] in PIPELINE_STATES:
                raise ApiError(400, "Visibility can only be set on the APPROVED record of a published image "
                                    f"(this record is {record['status']}; image {image['id']} is "
                                    f"{'published' if image['published'] else 'not published'}, "
                                    f"{image['upload_status']}).", type="VALIDATION",
                               publish_access_record_status=record["status"])
            public = data["publicly_published"]
            if public and data.get("allowed_orgs"):
                raise invalid({"allowed_orgs": ["Must be omitted or empty when publicly_published is true."]})
            effective = [] if public else self._effective_allow_list(image, data.get("allowed_orgs", []))
            record.update(publicly_published=public, _allowed_orgs=effective)
            self.store.put_par(self._touch(record))
            image.update(publicly_published=public, _allowed_orgs=effective)
            self.store.put_image(self._touch(image))
            self._log(image, principal, f"Visibility set to {_visibility(public, effective)} by a reviewer "
                                        f"(publish access record {record['id']}).")
        return record

    # ---------------------------------------------------- background transitions
    def finish_publish(self, image_id: str) -> None:
        """End of ``PUBLISHING``: the image joins the catalog and its record becomes ``APPROVED``."""
        with self.store.tx():
            image = self.store.get_image(image_id)
            if image is None or image["upload_status"] != "PUBLISHING":
                return
            publish = image.pop("_publish", None) or {"public": True, "allowed": []}
            image.update(upload_status="COMPLETE", published=True, publicly_published=publish["public"],
                         _allowed_orgs=publish["allowed"])
            record = self._record_of(image)
            if record is not None and record["status"] == "APPROVED_PENDING_IMAGE_PUBLISH":
                record["status"] = "APPROVED"
                self.store.put_par(self._touch(record))
                image["_live_par"] = record["id"]
            self.store.put_image(self._touch(image))
            self._log(image, None, f"Published ({_visibility(publish['public'], publish['allowed'])})"
                                   + (f"; publish access record {record['id']} is APPROVED." if record else "."))

    def finish_unpublish(self, image_id: str) -> None:
        """End of ``UNPUBLISHING``: the live record and an approved unpublish request become ``REMOVED``."""
        with self.store.tx():
            image = self.store.get_image(image_id)
            if image is None or image["upload_status"] != "UNPUBLISHING":
                return
            removed = []
            for record_id in sorted({image.get("_live_par"), image.get("publish_access_record_id")} - {None}):
                record = self.store.get_par(record_id)
                if record is not None and record["status"] == "APPROVED":
                    record["status"] = "REMOVED"
                    self.store.put_par(self._touch(record))
                    removed.append(record_id)
            image.update(upload_status="COMPLETE", published=False, publicly_published=False,
                         publish_access_record_id=None, _allowed_orgs=[], _live_par=None)
            self.store.put_image(self._touch(image))
            self._log(image, None, "Unpublished: the image left the catalog"
                                   + (f"; publish access record {', '.join(removed)} REMOVED." if removed else "."))


def _visibility(public: bool, allowed: list) -> str:
    if public:
        return "public"
    return f"restricted to {len(allowed)} organization{'s' if len(allowed) != 1 else ''}"


def _clean_request(body, schema: dict, required: tuple) -> dict:
    """``v.clean`` with a pointer for the most likely mistake: org ids belong to the reviewer."""
    if isinstance(body, dict) and "allowed_orgs" in body and "allowed_orgs" not in schema:
        raise invalid({"allowed_orgs": [
            "Requests cannot set the allow-list; describe the organizations in allowed_orgs_request_text and the "
            "reviewer sets allowed_orgs on approval."]})
    return v.clean(body, schema, required=required)


def _rename(image: dict, name: str, version: str) -> dict | None:
    return {"name": name, "version": version} if (name, version) != (image["name"], image["version"]) else None


def _settle(image: dict) -> None:
    """A closed request puts a ``PENDING_*`` image back to ``COMPLETE`` (published or not, as before)."""
    if image["upload_status"] in ("PENDING_PUBLISH", "PENDING_UNPUBLISH"):
        image["upload_status"] = "COMPLETE"


def router(publishing: Publishing, principal) -> APIRouter:
    """The publishing routes; ``principal`` is the API's authentication dependency."""
    # Imported here: api.py imports this module while it is being loaded.
    from .api import _filter, _order, _page, _search, json_body  # pylint: disable=import-outside-toplevel

    service = publishing.service
    api = APIRouter(prefix="/api/v3")

    def image_action(action: str, method):
        @api.patch(f"/images/{{image_id}}/{action}/", name=action)
        def handler(image_id: str, who=Depends(principal), body=Depends(json_body)):
            return service.image_json(method(image_id, body, who), who)

        return handler

    for action, method in (("publish", publishing.publish), ("unpublish", publishing.unpublish),
                           ("request-publish", publishing.request_publish),
                           ("request-unpublish", publishing.request_unpublish),
                           ("request-public", publishing.request_public),
                           ("request-allowlist-change", publishing.request_allowlist_change),
                           ("cancel-publish-access-record", publishing.cancel)):
        image_action(action, method)

    records = "/publishing/image-publish-access-records"

    @api.get(f"{records}/")
    def list_records(request: Request, who=Depends(principal)):
        params = request.query_params

        def derived(record, name):
            return record["requested_by"] if name == "requested_by_email" else record.get(name)

        items = publishing.list_records(who)
        if "image" in params:
            try:
                wanted = v.uuid_string(params["image"])
            except FieldError as exc:
                raise invalid({"image": [str(exc)]}) from None
            items = [r for r in items if r["image"] == wanted]
        items = _filter(items, params, {"status": PAR_STATUSES}, PAR_BOOL_FILTERS, derived)
        for name in PAR_CASELESS_FILTERS:
            if name in params:
                wanted = params[name].lower()
                items = [r for r in items if (derived(r, name) or "").lower() == wanted]
        items = _order(_search(items, params, PAR_SEARCH, derived), params, PAR_ORDERING, derived)
        return _page(request, [publishing.record_json(r, who) for r in items])

    @api.get(f"{records}/{{record_id}}/")
    def get_record(record_id: str, who=Depends(principal)):
        return publishing.record_json(publishing.get_record(record_id, who), who)

    def review_action(action: str, method):
        @api.patch(f"{records}/{{record_id}}/{action}/", name=f"record-{action}")
        def handler(record_id: str, who=Depends(principal), body=Depends(json_body)):
            return publishing.record_json(method(record_id, body, who), who)

        return handler

    for action, method in (("approve", publishing.approve), ("deny", publishing.deny),
                           ("set-visibility", publishing.set_visibility)):
        review_action(action, method)

    return api
