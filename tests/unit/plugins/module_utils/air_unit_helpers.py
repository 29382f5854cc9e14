# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers shared by the module_utils unit tests (imported by conftest and tests).

Everything here talks to the real emulator over HTTP or to real files; nothing
replaces code of the collection.
"""

from __future__ import annotations

import contextlib
import glob
import http.server
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

MIB = 1024 * 1024
CHUNK = 5 * MIB  # the shared emulator's --chunk-size (S3's minimum part size)
EMULATOR_ARGS = ("--chunk-size", str(CHUNK), "--validation-delay", "0.2", "--transition-delay", "0.2")
BIG_SIZE = 23 * MIB + 4321  # ceil(size / 5 MiB) == 5 parts, the last one short
MEDIUM_SIZE = 11 * MIB + 7  # 3 parts

DEMO_TOKEN = "nvapi-demo-token"
PARTNER_TOKEN = "nvapi-partner-token"
READONLY_TOKEN = "nvapi-readonly-token"
PASSWORD = "Sup3r-Secret-Passw0rd"  # default_password of every image the tests create

# Never allowed in any error text, warning or failure dict.
FORBIDDEN = (DEMO_TOKEN, PARTNER_TOKEN, READONLY_TOKEN, PASSWORD, "X-Amz-Signature", "uploadId=")

# tests/unit/plugins/module_utils/ -> the repository root
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4))


# ------------------------------------------------------------------ files
def journal_files(cache_dir):
    """The upload plans on disk (each ``<key>.json`` has a ``<key>.parts`` log beside it)."""
    return sorted(glob.glob(os.path.join(str(cache_dir), "uploads", "*.json")))


def read_journal(path):
    """A journal as the uploader sees it: the plan plus ``done`` ({part: etag}) from the parts log."""
    with open(path) as handle:
        journal = json.load(handle)
    done = {}
    parts_log = path[:-len(".json")] + ".parts"
    if os.path.exists(parts_log):
        with open(parts_log) as handle:
            for line in handle:
                if line.endswith("\n"):
                    number, etag = line.split()
                    done[int(number)] = etag
    journal["done"] = done
    return journal


def mode_of(path):
    return os.stat(path).st_mode & 0o777


# --------------------------------------------------------------- redaction
def _texts(exc, seen=None):
    """Every text an AirError (and what caused it) can show a user."""
    seen = seen if seen is not None else set()
    if exc is None or id(exc) in seen:
        return []
    seen.add(id(exc))
    texts = [str(exc), repr(exc)]
    for name in ("message", "detail", "hint"):
        value = getattr(exc, name, None)
        if value:
            texts.append(str(value))
    if hasattr(exc, "to_failure"):
        failure = exc.to_failure()
        texts.append(json.dumps(failure, default=str))
        texts.extend(str(value) for value in failure.values())
    chained = [getattr(exc, "cause", None), exc.__cause__]
    if not exc.__suppress_context__:  # what a traceback would show
        chained.append(exc.__context__)
    for other in chained:
        texts.extend(_texts(other, seen))
    return texts


def assert_redacted(exc_or_text, extra=()):
    """No token, password or presigned query string anywhere in the error."""
    texts = [exc_or_text] if isinstance(exc_or_text, str) else _texts(exc_or_text)
    for text in texts:
        for secret in tuple(FORBIDDEN) + tuple(extra):
            assert secret not in text, "%r leaks into %r" % (secret, text)


@contextlib.contextmanager
def air_raises(cls, match=None, extra_secrets=()):
    """``pytest.raises`` that also checks the error is redacted."""
    with pytest.raises(cls, match=match) as info:
        yield info
    assert_redacted(info.value, extra_secrets)


# ------------------------------------------------------------- emulator
def image_fields(name, version="1.0", **extra):
    fields = {"name": name, "version": version, "default_username": "cumulus", "default_password": PASSWORD}
    fields.update(extra)
    return fields


def api_image(emulator, image_id):
    response = emulator.api("GET", "images/%s" % image_id)
    assert response.status_code == 200, response.text
    return response.json()


def assert_nothing_started(emulator, image_id, cache_dir=None, status="READY"):
    """The image is untouched and no multipart upload is open."""
    state = emulator.state()
    assert state["uploads"] == []
    assert api_image(emulator, image_id)["upload_status"] == status
    if cache_dir is not None:
        assert journal_files(cache_dir) == []


def wait_until(predicate, timeout=20.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(interval)


# ------------------------------------------------- an upload killed mid-way
UPLOAD_SCRIPT = textwrap.dedent("""\
    import sys
    collections, api_url, token, image_id, path, cache_dir, workers = sys.argv[1:8]
    sys.path.insert(0, collections)
    from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
    from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy
    from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader

    client = AirClient(api_url=api_url, api_token=token, retry=RetryPolicy(base=0.02))
    uploader = ImageUploader(client, workers=int(workers), cache_dir=cache_dir, retry=RetryPolicy(base=0.02))
    image = client.images.get(image_id)
    print("uploading", flush=True)
    uploader.upload(image, path, poll_interval=0.05)
    print("finished", flush=True)
""")


def kill_upload_midway(emulator, collections, image_id, path, cache_dir, tmp_dir, min_done=2, workers=2,
                       held_parts=(3, 4, 5)):
    """Run an upload in a child process and SIGKILL it once ``min_done`` parts are journaled.

    Parts ``held_parts`` wait at the emulator's gate until the child is
    killed, so it is surely still busy then. Returns the journal as it was at the kill.
    """
    emulator.hold(method="PUT", path="/_s3/", part_numbers=list(held_parts), count=0)
    script = os.path.join(str(tmp_dir), "interrupted_upload.py")
    with open(script, "w") as handle:
        handle.write(UPLOAD_SCRIPT)
    child = subprocess.Popen(
        [sys.executable, script, collections, emulator.url, DEMO_TOKEN, image_id, str(path), str(cache_dir),
         str(workers)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    journal = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            for name in journal_files(cache_dir):
                try:
                    data = read_journal(name)
                except (OSError, ValueError):
                    continue
                if len(data["done"]) >= min_done:
                    journal = data
                    break
            if journal is not None:
                break
            time.sleep(0.01)
        assert child.poll() is None, "the upload child ended early:\n%s" % child.stdout.read()
        assert journal is not None, "the child journaled fewer than %d parts in time" % min_done
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        emulator.clear_faults()
    assert child.returncode == -signal.SIGKILL
    return journal


# ------------------------------------------------- a server that records what it got
class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with an empty list page and appends ``record()`` of the request to ``server.seen``."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        return {"path": self.path, "headers": dict(self.headers)}

    def do_GET(self):
        self.server.seen.append(self.record())
        body = json.dumps({"count": 0, "next": None, "previous": None, "results": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
