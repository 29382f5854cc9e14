# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The documentation says what the code does (issue 19): the statuses the notes call retried are the retry
policy's own, for every module (the shared doc fragment) and for the lookup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os
import re

import pytest
import yaml

from ansible_collections.nvidia.air.plugins.doc_fragments._auth import ModuleDocFragment
from ansible_collections.nvidia.air.plugins.module_utils._retry import (
    LOST_STATUSES,
    RETRY_STATUSES,
    STORAGE_RETRY_STATUSES,
)

API_STATUSES = RETRY_STATUSES | LOST_STATUSES
# The lookup is a controller plugin, which a module's unit test cannot import: its DOCUMENTATION is read as text.
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4)
LOOKUP = os.path.join(REPO, "plugins", "lookup", "air_image.py")


def _lookup_documentation():
    with open(LOOKUP) as handle:
        tree = ast.parse(handle.read())
    (value,) = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and [target.id for target in node.targets if isinstance(target, ast.Name)] == ["DOCUMENTATION"]]
    return value


def _notes(documentation):
    return " ".join(yaml.safe_load(documentation)["notes"])


def _statuses(text):
    return set(int(number) for number in re.findall(r"\b([45]\d\d)\b", text))


def test_the_modules_notes_name_every_retried_status_and_no_other():
    notes = _notes(ModuleDocFragment.DOCUMENTATION)
    assert _statuses(notes) == API_STATUSES | STORAGE_RETRY_STATUSES
    assert "lost connections" in notes
    # 429 for every request; the statuses after which the server may have acted only directly or after a look
    assert "429 (the server refused to act) is retried for every request" in notes
    assert "HTTP %s and lost connections" % ", ".join(str(s) for s in sorted(LOST_STATUSES)) in notes


@pytest.mark.parametrize("status", sorted(API_STATUSES))
def test_the_lookups_notes_name_each_status_it_retries(status):
    assert status in _statuses(_notes(_lookup_documentation()))
