"""Fixtures for the emulator's own test suite.

One emulator process serves the whole session (``emulator``); an autouse
fixture resets it before every test that uses it, so tests stay independent
and the suite stays fast. Tests that need special settings or restarts start
their own ``Emulator``.
"""

from __future__ import annotations

import pytest

from air_emulator.testing import Emulator
from airemu_helpers import CHUNK, EMULATOR_ARGS, HELD_EMULATOR_ARGS, MIB, write_file


@pytest.fixture(scope="session")
def emulator():
    with Emulator(*EMULATOR_ARGS) as emu:
        yield emu


@pytest.fixture(scope="session")
def held_emulator():
    """Like ``emulator``, but PUBLISHING / UNPUBLISHING last until the test calls ``finish_transitions``."""
    with Emulator(*HELD_EMULATOR_ARGS) as emu:
        yield emu


@pytest.fixture(autouse=True)
def _fresh_emulator(request):
    """Reset the shared emulators (data, faults, clock) before each test that uses one."""
    for name in ("emulator", "held_emulator"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()
    yield


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("images")

    class Files:
        small = write_file(directory, 4096, seed=1, name="small.img")  # one part
        other = write_file(directory, 3000, seed=2, name="other.img")  # one part, different content
        two_parts = write_file(directory, CHUNK + 1000, seed=3, name="two-parts.img")
        big = write_file(directory, 11 * MIB, seed=4, name="big.img")  # 3 parts of 5, 5 and 1 MiB

    return Files
