# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Publication as a desired state: what a task wants, what the owner can read, and the one step to take.

Pure logic (no HTTP); ``air_image`` reads the image and its publish access
records (PARs) and makes the calls.

What the owner of an image can read: ``published`` and
``publicly_published`` on the image, and the PARs, which show everything but
the effective allow-list (``allowed_orgs`` is null for everyone but Air
reviewers, contract section 10). So the allow-list is tracked through what
was asked for: every restricted publication or request made here names the
organizations on one line,

    Allowed organizations (nvidia.air): partner-org (<org id>), <org id>

in the request's ``allowed_orgs_request_text`` where the call has that field
(``request-publish``, ``request-allowlist-change``) and at the end of the
justification where it has not (direct ``publish``, whose justification the
API documents as "who/why to share with", and ``request-public``). A reviewer
needs that list anyway; later runs read it back from the approved record that
governs the image (``PublishingApi.live_record``). An allow-list a reviewer
approved differently, or changed later with ``set-visibility``, cannot be seen
by the owner.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError, AirPublishRequestError

ALLOW_LIST_LABEL = "Allowed organizations (nvidia.air):"
OWNER_ONLY = "none besides the owning organization"
MAX_JUSTIFICATION = 2048
MAX_REQUEST_TEXT = 4096
_ID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

PUBLISH, UNPUBLISH, ELEVATE, RESTRICT, ALLOWLIST = "publish", "unpublish", "elevate", "restrict", "allowlist"
# The goal each pending PAR status asks for, and the status a request for a goal creates.
PENDING_GOAL = {"PENDING": PUBLISH, "PENDING_UNPUBLISH": UNPUBLISH, "PENDING_ELEVATION": ELEVATE,
                "PENDING_RESTRICTION": RESTRICT, "PENDING_ALLOWLIST": ALLOWLIST}
REQUEST_STATUS = dict((goal, status) for status, goal in PENDING_GOAL.items())
# The image's upload_status while a request of that goal is pending (visibility requests leave it COMPLETE).
REQUEST_UPLOAD_STATUS = {PUBLISH: "PENDING_PUBLISH", UNPUBLISH: "PENDING_UNPUBLISH"}
VISIBILITY_GOALS = (ELEVATE, RESTRICT, ALLOWLIST)


# --------------------------------------------------------------- allow-list line
def allow_list_line(orgs):
    """The line that names an allow-list: ``orgs`` is ``[(label or None, org id)]``."""
    if not orgs:
        return "%s %s" % (ALLOW_LIST_LABEL, OWNER_ONLY)
    return "%s %s" % (ALLOW_LIST_LABEL, ", ".join("%s (%s)" % (label, org_id) if label else org_id
                                                  for label, org_id in orgs))


def allow_list_in(text):
    """Sorted org ids of the last allow-list line in ``text``; None when it has none."""
    found = None
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith(ALLOW_LIST_LABEL):
            found = sorted(set(org_id.lower() for org_id in _ID_RE.findall(line[len(ALLOW_LIST_LABEL):])))
    return found


def allow_list_of(record):
    """The allow-list a record asked for (its request text, else its justification); None if it names none."""
    if record is None:
        return None
    found = allow_list_in(record.allowed_orgs_request_text)
    return found if found is not None else allow_list_in(record.justification)


def with_allow_list(justification, line):
    """The justification with the allow-list line at its end."""
    text = (justification or "").rstrip()
    return "%s\n\n%s" % (text, line) if text else line


# ------------------------------------------------------------------- the task
class Desired:
    """What a task asks for.

    ``published`` True or False; ``visibility`` ``public``, ``restricted`` or
    None (leave it alone; a new publication gets the API's default, public);
    ``allowed`` ``[(label or None, org id)]`` or None (leave the allow-list
    alone; a new restricted publication is then visible to the owner only);
    renames are ``(name, version)`` with None for the part kept.
    """

    def __init__(self, published, visibility=None, allowed=None, justification=None, publish_rename=(None, None),
                 unpublish_rename=(None, None)):
        self.published = published
        self.visibility = visibility
        self.allowed = allowed
        self.justification = justification
        self.publish_rename = publish_rename
        self.unpublish_rename = unpublish_rename

    @property
    def allowed_ids(self):
        return None if self.allowed is None else sorted(set(org_id for _label, org_id in self.allowed))


class Goal:
    """One change of an image's publication, whether made directly or requested.

    ``public``: the visibility asked for (None: the API's default); ``allowed``:
    ``[(label, id)]`` for a restricted visibility (None: not given);
    ``rename``: ``(name, version)`` the image gets with the change.
    """

    def __init__(self, kind, public=None, allowed=None, rename=(None, None)):
        self.kind = kind
        self.public = public
        self.allowed = allowed
        self.rename = rename

    @property
    def allowed_ids(self):
        return None if self.allowed is None else sorted(set(org_id for _label, org_id in self.allowed))

    @property
    def restricted(self):
        return self.public is False

    def target_name(self, image):
        """(name, version) of the image once the change is made."""
        name, version = self.rename
        return (name or image.name, version or image.version)

    def allow_list_line(self):
        return allow_list_line(self.allowed or [])

    def describe(self, label=None):
        """What the change does to the image called ``label`` ("it" without one), as a verb phrase."""
        image = "image %s" % label if label else "it"
        if self.kind == PUBLISH:
            return "publish %s %s" % (image, self.visibility_text())
        if self.kind == UNPUBLISH:
            return "unpublish %s" % image
        if self.kind == ELEVATE:
            return "make %s public" % image
        if self.kind == RESTRICT:
            return "restrict %s to %s" % (image, self.orgs_text())
        return "change the allow-list of %s to %s" % (image, self.orgs_text())

    def visibility_text(self):
        if self.public is not False:
            return "(public)"
        return "restricted to " + self.orgs_text()

    def orgs_text(self):
        if self.allowed is None:
            return "the organizations a reviewer chooses"
        return allow_list_line(self.allowed)[len(ALLOW_LIST_LABEL) + 1:]

    def matches(self, record, image):
        """Whether the pending ``record`` asks for this change (the justification may differ)."""
        if PENDING_GOAL.get(record.status) != self.kind:
            return False
        if self.kind in (PUBLISH, UNPUBLISH) and (record.image_name, record.image_version) != self.target_name(image):
            return False
        if self.kind == PUBLISH and self.public is not None and record.prefer_public != self.public:
            return False
        if self.restricted and self.allowed is not None:
            return allow_list_of(record) == self.allowed_ids
        return True


class Plan:
    """What to do: withdraw ``cancel`` (a pending record), then make ``goal`` (directly or by request).

    ``waiting`` is a pending record left as it is: it asks for what the task
    wants (or for something the task leaves alone). ``record`` is the image's
    record the plan was made from; the caller fills in ``method``
    (``direct`` or ``request``) and ``call`` (``direct_call`` or
    ``request_call``) once it knows the token's scopes.
    """

    def __init__(self, goal=None, cancel=None, waiting=None, record=None):
        self.goal = goal
        self.cancel = cancel
        self.waiting = waiting
        self.record = record
        self.method = None
        self.call = None


def wanted(image, desired, known_allow_list):
    """The change that brings the settled publication of ``image`` to ``desired``, or None.

    Pending requests are ignored here (``plan`` weighs them).
    ``known_allow_list()`` returns the allow-list last asked for (sorted ids,
    None if unknown); it is called only when the comparison needs it.
    """
    if not desired.published:
        return Goal(UNPUBLISH, rename=desired.unpublish_rename) if image.published else None
    if not image.published:
        public = None if desired.visibility is None else desired.visibility == "public"
        return Goal(PUBLISH, public=public, allowed=None if public else desired.allowed,
                    rename=desired.publish_rename)
    if desired.visibility is None:
        return None
    if desired.visibility == "public":
        return None if image.publicly_published else Goal(ELEVATE, public=True)
    if image.publicly_published:
        return Goal(RESTRICT, public=False, allowed=desired.allowed)
    if desired.allowed is None or known_allow_list() == desired.allowed_ids:
        return None
    return Goal(ALLOWLIST, public=False, allowed=desired.allowed)


def _concerns(goal_kind, desired):
    """Whether a pending request of ``goal_kind`` is about something the task sets."""
    if goal_kind in (PUBLISH, UNPUBLISH):
        return True
    if goal_kind == ALLOWLIST:
        return desired.allowed is not None
    return desired.visibility is not None


def plan(image, record, desired, known_allow_list):
    """The ``Plan`` for ``image``, whose record (``publish_access_record_id``) is ``record``.

    A pending request that asks for the wanted change is waited for (a request
    is sent once); one that works against what the task sets is withdrawn when
    nothing else is wanted; any other pending request is a conflict, reported
    with its id before anything is written.
    """
    if image.upload_status in ("PUBLISHING", "UNPUBLISHING"):
        if (image.upload_status == "PUBLISHING") == bool(desired.published):
            return Plan(waiting=record, record=record)  # the pipeline already goes where the task wants
        raise AirPublishRequestError(
            "image %s is %s; wait until it has finished (wait: true) before changing its publication"
            % (image.label, image.upload_status), record=record.to_result() if record else None,
            step="publish" if desired.published else "unpublish", image_id=image.id)
    goal = wanted(image, desired, known_allow_list)
    pending = record if record is not None and record.is_pending else None
    if pending is None:
        return Plan(goal=goal, record=record)
    if goal is not None and goal.matches(pending, image):
        return Plan(waiting=pending, record=record)
    if goal is None:
        if _concerns(PENDING_GOAL[pending.status], desired):
            return Plan(cancel=pending, record=record)
        return Plan(waiting=pending, record=record)
    raise AirPublishRequestError(
        "image %s has an open publish request %s (%s) that a reviewer has not answered yet; this task wants to %s. "
        "Wait for the review, or withdraw the request first (published: false withdraws a publish request; "
        "running with the image's current visibility withdraws a visibility request)"
        % (image.label, pending.id, pending.status, goal.describe()),
        record=pending.to_result(), step="publish" if desired.published else "unpublish", image_id=image.id)


# ------------------------------------------------------------------ the calls
def request_call(goal, image, justification):
    """``(PublishingApi method name, keyword arguments)`` of the request for ``goal``."""
    if goal.kind == PUBLISH:
        text = goal.allow_list_line() if goal.restricted else None
        return "request_publish", dict(justification=justification, prefer_public=goal.public,
                                       allowed_orgs_request_text=text, name=goal.rename[0], version=goal.rename[1])
    if goal.kind == UNPUBLISH:
        return "request_unpublish", dict(justification=justification, name=goal.rename[0], version=goal.rename[1])
    if goal.kind == ELEVATE:
        return "request_public", dict(prefer_public=True, justification=justification)
    if goal.kind == RESTRICT:
        return "request_public", dict(prefer_public=False,
                                      justification=with_allow_list(justification, goal.allow_list_line()))
    return "request_allowlist_change", dict(justification=justification,
                                            allowed_orgs_request_text=goal.allow_list_line())


def direct_call(goal, justification):
    """``(PublishingApi method name, keyword arguments)`` of the direct call for ``goal`` (publish/unpublish)."""
    name, version = goal.rename
    if goal.kind == UNPUBLISH:
        return "unpublish", dict(name=name, version=version)
    if not goal.restricted:
        return "publish", dict(name=name, version=version, prefer_public=goal.public,
                               justification=justification or None)
    return "publish", dict(name=name, version=version, prefer_public=False, allowed_orgs=goal.allowed_ids or [],
                           justification=with_allow_list(justification, goal.allow_list_line()))


def check_call_texts(call):
    """Refuse texts the API would refuse for their length (the allow-list line counts), before any write."""
    _method, kwargs = call
    for field, limit, option in (("justification", MAX_JUSTIFICATION, "justification"),
                                 ("allowed_orgs_request_text", MAX_REQUEST_TEXT, "allowed_orgs")):
        text = kwargs.get(field) or ""
        if len(text) > limit:
            raise AirInputError(
                "%s: the %s sent would be %d characters long, more than the API's %d (the line naming the allowed "
                "organizations counts); %s" % (
                    option, field, len(text), limit,
                    "shorten the justification or list fewer organizations" if option == "justification"
                    else "list fewer organizations"), step="check options")


def prefer_public_of(goal, image):
    """The ``prefer_public`` a request for ``goal`` records (request-unpublish records the image's visibility)."""
    if goal.kind == UNPUBLISH:
        return bool(image.publicly_published)
    if goal.kind in (ELEVATE,):
        return True
    if goal.kind in (RESTRICT, ALLOWLIST):
        return False
    return True if goal.public is None else goal.public


def denied_again(record, goal, image, call):
    """Whether ``record`` is a denied request that asked exactly what ``call`` would ask again.

    Same justification, same request text, same visibility and the same name:
    sending it again would only repeat the question the reviewer answered.
    """
    if record is None or record.status != "DENIED":
        return False
    _method, kwargs = call
    target = goal.target_name(image) if goal.kind in (PUBLISH, UNPUBLISH) else (image.name, image.version)
    return (record.justification or "") == (kwargs.get("justification") or "") \
        and (record.allowed_orgs_request_text or "") == (kwargs.get("allowed_orgs_request_text") or "") \
        and bool(record.prefer_public) == prefer_public_of(goal, image) \
        and (record.image_name, record.image_version) == target


def denied_error(record, goal, image):
    reviewer = record.reviewed_by or "an Air reviewer"
    reason = record.denial_reason or "no reason given"
    message = ("%s denied publish request %s for image %s (to %s): %s. The same request is not sent again; change "
               "the justification (or what is asked for) to ask again"
               % (reviewer, record.id, image.label, goal.describe(), reason))
    return AirPublishRequestError(message, record=record.to_result(), step="publish request", image_id=image.id)


# ------------------------------------------------------------- check mode
def predicted_record(goal, image, call, status):
    """The record a call would create (check mode): the fields the caller knows."""
    _method, kwargs = call
    name, version = goal.target_name(image) if goal.kind in (PUBLISH, UNPUBLISH) else (image.name, image.version)
    return {
        "id": None, "created": None, "modified": None, "image": image.id, "image_name": name,
        "image_version": version, "requested_by": None, "requested_at": None, "requesting_org": None,
        "requesting_org_display_name": None, "requesting_org_ngc_org_name": None, "reviewed_by": None,
        "reviewed_at": None, "status": status, "publicly_published": bool(image.published and image.publicly_published),
        "prefer_public": prefer_public_of(goal, image), "justification": kwargs.get("justification") or "",
        "allowed_orgs_request_text": kwargs.get("allowed_orgs_request_text") or "", "allowed_orgs": None,
        "denial_reason": "",
    }
