"""Organizations as the Air v3 API shows them: ``GET /api/v3/resource-budgets/`` (+ ``{id}/``).

This is the real API's only org directory (SDK 1.9.0 ``api.organizations``,
``endpoints/organizations.py``; reference page ``api-reference/resource-budgets``):
one resource budget per org, carrying ``org_id`` (the id ``allowed_orgs``
takes), ``ngc_org_name`` and ``org_display_name``. As documented, a caller
sees only its own org's budget unless it has ``air:sre`` (the emulator also
grants the full list to ``air:admin``, which the role table describes as
"administrative access to all Air resources").

The budget numbers are placeholders (the reference page documents only the
``cpu`` and ``memory`` defaults); ``usage.image_storage`` counts the org's
stored images.
"""

from __future__ import annotations

import math
import uuid

from fastapi import APIRouter, Depends, Request

from . import validation as v
from .publishing import is_reviewer
from .validation import not_found

BUDGET_FILTERS = {"ngc_org_name": None, "org_display_name": None, "org_id": None, "org_nca_id": None}
BUDGET_ORDERING = ("cpu", "created", "disk_storage", "memory", "modified", "ngc_org_name", "org_display_name",
                   "org_id", "org_nca_id", "image_storage")
BUDGET_SEARCH = ("org_display_name", "ngc_org_name", "org_id")
# Limits of every emulated org (cpu cores, MiB, GB, GB per node, GB, bytes).
LIMITS = {"cpu": 300, "memory": 307200, "disk_storage_total": 3000, "disk_storage_per_node": 500,
          "image_storage": 1000, "userconfigs": 10_000_000}


def _budget_id(org) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{org.name}.budgets.air-emulator"))


class Organizations:
    def __init__(self, settings, store, clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock

    def _created(self) -> float:
        """When the emulator's database was first used: stands in for the budgets' creation time."""
        with self.store.tx():
            created = self.store.meta("orgs_created")
            if created is None:
                created = repr(self.clock.now())
                self.store.set_meta("orgs_created", created)
        return float(created)

    def budgets(self, principal) -> list[dict]:
        orgs = self.settings.orgs.values()
        if not is_reviewer(principal):
            orgs = [principal.org]
        created = self._created()
        images = self.store.all_images()
        return [self._budget(org, created, images) for org in orgs]

    def budget(self, budget_id: str, principal) -> dict:
        for budget in self.budgets(principal):
            if budget["id"] == budget_id:
                return budget
        raise not_found("No ResourceBudget matches the given query.")

    @staticmethod
    def _budget(org, created: float, images: list[dict]) -> dict:
        stored = sum(i.get("size") or 0 for i in images if i["_org"] == org.name)
        return {
            "id": _budget_id(org), "created": v.iso(created), "modified": v.iso(created),
            "org_display_name": org.display_name, "org_nca_id": f"nca-{org.id[:8]}", "org_id": org.id,
            "ngc_org_name": org.name, **LIMITS,
            "usage": {"cpu": 0, "memory": 0, "disk_storage": 0, "image_storage": math.ceil(stored / 1e9),
                      "userconfigs": 0},
            "total_compute_hours": None, "remaining_compute_hours": None,
        }


def router(organizations: Organizations, principal) -> APIRouter:
    """The resource-budget routes; ``principal`` is the API's authentication dependency."""
    # Imported here: api.py imports this module while it is being loaded.
    from .api import _filter, _order, _page, _search  # pylint: disable=import-outside-toplevel

    api = APIRouter(prefix="/api/v3")

    def derived(budget, name):
        return budget["disk_storage_total"] if name == "disk_storage" else budget.get(name)

    @api.get("/resource-budgets/")
    def list_budgets(request: Request, who=Depends(principal)):
        params = request.query_params
        items = _filter(organizations.budgets(who), params, BUDGET_FILTERS, (), derived)
        return _page(request, _order(_search(items, params, BUDGET_SEARCH, derived), params, BUDGET_ORDERING,
                                     derived))

    @api.get("/resource-budgets/{budget_id}/")
    def get_budget(budget_id: str, who=Depends(principal)):
        return organizations.budget(budget_id, who)

    return api
