"""OS image manifests and their catalogue through the unmodified SDK.

``image.upload(..., os_image_manifest=...)`` polls the image through
``VALIDATING`` with the SDK's fixed 5 s interval, so the two upload tests take
about five seconds each.
"""

from __future__ import annotations

import pytest
from air_sdk.endpoints.images import Image
from air_sdk.endpoints.os_image_manifests import OSImageManifest
from air_sdk.endpoints.os_templates import OSTemplate
from air_sdk.endpoints.platform_information import PlatformInformation
from air_sdk.exceptions import AirError, AirUnexpectedResponse

DEMO_EMAIL = "demo@demo-org.example.com"
TWO_MODELS = {
    "SN3700": {"platform_information_version": "1.1", "os_template_version": "5.11"},
    "SN5600": {"platform_information_version": "1.0", "os_template_version": "5.9"},
}


def test_catalogue_lists_and_gets(api, readonly_api):
    records = list(api.platform_information.list())
    assert all(isinstance(r, PlatformInformation) for r in records)
    assert {(r.os_type, r.model) for r in records} == {
        ("cumulus-linux", "SN3700"), ("cumulus-linux", "SN5600"), ("sonic", "SN4700")}
    sn3700 = list(api.platform_information.list(model="SN3700", os_type="cumulus-linux"))
    assert [r.platform_information_version for r in sn3700] == ["1.0", "1.1"]
    latest = sn3700[1]
    assert latest.emulation_type is None and latest.creator
    assert latest.ports_config["split_options"] == ["1", "2", "4"]
    assert set(latest.port_map) == {"mgmt", "1", "2", "4"}
    assert latest.minimum_resources == {"cpu": 2, "memory": 2048, "storage": 10}
    again = api.platform_information.get(latest.id)
    assert (again.model, again.platform_information_version, again.created) == ("SN3700", "1.1", latest.created)

    templates = list(readonly_api.os_templates.list(os_type="cumulus-linux"))
    assert all(isinstance(t, OSTemplate) for t in templates)
    assert [t.os_template_version for t in templates] == ["5.9", "5.11"]
    assert [t.os_template_version for t in api.os_templates.list(os_type="sonic", ordering="-os_template_version")] \
        == ["202405", "202311"]
    template = api.os_templates.get(templates[0].id)
    assert template.org and template.vars == ["hostname", "mgmt_mac"]
    assert all(path.startswith("/") and "content" in entry for path, entry in template.render.items())


def test_manifest_create_list_get_update_delete(api, uploaded_image, emulator):
    image = uploaded_image("crud")
    manifest = api.os_image_manifests.create(image=image, os_type="cumulus-linux", platforms=TWO_MODELS,
                                             capabilities={"vsock": {}}, os_template_partition="/dev/sda3")
    assert isinstance(manifest, OSImageManifest)
    assert (manifest.os_type, manifest.platforms, manifest.capabilities, manifest.os_template_partition,
            manifest.creator) == ("cumulus-linux", TWO_MODELS, {"vsock": {}}, "/dev/sda3", DEMO_EMAIL)
    # `image` is a lazy foreign key: reading its fields loads the Image through the SDK.
    assert manifest.image.id == image.id and manifest.image.name == image.name
    assert isinstance(manifest.image, Image)

    assert [m.id for m in api.os_image_manifests.list()] == [manifest.id]
    assert [m.id for m in api.os_image_manifests.list(image=image)] == [manifest.id]
    assert [m.id for m in api.os_image_manifests.list(image=image.id, os_type="cumulus-linux")] == [manifest.id]
    assert list(api.os_image_manifests.list(os_type="sonic")) == []
    assert [m.id for m in api.os_image_manifests.list(search=image.name, ordering="-created")] == [manifest.id]
    fetched = api.os_image_manifests.get(manifest.id)
    assert fetched.platforms == TWO_MODELS
    assert (fetched.created, fetched.modified) == (manifest.created, manifest.modified)

    # Model.update(): PATCH with the given fields, then the instance shows the server's answer.
    one_model = {"SN3700": {"platform_information_version": "1.0", "os_template_version": "5.11"}}
    manifest.update(platforms=one_model)
    assert manifest.platforms == one_model and manifest.modified > fetched.modified
    assert manifest.capabilities == {"vsock": {}}  # untouched
    # Endpoint patch(): None clears the partition.
    patched = api.os_image_manifests.patch(manifest.id, os_template_partition=None, capabilities={})
    assert (patched.os_template_partition, patched.capabilities, patched.platforms) == (None, {}, one_model)
    assert emulator.state()["manifests"] == 1

    manifest.delete()
    assert manifest.id is None
    assert list(api.os_image_manifests.list()) == []
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.os_image_manifests.get(fetched.id)
    assert excinfo.value.status_code == 404
    assert api.images.get(image.id).upload_status == "COMPLETE"  # the image stays


def test_refused_requests_surface_as_sdk_errors_and_change_nothing(api, readonly_api, make_image, uploaded_image):
    image = uploaded_image("bad")
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.os_image_manifests.create(image=image, os_type="cumulus-linux", capabilities={"teleport": {}})
    assert excinfo.value.status_code == 400 and "teleport" in str(excinfo.value)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.os_image_manifests.create(image=image, os_type="cumulus-linux", os_template_partition="")
    assert excinfo.value.status_code == 400 and "os_template_partition" in str(excinfo.value)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.os_image_manifests.create(image=image, os_type="cumulus-linux", platforms={
            "SN3700": {"platform_information_version": "7.7", "os_template_version": "5.9"}})
    assert excinfo.value.status_code == 400 and "SN3700" in str(excinfo.value) and "'7.7'" in str(excinfo.value)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.os_image_manifests.create(image=make_image("ready"), os_type="cumulus-linux")
    assert excinfo.value.status_code == 400 and "READY" in str(excinfo.value)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        readonly_api.os_image_manifests.create(image=image, os_type="cumulus-linux")
    assert excinfo.value.status_code == 403
    assert list(api.os_image_manifests.list()) == []

    manifest = api.os_image_manifests.create(image=image, os_type="cumulus-linux", platforms=TWO_MODELS)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.os_image_manifests.create(image=image, os_type="cumulus-linux")
    assert excinfo.value.status_code == 400 and manifest.id in str(excinfo.value)
    # os_type is immutable; the SDK passes unknown kwargs through, the API names the reason.
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        api.os_image_manifests.patch(manifest.id, os_type="sonic")
    assert excinfo.value.status_code == 400 and "os_type cannot be changed" in str(excinfo.value)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        manifest.update(platforms={"SN4700": {"platform_information_version": "1.0", "os_template_version": None}})
    assert excinfo.value.status_code == 400 and "SN4700" in str(excinfo.value)
    fresh = api.os_image_manifests.get(manifest.id)
    assert (fresh.os_type, fresh.platforms, fresh.modified) == ("cumulus-linux", TWO_MODELS, manifest.modified)


def test_upload_attaches_the_manifest_once_the_image_is_complete(api, make_image, small_file, emulator):
    image = make_image("upload")
    spec = {"os_type": "cumulus-linux", "platforms": TWO_MODELS, "capabilities": {"vsock": {}}}
    returned = image.upload(filepath=small_file.path, os_image_manifest=spec)
    assert returned.id == image.id
    done = api.images.get(image.id)
    assert (done.upload_status, done.hash, done.size) == ("COMPLETE", small_file.sha256, small_file.size)
    manifests = list(api.os_image_manifests.list(image=image.id))
    assert len(manifests) == 1
    assert (manifests[0].os_type, manifests[0].platforms, manifests[0].capabilities) == (
        "cumulus-linux", TWO_MODELS, {"vsock": {}})
    # created only after validation finished (the API refuses a manifest before COMPLETE)
    assert manifests[0].created >= done.last_uploaded_at
    assert emulator.state()["uploads"] == []


def test_create_with_a_bad_manifest_keeps_the_uploaded_image(api, unique, small_file):
    spec = {"os_type": "cumulus-linux",
            "platforms": {"SN9999": {"platform_information_version": "1.0", "os_template_version": "5.9"}}}
    with pytest.raises(AirError) as excinfo:
        api.images.create(name=f"conf-{unique}-badmanifest", version="1.0.0", default_username="cumulus",
                          default_password="CumulusLinux!", filepath=small_file.path, os_image_manifest=spec)
    assert "creating its OS image manifest failed" in str(excinfo.value)
    cause = excinfo.value.__cause__
    assert isinstance(cause, AirUnexpectedResponse) and cause.status_code == 400 and "SN9999" in str(cause)
    [image] = api.images.list(name=f"conf-{unique}-badmanifest")
    assert (image.upload_status, image.hash) == ("COMPLETE", small_file.sha256)
    assert list(api.os_image_manifests.list()) == []
    # fix the payload and retry, as the SDK's error message says
    spec["platforms"] = {"SN3700": {"platform_information_version": "1.0", "os_template_version": "5.9"}}
    manifest = api.os_image_manifests.create(image=image.id, **spec)
    assert manifest.image.id == image.id


def test_partner_reads_the_manifest_of_a_published_image(api, partner_api, uploaded_image, wait_image):
    image = uploaded_image("pub")
    manifest = api.os_image_manifests.create(image=image, os_type="sonic", platforms={
        "SN4700": {"platform_information_version": "2.0", "os_template_version": "202405"}})
    assert list(partner_api.os_image_manifests.list()) == []
    image.publish()
    wait_image(api, image.id, lambda i: i.published and i.upload_status == "COMPLETE")
    seen = partner_api.os_image_manifests.get(manifest.id)
    assert (seen.os_type, seen.platforms) == ("sonic", manifest.platforms)
    with pytest.raises(AirUnexpectedResponse) as excinfo:
        seen.delete()
    assert excinfo.value.status_code == 403
    assert [m.id for m in api.os_image_manifests.list()] == [manifest.id]
