"""The executor against a recording fake: ordering, id hand-over, failures, keys."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.apply.executor import Executor, idempotency_key
from reconciler.codat.errors import CodatAPIError
from reconciler.credentials import Fingerprint
from reconciler.live.model import AUTH_TAG, LiveCompany, LiveConnection, LiveState
from reconciler.manifests.model import (
    DesiredConnection,
    DesiredState,
    LiteralValue,
    Location,
    Merchant,
    SecretRef,
)
from reconciler.plan.model import Action
from reconciler.plan.planner import PlanOptions, make_plan

HERE = Location("m.yaml", 1, 1)


class FakeCodat:
    """Records calls; fails the calls named in `fail_on` (by merchant name in the body/path)."""

    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail_on = fail_on or set()
        self._lock = threading.Lock()
        self._n = 0

    def _record(self, *call: Any) -> str:
        with self._lock:
            self.calls.append(call)
            self._n += 1
            return f"id{self._n}"

    def create_company(self, body: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        if body["name"] in self.fail_on:
            raise CodatAPIError(
                "POST", "/companies", 500, correlation_id="corr-123", codat_message="boom"
            )
        return {"id": self._record("create_company", body["name"], idempotency_key)}

    def update_company(self, company_id: str, body: dict[str, Any], *, idempotency_key: str
                       ) -> dict[str, Any]:
        self._record("update_company", company_id, body)
        return {"id": company_id}

    def delete_company(self, company_id: str) -> None:
        self._record("delete_company", company_id)

    def create_connection(self, company_id: str, platform_key: str, *, idempotency_key: str
                          ) -> dict[str, Any]:
        return {"id": self._record("create_connection", company_id, platform_key)}

    def update_connection(self, company_id: str, connection_id: str, body: dict[str, Any], *,
                          idempotency_key: str) -> dict[str, Any]:
        self._record("update_connection", company_id, connection_id, body)
        return {}

    def authorize_connection(self, company_id: str, connection_id: str, values: dict[str, str]
                             ) -> dict[str, Any]:
        self._record("authorize", company_id, connection_id, values)
        return {"status": "Linked"}


def desired(*names: str) -> DesiredState:
    auth = {"apiToken": SecretRef("env", "EXEC_TEST_TOKEN"), "storeId": LiteralValue("s1")}
    return DesiredState(
        tuple(
            Merchant(n, HERE, connections=(DesiredConnection("dfxm", auth, HERE),)) for n in names
        )
    )


def test_new_merchants_run_company_connection_authorize_with_ids_carried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXEC_TEST_TOKEN", "tok-123")
    want = desired("a", "b")
    creds = {(m.name, "dfxm"): Fingerprint("f") for m in want.merchants}
    plan = make_plan(want, LiveState(()), creds)
    fake = FakeCodat()
    result = Executor(fake, want, LiveState(()), parallelism=2).run(plan)
    assert result.ok and len(result.done) == 6
    for name in ("a", "b"):
        created = next(c for c in fake.calls if c[:2] == ("create_company", name))
        company_id = fake.calls.index(created)
        conn = next(c for c in fake.calls[company_id:] if c[0] == "create_connection")
        auth = next(c for c in fake.calls[company_id:] if c[0] == "authorize")
        assert conn[1] == f"id{company_id + 1}"  # ids are handed on, not guessed
        assert auth[3] == {"apiToken": "tok-123", "storeId": "s1"}


def test_a_failure_stops_its_merchant_only_and_carries_the_correlation_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXEC_TEST_TOKEN", "tok-123")
    want = desired("bad", "good")
    plan = make_plan(want, LiveState(()), {})
    result = Executor(FakeCodat(fail_on={"bad"}), want, LiveState(())).run(plan)
    assert not result.ok
    (failure,) = result.failed
    assert failure.change.address == 'merchant["bad"]'
    assert "corr-123" in failure.message
    assert {c.merchant for c in result.skipped} == {"bad"} and len(result.skipped) == 2
    assert {c.merchant for c in result.done} == {"good"}


def test_missing_secret_fails_the_authorize_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EXEC_TEST_TOKEN", raising=False)
    want = desired("a")
    result = Executor(FakeCodat(), want, LiveState(())).run(make_plan(want, LiveState(()), {}))
    (failure,) = result.failed
    assert failure.change.action is Action.AUTHORIZE
    assert failure.message == "cannot authorize: environment variable EXEC_TEST_TOKEN is not set"


def test_prune_changes_unlink_and_delete_and_the_record_follows_the_unlink() -> None:
    owned = {"managed-by": "codat-reconciler"}
    live = LiveState((
        LiveCompany("c1", "keep", None, {**owned, AUTH_TAG: "lqai"},
                    (LiveConnection("x", "lqai", "Linked"),)),
        LiveCompany("c2", "gone", None, owned),
    ))
    want = DesiredState((Merchant("keep", HERE),))
    plan = make_plan(want, live, {}, PlanOptions(prune=True))
    fake = FakeCodat()
    assert Executor(fake, want, live).run(plan).ok
    keep = [c for c in fake.calls if c[1] == "c1"]
    assert keep == [
        ("update_connection", "c1", "x", {"status": "Unlinked"}),
        ("update_company", "c1", {"tags": owned}),  # lqai is no longer the tool's
    ]
    assert ("delete_company", "c2") in fake.calls


def test_a_failed_change_records_nothing_after_it() -> None:
    live = LiveState((
        LiveCompany("c1", "keep", None, {"managed-by": "codat-reconciler", AUTH_TAG: "lqai"},
                    (LiveConnection("x", "lqai", "Linked"),)),
    ))
    want = DesiredState((Merchant("keep", HERE),))
    plan = make_plan(want, live, {}, PlanOptions(prune=True))

    class Refusing(FakeCodat):
        def update_connection(self, company_id: str, connection_id: str, body: dict[str, Any],
                              *, idempotency_key: str) -> dict[str, Any]:
            raise CodatAPIError("PATCH", "/x", 500, correlation_id="c", codat_message="no")

    fake = Refusing()
    result = Executor(fake, want, live).run(plan)
    assert not result.ok and fake.calls == []


def test_a_stale_replay_of_a_deleted_company_is_created_again_under_a_new_key() -> None:
    read_at = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    live = LiveState((), read_at=read_at)
    want = DesiredState((Merchant("back", HERE),))
    plan = make_plan(want, live, {})
    stale_key = idempotency_key(live.digest(), plan.changes[0], None)
    keys: list[str] = []

    class Replaying(FakeCodat):
        def create_company(self, body: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
            keys.append(idempotency_key)
            if idempotency_key == stale_key:  # Codat replays the answer of an hour ago
                return {"id": "deleted-company", "created": "2026-11-27T11:00:00.1234567Z"}
            return {"id": "new-company", "created": "2026-11-27T12:00:01.000Z"}

    fake = Replaying()
    result = Executor(fake, want, live).run(plan)
    assert result.ok
    assert len(keys) == 2 and keys[0] == stale_key and keys[1] != stale_key
    # Racing applies that see the same replay derive the same replacement key.
    keys_again: list[str] = keys.copy()
    keys.clear()
    Executor(Replaying(), want, live).run(plan)
    assert keys == keys_again


def test_a_concurrent_creation_replayed_is_accepted() -> None:
    live = LiveState((), read_at=datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC))
    want = DesiredState((Merchant("racing", HERE),))
    calls: list[str] = []

    class Racing(FakeCodat):
        def create_company(self, body: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
            calls.append(idempotency_key)  # created by the other apply, after our read
            return {"id": "theirs", "created": "2026-11-27T12:00:00.500Z"}

    assert Executor(Racing(), want, live).run(make_plan(want, live, {})).ok
    assert len(calls) == 1


def test_idempotency_keys_are_stable_per_change_and_seed() -> None:
    want = desired("a")
    change = make_plan(want, LiveState(()), {}).changes[0]
    assert idempotency_key("s", change, None) == idempotency_key("s", change, None)
    assert idempotency_key("s", change, None) != idempotency_key("t", change, None)
