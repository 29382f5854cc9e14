# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""The order of Air image versions ("which one is the newest"), and sorting images by it.

The Air API stores ``version`` as free text (1 to 64 characters) and sorts it as text, so ``5.100.0``
comes before ``5.16.0`` there. ``Version`` orders what image builders write instead:

1. Surrounding white space is ignored, and so is one ``v`` or ``V`` in front of a digit: ``v2`` and ``2``
   are the same version.
2. Everything from the first ``+`` on is build metadata (semantic versioning) and does not count:
   ``1.0.0+build7`` and ``1.0.0`` are the same version.
3. The rest is cut into pieces: runs of ASCII digits (numbers) and runs of ASCII letters (words); every
   other character only separates pieces (``5.16.0``, ``5-16-0`` and ``5_16_0`` are the same).
4. Versions are compared piece by piece from the left; the first difference decides. Numbers compare as
   numbers (``5.100.0`` > ``5.16.0``, ``202511`` > ``202505``, ``007`` = ``7``); words case-insensitively.
5. A version that runs out of pieces is compared as if it went on with ``0``: ``1.0`` = ``1.0.0``. So a
   pre-release of a shortened version sorts before that of the full one: ``5.16-rc2`` < ``5.16.0-rc1``
   (write versions the same way to compare them as intended).
6. At one position, from lowest to highest:
   - pre-release words, in the order ``dev`` = ``snapshot`` = ``nightly`` < ``a`` = ``alpha`` < ``b`` =
     ``beta`` < ``c`` = ``rc`` = ``pre`` = ``preview`` (PEP 440's spellings, and Maven's ``SNAPSHOT``), so
     ``1.0.0-rc1`` < ``1.0.0`` and ``1.0.0-alpha`` < ``1.0.0-beta.2`` < ``1.0.0-rc1`` < ``1.0.0-rc10``;
     a number after a pre-release word ranks above a word (``1.0.0-alpha.beta`` < ``1.0.0-alpha.1``, the
     other way round from semantic versioning);
   - the number ``0`` (and the end of a version);
   - any other word, in alphabetical order (``1.0.0-hotfix`` > ``1.0.0`` but < ``1.0.1``, like
     ``1.0.post1`` in PEP 440);
   - the numbers from ``1`` up.

Every two versions compare as lower, equal or higher, consistently (a total preorder: ``v2`` and ``2`` are
equal without being the same text). Images with equal versions are ordered by ``created`` (the later one
is newer), then by the version text and the image id, so sorting images never depends on the order the API
listed them in (``image_sort_key``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.nvidia.air.plugins.module_utils._dates import parse_datetime

PRE_RELEASE_RANKS = {"dev": 0, "snapshot": 0, "nightly": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "c": 3, "rc": 3,
                     "pre": 3, "preview": 3}
SORT_KEYS = ("version", "created", "name")
SORT_CHOICES = tuple(k for key in SORT_KEYS for k in (key, "-" + key))

_PIECE_RE = re.compile(r"[0-9]+|[A-Za-z]+")
_V_PREFIX_RE = re.compile(r"^[vV](?=[0-9])")
# Piece classes, lowest first; a number n is (NUMBER, n, 0, "") and the end of a version equals (NUMBER, 0, 0, "").
_PRE_RELEASE, _NUMBER = 0, 1
_END = (_NUMBER, 0, 0, "")
_OLDEST = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)


def _piece_key(piece):
    if piece.isdigit():
        return (_NUMBER, int(piece), 0, "")
    word = piece.lower()
    if word in PRE_RELEASE_RANKS:
        return (_PRE_RELEASE, PRE_RELEASE_RANKS[word], 0, "")
    return (_NUMBER, 0, 1, word)  # above 0 and the end, below 1


class Version:
    """One version string with the order described in the module docstring.

    ``Version("5.16.0") < Version("5.100.0")``; ``Version("v2") == Version("2")``. ``text`` keeps the
    original string; None counts as the empty version (lower than any version with a non-zero piece).
    """

    __slots__ = ("text", "_pieces")

    def __init__(self, text):
        self.text = "" if text is None else str(text)
        core = _V_PREFIX_RE.sub("", self.text.strip()).split("+", 1)[0]
        pieces = [_piece_key(piece) for piece in _PIECE_RE.findall(core)]
        while pieces and pieces[-1] == _END:  # 1.0.0 == 1.0 == 1: trailing zeros are what the end means
            pieces.pop()
        self._pieces = tuple(pieces)

    def _compare(self, other):
        """-1, 0 or 1; the shorter version goes on with the end (== 0)."""
        mine, theirs = self._pieces, other._pieces
        for index in range(max(len(mine), len(theirs))):
            left = mine[index] if index < len(mine) else _END
            right = theirs[index] if index < len(theirs) else _END
            if left != right:
                return -1 if left < right else 1
        return 0

    def __eq__(self, other):
        return isinstance(other, Version) and self._pieces == other._pieces

    def __ne__(self, other):
        return not self == other

    def __lt__(self, other):
        return self._compare(other) < 0

    def __le__(self, other):
        return self._compare(other) <= 0

    def __gt__(self, other):
        return self._compare(other) > 0

    def __ge__(self, other):
        return self._compare(other) >= 0

    def __hash__(self):
        return hash(self._pieces)

    def __repr__(self):
        return "Version(%r)" % self.text


def version_text(where, value, example=None, assign=": "):
    """``value`` of option ``where`` as version text: a string as it is, an integer as its digits (``10`` is
    unambiguous); a float or a boolean raises ``ValueError`` with a one-line message, since YAML made it from an
    unquoted version (``5.10`` arrives as ``5.1``, ``2.20`` as ``2.2``) and its text cannot be known.

    ``example`` is how the option is written in the message (``where`` by default), ``assign`` what comes between
    it and the value (``=`` in a lookup's keywords).
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("%s must be a version string, got %r; write it in quotes" % (where, value))
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    raise ValueError(
        '%s is the number %s, not a version: YAML reads an unquoted 5.10 as 5.1; write the version in quotes as you '
        'mean it, for example %s%s"%s"%s' % (where, text, example or where, assign, text,
                                             ' (or "%s0")' % text if "." in text and "e" not in text else ""))


def compare_versions(left, right):
    """-1, 0 or 1 as version text ``left`` is older than, equal to or newer than ``right``."""
    return Version(left)._compare(Version(right))


def created_at(image):
    """``image.created`` as an aware datetime; a missing or unreadable one sorts as the oldest."""
    try:
        return parse_datetime(image.created) or _OLDEST
    except ValueError:
        return _OLDEST


def image_sort_key(image, by="version"):
    """Ascending sort key (oldest first) of an image (anything with ``name``, ``version``, ``created``, ``id``).

    ``by``: ``version`` (the version order, then ``created``), ``created`` (then the version order) or
    ``name`` (then the version order within a name). The version text and the id break the last ties.
    """
    version, created = Version(image.version), created_at(image)
    tail = (image.version or "", image.id or "")
    if by == "version":
        return (version, created) + tail
    if by == "created":
        return (created, version) + tail
    if by == "name":
        return (image.name or "", version, created) + tail
    raise ValueError("cannot sort images by %r; choose one of %s" % (by, ", ".join(SORT_CHOICES)))


def sort_images(images, sort):
    """``images`` sorted by ``sort``: a key of ``SORT_KEYS``, ``-`` in front for descending (newest first)."""
    descending = sort.startswith("-")
    by = sort[1:] if descending else sort
    return sorted(images, key=lambda image: image_sort_key(image, by), reverse=descending)


def newest_first(images):
    """``images`` from the newest to the oldest by the version order (``created`` breaks ties)."""
    return sort_images(images, "-version")


def latest_per_name(images):
    """The newest image (version order) of each name, in the order the names first appear in ``images``."""
    newest = {}
    for image in images:
        best = newest.get(image.name)
        if best is None or image_sort_key(image) > image_sort_key(best):
            newest[image.name] = image
    return [image for image in images if newest.get(image.name) is image]
