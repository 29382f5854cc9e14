# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The Air v3 images API client (``requests`` only, no SDK).

One ``requests.Session`` with the bearer token, a User-Agent naming the
collection, timeouts, TLS settings and proxies from the environment. One retry
policy: 429/502/503/504 and connection errors are retried for idempotent
calls; calls that are not idempotent (create, share, claim, upload actions)
are never blindly re-sent: after a lost response the client looks at the
server first and only re-sends when the first attempt did not take effect.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import os
import re
import time
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
    AirAuthError,
    AirConfigError,
    AirConnectionError,
    AirError,
    AirNotFoundError,
    AirTimeoutError,
    redact,
    redact_url,
    register_secret,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import Image, ImageShare
from ansible_collections.nvidia.air.plugins.module_utils._retry import RETRY_STATUSES, RetryPolicy, parse_retry_after

COLLECTION_VERSION = "0.1.0"
DEFAULT_API_URL = "https://api.dsx-air.nvidia.com"
TOKEN_ENV = "AIR_API_TOKEN"
URL_ENV = "AIR_API_URL"
NGC_CONFIG = "~/.ngc/config"
DEFAULT_CONNECT_TIMEOUT = 16.0
DEFAULT_REQUEST_TIMEOUT = 61.0
DEFAULT_PAGE_SIZE = 200
_VERSIONED_PATH = re.compile(r"^/api/v\d+(/|$)")


def normalize_api_url(url):
    """``https://host`` -> ``https://host/api/v3/``; a versioned path is kept."""
    if not url or not str(url).strip():
        raise AirConfigError("api_url is empty")
    split = urlsplit(str(url).strip())
    if split.scheme not in ("http", "https") or not split.netloc:
        raise AirConfigError("api_url %r is not an http(s) URL" % redact_url(url))
    path = split.path if _VERSIONED_PATH.match(split.path or "") else "/api/v3"
    return urlunsplit((split.scheme, split.netloc, path.rstrip("/") + "/", "", ""))


def resolve_api_url(api_url=None, environ=None):
    environ = os.environ if environ is None else environ
    return normalize_api_url(api_url or environ.get(URL_ENV) or DEFAULT_API_URL)


def read_ngc_config(path=None):
    """The single ``apikey`` of ``~/.ngc/config`` (the SDK's rules), else None."""
    path = os.path.expanduser(path or NGC_CONFIG)
    if not os.path.exists(path):
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            # `ngc config set` writes ';' comments
            parser.read_file(line for line in handle if not line.strip().startswith(";"))
    except OSError as exc:
        raise AirConfigError("cannot read %s: %s" % (path, exc.strerror or exc))
    except configparser.Error as exc:
        # configparser quotes the offending line, which may hold an API key: name the error only.
        raise AirConfigError("cannot read %s: not a valid INI file (%s)" % (path, type(exc).__name__)) from None
    profiles = [(section, parser[section]["apikey"]) for section in parser.sections() if "apikey" in parser[section]]
    if not profiles:
        return None
    if len(profiles) > 1:
        raise AirConfigError(
            "%s has API keys in several profiles (%s); pass api_token or set %s to choose one"
            % (path, ", ".join(repr(name) for name, _key in profiles), TOKEN_ENV)
        )
    return profiles[0][1].strip() or None


def resolve_token(api_token=None, environ=None, ngc_config=None):
    """Token and where it came from: ``api_token``, ``$AIR_API_TOKEN``, ``~/.ngc/config``."""
    environ = os.environ if environ is None else environ
    if api_token:
        return api_token, "api_token"
    if environ.get(TOKEN_ENV):
        return environ[TOKEN_ENV], TOKEN_ENV
    token = read_ngc_config(ngc_config)
    if token:
        return token, NGC_CONFIG
    raise AirConfigError(
        "no Air API token: set the api_token option, the %s environment variable, or an apikey in %s"
        % (TOKEN_ENV, NGC_CONFIG)
    )


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
    return cls(str(detail), step=step, status=status, detail=detail, field_errors=fields,
               request_id=request_id, image=image, image_id=image_id, hint=hint)


def _is_lost(exc):
    """A failure after which the server may or may not have acted."""
    return isinstance(exc, AirConnectionError) or (
        isinstance(exc, AirApiError) and exc.status in RETRY_STATUSES and exc.status != 429
    )


class AirClient:
    """Air v3 images API. Every method raises ``AirError`` subclasses only."""

    def __init__(self, api_url=None, api_token=None, validate_certs=True, ca_path=None,
                 connect_timeout=DEFAULT_CONNECT_TIMEOUT, request_timeout=DEFAULT_REQUEST_TIMEOUT,
                 retry=None, page_size=DEFAULT_PAGE_SIZE, environ=None, ngc_config=None):
        if not HAS_REQUESTS:
            raise AirConfigError("the Python library 'requests' is required (pip install requests)")
        self.api_url = resolve_api_url(api_url, environ)
        token, self.token_source = resolve_token(api_token, environ, ngc_config)
        register_secret(token)
        self.verify = ca_path if ca_path else bool(validate_certs)
        self.timeout = (float(connect_timeout), float(request_timeout))
        self.retry = retry or RetryPolicy()
        self.page_size = int(page_size)
        self.retries = 0  # how many times a call was retried, for stats
        self.session = requests.Session()  # trust_env: HTTPS_PROXY/NO_PROXY/REQUESTS_CA_BUNDLE apply
        self.session.verify = self.verify
        self.session.headers.update({
            "Authorization": "Bearer %s" % token,
            "User-Agent": "ansible-collection-nvidia.air/%s (+requests %s)" % (COLLECTION_VERSION, requests.__version__),
            "Accept": "application/json",
        })

    def close(self):
        self.session.close()

    # ------------------------------------------------------------------ plumbing
    def url(self, *parts):
        """Join path fragments to the API base, always with a trailing slash."""
        return self.api_url + "".join("%s/" % str(p).strip("/") for p in parts if str(p).strip("/"))

    def _same_origin(self, url):
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
            raise AirConnectionError(
                "TLS verification of %s failed: %s" % (redact_url(url), exc), step=step,
                hint="set ca_path to your CA bundle (or validate_certs: false for a test endpoint)")
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise AirConnectionError("cannot reach %s: %s" % (redact_url(url), type(exc).__name__), step=step,
                                     detail=redact(str(exc)))
        except requests.exceptions.RequestException as exc:
            raise AirConnectionError("request to %s failed: %s" % (redact_url(url), redact(str(exc))), step=step)

    def request(self, method, url, step, json=None, params=None, expect=(200,), idempotent=True, image=None,
                image_id=None):
        """One API call with the retry policy; returns the decoded JSON (None for 204).

        Only 429 is retried for non-idempotent calls: the server refused to
        act, so re-sending cannot duplicate anything.
        """
        retry_number = 0
        while True:
            retry_after = None
            try:
                response = self._send(method, url, step, json=json, params=params)
            except AirConnectionError as exc:
                exc.image, exc.image_id = image, image_id
                if not idempotent or retry_number + 1 >= self.retry.attempts:
                    raise
            else:
                if response.status_code in expect:
                    return self._decode(response, step, image, image_id)
                retriable = response.status_code in RETRY_STATUSES and (idempotent or response.status_code == 429)
                if not retriable or retry_number + 1 >= self.retry.attempts:
                    raise error_from_response(response, step, image=image, image_id=image_id)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            retry_number += 1
            self.retries += 1
            self.retry.sleep(retry_number, retry_after)

    @staticmethod
    def _decode(response, step, image, image_id):
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise AirApiError("the API answered HTTP %s with a body that is not JSON" % response.status_code,
                              step=step, status=response.status_code, image=image, image_id=image_id)

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
            url, query = (self._same_origin(page["next"]), None) if page.get("next") else (None, None)
        return results

    def _safely_created(self, url, body, step, find_existing, expect=(201,), image=None, image_id=None):
        """POST that is never duplicated: after a lost response, look before re-sending."""
        retry_number = 0
        while True:
            try:
                return self.request("POST", url, step, json=body, expect=expect, idempotent=False, image=image,
                                    image_id=image_id)
            except AirError as exc:
                if not _is_lost(exc) or retry_number + 1 >= self.retry.attempts:
                    raise
                existing = find_existing()
                if existing is not None:
                    return existing
            retry_number += 1
            self.retries += 1
            self.retry.sleep(retry_number)

    def _action(self, image, action, step, body=None, done=None, expect=(200,)):
        """PATCH an image action; after a lost response, ``done(image)`` decides whether it happened."""
        retry_number = 0
        while True:
            try:
                data = self.request("PATCH", self.url("images", image.id, action), step, json=body or {},
                                    expect=expect, idempotent=False, image=image.label, image_id=image.id)
                return Image.from_api(data) if data is not None else None
            except AirError as exc:
                if done is None or not _is_lost(exc) or retry_number + 1 >= self.retry.attempts:
                    raise
                current = self.get_image(image.id)
                if done(current):
                    return current
            retry_number += 1
            self.retries += 1
            self.retry.sleep(retry_number)

    # -------------------------------------------------------------------- images
    def list_images(self, max_items=None, **filters):
        return [Image.from_api(d) for d in self.paginate(["images"], "lookup", filters, max_items)]

    def get_image(self, image_id, step="lookup"):
        return Image.from_api(self.request("GET", self.url("images", image_id), step, image_id=image_id))

    def find_image(self, name, version, step="lookup"):
        """The caller's own image called name+version, None if there is none."""
        found = [
            image for image in self.list_images(name=name, version=version, is_owned_by_client=True)
            if image.name == name and image.version == version and image.is_owned_by_client
        ]
        if len(found) > 1:
            raise AirApiError(
                "%d images are named %r version %r (%s); use the image id"
                % (len(found), name, version, ", ".join(i.id for i in found)), step=step)
        return found[0] if found else None

    def create_image(self, fields):
        label = "%r version %r" % (fields.get("name"), fields.get("version"))
        data = self._safely_created(
            self.url("images"), fields, "create",
            lambda: self.find_image(fields.get("name"), fields.get("version"), step="create"), image=label)
        return data if isinstance(data, Image) else Image.from_api(data)

    def update_image(self, image, fields):
        data = self.request("PATCH", self.url("images", image.id), "update", json=fields, image=image.label,
                            image_id=image.id)
        return Image.from_api(data)

    def delete_image(self, image):
        """True if deleted now, False if it was already gone."""
        try:
            self.request("DELETE", self.url("images", image.id), "delete", json={}, expect=(204,),
                         image=image.label, image_id=image.id)
        except AirNotFoundError:
            return False
        return True

    def start_upload(self, image, sha256, size):
        """``{upload_id, part_urls, chunk_size}``; an upload we lost the answer to is aborted first."""
        retry_number = 0
        while True:
            try:
                return self.request("PATCH", self.url("images", image.id, "start-upload"), "start-upload",
                                    json={"hash": sha256, "size": size}, idempotent=False, image=image.label,
                                    image_id=image.id)
            except AirError as exc:
                if not _is_lost(exc) or retry_number + 1 >= self.retry.attempts:
                    raise
                if self.get_image(image.id).upload_status == "UPLOADING":
                    # It started, but the part URLs are lost with the response.
                    self.abort_upload(image)
            retry_number += 1
            self.retries += 1
            self.retry.sleep(retry_number)

    def complete_upload(self, image, parts):
        return self._action(image, "complete-upload", "complete", {"parts": parts},
                            done=lambda i: i.upload_status in ("VALIDATING", "COMPLETE"))

    def abort_upload(self, image):
        self._action(image, "abort-upload", "abort", done=lambda i: i.upload_status != "UPLOADING", expect=(204,))

    def clear_upload(self, image):
        return self._action(image, "clear-upload", "clear-upload", done=lambda i: i.upload_status == "READY")

    def publish(self, image, name=None, version=None):
        body = dict((k, v) for k, v in (("name", name), ("version", version)) if v is not None)
        return self._action(image, "publish", "publish", body,
                            done=lambda i: i.published or i.upload_status == "PUBLISHING")

    def unpublish(self, image, name=None, version=None):
        body = dict((k, v) for k, v in (("name", name), ("version", version)) if v is not None)
        return self._action(image, "unpublish", "unpublish", body,
                            done=lambda i: not i.published or i.upload_status == "UNPUBLISHING")

    def wait_for_image(self, image, done, failed=None, step="wait", timeout=600.0, poll_interval=5.0,
                       clock=time.monotonic, sleep=time.sleep):
        """Poll until ``done(image)``; ``failed(image)`` returns a reason to stop early."""
        deadline = clock() + timeout
        current, polls = image, 0
        while True:
            if done(current):
                return current
            reason = failed(current) if failed else None
            if reason:
                raise AirApiError(reason, step=step, image=current.label, image_id=current.id)
            if clock() >= deadline:
                raise AirTimeoutError(
                    "still %s after %ss" % (current.upload_status, timeout), step=step, image=current.label,
                    image_id=current.id, last_status=current.upload_status,
                    hint="the server may still finish; re-run to pick up where it stands")
            # Start fast (most transitions take seconds), back off to poll_interval.
            sleep(max(0.0, min(poll_interval, 0.25 * 2 ** polls, deadline - clock())))
            polls += 1
            current = self.get_image(image.id, step=step)

    # -------------------------------------------------------------------- shares
    def list_shares(self, **filters):
        return [ImageShare.from_api(d) for d in self.paginate(["images", "shares"], "lookup", filters)]

    def get_share(self, share_id):
        return ImageShare.from_api(self.request("GET", self.url("images", "shares", share_id), "lookup"))

    def find_live_share(self, image_id, target_org):
        for share in self.list_shares(image=image_id, target_org=target_org):
            if share.image == image_id and share.target_org == target_org and share.is_live():
                return share
        return None

    def create_share(self, image, target_org, expires_at=None):
        body = {"image": image.id, "target_org": target_org}
        if expires_at is not None:
            body["expires_at"] = expires_at
        data = self._safely_created(self.url("images", "shares"), body, "share",
                                    lambda: self.find_live_share(image.id, target_org), image=image.label,
                                    image_id=image.id)
        return data if isinstance(data, ImageShare) else ImageShare.from_api(data)

    def delete_share(self, share):
        """True if revoked now, False if it was already gone."""
        try:
            self.request("DELETE", self.url("images", "shares", share.id), "revoke share", json={},
                         expect=(204,))
        except AirNotFoundError:
            return False
        return True

    def claim_share(self, share_id, name=None, version=None):
        """Claim into the caller's org. Without a name+version a lost response cannot be reconciled."""
        body = {"image_share": share_id}
        body.update(dict((k, v) for k, v in (("name", name), ("version", version)) if v is not None))

        def find_claimed():
            return self.find_image(name, version, step="claim") if name and version else None

        data = self._safely_created(self.url("images", "claim-image-share"), body, "claim", find_claimed)
        return data if isinstance(data, Image) else Image.from_api(data)
