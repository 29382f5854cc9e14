"""SQLite persistence: every API request runs in one transaction.

Documents are stored as JSON next to the few columns queries need. One
connection is shared by all threads and serialised by a lock: the emulator
handles a handful of requests at a time and SQLite is fastest that way.

Image lists and the name checks run in SQL on the JSON documents
(``json_extract``, with expression indexes), so a request reads only the
images it returns: with thousands of images stored, creating one or listing a
page must not parse every document (README, "Performance").
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, org TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shares (id TEXT PRIMARY KEY, org TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (upload_id TEXT PRIMARY KEY, image_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number));
CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (image_id TEXT PRIMARY KEY, action TEXT NOT NULL, due REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS manifests (id TEXT PRIMARY KEY, image_id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS publish_access_records (
    id TEXT PRIMARY KEY, org TEXT NOT NULL, image_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS images_by_name ON images (
    json_extract(doc, '$.name'), json_extract(doc, '$.version'), org);
CREATE INDEX IF NOT EXISTS images_by_age ON images (json_extract(doc, '$.created'), id);
CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, image_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_by_image ON history (image_id, seq);
"""
_FIELD = re.compile(r"^[a-z_]+$")


def _field(name: str) -> str:
    """The SQL expression of a top-level field of an image document (names are code constants)."""
    if not _FIELD.match(name):
        raise ValueError(f"not a document field: {name!r}")
    return f"json_extract(doc, '$.{name}')"


def _contains_folded(value, text: str) -> bool:
    """Python's case-insensitive substring test (SQLite's lower() folds ASCII only)."""
    return text in str(value or "").lower()


class Clock:
    """Wall clock with an offset tests can advance (``POST /_emulator/clock``).

    The offset is stored, so emulated time does not jump back on a restart.
    """

    def __init__(self, store: "Store") -> None:
        self._store = store
        self.offset = float(store.meta("clock_offset", "0"))

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self._store.set_meta("clock_offset", repr(self.offset))


class Store:
    def __init__(self, data_dir: str) -> None:
        os.makedirs(data_dir, exist_ok=True)
        self.path = os.path.join(data_dir, "emulator.sqlite3")
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.create_function("contains_folded", 2, _contains_folded, deterministic=True)
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def tx(self):
        """A transaction; nested calls join the outer one. Any exception rolls back."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    # -- generic document helpers ------------------------------------------------
    def _get(self, table: str, key_col: str, key: str):
        with self._lock:
            row = self._db.execute(f"SELECT doc FROM {table} WHERE {key_col} = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def _all(self, table: str, where: str = "", args: tuple = ()):
        with self._lock:
            rows = self._db.execute(f"SELECT doc FROM {table} {where}", args).fetchall()
        return [json.loads(r[0]) for r in rows]

    # -- images ------------------------------------------------------------------
    def get_image(self, image_id: str):
        return self._get("images", "id", image_id)

    def all_images(self):
        return self._all("images")

    def images_named(self, name: str, version: str, org: str | None = None) -> list[dict]:
        """Images called ``name`` ``version`` (of ``org``, else of every org); an index lookup."""
        where = f"WHERE {_field('name')} = ? AND {_field('version')} = ?"
        args: tuple = (name, version)
        if org is not None:
            where, args = where + " AND org = ?", args + (org,)
        return self._all("images", where, args)

    def image_page(self, visible_to: tuple[str, str], *, equals: dict | None = None, flags: dict | None = None,
                   search: tuple[str, tuple] | None = None, ordering: list | None = None, limit: int = 100,
                   offset: int = 0) -> tuple[int, list[dict]]:
        """``(count, images)``: one page of the images org ``visible_to = (name, id)`` can see.

        ``equals``: field -> text it must equal; ``flags``: field -> bool its truth
        must equal (``is_owned_by_client`` too); ``search``: (lower-case text,
        fields), any field containing it; ``ordering``: [(field, descending)],
        null values last (first when descending), ties by ``(created, id)``,
        like the API's Python lists.
        """
        org, org_id = visible_to
        clauses = [f"(org = ? OR (coalesce({_field('published')}, 0) AND (coalesce({_field('publicly_published')}, 0)"
                   " OR EXISTS (SELECT 1 FROM json_each(doc, '$._allowed_orgs') WHERE value = ?))))"]
        args: list = [org, org_id]
        for name, wanted in (equals or {}).items():
            clauses.append(f"{_field(name)} = ?")
            args.append(wanted)
        for name, wanted in (flags or {}).items():
            expression = "org = ?" if name == "is_owned_by_client" else f"coalesce({_field(name)}, 0) != 0"
            if name == "is_owned_by_client":
                args.append(org)
            clauses.append(f"({expression}) = ?")
            args.append(1 if wanted else 0)
        if search:
            text, fields = search
            clauses.append("(" + " OR ".join(f"contains_folded({_field(f)}, ?)" for f in fields) + ")")
            args.extend([text] * len(fields))
        order = []
        for name, descending in ordering or []:
            direction = " DESC" if descending else ""
            order += [f"({_field(name)} IS NULL){direction}", f"{_field(name)}{direction}"]
        order += [_field("created"), "id"]
        where = " AND ".join(clauses)
        with self._lock:
            count = self._db.execute(f"SELECT count(*) FROM images WHERE {where}", args).fetchone()[0]
            rows = self._db.execute(f"SELECT doc FROM images WHERE {where} ORDER BY {', '.join(order)} "
                                    "LIMIT ? OFFSET ?", args + [limit, offset]).fetchall()
        return count, [json.loads(r[0]) for r in rows]

    def put_image(self, doc: dict) -> None:
        with self.tx():
            self._db.execute(
                "INSERT OR REPLACE INTO images (id, org, doc) VALUES (?, ?, ?)",
                (doc["id"], doc["_org"], json.dumps(doc)),
            )

    def delete_image(self, image_id: str) -> None:
        with self.tx():
            self._db.execute("DELETE FROM images WHERE id = ?", (image_id,))
            self._db.execute("DELETE FROM jobs WHERE image_id = ?", (image_id,))
            self._db.execute("DELETE FROM manifests WHERE image_id = ?", (image_id,))  # its OS image manifest
            self._db.execute("DELETE FROM publish_access_records WHERE image_id = ?", (image_id,))
            self._db.execute("DELETE FROM history WHERE image_id = ?", (image_id,))  # history.py: goes with it

    # -- shares ------------------------------------------------------------------
    def get_share(self, share_id: str):
        return self._get("shares", "id", share_id)

    def all_shares(self, org: str | None = None):
        if org is None:
            return self._all("shares")
        return self._all("shares", "WHERE org = ?", (org,))

    def put_share(self, doc: dict) -> None:
        with self.tx():
            self._db.execute(
                "INSERT OR REPLACE INTO shares (id, org, doc) VALUES (?, ?, ?)",
                (doc["id"], doc["_org"], json.dumps(doc)),
            )

    def delete_share(self, share_id: str) -> None:
        with self.tx():
            self._db.execute("DELETE FROM shares WHERE id = ?", (share_id,))

    # -- uploads and their parts -------------------------------------------------
    def get_upload(self, upload_id: str):
        return self._get("uploads", "upload_id", upload_id)

    def all_uploads(self):
        return self._all("uploads")

    def put_upload(self, doc: dict) -> None:
        with self.tx():
            self._db.execute(
                "INSERT OR REPLACE INTO uploads (upload_id, image_id, doc) VALUES (?, ?, ?)",
                (doc["upload_id"], doc["image_id"], json.dumps(doc)),
            )

    def delete_upload(self, upload_id: str) -> None:
        with self.tx():
            self._db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
            self._db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))

    def put_part(self, upload_id: str, part_number: int, etag: str, size: int) -> None:
        with self.tx():
            self._db.execute(
                "INSERT OR REPLACE INTO parts (upload_id, part_number, etag, size) VALUES (?, ?, ?, ?)",
                (upload_id, part_number, etag, size),
            )

    def parts(self, upload_id: str) -> dict:
        with self._lock:
            rows = self._db.execute(
                "SELECT part_number, etag, size FROM parts WHERE upload_id = ? ORDER BY part_number", (upload_id,)
            ).fetchall()
        return {n: {"etag": e, "size": s} for n, e, s in rows}

    # -- stored objects (local data plane) ---------------------------------------
    def get_object(self, key: str):
        return self._get("objects", "key", key)

    def all_objects(self):
        return self._all("objects")

    def put_object(self, doc: dict) -> None:
        with self.tx():
            self._db.execute(
                "INSERT OR REPLACE INTO objects (key, doc) VALUES (?, ?)", (doc["key"], json.dumps(doc))
            )

    def delete_object(self, key: str) -> None:
        with self.tx():
            self._db.execute("DELETE FROM objects WHERE key = ?", (key,))

    # -- delayed state transitions -----------------------------------------------
    def schedule(self, image_id: str, action: str, due: float) -> None:
        with self.tx():
            self._db.execute(
                "INSERT OR REPLACE INTO jobs (image_id, action, due) VALUES (?, ?, ?)", (image_id, action, due)
            )

    def due_jobs(self, now: float):
        with self._lock:
            return self._db.execute(
                "SELECT image_id, action FROM jobs WHERE due <= ? ORDER BY due", (now,)
            ).fetchall()

    def finish_job(self, image_id: str, action: str) -> None:
        with self.tx():
            self._db.execute("DELETE FROM jobs WHERE image_id = ? AND action = ?", (image_id, action))

    # -- OS image manifests (manifests.py), one per image --------------------------
    def get_manifest(self, manifest_id: str):
        return self._get("manifests", "id", manifest_id)

    def manifest_for_image(self, image_id: str):
        return self._get("manifests", "image_id", image_id)

    def all_manifests(self):
        return self._all("manifests")

    def put_manifest(self, doc: dict) -> None:
        with self.tx():
            self._db.execute(
                "INSERT OR REPLACE INTO manifests (id, image_id, doc) VALUES (?, ?, ?)",
                (doc["id"], doc["image"], json.dumps(doc)),
            )

    def delete_manifest(self, manifest_id: str) -> None:
        with self.tx():
            self._db.execute("DELETE FROM manifests WHERE id = ?", (manifest_id,))

    # -- publish access records (publishing.py) -----------------------------------
    def get_par(self, record_id: str):
        return self._get("publish_access_records", "id", record_id)

    def all_pars(self, org: str | None = None):
        if org is None:
            return self._all("publish_access_records")
        return self._all("publish_access_records", "WHERE org = ?", (org,))

    def put_par(self, doc: dict) -> None:
        with self.tx():
            self._db.execute(
                "INSERT OR REPLACE INTO publish_access_records (id, org, image_id, doc) VALUES (?, ?, ?, ?)",
                (doc["id"], doc["_org"], doc["image"], json.dumps(doc)),
            )

    # -- image history (history.py), in the order it happened ---------------------
    def add_history(self, image_id: str, doc: dict) -> None:
        with self.tx():
            self._db.execute("INSERT INTO history (image_id, doc) VALUES (?, ?)", (image_id, json.dumps(doc)))

    def history_of(self, image_id: str) -> list[dict]:
        """An image's entries, oldest first, each with its insertion sequence as ``_seq``."""
        with self._lock:
            rows = self._db.execute("SELECT seq, doc FROM history WHERE image_id = ? ORDER BY seq",
                                    (image_id,)).fetchall()
        return [dict(json.loads(doc), _seq=seq) for seq, doc in rows]

    # -- settings that must survive a restart ------------------------------------
    def meta(self, key: str, default: str | None = None):
        with self._lock:
            row = self._db.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.tx():
            self._db.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", (key, value))

    def reset(self) -> None:
        with self.tx():
            for table in ("images", "shares", "uploads", "parts", "objects", "jobs", "publish_access_records",
                          "history"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.execute("DELETE FROM manifests")
