# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Difference tracker for diff mode: (field, before, after) in, ``{before, after}`` out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvidia.air.plugins.module_utils._models import masked

CHANGED_SECRET = "******** (changed)"


class DifferenceTracker:
    def __init__(self):
        self._before = {}
        self._after = {}

    def add(self, field, before, after):
        """Record a change; secrets are masked on both sides (a change still shows)."""
        shown_before, shown_after = masked(field, before), masked(field, after)
        if shown_before == shown_after and before != after:
            shown_after = CHANGED_SECRET
        self._before[field] = shown_before
        self._after[field] = shown_after

    def has_differences(self):
        return bool(self._before or self._after)

    def get(self):
        return {"before": dict(self._before), "after": dict(self._after)}
