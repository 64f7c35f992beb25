"""The executor against a recording fake: ordering, id hand-over, failures, keys."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from reconciler.apply.creation import ReadBack
from reconciler.apply.executor import Executor
from reconciler.codat.answers import CompaniesPage
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
from reconciler.plan.model import Action, Cause, Change, Kind, Operation
from reconciler.plan.planner import PlanOptions, make_plan

HERE = Location("m.yaml", 1, 1)


class FakeCodat:
    """Records calls and keeps what was created; fails the creations named in `fail_on`."""

    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail_on = fail_on or set()
        self.companies: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._n = 0

    def _record(self, *call: Any) -> str:
        with self._lock:
            self.calls.append(call)
            self._n += 1
            return f"id{self._n}"

    def create_company(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["name"] in self.fail_on:
            raise CodatAPIError(
                "POST", "/companies", 400, correlation_id="corr-123", codat_message="boom"
            )
        company = {
            **body,
            "id": self._record("create_company", body["name"]),
            "created": "2026-11-27T12:00:00.000Z",
            "dataConnections": [],
        }
        self.companies[company["id"]] = company
        return company

    def list_companies(
        self, page: int, page_size: int = 5000, *, query: str | None = None
    ) -> CompaniesPage:
        results = tuple(self.companies.values()) if page == 1 else ()
        return CompaniesPage(page, results, page_size, len(self.companies), False)

    def get_company(self, company_id: str) -> dict[str, Any]:
        if company_id not in self.companies:
            raise CodatAPIError("GET", f"/companies/{company_id}", 404)
        return self.companies[company_id]

    def update_company(self, company_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._record("update_company", company_id, body)
        return {"id": company_id}

    def delete_company(self, company_id: str) -> None:
        self._record("delete_company", company_id)
        self.companies.pop(company_id, None)

    def create_connection(self, company_id: str, platform_key: str) -> dict[str, Any]:
        return {"id": self._record("create_connection", company_id, platform_key)}

    def update_connection(
        self, company_id: str, connection_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        self._record("update_connection", company_id, connection_id, body)
        return {"id": connection_id}

    def authorize_connection(
        self, company_id: str, connection_id: str, values: dict[str, str]
    ) -> dict[str, Any]:
        self._record("authorize", company_id, connection_id, values)
        return {"id": connection_id, "status": "Linked"}


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


class BuggyCodat(FakeCodat):
    """A client with a bug: creating the company named "buggy" raises a KeyError."""

    def create_company(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["name"] == "buggy":
            raise KeyError("dataConnections")
        return super().create_company(body)


def test_a_bug_in_one_merchant_is_reported_as_a_bug_and_the_others_finish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXEC_TEST_TOKEN", "tok-123")
    want = desired("buggy", "good")
    plan = make_plan(want, LiveState(()), {})
    result = Executor(BuggyCodat(), want, LiveState(()), parallelism=2).run(plan)
    assert not result.ok
    (failure,) = result.failed
    assert failure.change.address == 'merchant["buggy"]'
    assert failure.message == ("internal error (a bug, please report): KeyError: 'dataConnections'")
    assert {c.merchant for c in result.skipped} == {"buggy"} and len(result.skipped) == 2
    assert {c.merchant for c in result.done} == {"good"} and len(result.done) == 3


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
    live = LiveState(
        (
            LiveCompany(
                "c1",
                "keep",
                None,
                {**owned, AUTH_TAG: "lqai"},
                (LiveConnection("x", "lqai", "Linked"),),
            ),
            LiveCompany("c2", "gone", None, owned),
        )
    )
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
    live = LiveState(
        (
            LiveCompany(
                "c1",
                "keep",
                None,
                {"managed-by": "codat-reconciler", AUTH_TAG: "lqai"},
                (LiveConnection("x", "lqai", "Linked"),),
            ),
        )
    )
    want = DesiredState((Merchant("keep", HERE),))
    plan = make_plan(want, live, {}, PlanOptions(prune=True))

    class Refusing(FakeCodat):
        def update_connection(
            self, company_id: str, connection_id: str, body: dict[str, Any]
        ) -> dict[str, Any]:
            raise CodatAPIError("PATCH", "/x", 500, correlation_id="c", codat_message="no")

    fake = Refusing()
    result = Executor(fake, want, live).run(plan)
    assert not result.ok and fake.calls == []


def _ambiguous(status: int) -> CodatAPIError:
    error = CodatAPIError("POST", "/companies", status, correlation_id="c-1")
    error.may_have_applied = True  # as the client marks a keyed 5xx
    return error


def test_an_ambiguous_create_that_landed_is_found_by_reading_back() -> None:
    want = DesiredState((Merchant("m1", HERE),))
    live = LiveState(())

    class FailsAfterCommit(FakeCodat):
        def create_company(self, body: dict[str, Any]) -> dict[str, Any]:
            super().create_company(body)  # the change commits, yet the answer is a 500
            raise _ambiguous(500)

    fake = FailsAfterCommit()
    result = Executor(fake, want, live).run(make_plan(want, live, {}))
    assert result.ok, result.failed
    assert [c[0] for c in fake.calls] == ["create_company"] and len(fake.companies) == 1


def test_an_ambiguous_create_that_did_not_land_is_sent_again() -> None:
    want = DesiredState((Merchant("m1", HERE),))
    live = LiveState(())
    sent: list[str] = []

    class FailsOnceBefore(FakeCodat):
        def create_company(self, body: dict[str, Any]) -> dict[str, Any]:
            sent.append(body["name"])
            if len(sent) == 1:
                raise _ambiguous(503)
            return super().create_company(body)

    fake, time = FailsOnceBefore(), FakeTime()
    assert Executor(fake, want, live, read_back=time.read_back).run(make_plan(want, live, {})).ok
    assert sent == ["m1", "m1"] and len(fake.companies) == 1
    # Looked for as long as a listing may lag, no longer, before it was sent again.
    assert time.now == pytest.approx(ReadBack().wait)


def test_a_created_company_gone_by_the_end_is_not_reported_done() -> None:
    want = DesiredState((Merchant("m1", HERE),))
    live = LiveState(())

    class Phantom(FakeCodat):
        def create_company(self, body: dict[str, Any]) -> dict[str, Any]:
            company = super().create_company(body)
            del self.companies[company["id"]]  # answered, but not there when read
            return company

    time = FakeTime()
    result = Executor(Phantom(), want, live, read_back=time.read_back).run(
        make_plan(want, live, {})
    )
    assert not result.done and len(result.failed) == 1
    assert "no longer has it" in result.failed[0].message


class FakeTime:
    """A clock that sleeping moves on: bounded waits run at once, and are measured."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def clock(self) -> float:
        return self.now

    @property
    def read_back(self) -> ReadBack:
        return ReadBack(sleep=self.sleep, clock=self.clock)


class LaggingListing(FakeCodat):
    """A listing that shows a company `lag` seconds (of `time`) after its creation; a read
    by id shows it at once. The first creation answers 500 after it committed
    (`500-after`) unless told not to."""

    def __init__(self, time: FakeTime, lag: float, *, fail_first: bool = True) -> None:
        super().__init__()
        self.time, self.lag, self.fail_first = time, lag, fail_first
        self.born: dict[str, float] = {}
        self.posts = 0

    def create_company(self, body: dict[str, Any]) -> dict[str, Any]:
        self.posts += 1
        company = super().create_company(body)
        self.born[company["id"]] = self.time.now
        if self.posts == 1 and self.fail_first:
            raise _ambiguous(500)
        return company

    def list_companies(
        self, page: int, page_size: int = 5000, *, query: str | None = None
    ) -> CompaniesPage:
        shown = tuple(
            c for i, c in self.companies.items() if self.time.now - self.born[i] >= self.lag
        )
        return CompaniesPage(page, shown if page == 1 else (), page_size, len(shown), False)


@pytest.mark.parametrize("lag", [0.0, 2.5])
def test_a_lagging_listing_after_a_500_that_committed_makes_no_twin(lag: float) -> None:
    want = DesiredState((Merchant("m1", HERE),))
    live = LiveState(())
    time = FakeTime()
    fake = LaggingListing(time, lag)
    result = Executor(fake, want, live, read_back=time.read_back).run(make_plan(want, live, {}))
    assert result.ok and fake.posts == 1 and len(fake.companies) == 1, result
    assert result.created == {"m1": "id1"}
    assert time.now >= lag


def test_a_created_company_the_listing_does_not_show_yet_is_not_reported_gone() -> None:
    """The end-of-run read must not call a company lost because the listing lags: it
    is read by id, and stays done."""
    want = DesiredState((Merchant("m1", HERE),))
    live = LiveState(())
    time = FakeTime()

    fake = LaggingListing(time, lag=ReadBack().wait * 10, fail_first=False)
    result = Executor(fake, want, live, read_back=time.read_back).run(make_plan(want, live, {}))
    assert result.ok and result.created == {"m1": "id1"}, result.failed
    assert time.now == pytest.approx(ReadBack().wait)  # waited, bounded


def _twins(fake: FakeCodat) -> tuple[DesiredState, LiveState]:
    owned = {"managed-by": "codat-reconciler"}
    for cid, created, conns in (
        ("old", "2026-01-01T00:00:00Z", []),
        ("new", "2026-01-02T00:00:00Z", []),
    ):
        fake.companies[cid] = {
            "id": cid,
            "name": "m1",
            "tags": dict(owned),
            "created": created,
            "dataConnections": conns,
        }
    want = DesiredState((Merchant("m1", HERE),))
    live = LiveState(tuple(LiveCompany.from_api(c) for c in fake.companies.values()))
    return want, live


def test_an_unused_twin_is_deleted_as_planned() -> None:
    fake = FakeCodat()
    want, live = _twins(fake)
    plan = make_plan(want, live, {})
    assert [(c.action, c.company_id, c.cause) for c in plan.changes] == [
        (Action.DELETE, "new", Cause.TWIN)
    ]
    assert Executor(fake, want, live).run(plan).ok
    assert list(fake.companies) == ["old"]


def test_a_twin_used_since_the_plan_is_left_alone() -> None:
    fake = FakeCodat()
    want, live = _twins(fake)
    plan = make_plan(want, live, {})
    # The merchant linked its accounting software on it in the meantime.
    fake.companies["new"]["dataConnections"] = [
        {"id": "x1", "integrationKey": "gbol", "status": "Linked"}
    ]
    result = Executor(fake, want, live).run(plan)
    assert not result.ok and "changed since the plan" in result.failed[0].message
    assert sorted(fake.companies) == ["new", "old"]


def test_a_twin_whose_keeper_is_gone_is_left_alone() -> None:
    fake = FakeCodat()
    want, live = _twins(fake)
    plan = make_plan(want, live, {})
    del fake.companies["old"]  # another process settled the twins the other way
    result = Executor(fake, want, live).run(plan)
    assert not result.ok and "is gone" in result.failed[0].message
    assert list(fake.companies) == ["new"]


def test_a_change_no_api_call_carries_out_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="no API call can authorize a company"):
        Change('merchant["x"]', Action.AUTHORIZE, Kind.COMPANY, "r", "x", company_id="c1")
    with pytest.raises(ValueError, match="no API call can delete a connection"):
        Change(
            'merchant["y"].connection["dfxm"]',
            Action.DELETE,
            Kind.CONNECTION,
            "r",
            "y",
            platform_key="dfxm",
            company_id="c2",
            connection_id="k",
        )


def test_each_operation_is_made_by_exactly_one_kind_of_change() -> None:
    made: list[Operation] = []
    for kind in Kind:
        for action in Action:
            try:
                made.append(Change("a", action, kind, "r", "m").operation)
            except ValueError:
                continue
    assert sorted(made) == sorted(Operation)


def test_a_company_another_apply_resolved_away_is_reported_as_its_twin_without_waiting() -> None:
    want = DesiredState((Merchant("m1", HERE),))
    live = LiveState(())
    time = FakeTime()

    class Raced(FakeCodat):
        def create_company(self, body: dict[str, Any]) -> dict[str, Any]:
            company = super().create_company(body)
            # The other apply made its twin first, then deleted this run's at its end.
            del self.companies[company["id"]]
            self.companies["theirs"] = {
                **company,
                "id": "theirs",
                "created": "2026-01-01Z",
                "tags": {"managed-by": "codat-reconciler"},
            }
            return company

    result = Executor(Raced(), want, live, read_back=time.read_back).run(make_plan(want, live, {}))
    assert [f.message for f in result.failed] == [
        "another apply created this merchant at the same moment; its company theirs stays "
        "and this run's id1 was removed: run apply again to finish"
    ]
    assert time.now == 0  # read by id at once: no wait for a listing that does not lag
