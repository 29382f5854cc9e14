"""Image history: what happened to each image, recorded as it happens (service.py, publishing.py) and read
through ``GET images/{id}/history/`` and ``GET images/{id}/history-filters/`` (nv-air-sdk 1.9.0
``HistoryModelMixin``; README choice 37).

An entry is the SDK's ``HistoryEntry``: ``object_id``, ``model`` (``image``), ``created``, ``actor`` (the
caller's e-mail, ``system`` for background transitions), ``description``, ``severity`` (``INFO`` or
``ERROR``) and ``labels``. Entries live in SQLite with the image and go with it when it is deleted.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from . import validation as v
from .validation import forbidden, invalid

SEVERITIES = ("INFO", "ERROR")
ORDERING = ("actor", "severity", "created")
# What the entries are about; ``label=`` filters on one of them.
LABELS = ("image", "upload", "validation", "publishing", "sharing")
SYSTEM_ACTOR = "system"
ENTRY_FIELDS = ("object_id", "model", "created", "actor", "description", "severity", "labels")


class History:
    def __init__(self, service) -> None:
        self.service = service
        self.store = service.store
        self.clock = service.clock

    def record(self, image: dict, actor, description: str, *labels: str, severity: str = "INFO") -> None:
        """Add an entry to ``image``'s history (in the caller's transaction). ``actor``: a principal,
        an e-mail, or None for the emulator's own transitions."""
        if actor is None:
            actor = SYSTEM_ACTOR
        elif not isinstance(actor, str):
            actor = actor.email
        assert severity in SEVERITIES and labels and set(labels) <= set(LABELS), (severity, labels)
        self.store.add_history(image["id"], {
            "object_id": image["id"], "model": "image", "created": self.clock.now(), "actor": actor,
            "description": description, "severity": severity, "labels": sorted(set(labels)),
        })

    def entries(self, image_id: str, principal) -> list[dict]:
        """The history of an image the caller's org owns, oldest first (as stored, with ``_seq``).

        404 for an image the caller cannot see (as ``GET images/{id}/``); 403 for another org's published
        image: its history (who did what, validation errors) is its owner's business.
        """
        image = self.service.get_image(image_id, principal)
        if image["_org"] != principal.org.name:
            raise forbidden("Only the organization that owns this image can read its history.")
        return self.store.history_of(image["id"])

    @staticmethod
    def entry_json(entry: dict) -> dict:
        body = {name: entry.get(name) for name in ENTRY_FIELDS}
        body["created"] = v.iso(entry["created"])
        return body


def select(entries: list[dict], params) -> list[dict]:
    """The list's filters and ordering on one image's entries (newest first unless ``ordering`` says)."""
    if "severity" in params and params["severity"] not in SEVERITIES:
        raise invalid({"severity": [f"Select a valid choice. {params['severity']} is not one of the available "
                                    f"choices ({', '.join(SEVERITIES)})."]})
    ordering = [f.strip() for f in params.get("ordering", "").split(",") if f.strip()]
    for field in ordering:
        if field.lstrip("-") not in ORDERING:
            raise invalid({"ordering": [f"Invalid ordering field {field.lstrip('-')!r}; allowed: "
                                        f"{', '.join(ORDERING)}."]})
    if "severity" in params:
        entries = [e for e in entries if e["severity"] == params["severity"]]
    if "actor" in params:  # case-insensitive, as the SDK documents
        wanted = params["actor"].casefold()
        entries = [e for e in entries if e["actor"].casefold() == wanted]
    if "label" in params:
        entries = [e for e in entries if params["label"] in e["labels"]]
    text = params.get("search", "").strip().casefold()
    if text:
        entries = [e for e in entries
                   if any(text in s.casefold() for s in (e["actor"], e["description"], e["severity"], *e["labels"]))]
    entries = sorted(entries, key=lambda e: e["_seq"], reverse=True)
    for field in reversed(ordering):
        name = field.lstrip("-")
        key = (lambda e: (e["created"], e["_seq"])) if name == "created" else (lambda e, n=name: e[n])
        entries.sort(key=key, reverse=field.startswith("-"))
    return entries


def filters(entries: list[dict]) -> dict:
    """``history-filters/``: the distinct actors, severities and labels of an image's whole history."""
    return {"actors": sorted({e["actor"] for e in entries}),
            "severities": sorted({e["severity"] for e in entries}),
            "labels": sorted({label for e in entries for label in e["labels"]})}


def router(history: History, principal) -> APIRouter:
    """``images/{id}/history/`` and ``images/{id}/history-filters/``; ``principal`` is the API's authentication."""
    # Imported here: api.py imports this module while it is being loaded.
    from .api import _page  # pylint: disable=import-outside-toplevel

    api = APIRouter(prefix="/api/v3")

    @api.get("/images/{image_id}/history/")
    def list_history(image_id: str, request: Request, who=Depends(principal)):
        entries = select(history.entries(image_id, who), request.query_params)
        return _page(request, [history.entry_json(e) for e in entries])

    @api.get("/images/{image_id}/history-filters/")
    def history_filters(image_id: str, who=Depends(principal)):
        return filters(history.entries(image_id, who))

    return api
