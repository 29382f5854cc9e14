"""Image history through the unmodified SDK: ``Image.list_history(...)`` and ``Image.get_history_filters()``
(nv-air-sdk 1.9.0 ``HistoryModelMixin``)."""

from __future__ import annotations

from datetime import datetime

import pytest
from air_sdk.exceptions import AirUnexpectedResponse

DEMO_EMAIL = "demo@demo-org.example.com"
ENTRY_KEYS = {"object_id", "model", "created", "actor", "description", "severity", "labels"}


def test_list_history_with_ordering(api, make_image, small_file, wait_image):
    image = make_image("hist")
    image.update(notes="changed")
    image.upload(filepath=small_file.path)
    wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")

    newest_first = list(image.list_history())
    assert all(set(entry) == ENTRY_KEYS for entry in newest_first)
    assert all(isinstance(entry["created"], datetime) and entry["created"].tzinfo for entry in newest_first)
    assert [e["labels"] for e in newest_first] == [["validation"], ["upload"], ["upload"], ["image"], ["image"]]
    assert list(image.list_history(ordering="-created")) == newest_first
    oldest_first = list(image.list_history(ordering="created"))
    assert oldest_first == newest_first[::-1]
    assert oldest_first[0]["description"].endswith("created.") and oldest_first[0]["actor"] == DEMO_EMAIL
    assert [e["actor"] for e in image.list_history(ordering="actor")] == [DEMO_EMAIL] * 4 + ["system"]
    # the SDK follows `next` across pages
    api.client.pagination_page_size = 2
    assert list(image.list_history(ordering="created")) == oldest_first


def test_list_history_with_label_severity_actor_and_search(api, make_image, small_file, wait_image):
    image = make_image("filters")
    image.upload(filepath=small_file.path)
    wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")
    image.clear_upload()
    api.images.upload(image=image, filepath=small_file.path)  # the second upload, validated again
    wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")

    validation = list(image.list_history(label="validation"))
    assert len(validation) == 2 and all(e["description"].startswith("Validation passed") for e in validation)
    assert list(image.list_history(severity="ERROR")) == []
    assert len(list(image.list_history(severity="INFO"))) == 8
    assert len(list(image.list_history(actor=DEMO_EMAIL.upper()))) == 6
    assert [e["description"] for e in image.list_history(search="cleared")] == \
        [e["description"] for e in image.list_history() if e["description"].startswith("Uploaded file cleared")]
    both = list(image.list_history(label="upload", actor=DEMO_EMAIL, search="started", ordering="created"))
    assert len(both) == 2 and all(e["description"].startswith("Upload started") for e in both)


def test_get_history_filters(api, make_image, small_file, wait_image):
    image = make_image("hf")
    assert image.get_history_filters() == {"actors": [DEMO_EMAIL], "severities": ["INFO"], "labels": ["image"]}
    image.upload(filepath=small_file.path)
    wait_image(api, image.id, lambda i: i.upload_status == "COMPLETE")
    assert image.get_history_filters() == {"actors": [DEMO_EMAIL, "system"], "severities": ["INFO"],
                                           "labels": ["image", "upload", "validation"]}


def test_another_orgs_history_is_not_readable(api, partner_api, make_image, uploaded_image, wait_image):
    private = make_image("private")
    published = uploaded_image("published")
    published.publish()
    wait_image(api, published.id, lambda i: i.published and i.upload_status == "COMPLETE")
    # The same images as the partner's SDK client holds them (it loads what the owner's client read).
    for image, status in ((private, 404), (published, 403)):
        as_partner = partner_api.images.load_model(image.dict())
        for call in (lambda: list(as_partner.list_history()), as_partner.get_history_filters):
            with pytest.raises(AirUnexpectedResponse) as raised:
                call()
            assert raised.value.status_code == status
    assert list(private.list_history())  # the owner reads it
