"""OS image manifests and the read-only catalogue they pin (``/api/v3/manifests/...``).

An OS image manifest ties one network OS image (Cumulus Linux, SONiC, ...) to
the hardware models it can emulate: per model it pins a platform-information
version and an OS-template version. The API refuses a manifest for an image
that is not ``COMPLETE`` and rejects unknown capability keys and an empty
``os_template_partition`` (SDK 1.9.0 docstrings); the pins must name records of
the catalogue served under ``manifests/platform-information/`` and
``manifests/os-templates/`` for the manifest's ``os_type``.

Everything manifest-specific lives here (catalogue, validation, rules, routes);
``api.py`` mounts the router, ``store.py`` keeps the ``manifests`` table, and
deleting an image deletes its manifest there (``Store.delete_image``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from . import validation as v
from .api import _filter, _order, _page, _search, json_body
from .validation import ApiError, FieldError, forbidden, invalid, not_found

# ---------------------------------------------------------------------- catalogue
# Field order of the SDK models (every field is always returned: the SDK needs
# the ones without defaults to build its dataclasses).
MANIFEST_FIELDS = ("id", "created", "modified", "image", "os_type", "creator", "os_template_partition",
                   "capabilities", "platforms")
PLATFORM_INFORMATION_FIELDS = ("id", "created", "modified", "model", "platform_information_version", "port_map",
                               "ports_config", "creator", "os_type", "emulation_type", "vars", "simulator_config",
                               "minimum_resources")
OS_TEMPLATE_FIELDS = ("id", "created", "modified", "os_type", "os_template_version", "org", "render", "creator",
                      "generate", "vars")

CATALOGUE_CREATOR = "catalog@air-emulator.example.com"
CATALOGUE_ORG = "nvidia"
_CATALOGUE_EPOCH = datetime(2025, 1, 15, tzinfo=timezone.utc).timestamp()

# (os_type, model, version, label ports, split options, minimum resources)
_PLATFORMS = (
    ("cumulus-linux", "SN3700", "1.0", 32, ("1", "2"), {"cpu": 2, "memory": 2048, "storage": 10}),
    ("cumulus-linux", "SN3700", "1.1", 32, ("1", "2", "4"), {"cpu": 2, "memory": 2048, "storage": 10}),
    ("cumulus-linux", "SN5600", "1.0", 64, ("1", "2", "4"), {"cpu": 4, "memory": 4096, "storage": 10}),
    ("sonic", "SN4700", "1.0", 32, ("1", "2"), {"cpu": 2, "memory": 4096, "storage": 16}),
    ("sonic", "SN4700", "2.0", 32, ("1", "2", "4"), {"cpu": 2, "memory": 4096, "storage": 16}),
)
_TEMPLATES = (("cumulus-linux", "5.9"), ("cumulus-linux", "5.11"), ("sonic", "202311"), ("sonic", "202405"))

# Capability keys the API knows (SDK ``OSImageCapabilities``); each value is an object.
CAPABILITY_KEYS = ("vsock",)
PIN_KEYS = ("platform_information_version", "os_template_version")


def _interface(os_type: str, label: int, lane: int, lanes: int) -> str:
    if os_type == "sonic":  # SONiC numbers interfaces by SerDes lane, 8 lanes per port
        return f"Ethernet{(label - 1) * 8 + (lane - 1) * (8 // lanes)}"
    return f"swp{label}" if lanes == 1 else f"swp{label}s{lane - 1}"


def _port_map(os_type: str, ports: int, splits: tuple) -> dict:
    """Split factor ('1', '2', ... or 'mgmt') -> interface name -> entry (SDK ``PlatformInformationPortMap``)."""
    port_map = {"mgmt": {"eth0": {"asic": "0", "label_port": "mgmt", "local_port": "0", "split_num": "1"}}}
    for split in splits:
        lanes = int(split)
        port_map[split] = {
            _interface(os_type, label, lane, lanes): {
                "asic": "1", "label_port": str(label), "local_port": str((label - 1) * lanes + lane),
                "split_num": str(lane),
            }
            for label in range(1, ports + 1) for lane in range(1, lanes + 1)
        }
    return port_map


def _catalogue_id(*key: str) -> str:
    # Stable across restarts and emulator instances, so tests and pins can keep ids.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "air-emulator/" + "/".join(key)))


def _seed_platform_information() -> list[dict]:
    records = []
    for index, (os_type, model, version, ports, splits, resources) in enumerate(_PLATFORMS):
        created = _CATALOGUE_EPOCH + index * 86400
        records.append({
            "id": _catalogue_id("platform-information", os_type, model, version),
            "created": created, "modified": created, "model": model, "platform_information_version": version,
            "port_map": _port_map(os_type, ports, splits),
            "ports_config": {"num_label_ports": ports, "default_split": "1", "split_options": list(splits)},
            "creator": CATALOGUE_CREATOR, "os_type": os_type, "emulation_type": None, "vars": {},
            "simulator_config": {}, "minimum_resources": dict(resources),
        })
    return records


def _seed_os_templates() -> list[dict]:
    records = []
    for index, (os_type, version) in enumerate(_TEMPLATES):
        created = _CATALOGUE_EPOCH + index * 86400
        records.append({
            "id": _catalogue_id("os-templates", os_type, version),
            "created": created, "modified": created, "os_type": os_type, "os_template_version": version,
            "org": CATALOGUE_ORG,
            "render": {
                "/etc/hostname": {"content": "{{ hostname }}\n", "owner": "root", "group": "root", "mode": "0644"},
                "/etc/air/mgmt-mac": {"content": "{{ mgmt_mac }}\n", "owner": "root", "group": "root",
                                      "mode": "0600"},
            },
            "creator": CATALOGUE_CREATOR, "generate": {"mgmt_mac": "MGMT_MAC"}, "vars": ["hostname", "mgmt_mac"],
        })
    return records


class Catalogue:
    """The seeded platform-information and OS-template records (read-only, the same for every org)."""

    def __init__(self) -> None:
        self.platform_information = _seed_platform_information()
        self.os_templates = _seed_os_templates()

    def os_types(self) -> list[str]:
        return sorted({r["os_type"] for r in self.platform_information} | {r["os_type"] for r in self.os_templates})

    def platform_versions(self, os_type: str) -> dict[str, list[str]]:
        """model -> platform_information_version list, for ``os_type``."""
        models: dict[str, list[str]] = {}
        for record in self.platform_information:
            if record["os_type"] == os_type:
                models.setdefault(record["model"], []).append(record["platform_information_version"])
        return models

    def template_versions(self, os_type: str) -> list[str]:
        return [r["os_template_version"] for r in self.os_templates if r["os_type"] == os_type]

    def pin_errors(self, os_type: str, platforms: dict) -> list[str]:
        """One message per model, version or template that does not exist for ``os_type`` (empty = all good)."""
        models = self.platform_versions(os_type)
        templates = self.template_versions(os_type)
        errors = []
        for model, pin in platforms.items():
            if model not in models:
                errors.append(f"{model}: unknown model for os_type {os_type!r} (known models: "
                              f"{_names(models)}).")
                continue
            version = pin["platform_information_version"]
            if version is not None and version not in models[model]:
                errors.append(f"{model}: platform_information_version {version!r} does not exist for os_type "
                              f"{os_type!r} (available: {_names(models[model])}).")
            template = pin["os_template_version"]
            if template is not None and template not in templates:
                errors.append(f"{model}: os_template_version {template!r} does not exist for os_type "
                              f"{os_type!r} (available: {_names(templates)}).")
        return errors


def _names(items) -> str:
    return ", ".join(sorted(items)) or "none"


# ------------------------------------------------------------- field validation
def _platforms(value) -> dict:
    """``{model: {platform_information_version: str|None, os_template_version: str|None}}`` (SDK
    ``OSImageManifestPlatform``: both keys required, null = not pinned)."""
    if not isinstance(value, dict):
        raise FieldError(f'Expected a dictionary keyed by hardware model but got type "{type(value).__name__}".')
    cleaned = {}
    for model, pin in value.items():
        if not model.strip() or len(model) > 128:
            raise FieldError("Model names must be non-blank strings of at most 128 characters.")
        if not isinstance(pin, dict):
            raise FieldError(f"{model}: expected an object with the keys {', '.join(PIN_KEYS)}.")
        unknown = sorted(set(pin) - set(PIN_KEYS))
        missing = [k for k in PIN_KEYS if k not in pin]
        if unknown or missing:
            problems = [f"unknown key(s) {', '.join(unknown)}"] if unknown else []
            problems += [f"missing key(s) {', '.join(missing)}"] if missing else []
            raise FieldError(f"{model}: {'; '.join(problems)}; each model needs exactly "
                             f"{', '.join(PIN_KEYS)}.")
        for key in PIN_KEYS:
            version = pin[key]
            if version is not None and (not isinstance(version, str) or not version.strip() or len(version) > 64):
                raise FieldError(f"{model}: {key} must be null or a non-blank string of at most 64 characters.")
        cleaned[model] = {k: pin[k] for k in PIN_KEYS}
    return cleaned


def _capabilities(value) -> dict:
    """Capability flags: key presence = supported, value = an object of settings (SDK ``OSImageCapabilities``)."""
    if not isinstance(value, dict):
        raise FieldError(f'Expected a dictionary of capabilities but got type "{type(value).__name__}".')
    unknown = sorted(set(value) - set(CAPABILITY_KEYS))
    if unknown:
        raise FieldError(f"Unknown capability key(s): {', '.join(unknown)}; allowed: {', '.join(CAPABILITY_KEYS)}.")
    for key, settings in value.items():
        if not isinstance(settings, dict):
            raise FieldError(f"{key}: expected an object (use {{}} for no settings).")
    return dict(value)


WRITABLE = {
    "platforms": _platforms,
    "capabilities": _capabilities,
    "os_template_partition": v.string(1, 128, nullable=True),  # "" -> "This field may not be blank."
}
CREATE_SCHEMA = dict(WRITABLE, image=v.uuid_string, os_type=v.string(1, 128))
IMMUTABLE = ("image", "os_type")
READ_ONLY = frozenset(("id", "created", "modified", "creator"))
MANIFEST_FILTERS = {"image": None, "os_type": None}
MANIFEST_ORDERING = ("created", "modified")
MANIFEST_SEARCH = ("os_type", "image_name", "image_id", "creator")
PLATFORM_FILTERS = {"creator": None, "emulation_type": None, "model": None, "os_type": None,
                    "platform_information_version": None}
PLATFORM_ORDERING = ("created", "modified", "creator", "model", "os_type", "platform_information_version")
PLATFORM_SEARCH = ("model", "platform_information_version", "os_type", "creator")
TEMPLATE_FILTERS = {"os_type": None, "os_template_version": None}
TEMPLATE_ORDERING = ("created", "modified", "os_template_version", "os_type")
TEMPLATE_SEARCH = ("os_type", "os_template_version")


# ------------------------------------------------------------------------ rules
class ManifestService:
    """The manifest rules on top of the images ``Service`` (its scopes, visibility and store)."""

    def __init__(self, service, catalogue: Catalogue | None = None) -> None:
        self.service = service
        self.store = service.store
        self.clock = service.clock
        self.catalogue = catalogue or Catalogue()

    # -- reads --------------------------------------------------------------------
    def manifest_json(self, manifest: dict) -> dict:
        body = {name: manifest.get(name) for name in MANIFEST_FIELDS}
        body["created"], body["modified"] = v.iso(manifest["created"]), v.iso(manifest["modified"])
        return body

    def list(self, principal) -> list[dict]:
        """Manifests of the images the caller can see (own images and published ones visible to its org)."""
        self.service.require(principal, "image_read")
        images = {i["id"]: i for i in self.store.all_images()}
        return [m for m in self.store.all_manifests()
                if m["image"] in images and self.service.visible(images[m["image"]], principal)]

    def get(self, manifest_id: str, principal) -> dict:
        self.service.require(principal, "image_read")
        return self._find(manifest_id, principal)

    def _find(self, manifest_id: str, principal) -> dict:
        manifest = None
        try:
            manifest = self.store.get_manifest(str(uuid.UUID(manifest_id)))
        except ValueError:
            pass
        image = self.store.get_image(manifest["image"]) if manifest else None
        if image is None or not self.service.visible(image, principal):
            raise not_found("No OSImageManifest matches the given query.")
        return manifest

    def _own(self, manifest_id: str, principal) -> dict:
        self.service.require(principal, "image_write")
        manifest = self._find(manifest_id, principal)
        if manifest["_org"] != principal.org.name:
            raise forbidden("Only the organization that owns the image can change its OS image manifest.")
        return manifest

    # -- writes -------------------------------------------------------------------
    def create(self, body, principal) -> dict:
        """``POST manifests/os-images/`` ``{image, os_type, platforms?, capabilities?, os_template_partition?}``.

        400 ``VALIDATION`` on ``image`` (unknown or invisible, another org's, not
        ``COMPLETE`` - with ``upload_status`` -, already has a manifest), ``os_type``
        (not in the catalogue), ``platforms`` (one message per bad model/version),
        ``capabilities`` (unknown key) or ``os_template_partition`` (blank); 403
        without ``air:image_write``. Nothing is written unless every check passes.
        """
        self.service.require(principal, "image_write")
        data = v.clean(body, CREATE_SCHEMA, required=("image", "os_type"), read_only=READ_ONLY)
        with self.store.tx():
            image = self._manifest_image(data["image"], principal)
            existing = self.store.manifest_for_image(image["id"])
            if existing is not None:
                raise invalid({"image": [f"Image {image['id']} already has an OS image manifest ({existing['id']});"
                                         " change it with PATCH or delete it first."]})
            self._check_os_type(data["os_type"])
            platforms = data.get("platforms", {})
            self._check_pins(data["os_type"], platforms)
            now = self.clock.now()
            manifest = {
                "id": str(uuid.uuid4()), "created": now, "modified": now, "image": image["id"],
                "os_type": data["os_type"], "creator": principal.email,
                "os_template_partition": data.get("os_template_partition"),
                "capabilities": data.get("capabilities", {}), "platforms": platforms, "_org": image["_org"],
            }
            self.store.put_manifest(manifest)
        return manifest

    def update(self, manifest_id: str, body, principal) -> dict:
        """``PATCH``: ``platforms``, ``capabilities``, ``os_template_partition`` replace the stored values.

        ``image`` / ``os_type`` equal to the stored value are ignored, a different
        value is a 400 naming the field (immutable, SDK 1.9.0). 404 if the image is
        not visible to the caller, 403 if it belongs to another org.
        """
        with self.store.tx():
            manifest = self._own(manifest_id, principal)
            data = v.clean(body, CREATE_SCHEMA, read_only=READ_ONLY)
            changed = [name for name in IMMUTABLE if name in data and data[name] != manifest[name]]
            if changed:
                raise invalid({name: [f"{name} cannot be changed once the manifest exists (it is "
                                      f"{manifest[name]!r}); delete the manifest and create a new one."]
                               for name in changed})
            data = {name: value for name, value in data.items() if name not in IMMUTABLE}
            if "platforms" in data:
                self._check_pins(manifest["os_type"], data["platforms"])
            if data:
                manifest.update(data, modified=self.clock.now())
                self.store.put_manifest(manifest)
        return manifest

    def delete(self, manifest_id: str, principal) -> None:
        """``DELETE``: the owner org only (403 otherwise); the image is not touched."""
        with self.store.tx():
            manifest = self._own(manifest_id, principal)
            self.store.delete_manifest(manifest["id"])

    # -- checks (all before the first write) ---------------------------------------
    def _manifest_image(self, image_id: str, principal) -> dict:
        image = self.store.get_image(image_id)
        if image is None or not self.service.visible(image, principal):
            raise invalid({"image": [f'Invalid pk "{image_id}" - object does not exist.']})
        if image["_org"] != principal.org.name:
            raise invalid({"image": [f"Image {image_id} belongs to another organization; only its owner can "
                                     "attach an OS image manifest."]})
        if image["upload_status"] != "COMPLETE":
            raise ApiError(400, f"image: Image {image_id} upload_status is {image['upload_status']}; an OS image "
                                "manifest can only be attached to a COMPLETE image.",
                           type="VALIDATION", fields={"image": [f"upload_status is {image['upload_status']}, "
                                                                "not COMPLETE."]},
                           upload_status=image["upload_status"])
        return image

    def _check_os_type(self, os_type: str) -> None:
        known = self.catalogue.os_types()
        if os_type not in known:
            raise invalid({"os_type": [f"Unknown os_type {os_type!r}: no platform information or OS templates "
                                       f"exist for it (known: {', '.join(known)})."]})

    def _check_pins(self, os_type: str, platforms: dict) -> None:
        errors = self.catalogue.pin_errors(os_type, platforms)
        if errors:
            raise invalid({"platforms": errors})


# ----------------------------------------------------------------------- routes
def manifest_router(manifests: ManifestService, principal) -> APIRouter:
    """``/api/v3/manifests/os-images/`` (CRUD) and the read-only catalogue endpoints."""
    router = APIRouter(prefix="/api/v3/manifests")
    catalogue = manifests.catalogue

    @router.get("/os-images/")
    def list_manifests(request: Request, who=Depends(principal)):
        params = dict(request.query_params)
        if "image" in params:
            try:
                params["image"] = v.uuid_string(params["image"])
            except FieldError as exc:
                raise invalid({"image": [str(exc)]}) from None
        images = {i["id"]: i for i in manifests.store.all_images()}

        def derived(manifest, name):
            if name == "image_id":
                return manifest["image"]
            if name == "image_name":
                return images.get(manifest["image"], {}).get("name")
            return manifest.get(name)

        items = _filter(manifests.list(who), params, MANIFEST_FILTERS, (), derived)
        items = _order(_search(items, params, MANIFEST_SEARCH, derived), params, MANIFEST_ORDERING, derived)
        return _page(request, [manifests.manifest_json(m) for m in items])

    @router.post("/os-images/", status_code=201)
    def create_manifest(who=Depends(principal), body=Depends(json_body)):
        return manifests.manifest_json(manifests.create(body, who))

    @router.get("/os-images/{manifest_id}/")
    def get_manifest(manifest_id: str, who=Depends(principal)):
        return manifests.manifest_json(manifests.get(manifest_id, who))

    @router.patch("/os-images/{manifest_id}/")
    def update_manifest(manifest_id: str, who=Depends(principal), body=Depends(json_body)):
        return manifests.manifest_json(manifests.update(manifest_id, body, who))

    @router.delete("/os-images/{manifest_id}/", status_code=204)
    def delete_manifest(manifest_id: str, who=Depends(principal), _body=Depends(json_body)):
        manifests.delete(manifest_id, who)
        return Response(status_code=204)

    def catalogue_routes(path: str, records: list, fields: tuple, filters: dict, ordering: tuple, search: tuple,
                         what: str) -> None:
        def as_json(record: dict) -> dict:
            body = {name: record[name] for name in fields}
            body["created"], body["modified"] = v.iso(record["created"]), v.iso(record["modified"])
            return body

        def derived(record, name):
            return record.get(name)

        @router.get(f"/{path}/", name=f"list_{path}")
        def list_records(request: Request, who=Depends(principal)):
            manifests.service.require(who, "image_read")
            items = _filter(records, request.query_params, filters, (), derived)
            items = _order(_search(items, request.query_params, search, derived), request.query_params, ordering,
                           derived)
            return _page(request, [as_json(r) for r in items])

        @router.get(f"/{path}/{{record_id}}/", name=f"get_{path}")
        def get_record(record_id: str, who=Depends(principal)):
            manifests.service.require(who, "image_read")
            for record in records:
                if record["id"] == record_id.lower():
                    return as_json(record)
            raise not_found(f"No {what} matches the given query.")

    catalogue_routes("platform-information", catalogue.platform_information, PLATFORM_INFORMATION_FIELDS,
                     PLATFORM_FILTERS, PLATFORM_ORDERING, PLATFORM_SEARCH, "PlatformInformation")
    catalogue_routes("os-templates", catalogue.os_templates, OS_TEMPLATE_FIELDS, TEMPLATE_FILTERS,
                     TEMPLATE_ORDERING, TEMPLATE_SEARCH, "OSTemplate")
    return router
