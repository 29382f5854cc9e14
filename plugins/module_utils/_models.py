# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Image, ImageShare, OSImageManifest, PublishAccessRecord, HistoryEntry and MinimumResources: API JSON in, Ansible
results out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.nvidia.air.plugins.module_utils._dates import parse_datetime
from ansible_collections.nvidia.air.plugins.module_utils._errors import MASK, AirInputError

# Air ids (images, shares, organizations, publish access records) are UUIDs.
# Used with fullmatch: "$" would also accept a trailing newline ("<id>\n" read from a file).
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Upload states grouped by what they mean for a caller.
UPLOADED_STATES = frozenset(("COMPLETE", "PUBLISHING", "UNPUBLISHING", "PENDING_PUBLISH", "PENDING_UNPUBLISH"))
TRANSIENT_STATES = frozenset(("UPLOADING", "VALIDATING", "PUBLISHING", "UNPUBLISHING", "COPYING_FROM_IMAGE_SHARE"))
# States the server leaves by itself (an UPLOADING image waits for its client).
SETTLING_STATES = TRANSIENT_STATES - frozenset(("UPLOADING",))

# Fields a user can set on an image (create and PATCH), in result order.
WRITABLE_FIELDS = (
    "name", "version", "default_username", "default_password", "mountpoint", "minimum_resources",
    "includes_air_agent", "cpu_arch", "emulation_type", "emulation_version", "provider", "notes",
    "release_notes", "user_manual",
)
IMAGE_FIELDS = (
    "id", "name", "version", "created", "modified", "creator", "default_username", "default_password",
    "mountpoint", "minimum_resources", "includes_air_agent", "cpu_arch", "emulation_type", "emulation_version",
    "provider", "published", "publicly_published", "publish_access_record_id", "upload_status",
    "last_uploaded_at", "size", "hash", "is_owned_by_client", "notes", "release_notes", "user_manual",
)
SHARE_FIELDS = (
    "id", "created", "modified", "image", "image_name", "image_version", "source_org_display_name",
    "target_org_display_name", "target_org", "claimed_by", "state", "expires_at",
)
MANIFEST_FIELDS = (
    "id", "created", "modified", "image", "os_type", "creator", "os_template_partition", "capabilities", "platforms",
)
# The two pins of each hardware model in a manifest's ``platforms`` (nv-air-sdk 1.9.0 ``OSImageManifestPlatform``;
# null = not pinned).
PIN_KEYS = ("platform_information_version", "os_template_version")
# Capability keys the Air API accepts (nv-air-sdk 1.9.0 ``OSImageCapabilities``); it refuses any other key.
CAPABILITY_KEYS = ("vsock",)
# Publish access record (SDK 1.9.0 ImagePublishAccessRecord, contract section 10), in result order.
PAR_FIELDS = (
    "id", "created", "modified", "image", "image_name", "image_version", "requested_by", "requested_at",
    "requesting_org", "requesting_org_display_name", "requesting_org_ngc_org_name", "reviewed_by", "reviewed_at",
    "status", "publicly_published", "prefer_public", "justification", "allowed_orgs_request_text", "allowed_orgs",
    "denial_reason",
)
PAR_STATUSES = ("PENDING", "PENDING_ELEVATION", "PENDING_RESTRICTION", "PENDING_UNPUBLISH", "PENDING_ALLOWLIST",
                "APPROVED_PENDING_IMAGE_PUBLISH", "APPROVED", "DENIED", "REMOVED", "CANCELLED")
# Waiting for a reviewer (what cancel withdraws), and open: the API refuses other publishing calls (409).
PAR_PENDING_STATUSES = frozenset(PAR_STATUSES[:5])
PAR_OPEN_STATUSES = PAR_PENDING_STATUSES | frozenset(("APPROVED_PENDING_IMAGE_PUBLISH",))
SECRET_FIELDS = frozenset(("default_password",))
# Lists whose order carries no meaning are compared as sets.
SET_FIELDS = frozenset(("emulation_type",))


def check_id(value, option):
    """``value`` if it is an Air id (a UUID), else ``AirInputError`` naming ``option``.

    Ids end up in URL paths: anything else (``../images/<id>``) is refused
    before a request is made.
    """
    if not isinstance(value, str) or not UUID_RE.fullmatch(value):
        raise AirInputError("%s must be an Air id (a UUID such as 935b994e-9e1e-4d85-9275-10f7b3111cd9), got %r"
                            % (option, value), step="check options")
    return value.lower()


def empty_entry(option, items, index, given=None):
    """``AirInputError`` for the empty entry ``index`` of list option ``option``, named as the user wrote it.

    ``given`` is the option as the task wrote it: a survey answer ``"partner-org,"`` arrives as the list
    ``["partner-org", ""]``; the message quotes that text and says where the empty entry is.
    """
    written = " %r" % given if isinstance(given, str) else ""
    where = "after %r" % (items[index - 1],) if index else "at the start"
    return AirInputError("%s%s has an empty entry %s (entry %d of %d); remove the comma too many"
                         % (option, written, where, index + 1, len(items)), step="check options")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class MinimumResources:
    KEYS = ("cpu", "memory", "storage")

    def __init__(self, cpu=None, memory=None, storage=None):
        self.cpu, self.memory, self.storage = cpu, memory, storage

    @classmethod
    def from_api(cls, data):
        data = data or {}
        return cls(**dict((k, data.get(k)) for k in cls.KEYS))

    def to_dict(self):
        return dict((k, getattr(self, k)) for k in self.KEYS)

    def __eq__(self, other):
        return isinstance(other, MinimumResources) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return "MinimumResources(cpu=%r, memory=%r, storage=%r)" % (self.cpu, self.memory, self.storage)


class _Model:
    FIELDS = ()

    def __init__(self, data):
        self.data = dict(data or {})

    @classmethod
    def from_api(cls, data):
        return cls(data)

    def __getattr__(self, name):
        if name in type(self).FIELDS:
            return self.data.get(name)
        raise AttributeError(name)

    def __eq__(self, other):
        return type(self) is type(other) and self.data == other.data


class Image(_Model):
    """An Air image as the API returned it (``data`` keeps every field, even unknown ones)."""

    FIELDS = IMAGE_FIELDS

    @property
    def minimum(self):
        return MinimumResources.from_api(self.data.get("minimum_resources"))

    @property
    def label(self):
        """How messages name this image: ``'name' version 'v' (id)``; one not created yet has no id to show."""
        if not self.id:
            return "%r version %r" % (self.name, self.version)
        return "%r version %r (%s)" % (self.name, self.version, self.id)

    @property
    def is_uploaded(self):
        return self.upload_status in UPLOADED_STATES

    def has_content(self, sha256, size):
        return self.is_uploaded and (self.hash or "").lower() == sha256.lower() and self.size == size

    def to_result(self):
        """Stable keys in contract order, ``default_password`` masked."""
        result = dict((name, self.data.get(name)) for name in IMAGE_FIELDS)
        for name in SECRET_FIELDS:
            if result.get(name):
                result[name] = MASK
        return result

    def __repr__(self):
        return "Image(%s, upload_status=%r)" % (self.label, self.upload_status)


class ImageShare(_Model):
    FIELDS = SHARE_FIELDS

    @property
    def expires(self):
        return parse_datetime(self.expires_at)

    def is_live(self, now=None):
        """ACTIVE and not yet expired: the only shares that still count."""
        if self.state != "ACTIVE":
            return False
        expires = self.expires
        return expires is None or expires > (now or utcnow())

    def to_result(self):
        return dict((name, self.data.get(name)) for name in SHARE_FIELDS)

    def __repr__(self):
        return "ImageShare(%s -> %s, state=%r)" % (self.id, self.target_org, self.state)


class OSImageManifest(_Model):
    """An OS image manifest: the hardware models one image runs on, with their pins (``manifests/os-images/``)."""

    FIELDS = MANIFEST_FIELDS

    def to_result(self):
        return dict((name, self.data.get(name)) for name in MANIFEST_FIELDS)

    def __repr__(self):
        return "OSImageManifest(%s of image %s, os_type=%r)" % (self.id, self.image, self.os_type)


def manifest_changes(current, desired, purge_platforms=False):
    """Fields of ``desired`` (None = leave alone) that differ from the manifest ``current``.

    Returns ``{field: (before, after)}`` where ``after`` is the whole value to
    PATCH (the API replaces ``platforms`` and ``capabilities`` whole). The
    models in ``desired["platforms"]`` are compared one by one; the other
    models are kept unless ``purge_platforms``. ``capabilities`` is the
    complete set.
    """
    changes = {}
    for field in ("platforms", "capabilities", "os_template_partition"):
        wanted, have = desired.get(field), current.data.get(field)
        if wanted is None:
            continue
        if field in ("platforms", "capabilities"):
            have = have or {}
        if field == "platforms":
            merged = {} if purge_platforms else dict(have)
            merged.update(wanted)
            wanted = merged
        if wanted != have:
            changes[field] = (have, wanted)
    return changes


class PublishAccessRecord(_Model):
    """A publish access record: one direct publish or one publishing request, and its review.

    ``allowed_orgs`` is null for everyone but Air reviewers (contract section 10).
    """

    FIELDS = PAR_FIELDS

    @property
    def is_pending(self):
        """Waiting for a reviewer."""
        return self.status in PAR_PENDING_STATUSES

    @property
    def is_open(self):
        """Pending, or approved with the publish pipeline still running: other publishing calls get 409."""
        return self.status in PAR_OPEN_STATUSES

    def to_result(self):
        return dict((name, self.data.get(name)) for name in PAR_FIELDS)

    def __repr__(self):
        return "PublishAccessRecord(%s, status=%r)" % (self.id, self.status)


def _normalise(field, value):
    if field in SET_FIELDS and isinstance(value, (list, tuple)):
        return sorted(set(value))
    return value


def image_changes(current, desired):
    """Fields of ``desired`` (None = leave alone) that differ from ``current``.

    Returns ``{field: (before, after)}`` where ``after`` is the value to send.
    ``minimum_resources`` may be partial: only the given keys are compared
    and the PATCH value is the current dict merged with them.
    """
    changes = {}
    for field, wanted in desired.items():
        if wanted is None or field not in WRITABLE_FIELDS:
            continue
        have = current.data.get(field) if isinstance(current, Image) else current.get(field)
        if field == "minimum_resources":
            merged = dict(have or {})
            merged.update(dict((k, v) for k, v in wanted.items() if v is not None))
            if merged != (have or {}):
                changes[field] = (have, merged)
            continue
        if _normalise(field, wanted) != _normalise(field, have):
            changes[field] = (have, wanted)
    return changes


def masked(field, value):
    """Value as it may appear in a diff or result."""
    if field in SECRET_FIELDS and value:
        return MASK
    return value


# An image's history entry (nv-air-sdk 1.9.0 ``HistoryEntry``), in result order, and what its list filters take.
HISTORY_FIELDS = ("created", "actor", "severity", "labels", "description", "object_id", "model")
HISTORY_SEVERITIES = ("INFO", "ERROR")
HISTORY_ORDERING = ("created", "-created", "actor", "-actor", "severity", "-severity")


class HistoryEntry(_Model):
    """One event of an image's history (``images/<id>/history/``); read-only, written by the API."""

    FIELDS = HISTORY_FIELDS

    def to_result(self):
        return dict((name, self.data.get(name)) for name in HISTORY_FIELDS)

    def __repr__(self):
        return "HistoryEntry(%s %s: %r)" % (self.created, self.severity, self.description)
