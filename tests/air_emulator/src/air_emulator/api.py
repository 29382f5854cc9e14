"""HTTP layer: the ``/api/v3/`` images API and the ``/_emulator/`` admin API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import time
import uuid

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import history, organizations, publishing
from . import validation as v
from .faults import FaultError, FaultRegistry
from .service import Service
from .storage import StorageError, make_storage
from .store import Clock, Store
from .validation import ApiError, invalid

log = logging.getLogger("air_emulator.api")

IMAGE_FILTERS = {
    "name": None, "version": None, "creator": None, "hash": None,
    "cpu_arch": ("x86", "ARM"), "provider": ("VM", "CONTAINER"),
    "upload_status": ("READY", "UPLOADING", "VALIDATING", "COMPLETE", "PUBLISHING", "UNPUBLISHING",
                      "COPYING_FROM_IMAGE_SHARE", "PENDING_PUBLISH", "PENDING_UNPUBLISH"),
}
IMAGE_BOOL_FILTERS = ("includes_air_agent", "published", "publicly_published", "is_owned_by_client")
IMAGE_ORDERING = ("name", "version", "created", "modified", "creator", "cpu_arch", "hash", "includes_air_agent",
                  "provider", "published", "publicly_published", "size", "upload_status", "last_uploaded_at",
                  "emulation_version", "mountpoint")
IMAGE_SEARCH = ("name", "version")
SHARE_FILTERS = {"image_name": None, "image_version": None, "state": ("ACTIVE", "CLAIMED", "EXPIRED")}
# E-mail addresses and org names match whatever their case (as the publish access records' filters do).
SHARE_CASELESS_FILTERS = ("claimed_by", "source_org_display_name", "target_org", "target_org_display_name")
SHARE_ORDERING = ("created", "modified", "expires_at", "image_name", "image_version", "state", "target_org",
                  "target_org_display_name", "source_org_display_name", "claimed_by")
SHARE_SEARCH = ("image_name", "image_version", "target_org_display_name", "source_org_display_name")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class _DroppedConnection(Exception):
    """Raised after a partial response so uvicorn closes the connection."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _DroppedConnection))


def _error_body(request_id: str, exc: ApiError) -> dict:
    body = dict(exc.fields)
    body.update(detail=exc.detail, request_id=request_id)
    if exc.type:
        body["type"] = exc.type
    body.update(exc.extra)
    return body


class EmulatorMiddleware:
    """Request ids, trailing-slash tolerance and API fault injection."""

    def __init__(self, app, faults: FaultRegistry) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if (path.startswith("/api/") or path.startswith("/_emulator/")) and not path.endswith("/"):
            scope = dict(scope, path=path + "/")
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers", [])) + [
                    (b"x-request-id", request_id.encode())])
            await send(message)

        rule = self.faults.match(scope["method"], scope["path"]) if scope["path"].startswith("/api/") else None
        if rule is None:
            return await self.app(scope, receive, send_with_id)
        if rule.action == "hold":
            await self._wait_at_gate(rule)
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.action == "status":
            headers = {"x-request-id": request_id}
            if rule.retry_after is not None:
                headers["retry-after"] = f"{rule.retry_after:g}"
            response = JSONResponse({"detail": rule.detail or "Injected fault.", "request_id": request_id},
                                    status_code=rule.status, headers=headers)
            return await response(scope, receive, send)
        if rule.action == "drop":
            return await self._run_and_drop(scope, receive, send_with_id)
        return await self.app(scope, receive, send_with_id)

    async def _wait_at_gate(self, rule) -> None:
        """Hold this request until the test opens the rule's gate (polled: the event loop must not block)."""
        gate = self.faults.arrive(rule)
        if gate is None:
            return
        deadline = time.monotonic() + rule.hold_timeout
        try:
            while not gate.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)  # a poll of the gate: the event loop must stay free for other requests
        finally:
            self.faults.leave(rule)

    async def _run_and_drop(self, scope, receive, send):
        """Let the request take effect, then lose the response half-way."""
        start = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body = message.get("body", b"")
            await send(start)
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise _DroppedConnection()

        await self.app(scope, receive, capture)


async def json_body(request: Request):
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"JSON parse error - {exc}", type="VALIDATION") from None


def _filter(items: list[dict], params, exact: dict, booleans: tuple, derived) -> list[dict]:
    for name, choices in exact.items():
        if name in params:
            wanted = params[name]
            if choices and wanted not in choices:
                raise invalid({name: [f"Select a valid choice. {wanted} is not one of the available choices."]})
            items = [i for i in items if str(derived(i, name)) == wanted]
    for name in booleans:
        if name in params:
            wanted = v.parse_bool(name, params[name])
            items = [i for i in items if bool(derived(i, name)) is wanted]
    return items


def _search(items: list[dict], params, fields: tuple, derived) -> list[dict]:
    text = params.get("search", "").strip().lower()
    if not text:
        return items
    return [i for i in items if any(text in str(derived(i, f) or "").lower() for f in fields)]


def _order(items: list[dict], params, allowed: tuple, derived) -> list[dict]:
    items = sorted(items, key=lambda i: (i["created"], i["id"]))
    ordering = [f.strip() for f in params.get("ordering", "").split(",") if f.strip()]
    for field in reversed(ordering):
        name = field.lstrip("-")
        if name not in allowed:
            raise invalid({"ordering": [f"Invalid ordering field {name!r}; allowed: {', '.join(allowed)}."]})
        items.sort(key=lambda i: (derived(i, name) is None, derived(i, name)), reverse=field.startswith("-"))
    return items


def _window(request: Request) -> tuple[int, int]:
    """``(limit, offset)`` of a list request; 400 naming the parameter when it is not usable."""
    params = request.query_params

    def number(name: str, default: int, minimum: int) -> int:
        text = params.get(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise invalid({name: ["A valid integer is required."]}) from None
        if value < minimum:
            raise invalid({name: [f"Ensure this value is greater than or equal to {minimum}."]})
        return value

    return min(number("limit", DEFAULT_LIMIT, 1), MAX_LIMIT), number("offset", 0, 0)


def _page_of(request: Request, count: int, results: list[dict], limit: int, offset: int) -> dict:
    """The page body for ``results``, the items ``offset`` to ``offset + limit`` of ``count``."""
    nxt = prev = None
    if offset + limit < count:
        nxt = str(request.url.include_query_params(limit=limit, offset=offset + limit))
    if offset > 0:
        if offset - limit <= 0:
            prev = str(request.url.include_query_params(limit=limit).remove_query_params("offset"))
        else:
            prev = str(request.url.include_query_params(limit=limit, offset=offset - limit))
    return {"count": count, "next": nxt, "previous": prev, "results": results}


def _page(request: Request, results: list[dict]) -> dict:
    limit, offset = _window(request)
    return _page_of(request, len(results), results[offset: offset + limit], limit, offset)


def _image_query(params) -> dict:
    """The image list's query parameters as ``Store.image_page`` arguments, checked in the order the
    Python lists check theirs (``_filter``, ``_search``, ``_order``), with the same messages."""
    equals, flags = {}, {}
    for name, choices in IMAGE_FILTERS.items():
        if name in params:
            wanted = params[name]
            if choices and wanted not in choices:
                raise invalid({name: [f"Select a valid choice. {wanted} is not one of the available choices."]})
            equals[name] = wanted
    for name in IMAGE_BOOL_FILTERS:
        if name in params:
            flags[name] = v.parse_bool(name, params[name])
    text = params.get("search", "").strip().lower()
    ordering = []
    for field in (f.strip() for f in params.get("ordering", "").split(",")):
        if not field:
            continue
        name = field.lstrip("-")
        if name not in IMAGE_ORDERING:
            raise invalid({"ordering": [f"Invalid ordering field {name!r}; allowed: {', '.join(IMAGE_ORDERING)}."]})
        ordering.append((name, field.startswith("-")))
    return {"equals": equals, "flags": flags, "search": (text, IMAGE_SEARCH) if text else None,
            "ordering": ordering}


def create_app(settings) -> FastAPI:
    settings.validate()
    store = Store(settings.data_dir)
    clock = Clock(store)
    faults = FaultRegistry()
    storage = make_storage(settings, store, clock, faults)
    service = Service(settings, store, storage, clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        storage.start()
        service.start_worker()
        try:
            yield
        finally:
            service.stop_worker()
            storage.stop()
            store.close()

    app = FastAPI(title="Air API emulator", lifespan=lifespan, docs_url="/_emulator/docs",
                  openapi_url="/_emulator/openapi.json", redoc_url=None)
    app.state.settings, app.state.service, app.state.storage, app.state.faults = settings, service, storage, faults
    app.state.clock, app.state.store = clock, store
    app.add_middleware(EmulatorMiddleware, faults=faults)
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return JSONResponse(_error_body(request.scope["state"]["request_id"], exc), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(StorageError)
    async def storage_error(request: Request, exc: StorageError):
        body = {"detail": f"Storage backend error: {exc.code}: {exc.message}",
                "request_id": request.scope["state"]["request_id"]}
        return JSONResponse(body, status_code=502)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = {404: "Not found.", 405: f'Method "{request.method}" not allowed.'}.get(exc.status_code, exc.detail)
        return JSONResponse({"detail": detail, "request_id": request.scope["state"]["request_id"]},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    def principal(request: Request):
        header = request.headers.get("authorization", "")
        scheme, _sep, token = header.partition(" ")
        if not header:
            raise ApiError(401, "Authentication credentials were not provided.",
                           headers={"WWW-Authenticate": "Bearer"})
        found = settings.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise ApiError(401, "Invalid token.", headers={"WWW-Authenticate": "Bearer"})
        return found

    api = APIRouter(prefix="/api/v3")

    # The image list and create are the calls a CI pipeline makes most, against thousands of images: the
    # list pages in SQL, and both answer with a JSONResponse (FastAPI's generic encoder costs more than
    # the query).
    @api.get("/images/")
    def list_images(request: Request, who=Depends(principal)):
        service.require(who, "image_read")
        query = _image_query(request.query_params)
        limit, offset = _window(request)
        count, images = service.image_page(who, limit=limit, offset=offset, **query)
        return JSONResponse(_page_of(request, count, [service.image_json(i, who) for i in images], limit, offset))

    @api.post("/images/", status_code=201)
    def create_image(who=Depends(principal), body=Depends(json_body)):
        return JSONResponse(service.image_json(service.create_image(body, who), who), status_code=201)

    @api.get("/images/shares/")
    def list_shares(request: Request, who=Depends(principal)):
        params = request.query_params

        def derived(share, name):
            return service.share_state(share) if name == "state" else share.get(name)

        items = service.list_shares(who)
        if "image" in params:
            try:
                wanted = v.uuid_string(params["image"])
            except v.FieldError as exc:
                raise invalid({"image": [str(exc)]}) from None
            items = [s for s in items if s["image"] == wanted]
        items = _filter(items, params, SHARE_FILTERS, (), derived)
        for name in SHARE_CASELESS_FILTERS:
            if name in params:
                wanted = params[name].casefold()
                items = [s for s in items if (s.get(name) or "").casefold() == wanted]
        items = _order(_search(items, params, SHARE_SEARCH, derived), params, SHARE_ORDERING, derived)
        return _page(request, [service.share_json(s) for s in items])

    @api.post("/images/shares/", status_code=201)
    def create_share(who=Depends(principal), body=Depends(json_body)):
        return service.share_json(service.create_share(body, who))

    @api.get("/images/shares/{share_id}/")
    def get_share(share_id: str, who=Depends(principal)):
        return service.share_json(service.get_share(share_id, who))

    @api.delete("/images/shares/{share_id}/", status_code=204)
    def delete_share(share_id: str, who=Depends(principal), _body=Depends(json_body)):
        service.delete_share(share_id, who)
        return Response(status_code=204)

    @api.post("/images/claim-image-share/", status_code=201)
    def claim(who=Depends(principal), body=Depends(json_body)):
        return service.image_json(service.claim(body, who), who)

    @api.get("/images/{image_id}/")
    def get_image(image_id: str, who=Depends(principal)):
        return service.image_json(service.get_image(image_id, who), who)

    @api.patch("/images/{image_id}/")
    def update_image(image_id: str, who=Depends(principal), body=Depends(json_body)):
        return service.image_json(service.update_image(image_id, body, who), who)

    @api.delete("/images/{image_id}/", status_code=204)
    def delete_image(image_id: str, who=Depends(principal), _body=Depends(json_body)):
        service.delete_image(image_id, who)
        return Response(status_code=204)

    @api.patch("/images/{image_id}/start-upload/")
    def start_upload(image_id: str, who=Depends(principal), body=Depends(json_body)):
        return service.start_upload(image_id, body, who)

    @api.patch("/images/{image_id}/complete-upload/")
    def complete_upload(image_id: str, who=Depends(principal), body=Depends(json_body)):
        return service.image_json(service.complete_upload(image_id, body, who), who)

    @api.patch("/images/{image_id}/abort-upload/", status_code=204)
    def abort_upload(image_id: str, who=Depends(principal), _body=Depends(json_body)):
        service.abort_upload(image_id, who)
        return Response(status_code=204)

    @api.patch("/images/{image_id}/clear-upload/")
    def clear_upload(image_id: str, who=Depends(principal), _body=Depends(json_body)):
        return service.image_json(service.clear_upload(image_id, who), who)

    app.include_router(api)
    app.include_router(history.router(service.history, principal))
    app.include_router(publishing.router(service.publishing, principal))
    app.include_router(organizations.router(organizations.Organizations(settings, store, clock), principal))
    # OS image manifests and their catalogue (manifests.py, which builds on the list helpers above).
    from .manifests import ManifestService, manifest_router
    app.include_router(manifest_router(ManifestService(service), principal))
    app.include_router(_admin_router(settings, service, storage, faults, clock, store))
    return app


def _admin_router(settings, service, storage, faults, clock, store) -> APIRouter:
    admin = APIRouter(prefix="/_emulator")

    @admin.get("/health/")
    def health():
        return {"status": "ok"}

    @admin.get("/state/")
    def state():
        body = storage.state()
        images = store.all_images()
        body.update(
            images=len(images),
            shares=len(store.all_shares()),
            manifests=len(store.all_manifests()),
            pending_jobs=len(store.due_jobs(float("inf"))),
            validation_errors={i["id"]: i["_validation_error"] for i in images if i.get("_validation_error")},
            in_use={i["id"]: len(i["_in_use"]) for i in images if i.get("_in_use")},
            publish_access_records=_count_by_status(store.all_pars()),
            settings={"chunk_size": settings.chunk_size, "validation_delay": settings.validation_delay,
                      "transition_delay": settings.transition_delay, "url_ttl": settings.url_ttl,
                      "wan": settings.wan.describe()},
        )
        return body

    @admin.get("/orgs/")
    def orgs():
        return [{"name": o.name, "id": o.id, "display_name": o.display_name} for o in settings.orgs.values()]

    @admin.get("/faults/")
    def list_faults():
        return faults.rules()

    @admin.post("/faults/", status_code=201)
    def add_fault(body=Depends(json_body)):
        try:
            return faults.add(body).as_dict()
        except FaultError as exc:
            raise invalid({exc.field: [str(exc)]}) from None

    @admin.delete("/faults/", status_code=204)
    def clear_faults():
        faults.clear()
        return Response(status_code=204)

    @admin.post("/faults/{rule_id}/release/")
    def release_fault(rule_id: int):
        rule = faults.release(rule_id)
        if rule is None:
            raise ApiError(404, f"No fault rule {rule_id}.")
        return rule

    @admin.get("/faults/{rule_id}/wait/")
    def wait_for_fault(rule_id: int, held: int = 1, timeout: float = 60.0):
        # A plain def: FastAPI runs it in a worker thread, so the wait blocks no other request.
        if held < 1:
            raise invalid({"held": ["held must be >= 1"]})
        if not 0 <= timeout <= 600:
            raise invalid({"timeout": ["timeout must be within 0..600 seconds"]})
        try:
            rule = faults.wait_held(rule_id, held, timeout)
        except TimeoutError as exc:
            raise ApiError(408, str(exc)) from None
        if rule is None:
            raise ApiError(404, f"No fault rule {rule_id}.")
        return rule

    @admin.delete("/faults/{rule_id}/", status_code=204)
    def delete_fault(rule_id: int):
        if not faults.remove(rule_id):
            raise ApiError(404, f"No fault rule {rule_id}.")
        return Response(status_code=204)

    @admin.get("/images/{image_id}/in-use/")
    def get_in_use(image_id: str):
        return service.in_use(image_id)

    @admin.post("/images/{image_id}/in-use/")
    def set_in_use(image_id: str, body=Depends(json_body)):
        return service.set_in_use(image_id, body)

    @admin.delete("/images/{image_id}/in-use/")
    def clear_in_use(image_id: str):
        return service.set_in_use(image_id, {"instances": []})

    @admin.get("/clock/")
    def get_clock():
        return {"now": v.iso(clock.now()), "offset": clock.offset}

    @admin.post("/clock/")
    def advance_clock(body=Depends(json_body)):
        seconds = body.get("advance") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise invalid({"advance": ["A non-negative number of seconds is required."]})
        clock.advance(seconds)
        return {"now": v.iso(clock.now()), "offset": clock.offset}

    @admin.post("/jobs/run/")
    def run_jobs():
        service.run_due_jobs()
        return {"pending_jobs": len(store.due_jobs(float("inf")))}

    @admin.post("/reset/")
    def reset():
        for upload in store.all_uploads():
            with contextlib.suppress(StorageError):
                storage.abort(upload)
        for image in store.all_images():
            if image.get("_object_key"):
                with contextlib.suppress(StorageError):
                    storage.delete_object(image["_object_key"])
        store.reset()
        faults.clear()
        clock.advance(-clock.offset)
        for sub in ("parts", "objects"):
            directory = os.path.join(settings.data_dir, sub)
            if os.path.isdir(directory):
                shutil.rmtree(directory)
                os.makedirs(directory)
        return {"status": "reset"}

    return admin


def _count_by_status(records: list[dict]) -> dict:
    counts = {}
    for record in records:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    return dict(sorted(counts.items()))
