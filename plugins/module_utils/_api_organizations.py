# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is private to the nvidia.air collection and may change without notice.

"""Organizations as the Air v3 API shows them: ``/api/v3/resource-budgets/``.

The API has no other org directory (SDK 1.9.0 ``api.organizations``): one
resource budget per org, with ``org_id`` (the id ``allowed_orgs`` takes),
``ngc_org_name`` and ``org_display_name``. A token without ``air:sre`` sees
only its own organization's budget, so with an ordinary token only your own
org name resolves to an id; another organization's id has to be given as
such (its members find it as ``org_id`` in their own budget).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nvidia.air.plugins.module_utils._errors import AirError, AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._models import UUID_RE, empty_entry


class OrganizationsApi:
    def __init__(self, transport):
        self.transport = transport
        self._visible = None

    def list(self):
        """The resource budgets the token may see (its own org's, or every org's with ``air:sre``)."""
        if self._visible is None:  # read once per client: org names and ids do not change during a task
            self._visible = self.transport.paginate(["resource-budgets"], "lookup organizations", {})
        return self._visible

    def own(self):
        """``{"org_id", "ngc_org_name", ...}`` of the token's organization, or None when that cannot be told.

        An ordinary token sees its own organization's budget only; a token that sees several (``air:sre``),
        or none, or cannot read them, leaves the question open.
        """
        try:
            visible = self.list()
        except AirError:
            return None
        return visible[0] if len(visible) == 1 and visible[0].get("org_id") else None

    def resolve(self, items, option="allowed_orgs", given=None):
        """``[(label, org id)]`` for org ids and NGC org names, in the given order.

        An id is taken as it is (the API checks it where it is used); a name
        is looked up by ``ngc_org_name``. A name the token cannot see raises
        ``AirInputError`` naming it and asking for the org id. Duplicates
        (the same org twice, by name or id) raise too; so does an empty entry, quoting ``given``, the option
        as the task wrote it ("partner-org," from a survey).
        """
        for index, item in enumerate(items):  # before any request
            if isinstance(item, str) and not item.strip():
                raise empty_entry(option, items, index, given)
        resolved, seen = [], {}
        for index, item in enumerate(items):
            where = "%s[%d]" % (option, index)
            if not isinstance(item, str):
                raise AirInputError("%s must be an org id or an NGC org name, got %r" % (where, item),
                                    step="check options")
            item = item.strip()
            if UUID_RE.fullmatch(item):
                label, org_id = None, item.lower()
            else:
                label, org_id = item, self._id_of(item, where)
            if org_id in seen:
                raise AirInputError("%s: %s is listed twice (as %s)" % (where, item, seen[org_id]),
                                    step="check options")
            seen[org_id] = item
            resolved.append((label, org_id))
        return resolved

    def _id_of(self, name, where):
        # NGC org names are lower case; "DEMO-ORG" means the same organization.
        found = [b for b in self.list() if (b.get("ngc_org_name") or "").lower() == name.lower() and b.get("org_id")]
        if not found:
            raise AirInputError(
                "%s: organization %r is not visible to this token, so its id cannot be looked up (an Air API token "
                "sees only its own organization in GET /api/v3/resource-budgets/ unless it has air:sre); give the "
                "organization's id instead, which its members read as org_id there" % (where, name),
                step="resolve allowed_orgs")
        return found[0]["org_id"].lower()
