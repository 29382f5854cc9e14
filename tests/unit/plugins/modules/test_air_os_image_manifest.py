# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""air_os_image_manifest: option parsing, desired state, and check-mode predictions (stub client, no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError, AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._models import OSImageManifest, manifest_changes
from ansible_collections.nvidia.air.plugins.modules.air_os_image_manifest import (
    AirOsImageManifestModule,
    parse_capabilities,
    parse_platforms,
)
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import (
    StubClient,
    StubManifests,
    image,
    make_module,
    manifest,
    run_module,
)

PIN_3700 = {"platform_information_version": "1.1", "os_template_version": "5.11"}
PIN_5600 = {"platform_information_version": "1.0", "os_template_version": "5.9"}
IMAGE = {"name": "cumulus-vx", "version": "5.16.0"}


def uploaded(**fields):
    return image(upload_status="COMPLETE", size=1024, hash="ab" * 32, **fields)


# ------------------------------------------------------------------ option parsing
def test_platforms_get_both_pins_and_whole_numbers_become_strings():
    assert parse_platforms({"SN3700": {"platform_information_version": "1.1"}, "SN4700": None,
                            "SN5600": {"os_template_version": 202311}}) == {
        "SN3700": {"platform_information_version": "1.1", "os_template_version": None},
        "SN4700": {"platform_information_version": None, "os_template_version": None},
        "SN5600": {"platform_information_version": None, "os_template_version": "202311"},
    }


@pytest.mark.parametrize("platforms, message", [
    ({"SN3700": {"os_template_version": 5.10}}, "platforms.SN3700.os_template_version is the number 5.1; quote"),
    ({"SN3700": {"platform_information_version": True}}, "platforms.SN3700.platform_information_version must be a"),
    ({"SN3700": {"platform_information_version": ""}}, "must be a non-empty version string or null"),
    ({"SN3700": {"platform_information_version": ["1.1"]}}, "must be a non-empty version string or null"),
    ({"SN3700": {"os_template": "5.11"}}, "platforms.SN3700 has unknown key(s) os_template; use"),
    ({"SN3700": "1.1"}, "platforms.SN3700 must be a dictionary with platform_information_version and"),
    ({" ": PIN_3700}, "platforms: model names must be non-empty strings"),
])
def test_bad_platforms_name_the_model_and_key(platforms, message):
    with pytest.raises(AirInputError) as raised:
        parse_platforms(platforms)
    assert message in str(raised.value)
    assert raised.value.step == "check options"


def test_capabilities_are_checked_against_the_keys_the_api_knows():
    assert parse_capabilities({"vsock": {}}) == {"vsock": {}}
    with pytest.raises(AirInputError, match=r"capabilities has unknown key\(s\) serial; the Air API knows vsock"):
        parse_capabilities({"vsock": {}, "serial": {}})
    with pytest.raises(AirInputError, match=r"capabilities.vsock must be a dictionary of settings"):
        parse_capabilities({"vsock": True})


@pytest.mark.parametrize("args, message", [
    ({"state": "absent", "platforms": {}}, "platforms is not used with state: absent"),
    ({"state": "absent", "os_type": "sonic"}, "os_type is not used with state: absent"),
    ({"os_template_partition": "  "}, "os_template_partition must not be empty"),
    ({"os_type": ""}, "os_type must not be empty"),
    ({"purge_platforms": True}, "purge_platforms needs platforms"),
    ({"capabilities": {"serial": {}}}, "unknown key(s) serial"),
])
def test_option_checks_fail_before_the_api_is_contacted(args, message):
    module = make_module(AirOsImageManifestModule, dict(IMAGE, **args))
    with pytest.raises(AirInputError) as raised:
        module.check_options()
    assert message in str(raised.value)


def test_image_and_name_are_mutually_exclusive(capsys):
    result = run_module(AirOsImageManifestModule, dict(IMAGE, image="935b994e-9e1e-4d85-9275-10f7b3111cd9"), capsys)
    assert result["failed"] is True and "mutually exclusive" in result["msg"]


# ------------------------------------------------------------------ desired state
def test_listed_models_are_compared_one_by_one_and_the_others_kept():
    current = manifest(platforms={"SN3700": PIN_3700, "SN5600": PIN_5600})
    assert manifest_changes(current, {"platforms": {"SN3700": PIN_3700}}) == {}
    changed_pin = dict(PIN_5600, os_template_version="5.11")
    assert manifest_changes(current, {"platforms": {"SN5600": changed_pin}}) == {
        "platforms": ({"SN3700": PIN_3700, "SN5600": PIN_5600}, {"SN3700": PIN_3700, "SN5600": changed_pin})}


def test_purge_drops_the_models_not_listed():
    current = manifest(platforms={"SN3700": PIN_3700, "SN5600": PIN_5600})
    assert manifest_changes(current, {"platforms": {"SN3700": PIN_3700}}, purge_platforms=True) == {
        "platforms": ({"SN3700": PIN_3700, "SN5600": PIN_5600}, {"SN3700": PIN_3700})}
    assert manifest_changes(current, {"platforms": {}}, purge_platforms=True)["platforms"][1] == {}


def test_capabilities_are_the_complete_set_and_unset_options_are_left_alone():
    current = manifest(capabilities={"vsock": {}}, os_template_partition="/dev/sda3")
    assert manifest_changes(current, {}) == {}
    assert manifest_changes(current, {"capabilities": {}}) == {"capabilities": ({"vsock": {}}, {})}
    assert manifest_changes(current, {"os_template_partition": "SONiC-OS"}) == {
        "os_template_partition": ("/dev/sda3", "SONiC-OS")}


# ------------------------------------------------------------------ check mode
def test_check_mode_create_predicts_the_manifest_after_checking_the_pins(capsys):
    target = uploaded()
    client = StubClient([target])
    args = dict(IMAGE, os_type="cumulus-linux", platforms={"SN3700": PIN_3700, "SN5600": PIN_5600},
                capabilities={"vsock": {}})
    result = run_module(AirOsImageManifestModule, args, capsys, client=client, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["actions"] == ["created the OS image manifest of image %s (cumulus-linux: SN3700, SN5600)"
                                 % target.label]
    predicted = result["manifest"]
    assert predicted["id"] is None and predicted["image"] == target.id and predicted["os_type"] == "cumulus-linux"
    assert predicted["platforms"] == {"SN3700": PIN_3700, "SN5600": PIN_5600}
    assert predicted["capabilities"] == {"vsock": {}} and predicted["os_template_partition"] is None
    assert result["diff"]["before"]["exists"] is False and result["diff"]["after"]["exists"] is True
    assert result["diff"]["after"]["platforms"] == predicted["platforms"]
    assert client.calls == [("find_image", "cumulus-vx", "5.16.0"), ("manifest_for_image", target.id),
                            ("catalogue", "cumulus-linux")]


def test_check_mode_update_sends_the_whole_map_and_shows_the_changed_pin(capsys):
    target = uploaded()
    current = manifest(image=target.id, platforms={"SN3700": PIN_3700, "SN5600": PIN_5600})
    changed_pin = dict(PIN_3700, os_template_version="5.9")
    result = run_module(AirOsImageManifestModule, dict(IMAGE, platforms={"SN3700": changed_pin}), capsys,
                        client=StubClient([target], [current]), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["actions"] == ["updated platforms of the OS image manifest of image %s" % target.label]
    assert result["diff"] == {"before": {"platforms": {"SN3700": PIN_3700, "SN5600": PIN_5600}},
                              "after": {"platforms": {"SN3700": changed_pin, "SN5600": PIN_5600}}}
    assert result["manifest"]["platforms"] == {"SN3700": changed_pin, "SN5600": PIN_5600}
    assert result["manifest"]["id"] == current.id


def test_a_matching_manifest_reads_no_catalogue(capsys):
    target = uploaded()
    current = manifest(image=target.id)
    client = StubClient([target], [current])
    result = run_module(AirOsImageManifestModule, dict(IMAGE, os_type="cumulus-linux", platforms={"SN3700": PIN_3700}),
                        capsys, client=client, check_mode=True, diff=True)
    assert result["changed"] is False and result["actions"] == []
    assert result["diff"] == {"before": {}, "after": {}}
    assert result["manifest"] == current.to_result()
    assert ("catalogue", "cumulus-linux") not in client.calls


@pytest.mark.parametrize("platforms, messages", [
    ({"SN9999": PIN_3700}, ["SN9999: unknown model for os_type 'cumulus-linux' (known models: SN3700, SN5600)"]),
    ({"SN3700": {"platform_information_version": "2.0", "os_template_version": "5.10"}},
     ["SN3700: platform_information_version '2.0' does not exist for os_type 'cumulus-linux' (available: 1.0, 1.1)",
      "SN3700: os_template_version '5.10' does not exist for os_type 'cumulus-linux' (available: 5.9, 5.11)"]),
    ({"SN4700": {"platform_information_version": "1.0"}}, ["SN4700: unknown model for os_type 'cumulus-linux'"]),
])
def test_bad_pins_fail_naming_each_model_and_version(capsys, platforms, messages):
    target = uploaded()
    result = run_module(AirOsImageManifestModule, dict(IMAGE, os_type="cumulus-linux", platforms=platforms), capsys,
                        client=StubClient([target]))
    assert result["failed"] is True and result["changed"] is False
    assert result["failure"]["step"] == "check pins"
    for message in messages:
        assert message in result["msg"]


@pytest.mark.parametrize("case, current, args, message", [
    ("not uploaded", [], dict(os_type="cumulus-linux", platforms={"SN3700": PIN_3700}),
     "is VALIDATING; an OS image manifest can only be attached to an uploaded image (COMPLETE)"),
    ("no os_type", [], dict(platforms={"SN3700": PIN_3700}), "has no OS image manifest; to create it, set os_type"),
    ("partition too long", [], dict(os_type="cumulus-linux", os_template_partition="p" * 129),
     "os_template_partition must be at most 128 characters (the Air API's limit), got 129"),
    ("unknown os_type", [], dict(os_type="cumulus"),
     "unknown os_type 'cumulus': the Air catalogue has no platform information or OS templates for it (known: "
     "cumulus-linux, sonic)"),
    ("os_type change", [manifest()], dict(os_type="sonic"),
     "has os_type 'cumulus-linux', which cannot be changed to 'sonic'; delete the manifest (state: absent)"),
])
def test_refusals_name_the_reason_and_write_nothing(capsys, case, current, args, message):
    target = image(upload_status="VALIDATING") if case == "not uploaded" else uploaded()
    result = run_module(AirOsImageManifestModule, dict(IMAGE, **args), capsys, client=StubClient([target], current))
    assert result["failed"] is True and result["changed"] is False and result["actions"] == []
    assert message in result["msg"]


def test_bad_pins_are_named_before_an_image_still_uploading_is_waited_for(capsys):
    # image_release asks in check mode before its upload: the task's own mistakes must come out first.
    target = image(upload_status="READY")
    result = run_module(AirOsImageManifestModule, dict(IMAGE, os_type="cumulus-linux",
                                                       platforms={"SN9999": PIN_3700}), capsys,
                        client=StubClient([target]), check_mode=True)
    assert result["failed"] is True and result["failure"]["step"] == "check pins" and "SN9999" in result["msg"]
    result = run_module(AirOsImageManifestModule, dict(IMAGE, os_type="cumulus-linux",
                                                       platforms={"SN3700": PIN_3700}), capsys,
                        client=StubClient([target]), check_mode=True)
    assert result["failed"] is True and result["failure"]["step"] == "check upload status"


def test_another_orgs_image_is_refused(capsys):
    theirs = uploaded(id="5d7e1c9a-1f0b-4f59-8c1e-2c2d3e4f5a6b", is_owned_by_client=False, published=True)
    client = StubClient([theirs])
    result = run_module(AirOsImageManifestModule, {"image": theirs.id, "state": "absent"}, capsys, client=client)
    assert result["failed"] is True
    assert "belongs to another organization; only its owner can change its OS image manifest" in result["msg"]
    assert client.calls == [("get_image", theirs.id)]


def test_check_mode_absent_predicts_the_deletion(capsys):
    target = uploaded()
    client = StubClient([target], [manifest(image=target.id)])
    result = run_module(AirOsImageManifestModule, dict(IMAGE, state="absent"), capsys, client=client, check_mode=True,
                        diff=True)
    assert result["changed"] is True and result["manifest"] is None
    assert result["diff"] == {"before": {"exists": True}, "after": {"exists": False}}


def test_absent_without_image_or_manifest_changes_nothing(capsys):
    result = run_module(AirOsImageManifestModule, dict(IMAGE, state="absent"), capsys, client=StubClient())
    assert result["changed"] is False and result["manifest"] is None
    result = run_module(AirOsImageManifestModule, dict(IMAGE, state="absent"), capsys,
                        client=StubClient([uploaded()]))
    assert result["changed"] is False and result["manifest"] is None


class _RacingManifests(StubManifests):
    """Another run creates the manifest between this run's lookup and its POST (the API answers 400)."""

    def __init__(self, theirs, calls):
        super(_RacingManifests, self).__init__([], calls)
        self._theirs = theirs

    def create(self, image, fields):
        self._calls.append(("create_manifest", image.id))
        self._manifests.append(self._theirs)
        raise AirApiError("Image %s already has an OS image manifest (%s)" % (image.id, self._theirs.id), status=400,
                          step="create manifest")

    def update(self, manifest, fields, image=None):
        self._calls.append(("update_manifest", manifest.id, fields))
        return OSImageManifest(dict(manifest.data, **fields))


def test_a_manifest_another_run_just_created_is_adopted_and_updated(capsys):
    target = uploaded()
    theirs = manifest(image=target.id, platforms={"SN3700": PIN_3700})
    client = StubClient([target])
    client.manifests = _RacingManifests(theirs, client.calls)
    args = dict(IMAGE, os_type="cumulus-linux", platforms={"SN5600": PIN_5600})
    result = run_module(AirOsImageManifestModule, args, capsys, client=client)
    assert result["changed"] is True
    assert result["actions"] == ["updated platforms of the OS image manifest of image %s" % target.label]
    assert "created by another run at the same time; using it" in str(result["warnings"])
    assert result["manifest"]["platforms"] == {"SN3700": PIN_3700, "SN5600": PIN_5600}
    assert [call[0] for call in client.calls if call[0].endswith("_manifest")] == ["create_manifest", "update_manifest"]
