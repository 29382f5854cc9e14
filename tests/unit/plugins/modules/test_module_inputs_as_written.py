# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Inputs as the user wrote them (issue 19).

Numbers that YAML made are not versions: every option naming a version refuses a float before any request, in
one line showing the quoted form; an integer is taken as its digits; retention pins must match an image. An
empty list entry is named as written. no_log options (default_password) are masked in every form.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from urllib.parse import quote

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirApiError
from ansible_collections.nvidia.air.plugins.module_utils._versions import version_text
from ansible_collections.nvidia.air.plugins.modules.air_image import AirImageModule
from ansible_collections.nvidia.air.plugins.modules.air_image_info import AirImageInfoModule
from ansible_collections.nvidia.air.plugins.modules.air_image_retention import AirImageRetentionModule
from ansible_collections.nvidia.air.plugins.modules.air_image_share import AirImageShareModule
from ansible_collections.nvidia.air.plugins.modules.air_image_upload import AirImageUploadModule
from ansible_collections.nvidia.air.plugins.modules.air_os_image_manifest import AirOsImageManifestModule
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import StubClient, image, run_module

IMAGE_ID = "935b994e-9e1e-4d85-9275-10f7b3111cd9"

# YAML's reading of unquoted versions: 5.10 -> 5.1, 2.20 -> 2.2, 1.0 -> 1.0, 1e3 -> 1000.0
FLOATS = [(5.1, '"5.1" (or "5.10")'), (2.2, '"2.2" (or "2.20")'), (1.0, '"1.0" (or "1.00")'), (10.0, '"10.0"'),
          (1000.0, '"1000.0"')]


@pytest.mark.parametrize("value, quoted", FLOATS)
def test_version_text_refuses_a_float_showing_the_quoted_form(value, quoted):
    with pytest.raises(ValueError) as info:
        version_text("version", value)
    text = str(info.value)
    assert text.startswith("version is the number %r, not a version" % value)
    assert 'version: %s' % quoted in text and "\n" not in text


@pytest.mark.parametrize("value, expected", [("5.10", "5.10"), (10, "10"), (0, "0"), (None, None), ("v2", "v2")])
def test_version_text_takes_strings_and_integers(value, expected):
    assert version_text("version", value) == expected


@pytest.mark.parametrize("value", [True, False, [5], {"a": 1}])
def test_version_text_refuses_what_is_no_version(value):
    with pytest.raises(ValueError, match="must be a version string"):
        version_text("version", value)


# module, its arguments with one version option given as a float, the option as the message must show it
CASES = [
    (AirImageModule, dict(name="cumulus-vx", version=5.1, default_username="u"), "version"),
    (AirImageModule, dict(name="cumulus-vx", version="5.10", published=True, publish_version=2.2), "publish_version"),
    (AirImageModule, dict(id=IMAGE_ID, published=False, unpublish_version=5.1), "unpublish_version"),
    (AirImageModule, dict(name="cumulus-vx", version="5.10", emulation_version=1.0), "emulation_version"),
    (AirImageUploadModule, dict(name="cumulus-vx", version=5.1, src="/dev/null"), "version"),
    (AirImageInfoModule, dict(name="cumulus-vx", version=5.1), "version"),
    (AirImageShareModule, dict(name="cumulus-vx", version=5.1, target_orgs=["partner-org"]), "version"),
    (AirOsImageManifestModule, dict(name="cumulus-vx", version=5.1, os_type="cumulus-linux"), "version"),
    (AirImageRetentionModule, dict(name="cumulus-vx", keep=1, keep_versions=["5.9", 5.1]), "keep_versions[1]"),
]


@pytest.mark.parametrize("module, args, where", CASES, ids=["%s-%s" % (c[0].__name__, c[2]) for c in CASES])
@pytest.mark.parametrize("check_mode", [False, True])
def test_every_version_option_refuses_a_float_before_any_request(module, args, where, check_mode, capsys):
    client = StubClient([image(id=IMAGE_ID, name="cumulus-vx", version="5.10")])
    result = run_module(module, args, capsys, client=client, check_mode=check_mode)
    assert result["failed"] is True, result
    assert result["msg"].startswith("check options failed: %s is the number " % where), result["msg"]
    option = where.split("[")[0]
    assert '%s: "' % option in result["msg"] and "\n" not in result["msg"]
    assert result["failure"]["step"] == "check options"
    assert client.calls == []  # not even a lookup
    assert result["changed"] is False


def test_an_integer_version_is_taken_as_its_digits(capsys):
    client = StubClient([image(id=IMAGE_ID, name="cumulus-vx", version="10")])
    result = run_module(AirImageInfoModule, dict(name="cumulus-vx", version=10), capsys, client=client)
    assert "failed" not in result, result
    assert [i["version"] for i in result["images"]] == ["10"]


# ---------------------------------------------------------- retention pins protect
def _family():
    return [image(id="00000000-0000-4000-8000-%012d" % n, name="cumulus-vx", version=version,
                  created="2026-11-%02dT00:00:00Z" % n, upload_status="COMPLETE")
            for n, version in enumerate(("5.1", "5.9", "5.10", "5.11"), 1)]


@pytest.mark.parametrize("pins", [["5.10.0"], ["v5.10"], ["5.10", "5.100"], ["5.10 "]])
@pytest.mark.parametrize("check_mode", [False, True])
def test_a_retention_pin_that_matches_no_image_fails_before_anything_is_deleted(pins, check_mode, capsys):
    client = StubClient(_family())
    args = dict(search="cumulus", keep=1, keep_versions=pins, state="absent")
    result = run_module(AirImageRetentionModule, args, capsys, client=client, check_mode=check_mode)
    assert result["failed"] is True, result
    assert result["failure"]["step"] == "check pins"
    missing = [pin for pin in pins if pin != "5.10"]
    assert all(repr(pin) in result["msg"] for pin in missing)
    assert "'5.11', '5.10', '5.9', '5.1'" in result["msg"]  # the versions there, newest first
    assert result["changed"] is False and result["actions"] == []
    assert ("may_delete",) not in client.calls  # failed before the first write was even considered


def test_a_retention_pin_written_as_a_float_is_refused_and_the_image_it_meant_survives(capsys):
    """keep_versions: [5.10] used to pin "5.1", which matched 5.1, and delete 5.10."""
    client = StubClient(_family())
    args = dict(name="cumulus-vx", keep=1, keep_versions=[5.1], state="absent")
    result = run_module(AirImageRetentionModule, args, capsys, client=client, check_mode=True)
    assert result["failed"] is True and "keep_versions[0] is the number 5.1" in result["msg"]
    assert 'keep_versions: "5.1" (or "5.10")' in result["msg"]


def test_retention_pins_that_match_are_kept(capsys):
    client = StubClient(_family())
    args = dict(name="cumulus-vx", keep=1, keep_versions=["5.10"], state="absent")
    result = run_module(AirImageRetentionModule, args, capsys, client=client, check_mode=True)
    assert "failed" not in result, result
    assert sorted(entry["version"] for entry in result["kept"]) == ["5.10", "5.11"]
    assert sorted(entry["version"] for entry in result["deleted"]) == ["5.1", "5.9"]


# ------------------------------------------- list options as the user wrote them (issue 19)
@pytest.mark.parametrize("given, empty_at, after", [
    ("partner-org,", 2, "after 'partner-org'"),  # an AWX survey answer with a trailing comma
    ("partner-org,,lab-org", 2, "after 'partner-org'"),
    (",partner-org", 1, "at the start"),
    ("partner-org, ", 2, "after 'partner-org'"),
])
def test_an_empty_target_org_is_named_as_the_user_wrote_it(given, empty_at, after, capsys):
    client = StubClient([image(id=IMAGE_ID, name="cumulus-vx", version="5.10")])
    result = run_module(AirImageShareModule, dict(image=IMAGE_ID, target_orgs=given), capsys, client=client)
    assert result["failed"] is True
    assert result["msg"] == ("check options failed: target_orgs %r has an empty entry %s (entry %d of %d); remove the "
                             "comma too many" % (given, after, empty_at, len(given.split(","))))
    assert "[1]" not in result["msg"] and client.calls == []


def test_an_empty_target_org_in_a_yaml_list_is_named_by_its_place(capsys):
    client = StubClient([image(id=IMAGE_ID, name="cumulus-vx", version="5.10")])
    result = run_module(AirImageShareModule, dict(image=IMAGE_ID, target_orgs=["partner-org", " "]), capsys,
                        client=client)
    assert result["msg"] == ("check options failed: target_orgs has an empty entry after 'partner-org' (entry 2 of 2); "
                             "remove the comma too many")


# ------------------------------------------- no_log options are secrets in every form (issue 19)
class _Echo(StubClient):
    """An API that quotes the value it refused, escaped, URL-encoded and as JSON, in its error."""

    def __init__(self, echoed):
        super(_Echo, self).__init__([])
        echo = echoed

        class Images(object):
            @staticmethod
            def find(name, version, step=None):
                raise AirApiError("refused %r / %s / %s" % (echo, quote(echo, safe=""), json.dumps(echo)),
                                  step="lookup", status=400, detail="value %r" % echo)

        self.images = Images()


@pytest.mark.parametrize("password", ["Pa$$ word\n", "p\u00e4ss/w+rd=", "tab\there\r\n"])
def test_default_password_is_masked_in_every_form_an_error_quotes_it(password, capsys):
    args = dict(name="cumulus-vx", version="5.10", default_username="u", default_password=password)
    result = run_module(AirImageModule, args, capsys, client=_Echo(password))
    assert result["failed"] is True and result["msg"].startswith("lookup failed: refused ")
    text = json.dumps(result)
    for form in (password.strip(), repr(password)[1:-1], quote(password, safe=""), json.dumps(password)[1:-1]):
        assert form not in text and form not in result["msg"], form
