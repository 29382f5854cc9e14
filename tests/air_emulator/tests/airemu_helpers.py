"""Helpers shared by the air_emulator test suite.

Everything goes through real HTTP: the API with ``Emulator.api`` and the
presigned part URLs with plain ``requests.put(url, data=...)``, exactly like
the SDK's upload helper does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import os
import random
import socket
import sqlite3
import time
import urllib.parse
import uuid
from datetime import datetime

import requests

# READONLY_TOKEN is re-exported for the tests.
from air_emulator.testing import (  # noqa: F401  pylint: disable=unused-import
    ADMIN_TOKEN, DEMO_TOKEN, PARTNER_TOKEN, READONLY_TOKEN, UPLOADER_TOKEN,
)

MIB = 1024 * 1024
CHUNK = 5 * MIB  # the suite's --chunk-size
EMULATOR_ARGS = ("--chunk-size", str(CHUNK), "--validation-delay", "0.2", "--transition-delay", "0.2")

DEMO_EMAIL = "demo@demo-org.example.com"
PARTNER_EMAIL = "partner@partner-org.example.com"

# Every field of the v3 Image resource (contract section 5).
IMAGE_FIELDS = {
    "id", "name", "version", "created", "modified", "creator", "default_username", "default_password",
    "mountpoint", "minimum_resources", "includes_air_agent", "cpu_arch", "emulation_type", "emulation_version",
    "provider", "published", "publicly_published", "publish_access_record_id", "upload_status",
    "last_uploaded_at", "size", "hash", "is_owned_by_client", "notes", "release_notes", "user_manual",
}
SHARE_FIELDS = {
    "id", "created", "modified", "image", "image_name", "image_version", "source_org_display_name",
    "target_org_display_name", "target_org", "claimed_by", "state", "expires_at",
}


# --------------------------------------------------------------------------- data
def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def write_file(directory, size: int, seed: int = 0, name: str | None = None) -> str:
    path = os.path.join(str(directory), name or f"image-{size}-{seed}.qcow2")
    with open(path, "wb") as f:
        f.write(payload(size, seed))
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def parse_ts(text: str) -> float:
    assert isinstance(text, str) and text.endswith("Z"), text
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ------------------------------------------------------------------------ images
def image_body(**overrides) -> dict:
    body = {"name": "cumulus-vx", "version": "5.16.0", "default_username": "cumulus",
            "default_password": "cumulus"}
    body.update(overrides)
    return body


def create_image(emu, token: str = DEMO_TOKEN, **overrides) -> dict:
    response = emu.api("POST", "images", token=token, json=image_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def get_image(emu, image_id: str, token: str = DEMO_TOKEN) -> dict:
    response = emu.api("GET", f"images/{image_id}", token=token)
    assert response.status_code == 200, response.text
    return response.json()


def list_all(emu, path: str = "images", token: str = DEMO_TOKEN, **params) -> list[dict]:
    response = emu.api("GET", path, token=token, params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return response.json()["results"]


# ----------------------------------------------------------------------- uploads
@dataclasses.dataclass
class Upload:
    image_id: str
    data: bytes
    plan: dict
    etags: dict  # part_number -> unquoted ETag
    completed: dict | None = None  # complete-upload response body

    @property
    def urls(self) -> dict:
        return {p["part_number"]: p["url"] for p in self.plan["part_urls"]}


def start_upload(emu, image_id: str, data: bytes, token: str = DEMO_TOKEN, declared_hash: str | None = None,
                 declared_size: int | None = None) -> dict:
    body = {"hash": declared_hash or sha256(data), "size": len(data) if declared_size is None else declared_size}
    response = emu.api("PATCH", f"images/{image_id}/start-upload", token=token, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def part_ranges(data: bytes, plan: dict):
    """(part_number, url, bytes) per part, computed like the SDK's calculate_parts_info."""
    chunk, count = plan["chunk_size"], len(plan["part_urls"])
    for index, item in enumerate(plan["part_urls"]):
        start = index * chunk
        end = len(data) if index == count - 1 else start + chunk
        yield item["part_number"], item["url"], data[start:end]


def put_part(url: str, blob: bytes) -> requests.Response:
    return requests.put(url, data=blob, timeout=60)


def put_parts(upload: Upload, only=None) -> None:
    for number, url, blob in part_ranges(upload.data, upload.plan):
        if only is not None and number not in only:
            continue
        response = put_part(url, blob)
        assert response.status_code == 200, response.text
        etag = response.headers.get("ETag")
        assert etag == f'"{md5(blob)}"', etag
        upload.etags[number] = etag.strip('"')


def complete_upload(emu, image_id: str, etags: dict, token: str = DEMO_TOKEN) -> requests.Response:
    parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
    return emu.api("PATCH", f"images/{image_id}/complete-upload", token=token, json={"parts": parts})


def upload_file(emu, image_id: str, path: str, token: str = DEMO_TOKEN, *, complete: bool = True, only=None,
                declared_hash: str | None = None, declared_size: int | None = None) -> Upload:
    """Upload a local file through the raw API: start-upload, PUT each byte range, complete-upload."""
    with open(path, "rb") as f:
        data = f.read()
    plan = start_upload(emu, image_id, data, token, declared_hash, declared_size)
    upload = Upload(image_id, data, plan, {})
    put_parts(upload, only=only)
    if complete:
        response = complete_upload(emu, image_id, upload.etags, token)
        assert response.status_code == 200, response.text
        upload.completed = response.json()
    return upload


def complete_image(emu, path: str, token: str = DEMO_TOKEN, **overrides) -> dict:
    """Create an image, upload ``path`` and wait until it is COMPLETE."""
    image = create_image(emu, token, **overrides)
    upload_file(emu, image["id"], path, token)
    return emu.wait_for(image["id"], "COMPLETE", token=token)


def publish(emu, image_id: str, token: str = DEMO_TOKEN, **body) -> dict:
    response = emu.api("PATCH", f"images/{image_id}/publish", token=token, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["upload_status"] == "PUBLISHING"
    image = emu.wait_for(image_id, "COMPLETE", token=token)
    assert image["published"] is True
    return image


def published_image(emu, path: str, token: str = DEMO_TOKEN, publish_body: dict | None = None, **overrides) -> dict:
    image = complete_image(emu, path, token, **overrides)
    return publish(emu, image["id"], token, **(publish_body or {}))


def create_share(emu, image_id: str, target_org: str = "partner-org", token: str = DEMO_TOKEN, **extra) -> dict:
    response = emu.api("POST", "images/shares", token=token, json={"image": image_id, "target_org": target_org, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def orgs(emu) -> dict:
    return {o["name"]: o for o in emu.admin("GET", "orgs")}


# ------------------------------------------------------------- error assertions
def assert_error(response: requests.Response, status: int, *fields: str) -> dict:
    """The documented status, a JSON object body with ``detail``, naming every field in ``fields``."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    for field in fields:
        assert field in body, f"{field!r} is not named in the error body {body}"
        assert isinstance(body[field], list) and body[field], body
    return body


def assert_s3_error(response: requests.Response, status: int, code: str, message: str | None = None) -> None:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert "xml" in response.headers.get("content-type", ""), response.headers
    assert f"<Code>{code}</Code>" in response.text, response.text
    if message:
        assert message in response.text, response.text


# --------------------------------------------------------------- state snapshots
def snapshot(emu) -> dict:
    """Everything a refused request must leave untouched."""
    state = emu.state()
    return {
        "state": {k: state[k] for k in ("uploads", "objects", "images", "shares", "validation_errors",
                                        "pending_jobs", "in_use")},
        "images": {t: list_all(emu, "images", t) for t in (DEMO_TOKEN, PARTNER_TOKEN)},
        "shares": {t: list_all(emu, "images/shares", t) for t in (DEMO_TOKEN, PARTNER_TOKEN)},
        # the reviewer sees every org's publish access records, allow-lists included
        "publish_access_records": (state["publish_access_records"],
                                   list_all(emu, "publishing/image-publish-access-records", ADMIN_TOKEN)),
    }


@contextlib.contextmanager
def unchanged(emu):
    before = snapshot(emu)
    yield before
    after = snapshot(emu)
    assert after == before


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


# ------------------------------------------------- white-box part-URL crafting
def storage_secret(emu) -> str:
    with contextlib.closing(sqlite3.connect(os.path.join(emu.data_dir, "emulator.sqlite3"))) as db:
        return db.execute("SELECT v FROM meta WHERE k = 'storage_secret'").fetchone()[0]


def resign(emu, url: str, **changes) -> str:
    """Change query parameters of a local part URL and sign it again with the
    emulator's secret (mirrors LocalStorage's presigning), to reach the checks
    that come after the signature check."""
    split = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(split.query))
    query.update({k: str(v) for k, v in changes.items()})
    path = urllib.parse.unquote(split.path)
    message = (f"PUT\n{path}\n{query['uploadId']}\n{int(query['partNumber'])}\n{query['X-Amz-Date']}\n"
               f"{int(query['X-Amz-Expires'])}").encode()
    query["X-Amz-Signature"] = hmac.new(storage_secret(emu).encode(), message, hashlib.sha256).hexdigest()
    return urllib.parse.urlunsplit(split._replace(query=urllib.parse.urlencode(query)))


def random_id() -> str:
    return str(uuid.uuid4())


# ----------------------------------------------------------- raw HTTP requests
def raw_put(url: str, headers: list[str], body: bytes = b"") -> tuple[int, str]:
    """Send one hand-written PUT in a single write (no Content-Length unless given)."""
    split = urllib.parse.urlsplit(url)
    target = split.path + (f"?{split.query}" if split.query else "")
    head = f"PUT {target} HTTP/1.1\r\nHost: {split.netloc}\r\n" + "".join(f"{h}\r\n" for h in headers)
    head += "Connection: close\r\n\r\n"
    chunks = []
    with socket.create_connection((split.hostname, split.port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks).decode("latin-1")
    assert raw.startswith("HTTP/1."), raw
    return int(raw.split(" ", 2)[1]), raw


# -------------------------------------------------------------------- publishing
PAR_PATH = "publishing/image-publish-access-records"
# Every field of a publish access record (contract section 10, SDK ImagePublishAccessRecord).
PAR_FIELDS = {
    "id", "created", "modified", "image", "image_name", "image_version", "requested_by", "requested_at",
    "requesting_org", "requesting_org_display_name", "requesting_org_ngc_org_name", "reviewed_by", "reviewed_at",
    "status", "publicly_published", "prefer_public", "justification", "allowed_orgs_request_text", "allowed_orgs",
    "denial_reason",
}
UPLOADER_EMAIL = "uploader@demo-org.example.com"
ADMIN_EMAIL = "admin@air-admin.example.com"
# PUBLISHING / UNPUBLISHING last an hour of emulated time: they end when a test calls finish_transitions.
HELD_EMULATOR_ARGS = ("--chunk-size", str(CHUNK), "--validation-delay", "0.2", "--transition-delay", "3600")


def finish_transitions(emu) -> None:
    """End every PUBLISHING / UNPUBLISHING now: move the emulated clock past the delay and run due jobs."""
    emu.advance_clock(3600)
    emu.admin("POST", "jobs/run")


def ok(response: requests.Response) -> dict:
    assert response.status_code == 200, f"expected 200, got {response.status_code}: {response.text}"
    return response.json()


def image_action(emu, image_id: str, action: str, token: str = DEMO_TOKEN, **body) -> requests.Response:
    """PATCH images/{id}/{action}/ (publish, request-publish, cancel-publish-access-record ...)."""
    return emu.api("PATCH", f"images/{image_id}/{action}", token=token, json=body)


def review(emu, record_id: str, verb: str, token: str = ADMIN_TOKEN, **body) -> requests.Response:
    """PATCH a publish access record's approve/, deny/ or set-visibility/."""
    return emu.api("PATCH", f"{PAR_PATH}/{record_id}/{verb}", token=token, json=body)


def get_record(emu, record_id: str, token: str = ADMIN_TOKEN) -> dict:
    return ok(emu.api("GET", f"{PAR_PATH}/{record_id}", token=token))


def list_records(emu, token: str = ADMIN_TOKEN, **params) -> list[dict]:
    return list_all(emu, PAR_PATH, token, **params)
