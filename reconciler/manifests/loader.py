"""Manifest files -> `DesiredState`, or every problem of every file at once.

Files come from discovery (which PATHs name which files, read safely). Order
of work per file: size cap, bytes -> text, safe YAML fold (yamlnodes),
the JSON Schema (schema), then what a schema cannot say: defaults merged into
merchants, limits that only hold after merging, the boundary of secret references. Then
across files: merchant names and pinned company ids must be unique.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import yaml

from reconciler.gcpause import paused_collection
from reconciler.manifests import discovery, names, parallel, references
from reconciler.manifests.client import ClientSettings, read_client
from reconciler.manifests.discovery import Source
from reconciler.manifests.errors import ManifestError, ManifestErrors
from reconciler.manifests.model import (
    AuthValue,
    DesiredConnection,
    DesiredState,
    LiteralValue,
    Location,
    Merchant,
    SecretRef,
    SyncFlow,
)
from reconciler.manifests.references import EnvAllowlist
from reconciler.manifests.schema import problems
from reconciler.manifests.text import decode
from reconciler.manifests.yamlnodes import Document, Pos, descend, locate, parse

# Codat allows 10 tags per company; the tool keeps two for itself
# (ownership and credential fingerprints).
MAX_USER_TAGS = 8
# Credential fingerprints of all authorized connections share one tag value of
# at most 100 characters.
MAX_AUTHORIZED_CONNECTIONS = 5

Path_ = tuple[str | int, ...]
# Most merchants declare no sync flow keys: one shared (immutable) value stands for them.
_NO_SYNC_FLOW = SyncFlow()


@dataclass(slots=True)
class _Found:
    """What one file contributed: merchants plus where their unique fields are written.

    A merchant with schema errors has no Merchant but still takes part in the
    uniqueness checks, so one run reports those too.
    """

    merchants: list[_Entry] = field(default_factory=list)
    client: ClientSettings | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    merchant: Merchant | None
    name: str
    name_at: Location
    company_id: str | None = None
    pinned_at: Location | None = None


def load(
    paths: Sequence[str | Path],
    *,
    check_secrets: bool = False,
    secret_env: EnvAllowlist | None = None,
) -> DesiredState:
    """Load manifests from files and directories. Raises ManifestErrors listing every problem.

    `secret_env`: the only environment variables `{env: NAME}` may name (the tool's
    own and CI credentials are refused whatever it says)."""
    return begin(paths, check_secrets=check_secrets, secret_env=secret_env).result()


# This process's share of the files against a reading child's, when it has nothing else
# to do meanwhile. A child encodes what it read before sending it, and what it sends is
# decoded here only once it has all arrived: so this process reads more when whole
# merchants travel, as much when only names and positions do (`check`). Measured on
# 100,000 merchants in 1,000 files against 0.85: build 2.3 s instead of 2.6 s, check 1.7 s
# instead of 1.85 s.
_OWN_WEIGHT = {True: 1.15, False: 1.0}


@dataclass(frozen=True, slots=True)
class Checked:
    """Valid manifests, as `validate` reports them: the files read (with their sha256)
    and how many merchants they declare."""

    files: tuple[tuple[str, str], ...]
    merchants: int


def check(
    paths: Sequence[str | Path],
    *,
    check_secrets: bool = False,
    secret_env: EnvAllowlist | None = None,
) -> Checked:
    """Check manifests as `load` does, every check included, without building the
    merchants (nothing reads them). Raises ManifestErrors listing every problem."""
    loading = begin(paths, check_secrets=check_secrets, secret_env=secret_env, build=False)
    with paused_collection():
        found, files = loading.read()
    return Checked(files=files, merchants=sum(len(result.merchants) for result in found))


@dataclass(frozen=True, slots=True)
class _Checks:
    """What loading checks beyond the format: secrets resolvable, variables allowed;
    and whether merchants are built or only checked."""

    resolve_secrets: bool = False
    secret_env: EnvAllowlist | None = None
    build: bool = True


def begin(
    paths: Sequence[str | Path],
    *,
    check_secrets: bool = False,
    secret_env: EnvAllowlist | None = None,
    own_weight: float | None = None,
    build: bool = True,
) -> Loading:
    """Start loading: a large fleet's files are being read by other processes on return,
    leaving this one free (to read Codat) until `result()`. `own_weight`: how much
    of the reading this process keeps against another's 1.0 (less when it will be
    busy meanwhile). `build`: False only checks the merchants (see `check`)."""
    if own_weight is None:
        own_weight = _OWN_WEIGHT[build]
    errors: list[ManifestError] = []
    sources = discovery.discover(paths, errors)
    read = partial(_read_file, checks=_Checks(check_secrets, secret_env, build))
    reading = parallel.start(read, sources, encode=_encode, decode=_decode, own_weight=own_weight)
    return Loading(sources, errors, reading)


class Loading:
    """Manifests being loaded (see `begin`)."""

    def __init__(
        self,
        sources: list[Source],
        errors: list[ManifestError],
        reading: parallel.Reading[_FileResult],
    ) -> None:
        self._sources = sources
        self._errors = errors
        self._reading = reading

    @property
    def in_parallel(self) -> bool:
        return self._reading.in_parallel

    def result(self) -> DesiredState:
        """The desired state. Raises ManifestErrors listing every problem."""
        with paused_collection():  # values, positions, merchants: no cycles among them
            found, files = self.read()
            merchants = [e.merchant for f in found for e in f.merchants if e.merchant is not None]
            client = next((f.client for f in found if f.client is not None), None)
            return DesiredState(merchants=tuple(merchants), files=files, client=client)

    def read(self) -> tuple[list[_Found], tuple[tuple[str, str], ...]]:
        """What each file declares, and the files read. Raises ManifestErrors."""
        errors = self._errors
        files: list[tuple[str, str]] = []
        found: list[_Found] = []
        for source, (digest, result, file_errors) in zip(
            self._sources, self._reading.results(), strict=True
        ):
            errors.extend(file_errors)
            if digest is not None:
                files.append((source.display, digest))
            found.append(result)
        _check_unique(found, errors)
        _one_client(found, errors)
        if errors:
            raise ManifestErrors(errors, files=files)
        return found, tuple(files)


# What reading one file gives: its digest (None if unread), merchants, problems.
_FileResult = tuple[str | None, "_Found", list[ManifestError]]


def _read_file(source: Source, *, checks: _Checks) -> _FileResult:
    errors: list[ManifestError] = []
    try:
        digest, result = _load_file(source, checks, errors)
    # One unreadable file must not hide the others' errors. Only what a file can
    # cause is caught: anything else is a bug in the loader and must read as one.
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        errors.append(
            ManifestError(
                Location(source.display, 1, 1),
                f"could not read this file ({exc.__class__.__name__})",
            )
        )
        return None, _Found(), errors
    return digest, result, errors


def _load_file(
    source: Source, checks: _Checks, errors: list[ManifestError]
) -> tuple[str | None, _Found]:
    data = discovery.read(source)
    if isinstance(data, ManifestError):
        errors.append(data)
        return None, _Found()
    digest = hashlib.sha256(data).hexdigest()
    text = decode(data, source.display)
    if isinstance(text, ManifestError):
        errors.append(text)
        return digest, _Found()
    document = parse(text, source.display)
    errors.extend(document.errors)
    if not document.usable:
        return digest, _Found()
    return digest, _File(source, document, checks, errors).merchants()


class _File:
    """One schema-checked document turned into merchants, with defaults merged in."""

    def __init__(
        self, source: Source, document: Document, checks: _Checks, errors: list[ManifestError]
    ) -> None:
        self.source = source
        self.document = document
        self.checks = checks
        self.errors = errors
        self.manifest_dir = source.path.resolve().parent
        self.root = references.repository_root(self.manifest_dir)
        self.known_values: dict[tuple[str, str], AuthValue | str] = {}

    def at(self, path: Path_, *, key: bool = False, below: Pos | None = None) -> Location:
        """Where `path` is written; `below`: the node the path starts from (the root if
        None), which spares a walk from the root for each of a merchant's locations."""
        return Location(
            self.source.display,
            *locate(self.document.pos if below is None else below, path, key=key),
        )

    def error(self, path: Path_, message: str, *, key: bool = False) -> None:
        self.errors.append(ManifestError(self.at(path, key=key), message))

    def merchants(self) -> _Found:
        found = _Found()
        broken_merchants: set[int] = set()
        file_broken = False
        for problem in problems(self.document.value):
            self.error(problem.path, problem.message, key=problem.at_key)
            if len(problem.path) >= 2 and problem.path[0] == "merchants":
                broken_merchants.add(int(problem.path[1]))
            else:
                file_broken = True
        if file_broken:
            return found
        value: dict[str, Any] = self.document.value
        if "client" in value:
            found.client = read_client(value["client"], self.at, self.error)
        defaults: dict[str, Any] = value.get("defaults", {})
        default_connections = self._connections(
            defaults.get("connections", []), ("defaults",), self._below(("defaults",))
        )
        listed = self._below(("merchants",))
        for index, raw in enumerate(value["merchants"]):
            if index not in broken_merchants:
                found.merchants.append(
                    self._merchant(index, raw, defaults, default_connections, listed)
                )
            elif isinstance(raw, dict) and isinstance(raw.get("name"), str):
                name_at = self.at(("merchants", index, "name"))
                found.merchants.append(_Entry(None, raw["name"], name_at))
        return found

    def _merchant(
        self,
        index: int,
        raw: dict[str, Any],
        defaults: dict[str, Any],
        default_connections: dict[str, DesiredConnection],
        listed: Pos | None,
    ) -> _Entry:
        here: Path_ = ("merchants", index)
        pos = descend(listed, index)
        assert pos is not None  # a schema-checked merchant is a mapping
        tags: dict[str, str] | None = None
        if "tags" in raw or "tags" in defaults:
            tags = {**defaults.get("tags", {}), **raw.get("tags", {})}
            if len(tags) > MAX_USER_TAGS:
                self.error(
                    (*here, "tags") if "tags" in raw else here,
                    f"{len(tags)} tags once the file's defaults are merged in; at most "
                    f"{MAX_USER_TAGS} (Codat allows 10 per company; codat-reconciler uses 2)",
                    key=True,
                )
        flow = {**defaults.get("syncFlow", {}), **raw.get("syncFlow", {})}
        connections = dict(default_connections)
        connections.update(self._connections(raw.get("connections", []), here, pos))
        authorized = len([c for c in connections.values() if c.authorization is not None])
        if authorized > MAX_AUTHORIZED_CONNECTIONS:
            self.error(
                (*here, "connections") if "connections" in raw else here,
                f"{authorized} connections with an authorization; at most "
                f"{MAX_AUTHORIZED_CONNECTIONS} per merchant (their fingerprints share one tag)",
                key=True,
            )
        company_id = raw.get("companyId")
        on_lookalike = raw.get("onLookalike")
        if on_lookalike is not None and company_id is not None:
            self.error(
                (*here, "onLookalike"),
                "onLookalike has no effect on a merchant pinned with companyId: remove one",
                key=True,
            )
        pinned = self.at(("companyId",), below=pos) if company_id is not None else None
        name_at = self.at(("name",), below=pos)
        if company_id is not None:
            company_id = company_id.lower()
        if not self.checks.build:
            return _Entry(None, raw["name"], name_at, company_id, pinned)
        merchant = Merchant(
            name=raw["name"],
            location=self.at((), below=pos),
            description=raw.get("description"),
            tags=tags,
            company_id=company_id,
            on_lookalike=on_lookalike,
            sync_flow=SyncFlow(
                commerce_key=flow.get("commerceKey"),
                accounting_key=flow.get("accountingKey"),
                redirect_url=flow.get("redirectUrl"),
            )
            if flow
            else _NO_SYNC_FLOW,
            connections=tuple(connections.values()),
        )
        return _Entry(merchant, merchant.name, name_at, company_id, pinned)

    def _below(self, path: Path_) -> Pos | None:
        return descend(self.document.pos, *path)

    def _connections(
        self, raw: list[dict[str, Any]], owner: Path_, owner_pos: Pos | None
    ) -> dict[str, DesiredConnection]:
        result: dict[str, DesiredConnection] = {}
        listed = descend(owner_pos, "connections")
        for index, entry in enumerate(raw):
            here = (*owner, "connections", index)
            key = entry["platformKey"]
            if key in result:
                first = result[key].location
                self.error(
                    (*here, "platformKey"),
                    f"connection '{key}' is declared twice (first at line {first.line}): "
                    "one connection per platform key",
                )
                continue
            authorization: dict[str, AuthValue] | None = None
            if "authorization" in entry:
                authorization = {}
                for name, raw_value in entry["authorization"].items():
                    value = self._auth_value(raw_value, (*here, "authorization", name))
                    if value is not None:
                        authorization[name] = value
            pos = descend(listed, index)
            assert pos is not None  # a schema-checked connection is a mapping
            result[key] = DesiredConnection(key, authorization, self.at((), below=pos))
        return result

    def _auth_value(self, raw: Any, path: Path_) -> AuthValue | None:
        value = references.auth_value(
            raw, self.manifest_dir, self.root, self.known_values, self.checks.secret_env
        )
        if isinstance(value, str):
            self.error(path, value)
            return None
        if self.checks.resolve_secrets:
            problem = references.check(value)
            if problem is not None:
                self.error(path, problem)
        return value


def _one_client(found: list[_Found], errors: list[ManifestError]) -> None:
    """The client settings are one set: a second `client:` section would make two."""
    sections = [result.client for result in found if result.client is not None]
    for extra in sections[1:]:
        errors.append(
            ManifestError(
                extra.location,
                f"a second client section: {sections[0].location} already declares the "
                f"client-wide settings; keep them in one file",
            )
        )


def _check_unique(found: list[_Found], errors: list[ManifestError]) -> None:
    """Names and pinned ids used once across all files.

    Names are compared in their look-alike form: two names that read the same are
    one name declared twice, whatever invisible difference the other checks report.
    """
    declared: dict[str, tuple[str, Location]] = {}
    company_ids: dict[str, Location] = {}
    for result in found:
        for entry in result.merchants:
            first_name, first = declared.setdefault(
                names.lookalike(entry.name), (entry.name, entry.name_at)
            )
            if first is not entry.name_at:
                same = "is" if first_name == entry.name else f"looks the same as '{first_name}',"
                errors.append(
                    ManifestError(
                        entry.name_at,
                        f"merchant name '{entry.name}' {same} already declared at {first}: "
                        "a name (the Codat company name) must be unique across all manifests",
                    )
                )
            if entry.company_id is not None and entry.pinned_at is not None:
                pinned = company_ids.setdefault(entry.company_id, entry.pinned_at)
                if pinned is not entry.pinned_at:
                    errors.append(
                        ManifestError(
                            entry.pinned_at,
                            f"companyId {entry.company_id} is already pinned by another "
                            f"merchant at {pinned}: one company cannot be two merchants",
                        )
                    )


# A file's result as plain tuples, for the trip from a reading child process
# (reconciler/manifests/parallel.py): tuples pickle several times faster than the
# model's frozen dataclasses. A location travels as (line, column), all of a
# file's merchants being in that file.


def _encode(result: _FileResult) -> tuple[Any, ...]:
    digest, found, errors = result
    file = found.merchants[0].name_at.file if found.merchants else ""
    entries = [
        (
            None if e.merchant is None else _encode_merchant(e.merchant),
            e.name,
            _point(e.name_at),
            e.company_id,
            None if e.pinned_at is None else _point(e.pinned_at),
        )
        for e in found.merchants
    ]
    problems = [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]
    return file, digest, entries, problems, found.client


def _point(location: Location) -> tuple[int, int]:
    return location.line, location.column


def _encode_merchant(m: Merchant) -> tuple[Any, ...]:
    flow = m.sync_flow
    connections = tuple(
        (
            c.platform_key,
            None
            if c.authorization is None
            else {name: _encode_value(v) for name, v in c.authorization.items()},
            _point(c.location),
        )
        for c in m.connections
    )
    return (
        m.name,
        _point(m.location),
        m.description,
        m.tags,
        m.company_id,
        (flow.commerce_key, flow.accounting_key, flow.redirect_url),
        connections,
    )


def _encode_value(value: AuthValue) -> tuple[str, str, str | None]:
    if isinstance(value, SecretRef):
        return value.kind, value.name, None if value.path is None else str(value.path)
    return "literal", value.value, None


def _decode(wire: tuple[Any, ...]) -> _FileResult:
    file, digest, entries, problems, client = wire
    # As when the file was read here: one value per reference, shared by its merchants.
    values: dict[tuple[str, str, str | None], AuthValue] = {}
    found = _Found(
        [
            _Entry(
                None if merchant is None else _decode_merchant(file, merchant, values),
                name,
                Location(file, *name_at),
                company_id,
                None if pinned_at is None else Location(file, *pinned_at),
            )
            for merchant, name, name_at, company_id, pinned_at in entries
        ],
        client,
    )
    errors = [ManifestError(Location(f, line, column), text) for f, line, column, text in problems]
    return digest, found, errors


def _decode_merchant(
    file: str, wire: tuple[Any, ...], values: dict[tuple[str, str, str | None], AuthValue]
) -> Merchant:
    name, location, description, tags, company_id, flow, connections = wire
    return Merchant(
        name=name,
        location=Location(file, *location),
        description=description,
        tags=tags,
        company_id=company_id,
        sync_flow=_NO_SYNC_FLOW if flow == (None, None, None) else SyncFlow(*flow),
        connections=tuple(
            DesiredConnection(
                key,
                None
                if auth is None
                else {n: _decode_value(value, values) for n, value in auth.items()},
                Location(file, *at),
            )
            for key, auth, at in connections
        ),
    )


def _decode_value(
    wire: tuple[str, str, str | None], values: dict[tuple[str, str, str | None], AuthValue]
) -> AuthValue:
    if wire in values:
        return values[wire]
    kind, value, path = wire
    decoded: AuthValue
    if kind == "literal":
        decoded = LiteralValue(value)
    else:
        ref_kind: Literal["env", "file"] = "env" if kind == "env" else "file"
        decoded = SecretRef(ref_kind, value, None if path is None else Path(path))
    values[wire] = decoded
    return decoded
