"""Credential fingerprints: how the tool knows which credentials it applied last.

Codat never returns authorization values, so to notice a rotated secret the tool
records, on each company, a fingerprint per connection of the values it sent
(tag `codat-reconciler-auth`, e.g. `dfxm:Q2hhbmdlTWU`). A plain hash of a short
secret can be brute-forced offline by anyone who can read the Codat account, so
the fingerprint is an HMAC-SHA256 keyed with a secret that never goes to Codat
(`CODAT_RECONCILER_KEY`), over the merchant name, the platform key and the
values, truncated to 72 bits: enough to notice a change, useless to guess from.
Beside them the record keeps a short id of the key (`key_id`), so a plan can
tell "the credentials changed" from "the key changed".

This module is the imperative side of planning: it resolves secrets (reads the
variables and files the manifests name) and hands the pure planner ready-made
fingerprints. The key itself is given: the CLI reads it from CODAT_RECONCILER_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from reconciler.manifests.model import AuthValue, DesiredState, SecretUnavailable

KEY_ENV = "CODAT_RECONCILER_KEY"
# The embedded sandbox holds no real credentials, so a well-known key is
# harmless there and keeps the demo free of setup. Only there: a loopback URL
# may be a proxy in front of real Codat, where this key would make fingerprints
# anyone can recompute.
SANDBOX_KEY = b"codat-reconciler sandbox fingerprint key (not for real accounts)"


@dataclass(frozen=True, slots=True)
class Fingerprint:
    value: str
    # Which key made it (see `key_id`); empty when unknown.
    key_id: str = ""


@dataclass(frozen=True, slots=True)
class Unverifiable:
    """Why a fingerprint could not be computed (names a variable or file, never a value)."""

    reason: str
    # The declared secret itself cannot be read (not only the key is missing): such
    # an authorization cannot be sent either.
    secret_missing: bool = False


Credential = Fingerprint | Unverifiable
Credentials = Mapping[tuple[str, str], Credential]


def fingerprint_key(given: bytes | None, *, embedded_sandbox: bool) -> bytes | None:
    """The key fingerprints are made with: the one `given` (CODAT_RECONCILER_KEY's value),
    else the well-known key for the embedded sandbox (a client's or Target's
    `embedded_sandbox`/`sandbox`), else none."""
    if given:
        return given
    return SANDBOX_KEY if embedded_sandbox else None


def key_id(key: bytes) -> str:
    """Four characters (24 bits) naming the key without revealing it.

    They let anyone holding a candidate key check it offline, so the key must be
    random (`openssl rand -hex 32`): against 256 random bits, 24 say nothing.
    """
    digest = hmac.new(key, b"codat-reconciler key id", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:3]).decode("ascii")


# Made once: json.dumps with non-default separators builds an encoder per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def fingerprint(key: bytes, merchant: str, platform_key: str, values: Mapping[str, str]) -> str:
    # Merchant and platform key are mixed in so equal credentials on two
    # merchants do not show as equal fingerprints.
    message = _COMPACT.encode([merchant, platform_key, sorted(values.items())])
    digest = hmac.digest(key, message.encode("utf-8"), "sha256")
    return base64.urlsafe_b64encode(digest[:9]).decode("ascii")


def collect(
    desired: DesiredState, key: bytes | None, merchants: Collection[str] | None = None
) -> dict[tuple[str, str], Credential]:
    """A fingerprint, or the reason there is none, for every declared authorization
    (of `merchants` only, when given: `watch` reconciling one merchant of thousands
    reads only that merchant's secrets)."""
    out: dict[tuple[str, str], Credential] = {}
    kid = key_id(key) if key is not None else ""
    # Thousands of merchants often name one variable or key file: each is read once.
    read: dict[AuthValue, str | SecretUnavailable] = {}
    for merchant in desired.merchants:
        if merchants is not None and merchant.name not in merchants:
            continue
        for conn in merchant.connections:
            if conn.authorization is None:
                continue
            where = (merchant.name, conn.platform_key)
            try:
                values = {name: _resolve(v, read) for name, v in sorted(conn.authorization.items())}
            except SecretUnavailable as exc:
                out[where] = Unverifiable(str(exc), secret_missing=True)
                continue
            if key is None:
                out[where] = Unverifiable(f"{KEY_ENV} is not set")
                continue
            value = fingerprint(key, merchant.name, conn.platform_key, values)
            out[where] = Fingerprint(value, kid)
    return out


def _resolve(value: AuthValue, read: dict[AuthValue, str | SecretUnavailable]) -> str:
    found = read.get(value)
    if found is None:
        try:
            found = value.resolve()
        except SecretUnavailable as exc:
            found = exc
        read[value] = found
    if isinstance(found, SecretUnavailable):
        raise found
    return found
