"""Creating companies and connections so that no merchant is ever made twice.

Codat has no unique name constraint and keeps the first answer to an
Idempotency-Key, a 5xx included, for 90 minutes. So:

- Every creation is sent under a fresh key; the client repeats it only where
  a repeat is replayed rather than redone (a lost answer, 409, 429).
- A 5xx or no answer at all is *ambiguous*: the change may exist. It is read
  back (companies by name, a company's connections) and, when found, taken as
  done; when not, sent again under a new key. A transient failure before or
  after the change costs a read, never a twin, and never blocks the merchant.
  A listing may lag its writes by seconds while a read by id does not, so a
  company not found by name is looked for again, for a bounded time
  (`ReadBack.wait`), before it is sent again.
- Two applies started at different moments both create what their reads
  missed. After an apply created companies it reads them once more (by name
  when that takes fewer calls than the whole listing)
  and resolves twins by one rule every process computes alike from the same
  data: of the managed companies with one name that neither read had seen, the
  earliest `created` (then the smallest id) stays and the others are deleted.
  Whichever process looks last (it always sees both) does the deleting; the
  rule never depends on two clocks agreeing, only on both reading the same values.
  A company this run created that the listing does not show is read by id (which
  does not lag): gone, another process resolved it away (or someone deleted it);
  there, the listing is read again until it shows it (bounded), and a twin the
  lag still hides is left to the next plan, which settles the tool's unused twins
  (plan/twins.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from reconciler.codat.answers import CompaniesPage
from reconciler.codat.client import PAGE_SIZE
from reconciler.codat.errors import CodatAPIError, CodatError
from reconciler.errors import ReconcilerError
from reconciler.live.model import LiveCompany, parse_timestamp
from reconciler.live.reader import read_live_state

# Sends of one creation (each under a new key) before giving up.
CREATE_ROUNDS = 3
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReadBack:
    """How long a company not found in the listing is looked for again before it is
    taken as not there: longer than the lag a listing shows under load (seconds)."""

    wait: float = 5.0
    interval: float = 0.5
    sleep: Callable[[float], None] = field(default=time.sleep)
    clock: Callable[[], float] = field(default=time.monotonic)

    def until(self, found: Callable[[], bool]) -> bool:
        """Ask `found` until it is true or `wait` is over; its last answer."""
        deadline = self.clock() + self.wait
        while not found():
            left = deadline - self.clock()
            if left <= 0:
                return False
            self.sleep(min(self.interval, left))
        return True


READ_BACK = ReadBack()


class CreationCalls(Protocol):
    def list_companies(
        self, page: int, page_size: int = ..., *, query: str | None = ...
    ) -> CompaniesPage: ...
    def get_company(self, company_id: str) -> dict[str, Any]: ...
    def delete_company(self, company_id: str) -> None: ...


class ChangeFailed(ReconcilerError):
    pass


def create_once(post: Callable[[], dict[str, Any]], find: Callable[[], str | None]) -> str:
    """POST until Codat confirms, reading back after every ambiguous answer; the new id."""
    failure: CodatError | None = None
    for _ in range(CREATE_ROUNDS):
        try:
            return str(post()["id"])
        except CodatError as exc:
            if not exc.may_have_applied:
                raise
            failure = exc
        found = find()
        if found is not None:
            return found
    raise ChangeFailed(
        f"{failure}; read back {CREATE_ROUNDS} times, it was not created: run apply again"
    )


def company_named(
    client: CreationCalls, name: str, known: set[str], read_back: ReadBack = READ_BACK
) -> str | None:
    """The managed company called `name` that the live read had not seen, if any,
    looked for until the listing shows it or `read_back.wait` is over."""
    found: list[LiveCompany] = []

    def listed() -> bool:
        found[:] = _fresh_named(client, name, known)
        return bool(found)

    read_back.until(listed)
    return _winner(found).id if found else None


def _fresh_named(client: CreationCalls, name: str, known: set[str]) -> list[LiveCompany]:
    """Managed companies called `name` that the live read had not seen."""
    # Names cannot hold a double quote (Codat's name rule), so quoting is safe.
    page = client.list_companies(1, PAGE_SIZE, query=f'name="{name}"')
    named = [LiveCompany.from_api(c) for c in page.results if c.get("name") == name]
    return [c for c in named if c.managed and c.id not in known]


def connection_of(
    client: CreationCalls, company_id: str, platform_key: str, known: set[str]
) -> str | None:
    """A connection with `platform_key` on the company that the live read had not seen."""
    company = LiveCompany.from_api(client.get_company(company_id))
    for connection in company.connections:
        if (
            connection.platform_key == platform_key
            and connection.id not in known
            and not connection.status_is("Unlinked")
        ):
            return connection.id
    return None


@dataclass(frozen=True, slots=True)
class Superseded:
    """A merchant this run created whose company is not the one that stays."""

    name: str
    message: str


def resolve_twins(
    client: CreationCalls,
    created: dict[str, str],
    known: set[str],
    listed: int,
    read_back: ReadBack = READ_BACK,
) -> list[Superseded]:
    """Read the companies once more; delete twins of what this run created (module doc).

    `listed`: how many companies the plan's read found. A run that created fewer
    companies than the full listing has pages reads them by name instead."""
    pages = math.ceil((listed + len(created)) / PAGE_SIZE) + 1
    if len(created) <= pages:
        by_name = {name: _fresh_named(client, name, known) for name in created}
    else:
        by_name = {name: [] for name in created}
        for company in read_live_state(client).companies:
            if company.name in by_name and company.managed and company.id not in known:
                by_name[company.name].append(company)
    superseded = []
    for name, mine in sorted(created.items()):
        twins = by_name[name]
        if mine not in {c.id for c in twins}:
            if not _exists(client, mine):  # read by id: no lag, so truly gone
                if not twins:
                    superseded.append(
                        Superseded(
                            name,
                            f"company {mine} was created, but Codat "
                            "no longer has it (deleted meanwhile): run "
                            "apply again",
                        )
                    )
                    continue
            else:
                twins = _listed_later(client, name, mine, known, read_back)
                if mine not in {c.id for c in twins}:
                    continue  # created; twins the listing does not show yet are the next plan's
        winner = _winner(twins)
        _delete_all(client, (c.id for c in twins if c.id != winner.id))
        if winner.id != mine:
            superseded.append(
                Superseded(
                    name,
                    f"another apply created this merchant at the same moment; its company "
                    f"{winner.id} stays and this run's {mine} was removed: run apply again "
                    "to finish",
                )
            )
    return superseded


def _exists(client: CreationCalls, company_id: str) -> bool:
    try:
        client.get_company(company_id)
    except CodatAPIError as err:
        if err.status == 404:
            return False
        raise
    return True


def _listed_later(
    client: CreationCalls, name: str, mine: str, known: set[str], read_back: ReadBack
) -> list[LiveCompany]:
    """The fresh companies called `name`, read until the listing shows `mine` (which
    exists) or `read_back.wait` is over."""
    found: list[LiveCompany] = []

    def shows_mine() -> bool:
        found[:] = _fresh_named(client, name, known)
        return mine in {c.id for c in found}

    read_back.until(shows_mine)
    return found


def _winner(twins: list[LiveCompany]) -> LiveCompany:
    return min(twins, key=lambda c: (parse_timestamp(c.created) or _NEVER, c.id))


def _delete_all(client: CreationCalls, ids: Iterable[str]) -> None:
    for company_id in ids:
        try:
            client.delete_company(company_id)
        except CodatAPIError as err:
            if err.status != 404:  # another process resolving the same twins got there first
                raise
