# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is private to the nvidia.air collection and may change without notice.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options shared by every nvidia.air module.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the NVIDIA Air API, for example C(https://api.dsx-air.nvidia.com).
      - C(/api/v3/) is appended when the URL has no C(/api/vN) path.
      - If not set, the environment variable E(AIR_API_URL) is used, then the public Air API.
    type: str
  api_token:
    description:
      - NVIDIA Air (NGC) API key sent as a bearer token.
      - If not set, the environment variable E(AIR_API_TOKEN) is used, then the single C(apikey) found in
        C(~/.ngc/config) on the host the module runs on (several profiles with keys are an error).
      - Surrounding white space is dropped (a trailing newline from a credential field or a Vault C(|) block). A
        token that still holds a character an HTTP header cannot carry (a zero-width or non-breaking space) is
        refused before any request, naming where it came from, never the token.
      - Never shown in output, diffs or error messages, in any form (escaped, URL-encoded, in a header).
    type: str
  validate_certs:
    description:
      - Verify the TLS certificates of the Air API and of the storage endpoint that receives the upload parts.
      - Set to V(false) only for test endpoints.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file (or directory prepared with C(c_rehash)) of certificate authorities to trust instead of the
        system bundle, for both the Air API and the storage endpoint.
      - E(REQUESTS_CA_BUNDLE) is honoured when this is not set.
    type: path
  request_timeout:
    description:
      - Seconds to wait for an answer from the Air API on each request (the connection itself times out after
        16 seconds).
      - Part uploads have their own O(nvidia.air.air_image_upload#module:part_timeout).
    type: float
    default: 61
notes:
  - Proxies are taken from the usual environment variables (E(HTTPS_PROXY), E(NO_PROXY)) for the Air API and
    the storage endpoint alike; set them with the task's C(environment) keyword.
  - Transient failures are retried (5 attempts in all) with a capped, jittered exponential backoff that honours
    C(Retry-After). HTTP 429 (the server refused to act) is retried for every request. HTTP 500, 502, 503, 504
    and lost connections are retried directly for requests that read or can be repeated safely; a request that
    creates or changes something is never re-sent blindly after one of those; the module first looks at the
    server whether the first attempt took effect, and re-sends only if it did not. Parts sent to the storage
    endpoint retry 429, 500, 502, 503 and 504.
  - A failure names the step the task was asked to do (for example C(publish failed), C(delete failed)); a check
    the module made on the way (such as its probe of the token's scopes) shows only in C(failure.detail).
  - Options that name a version (C(version), C(publish_version), C(keep_versions) ...) take text; a number that
    YAML made of an unquoted version (V(5.10) is read as 5.1) is refused before any request, with the quoted form
    to write (C(version) in quotes, as V("5.10")). An integer such as V(10) is taken as C("10").
  - A request refused on the controller or host before it was sent (a malformed proxy URL, a token that cannot
    go into an HTTP header) is not retried. Surrounding white space of the token is dropped.
requirements:
  - requests >= 2.25 (on the host the module runs on)
"""

    # Options of modules that wait for the Air API to finish an operation.
    WAIT = r"""
options:
  wait:
    description:
      - Wait until the image has left transient states (for example C(PUBLISHING), C(VALIDATING)) before
        returning.
      - With V(false) the module returns as soon as the API accepted the request; use
        M(nvidia.air.air_image_info) with C(until) to poll later.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait at most when O(wait=true). On a timeout the task fails with the last state seen; the
        operation may still finish on the server, and a re-run picks up where it stands.
    type: float
    default: 600
  poll_interval:
    description:
      - The longest time between two status checks while waiting. A wait checks every 0.25 s for its first 2 s
        and every 0.5 s until 30 s, so it sees a quick transition at once, then every O(poll_interval) seconds.
    type: float
    default: 5
"""
