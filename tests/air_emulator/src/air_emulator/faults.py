"""Fault injection rules (``/_emulator/faults``) and the gates of ``hold`` rules.

A rule matches requests by method, a regular expression searched in the URL
path and, for part uploads, the part number. Counting starts at the ``nth``
matching request and the rule fires ``count`` times (``0`` = forever).

A ``hold`` rule is a gate: the requests it fires on wait until a test opens it
(``release``), so a race is staged by the test instead of by the machine's speed.
``wait_held`` lets the test wait until a request has reached the gate.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import threading
import time

ACTIONS = ("status", "delay", "drop", "omit_etag", "expire_url", "hold")
STORAGE_ONLY_ACTIONS = ("omit_etag", "expire_url")


class FaultError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclasses.dataclass
class Rule:
    id: int
    action: str
    method: str = "*"
    path: str = ".*"
    part_numbers: list | None = None
    nth: int = 1
    count: int = 1
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    detail: str | None = None
    hold_timeout: float = 300.0
    seen: int = 0
    fired: int = 0
    held: int = 0
    waiting: int = 0
    released: bool = False

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def exhausted(self) -> bool:
        return bool(self.count) and self.fired >= self.count


def _number(body: dict, name: str, kind, minimum, default):
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise FaultError(name, f"{name} must be {'an integer' if kind is int else 'a number'}")
    if value < minimum:
        raise FaultError(name, f"{name} must be >= {minimum}")
    return kind(value)


class FaultRegistry:
    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._gates: dict[int, threading.Event] = {}

    def add(self, body: dict) -> Rule:
        if not isinstance(body, dict):
            raise FaultError("non_field_errors", "expected a JSON object")
        writable = {f.name for f in dataclasses.fields(Rule)} - {"id", "seen", "fired", "held", "waiting", "released"}
        unknown = sorted(set(body) - writable)
        if unknown:
            raise FaultError(unknown[0], f"unknown or read-only field {unknown[0]!r}")
        action = body.get("action")
        if action not in ACTIONS:
            raise FaultError("action", f"action must be one of {', '.join(ACTIONS)}")
        method = str(body.get("method") or "*").upper()
        path = body.get("path") or ".*"
        try:
            re.compile(path)
        except (re.error, TypeError) as exc:
            raise FaultError("path", f"path is not a valid regular expression: {exc}") from None
        parts = body.get("part_numbers")
        if parts is not None and (
            not isinstance(parts, list) or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 1 for p in parts)
        ):
            raise FaultError("part_numbers", "part_numbers must be a list of part numbers (integers >= 1)")
        status = _number(body, "status", int, 100, 503)
        if status > 599:
            raise FaultError("status", "status must be an HTTP status code")
        rule = Rule(
            id=next(self._ids),
            action=action,
            method=method,
            path=path,
            part_numbers=parts,
            nth=_number(body, "nth", int, 1, 1),
            count=_number(body, "count", int, 0, 1),
            status=status,
            retry_after=_number(body, "retry_after", float, 0, None),
            delay=_number(body, "delay", float, 0, 0.0),
            detail=body.get("detail"),
            hold_timeout=_number(body, "hold_timeout", float, 0, 300.0),
        )
        with self._lock:
            self._rules.append(rule)
            if rule.action == "hold":
                self._gates[rule.id] = threading.Event()
        return rule

    def rules(self) -> list[dict]:
        with self._lock:
            return [r.as_dict() for r in self._rules]

    def remove(self, rule_id: int) -> bool:
        """Delete a rule; requests held at its gate go on."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            self._open_gate(rule_id)
            return len(self._rules) != before

    def clear(self) -> None:
        """Delete every rule; requests held at their gates go on."""
        with self._lock:
            self._rules = []
            for rule_id in list(self._gates):
                self._open_gate(rule_id)

    # -- gates of hold rules -------------------------------------------------------
    def release(self, rule_id: int) -> dict | None:
        """Open a hold rule's gate: the requests waiting there go on, later ones pass. None if no such rule."""
        with self._lock:
            rule = self._find(rule_id)
            if rule is None:
                return None
            self._open_gate(rule_id)
            return rule.as_dict()

    def wait_held(self, rule_id: int, held: int, timeout: float) -> dict | None:
        """Wait until ``held`` requests have reached a rule's gate; the rule, or None if no such rule.

        Raises ``TimeoutError`` when fewer have arrived after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                rule = self._find(rule_id)
                if rule is None:
                    return None
                if rule.held >= held:
                    return rule.as_dict()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{rule.held} of {held} requests reached the gate of rule {rule_id} "
                                       f"in {timeout:g} s")
                self._changed.wait(remaining)

    def arrive(self, rule: Rule) -> threading.Event | None:
        """Count a request at ``rule``'s gate; the gate to wait on (None when it is open or gone).

        The caller waits (``gate.wait(rule.hold_timeout)``, or polling it in an event loop), then calls ``leave``.
        """
        with self._changed:
            gate = self._gates.get(rule.id)
            live = self._find(rule.id)
            if gate is None or live is None or gate.is_set():
                return None
            live.held += 1
            live.waiting += 1
            self._changed.notify_all()
            return gate

    def leave(self, rule: Rule) -> None:
        with self._changed:
            live = self._find(rule.id)
            if live is not None:
                live.waiting -= 1
            self._changed.notify_all()

    def _find(self, rule_id: int) -> Rule | None:
        return next((r for r in self._rules if r.id == rule_id), None)

    def _open_gate(self, rule_id: int) -> None:
        gate = self._gates.pop(rule_id, None)
        if gate is not None:
            gate.set()
        rule = self._find(rule_id)
        if rule is not None and rule.action == "hold":
            rule.released = True
        self._changed.notify_all()

    def match(self, method: str, path: str, part_number: int | None = None, storage: bool = False) -> Rule | None:
        """Count this request against every matching rule; return the first that fires."""
        fired = None
        with self._lock:
            for rule in self._rules:
                if rule.method not in ("*", method.upper()):
                    continue
                if not re.search(rule.path, path):
                    continue
                if rule.part_numbers is not None and part_number not in rule.part_numbers:
                    continue
                if rule.action in STORAGE_ONLY_ACTIONS and not storage:
                    continue
                rule.seen += 1
                if fired is None and rule.seen >= rule.nth and not rule.exhausted:
                    rule.fired += 1
                    fired = dataclasses.replace(rule)
        return fired
