# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The Air v3 API client (``requests`` only, no SDK): settings and the per-resource helpers.

``AirClient`` resolves the API URL and token, checks the TLS and timeout
settings, and carries one helper per API resource (``_api_images``,
``_api_uploads``, ``_api_publishing``, ``_api_shares``, ``_api_manifests``,
``_api_organizations``) over one ``ApiTransport`` (session, retry policy, pagination).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import os
import re
import unicodedata

from urllib.parse import unquote, urlsplit, urlunsplit

from ansible_collections.nvidia.air.plugins.module_utils._api_images import ImagesApi
from ansible_collections.nvidia.air.plugins.module_utils._api_manifests import ManifestsApi
from ansible_collections.nvidia.air.plugins.module_utils._api_organizations import OrganizationsApi
from ansible_collections.nvidia.air.plugins.module_utils._api_publishing import PublishingApi
from ansible_collections.nvidia.air.plugins.module_utils._api_shares import SharesApi
from ansible_collections.nvidia.air.plugins.module_utils._api_uploads import UploadsApi
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirConfigError, redact_url, register_secret
from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy
from ansible_collections.nvidia.air.plugins.module_utils._transport import HAS_REQUESTS, TOKEN_ENV, ApiTransport

try:
    import requests
except ImportError:
    pass  # HAS_REQUESTS tells

COLLECTION_VERSION = "0.1.0"
DEFAULT_API_URL = "https://api.dsx-air.nvidia.com"
URL_ENV = "AIR_API_URL"
NGC_CONFIG = "~/.ngc/config"
DEFAULT_CONNECT_TIMEOUT = 16.0
DEFAULT_REQUEST_TIMEOUT = 61.0
DEFAULT_PAGE_SIZE = 200
_VERSIONED_PATH = re.compile(r"^/api/v\d+(/|$)")
_CONTROL_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN"}


def normalize_api_url(url):
    """``https://host`` -> ``https://host/api/v3/``; a versioned path is kept."""
    if not url or not str(url).strip():
        raise AirConfigError("api_url is empty")
    split = urlsplit(str(url).strip())
    if split.scheme not in ("http", "https") or not split.hostname:
        raise AirConfigError("api_url %r is not an http(s) URL" % redact_url(url))
    if "@" in split.netloc:  # requests would send these as Basic auth instead of the token
        raise AirConfigError("api_url %r must not contain a user or password; the token is api_token"
                             % redact_url(url))
    try:
        split.port  # a port that is not a number, or out of range, raises here rather than on every retry
    except ValueError:
        raise AirConfigError("api_url %r has an invalid port" % redact_url(url)) from None
    if any(unquote(segment) in (".", "..") for segment in split.path.split("/")):
        raise AirConfigError("api_url %r must not contain '.' or '..' path segments" % redact_url(url))
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
    """Token and where it came from: ``api_token``, ``$AIR_API_TOKEN``, ``~/.ngc/config``.

    Surrounding white space is dropped (a pasted token often ends with a newline); a token that still
    cannot be sent raises ``check_token``'s error, naming where it came from.
    """
    environ = os.environ if environ is None else environ
    for source, value in (("api_token", api_token), (TOKEN_ENV, environ.get(TOKEN_ENV))):
        if value:
            register_secret(value)
            if value.strip():
                return check_token(value.strip(), source), source
    token = read_ngc_config(ngc_config)
    if token:
        return check_token(token, NGC_CONFIG), NGC_CONFIG
    raise AirConfigError(
        "no Air API token: set the api_token option, the %s environment variable, or an apikey in %s"
        % (TOKEN_ENV, NGC_CONFIG)
    )


def check_token(token, source):
    """``token`` if every character of it can go into an HTTP header as the API expects (printable ASCII, no
    white space: RFC 6750's bearer token), else AirConfigError naming ``source`` and the character, never the token."""
    register_secret(token)
    for position, char in enumerate(token, 1):
        if not "!" <= char <= "~":
            raise AirConfigError(
                "%s holds a character that cannot be sent in an HTTP header (%s, character %d of %d); copy the "
                "token again without it" % (source, _describe_char(char), position, len(token)),
                step="check options")
    return token


def _describe_char(char):
    return "U+%04X %s" % (ord(char), unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "control character"))


def proxy_secrets(environ=None):
    """Register the user and password of the proxy URLs in the environment (requests reads them from there)."""
    environ = os.environ if environ is None else environ
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        try:
            split = urlsplit(environ.get(key) or "")
        except ValueError:
            continue
        for part in (split.username, split.password):
            if part:
                register_secret(part)
                register_secret(unquote(part))
        if split.username and split.password:
            register_secret("%s:%s" % (unquote(split.username), unquote(split.password)))


class AirClient:
    """The Air v3 API for one token: ``images``, ``uploads``, ``publishing``, ``shares``, ``manifests`` and
    ``organizations``.

    Settings come from the arguments, then the environment (``AIR_API_URL``,
    ``AIR_API_TOKEN``), then ``~/.ngc/config``; bad settings raise
    ``AirConfigError`` before any request. Every call raises ``AirError``
    subclasses only.
    """

    def __init__(self, api_url=None, api_token=None, validate_certs=True, ca_path=None,
                 connect_timeout=DEFAULT_CONNECT_TIMEOUT, request_timeout=DEFAULT_REQUEST_TIMEOUT,
                 retry=None, page_size=DEFAULT_PAGE_SIZE, environ=None, ngc_config=None):
        if not HAS_REQUESTS:
            raise AirConfigError("the Python library 'requests' is required (pip install requests)")
        self.api_url = resolve_api_url(api_url, environ)
        proxy_secrets()
        token, self.token_source = resolve_token(api_token, environ, ngc_config)
        for option, value in (("request_timeout", request_timeout), ("connect_timeout", connect_timeout)):
            if value is None or float(value) <= 0:
                raise AirConfigError("%s must be a positive number of seconds (got %r)" % (option, value))
        if ca_path and not os.path.exists(os.path.expanduser(ca_path)):
            raise AirConfigError("ca_path %s does not exist on this host" % ca_path)
        self.verify = os.path.expanduser(ca_path) if ca_path else bool(validate_certs)
        self.transport = ApiTransport(
            self.api_url, token, self.verify, (float(connect_timeout), float(request_timeout)),
            retry or RetryPolicy(), page_size,
            "ansible-collection-nvidia.air/%s (+requests %s)" % (COLLECTION_VERSION, requests.__version__))
        self.images = ImagesApi(self.transport)
        self.uploads = UploadsApi(self.transport, self.images)
        self.publishing = PublishingApi(self.transport, self.images)
        self.shares = SharesApi(self.transport, self.images)
        self.manifests = ManifestsApi(self.transport)
        self.organizations = OrganizationsApi(self.transport)

    @property
    def retries(self):
        """API calls retried so far (for upload statistics)."""
        return self.transport.retries

    def close(self):
        self.transport.close()
