# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""``AirModule``: the base every nvidia.air module derives from.

It merges the shared connection options into the module's argument spec,
builds the client, converts client errors into one-line failures with a
structured ``failure`` entry, tracks differences for diff mode, and offers
``change()``, which marks the task changed in both modes and guards only the
write with check mode, so a check-mode run predicts exactly what a real run
does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import AnsibleModule, _load_params, env_fallback, missing_required_lib

from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
from ansible_collections.nvidia.air.plugins.module_utils._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
from ansible_collections.nvidia.air.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirError,
    AirInputError,
    AirNotFoundError,
    register_secret,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import SETTLING_STATES, check_id
from ansible_collections.nvidia.air.plugins.module_utils._versions import version_text

CONNECTION_ARGSPEC = dict(
    api_url=dict(type="str", fallback=(env_fallback, ["AIR_API_URL"])),
    api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["AIR_API_TOKEN"])),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    request_timeout=dict(type="float", default=61.0),
)

WAIT_ARGSPEC = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="float", default=600.0),
    poll_interval=dict(type="float", default=5.0),
)

IMAGE_IDENTITY_ARGSPEC = dict(
    image=dict(type="str"),
    name=dict(type="str"),
    version=dict(type="str"),
)


def is_version_option(option):
    """Options that name versions: ``version``, ``publish_version``, ``keep_versions`` ..."""
    return option in ("version", "versions") or option.endswith(("_version", "_versions"))


def given_arguments(options):
    """``options`` as the task gave them, before the argument spec turned them into strings (YAML's 5.10 is the
    float 5.1 there, and ``str`` makes "5.1" of it without a word)."""
    try:
        raw = _load_params()
    except Exception:  # AnsibleModule has read them already: this does not fail
        return {}
    return dict((option, raw[option]) for option in options if raw.get(option) is not None)


class AirModule:
    """Subclasses set ``argument_spec`` / ``module_kwargs`` and implement ``run()``."""

    argument_spec = {}
    module_kwargs = {}
    # Options holding Air ids (UUIDs; they end up in URL paths) and options that must be > 0.
    id_options = ("id", "image", "share_id")
    positive_options = ("request_timeout", "wait_timeout", "poll_interval", "part_timeout")
    # Longer durations cannot be waited for (socket and event timeouts overflow) and mean a typo anyway.
    max_seconds = 10000000

    def __init__(self):
        spec = dict(CONNECTION_ARGSPEC)
        spec.update(self.argument_spec)
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **self.module_kwargs)
        self.params = self.module.params
        self.given = given_arguments(spec)  # the options as the task wrote them, for checks and messages
        for option, settings in spec.items():  # api_token, default_password ...: masked in every form in messages
            if settings.get("no_log") and isinstance(self.params.get(option), str):
                register_secret(self.params[option])
        self.check_mode = self.module.check_mode
        self.result = {"changed": False, "actions": []}
        self.diff = DifferenceTracker()
        self._client = None

    # ----------------------------------------------------------------- plumbing
    @property
    def client(self):
        if self._client is None:
            self._client = AirClient(
                api_url=self.params["api_url"],
                api_token=self.params["api_token"],
                validate_certs=self.params["validate_certs"],
                ca_path=self.params["ca_path"],
                request_timeout=self.params["request_timeout"],
            )
        return self._client

    def __call__(self):
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        try:
            self.check_common_options()
            self.check_options()
            self.run()
        except AirError as exc:
            self.fail(exc)
        self.exit()

    def check_common_options(self):
        """Ids, versions and durations, checked before any request (bad ones would reach URLs and sockets)."""
        for option, value in self.given.items():
            if not is_version_option(option):
                continue
            for where, item in ([("%s[%d]" % (option, n), v) for n, v in enumerate(value)]
                                if isinstance(value, list) else [(option, value)]):
                try:
                    version_text(where, item, example=option)
                except ValueError as exc:
                    raise AirInputError(str(exc), step="check options") from None
        for option in self.id_options:
            if self.params.get(option) is not None:
                self.params[option] = check_id(self.params[option], option)
        for option in self.positive_options:
            value = self.params.get(option)
            if value is not None and not 0 < value <= self.max_seconds:  # NaN fails both comparisons
                raise AirInputError("%s must be a positive number of seconds, at most %d (got %s)"
                                    % (option, self.max_seconds, value), step="check options")
        if self.params.get("ca_path") and not os.path.exists(self.params["ca_path"]):
            raise AirInputError("ca_path %s does not exist on the host the module runs on" % self.params["ca_path"],
                                step="check options")

    def check_options(self):
        """Cross-option checks that the argument spec cannot express."""

    def run(self):
        raise NotImplementedError

    def exit(self):
        if self.module._diff:
            self.result["diff"] = self.diff.get()
        self.module.exit_json(**self.result)

    def fail(self, exc):
        if self.module._diff:
            self.result["diff"] = self.diff.get()
        self.module.fail_json(msg=str(exc), failure=exc.to_failure(), **self.result)

    def warn(self, message):
        self.module.warn(message)

    def change(self, action, write=None):
        """Run ``write`` (the only thing check mode skips), then record the change.

        A write the API refuses raises before anything is recorded, so a failed
        task never claims a change it did not make.
        """
        outcome = None if write is None or self.check_mode else write()
        self.result["changed"] = True
        self.result["actions"].append(action)
        return outcome

    def take_back_last_change(self, reason):
        """The last write turned out to be done already (by another run): it is not this task's change."""
        self.result["actions"].pop()
        self.warn(reason)
        if not self.result["actions"]:
            self.result["changed"] = False
            self.diff = DifferenceTracker()

    # ----------------------------------------------------------- image lookups
    def find_image(self, image_id=None, name=None, version=None, required=False):
        """The image by id, else the caller's own image by name+version; None if absent."""
        if image_id:
            try:
                return self.client.images.get(image_id)
            except AirNotFoundError:
                if required:
                    raise AirInputError("no image with id %s is visible to this token" % image_id, step="lookup",
                                        status=404)
                return None
        image = self.client.images.find(name, version)
        if image is None and required:
            raise AirInputError("no image named %r version %r in your organization" % (name, version),
                                step="lookup", hint="create it with nvidia.air.air_image first")
        return image

    def wait_settled(self, image, what="settle"):
        """Wait out transient states when ``wait`` is set."""
        if not self.params.get("wait") or image is None or image.upload_status not in SETTLING_STATES:
            return image
        return self.client.images.wait_for(
            image, lambda i: i.upload_status not in SETTLING_STATES, step="wait to %s" % what,
            timeout=self.params["wait_timeout"], poll_interval=self.params["poll_interval"])
