"""Emulator settings, organisations and API tokens."""

from __future__ import annotations

import dataclasses
import math
import uuid

from .wan import WanModel

# Scope names follow the Air reference pages (``air:image_read`` ...); the
# ``air:`` prefix is optional on the command line. ``all`` means every image
# scope; the reviewer scopes (publish access record approve/deny/set-visibility)
# must be named.
SCOPES = ("image_read", "image_write", "image_publish", "image_sharing", "image_claiming")
REVIEWER_SCOPES = ("admin", "sre")
SCOPE_ALIASES = {
    "read": "image_read",
    "write": "image_write",
    "publish": "image_publish",
    "share": "image_sharing",
    "sharing": "image_sharing",
    "claim": "image_claiming",
    "claiming": "image_claiming",
}

DEFAULT_CHUNK_SIZE = 100_000_000
MIN_CHUNK_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10_000
MAX_UPLOAD_SIZE = 120_000_000_000


class ConfigError(ValueError):
    """A command-line setting that cannot be used."""


@dataclasses.dataclass(frozen=True)
class Org:
    name: str  # the NGC org name, used as ``target_org`` in shares

    @property
    def id(self) -> str:
        # Stable across restarts so allow-lists stored in the database stay valid.
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.name}.orgs.air-emulator"))

    @property
    def display_name(self) -> str:
        return " ".join(word.capitalize() for word in self.name.replace("_", "-").split("-"))


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who a token belongs to and what it may do."""

    org: Org
    email: str
    scopes: frozenset

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def parse_scopes(text: str) -> frozenset:
    if not text or text == "all":
        return frozenset(SCOPES)
    scopes = set()
    for raw in text.split(","):
        name = raw.strip()
        if name.startswith("air:"):
            name = name[len("air:"):]
        name = SCOPE_ALIASES.get(name, name)
        if name == "all":
            scopes.update(SCOPES)
        elif name in SCOPES + REVIEWER_SCOPES:
            scopes.add(name)
        else:
            raise ConfigError(f"unknown scope {raw!r} (known: {', '.join(SCOPES + REVIEWER_SCOPES)}, all)")
    return frozenset(scopes)


def parse_org_specs(specs: list[str] | None) -> dict[str, Principal]:
    """Turn ``NAME=TOKEN[:SCOPES]`` options into a token table."""
    if not specs:
        demo, partner = Org("demo-org"), Org("partner-org")
        return {
            "nvapi-demo-token": Principal(demo, "demo@demo-org.example.com", frozenset(SCOPES)),
            "nvapi-partner-token": Principal(partner, "partner@partner-org.example.com", frozenset(SCOPES)),
            "nvapi-readonly-token": Principal(demo, "readonly@demo-org.example.com", frozenset({"image_read"})),
            # what a CI pipeline's air_image_uploader key holds: the gated publish flow only
            "nvapi-uploader-token": Principal(demo, "uploader@demo-org.example.com",
                                              frozenset({"image_read", "image_write"})),
            # the reviewer who approves and denies publish requests
            "nvapi-admin-token": Principal(Org("air-admin"), "admin@air-admin.example.com", frozenset({"admin"})),
        }
    tokens: dict[str, Principal] = {}
    per_org: dict[str, int] = {}
    for spec in specs:
        name, sep, rest = spec.partition("=")
        if not sep or not name or not rest:
            raise ConfigError(f"--org expects NAME=TOKEN[:SCOPES], got {spec!r}")
        token, _sep, scope_text = rest.partition(":")
        if not token:
            raise ConfigError(f"--org {name}: empty token")
        if token in tokens:
            raise ConfigError(f"--org {name}: token given twice")
        per_org[name] = per_org.get(name, 0) + 1
        email = f"user{per_org[name]}@{name}.example.com"
        tokens[token] = Principal(Org(name), email, parse_scopes(scope_text))
    return tokens


@dataclasses.dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: str = "./air-emulator-data"
    chunk_size: int = DEFAULT_CHUNK_SIZE
    validation_delay: float = 1.0
    transition_delay: float = 0.5
    url_ttl: float = 3600.0
    storage_port: int = 0
    s3_endpoint: str | None = None
    s3_bucket: str = "air-emulator"
    s3_region: str = "us-east-1"
    # The WAN model of the local data plane (wan.py): MB/s per connection and for the link, ms one way.
    storage_connection_rate: float | None = None
    storage_link_rate: float | None = None
    storage_latency: float = 0.0
    tokens: dict = dataclasses.field(default_factory=lambda: parse_org_specs(None))

    def validate(self) -> None:
        if self.chunk_size < MIN_CHUNK_SIZE:
            raise ConfigError(f"--chunk-size must be at least {MIN_CHUNK_SIZE} bytes (S3's minimum part size)")
        for name in ("validation_delay", "transition_delay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name.replace('_', '-')} must not be negative")
        if self.url_ttl <= 0:
            raise ConfigError("--url-ttl must be positive")
        for name in ("storage_connection_rate", "storage_link_rate"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise ConfigError(f"--{name.replace('_', '-')} must be a positive number of MB/s, got {value}")
        if not (self.storage_latency >= 0 and math.isfinite(self.storage_latency)):
            raise ConfigError(f"--storage-latency must be 0 or more milliseconds, got {self.storage_latency}")
        if self.s3_endpoint and self.wan.active:
            raise ConfigError("--storage-connection-rate, --storage-link-rate and --storage-latency shape the local "
                              "data plane; they cannot be used with --s3-endpoint")

    @property
    def wan(self) -> WanModel:
        return WanModel(self.storage_connection_rate, self.storage_link_rate, self.storage_latency)

    @property
    def orgs(self) -> dict[str, Org]:
        return {p.org.name: p.org for p in self.tokens.values()}
