"""The executor: carries out a Plan against Codat.

Each merchant's changes run in plan order (company, connections, authorizations)
because later ones need the ids earlier ones create; different merchants are
independent and run in parallel. A failure stops only the merchant it happened
in: the rest of the work finishes, and every failure is reported with its
address and Codat's correlationId. Re-running converges, because the next plan
starts from whatever did get done.

Creating calls (POST) carry idempotency keys derived, not random: the same
creation planned from the same live state gets the same key, so two applies
racing on one plan are deduplicated by Codat instead of creating twins. The
price: if a company is created, deleted and declared again while the live state
returns to exactly what it was, the same key comes back within Codat's
90-minute window and Codat replays the answer describing the deleted company.
Such a replay is recognised by its `created` time, which precedes the live read
that did not see it, and the creation is retried under a key derived from the
stale id (still shared by racing applies). Updates (PATCH) set absolute values,
so racing duplicates are harmless: they get a fresh key per operation, which
the client reuses on every retry of that operation.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from reconciler.codat.client import new_idempotency_key
from reconciler.errors import ReconcilerError
from reconciler.live.model import LiveState, parse_timestamp
from reconciler.manifests.model import DesiredState, SecretUnavailable
from reconciler.plan.model import Action, Change, Kind, Plan

_KEY_NAMESPACE = uuid.UUID("6f1f3c1e-8d4b-4a57-9a55-1d0c6f0e2b7a")


class CodatCalls(Protocol):
    """The calls the executor makes; CodatClient provides them."""

    def create_company(self, body: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]: ...
    def update_company(
        self, company_id: str, body: dict[str, Any], *, idempotency_key: str
    ) -> dict[str, Any]: ...
    def delete_company(self, company_id: str) -> None: ...
    def create_connection(
        self, company_id: str, platform_key: str, *, idempotency_key: str
    ) -> dict[str, Any]: ...
    def update_connection(
        self, company_id: str, connection_id: str, body: dict[str, Any], *, idempotency_key: str
    ) -> dict[str, Any]: ...
    def authorize_connection(
        self, company_id: str, connection_id: str, values: dict[str, str]
    ) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Failure:
    change: Change
    message: str


@dataclass(slots=True)
class ApplyResult:
    done: list[Change] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)  # after a failure in the same merchant

    @property
    def ok(self) -> bool:
        return not self.failed


class ChangeFailed(ReconcilerError):
    pass


@dataclass(slots=True)
class _MerchantIds:
    """Ids a merchant's earlier changes produced, for its later ones."""

    company_id: str | None
    connections: dict[str, str] = field(default_factory=dict)


# A replay is only recognised when its `created` precedes the live read; two
# creations with the same key in a row mean something else is wrong.
STALE_REPLAY_RETRIES = 2


def idempotency_key(seed: str, change: Change, company_id: str | None) -> str:
    material = json.dumps(
        [seed, change.address, change.action.value, company_id, change.body], sort_keys=True
    )
    return str(uuid.uuid5(_KEY_NAMESPACE, material))


class Executor:
    def __init__(
        self,
        client: CodatCalls,
        desired: DesiredState,
        live: LiveState,
        *,
        parallelism: int = 10,
        on_change: Callable[[Change, str | None], None] | None = None,
    ) -> None:
        self._client = client
        self._auth = {
            (m.name, c.platform_key): c for m in desired.merchants for c in m.connections
        }
        self._seed = live.digest()
        self._read_at = live.read_at
        self._known = {c.id for c in live.companies} | {
            x.id for c in live.companies for x in c.connections
        }
        self._parallelism = max(1, parallelism)
        self._on_change = on_change
        self._lock = threading.Lock()

    def run(self, plan: Plan) -> ApplyResult:
        result = ApplyResult()
        groups = list(_by_merchant(plan.changes))
        with ThreadPoolExecutor(max_workers=self._parallelism) as pool:
            for future in [pool.submit(self._run_group, g, result) for g in groups]:
                future.result()
        return result

    def _run_group(self, changes: list[Change], result: ApplyResult) -> None:
        ids = _MerchantIds(company_id=changes[0].company_id)
        for index, change in enumerate(changes):
            try:
                self._execute(change, ids)
                if change.record is not None:  # what only this change's success may record
                    self._client.update_company(
                        _need(ids.company_id, change),
                        change.record,
                        idempotency_key=new_idempotency_key(),
                    )
            except ReconcilerError as exc:
                message = str(exc)
                with self._lock:
                    result.failed.append(Failure(change, message))
                    result.skipped.extend(changes[index + 1 :])
                self._notify(change, message)
                return
            with self._lock:
                result.done.append(change)
            self._notify(change, None)

    def _notify(self, change: Change, error: str | None) -> None:
        if self._on_change is not None:
            self._on_change(change, error)

    def _execute(self, change: Change, ids: _MerchantIds) -> None:
        client = self._client
        if change.kind is Kind.COMPANY:
            if change.action is Action.CREATE:
                created = self._create(
                    change, None, lambda k: client.create_company(change.body, idempotency_key=k)
                )
                ids.company_id = created
                return
            company_id = _need(ids.company_id, change)
            if change.action is Action.UPDATE:
                client.update_company(
                    company_id, change.body, idempotency_key=new_idempotency_key()
                )
            elif change.action is Action.DELETE:
                client.delete_company(company_id)
            return

        company_id = _need(ids.company_id, change)
        platform_key = _need(change.platform_key, change)
        if change.action is Action.CREATE:
            ids.connections[platform_key] = self._create(
                change,
                company_id,
                lambda k: client.create_connection(company_id, platform_key, idempotency_key=k),
            )
            return
        connection_id = _need(change.connection_id or ids.connections.get(platform_key), change)
        if change.action is Action.UNLINK:
            client.update_connection(
                company_id, connection_id, change.body, idempotency_key=new_idempotency_key()
            )
        elif change.action is Action.AUTHORIZE:
            values = self._authorization(change)
            answer = client.authorize_connection(company_id, connection_id, values)
            status = str(answer.get("status") or "in an unknown state")
            if status.lower() != "linked":
                raise ChangeFailed(
                    f"Codat accepted the authorization but the connection is {status}, "
                    "not Linked: check the credentials declared for it"
                )

    def _create(
        self, change: Change, company_id: str | None, post: Callable[[str], dict[str, Any]]
    ) -> str:
        """POST under a derived key; returns the new id, never that of a stale replay."""
        key = idempotency_key(self._seed, change, company_id)
        for _ in range(STALE_REPLAY_RETRIES + 1):
            answer = post(key)
            new_id = str(answer["id"])
            if not self._stale(new_id, answer.get("created")):
                return new_id
            key = str(uuid.uuid5(_KEY_NAMESPACE, f"{key}:replaced:{new_id}"))
        raise ChangeFailed(
            f"Codat keeps answering with {new_id}, created before this apply read the live "
            "state yet absent from it; run apply again"
        )

    def _stale(self, new_id: str, created: object) -> bool:
        """A replayed answer about something gone before our read (see the module doc)."""
        if new_id in self._known or self._read_at is None:
            return False
        when = parse_timestamp(created)
        return when is not None and when < self._read_at

    def _authorization(self, change: Change) -> dict[str, str]:
        declared = self._auth.get((change.merchant, change.platform_key or ""))
        if declared is None or declared.authorization is None:
            raise ChangeFailed("the manifests no longer declare this authorization")
        try:
            return declared.resolve_authorization()
        except SecretUnavailable as exc:
            raise ChangeFailed(f"cannot authorize: {exc}") from None


def _need(value: str | None, change: Change) -> str:
    if not value:
        # The planner always orders creating changes first; reaching this is a bug.
        raise ChangeFailed(f"internal error: no id known for {change.address}")
    return value


def _by_merchant(changes: Iterable[Change]) -> Iterable[list[Change]]:
    """Consecutive changes of one merchant form a group; each delete stands alone."""
    group: list[Change] = []
    for change in changes:
        starts_new = not group or change.merchant != group[0].merchant
        if change.action is Action.DELETE or (group and group[0].action is Action.DELETE):
            starts_new = True
        if starts_new and group:
            yield group
            group = []
        group.append(change)
    if group:
        yield group
