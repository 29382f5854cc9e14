# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The version order (module_utils/_versions.py): one table of ordered pairs, and sorting images by it.

`make test-units` runs this file with `ansible-test units` (no network).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

import pytest

from ansible_collections.nvidia.air.plugins.module_utils._versions import (
    SORT_CHOICES,
    Version,
    compare_versions,
    image_sort_key,
    latest_per_name,
    newest_first,
    sort_images,
)
from ansible_collections.nvidia.air.tests.unit.plugins.modules.air_module_helpers import image

# (older, newer): every pair must compare older < newer, both ways round.
OLDER_NEWER = [
    # Numbers compare as numbers, piece by piece.
    ("5.16.0", "5.16.1"),
    ("5.16.1", "5.17.0"),
    ("5.17.0", "5.100.0"),
    ("5.9.9", "5.10.0"),
    ("4.99.99", "5.0.0"),
    ("202505", "202511"),
    ("202311.1", "202405"),
    ("2025.05.01", "2025.11.01"),
    ("2025-05-01", "2025-11-01"),
    ("1.0", "1.0.1"),
    ("1", "1.0.0.1"),
    ("9", "10"),
    ("0.9", "1"),
    # Pre-releases come before the release, in PEP 440's order.
    ("1.0.0-rc1", "1.0.0"),
    ("1.0.0rc1", "1.0"),
    ("1.0.0-rc1", "1.0.0-rc2"),
    ("1.0.0-rc9", "1.0.0-rc10"),
    ("1.0.0-alpha", "1.0.0-alpha.1"),
    ("1.0.0-alpha.1", "1.0.0-beta"),
    ("1.0.0-beta.2", "1.0.0-beta.11"),
    ("1.0.0-beta.11", "1.0.0-rc.1"),
    ("1.0.0.dev3", "1.0.0a1"),
    # Maven's snapshots and nightly builds come before the release they lead to.
    ("1.0.0-SNAPSHOT", "1.0.0"),
    ("1.0.0-nightly.20250101", "1.0.0-nightly.20250102"),
    ("1.0.0-nightly.20250102", "1.0.0-alpha"),
    ("0.9.9", "1.0.0-SNAPSHOT"),
    ("1.0.0a1", "1.0.0b1"),
    ("1.0.0b2", "1.0.0c1"),
    ("1.0.0-RC2", "1.0.0-rc3"),
    ("1.0.0~rc1", "1.0.0"),
    ("0.9.9", "1.0.0-rc1"),
    ("5.16.0-rc1", "5.16.0-hotfix"),
    # Other words sit between 0 and 1 at their position.
    ("1.0.0", "1.0.0-hotfix"),
    ("1.0.0-hotfix", "1.0.1"),
    ("1.0.post1", "1.0.1"),
    ("1.0.0-custom", "1.0.0-lts"),
    ("5.16.0", "5.16.0-1"),
    ("5.16.0-1", "5.16.0-2"),
    ("cumulus-5.16", "cumulus-5.100"),
    ("sonic-202311", "sonic-202405"),
    ("v1.9", "v1.10"),
    ("v2", "3"),
    ("1.0.0+build9", "1.0.1+build1"),
    ("", "0.1"),
]

# Different strings, same version (created then decides between images).
EQUAL = [
    ("v2", "2"),
    ("V2.0", "2"),
    ("1.0", "1.0.0"),
    ("1", "1.0.0.0"),
    ("5.16.0", " 5.16.0 "),
    ("5-16-0", "5.16.0"),
    ("5_16_0", "5.16.0"),
    ("007", "7"),
    ("1.0.0-RC1", "1.0.0-rc1"),
    ("1.0.0-alpha1", "1.0.0a1"),
    ("1.0.0+build7", "1.0.0"),
    ("1.0.0+a", "1.0.0+b"),
    ("", "0"),
]


def test_the_table_has_at_least_30_pairs():
    assert len(OLDER_NEWER) + len(EQUAL) >= 30


@pytest.mark.parametrize("older, newer", OLDER_NEWER)
def test_older_before_newer(older, newer):
    old, new = Version(older), Version(newer)
    assert (old < new, old <= new, old == new, old >= new, old > new, old != new) == (True, True, False, False, False,
                                                                                      True)
    assert (new > old, new >= old) == (True, True)
    assert compare_versions(older, newer) == -1
    assert compare_versions(newer, older) == 1


@pytest.mark.parametrize("one, other", EQUAL)
def test_equal_versions(one, other):
    first, second = Version(one), Version(other)
    assert (first < second, first <= second, first == second, first >= second, first > second, first != second) == (
        False, True, True, True, False, False)
    assert hash(first) == hash(second)
    assert compare_versions(one, other) == 0 and compare_versions(other, one) == 0


def test_the_order_is_consistent_over_every_version_in_the_table():
    """Total preorder: sorting agrees with every pairwise comparison (transitive, antisymmetric)."""
    texts = sorted(set(t for pair in OLDER_NEWER + EQUAL for t in pair))
    ordered = sorted(texts, key=Version)
    for (i, a), (j, b) in itertools.combinations(enumerate(ordered), 2):
        assert Version(a) <= Version(b), (a, b)
        assert compare_versions(a, b) == -compare_versions(b, a)
    for older, newer in OLDER_NEWER:
        assert ordered.index(older) < ordered.index(newer), (older, newer)


def test_the_original_text_is_kept():
    assert Version("v5.16.0-rc1").text == "v5.16.0-rc1"
    assert repr(Version("v2")) == "Version('v2')"
    assert Version(None) == Version("")


# ------------------------------------------------------------------- images
_IDS = itertools.count(1)


def img(version, created, name="cumulus-vx", ident=None):
    return image(id=ident or "00000000-0000-4000-8000-%012d" % next(_IDS), name=name, version=version,
                 created=created)


def test_created_breaks_a_tie_between_equal_versions():
    older = img("2", "2026-01-01T00:00:00Z")
    newer = img("v2", "2026-02-01T00:00:00Z")
    assert [i.version for i in newest_first([older, newer])] == ["v2", "2"]
    assert [i.version for i in newest_first([newer, older])] == ["v2", "2"]


def test_version_beats_creation_date():
    """A patch of an older minor built after a newer minor is not the newest."""
    minor = img("5.17.0", "2026-01-01T00:00:00Z")
    late_patch = img("5.16.3", "2026-03-01T00:00:00Z")
    assert newest_first([late_patch, minor]) == [minor, late_patch]
    assert sort_images([minor, late_patch], "-created") == [late_patch, minor]
    assert sort_images([minor, late_patch], "created") == [minor, late_patch]


def test_sort_by_name_then_version():
    images = [img("1.10", "2026-01-03T00:00:00Z", "b"), img("1.9", "2026-01-02T00:00:00Z", "b"),
              img("2.0", "2026-01-01T00:00:00Z", "a")]
    assert [(i.name, i.version) for i in sort_images(images, "name")] == [("a", "2.0"), ("b", "1.9"), ("b", "1.10")]
    assert [(i.name, i.version) for i in sort_images(images, "-name")] == [("b", "1.10"), ("b", "1.9"), ("a", "2.0")]
    assert [(i.name, i.version) for i in sort_images(images, "version")] == [("b", "1.9"), ("b", "1.10"), ("a", "2.0")]


def test_sorting_does_not_depend_on_the_listing_order():
    images = [img("1.0", "2026-01-01T00:00:00Z", ident="00000000-0000-4000-8000-00000000000%d" % n) for n in range(4)]
    for sort in SORT_CHOICES:
        assert sort_images(images, sort) == sort_images(list(reversed(images)), sort)


def test_a_missing_or_unreadable_created_sorts_as_the_oldest():
    known = img("1.0", "2026-01-01T00:00:00Z")
    assert newest_first([img("1.0", None), known, img("1.0", "not a date")])[0] is known


def test_unknown_sort_key_is_refused():
    with pytest.raises(ValueError, match="cannot sort images by 'size'"):
        image_sort_key(img("1", None), "size")


def test_latest_per_name_keeps_the_newest_of_each_name_in_listing_order():
    a1, a2 = img("5.16.0", "2026-01-02T00:00:00Z", "a"), img("5.100.0", "2026-01-01T00:00:00Z", "a")
    b1, b2 = img("1.0.0", "2026-01-01T00:00:00Z", "b"), img("1.0.0-rc1", "2026-01-02T00:00:00Z", "b")
    assert latest_per_name([b2, a1, b1, a2]) == [b1, a2]
    assert latest_per_name([]) == []
