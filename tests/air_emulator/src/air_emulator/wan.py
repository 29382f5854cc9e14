"""A WAN model for the local data plane: per-connection and link rates, and latency.

Real uploads go to S3 over a WAN, where one connection rarely fills the link
(TCP windows, per-connection limits) and every request pays a round trip, so
parallel parts are what make an upload fast. Loopback shows none of that; with
``--storage-connection-rate``, ``--storage-link-rate`` and ``--storage-latency``
the data plane behaves like such a link.

Shaping is a token bucket per connection plus one shared by every connection
(the link). The receiving loop asks both for each block it has read (1 MiB at
most) and sleeps the time the buckets say; TCP flow control then slows the
sender to that rate. That is one lock and at most one sleep per block, so the
model costs no CPU in proportion to the bytes beyond the read itself.

The buckets are reservation-based (like Go's ``rate.Limiter.ReserveN``): a
caller takes its tokens at once, the balance may go negative, and the caller
sleeps until the balance it owes is refilled. Concurrent callers therefore
queue in the order they asked, with no polling. The published Python token
bucket packages either answer yes/no (the caller would have to poll) or keep
one record per token (one per byte here), hence these few lines.
"""

from __future__ import annotations

import dataclasses
import threading
import time

MB = 1_000_000  # rates are in MB/s = 10^6 bytes per second, like every rate the project reports
# Tokens a bucket may bank: one read block. That absorbs a sleep that overran (a
# busy machine wakes threads late) without letting a transfer run ahead of its
# rate for more than one block. A connection's bucket is emptied when a request
# body starts, so the time it waited before (latency, idle keep-alive) buys
# nothing; the link's may bank one block while the whole link is idle.
BURST_BYTES = 1024 * 1024
MIN_RECEIVE_BUFFER = 256 * 1024


class TokenBucket:
    """``rate`` tokens (bytes) per second, at most ``burst`` banked; thread-safe.

    Each caller waits for its own bytes and for every byte reserved before it.
    """

    def __init__(self, rate: float, burst: float = BURST_BYTES, clock=time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = 0.0  # start empty: a transfer's time is size / rate, not less
        self._stamp = clock()
        self._lock = threading.Lock()

    def empty(self) -> None:
        """Forget the banked tokens (a new transfer starts at the rate, not with a burst)."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)  # a debt still owed stays owed

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self, count: int) -> float:
        """Take ``count`` tokens now; return the seconds to wait before using them (0 if they were banked)."""
        with self._lock:
            self._refill()
            self._tokens -= count
            return -self._tokens / self.rate if self._tokens < 0 else 0.0


@dataclasses.dataclass(frozen=True)
class WanModel:
    """Settings: rates in MB/s (None = unlimited), latency in milliseconds (one way)."""

    connection_rate: float | None = None
    link_rate: float | None = None
    latency_ms: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.connection_rate or self.link_rate or self.latency_ms)

    def describe(self) -> dict:
        return {"connection_rate_mb_per_s": self.connection_rate, "link_rate_mb_per_s": self.link_rate,
                "latency_ms": self.latency_ms}


class Wan:
    """The shared part of the model (the link); ``connection()`` gives each connection its own shaper."""

    def __init__(self, model: WanModel, sleep=time.sleep) -> None:
        self.model = model
        self._sleep = sleep
        self._link = TokenBucket(model.link_rate * MB) if model.link_rate else None

    @property
    def receive_buffer(self) -> int | None:
        """The storage's socket receive buffer: about what a WAN path holds in flight.

        On loopback Linux grows a receive buffer to megabytes, so a new
        connection would swallow several seconds' worth of a slow modelled
        link at once; over a WAN the receiver's window is about the path's
        bandwidth-delay product. So: the rate times the round trip, at least
        256 KiB (None without a rate: loopback as it is).
        """
        rates = [r for r in (self.model.connection_rate, self.model.link_rate) if r]
        if not rates:
            return None
        round_trip = max(2 * self.model.latency_ms / 1000.0, 0.01)
        return max(MIN_RECEIVE_BUFFER, int(min(rates) * MB * round_trip))

    def connection(self) -> "ConnectionShaper":
        return ConnectionShaper(self)


class ConnectionShaper:
    """What one data-plane connection waits for: its bytes and its round trips."""

    def __init__(self, wan: Wan) -> None:
        self._wan = wan
        rate = wan.model.connection_rate
        self._own = TokenBucket(rate * MB) if rate else None

    def body_starts(self) -> None:
        if self._own is not None:
            self._own.empty()

    def received(self, count: int) -> None:
        """``count`` body bytes were read: wait until both the connection and the link could carry them."""
        waits = [bucket.reserve(count) for bucket in (self._own, self._wan._link) if bucket is not None]
        delay = max(waits, default=0.0)
        if delay > 0:
            self._wan._sleep(delay)

    def latency(self) -> None:
        """One way across the link (a request reaching the storage, or its answer reaching the client)."""
        if self._wan.model.latency_ms:
            self._wan._sleep(self._wan.model.latency_ms / 1000.0)
