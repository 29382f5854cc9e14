"""Request-body validation with Django REST framework style messages."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

HASH_RE = re.compile(r"^[a-fA-F0-9]{64}$")


class ApiError(Exception):
    """An HTTP error with an Air/DRF style JSON body."""

    def __init__(self, status: int, detail: str, *, type: str | None = None, fields: dict | None = None,
                 headers: dict | None = None, **extra) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra


def invalid(fields: dict | None = None, detail: str | None = None) -> ApiError:
    """A 400 VALIDATION error; ``detail`` defaults to the first field message."""
    fields = fields or {}
    if detail is None:
        name, messages = next(iter(fields.items()))
        detail = messages[0] if name == "non_field_errors" else f"{name}: {messages[0]}"
    return ApiError(400, detail, type="VALIDATION", fields=fields)


def not_found(what: str = "Not found.") -> ApiError:
    return ApiError(404, what)


def forbidden(detail: str = "You do not have permission to perform this action.") -> ApiError:
    return ApiError(403, detail)


class FieldError(ValueError):
    pass


def string(minimum: int, maximum: int, nullable: bool = False):
    def check(value):
        if value is None:
            if nullable:
                return None
            raise FieldError("This field may not be null.")
        if not isinstance(value, str):
            raise FieldError("Not a valid string.")
        if minimum and not value.strip():
            raise FieldError("This field may not be blank.")
        if len(value) > maximum:
            raise FieldError(f"Ensure this field has no more than {maximum} characters.")
        return value

    return check


def boolean(value):
    if not isinstance(value, bool):
        raise FieldError("Must be a valid boolean.")
    return value


def choice(*options):
    def check(value):
        if value not in options:
            raise FieldError(f'"{value}" is not a valid choice.')
        return value

    return check


def string_list(value):
    if not isinstance(value, list):
        raise FieldError(f'Expected a list of items but got type "{type(value).__name__}".')
    cleaned = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise FieldError("Each item must be a non-blank string.")
        if len(item) > 64:
            raise FieldError("Ensure each item has no more than 64 characters.")
        cleaned.append(item)
    return cleaned


def integer(minimum: int | None = None, maximum: int | None = None):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("A valid integer is required.")
        if minimum is not None and value < minimum:
            raise FieldError(f"Ensure this value is greater than or equal to {minimum}.")
        if maximum is not None and value > maximum:
            raise FieldError(f"Ensure this value is less than or equal to {maximum}.")
        return value

    return check


RESOURCE_DEFAULTS = {"cpu": 1, "memory": 1024, "storage": 10}


def resources(value):
    if not isinstance(value, dict):
        raise FieldError("Expected a dictionary of items with the keys cpu, memory and storage.")
    unknown = sorted(set(value) - set(RESOURCE_DEFAULTS))
    if unknown:
        raise FieldError(f"Unknown key(s): {', '.join(unknown)}; allowed keys are cpu, memory, storage.")
    cleaned = dict(RESOURCE_DEFAULTS)
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise FieldError(f"{key} must be an integer greater than or equal to 1.")
        cleaned[key] = number
    return cleaned


def uuid_string(value):
    if not isinstance(value, str):
        raise FieldError("Must be a valid UUID.")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise FieldError("Must be a valid UUID.") from None


def timestamp(value) -> float:
    """An ISO-8601 datetime; naive values are taken as UTC."""
    if not isinstance(value, str):
        raise FieldError("Datetime has wrong format. Use ISO 8601 (YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]).")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise FieldError(
            "Datetime has wrong format. Use ISO 8601 (YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z])."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def clean(body, schema: dict, *, required: tuple = (), read_only: frozenset = frozenset()) -> dict:
    """Validate a JSON body against ``schema``; raise one 400 naming every bad field."""
    if not isinstance(body, dict):
        raise invalid({"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(body).__name__}."]})
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name in required:
        if name not in body:
            errors[name] = ["This field is required."]
    for name, value in body.items():
        if name in read_only:
            errors[name] = ["This field is read-only."]
        elif name not in schema:
            errors[name] = ["Unknown field."]
        elif name not in errors:
            try:
                cleaned[name] = schema[name](value)
            except FieldError as exc:
                errors[name] = [str(exc)]
    if errors:
        raise invalid(errors)
    return cleaned


def parse_bool(name: str, text: str) -> bool:
    if text in ("true", "True", "1"):
        return True
    if text in ("false", "False", "0"):
        return False
    raise invalid({name: ["Must be a valid boolean."]})


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
