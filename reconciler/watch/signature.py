"""Is a delivery Codat's, and new? Svix signatures, checked by the `svix` library.

svix checks the HMAC over `svix-id.svix-timestamp.body` with the `whsec_`
secret, and refuses timestamps more than 5 minutes off (a captured delivery
cannot be sent again later). Within those 5 minutes a replay is caught here:
the ids of verified deliveries are remembered (a bounded, least-recently-seen
set: ids older than the tolerance are useless to an attacker anyway, and 100k
covers several minutes at any rate Codat sends). Only verified ids are
remembered, so forged deliveries cannot push real ones out.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from collections.abc import Mapping

from reconciler.errors import ReconcilerError
from reconciler.watch.extra import require

SEEN_LIMIT = 100_000
HEADERS = ("svix-id", "svix-timestamp", "svix-signature")


class Unverified(Exception):
    """Not signed by Codat with our secret, stale, or a replay: the reason, for the log."""


class DeliveryVerifier:
    def __init__(self, secret: str, seen_limit: int = SEEN_LIMIT) -> None:
        webhooks = require("svix.webhooks")
        # Never echo the secret, not even a part of it.
        problem = ("CODAT_WEBHOOK_SECRET is not a webhook signing secret: give the whsec_... "
                   "secret of the Codat webhook consumer")
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
            self._webhook = webhooks.Webhook(secret)
        except Exception:
            raise ReconcilerError(problem) from None
        if not secret.startswith("whsec_") or not key:
            raise ReconcilerError(problem)
        self._failure = webhooks.WebhookVerificationError
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._limit = seen_limit
        self._lock = threading.Lock()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raises Unverified unless `body` is a new delivery signed with our secret."""
        try:
            self._webhook.verify(body, dict(headers))
        except self._failure as err:
            raise Unverified(str(err) or "bad signature") from None
        message_id = headers["svix-id"]
        with self._lock:
            if message_id in self._seen:
                self._seen.move_to_end(message_id)
                raise Unverified("replay of a delivery already taken")
            self._seen[message_id] = None
            if len(self._seen) > self._limit:
                self._seen.popitem(last=False)
