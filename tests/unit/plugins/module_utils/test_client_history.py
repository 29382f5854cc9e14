# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AirClient image history against the emulator, and the uploader quoting the server's reason for a rejected file."""

from __future__ import annotations

import hashlib

from air_unit_helpers import PARTNER_TOKEN, PASSWORD, air_raises, assert_nothing_started, image_fields

from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirAuthError,
    AirInputError,
    AirNotFoundError,
    AirValidationError,
)
from ansible_collections.nvidia.air.plugins.module_utils._models import HISTORY_FIELDS, HistoryEntry

DEMO_EMAIL = "demo@demo-org.example.com"


def uploaded(client, make_uploader, random_file, name="hist", **kwargs):
    image = client.images.create(image_fields(name))
    image, _stats = make_uploader().upload(image, random_file(4096).path, poll_interval=0.05, **kwargs)
    return image


def test_history_newest_first_with_filters_across_pages(client, make_client, make_uploader, random_file):
    image = uploaded(client, make_uploader, random_file)
    client.images.update(image, {"notes": "n"})

    entries = client.images.history(image.id)
    assert all(isinstance(e, HistoryEntry) for e in entries)
    assert [e.labels for e in entries] == [["image"], ["validation"], ["upload"], ["upload"], ["image"]]
    assert list(entries[0].to_result()) == list(HISTORY_FIELDS)
    assert entries[0].to_result()["description"] == "Updated notes."
    assert [e.actor for e in entries] == [DEMO_EMAIL, "system", DEMO_EMAIL, DEMO_EMAIL, DEMO_EMAIL]

    paged = make_client(page_size=2).images.history(image.id, ordering="created")  # 3 pages
    assert [e.data for e in paged] == [e.data for e in reversed(entries)]
    assert [e.description for e in client.images.history(image.id, label="validation")] == \
        [entries[1].description]
    assert client.images.history(image.id, severity="ERROR") == []
    assert len(client.images.history(image.id, actor=DEMO_EMAIL.upper(), search="UPLOAD")) == 2
    assert client.images.history(image.id, max_items=1) == entries[:1]
    assert client.images.history_filters(image.id) == {
        "actors": [DEMO_EMAIL, "system"], "severities": ["INFO"], "labels": ["image", "upload", "validation"]}
    assert client.images.newest_error(image.id) is None


def test_history_errors_name_the_image(client, make_client, make_uploader, random_file):
    with air_raises(AirNotFoundError):
        client.images.history("00000000-0000-4000-8000-000000000000")
    with air_raises(AirInputError, match="not a valid id"):
        client.images.history("../images")
    theirs = make_client(token=PARTNER_TOKEN).images
    with air_raises(AirNotFoundError):  # another org's unpublished image does not exist for it
        theirs.history(client.images.create(image_fields("private")).id)
    public = uploaded(client, make_uploader, random_file, name="public")
    client.images.action(public, "publish", "publish", body={})
    client.images.wait_for(public, lambda i: i.published and i.upload_status == "COMPLETE", poll_interval=0.05)
    with air_raises(AirAuthError, match="owns this image") as raised:
        theirs.history(public.id)
    assert raised.value.status == 403
    with air_raises(AirApiError, match="severity") as raised:
        client.images.history(public.id, severity="bogus")
    assert raised.value.status == 400
    # what cannot be read is no reason: newest_error answers None
    assert theirs.newest_error(public.id) is None


def test_a_rejected_upload_quotes_the_servers_reason(emulator, make_image, make_uploader, random_file, cache_dir):
    local = random_file(4096)
    image = make_image()
    wrong = hashlib.sha256(b"something else").hexdigest()
    with air_raises(AirValidationError) as raised:
        make_uploader().upload(image, local.path, checksum=wrong, poll_interval=0.05, wait_timeout=120)
    message = raised.value.message
    reason = emulator.state()["validation_errors"][image.id]
    assert message == ("the server's validation rejected the file; the image is READY again. The server says: "
                       "Validation failed: %s; the file was discarded and the image is READY again." % reason)
    assert wrong in message and PASSWORD not in message
    assert_nothing_started(emulator, image.id, cache_dir)


def test_without_a_history_the_rejection_keeps_the_general_message(emulator, client, make_image, make_uploader,
                                                                   random_file):
    """A server that keeps no history (404 on history/) or refuses it: the upload fails as before, no traceback."""
    for status in (404, 500):
        emulator.clear_faults()
        emulator.add_fault(action="status", status=status, method="GET", path="/history/$", count=0)
        image = make_image()
        with air_raises(AirValidationError) as raised:
            make_uploader().upload(image, random_file(4096).path, checksum="0" * 64, poll_interval=0.05,
                                   wait_timeout=120)
        assert raised.value.message == ("the server's validation rejected the file (size or SHA-256 mismatch); "
                                        "the image is READY again")
