"""Data planes: where part uploads go and where finished objects live.

``LocalStorage`` is the default: a small threaded HTTP server on its own port
(S3 is a different host from the API too) that checks presigned-style URLs,
streams each part to a file while computing its MD5 ETag, and keeps finished
objects as the ordered list of their part files, so completing an upload is
O(parts) and never copies bytes.

With ``--storage-connection-rate``, ``--storage-link-rate`` or
``--storage-latency`` the local data plane shapes what it receives like a WAN
link (``wan.py``).

``S3Storage`` (``--s3-endpoint``) creates real multipart uploads on an S3
endpoint (moto in our tests) and hands out real presigned ``upload_part`` URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import logging
import os
import secrets
import shutil
import socket
import threading
import time
import urllib.parse
from datetime import datetime, timezone

from .wan import Wan

log = logging.getLogger("air_emulator.storage")

MIN_PART_SIZE = 5 * 1024 * 1024
READ_BLOCK = 1024 * 1024


class StorageError(Exception):
    """An S3-style failure; ``code`` is the S3 error code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def normalise_etag(etag: str) -> str:
    return str(etag).strip().strip('"').lower()


def check_part_list(parts: list[dict], stored: dict, expected_count: int) -> None:
    """S3's complete-upload rules, plus: every planned part must be there."""
    numbers = [p["part_number"] for p in parts]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise StorageError("InvalidPartOrder", "The list of parts was not in ascending order.")
    missing = [n for n in range(1, expected_count + 1) if n not in numbers]
    extra = [n for n in numbers if n > expected_count]
    if missing or extra:
        what = f"missing part(s) {missing}" if missing else f"unknown part(s) {extra}"
        raise StorageError("InvalidPart", f"The part list does not match the upload plan: {what}.")
    for part in parts:
        have = stored.get(part["part_number"])
        if have is None:
            raise StorageError("InvalidPart", f"Part {part['part_number']} has not been uploaded.")
        if normalise_etag(have["etag"]) != normalise_etag(part["etag"]):
            raise StorageError(
                "InvalidPart", f"The ETag given for part {part['part_number']} does not match the uploaded part."
            )
        if part["part_number"] != expected_count and have["size"] < MIN_PART_SIZE:
            raise StorageError(
                "EntityTooSmall", f"Part {part['part_number']} is smaller than the minimum allowed size (5 MiB)."
            )


def _amz_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _parse_amz_date(text: str) -> float:
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()


def _s3_error_xml(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()


class LocalStorage:
    kind = "local"

    def __init__(self, settings, store, clock, faults) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.faults = faults
        self.parts_dir = os.path.join(settings.data_dir, "parts")
        self.objects_dir = os.path.join(settings.data_dir, "objects")
        os.makedirs(self.parts_dir, exist_ok=True)
        os.makedirs(self.objects_dir, exist_ok=True)
        secret = store.meta("storage_secret")
        if secret is None:
            secret = secrets.token_hex(32)
            store.set_meta("storage_secret", secret)
        self._secret = secret.encode()
        self._server = None
        self.base_url = None
        self.wan = Wan(settings.wan)

    # -- server ------------------------------------------------------------------
    def start(self) -> None:
        """Listen on --storage-port, else on the port of the previous run (so
        part URLs issued before a restart keep working), else on a free port."""
        candidates = [self.settings.storage_port] if self.settings.storage_port else []
        previous = self.store.meta("storage_port")
        if previous and not self.settings.storage_port:
            candidates.append(int(previous))
        candidates.append(0)
        handler = _make_handler(self)
        last_error = None
        for port in candidates:
            try:
                server = _PartServer((self.settings.host, port), handler, bind_and_activate=False)
                server.receive_buffer = self.wan.receive_buffer
                try:
                    server.server_bind()
                    server.server_activate()
                except OSError:
                    server.server_close()
                    raise
                break
            except OSError as exc:
                last_error = exc
                if port == self.settings.storage_port:
                    raise
        else:  # pragma: no cover - port 0 always binds
            raise last_error
        self._server = server
        port = server.server_address[1]
        self.store.set_meta("storage_port", str(port))
        host = self.settings.host
        url_host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{url_host}:{port}"
        threading.Thread(target=server.serve_forever, name="air-emulator-storage", daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- multipart uploads -------------------------------------------------------
    def create_upload(self, key: str) -> str:
        upload_id = secrets.token_urlsafe(24)
        os.makedirs(os.path.join(self.parts_dir, upload_id))
        return upload_id

    def _signature(self, path: str, upload_id: str, part_number: int, date: str, expires: int) -> str:
        message = f"PUT\n{path}\n{upload_id}\n{part_number}\n{date}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def part_url(self, key: str, upload_id: str, part_number: int) -> str:
        path = f"/_s3/{self.settings.s3_bucket}/{key}"
        date = _amz_date(self.clock.now())
        expires = max(1, int(round(self.settings.url_ttl)))
        query = urllib.parse.urlencode(
            {
                "uploadId": upload_id,
                "partNumber": part_number,
                "X-Amz-Date": date,
                "X-Amz-Expires": expires,
                "X-Amz-Signature": self._signature(path, upload_id, part_number, date, expires),
            }
        )
        return f"{self.base_url}{urllib.parse.quote(path)}?{query}"

    def authorise_part(self, raw_path: str):
        """Check a part PUT's URL; return (upload doc, part number) or raise."""
        split = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(split.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        try:
            upload_id = query["uploadId"]
            part_number = int(query["partNumber"])
            date = query["X-Amz-Date"]
            expires = int(query["X-Amz-Expires"])
            signature = query["X-Amz-Signature"]
        except (KeyError, ValueError):
            raise StorageError("AccessDenied", "Query-string authentication requires the signature parameters.", 403)
        expected = self._signature(path, upload_id, part_number, date, expires)
        if not hmac.compare_digest(expected, signature):
            raise StorageError(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                403,
            )
        if self.clock.now() > _parse_amz_date(date) + expires:
            raise StorageError("AccessDenied", "Request has expired", 403)
        upload = self.store.get_upload(upload_id)
        if upload is None or f"/_s3/{self.settings.s3_bucket}/{upload['key']}" != path:
            raise StorageError("NoSuchUpload", "The specified upload does not exist.", 404)
        if not 1 <= part_number <= upload["parts_count"]:
            raise StorageError("InvalidArgument", "Part number must be within the upload plan.", 400)
        return upload, part_number

    def receive_part(self, upload: dict, part_number: int, rfile, length: int, on_block=None) -> str:
        """Stream ``length`` bytes to the part file; return the hex MD5.

        ``on_block(n)`` is told of each block read (the WAN model waits there).
        """
        directory = os.path.join(self.parts_dir, upload["upload_id"])
        final = os.path.join(directory, str(part_number))
        temp = os.path.join(directory, f".{part_number}.{threading.get_ident()}.tmp")
        md5 = hashlib.md5()
        buffer = bytearray(READ_BLOCK)
        view = memoryview(buffer)
        received = 0
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except FileNotFoundError:  # upload aborted meanwhile
            raise StorageError("NoSuchUpload", "The specified upload does not exist.", 404)
        try:
            while received < length:
                n = rfile.readinto(view[: min(READ_BLOCK, length - received)])
                if not n:
                    break
                md5.update(view[:n])
                os.write(fd, view[:n])
                received += n
                if on_block is not None:
                    on_block(n)
        finally:
            os.close(fd)
        if received != length:
            os.unlink(temp)
            raise ConnectionError(f"client sent {received} of {length} bytes")
        try:
            os.replace(temp, final)
        except FileNotFoundError:
            raise StorageError("NoSuchUpload", "The specified upload does not exist.", 404)
        etag = md5.hexdigest()
        with self.store.tx():
            if self.store.get_upload(upload["upload_id"]) is None:
                raise StorageError("NoSuchUpload", "The specified upload does not exist.", 404)
            self.store.put_part(upload["upload_id"], part_number, etag, length)
        return etag

    def complete(self, upload: dict, parts: list[dict]) -> None:
        stored = self.store.parts(upload["upload_id"])
        check_part_list(parts, stored, upload["parts_count"])
        source = os.path.join(self.parts_dir, upload["upload_id"])
        target = self._object_dir(upload["key"])
        shutil.rmtree(target, ignore_errors=True)
        os.rename(source, target)
        for name in os.listdir(target):  # stray temp files of abandoned PUTs
            if name.startswith("."):
                os.unlink(os.path.join(target, name))
        self.store.put_object(
            {
                "key": upload["key"],
                "parts": [str(n) for n in sorted(stored)],
                "size": sum(p["size"] for p in stored.values()),
                "created": self.clock.now(),
            }
        )

    def abort(self, upload: dict) -> None:
        shutil.rmtree(os.path.join(self.parts_dir, upload["upload_id"]), ignore_errors=True)

    # -- objects -----------------------------------------------------------------
    def _object_dir(self, key: str) -> str:
        return os.path.join(self.objects_dir, hashlib.sha256(key.encode()).hexdigest()[:32])

    def read_object(self, key: str):
        doc = self.store.get_object(key)
        if doc is None:
            raise StorageError("NoSuchKey", "The specified key does not exist.", 404)
        directory = self._object_dir(key)
        for name in doc["parts"]:
            with open(os.path.join(directory, name), "rb", buffering=0) as f:
                while True:
                    block = f.read(8 * READ_BLOCK)
                    if not block:
                        break
                    yield block

    def delete_object(self, key: str) -> None:
        shutil.rmtree(self._object_dir(key), ignore_errors=True)
        self.store.delete_object(key)

    def copy_object(self, source: str, target: str) -> None:
        doc = self.store.get_object(source)
        if doc is None:
            raise StorageError("NoSuchKey", "The specified key does not exist.", 404)
        src_dir, dst_dir = self._object_dir(source), self._object_dir(target)
        shutil.rmtree(dst_dir, ignore_errors=True)
        os.makedirs(dst_dir)
        for name in doc["parts"]:  # hard links: same bytes, independent lifetime
            os.link(os.path.join(src_dir, name), os.path.join(dst_dir, name))
        self.store.put_object(dict(doc, key=target, created=self.clock.now()))

    def state(self) -> dict:
        uploads = []
        for doc in self.store.all_uploads():
            parts = self.store.parts(doc["upload_id"])
            uploads.append(
                {
                    "upload_id": doc["upload_id"],
                    "key": doc["key"],
                    "image_id": doc["image_id"],
                    "parts_received": sorted(parts),
                    "bytes_received": sum(p["size"] for p in parts.values()),
                }
            )
        objects = [{"key": d["key"], "size": d["size"], "parts": len(d["parts"])} for d in self.store.all_objects()]
        return {"data_plane": self.kind, "endpoint": self.base_url, "uploads": uploads, "objects": objects}


class _PartServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    receive_buffer = None  # bytes; set by the WAN model (connections inherit it from the listening socket)

    def server_bind(self):
        if self.receive_buffer:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        super().server_bind()


def _make_handler(storage: LocalStorage):
    class PartHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AirEmulatorS3"

        def setup(self):
            super().setup()
            self.shaper = storage.wan.connection()  # one per connection, like a TCP flow

        def log_message(self, fmt, *args):  # quiet; URLs carry signatures
            log.debug("storage %s", fmt % args)

        def _reply(self, status: int, code: str | None = None, message: str = "", headers=()):
            body = _s3_error_xml(code, message) if code else b""
            self.shaper.latency()  # the answer's way back
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if body:
                self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _drain(self, length: int) -> None:
            remaining = length
            while remaining > 0:
                chunk = self.rfile.read(min(READ_BLOCK, remaining))
                if not chunk:
                    self.close_connection = True
                    return
                remaining -= len(chunk)
                self.shaper.received(len(chunk))

        def _not_allowed(self):
            self._drain(int(self.headers.get("Content-Length") or 0))
            self._reply(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")

        do_GET = do_POST = do_DELETE = do_HEAD = _not_allowed

        def parse_request(self):
            self.shaper.latency()  # the request's way to the storage (its first bytes have arrived)
            self.shaper.body_starts()
            return super().parse_request()

        def do_PUT(self):
            length_header = self.headers.get("Content-Length")
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked" or length_header is None:
                self.close_connection = True
                self._reply(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
                return
            try:
                length = int(length_header)
                if length < 0:
                    raise ValueError
            except ValueError:
                self.close_connection = True
                self._reply(400, "InvalidArgument", "Content-Length is not a valid number.")
                return
            try:
                upload, part_number = storage.authorise_part(self.path)
            except StorageError as exc:
                self._drain(length)
                self._reply(exc.status, exc.code, exc.message)
                return
            path = urllib.parse.urlsplit(self.path).path
            rule = storage.faults.match("PUT", path, part_number, storage=True)
            if rule is not None:
                if rule.action == "hold":
                    gate = storage.faults.arrive(rule)
                    if gate is not None:
                        try:
                            gate.wait(rule.hold_timeout)
                        finally:
                            storage.faults.leave(rule)
                if rule.delay:
                    time.sleep(rule.delay)
                if rule.action == "drop":
                    self._drain(length // 2)
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if rule.action == "status":
                    self._drain(length)
                    headers = [("Retry-After", _retry_after(rule.retry_after))] if rule.retry_after is not None else []
                    code = _FAULT_CODES.get(rule.status, "InjectedFault")
                    self._reply(rule.status, code, rule.detail or "Injected fault.", headers)
                    return
                if rule.action == "expire_url":
                    self._drain(length)
                    self._reply(403, "AccessDenied", "Request has expired")
                    return
            try:
                etag = storage.receive_part(upload, part_number, self.rfile, length, on_block=self.shaper.received)
            except ConnectionError:
                self.close_connection = True
                return
            except StorageError as exc:
                self._reply(exc.status, exc.code, exc.message)
                return
            if rule is not None and rule.action == "omit_etag":
                self._reply(200)
            else:
                self._reply(200, headers=[("ETag", f'"{etag}"')])

    return PartHandler


_FAULT_CODES = {403: "AccessDenied", 429: "SlowDown", 500: "InternalError", 502: "BadGateway",
                503: "ServiceUnavailable", 504: "GatewayTimeout"}


def _retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class S3Storage:
    """Real multipart uploads on an S3 endpoint, presigned with boto3."""

    kind = "s3"

    def __init__(self, settings, store, clock, faults) -> None:
        import boto3
        from botocore.config import Config

        self.settings = settings
        self.store = store
        self.clock = clock
        self.faults = faults
        self.bucket = settings.s3_bucket
        self.base_url = settings.s3_endpoint
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            region_name=settings.s3_region,
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def start(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception:
            self.client.create_bucket(Bucket=self.bucket)

    def stop(self) -> None:
        pass

    def _call(self, fn, **kwargs):
        from botocore.exceptions import ClientError

        try:
            return fn(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            raise StorageError(error.get("Code", "S3Error"), error.get("Message", str(exc)), status) from None

    def create_upload(self, key: str) -> str:
        return self._call(self.client.create_multipart_upload, Bucket=self.bucket, Key=key)["UploadId"]

    def part_url(self, key: str, upload_id: str, part_number: int) -> str:
        return self.client.generate_presigned_url(
            "upload_part",
            Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": part_number},
            ExpiresIn=max(1, int(round(self.settings.url_ttl))),
        )

    def _stored_parts(self, upload: dict) -> dict:
        listing = self._call(
            self.client.list_parts, Bucket=self.bucket, Key=upload["key"], UploadId=upload["upload_id"]
        )
        return {p["PartNumber"]: {"etag": p["ETag"], "size": p["Size"]} for p in listing.get("Parts", [])}

    def complete(self, upload: dict, parts: list[dict]) -> None:
        check_part_list(parts, self._stored_parts(upload), upload["parts_count"])
        self._call(
            self.client.complete_multipart_upload,
            Bucket=self.bucket,
            Key=upload["key"],
            UploadId=upload["upload_id"],
            MultipartUpload={"Parts": [{"PartNumber": p["part_number"], "ETag": f'"{normalise_etag(p["etag"])}"'}
                                       for p in parts]},
        )

    def abort(self, upload: dict) -> None:
        self._call(self.client.abort_multipart_upload, Bucket=self.bucket, Key=upload["key"],
                   UploadId=upload["upload_id"])

    def read_object(self, key: str):
        body = self._call(self.client.get_object, Bucket=self.bucket, Key=key)["Body"]
        yield from body.iter_chunks(8 * READ_BLOCK)

    def delete_object(self, key: str) -> None:
        self._call(self.client.delete_object, Bucket=self.bucket, Key=key)

    def copy_object(self, source: str, target: str) -> None:
        self._call(self.client.copy_object, Bucket=self.bucket, Key=target,
                   CopySource={"Bucket": self.bucket, "Key": source})

    def state(self) -> dict:
        uploads = []
        listing = self._call(self.client.list_multipart_uploads, Bucket=self.bucket)
        for item in listing.get("Uploads", []):
            upload = {"key": item["Key"], "upload_id": item["UploadId"]}
            parts = self._stored_parts(upload)
            doc = self.store.get_upload(item["UploadId"]) or {}
            uploads.append(dict(upload, image_id=doc.get("image_id"), parts_received=sorted(parts),
                                bytes_received=sum(p["size"] for p in parts.values())))
        objects = [
            {"key": o["Key"], "size": o["Size"]}
            for o in self._call(self.client.list_objects_v2, Bucket=self.bucket).get("Contents", [])
        ]
        return {"data_plane": self.kind, "endpoint": self.base_url, "uploads": uploads, "objects": objects}


def make_storage(settings, store, clock, faults):
    cls = S3Storage if settings.s3_endpoint else LocalStorage
    return cls(settings, store, clock, faults)
