# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""HTTP transport of the Air API client: one session, one retry policy, pagination.

The per-resource helpers (``_api_images``, ``_api_shares``, ...) build on
``ApiTransport.request``, which decides what may be retried:

- idempotent calls retry 429, 500, 502, 503, 504 and lost connections;
- calls that are not idempotent retry only 429 (the server refused to act),
  unless they pass ``reconcile``: after a lost answer (connection error or
  5xx) that function looks at the server and returns the result if the first
  attempt took effect, so nothing is ever created twice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

from urllib.parse import urlsplit, urlunsplit

try:
    import requests

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirError,
    AirAuthError,
    AirConfigError,
    AirConnectionError,
    AirInputError,
    AirNotFoundError,
    AirProtectedError,
    AirTlsError,
    redact,
    redact_url,
)
from ansible_collections.nvidia.air.plugins.module_utils._retry import LOST_STATUSES, parse_retry_after

# No image has this id: the target of the scope probes (ApiTransport.allows).
NIL_ID = "00000000-0000-0000-0000-000000000000"

TOKEN_ENV = "AIR_API_TOKEN"
# One path segment: no slash, no dot segment, nothing that needs escaping.
_SEGMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")  # with fullmatch: no trailing newline either


def error_from_response(response, step, image=None, image_id=None):
    """An ``AirApiError`` (or subclass) from an API error response."""
    try:
        body = response.json()
    except ValueError:
        body = None
    request_id = response.headers.get("X-Request-ID")
    detail, fields = None, {}
    if isinstance(body, dict):
        detail = body.get("detail")
        request_id = body.get("request_id") or request_id
        for key, value in body.items():
            if key in ("detail", "request_id", "type", "protected_instances"):
                continue
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                fields[key] = value
            elif isinstance(value, str) and key == "non_field_errors":
                fields[key] = [value]
    if detail is None:
        text = (response.text or "").strip()
        detail = text[:300] if text and not text.startswith("<") else response.reason or "error"
    status = response.status_code
    cls = AirApiError
    if status in (401, 403):
        cls = AirAuthError
    elif status == 404:
        cls = AirNotFoundError
    hint = None
    if status == 401:
        hint = "Check api_token / %s" % TOKEN_ENV
    elif status == 403:
        hint = "The token is valid but not allowed to do this (scope or ownership)"
    extra = {}
    if status == 400 and isinstance(body, dict) and body.get("type") == "PROTECTED":
        cls = AirProtectedError
        instances = body.get("protected_instances")
        instances = instances if isinstance(instances, list) else []
        extra["protected_instances"] = [i for i in instances if isinstance(i, dict)]
    error = cls(str(detail), step=step, status=status, detail=detail, field_errors=fields,
                request_id=request_id, image=image, image_id=image_id, hint=hint,
                retry_after=parse_retry_after(response.headers.get("Retry-After")), **extra)
    error.body = body if isinstance(body, dict) else {}
    return error


def _local_reason(exc):
    """What a request refused locally says, without the value it refused (a header value may be the token)."""
    if isinstance(exc, UnicodeError):
        return "a header or the URL holds a character that HTTP cannot carry (%s)" % type(exc).__name__
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return "a header value holds white space or a line break at its start or end, or a character HTTP cannot carry"
    return str(exc)


def _as_step(error, step, method, parts):
    """``error`` of a scope probe as a failure of ``step``, the step it was run for."""
    if step:
        probe = " ".join((method, "/".join(("images", "<no image>") + parts)))
        error.detail = "while checking the token's scope (%s): %s" % (probe, error.detail or error.message)
        error.step = step
    return error


def is_lost(error):
    """A failure after which the server may or may not have acted."""
    if isinstance(error, AirTlsError):
        return False
    return isinstance(error, AirConnectionError) or (isinstance(error, AirApiError) and error.status in LOST_STATUSES)


class ApiTransport:
    """``requests`` session with the bearer token; every method raises ``AirError`` subclasses only."""

    def __init__(self, api_url, token, verify, timeout, retry, page_size, user_agent):
        self.api_url = api_url
        self.verify = verify
        self.timeout = timeout
        self.retry = retry
        self.page_size = int(page_size)
        self.retries = 0  # how many times a call was retried, for stats
        self._allowed = {}  # allows(): (method, path parts) -> bool
        self.session = requests.Session()  # trust_env: HTTPS_PROXY/NO_PROXY/REQUESTS_CA_BUNDLE apply
        self.session.verify = verify
        self.session.headers.update({
            "Authorization": "Bearer %s" % token,
            "User-Agent": user_agent,
            "Accept": "application/json",
        })

    def close(self):
        self.session.close()

    def allows(self, method, *parts, **kwargs):
        """Whether the token holds the scope of ``method`` on ``images/<id>/<parts>``, asked without effect.

        The Air API checks a call's scope before it looks the image up (scopes are view permissions,
        checked first; the emulator does the same, README choice 2): the call on the nil id, which no image
        has, answers 403 without the scope and 404 with it. The API has no call that lists a token's
        scopes. Answers are kept for the life of the transport.

        ``step`` (keyword) is the step the user asked for that the answer decides: a probe that fails
        otherwise (the API keeps failing) fails as that step, the probe named only in the error's detail.
        """
        step = kwargs.pop("step", None)
        key = (method,) + parts
        if key not in self._allowed:
            try:
                self.request(method, self.url("images", NIL_ID, *parts), "check scopes", json={}, expect=(200, 204))
                self._allowed[key] = True
            except AirNotFoundError:
                self._allowed[key] = True
            except AirAuthError as exc:
                if exc.status != 403:
                    raise _as_step(exc, step, method, parts)
                self._allowed[key] = False
            except AirError as exc:
                raise _as_step(exc, step, method, parts)
        return self._allowed[key]

    def url(self, *parts):
        """The API base plus path segments, always with a trailing slash.

        Ids come from users: a segment that is not one plain path segment
        (``../x``, ``a/b``, ``%2e``) is refused here, before any request.
        """
        for part in parts:
            if not _SEGMENT_RE.fullmatch(str(part)):
                raise AirInputError("%r is not a valid id" % (str(part),), step="check input")
        return self.api_url + "".join("%s/" % part for part in parts)

    def same_origin(self, url):
        """Rebuild a server-sent absolute URL on our own origin so the token never leaves it."""
        base, other = urlsplit(self.api_url), urlsplit(url)
        return urlunsplit((base.scheme, base.netloc, other.path, other.query, ""))

    def _send(self, method, url, step, json=None, params=None):
        try:
            # verify per request: a session-level value loses to $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE
            # (requests merges the environment over it), which would undo ca_path and validate_certs.
            return self.session.request(method, url, json=json, params=params, timeout=self.timeout,
                                        verify=self.verify)
        except requests.exceptions.SSLError as exc:
            raise AirTlsError(
                "TLS verification of %s failed: %s" % (redact_url(url), exc), step=step,
                hint="set ca_path to your CA bundle (or validate_certs: false for a test endpoint)") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise AirConnectionError("cannot reach %s: %s" % (redact_url(url), type(exc).__name__), step=step,
                                     detail=redact(str(exc))) from None
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema, UnicodeError) as exc:
            # Refused on this host before anything was sent: another attempt would fail the same way.
            raise AirConfigError("request to %s could not be sent: %s" % (redact_url(url), redact(_local_reason(exc))),
                                 step=step) from None
        except requests.exceptions.RequestException as exc:
            raise AirConnectionError("request to %s failed: %s" % (redact_url(url), redact(str(exc))),
                                     step=step) from None
        except OSError as exc:  # e.g. a CA bundle from the environment that does not exist
            raise AirConfigError("request to %s failed: %s" % (redact_url(url), redact(str(exc))),
                                 step=step) from None

    def _call(self, method, url, step, json, params, expect, image, image_id):
        try:
            response = self._send(method, url, step, json=json, params=params)
        except AirConnectionError as exc:
            exc.image, exc.image_id = image, image_id
            raise
        if response.status_code not in expect:
            raise error_from_response(response, step, image=image, image_id=image_id)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise AirApiError("the API answered HTTP %s with a body that is not JSON" % response.status_code,
                              step=step, status=response.status_code, image=image, image_id=image_id)

    def request(self, method, url, step, json=None, params=None, expect=(200,), idempotent=True, reconcile=None,
                decode=None, image=None, image_id=None):
        """One API call under the retry policy; returns ``decode(json)`` (None for 204).

        ``reconcile()`` (for calls that are not idempotent) runs before a
        retry that follows a lost answer; a non-None result is returned as the
        call's result (already decoded) instead of sending the call again.
        """
        def attempt(number, last_error):
            if reconcile is not None and last_error is not None and is_lost(last_error):
                found = reconcile()
                if found is not None:
                    return found
            data = self._call(method, url, step, json, params, expect, image, image_id)
            return decode(data) if decode is not None and data is not None else data

        def is_transient(error):
            if isinstance(error, AirApiError) and error.status == 429:
                return True  # refused before acting: safe for any call
            return is_lost(error) and (idempotent or reconcile is not None)

        return self.retry.run(attempt, is_transient, on_retry=self._count_retry)

    def _count_retry(self, _error, _number):
        self.retries += 1

    def paginate(self, path, step, params=None, max_items=None):
        """The results of a list endpoint, following ``next`` to the end (or ``max_items``)."""
        query = dict((k, v) for k, v in (params or {}).items() if v is not None)
        query.setdefault("limit", min(self.page_size, max_items) if max_items else self.page_size)
        for key, value in list(query.items()):
            if isinstance(value, bool):
                query[key] = "true" if value else "false"
        url, results = self.url(*path), []
        while url:
            page = self.request("GET", url, step, params=query)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise AirApiError("the API returned a list page without 'results'", step=step)
            results.extend(page["results"])
            if max_items and len(results) >= max_items:
                return results[:max_items]
            url, query = (self.same_origin(page["next"]), None) if page.get("next") else (None, None)
        return results
