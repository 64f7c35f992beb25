"""A fresh sync flow URL for a declared merchant.

The URL carries a one-time code that expires 30 seconds after it is issued:
request it when a person is about to be redirected, never store it.
"""

from __future__ import annotations

from reconciler.codat.client import CodatClient
from reconciler.engine.planning import read_live
from reconciler.engine.progress import SILENT, Progress
from reconciler.errors import ReconcilerError
from reconciler.manifests.model import DesiredState
from reconciler.plan.matching import CompanyMatcher


def sync_flow_url(
    client: CodatClient, desired: DesiredState, merchant_name: str, progress: Progress = SILENT
) -> str:
    merchant = next((m for m in desired.merchants if m.name == merchant_name), None)
    if merchant is None:
        raise ReconcilerError(f'merchant "{merchant_name}" is not declared in the manifests')
    flow = merchant.sync_flow
    missing = [
        k
        for k, v in (("commerceKey", flow.commerce_key), ("accountingKey", flow.accounting_key))
        if not v
    ]
    if missing or not flow.commerce_key or not flow.accounting_key:
        raise ReconcilerError(
            f'{merchant.location}: merchant "{merchant_name}" has no syncFlow '
            f"{' or '.join(missing)}; declare it on the merchant or in its file's defaults"
        )
    live = read_live(client, progress)
    # The planner's own rules: the pinned company, else the one named so that no
    # other merchant pins.
    match = CompanyMatcher(desired.merchants, live).match(merchant)
    if match.conflict is not None:
        raise ReconcilerError(f'merchant "{merchant_name}": {match.conflict}')
    if match.company is None:
        raise ReconcilerError(
            f'merchant "{merchant_name}" does not exist in Codat yet: run apply first'
        )
    return client.sync_flow_url(
        flow.commerce_key, flow.accounting_key, match.company.id, flow.redirect_url
    )
