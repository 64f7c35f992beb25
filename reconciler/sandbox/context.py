"""What every endpoint handler is given, and the lookup they all start with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.clock import Clock
from reconciler.sandbox.messages import ApiError, SandboxRequest, SandboxResponse
from reconciler.sandbox.resources import IntegrationCatalogue
from reconciler.sandbox.store import Tx
from reconciler.sandbox.webhooks import Publisher


@dataclass(frozen=True, slots=True)
class Context:
    """What handlers need from the app's configuration."""

    clock: Clock
    integrations: IntegrationCatalogue
    max_page_size: int | None
    client_id: str
    webhooks: Publisher


Handler = Callable[[Context, Tx, SandboxRequest], SandboxResponse]


def company_or_404(tx: Tx, company_id: str) -> dict[str, Any]:
    company = tx.company(company_id)
    if company is None:
        raise ApiError(404, f"No company was found with ID {company_id}")
    return company
