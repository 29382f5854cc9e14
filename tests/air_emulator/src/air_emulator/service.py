"""The images API's rules: state machine, ownership, visibility, shares (publishing: publishing.py).

Every public method takes the calling ``Principal``, checks scope, ownership
and state before it writes anything, and runs inside one store transaction,
so a refused request leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import uuid

from . import validation as v
from .config import MAX_PARTS, MAX_UPLOAD_SIZE, MIN_CHUNK_SIZE
from .history import History
from .publishing import Publishing
from .storage import StorageError
from .validation import ApiError, FieldError, forbidden, invalid, not_found

log = logging.getLogger("air_emulator.service")

# Field order of the v3 Image resource (every field is always returned).
IMAGE_FIELDS = (
    "id", "name", "version", "created", "modified", "creator", "default_username", "default_password",
    "mountpoint", "minimum_resources", "includes_air_agent", "cpu_arch", "emulation_type",
    "emulation_version", "provider", "published", "publicly_published", "publish_access_record_id",
    "upload_status", "last_uploaded_at", "size", "hash", "is_owned_by_client", "notes", "release_notes",
    "user_manual",
)
SHARE_FIELDS = (
    "id", "created", "modified", "image", "image_name", "image_version", "source_org_display_name",
    "target_org_display_name", "target_org", "claimed_by", "state", "expires_at",
)
WRITABLE = {
    "name": v.string(1, 128),
    "version": v.string(1, 64),
    "default_username": v.string(1, 64),
    "default_password": v.string(1, 64),
    "mountpoint": v.string(1, 128, nullable=True),
    "minimum_resources": v.resources,
    "includes_air_agent": v.boolean,
    "cpu_arch": v.choice("x86", "ARM"),
    "emulation_type": v.string_list,
    "emulation_version": v.string(0, 64),
    "provider": v.choice("VM", "CONTAINER"),
    "notes": v.string(0, 65535, nullable=True),
    "release_notes": v.string(0, 65535, nullable=True),
    "user_manual": v.string(0, 65535, nullable=True),
}
READ_ONLY = frozenset(set(IMAGE_FIELDS) - set(WRITABLE))
CREATE_REQUIRED = ("name", "version", "default_username", "default_password")
CREATE_DEFAULTS = {
    "mountpoint": None,
    "minimum_resources": dict(v.RESOURCE_DEFAULTS),
    "includes_air_agent": False,
    "cpu_arch": "x86",
    "emulation_type": [],
    "emulation_version": "",
    "provider": "VM",
    "notes": "",
    "release_notes": "",
    "user_manual": "",
}
# Metadata a claimed copy inherits from the shared image.
COPIED_FIELDS = tuple(f for f in WRITABLE if f not in ("name", "version"))
RENAME = {"name": v.string(1, 128), "version": v.string(1, 64)}
SHARE_TTL = 24 * 3600
# States in which an image's file is stored and readable (a claim can copy it).
HAS_CONTENT = ("COMPLETE", "PUBLISHING", "UNPUBLISHING", "PENDING_PUBLISH", "PENDING_UNPUBLISH")
DUPLICATE = "The fields name, version must make a unique set."


def _state_error(image: dict, action: str, hint: str = "") -> ApiError:
    detail = f"Cannot {action}: image upload_status is {image['upload_status']}."
    if hint:
        detail += f" {hint}"
    return ApiError(400, detail, type="VALIDATION", upload_status=image["upload_status"])


class Service:
    def __init__(self, settings, store, storage, clock) -> None:
        self.settings = settings
        self.store = store
        self.storage = storage
        self.clock = clock
        self._stop = threading.Event()
        self._worker = None
        self.history = History(self)
        self.publishing = Publishing(self)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def require(principal, scope: str) -> None:
        if not principal.can(scope):
            raise forbidden(f"You do not have permission to perform this action (requires scope air:{scope}).")

    def visible(self, image: dict, principal) -> bool:
        if image["_org"] == principal.org.name:
            return True
        if not image["published"]:
            return False
        return image["publicly_published"] or principal.org.id in image.get("_allowed_orgs", [])

    def image_json(self, image: dict, principal) -> dict:
        body = {name: image.get(name) for name in IMAGE_FIELDS}
        owned = image["_org"] == principal.org.name
        body["is_owned_by_client"] = owned
        if not owned:
            body["publish_access_record_id"] = None
        for name in ("created", "modified", "last_uploaded_at"):
            body[name] = v.iso(image.get(name))
        return body

    def share_state(self, share: dict) -> str:
        if share["state"] == "ACTIVE" and share["expires_at"] <= self.clock.now():
            return "EXPIRED"
        return share["state"]

    def share_json(self, share: dict) -> dict:
        body = {name: share.get(name) for name in SHARE_FIELDS}
        body["state"] = self.share_state(share)
        for name in ("created", "modified", "expires_at"):
            body[name] = v.iso(share[name])
        return body

    def _find_image(self, image_id: str, principal) -> dict:
        try:
            image_id = str(uuid.UUID(image_id))
        except ValueError:
            raise not_found("No Image matches the given query.") from None
        image = self.store.get_image(image_id)
        if image is None or not self.visible(image, principal):
            raise not_found("No Image matches the given query.")
        return image

    def _own_image(self, image_id: str, principal, scope: str) -> dict:
        self.require(principal, scope)
        image = self._find_image(image_id, principal)
        if image["_org"] != principal.org.name:
            raise forbidden("Only the organization that owns this image can change it.")
        return image

    def _name_taken(self, org: str, name: str, version: str, exclude: str | None = None) -> bool:
        return any(i["id"] != exclude for i in self.store.images_named(name, version, org))

    def _catalog_taken(self, name: str, version: str, exclude: str) -> bool:
        return any(
            (i["published"] or i["upload_status"] == "PUBLISHING") and i["id"] != exclude
            for i in self.store.images_named(name, version)
        )

    def _touch(self, doc: dict) -> dict:
        doc["modified"] = self.clock.now()
        return doc

    # ------------------------------------------------------------------- images
    def list_images(self, principal) -> list[dict]:
        self.require(principal, "image_read")
        return [i for i in self.store.all_images() if self.visible(i, principal)]

    def image_page(self, principal, **query) -> tuple[int, list[dict]]:
        """One page of the images ``principal`` can see (``Store.image_page``'s query), in SQL."""
        self.require(principal, "image_read")
        return self.store.image_page((principal.org.name, principal.org.id), **query)

    def get_image(self, image_id: str, principal) -> dict:
        self.require(principal, "image_read")
        return self._find_image(image_id, principal)

    def create_image(self, body, principal) -> dict:
        self.require(principal, "image_write")
        data = v.clean(body, WRITABLE, required=CREATE_REQUIRED, read_only=READ_ONLY)
        with self.store.tx():
            if self._name_taken(principal.org.name, data["name"], data["version"]):
                raise invalid({"non_field_errors": [DUPLICATE]},
                              f"An image named {data['name']!r} version {data['version']!r} already exists in "
                              "your organization.")
            now = self.clock.now()
            image = dict(CREATE_DEFAULTS)
            image.update(data)
            image.update(
                id=str(uuid.uuid4()), created=now, modified=now, creator=principal.email, published=False,
                publicly_published=False, publish_access_record_id=None, upload_status="READY",
                last_uploaded_at=None, size=0, hash="", _org=principal.org.name, _allowed_orgs=[],
            )
            self.store.put_image(image)
            self.history.record(image, principal, f"Image {image['name']!r} version {image['version']!r} created.",
                                "image")
        return image

    def update_image(self, image_id: str, body, principal) -> dict:
        with self.store.tx():
            image = self._own_image(image_id, principal, "image_write")
            data = v.clean(body, WRITABLE, read_only=READ_ONLY)
            name, version = data.get("name", image["name"]), data.get("version", image["version"])
            if (name, version) != (image["name"], image["version"]):
                if self._name_taken(image["_org"], name, version, exclude=image["id"]):
                    raise invalid({"non_field_errors": [DUPLICATE]},
                                  f"An image named {name!r} version {version!r} already exists in your organization.")
                if image["published"] and self._catalog_taken(name, version, image["id"]):
                    raise invalid({"non_field_errors": ["A published image with this name and version exists."]})
            if data:
                changed = sorted(name for name, value in data.items() if image.get(name) != value)
                before = (image["name"], image["version"])
                image.update(data)
                self.store.put_image(self._touch(image))
                if changed:
                    self.history.record(image, principal, _update_text(changed, before, image), "image")
        return image

    def delete_image(self, image_id: str, principal) -> None:
        with self.store.tx():
            image = self._own_image(image_id, principal, "image_write")
            if image["published"] or image.get("_in_use"):
                raise _protected_error(image)
            if image["upload_status"] in ("VALIDATING", "PUBLISHING", "UNPUBLISHING", "COPYING_FROM_IMAGE_SHARE"):
                raise _state_error(image, "delete the image", "Wait until the operation finishes.")
            if image["upload_status"] == "PENDING_PUBLISH":
                raise _state_error(image, "delete the image", "Cancel the publish request first.")
            if image["upload_status"] == "UPLOADING":
                self._drop_upload(image)
            if image.get("_object_key"):
                self.storage.delete_object(image["_object_key"])
            for share in self.store.all_shares(image["_org"]):
                if share["image"] == image["id"] and share["state"] == "ACTIVE":
                    self.store.delete_share(share["id"])
            self.store.delete_image(image["id"])

    # ------------------------------------------- in use (admin API, no nodes here)
    def in_use(self, image_id: str) -> dict:
        image = self._admin_image(image_id)
        return {"image": image["id"], "protected_instances": list(image.get("_in_use") or [])}

    def set_in_use(self, image_id: str, body) -> dict:
        """Replace the objects that hold an image (``{"instances": [...]}``; ``[]`` frees it)."""
        if not isinstance(body, dict) or set(body) != {"instances"}:
            raise invalid({"instances": ["Send an object with exactly the key instances (a list)."]})
        instances = _instance_list(body["instances"])
        with self.store.tx():
            image = self._admin_image(image_id)
            image["_in_use"] = instances
            self.store.put_image(image)
        return self.in_use(image_id)

    def _admin_image(self, image_id: str) -> dict:
        try:
            image = self.store.get_image(str(uuid.UUID(image_id)))
        except ValueError:
            image = None
        if image is None:
            raise not_found("No Image matches the given query.")
        return image

    # ------------------------------------------------------------------ uploads
    def start_upload(self, image_id: str, body, principal) -> dict:
        with self.store.tx():
            image = self._own_image(image_id, principal, "image_write")
            data = v.clean(body, {"hash": _hash_field, "size": v.integer(1, MAX_UPLOAD_SIZE)},
                           required=("hash", "size"))
            if image["upload_status"] != "READY":
                hint = {
                    "UPLOADING": "Only one upload per image: complete or abort the current one.",
                    "COMPLETE": "Clear the uploaded file (clear-upload) before uploading a new one.",
                }.get(image["upload_status"], "Only READY images can start an upload.")
                raise _state_error(image, "start an upload", hint)
            size = data["size"]
            chunk = self.settings.chunk_size
            if math.ceil(size / chunk) > MAX_PARTS:  # keep within S3's 10,000 parts
                chunk = math.ceil(size / MAX_PARTS / MIN_CHUNK_SIZE) * MIN_CHUNK_SIZE
            count = math.ceil(size / chunk)
            key = f"images/{image['id']}/{uuid.uuid4()}"
            upload_id = self.storage.create_upload(key)
            self.store.put_upload({
                "upload_id": upload_id, "image_id": image["id"], "key": key, "hash": data["hash"].lower(),
                "size": size, "chunk_size": chunk, "parts_count": count, "created": self.clock.now(),
            })
            image.update(upload_status="UPLOADING", _upload_id=upload_id)
            self.store.put_image(self._touch(image))
            self.history.record(image, principal, f"Upload started: {size} bytes in {count} part"
                                f"{'s' if count != 1 else ''}, declared sha256 {data['hash'].lower()}.", "upload")
            urls = [{"part_number": n, "url": self.storage.part_url(key, upload_id, n)} for n in range(1, count + 1)]
        return {"upload_id": upload_id, "part_urls": urls, "chunk_size": chunk}

    def complete_upload(self, image_id: str, body, principal) -> dict:
        with self.store.tx():
            image = self._own_image(image_id, principal, "image_write")
            data = v.clean(body, {"parts": _part_list}, required=("parts",))
            if image["upload_status"] != "UPLOADING":
                raise _state_error(image, "complete the upload", "Start an upload first.")
            upload = self.store.get_upload(image["_upload_id"])
            try:
                self.storage.complete(upload, data["parts"])
            except StorageError as exc:
                raise ApiError(400, f"{exc.code}: {exc.message}", type="VALIDATION", code=exc.code,
                               fields={"parts": [exc.message]}) from None
            self.store.delete_upload(upload["upload_id"])
            image.update(upload_status="VALIDATING", _upload_id=None, _object_key=upload["key"],
                         _declared={"hash": upload["hash"], "size": upload["size"]})
            self.store.put_image(self._touch(image))
            self.store.schedule(image["id"], "validate", self.clock.now() + self.settings.validation_delay)
            self.history.record(image, principal, f"Upload completed with {len(data['parts'])} part"
                                f"{'s' if len(data['parts']) != 1 else ''}; the file is being validated.", "upload")
        return image

    def _drop_upload(self, image: dict) -> None:
        upload = self.store.get_upload(image.get("_upload_id") or "")
        if upload is not None:
            self.storage.abort(upload)
            self.store.delete_upload(upload["upload_id"])
        image.update(upload_status="READY", _upload_id=None)

    def abort_upload(self, image_id: str, principal) -> None:
        with self.store.tx():
            image = self._own_image(image_id, principal, "image_write")
            if image["upload_status"] != "UPLOADING":
                raise _state_error(image, "abort the upload", "Only an UPLOADING image has an upload to abort.")
            self._drop_upload(image)
            self.store.put_image(self._touch(image))
            self.history.record(image, principal, "Upload aborted; the parts received were discarded.", "upload")

    def clear_upload(self, image_id: str, principal) -> dict:
        with self.store.tx():
            image = self._own_image(image_id, principal, "image_write")
            if image["upload_status"] == "READY":
                return image
            if image["upload_status"] != "COMPLETE":
                hint = "Use abort-upload for an upload in progress." if image["upload_status"] == "UPLOADING" else ""
                raise _state_error(image, "clear the upload", hint)
            if image["published"]:
                raise invalid(detail="Cannot clear the upload of a published image; unpublish it first.")
            if image.get("_in_use"):
                raise ApiError(400, f"Cannot clear the upload of an image in use by {_in_use_text(image)}.",
                               type="VALIDATION", protected_instances=list(image["_in_use"]))
            cleared = f"sha256 {image['hash']}, {image['size']} bytes"
            self._drop_object(image)
            self.store.put_image(self._touch(image))
            self.history.record(image, principal, f"Uploaded file cleared ({cleared}); the image is READY.",
                                "upload")
        return image

    def _drop_object(self, image: dict) -> None:
        if image.get("_object_key"):
            self.storage.delete_object(image["_object_key"])
        image.update(upload_status="READY", hash="", size=0, last_uploaded_at=None, _object_key=None,
                     _declared=None)

    # ------------------------------------------------------------------- shares
    def list_shares(self, principal) -> list[dict]:
        self.require(principal, "image_sharing")
        return self.store.all_shares(principal.org.name)

    def get_share(self, share_id: str, principal) -> dict:
        self.require(principal, "image_sharing")
        share = None
        try:
            share = self.store.get_share(str(uuid.UUID(share_id)))
        except ValueError:
            pass
        if share is None or share["_org"] != principal.org.name:
            raise not_found("No ImageShare matches the given query.")
        return share

    def create_share(self, body, principal) -> dict:
        self.require(principal, "image_sharing")
        data = v.clean(body, {"image": v.uuid_string, "target_org": v.string(1, 128), "expires_at": v.timestamp},
                       required=("image", "target_org"))
        now = self.clock.now()
        with self.store.tx():
            image = self.store.get_image(data["image"])
            if image is None or image["_org"] != principal.org.name:
                raise invalid({"image": [f'Invalid pk "{data["image"]}" - object does not exist.']})
            if image["upload_status"] != "COMPLETE":
                raise invalid({"image": [f"Only COMPLETE images can be shared (upload_status is "
                                         f"{image['upload_status']})."]})
            target = self.settings.orgs.get(data["target_org"])
            if target is None:
                raise invalid({"target_org": [f"Organization {data['target_org']!r} does not exist."]})
            if target.name == principal.org.name:
                raise invalid({"target_org": ["An image cannot be shared with its own organization."]})
            expires = data.get("expires_at", now + SHARE_TTL)
            if expires <= now:
                raise invalid({"expires_at": ["Expiration must be in the future."]})
            for share in self.store.all_shares(principal.org.name):
                if share["image"] == image["id"] and share["target_org"] == target.name and \
                        self.share_state(share) == "ACTIVE":
                    raise invalid({"non_field_errors": [
                        f"An active share of this image with {target.name!r} already exists ({share['id']})."]})
            share = {
                "id": str(uuid.uuid4()), "created": now, "modified": now, "image": image["id"],
                "image_name": image["name"], "image_version": image["version"],
                "source_org_display_name": principal.org.display_name,
                "target_org_display_name": target.display_name, "target_org": target.name, "claimed_by": "",
                "state": "ACTIVE", "expires_at": expires, "_org": principal.org.name,
            }
            self.store.put_share(share)
            self.history.record(image, principal, f"Shared with {target.display_name} ({target.name}) as share "
                                f"{share['id']}, expires {v.iso(expires)}.", "sharing")
        return share

    def delete_share(self, share_id: str, principal) -> None:
        with self.store.tx():
            share = self.get_share(share_id, principal)
            if share["state"] == "CLAIMED":
                raise invalid(detail="A claimed image share cannot be deleted.")
            self.store.delete_share(share["id"])
            image = self.store.get_image(share["image"])
            if image is not None:
                self.history.record(image, principal, f"Share {share['id']} with {share['target_org_display_name']} "
                                    f"({share['target_org']}) revoked.", "sharing")

    def claim(self, body, principal) -> dict:
        if not (principal.can("image_claiming") or principal.can("image_write")):
            raise forbidden("You do not have permission to perform this action (requires scope "
                            "air:image_claiming or air:image_write).")
        data = v.clean(body, dict(RENAME, image_share=v.uuid_string), required=("image_share",))
        with self.store.tx():
            share = self.store.get_share(data["image_share"])
            if share is None or share["target_org"] != principal.org.name:
                raise invalid({"image_share": ["No image share with this id is addressed to your organization."]})
            state = self.share_state(share)
            if state == "CLAIMED":
                raise invalid({"image_share": ["This image share has already been claimed."]})
            if state == "EXPIRED":
                raise invalid({"image_share": ["This image share has expired."]})
            source = self.store.get_image(share["image"])
            if source is None or source["upload_status"] not in HAS_CONTENT:
                raise invalid({"image_share": ["The shared image is no longer available."]})
            name, version = data.get("name", source["name"]), data.get("version", source["version"])
            if self._name_taken(principal.org.name, name, version):
                raise invalid({"non_field_errors": [DUPLICATE]},
                              f"An image named {name!r} version {version!r} already exists in your organization; "
                              "claim it under another name or version.")
            now = self.clock.now()
            copy = {f: source[f] for f in COPIED_FIELDS}
            key = f"images/claimed/{uuid.uuid4()}"
            self.storage.copy_object(source["_object_key"], key)
            copy.update(
                id=str(uuid.uuid4()), name=name, version=version, created=now, modified=now,
                creator=principal.email, published=False, publicly_published=False,
                publish_access_record_id=None, upload_status="COPYING_FROM_IMAGE_SHARE", last_uploaded_at=None,
                size=0, hash="", _org=principal.org.name, _allowed_orgs=[], _object_key=key,
                _declared={"hash": source["hash"], "size": source["size"]}, _claimed_from=share["id"],
            )
            self.store.put_image(copy)
            share.update(state="CLAIMED", claimed_by=principal.email, modified=now)
            self.store.put_share(share)
            self.store.schedule(copy["id"], "copy", now + self.settings.transition_delay)
            self.history.record(source, principal, f"Share {share['id']} claimed by {principal.org.display_name} "
                                f"({principal.org.name}).", "sharing")
            self.history.record(copy, principal, f"Image {name!r} version {version!r} created by claiming share "
                                f"{share['id']} from {share['source_org_display_name']}; copying its file.",
                                "image", "sharing")
        return copy

    # ---------------------------------------------------- background transitions
    def start_worker(self) -> None:
        self._worker = threading.Thread(target=self._run_worker, name="air-emulator-jobs", daemon=True)
        self._worker.start()

    def stop_worker(self) -> None:
        self._stop.set()
        if self._worker:
            self._worker.join(timeout=10)

    def _run_worker(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.run_due_jobs()
            except Exception:  # keep the emulator alive; the job stays queued
                log.exception("background job failed")

    def run_due_jobs(self) -> None:
        for image_id, action in self.store.due_jobs(self.clock.now()):
            getattr(self, f"_job_{action}")(image_id)
            self.store.finish_job(image_id, action)

    def _job_validate(self, image_id: str) -> None:
        image = self.store.get_image(image_id)
        if image is None or image["upload_status"] != "VALIDATING":
            return
        digest, size = hashlib.sha256(), 0
        for block in self.storage.read_object(image["_object_key"]):  # outside the lock: may take seconds
            digest.update(block)
            size += len(block)
        with self.store.tx():
            image = self.store.get_image(image_id)
            if image is None or image["upload_status"] != "VALIDATING":
                return
            declared = image["_declared"]
            if digest.hexdigest() == declared["hash"] and size == declared["size"]:
                image.update(upload_status="COMPLETE", hash=declared["hash"], size=size,
                             last_uploaded_at=self.clock.now(), _validation_error=None)
                self.history.record(image, None, f"Validation passed (sha256 {declared['hash']}, {size} bytes); "
                                    "the image is COMPLETE.", "validation")
            else:
                reason = (f"size {size} != declared {declared['size']}" if size != declared["size"]
                          else f"sha256 {digest.hexdigest()} != declared {declared['hash']}")
                self._drop_object(image)
                image["_validation_error"] = reason
                self.history.record(image, None, f"Validation failed: {reason}; the file was discarded and the "
                                    "image is READY again.", "validation", severity="ERROR")
            self.store.put_image(self._touch(image))

    # Publishing owns the publish pipeline's end (image and publish access record together).
    def _job_publish(self, image_id: str) -> None:
        self.publishing.finish_publish(image_id)

    def _job_unpublish(self, image_id: str) -> None:
        self.publishing.finish_unpublish(image_id)

    def _job_copy(self, image_id: str) -> None:
        with self.store.tx():
            image = self.store.get_image(image_id)
            if image is None or image["upload_status"] != "COPYING_FROM_IMAGE_SHARE":
                return
            declared = image["_declared"]
            image.update(upload_status="COMPLETE", hash=declared["hash"], size=declared["size"],
                         last_uploaded_at=self.clock.now())
            self.store.put_image(self._touch(image))
            self.history.record(image, None, f"Copy from the image share finished (sha256 {declared['hash']}, "
                                f"{declared['size']} bytes); the image is COMPLETE.", "sharing")


def _update_text(changed: list, before: tuple, image: dict) -> str:
    """An update's history text: the fields that changed (never a value: default_password is one), and a
    rename as from -> to."""
    text = f"Updated {', '.join(changed)}."
    if before != (image["name"], image["version"]):
        text += (f" Renamed from {before[0]!r} version {before[1]!r} to {image['name']!r} version "
                 f"{image['version']!r}.")
    return text


def _in_use_text(image: dict) -> str:
    instances = image.get("_in_use") or []
    named = ", ".join(f"{i['type']} {i.get('name') or i['id']}" for i in instances[:3])
    more = f" and {len(instances) - 3} more" if len(instances) > 3 else ""
    return f"{len(instances)} object{'s' if len(instances) != 1 else ''} ({named}{more})"


def _protected_error(image: dict) -> ApiError:
    """400 PROTECTED for a published image or one in use; ``protected_instances`` lists what holds it."""
    reasons = []
    if image["published"]:
        reasons.append("it is published; unpublish it first")
    if image.get("_in_use"):
        reasons.append(f"it is in use by {_in_use_text(image)}")
    return ApiError(400, f"Cannot delete the image: {' and '.join(reasons)}.", type="PROTECTED",
                    protected_instances=list(image.get("_in_use") or []))


def _instance_list(value) -> list[dict]:
    """What holds an image: objects with ``type`` (default ``node``), ``id`` (default a new UUID), optional
    ``name`` and ``simulation``; every value a non-blank string of at most 128 characters."""
    if not isinstance(value, list):
        raise invalid({"instances": ["Expected a list of objects."]})
    instances = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"type", "id", "name", "simulation"}:
            raise invalid({"instances": ["Each instance is an object with the keys type, id, name and "
                                         "simulation (all optional)."]})
        instance = {"type": "node", "id": str(uuid.uuid4())}
        for key, text in item.items():
            if not isinstance(text, str) or not text.strip() or len(text) > 128:
                raise invalid({"instances": [f"{key} must be a non-blank string of at most 128 characters."]})
            instance[key] = text
        instances.append(instance)
    return instances


def _hash_field(value):
    if not isinstance(value, str) or not v.HASH_RE.match(value):
        raise FieldError("Enter a valid SHA-256 hex digest (64 hexadecimal characters).")
    return value


def _part_list(value):
    if not isinstance(value, list) or not value:
        raise FieldError("Expected a non-empty list of {part_number, etag} objects.")
    parts = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"part_number", "etag"}:
            raise FieldError("Each part must be an object with exactly the keys part_number and etag.")
        number, etag = item["part_number"], item["etag"]
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise FieldError("part_number must be an integer >= 1.")
        if not isinstance(etag, str) or not etag.strip('" '):
            raise FieldError("etag must be a non-empty string.")
        parts.append({"part_number": number, "etag": etag})
    return parts
