"""Codat's request rules, applied before anything is stored.

Where Codat silently strips characters it does not allow from a company name,
the sandbox refuses the request with 400 naming the field: a test should learn
that its input would not survive the trip, not discover it later.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.sandbox.messages import ApiError
from reconciler.sandbox.resources import STATUSES, Integration, IntegrationCatalogue

NAME_PATTERN = re.compile(r"[A-Za-z0-9\s\-',&@.,?!\s]+")
PLATFORM_KEY = re.compile(r"[a-z]{4}")
MAX_TAGS = 10
MAX_TAG_KEY = 27
MAX_TAG_VALUE = 100


def _invalid(errors: list[tuple[str, str]]) -> ApiError:
    return ApiError(400, "Error processing request - not valid.", errors=errors)


def company_fields(body: dict[str, Any], *, require_name: bool) -> dict[str, Any]:
    """The company fields present in `body`, checked; unknown fields are ignored, as Codat does."""
    errors: list[tuple[str, str]] = []
    fields: dict[str, Any] = {}
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            errors.append(("name", "name must be 1 or more of A-Z a-z 0-9 space - ' , & @ . ? !"))
        else:
            fields["name"] = name
    elif require_name:
        errors.append(("name", "name is required"))
    if "description" in body:
        description = body["description"]
        if description is not None and not isinstance(description, str):
            errors.append(("description", "description must be a string"))
        else:
            fields["description"] = description
    if "tags" in body:
        tags = body["tags"]
        tag_errors = _tag_errors(tags)
        errors.extend(tag_errors)
        if not tag_errors:
            fields["tags"] = dict(tags)
    if errors:
        raise _invalid(errors)
    return fields


def _tag_errors(tags: Any) -> list[tuple[str, str]]:
    if not isinstance(tags, dict):
        return [("tags", "tags must be an object of strings")]
    errors: list[tuple[str, str]] = []
    if len(tags) > MAX_TAGS:
        errors.append(("tags", f"at most {MAX_TAGS} tags are allowed, got {len(tags)}"))
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_TAG_KEY:
            errors.append((f"tags.{key}", f"a tag key must be 1 to {MAX_TAG_KEY} characters"))
        if not isinstance(value, str):
            errors.append((f"tags.{key}", "a tag value must be a string"))
        elif len(value) > MAX_TAG_VALUE:
            message = f"a tag value must be at most {MAX_TAG_VALUE} characters"
            errors.append((f"tags.{key}", message))
    return errors


def platform_key(body: dict[str, Any], catalogue: IntegrationCatalogue) -> Integration:
    key = body.get("platformKey")
    if not isinstance(key, str) or not PLATFORM_KEY.fullmatch(key):
        raise _invalid([("platformKey", "platformKey must be four lowercase letters")])
    integration = catalogue.get(key)
    if integration is None:
        known = ", ".join(catalogue.keys())
        raise _invalid([("platformKey", f"unknown integration {key!r}; known: {known}")])
    return integration


def authorization(body: dict[str, Any]) -> None:
    if not body:
        raise _invalid([("authorization", "the authorization body must not be empty")])
    wrong = sorted(key for key, value in body.items() if not isinstance(value, str))
    if wrong:
        raise _invalid([(key, "authorization values must be strings") for key in wrong])


def connection_status(body: dict[str, Any]) -> str | None:
    """The status a PATCH asks for (None: leave as is); only Unlinked or Deauthorized."""
    unknown = sorted(set(body) - {"status"})
    if unknown:
        raise _invalid([(key, "unknown property") for key in unknown])
    status = body.get("status")
    if status is None:
        return None
    canonical = None
    if isinstance(status, str):
        canonical = {s.lower(): s for s in STATUSES}.get(status.lower())
    if canonical not in ("Unlinked", "Deauthorized"):
        raise _invalid([("status", "status can be set to Unlinked or Deauthorized only")])
    return canonical
