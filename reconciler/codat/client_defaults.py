"""What a new Codat client starts with: its sync settings, the sync flow's text, its accounts.

Sources (codatio/codat-docs):
- sync settings: docs/integrations/commerce/commerce-sync-settings.md has Sync for
  Commerce users switch "Fetch on first link" on for the commerce data types by
  hand, so a new client's commerce data types start with it off; the data types
  are the `commerce-*` values of the Platform spec's `dataType` enum.
- sync flow text and accounts: docs/commerce/build/customizing-the-sync-configuration-flow.md
  lists every text key with its default (English) value, and every account key,
  with the ones that "cannot be removed" (always visible).
"""

from __future__ import annotations

from typing import Any

COMMERCE_DATA_TYPES = (
    "commerce-companyInfo",
    "commerce-customers",
    "commerce-disputes",
    "commerce-locations",
    "commerce-orders",
    "commerce-paymentMethods",
    "commerce-payments",
    "commerce-productCategories",
    "commerce-products",
    "commerce-taxComponents",
    "commerce-transactions",
)
# The rest of the Platform spec's `dataType` enum: a client may set them too.
OTHER_DATA_TYPES = (
    "accountTransactions", "balanceSheet", "bankAccounts", "bankTransactions",
    "billCreditNotes", "billPayments", "bills", "cashFlowStatement", "chartOfAccounts",
    "company", "creditNotes", "customers", "directCosts", "directIncomes", "invoices",
    "itemReceipts", "items", "journalEntries", "journals", "paymentMethods", "payments",
    "profitAndLoss", "purchaseOrders", "salesOrders", "suppliers", "taxRates",
    "trackingCategories", "transfers", "banking-accountBalances", "banking-accounts",
    "banking-transactionCategories", "banking-transactions",
)  # fmt: skip
DATA_TYPES = frozenset(COMMERCE_DATA_TYPES + OTHER_DATA_TYPES)

# The spec's own example refresh interval, in hours.
_SYNC_SCHEDULE_HOURS = 24


def sync_settings(client_id: str) -> dict[str, Any]:
    """`SyncSettings` of a client that has changed nothing yet."""
    settings = [
        {
            "dataType": data_type,
            "fetchOnFirstLink": False,
            "syncSchedule": _SYNC_SCHEDULE_HOURS,
            "syncOrder": order,
            "isLocked": False,
        }
        for order, data_type in enumerate(COMMERCE_DATA_TYPES)
    ]
    return {"clientId": client_id, "settings": settings, "overridesDefaults": False}


LOCALES = ("en-us", "fr-fr")  # the spec's `locale` enum

# key -> (en-us, fr-fr) default; None where the docs say "no value by default".
# `{platform}`-style placeholders are filled in by the flow, as in Codat's defaults.
_TEXT: dict[str, tuple[str | None, str | None]] = {
    "configure-setupSidebar-title": (
        "Set up Sync to {platform name}",
        "Configurer la synchronisation vers {platform name}",
    ),
    "configure-setupSidebar-checkboxes-connectToCommerce": (
        "Connect to {commerce platform name}",
        "Se connecter à {commerce platform name}",
    ),
    "configure-setupSidebar-checkboxes-connectToAccounting": (
        "Connect to {accounting platform name}",
        "Se connecter à {accounting platform name}",
    ),
    "configure-setupSidebar-checkboxes-sales": ("Set up sales", "Configurer les ventes"),
    "configure-setupSidebar-checkboxes-fees": ("Set up fees", "Configurer les frais"),
    "configure-setupSidebar-checkboxes-payments": ("Set up payments", "Configurer les paiements"),
    # The docs print this key with an "=" after "setupSidebar", a typo beside its siblings.
    "configure-setupSidebar-checkboxes-syncSchedule": (
        "Set up sync schedule",
        "Configurer la fréquence de synchronisation",
    ),
    "configure-misc-previousButton": ("Previous", "Précédent"),
    "configure-misc-nextButton": ("Next", "Suivant"),
    "configure-required-indicator": ("Indicates a required field", "Indique un champ obligatoire"),
    "configure-content-sales-title": ("Sales", "Ventes"),
    "configure-content-sales-description": (None, None),
    "configure-content-sales-accounts-title": ("Accounts", "Comptes"),
    "configure-content-sales-accounts-description": (
        "Configure accounts mapping from {commerce platform name} to {accounting platform name}.",
        "Associez les comptes de {commerce platform name} à ceux de {accounting platform name}.",
    ),
    "configure-content-sales-taxRates-title": ("Tax rates", "Taux de taxe"),
    "configure-content-sales-taxRates-description": (
        "Configure tax rates mapping from {commerce platform name} to {accounting platform name}.",
        "Associez les taux de taxe de {commerce platform name} à ceux de "
        "{accounting platform name}.",
    ),
    "configure-content-sales-other-title": ("Other", "Autre"),
    "configure-content-sales-other-description": (None, None),
    "configure-content-sales-accounts-entries-sales": ("Sales", "Ventes"),
    "configure-content-sales-accounts-entries-refund": ("Refunds", "Remboursements"),
    "configure-content-sales-accounts-entries-gratuity": ("Gratuity", "Pourboires"),
    "configure-content-sales-accounts-entries-prepaid": ("Prepaid", "Prépayé"),
    "configure-content-sales-accounts-entries-sales-other": ("Other sales", "Autres ventes"),
    "configure-content-sales-accounts-taxRates-entries-0": ("0% tax rate", "Taux de taxe 0 %"),
    "configure-content-sales-accounts-taxRates-entries-10": ("5% tax rate", "Taux de taxe 5 %"),
    "configure-content-sales-accounts-taxRates-entries-15": ("10% tax rate", "Taux de taxe 10 %"),
    "configure-content-sales-accounts-taxRates-entries-20": ("20% tax rate", "Taux de taxe 20 %"),
    "configure-content-sales-other-entries-invoiceStatus": ("Invoice status", "Statut de facture"),
    "configure-content-sales-other-entries-groupingPeriod": (
        "Grouping period",
        "Période de regroupement",
    ),
    "configure-content-fees-title": ("Fees", "Frais"),
    "configure-content-fees-description": (None, None),
    "configure-content-fees-accounts-title": ("Accounts", "Comptes"),
    "configure-content-fees-accounts-description": (
        "Configure accounts mapping from {commerce platform name} to {accounting platform name}.",
        "Associez les comptes de {commerce platform name} à ceux de {accounting platform name}.",
    ),
    "configure-content-fees-accounts-entries-paymentFee": ("Payment fee", "Frais de paiement"),
    "configure-content-fees-accounts-entries-paymentFeeRefund": (
        "Payment fee refund",
        "Remboursement des frais de paiement",
    ),
    "configure-content-fees-accounts-entries-loan": ("Loan", "Prêt"),
    "configure-content-fees-accounts-entries-loanPayment": (
        "Loan payment",
        "Remboursement de prêt",
    ),
    "configure-content-fees-accounts-entries-loanFee": ("Loan fee", "Frais de prêt"),
    "configure-content-fees-accounts-entries-cashback": ("Cashback", "Remise en argent"),
    "configure-content-payments-title": ("Payments", "Paiements"),
    "configure-content-payments-description": (None, None),
    "configure-content-payments-accounts-entries-card": ("Card", "Carte"),
    "configure-content-payments-accounts-entries-cash": ("Cash", "Espèces"),
    "configure-content-payments-accounts-entries-invoice": ("Invoice", "Facture"),
    "configure-content-payments-accounts-entries-onlineCard": ("Online card", "Carte en ligne"),
    "configure-content-payments-accounts-entries-payout": ("Payout", "Versement"),
    "configure-content-payments-accounts-entries-custom": ("Custom", "Personnalisé"),
    "configure-content-payments-accounts-entries-storeCredit": ("Store credit", "Avoir"),
    "configure-content-payments-accounts-entries-paypal": ("Paypal", "Paypal"),
    "configure-content-payments-accounts-entries-paypalQr": ("Paypal qr", "Paypal QR"),
    "configure-content-payments-accounts-entries-mobile": ("Mobile", "Mobile"),
    "configure-content-payments-accounts-entries-vipps": ("Vipps", "Vipps"),
    "configure-content-payments-accounts-entries-swish": ("Swish", "Swish"),
    "configure-content-payments-accounts-entries-prepaidPayment": (
        "Prepaid payment",
        "Paiement prépayé",
    ),
    "configure-content-payments-accounts-entries-manual": ("Manual", "Manuel"),
}
TEXT_KEYS = tuple(_TEXT)


def default_text(locale: str) -> dict[str, str | None]:
    """Every text key of the sync flow with Codat's default for `locale` (one of LOCALES)."""
    column = LOCALES.index(locale)
    return {key: values[column] for key, values in _TEXT.items()}


# Every account key, in the docs' order; True for the ones that cannot be hidden.
ACCOUNTS: dict[str, bool] = {
    "sales-accounts-sales": True,
    "sales-accounts-refund": True,
    "sales-accounts-gratuity": False,
    "sales-accounts-prepaid": False,
    "sales-taxRates-0": True,
    "sales-taxRates-5": True,
    "sales-taxRates-10": True,
    "sales-taxRates-20": True,
    "sales-other-invoiceStatus": True,
    "sales-other-groupingPeriod": True,
    "fees-accounts-paymentFee": False,
    "fees-accounts-paymentFeeRefund": False,
    "fees-accounts-loan": False,
    "fees-accounts-loanPayment": False,
    "fees-accounts-loanFee": False,
    "fees-accounts-cashback": False,
    "payments-accounts-card": True,
    "payments-accounts-cash": False,
    "payments-accounts-invoice": False,
    "payments-accounts-onlineCard": False,
    "payments-accounts-payout": False,
    "payments-accounts-custom": False,
    "payments-accounts-storeCredit": False,
    "payments-accounts-paypal": False,
    "payments-accounts-paypalQr": False,
    "payments-accounts-mobile": False,
    "payments-accounts-vipps": False,
    "payments-accounts-swish": False,
    "payments-accounts-prepaidPayment": False,
    "payments-accounts-manual": False,
}


def visible_accounts(chosen: list[str] | None) -> list[str]:
    """The accounts the flow shows: every one by default (None), else those chosen plus
    the ones that cannot be hidden, in the catalogue's order."""
    if chosen is None:
        return list(ACCOUNTS)
    keep = set(chosen)
    return [key for key, required in ACCOUNTS.items() if required or key in keep]
