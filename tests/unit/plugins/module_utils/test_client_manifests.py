# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""client.manifests against the emulator: manifests, the catalogue, lost answers."""

from __future__ import annotations

import itertools

import pytest

from air_unit_helpers import MIB, PARTNER_TOKEN, air_raises

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError, AirNotFoundError
from ansible_collections.nvidia.air.plugins.module_utils._models import OSImageManifest, manifest_changes

PIN_3700 = {"platform_information_version": "1.1", "os_template_version": "5.11"}
PIN_5600 = {"platform_information_version": "1.0", "os_template_version": "5.9"}


@pytest.fixture
def uploaded(make_image, make_uploader, random_file):
    """A factory of COMPLETE images (one small part each)."""
    local = random_file(MIB)

    def make(name=None, **extra):
        image, _stats = make_uploader().upload(make_image(name, **extra), local.path, poll_interval=0.05,
                                               wait_timeout=60)
        assert image.upload_status == "COMPLETE"
        return image

    return make


def stored_manifests(emulator, **params):
    return emulator.api("GET", "manifests/os-images", params=dict(params, limit=1000)).json()["results"]


# ------------------------------------------------------------------ manifests
def test_create_find_update_delete(emulator, client, uploaded):
    image = uploaded("nos")
    assert client.manifests.for_image(image.id) is None

    created = client.manifests.create(image, {"os_type": "cumulus-linux", "platforms": {"SN3700": PIN_3700},
                                              "capabilities": {"vsock": {}}})
    assert isinstance(created, OSImageManifest)
    assert (created.image, created.os_type, created.platforms) == (image.id, "cumulus-linux", {"SN3700": PIN_3700})
    assert created.to_result() == stored_manifests(emulator, image=image.id)[0]
    assert client.manifests.for_image(image.id) == created == client.manifests.get(created.id)

    # PATCH replaces platforms whole: what manifest_changes computes is what the API stores.
    changes = manifest_changes(created, {"platforms": {"SN5600": PIN_5600}})
    updated = client.manifests.update(created, {"platforms": changes["platforms"][1]}, image)
    assert updated.platforms == {"SN3700": PIN_3700, "SN5600": PIN_5600}
    assert updated.capabilities == {"vsock": {}} and updated.id == created.id
    purged = client.manifests.update(updated, {"platforms": manifest_changes(
        updated, {"platforms": {"SN5600": PIN_5600}}, purge_platforms=True)["platforms"][1]})
    assert purged.platforms == {"SN5600": PIN_5600}

    assert client.manifests.delete(purged, image) is True
    assert client.manifests.delete(purged, image) is False  # already gone
    assert client.manifests.for_image(image.id) is None
    assert emulator.state()["manifests"] == 0
    assert client.images.get(image.id).upload_status == "COMPLETE"  # the image stays


def test_a_lost_create_answer_is_found_again_not_sent_twice(emulator, client, uploaded):
    image = uploaded("lost")
    emulator.add_fault(action="drop", method="POST", path="/api/v3/manifests/os-images/$")
    created = client.manifests.create(image, {"os_type": "sonic", "platforms": {
        "SN4700": {"platform_information_version": "2.0", "os_template_version": "202405"}}})
    assert created.image == image.id and created.os_type == "sonic"
    assert [m["id"] for m in stored_manifests(emulator)] == [created.id]
    assert emulator.faults()[0]["fired"] == 1


def test_refusals_name_the_field_and_change_nothing(emulator, client, make_client, make_image, uploaded):
    image = uploaded("refused")
    manifest = client.manifests.create(image, {"os_type": "cumulus-linux"})
    with air_raises(AirApiError, match="already has an OS image manifest") as second:
        client.manifests.create(image, {"os_type": "cumulus-linux"})
    assert second.value.status == 400 and manifest.id in str(second.value)
    with air_raises(AirApiError, match="os_type cannot be changed") as changed:
        client.manifests.update(manifest, {"os_type": "sonic"}, image)
    assert "os_type" in changed.value.field_errors
    with air_raises(AirApiError, match="upload_status is READY"):
        client.manifests.create(make_image("empty"), {"os_type": "cumulus-linux"})
    with air_raises(AirNotFoundError):  # the partner cannot see the manifest of an unpublished image
        make_client(PARTNER_TOKEN).manifests.update(manifest, {"platforms": {}})
    assert stored_manifests(emulator) == [manifest.to_result()]


def test_by_image_looks_up_a_few_images_and_lists_for_many(emulator, client, uploaded, make_image):
    images = [uploaded("many-%d" % n) for n in range(7)] + [make_image("no-file")]
    with_manifest = images[::2]
    for image in with_manifest:
        client.manifests.create(image, {"os_type": "cumulus-linux"})
    few = client.manifests.by_image([i.id for i in images[:3]])
    assert sorted(few) == sorted([images[0].id, images[2].id])
    many = client.manifests.by_image([i.id for i in images])
    assert sorted(many) == sorted(i.id for i in with_manifest)
    assert all(many[i].image == i for i in many)
    assert client.manifests.by_image([]) == {}


# ------------------------------------------------------------------ catalogue
def test_catalogue_of_an_os_type(client):
    cumulus = client.manifests.catalogue("cumulus-linux")
    assert cumulus.models == {"SN3700": {"1.0", "1.1"}, "SN5600": {"1.0"}}
    assert cumulus.templates == {"5.9", "5.11"}
    assert not cumulus.is_empty
    assert client.manifests.catalogue("cumulus").is_empty
    assert client.manifests.os_types() == ["cumulus-linux", "sonic"]
    assert cumulus.pin_errors({"SN3700": PIN_3700, "SN5600": {"platform_information_version": None,
                                                              "os_template_version": None}}) == []
    assert cumulus.pin_errors({
        "SN9999": PIN_3700,
        "SN3700": {"platform_information_version": "9.9", "os_template_version": "4.0"},
        "SN4700": PIN_3700,
    }) == [
        "SN3700: platform_information_version '9.9' does not exist for os_type 'cumulus-linux' (available: 1.0, 1.1)",
        "SN3700: os_template_version '4.0' does not exist for os_type 'cumulus-linux' (available: 5.9, 5.11)",
        "SN4700: unknown model for os_type 'cumulus-linux' (known models: SN3700, SN5600)",
        "SN9999: unknown model for os_type 'cumulus-linux' (known models: SN3700, SN5600)",
    ]


def test_the_client_refuses_exactly_the_pins_the_api_refuses(emulator, client, uploaded):
    """Every combination of model, version and template: the catalogue check agrees with the API's."""
    image = uploaded("agree")
    models = ("SN3700", "SN5600", "SN4700")
    versions = (None, "1.0", "1.1", "2.0")
    templates = (None, "5.9", "5.11", "202405")
    for os_type in ("cumulus-linux", "sonic"):
        catalogue = client.manifests.catalogue(os_type)
        for model, version, template in itertools.product(models, versions, templates):
            platforms = {model: {"platform_information_version": version, "os_template_version": template}}
            refused_here = bool(catalogue.pin_errors(platforms))
            response = emulator.api("POST", "manifests/os-images",
                                    json={"image": image.id, "os_type": os_type, "platforms": platforms})
            assert response.status_code == (400 if refused_here else 201), (os_type, platforms, response.text)
            if response.status_code == 201:
                assert emulator.api("DELETE", "manifests/os-images/%s" % response.json()["id"],
                                    json={}).status_code == 204
    assert emulator.state()["manifests"] == 0
