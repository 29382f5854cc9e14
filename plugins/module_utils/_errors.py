# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Errors raised by the nvidia.air client.

Every error carries the step that failed (lookup, create, hash, start-upload,
part N, complete, validate, publish, share, claim ...), the HTTP status, the
API's detail and field errors and the request id. Messages are scrubbed: no
token, password or presigned-URL query string ever reaches ``str(error)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re
import threading

from urllib.parse import quote, quote_plus

MASK = "********"

# A query string with at least one key=value pair, in an absolute URL or a
# bare path ("url: /_s3/bucket/key?X-Amz-Signature=..." in urllib3 messages).
_QUERY_RE = re.compile(r"\?[A-Za-z0-9_.~%-]+=[^\s'\"<>)\]]*")
# ``user:password@`` in an authority (``scheme://user:password@host``).
_USERINFO_RE = re.compile(r"(//)[^/@\s]*@")

# The same query string URL-encoded inside another URL or a form (``%3FX-Amz-Signature%3D...``).
_ENCODED_QUERY_RE = re.compile(r"%3F[A-Za-z0-9_.~-]+%3D[^\s'\"<>)\]&]*", re.IGNORECASE)
_PERCENT_RE = re.compile(r"%[0-9A-F]{2}")

_secrets_lock = threading.Lock()
_secrets = set()


def secret_forms(value):
    """Every text in which ``value`` can reach a message: as it is and without surrounding white space, escaped
    (``repr``, JSON, ``\\n``), URL-encoded (either case of hex digits), and in a Basic auth header dump."""
    forms = set()
    for text in (value, value.strip()):
        forms.update((text, repr(text)[1:-1], json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1],
                      text.encode("unicode_escape").decode("ascii")))
        for encoded in (quote(text, safe=""), quote(text), quote_plus(text)):
            forms.update((encoded, _PERCENT_RE.sub(lambda match: match.group(0).lower(), encoded)))
        forms.add(base64.b64encode(text.encode("utf-8")).decode("ascii"))
    return set(form for form in forms if len(form) >= 4)


def register_secret(value):
    """Mask ``value`` wherever it appears in later error messages, in any of its ``secret_forms``."""
    if value and isinstance(value, str) and len(value.strip()) >= 4:
        with _secrets_lock:
            _secrets.update(secret_forms(value))


def redact(text):
    """Strip URL query strings, ``user:password@`` in URLs and every registered secret from ``text``."""
    if text is None:
        return None
    text = _QUERY_RE.sub("?<redacted>", str(text))
    text = _ENCODED_QUERY_RE.sub("%3F<redacted>", text)
    text = _USERINFO_RE.sub(r"\1" + MASK + "@", text)
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def redact_url(url):
    """``scheme://host/path`` without the query string (presigned URLs are credentials)
    and without a ``user:password@`` part."""
    if not url:
        return url
    return redact(str(url).split("?", 1)[0])


class AirError(Exception):
    """Base class: something the user should read, never a traceback."""

    def __init__(self, message, step=None, status=None, detail=None, field_errors=None, request_id=None,
                 image_id=None, image=None, hint=None, retry_after=None):
        self.message = redact(message)
        self.step = step
        self.status = status
        self.detail = redact(detail)
        self.field_errors = dict((k, [redact(m) for m in v]) for k, v in (field_errors or {}).items())
        self.request_id = request_id
        self.image_id = image_id
        self.image = image  # "name version" for messages
        self.hint = redact(hint)
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After)
        self.attempts = None  # set by the retry loop when it gave up after several tries
        super(AirError, self).__init__(self.message)

    def __str__(self):
        parts = []
        if self.step:
            parts.append("%s failed" % self.step)
        named = self.image or self.image_id
        mentioned = any(n and n in self.message for n in (self.image, self.image_id))
        if named and not mentioned:
            parts.append("for image %s" % named)
        head = " ".join(parts)
        text = "%s: %s" % (head, self.message) if head else self.message
        if self.status:
            text += " (HTTP %s)" % self.status
        if self.attempts:
            text += " (after %d attempts)" % self.attempts
        if self.field_errors:
            text += " [%s]" % "; ".join("%s: %s" % (k, " ".join(v)) for k, v in sorted(self.field_errors.items()))
        if self.request_id:
            text += " (request id %s)" % self.request_id
        if self.hint:
            text += ". " + self.hint
        return text

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, str(self))

    def to_failure(self):
        """Structured ``failure`` entry for module results."""
        return {
            "type": type(self).__name__,
            "step": self.step,
            "status": self.status,
            "message": self.message,
            "detail": self.detail,
            "field_errors": self.field_errors,
            "request_id": self.request_id,
            "image_id": self.image_id,
            "attempts": self.attempts,
        }


class AirInputError(AirError):
    """Bad input found before anything was sent."""


class AirConfigError(AirError):
    """Missing or ambiguous credentials or settings."""


class AirConnectionError(AirError):
    """The API or the storage endpoint could not be reached."""


class AirTlsError(AirConnectionError):
    """TLS verification failed: retrying cannot help, a setting must change."""


class AirApiError(AirError):
    """The Air API answered with an error status."""


class AirAuthError(AirApiError):
    """401/403 from the Air API: the token is missing, invalid or lacks a scope."""


class AirNotFoundError(AirApiError):
    """404 from the Air API."""


class AirProtectedError(AirApiError):
    """400 ``PROTECTED``: the API refuses to delete an object that others still reference.

    ``protected_instances`` is the API's list of those objects (for an image in use, for example the
    simulation nodes running it; empty when the API gives none, e.g. for a published image).
    """

    def __init__(self, message, protected_instances=None, **kwargs):
        self.protected_instances = list(protected_instances or [])
        super(AirProtectedError, self).__init__(message, **kwargs)

    def to_failure(self):
        failure = super(AirProtectedError, self).to_failure()
        failure["protected_instances"] = self.protected_instances
        return failure


class AirStorageError(AirError):
    """A presigned-URL part upload was refused by the storage endpoint."""

    def __init__(self, message, part_number=None, code=None, **kwargs):
        self.part_number = part_number
        self.code = code
        super(AirStorageError, self).__init__(message, **kwargs)

    def to_failure(self):
        failure = super(AirStorageError, self).to_failure()
        failure.update(part_number=self.part_number, storage_code=self.code)
        return failure


class AirUrlExpiredError(AirStorageError):
    """The storage endpoint says the presigned part URL has expired."""


class AirUploadError(AirError):
    """An upload attempt ended; ``aborted`` tells whether abort-upload succeeded."""

    def __init__(self, message, aborted=None, stats=None, cause=None, **kwargs):
        self.aborted = aborted
        self.stats = stats
        self.cause = cause  # the error that ended the attempt (e.g. an AirUrlExpiredError)
        super(AirUploadError, self).__init__(message, **kwargs)

    def to_failure(self):
        failure = super(AirUploadError, self).to_failure()
        failure["upload_aborted"] = self.aborted
        if isinstance(self.cause, AirStorageError):
            failure.update(part_number=self.cause.part_number, storage_code=self.cause.code,
                           url_expired=isinstance(self.cause, AirUrlExpiredError))
        return failure


class AirValidationError(AirUploadError):
    """The server's validation rejected the uploaded file (image back to READY)."""


class AirFileChangedError(AirUploadError):
    """The local file changed while it was being uploaded."""


class AirPublishRequestError(AirError):
    """A publish access record stands in the way: the reviewer denied this request, or another one is open.

    ``record`` is that record's result dict (id, status, reviewer, ``denial_reason`` ...).
    """

    def __init__(self, message, record=None, **kwargs):
        self.record = record or {}
        super(AirPublishRequestError, self).__init__(message, **kwargs)

    def to_failure(self):
        failure = super(AirPublishRequestError, self).to_failure()
        failure.update(publish_access_record_id=self.record.get("id"),
                       publish_access_record_status=self.record.get("status"),
                       denial_reason=self.record.get("denial_reason") or None)
        return failure


class AirTimeoutError(AirError):
    """A wait ran out; ``last_status`` is what was seen last."""

    def __init__(self, message, last_status=None, **kwargs):
        self.last_status = last_status
        super(AirTimeoutError, self).__init__(message, **kwargs)

    def to_failure(self):
        failure = super(AirTimeoutError, self).to_failure()
        failure["last_status"] = self.last_status
        return failure
