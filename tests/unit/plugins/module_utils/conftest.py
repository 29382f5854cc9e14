# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the nvidia.air module_utils unit tests.

The client is tested against the real Air API emulator (``air_emulator``),
started once per session on a free port; every test that uses it starts from
an empty emulator (``reset``: no images, uploads, faults, clock offset).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from air_unit_helpers import (  # noqa: E402
    DEMO_TOKEN,
    EMULATOR_ARGS,
    REPO_ROOT,
    assert_redacted,
    image_fields,
)


def _collections_path():
    """A directory holding ``ansible_collections/nvidia/air`` -> the repository root.

    ``make setup`` creates ``collections/`` in the repository; without it a
    temporary one is made so a plain ``pytest tests/unit`` still works.
    """
    if REPO_ROOT.endswith(os.path.join(os.sep, "ansible_collections", "nvidia", "air")):
        # Already laid out as a collection (the copy `ansible-test units` runs in).
        return os.path.dirname(os.path.dirname(os.path.dirname(REPO_ROOT)))
    collections = os.path.join(REPO_ROOT, "collections")
    if os.path.isdir(os.path.join(collections, "ansible_collections", "nvidia", "air", "plugins")):
        return collections
    collections = tempfile.mkdtemp(prefix="nvidia-air-collections-")
    os.makedirs(os.path.join(collections, "ansible_collections", "nvidia"))
    os.symlink(REPO_ROOT, os.path.join(collections, "ansible_collections", "nvidia", "air"))
    return collections


COLLECTIONS = _collections_path()
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

from air_emulator.testing import Emulator, write_random_file  # noqa: E402
from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient  # noqa: E402
from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy  # noqa: E402
from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader  # noqa: E402

FAST_RETRY = dict(base=0.02, cap=0.2)


@pytest.fixture(scope="session")
def collections_path():
    """What a child process puts on sys.path to import the collection."""
    return COLLECTIONS


@pytest.fixture(scope="session")
def emulator():
    with Emulator(*EMULATOR_ARGS) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fresh_emulator(request):
    """Reset the shared emulator (data, faults, clock) before each test that uses it."""
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").reset()
    yield


@pytest.fixture
def make_client(emulator):
    clients = []

    def make(token=DEMO_TOKEN, **kwargs):
        kwargs.setdefault("retry", RetryPolicy(**FAST_RETRY))
        client = AirClient(api_url=emulator.url, api_token=token, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / "cache")


@pytest.fixture
def warnings_seen():
    """Every warning an uploader emitted; checked for secrets at teardown."""
    seen = []
    yield seen
    for text in seen:
        assert_redacted(text)


@pytest.fixture
def make_uploader(client, cache_dir, warnings_seen):
    def make(for_client=None, **kwargs):
        kwargs.setdefault("cache_dir", cache_dir)
        kwargs.setdefault("retry", RetryPolicy(**FAST_RETRY))
        kwargs.setdefault("warn", warnings_seen.append)
        return ImageUploader(for_client or client, **kwargs)

    return make


@pytest.fixture
def make_image(client):
    counter = [0]

    def make(name=None, version="1.0", **extra):
        counter[0] += 1
        return client.images.create(image_fields(name or "image-%d" % counter[0], version, **extra))

    return make


@pytest.fixture
def random_file(tmp_path):
    directory = tmp_path / "files"
    directory.mkdir()

    def make(size, name=None):
        return write_random_file(str(directory / (name or "file-%d.img" % size)), size)

    return make


@pytest.fixture
def world_tmp():
    """A temporary directory other users can enter (for tests that drop privileges)."""
    path = tempfile.mkdtemp(prefix="nvidia-air-unit-")
    os.chmod(path, 0o755)
    yield path
    for root, dirs, _files in os.walk(path):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(path, ignore_errors=True)
