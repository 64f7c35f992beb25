"""The executor: carries out a Plan against Codat.

Each merchant's changes run in plan order (company, connections, authorizations)
because later ones need the ids earlier ones create; different merchants are
independent and run in parallel. A failure stops only the merchant it happened
in: the rest of the work finishes, and every failure is reported with its
address and Codat's correlationId. Re-running converges, because the next plan
starts from whatever did get done.

Creation is the one step that could duplicate a merchant; apply/creation.py
holds how it never does. Updates (PATCH) set absolute values, so a repeat is
harmless. A change is reported done only once Codat confirmed it: a created
company must still be there when the run reads the companies again at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, assert_never, cast

from reconciler.apply.client import ClientSettingsCalls, execute_client_change
from reconciler.apply.creation import (
    READ_BACK,
    ChangeFailed,
    CreationCalls,
    ReadBack,
    Superseded,
    company_named,
    connection_of,
    create_once,
    resolve_twins,
)
from reconciler.codat.errors import QuotaExhausted, Stopped
from reconciler.errors import ReconcilerError
from reconciler.live.model import LiveState
from reconciler.live.reader import read_company
from reconciler.manifests.model import DesiredState, SecretUnavailable
from reconciler.plan import twins
from reconciler.plan.model import CLIENT_KINDS, Action, Cause, Change, Kind, Operation, Plan

__all__ = ["ApplyResult", "ChangeFailed", "CodatCalls", "Executor", "Failure"]


class CodatCalls(CreationCalls, Protocol):
    """The calls the executor makes; CodatClient provides them."""

    def create_company(self, body: dict[str, Any]) -> dict[str, Any]: ...
    def update_company(self, company_id: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def create_connection(self, company_id: str, platform_key: str) -> dict[str, Any]: ...
    def update_connection(
        self, company_id: str, connection_id: str, body: dict[str, Any]
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
    not_started: list[Change] = field(default_factory=list)  # after the run was told to stop
    stopped: str | None = None  # why no new change started (quota used up, a signal)
    # merchant name -> the company this run created for it, checked still there, no twin
    created: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_started


@dataclass(slots=True)
class _MerchantIds:
    """Ids a merchant's earlier changes produced, for its later ones."""

    company_id: str | None
    connections: dict[str, str] = field(default_factory=dict)


class Executor:
    def __init__(
        self,
        client: CodatCalls,
        desired: DesiredState,
        live: LiveState,
        *,
        parallelism: int = 10,
        on_change: Callable[[Change, str | None], None] | None = None,
        read_back: ReadBack = READ_BACK,
    ) -> None:
        self._client = client
        self._read_back = read_back
        self._auth = {(m.name, c.platform_key): c for m in desired.merchants for c in m.connections}
        # Ids the plan was made from: anything else found later was made since.
        self._listed = len(live.companies)
        self._known = {c.id for c in live.companies} | {
            x.id for c in live.companies for x in c.connections
        }
        self._parallelism = max(1, parallelism)
        self._on_change = on_change
        self._lock = threading.Lock()
        self._created: dict[str, str] = {}  # merchant name -> company id this run created
        self._stop = threading.Event()

    def run(self, plan: Plan, stop: threading.Event | None = None) -> ApplyResult:
        """Carry out `plan`. Once `stop` is set no new change starts; those in flight finish."""
        result = ApplyResult()
        self._stop = stop or threading.Event()
        client_changes = [c for c in plan.changes if c.kind in CLIENT_KINDS]
        groups = _client_groups(client_changes) + list(
            _by_merchant(c for c in plan.changes if c.kind not in CLIENT_KINDS)
        )
        with ThreadPoolExecutor(max_workers=self._parallelism) as pool:
            futures = [pool.submit(self._run_group, g, result) for g in groups]
            for future in futures:
                future.result()
        if self._created:
            # Also after a stop: what was created must be confirmed and free of twins.
            self._confirm_created(result)
        return result

    def _run_group(self, changes: list[Change], result: ApplyResult) -> None:
        ids = _MerchantIds(company_id=changes[0].company_id)
        for index, change in enumerate(changes):
            if self._stop.is_set():
                with self._lock:
                    result.not_started.extend(changes[index:])
                return
            executed = False
            try:
                self._execute(change, ids)
                executed = True
                if change.record is not None:  # what only this change's success may record
                    self._client.update_company(_need(ids.company_id, change), change.record)
            except Stopped as exc:
                # The stop ended a wait: a change Codat never saw was not started.
                if exc.sent or executed:
                    self._fail(changes, index, result, str(exc), quota=False)
                else:
                    with self._lock:
                        result.not_started.extend(changes[index:])
                return
            except ReconcilerError as exc:
                self._fail(changes, index, result, str(exc), quota=isinstance(exc, QuotaExhausted))
                return
            except Exception as exc:
                # A bug, not Codat or the manifests: named as one, while the other
                # merchants' work still finishes and the run ends with its summary.
                message = f"internal error (a bug, please report): {type(exc).__name__}: {exc}"
                self._fail(changes, index, result, message, quota=False)
                return
            with self._lock:
                result.done.append(change)
            self._notify(_with_ids(change, ids), None)

    def _fail(
        self, changes: list[Change], index: int, result: ApplyResult, message: str, *, quota: bool
    ) -> None:
        """Change `index` failed: the merchant's later changes are skipped."""
        with self._lock:
            result.failed.append(Failure(changes[index], message))
            result.skipped.extend(changes[index + 1 :])
            if quota:
                result.stopped = message
                self._stop.set()
        self._notify(changes[index], message)

    def _notify(self, change: Change, error: str | None) -> None:
        if self._on_change is not None:
            self._on_change(change, error)

    def _execute(self, change: Change, ids: _MerchantIds) -> None:
        client = self._client
        operation = change.operation
        match operation:
            case Operation.CREATE_COMPANY:
                ids.company_id = create_once(
                    lambda: client.create_company(change.body),
                    lambda: company_named(client, change.merchant, self._known, self._read_back),
                )
                with self._lock:
                    self._created[change.merchant] = ids.company_id
            case Operation.UPDATE_COMPANY:
                client.update_company(_need(ids.company_id, change), change.body)
            case Operation.DELETE_COMPANY:
                if change.cause is Cause.TWIN:
                    self._delete_twin(change)
                else:
                    client.delete_company(_need(ids.company_id, change))
            case Operation.CREATE_CONNECTION:
                company_id = _need(ids.company_id, change)
                key = _need(change.platform_key, change)
                ids.connections[key] = create_once(
                    lambda: client.create_connection(company_id, key),
                    lambda: connection_of(client, company_id, key, self._known),
                )
            case Operation.UNLINK_CONNECTION:
                client.update_connection(
                    _need(ids.company_id, change), self._connection(change, ids), change.body
                )
            case Operation.AUTHORIZE_CONNECTION:
                company_id = _need(ids.company_id, change)
                self._authorize(change, company_id, self._connection(change, ids))
            case (
                Operation.CREATE_WEBHOOK
                | Operation.REPLACE_WEBHOOK
                | Operation.DELETE_WEBHOOK
                | Operation.SET_SYNC_SETTING
                | Operation.SET_SYNC_FLOW_TEXT
                | Operation.SET_VISIBLE_ACCOUNTS
            ):
                execute_client_change(cast(ClientSettingsCalls, client), change)
            case _:
                # A new operation the executor does not carry out is a type error here.
                assert_never(operation)

    def _connection(self, change: Change, ids: _MerchantIds) -> str:
        return _need(change.connection_id or ids.connections.get(change.platform_key or ""), change)

    def _authorize(self, change: Change, company_id: str, connection_id: str) -> None:
        declared = self._auth.get((change.merchant, change.platform_key or ""))
        if declared is None or declared.authorization is None:
            raise ChangeFailed("the manifests no longer declare this authorization")
        try:
            values = declared.resolve_authorization()
        except SecretUnavailable as exc:
            raise ChangeFailed(f"cannot authorize: {exc}") from None
        answer = self._client.authorize_connection(company_id, connection_id, values)
        status = str(answer.get("status") or "in an unknown state")
        if status.lower() != "linked":
            raise ChangeFailed(
                f"Codat accepted the authorization but the connection is {status}, "
                "not Linked: check the credentials declared for it"
            )

    def _delete_twin(self, change: Change) -> None:
        """Delete a twin only as the plan saw it (unused) and while the one kept is there:
        between plan and apply the merchant may have started to use it, or another
        process may have settled the twins another way."""
        twin_id = _need(change.company_id, change)
        seen = {k: v for k, v in (change.before or {}).items() if k != "keeps"}
        keeper = str((change.before or {}).get("keeps") or "")
        now = read_company(self._client, twin_id)
        if now is None:
            return  # another apply settled these twins already
        if twins.snapshot(now) != seen:
            raise ChangeFailed(
                f"company {twin_id} changed since the plan was made (it may be in use now): "
                "left alone; plan again"
            )
        if not keeper or read_company(self._client, keeper) is None:
            raise ChangeFailed(
                f"company {keeper or '?'}, the twin that was to stay, is gone: {twin_id} is "
                "left alone; plan again"
            )
        self._client.delete_company(twin_id)

    def _confirm_created(self, result: ApplyResult) -> None:
        """The end-of-run read: twins resolved, and only companies that exist count as done."""
        try:
            superseded = resolve_twins(
                self._client, self._created, self._known, self._listed, self._read_back
            )
        except ReconcilerError as exc:
            superseded = []
            for name in self._created:
                message = f"could not check for a twin made by a concurrent apply: {exc}"
                superseded.append(Superseded(name, message))
        lost = {entry.name for entry in superseded}
        result.created = {n: i for n, i in self._created.items() if n not in lost}
        for entry in superseded:
            # A later change may already have failed because the twin was removed under
            # it (404): the reason is the twin, say so first.
            result.failed = [
                Failure(f.change, f"{entry.message} (then: {f.message})")
                if f.change.merchant == entry.name
                else f
                for f in result.failed
            ]
            done = [c for c in result.done if c.merchant == entry.name]
            if not done:
                continue
            result.done = [c for c in result.done if c.merchant != entry.name]
            result.failed.append(Failure(done[0], entry.message))
            result.skipped.extend(done[1:])


def _with_ids(change: Change, ids: _MerchantIds) -> Change:
    """The change as done, with the ids it made, for whoever reports it (`[id=...]`)."""
    if change.operation is Operation.CREATE_COMPANY:
        return replace(change, company_id=ids.company_id)
    if change.operation is Operation.CREATE_CONNECTION:
        return replace(change, connection_id=ids.connections.get(change.platform_key or ""))
    return change


def _need(value: str | None, change: Change) -> str:
    if not value:
        # The planner always orders creating changes first; reaching this is a bug.
        raise ChangeFailed(f"internal error: no id known for {change.address}")
    return value


def _client_groups(changes: list[Change]) -> list[list[Change]]:
    """Each client-wide change stands alone, except the sync settings: each of those
    rewrites the one list, so they go one after another."""
    settings = [c for c in changes if c.kind is Kind.SYNC_SETTING]
    alone = [[c] for c in changes if c.kind is not Kind.SYNC_SETTING]
    return alone + ([settings] if settings else [])


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
