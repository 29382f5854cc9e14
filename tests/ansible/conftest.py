# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the pytest-ansible layer: the nvidia.air modules run THROUGH ANSIBLE.

Every module call goes through pytest-ansible's ``ansible_adhoc`` fixture: an
ad-hoc play on ``localhost`` (``ansible_connection=local``, the interpreter of
this virtualenv), so argument-spec validation, AnsiballZ packaging of the
collection's module_utils, ``no_log`` masking and result handling are the real
ones. The modules talk to one Air API emulator started for the session.

The collection is found as ``nvidia.air`` through ``<repo>/collections``
(``collections/ansible_collections/nvidia/air -> ../../..``, made by
``make setup``; created here the same way when it is missing).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO_ROOT / "collections"
COLLECTION_LINK = COLLECTIONS / "ansible_collections" / "nvidia" / "air"

if not COLLECTION_LINK.exists():
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    COLLECTION_LINK.symlink_to("../../..")

# The modules' own processes and anything started from here resolve the
# collection from the repository, whatever the caller's environment says.
os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)

# ansible.constants was imported (and read its config) when the pytest-ansible
# plugin loaded, before this file; what finds collections is the collection
# finder. pytest-ansible installs one for <repo>/collections when pytest is
# started in the repository root (galaxy.yml there); otherwise install it now.
from ansible.plugins.loader import init_plugin_loader, module_loader  # noqa: E402
from ansible.utils.collection_loader import AnsibleCollectionConfig  # noqa: E402

if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([str(COLLECTIONS)])

from air_emulator.testing import DEMO_TOKEN, Emulator, write_random_file  # noqa: E402

MIB = 1024 * 1024
CHUNK_SIZE = 5 * MIB
# ~12 MiB with an odd tail: three parts of 5 MiB, 5 MiB and a short last one.
UPLOAD_SIZE = 12 * MIB + 4321
FQCN_PREFIX = "nvidia.air."


def pytest_configure(config):
    # pytest-ansible's host manager is marked deprecated and its ad-hoc play
    # re-initialises the plugin loader on every call; both only add noise.
    for line in (
        "ignore:Host management is deprecated:DeprecationWarning",
        "ignore:AnsibleCollectionFinder has already been configured:UserWarning",
        "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning",
    ):
        config.addinivalue_line("filterwarnings", line)


# --------------------------------------------------------------------- emulator
@pytest.fixture(scope="session")
def emulator():
    emu = Emulator("--chunk-size", str(CHUNK_SIZE), "--validation-delay", "0.2", "--transition-delay", "0.2")
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="session", autouse=True)
def _module_environment(tmp_path_factory):
    """Keep the modules' hash cache and upload journals out of the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NVIDIA_AIR_CACHE_DIR", str(tmp_path_factory.mktemp("nvidia-air-cache")))
        for name in ("AIR_API_URL", "AIR_API_TOKEN"):
            patch.delenv(name, raising=False)
        # pytest-ansible builds its ad-hoc task in a form ansible-core 2.19+ flags as
        # deprecated, once per call; the modules' own deprecations stay in each
        # result (``deprecations``), where the tests check them.
        patch.setenv("ANSIBLE_DEPRECATION_WARNINGS", "false")
        yield


@pytest.fixture(scope="session")
def inventory_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    path.write_text(
        "all:\n"
        "  hosts:\n"
        "    localhost:\n"
        "      ansible_connection: local\n"
        "      ansible_python_interpreter: %s\n" % sys.executable
    )
    return str(path)


@pytest.fixture(scope="session")
def _collection_resolves_to_repo():
    """Fail early and clearly when ``nvidia.air`` would come from somewhere else."""
    found = module_loader.find_plugin_with_context(FQCN_PREFIX + "air_image")
    assert found.resolved, "nvidia.air.air_image not found through %s" % COLLECTIONS
    resolved = Path(found.plugin_resolved_path).resolve()
    assert resolved == REPO_ROOT / "plugins" / "modules" / "air_image.py", resolved


class AnsibleAir:
    """Runs nvidia.air modules on localhost through pytest-ansible, one ad-hoc task each."""

    def __init__(self, host, api_url):
        self.host = host
        self.api_url = api_url

    def __call__(self, module, token=DEMO_TOKEN, **args):
        """Run ``nvidia.air.<module>`` with ``args``; the result of localhost as a plain dict."""
        args.setdefault("api_url", self.api_url)
        args.setdefault("api_token", token)
        results = getattr(self.host, FQCN_PREFIX + module)(**args)
        assert "localhost" in results, "localhost was not contacted: %r" % (results.contacted,)
        return dict(results["localhost"])


@pytest.fixture
def air(ansible_adhoc, inventory_file, emulator, _collection_resolves_to_repo):
    manager = ansible_adhoc(inventory=inventory_file, connection="local", host_pattern="localhost")
    return AnsibleAir(manager["localhost"], emulator.url)


# ------------------------------------------------------------------ local files
@pytest.fixture(scope="session")
def disk_image(tmp_path_factory):
    """A ~12 MiB file of random bytes (a stand-in for a qcow2)."""
    return write_random_file(tmp_path_factory.mktemp("images") / "disk.qcow2", UPLOAD_SIZE)
