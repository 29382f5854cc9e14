"""Fixtures for the SDK conformance suite.

The suite drives the official, unmodified ``nv-air-sdk`` (``air_sdk.AirApi``)
against the local emulator (``air_emulator``) and checks what the SDK gets
back.  One emulator process serves the whole session; every test starts from
an empty emulator (``reset``), so tests do not depend on each other.

Emulator settings: 5 MiB parts (S3's minimum) so a ~23 MiB file is a
5-part upload, and short validation / publish / copy delays so the
asynchronous states are visible but quick.
"""

from __future__ import annotations

import time
import uuid

import pytest
from air_emulator.testing import DEMO_TOKEN, PARTNER_TOKEN, READONLY_TOKEN, Emulator, LocalFile, write_random_file
from air_sdk import AirApi

MIB = 1024 * 1024
CHUNK_SIZE = 5 * MIB  # == S3 / SDK minimum part size
# 23 MiB plus an odd tail: ceil(size / 5 MiB) == 5 parts, the last one short.
BIG_FILE_SIZE = 23 * MIB + 12_345


# --------------------------------------------------------------------- emulator
@pytest.fixture(scope="session")
def emulator():
    emu = Emulator("--chunk-size", str(CHUNK_SIZE), "--validation-delay", "0.2", "--transition-delay", "0.2")
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator):
    """Every test starts with no images, shares, uploads, faults and a real clock."""
    emulator.reset()
    yield
    emulator.clear_faults()


# ------------------------------------------------------------------ SDK clients
@pytest.fixture
def api(emulator) -> AirApi:
    """SDK client for the demo org (all image scopes)."""
    return AirApi(api_url=emulator.url, api_key=DEMO_TOKEN)


@pytest.fixture
def partner_api(emulator) -> AirApi:
    """SDK client for the partner org ``partner-org`` (all image scopes)."""
    return AirApi(api_url=emulator.url, api_key=PARTNER_TOKEN)


@pytest.fixture
def readonly_api(emulator) -> AirApi:
    """SDK client for the demo org with only ``air:image_read``."""
    return AirApi(api_url=emulator.url, api_key=READONLY_TOKEN)


# ------------------------------------------------------------------------ files
@pytest.fixture(scope="session")
def big_file(tmp_path_factory) -> LocalFile:
    """~23 MiB of random bytes: a 5-part upload with 5 MiB chunks."""
    return write_random_file(tmp_path_factory.mktemp("files") / "big.qcow2", BIG_FILE_SIZE)


@pytest.fixture(scope="session")
def small_file(tmp_path_factory) -> LocalFile:
    """Just over 1 MiB: a single-part upload."""
    return write_random_file(tmp_path_factory.mktemp("files") / "small.qcow2", MIB + 17)


@pytest.fixture(scope="session")
def other_small_file(tmp_path_factory) -> LocalFile:
    """Different bytes (and hash) from ``small_file``."""
    return write_random_file(tmp_path_factory.mktemp("files") / "other.qcow2", MIB + 4_099)


# ---------------------------------------------------------------------- helpers
@pytest.fixture
def unique() -> str:
    """A short random suffix for image names."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def make_image(api, unique):
    """``make_image(suffix, client=api, **fields)`` creates an image through the SDK."""
    counter = iter(range(1, 10_000))

    def make(suffix: str | None = None, client: AirApi | None = None, **fields):
        client = client or api
        fields.setdefault("name", f"conf-{unique}-{suffix or next(counter)}")
        fields.setdefault("version", "1.0.0")
        fields.setdefault("default_username", "cumulus")
        fields.setdefault("default_password", "CumulusLinux!")
        return client.images.create(**fields)

    return make


@pytest.fixture
def wait_image():
    """``wait_image(client, image_id, predicate, timeout)`` polls ``client.images.get``.

    Returns ``(image, seen)`` where ``seen`` lists every distinct
    ``upload_status`` observed while polling, in order.
    """

    def wait(client: AirApi, image_id: str, predicate, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while True:
            image = client.images.get(image_id)
            if not seen or seen[-1] != image.upload_status:
                seen.append(image.upload_status)
            if predicate(image):
                return image, seen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"image {image_id} did not reach the expected state within {timeout}s; "
                    f"statuses seen: {seen}; last: upload_status={image.upload_status} "
                    f"published={image.published}"
                )
            time.sleep(0.05)

    return wait


@pytest.fixture
def uploaded_image(make_image, small_file, wait_image, api):
    """``uploaded_image(suffix, client=api, file=small_file, **fields)`` -> COMPLETE image."""

    def make(suffix: str | None = None, client: AirApi | None = None, file: LocalFile | None = None, **fields):
        client = client or api
        file = file or small_file
        image = make_image(suffix, client=client, **fields)
        image.upload(filepath=file.path)
        done, _seen = wait_image(client, image.id, lambda i: i.upload_status == "COMPLETE")
        assert done.hash == file.sha256 and done.size == file.size
        return done

    return make
