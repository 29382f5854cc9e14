# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers for the module unit tests: module arguments, a run that captures the result, a stub client.

Nothing here talks to a network: the stub client answers lookups from a list of
images and fails the test if a write is attempted outside the calls it allows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    from unittest import mock

    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))):
            yield

from ansible_collections.nvidia.air.plugins.module_utils._api_manifests import Catalogue
from ansible_collections.nvidia.air.plugins.module_utils._models import Image, OSImageManifest

CONNECTION = {"api_url": "https://air.example.com", "api_token": "nvapi-unit-test-token"}


def _module_args(args, check_mode=False, diff=False):
    args = dict(CONNECTION, **args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    return args


def make_module(module_class, args, check_mode=False, diff=False):
    """An instance of ``module_class`` built from ``args`` (argument spec validation included)."""
    with patch_module_args(_module_args(args, check_mode, diff)):
        return module_class()


def run_module(module_class, args, capsys, client=None, check_mode=False, diff=False):
    """Build and run a module to its end (exit_json or fail_json); its JSON result, parsed.

    ``client`` replaces the API client the module would build.
    """
    with patch_module_args(_module_args(args, check_mode, diff)):
        try:
            instance = module_class()
            if client is not None:
                instance._client = client
            instance()
        except SystemExit:
            pass
    return json.loads(capsys.readouterr().out)


def image(**fields):
    data = {
        "id": "935b994e-9e1e-4d85-9275-10f7b3111cd9", "name": "cumulus-vx", "version": "5.16.0",
        "default_username": "cumulus", "default_password": "s3cret-password", "mountpoint": None,
        "minimum_resources": {"cpu": 1, "memory": 1024, "storage": 10}, "includes_air_agent": False,
        "cpu_arch": "x86", "emulation_type": [], "emulation_version": "", "provider": "VM", "published": False,
        "publicly_published": False, "upload_status": "READY", "size": 0, "hash": "", "is_owned_by_client": True,
        "notes": "", "release_notes": "", "user_manual": "",
    }
    data.update(fields)
    return Image(data)


class _ReadOnly:
    """Any attribute that is not a known read fails the test (check mode must not write)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, name):
        raise AssertionError("unexpected client call %s.%s (a write in check mode?)" % (self._name, name))


class StubImages(_ReadOnly):
    def __init__(self, images, calls, may_delete=True):
        super(StubImages, self).__init__("images")
        self._images, self._calls, self._may_delete = images, calls, may_delete

    def may_delete(self):
        self._calls.append(("may_delete",))
        return self._may_delete

    def find(self, name, version, step=None):
        self._calls.append(("find_image", name, version))
        for candidate in self._images:
            if candidate.name == name and candidate.version == version:
                return candidate
        return None

    def list(self, max_items=None, **filters):
        """The stub's images matching the API's exact filters (``search``: substring of name or version)."""
        self._calls.append(("list_images", filters))
        found = [
            candidate for candidate in self._images
            if all(candidate.data.get(key) == value for key, value in filters.items() if key != "search")
            and (filters.get("search") is None
                 or any(filters["search"].lower() in (text or "").lower() for text in (candidate.name, candidate.version)))
        ]
        return found[:max_items] if max_items else found

    def get(self, image_id, step=None):
        self._calls.append(("get_image", image_id))
        for candidate in self._images:
            if candidate.id == image_id:
                return candidate
        raise AssertionError("images.get(%r): not in the stub" % image_id)


def manifest(**fields):
    data = {
        "id": "d55a035b-6151-4f21-b3a1-ea47fde5e6cc", "created": "2026-11-29T16:39:19.971552Z",
        "modified": "2026-11-29T16:39:19.971552Z", "image": "935b994e-9e1e-4d85-9275-10f7b3111cd9",
        "os_type": "cumulus-linux", "creator": "user@example.com", "os_template_partition": None, "capabilities": {},
        "platforms": {"SN3700": {"platform_information_version": "1.1", "os_template_version": "5.11"}},
    }
    data.update(fields)
    return OSImageManifest(data)


# A catalogue like the emulator's seeded one: (os_type, model, platform_information_version) and
# (os_type, os_template_version).
PLATFORM_INFORMATION = [
    {"os_type": os_type, "model": model, "platform_information_version": version}
    for os_type, model, version in (("cumulus-linux", "SN3700", "1.0"), ("cumulus-linux", "SN3700", "1.1"),
                                    ("cumulus-linux", "SN5600", "1.0"), ("sonic", "SN4700", "1.0"))
]
OS_TEMPLATES = [{"os_type": os_type, "os_template_version": version}
                for os_type, version in (("cumulus-linux", "5.9"), ("cumulus-linux", "5.11"), ("sonic", "202405"))]


class StubManifests(_ReadOnly):
    def __init__(self, manifests, calls):
        super(StubManifests, self).__init__("manifests")
        self._manifests, self._calls = manifests, calls

    def for_image(self, image_id, step=None):
        self._calls.append(("manifest_for_image", image_id))
        found = [m for m in self._manifests if m.image == image_id]
        return found[0] if found else None

    def catalogue(self, os_type):
        self._calls.append(("catalogue", os_type))
        return Catalogue(os_type, PLATFORM_INFORMATION, OS_TEMPLATES)

    def os_types(self):
        self._calls.append(("os_types",))
        return sorted(set(r["os_type"] for r in PLATFORM_INFORMATION + OS_TEMPLATES))


class StubPublishing(_ReadOnly):
    def __init__(self, may_publish, calls):
        super(StubPublishing, self).__init__("publishing")
        self._may_publish, self._calls = may_publish, calls

    def may_publish_directly(self, step="publish"):
        self._calls.append(("may_publish_directly",))
        return self._may_publish


class StubClient(_ReadOnly):
    """Lookups from ``images`` and ``manifests``, scope probes answering ``may_delete`` / ``may_publish``;
    any other call fails the test."""

    def __init__(self, images=(), manifests=(), may_delete=True, may_publish=True):
        super(StubClient, self).__init__("client")
        self.calls = []
        self.images = StubImages(list(images), self.calls, may_delete)
        self.manifests = StubManifests(list(manifests), self.calls)
        self.publishing = StubPublishing(may_publish, self.calls)
