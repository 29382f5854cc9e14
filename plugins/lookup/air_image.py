# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: air_image
short_description: Find an NVIDIA Air image by name, or the newest version of it
version_added: 0.1.0
description:
  - Returns the NVIDIA Air image called each term (an image name), as M(nvidia.air.air_image_info) returns
    images, or one field of it with O(field). Meant for playbooks that build simulations and need the id of
    C(cumulus-vx) or of its newest version.
  - Without O(latest), exactly one image may match (use O(version) to pick one); with O(latest=true) the
    newest by the collection's version order (C(5.100.0) after C(5.16.0), C(1.0.0) after C(1.0.0-rc1);
    see O(nvidia.air.air_image_info#module:sort)) wins, C(created) breaking ties.
  - No match, more than one match without O(latest), an empty term and an unknown option are errors naming it.
  - Runs on the controller, like every lookup. C(module_defaults) do not reach lookups, so the connection
    comes from the lookup's own options, each of which may also come from a variable, the environment or
    C(ansible.cfg) (see each option); the environment variables are the ones the modules read.
author:
  - NVIDIA Air collection contributors (!UNKNOWN)
options:
  _terms:
    description:
      - Names of the images (exact, case-sensitive). One result per name, in the same order.
      - A list given as one term stands for its items (C(lookup('nvidia.air.air_image', names))).
    type: list
    elements: str
    required: true
  version:
    description: Only the image of this exact version.
    type: str
  latest:
    description:
      - Return the newest of the matching images (version order, then C(created)) instead of failing when
        several match.
    type: bool
    default: false
  field:
    description:
      - Return only this field of the image (for example V(id)) instead of the whole image.
      - The fields are those of RV(nvidia.air.air_image#module:image).
    type: str
  uploaded_only:
    description:
      - Only images whose file is uploaded and validated (C(upload_status) C(COMPLETE), or one of the
        publishing states, which keep the file). V(false) also returns records still empty or being
        uploaded.
    type: bool
    default: true
  is_owned_by_client:
    description:
      - Only images your organization owns (V(true)) or only other organizations' published images
        (V(false)). Not set, both count.
    type: bool
  published:
    description: Only published (V(true)) or unpublished (V(false)) images.
    type: bool
  api_url:
    description:
      - Base URL of the NVIDIA Air API, for example C(https://api.dsx-air.nvidia.com); C(/api/v3/) is
        appended when the URL has no C(/api/vN) path.
      - When no source sets it, the public Air API.
    type: str
    env:
      - name: AIR_API_URL
    ini:
      - section: nvidia_air
        key: api_url
    vars:
      - name: nvidia_air_api_url
  api_token:
    description:
      - NVIDIA Air (NGC) API key sent as a bearer token.
      - When no source sets it, the single C(apikey) in C(~/.ngc/config) on the controller (several profiles
        with keys are an error).
      - Never shown in output or error messages. There is deliberately no C(ansible.cfg) entry for it; keep it
        in Ansible Vault or the environment.
    type: str
    env:
      - name: AIR_API_TOKEN
    vars:
      - name: nvidia_air_api_token
  validate_certs:
    description: Verify the TLS certificate of the Air API. Set to V(false) only for test endpoints.
    type: bool
    default: true
    ini:
      - section: nvidia_air
        key: validate_certs
    vars:
      - name: nvidia_air_validate_certs
  ca_path:
    description:
      - PEM file of certificate authorities to trust instead of the system bundle (on the controller).
      - E(REQUESTS_CA_BUNDLE) is honoured when this is not set.
    type: path
    ini:
      - section: nvidia_air
        key: ca_path
    vars:
      - name: nvidia_air_ca_path
  request_timeout:
    description: Seconds to wait for an answer from the Air API on each request.
    type: float
    default: 61
    ini:
      - section: nvidia_air
        key: request_timeout
    vars:
      - name: nvidia_air_request_timeout
notes:
  - Precedence of each connection option, highest first, as for every Ansible plugin option - the lookup's
    keyword argument (for example C(api_token=vault_air_token)), the variable (C(nvidia_air_api_url) and
    the others above), the environment variable (E(AIR_API_URL), E(AIR_API_TOKEN)), the C([nvidia_air])
    section of C(ansible.cfg), then the fallback described with the option.
  - In AWX and Ansible Automation Platform the collection's credential type injects E(AIR_API_URL) and
    E(AIR_API_TOKEN), which this lookup reads.
  - Transient failures (HTTP 429, 500, 502, 503, 504 and lost connections) are retried like in the modules
    (the lookup only reads).
requirements:
  - requests >= 2.25 (on the controller)
seealso:
  - module: nvidia.air.air_image_info
  - module: nvidia.air.air_image_retention
"""

EXAMPLES = r"""
- name: The id of the newest uploaded cumulus-vx visible to the token (AIR_API_URL and AIR_API_TOKEN set)
  ansible.builtin.debug:
    msg: "{{ lookup('nvidia.air.air_image', 'cumulus-vx', latest=true, field='id') }}"

- name: A whole image, one exact version, connection from variables
  vars:
    nvidia_air_api_url: https://api.dsx-air.nvidia.com
    nvidia_air_api_token: "{{ vault_air_token }}"
    image: "{{ lookup('nvidia.air.air_image', 'cumulus-vx', version='5.16.0') }}"
  ansible.builtin.debug:
    msg: "{{ image.name }} {{ image.version }} is {{ image.upload_status }} ({{ image.size }} bytes)"

- name: The newest image of each of two names, as a list of ids
  ansible.builtin.set_fact:
    node_images: "{{ query('nvidia.air.air_image', 'cumulus-vx', 'sonic-vs', latest=true, field='id') }}"

- name: Only my organization's images, connection passed as arguments
  ansible.builtin.set_fact:
    own_image_id: >-
      {{ lookup('nvidia.air.air_image', 'cumulus-vx', latest=true, is_owned_by_client=true, field='id',
                api_url=air_api_url, api_token=air_api_token) }}
"""

RETURN = r"""
_raw:
  description:
    - One entry per term - the image (C(default_password) is C(********); the keys are those of
      RV(nvidia.air.air_image#module:image)), or the value of O(field).
  type: list
  elements: raw
  sample:
    - id: 935b994e-9e1e-4d85-9275-10f7b3111cd9
      name: cumulus-vx
      version: 5.16.0
      upload_status: COMPLETE
      published: false
      is_owned_by_client: true
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirError
from ansible_collections.nvidia.air.plugins.module_utils._models import IMAGE_FIELDS
from ansible_collections.nvidia.air.plugins.module_utils._transport import HAS_REQUESTS
from ansible_collections.nvidia.air.plugins.module_utils._versions import newest_first, version_text

PREFIX = "nvidia.air.air_image"
CONNECTION_OPTIONS = ("api_url", "api_token", "validate_certs", "ca_path", "request_timeout")
# The variables of DOCUMENTATION's ``vars:`` entries (nvidia_air_api_url, ...).
CONNECTION_VARIABLES = tuple("nvidia_air_" + option for option in CONNECTION_OPTIONS)


def describe(name, options):
    """``'cumulus-vx' version '5.16.0'`` and the filters that narrowed the search, for messages."""
    text = "%r" % name
    if options["version"] is not None:
        text += " version %r" % options["version"]
    filters = [label for label, on in (
        ("uploaded", options["uploaded_only"]),
        ("owned by your organization", options["is_owned_by_client"] is True),
        ("of other organizations", options["is_owned_by_client"] is False),
        ("published", options["published"] is True),
        ("unpublished", options["published"] is False),
    ) if on]
    return text + (" (%s)" % ", ".join(filters) if filters else "")


def pick(name, images, options):
    """The one image ``name`` stands for among ``images`` (already filtered), else AnsibleLookupError."""
    if not images:
        raise AnsibleLookupError("%s: no image named %s is visible to this token" % (PREFIX, describe(name, options)))
    if len(images) > 1 and not options["latest"]:
        newest = newest_first(images)
        versions = ", ".join(repr(i.version) for i in newest[:5]) + (", ..." if len(newest) > 5 else "")
        raise AnsibleLookupError(
            "%s: %d images are named %s (versions %s); set latest=true for the newest or version= for one"
            % (PREFIX, len(images), describe(name, options), versions))
    return newest_first(images)[0]


SELECTION_OPTIONS = ("version", "latest", "field", "uploaded_only", "is_owned_by_client", "published")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        # Ansible passes a misspelt keyword on silently; here it would select another image (verison=...).
        unknown = sorted(set(kwargs) - set(SELECTION_OPTIONS + CONNECTION_OPTIONS))
        if unknown:
            raise AnsibleLookupError("%s: unknown option(s) %s; the options are %s"
                                     % (PREFIX, ", ".join(unknown), ", ".join(SELECTION_OPTIONS + CONNECTION_OPTIONS)))
        try:  # before set_options, which makes "5.1" of YAML's 5.10 without a word
            version_text("version", kwargs.get("version"), assign="=")
        except ValueError as exc:
            raise AnsibleLookupError("%s: %s" % (PREFIX, exc))
        self.set_options(var_options=self.connection_variables(variables), direct=kwargs)
        options = dict((key, self.get_option(key)) for key in SELECTION_OPTIONS + CONNECTION_OPTIONS)
        names = self.check_terms(terms, options)
        if not HAS_REQUESTS:
            raise AnsibleLookupError("%s: the Python library 'requests' is required on the controller "
                                     "(pip install requests)" % PREFIX)
        try:
            client = AirClient(**dict((key, options[key]) for key in CONNECTION_OPTIONS))
        except AirError as exc:
            raise AnsibleLookupError("%s: %s" % (PREFIX, exc))
        try:
            return [self.result(self.find(client, name, options), options) for name in names]
        except AirError as exc:
            raise AnsibleLookupError("%s: %s" % (PREFIX, exc))
        finally:
            client.close()

    def connection_variables(self, variables):
        """The connection variables that are set, rendered: a lookup receives variables unrendered
        (``nvidia_air_api_url: "{{ air_url }}"`` would otherwise reach the option as that text)."""
        return dict((name, self._templar.template(variables[name]))
                    for name in CONNECTION_VARIABLES if name in (variables or {}))

    @staticmethod
    def check_terms(terms, options):
        """Image names and ``field``, checked before any request."""
        if not terms:
            raise AnsibleLookupError("%s: give at least one image name" % PREFIX)
        names = []
        # lookup('nvidia.air.air_image', names_list) hands the list over as one term: its items are the names.
        for term in [item for term in terms for item in (term if isinstance(term, list) else [term])]:
            if not isinstance(term, str) or not term.strip():
                raise AnsibleLookupError("%s: an image name (term) must be a non-empty string, got %r"
                                         % (PREFIX, term))
            names.append(term)
        if options["field"] is not None and options["field"] not in IMAGE_FIELDS:
            raise AnsibleLookupError("%s: field must be one of %s, got %r"
                                     % (PREFIX, ", ".join(IMAGE_FIELDS), options["field"]))
        return names

    @staticmethod
    def find(client, name, options):
        filters = dict(name=name, version=options["version"], is_owned_by_client=options["is_owned_by_client"],
                       published=options["published"])

        def wanted(image):
            if image.name != name or not (image.is_uploaded or not options["uploaded_only"]):
                return False
            return options["version"] is None or image.version == options["version"]

        images = [image for image in client.images.list(**dict((k, v) for k, v in filters.items() if v is not None))
                  if wanted(image)]
        return pick(name, images, options)

    @staticmethod
    def result(image, options):
        data = image.to_result()
        return data if options["field"] is None else data[options["field"]]
