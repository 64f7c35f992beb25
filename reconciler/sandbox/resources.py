"""Company, connection and integration bodies shaped as Codat's specs describe them.

Bodies are built once, stored as JSON text and served as stored, so listing
thousands of companies never re-serialises them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Platform keys from Codat's integration docs, plus `lqai` (a commerce platform) and
# `dfxm` (a partner's own connector), which the example manifests use. A
# platformKey outside the configured set is refused. sourceType is the spec's
# enum; dfxm and keys added with `--integration` are "Other": what matters is
# that they are not Accounting.
DEFAULT_INTEGRATIONS: dict[str, tuple[str, str]] = {
    "qudb": ("Exact (NL)", "Accounting"),
    "pbbf": ("Exact (UK)", "Accounting"),
    "fbrh": ("FreeAgent", "Accounting"),
    "pdvj": ("MYOB Business", "Accounting"),
    "tgff": ("Sage Business Cloud", "Accounting"),
    "qhyg": ("QuickBooks Online", "Accounting"),
    "gbol": ("Xero", "Accounting"),
    "fqly": ("Clover", "Commerce"),
    "ldgh": ("Lightspeed K", "Commerce"),
    "fztf": ("Shopify", "Commerce"),
    "ugxp": ("Zettle", "Commerce"),
    "lqai": ("Commerce platform lqai", "Commerce"),
    "dfxm": ("Partner connector dfxm", "Other"),
}

STATUSES = ("PendingAuth", "Linked", "Unlinked", "Deauthorized")
_NAMESPACE = uuid.UUID("5b0f3a52-61a4-4c8e-9d0e-2f3a4c5d6e7f")


@dataclass(frozen=True, slots=True)
class Integration:
    key: str
    name: str
    source_type: str
    enabled: bool = True

    @property
    def integration_id(self) -> str:
        # Stable per key, as Codat's integrationId is for a platform.
        return str(uuid.uuid5(_NAMESPACE, "integration:" + self.key))

    @property
    def source_id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, "source:" + self.key))

    @property
    def accounting(self) -> bool:
        """Codat allows one active connection of this kind per company."""
        return self.source_type == "Accounting"

    def body(self) -> dict[str, Any]:
        """`Integration` of the Platform spec (`datatypeFeatures` left out: it is optional)."""
        return {
            "key": self.key,
            "logoUrl": f"https://static.codat.io/public/officialLogos/Full/{self.integration_id}.png",
            "name": self.name,
            "enabled": self.enabled,
            "sourceId": self.source_id,
            "sourceType": self.source_type,
            "integrationId": self.integration_id,
            "isOfflineConnector": False,
            "isBeta": False,
            "dataProvidedBy": "Codat",
        }

    def branding(self) -> dict[str, Any]:
        """`Branding` of the Sync for Commerce spec: logos and sync-flow buttons."""

        def image(kind: str, shape: str, alt: str) -> dict[str, Any]:
            src = f"https://static.codat.io/public/{kind}/{shape}/{self.integration_id}.png"
            return {"image": {"src": src, "alt": f"{self.name} {alt}"}}

        return {
            "logo": {
                "full": image("officialLogos", "Full", "full icon"),
                "square": image("officialLogos", "Square", "square icon"),
            },
            "button": {
                "default": image("officialButtons", "Full", "default button icon"),
                "hover": image("officialButtons", "Hover", "hover button icon"),
            },
            "sourceId": self.source_id,
        }


class IntegrationCatalogue:
    """The platform keys this sandbox knows, and which of them are enabled."""

    def __init__(self, keys: Iterable[str] | None = None, disabled: Iterable[str] = ()) -> None:
        chosen = list(DEFAULT_INTEGRATIONS) if keys is None else list(keys)
        off = set(disabled)
        unknown = sorted(off - set(chosen))
        if unknown:
            raise ValueError(f"cannot disable unknown integrations: {', '.join(unknown)}")
        self._by_key = {
            key: Integration(
                key,
                *DEFAULT_INTEGRATIONS.get(key, (f"Integration {key}", "Other")),
                enabled=key not in off,
            )
            for key in sorted(chosen)
        }

    def get(self, key: str) -> Integration | None:
        return self._by_key.get(key)

    def keys(self) -> list[str]:
        return list(self._by_key)

    def all(self) -> list[Integration]:
        """Every integration, ordered by key."""
        return list(self._by_key.values())


def company_body(
    company_id: str,
    name: str,
    description: str | None,
    tags: Mapping[str, str],
    created: str,
) -> dict[str, Any]:
    """A company without `dataConnections`: those are joined in when served."""
    return {
        "id": company_id,
        "name": name,
        "description": description,
        "redirect": f"https://link.codat.io/company/{company_id}",
        "lastSync": None,
        "created": created,
        "createdByUserName": "Codat Sandbox",
        "products": [],
        "tags": dict(tags),
    }


def connection_body(
    connection_id: str, company_id: str, integration: Integration, status: str, created: str
) -> dict[str, Any]:
    # Exactly the Connection schema's properties: it has additionalProperties: false.
    return {
        "id": connection_id,
        "integrationId": integration.integration_id,
        "integrationKey": integration.key,
        "sourceId": integration.source_id,
        "sourceType": integration.source_type,
        "platformName": integration.name,
        "linkUrl": (
            f"https://link-api.codat.io/companies/{company_id}/connections/{connection_id}/start"
        ),
        "status": status,
        "created": created,
        "lastSync": None,
        "dataConnectionErrors": [],
        "connectionInfo": None,
    }


def with_connections(company_json: str, connection_jsons: Iterable[str]) -> str:
    """Splice stored connection bodies into a stored company body, as text."""
    return company_json[:-1] + ',"dataConnections":[' + ",".join(connection_jsons) + "]}"
