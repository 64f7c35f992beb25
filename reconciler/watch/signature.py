"""Is a delivery Codat's, and new? Svix signatures, checked by the `svix` library.

svix checks the HMAC over `svix-id.svix-timestamp.body` with the `whsec_`
secret, and refuses timestamps more than 5 minutes off (a captured delivery
cannot be sent again later). Within those 5 minutes a replay is caught here:
the ids of verified deliveries are remembered (a bounded, least-recently-seen
set: 100k covers several minutes at any rate Codat sends, beyond the 5 minutes
a replay has; an id forgotten by the time Codat sends it again hours later is
taken as new, which costs one reconcile that finds nothing to do). Only verified
ids are remembered, so forged deliveries cannot push real ones out.

A seen id comes back two ways, told apart by the signed timestamp:
- the very same delivery (same timestamp): a replay by whoever captured it.
  Unverified, 401.
- a fresh signature over the same id: Codat itself sending the message again.
  Svix signs each attempt anew and keeps the id; it retries for 28 hours when
  our 200 was lost, and the Portal's "Resend" does the same. Duplicate: the
  endpoint acknowledges it (a 4xx would keep Codat retrying) and does nothing,
  the first delivery having been taken already.
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


class Duplicate(Exception):
    """Codat sending again a message already taken: acknowledge it, do nothing."""


class DeliveryVerifier:
    def __init__(self, secret: str, seen_limit: int = SEEN_LIMIT) -> None:
        webhooks = require("svix.webhooks")
        # Never echo the secret, not even a part of it.
        problem = (
            "CODAT_WEBHOOK_SECRET is not a webhook signing secret: give the whsec_... "
            "secret of the Codat webhook consumer"
        )
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
            self._webhook = webhooks.Webhook(secret)
        except Exception:
            raise ReconcilerError(problem) from None
        if not secret.startswith("whsec_") or not key:
            raise ReconcilerError(problem)
        self._failure = webhooks.WebhookVerificationError
        self._seen: OrderedDict[str, set[str]] = OrderedDict()  # id: timestamps signed
        self._limit = seen_limit
        self._lock = threading.Lock()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raises Unverified unless `body` is signed with our secret and not a replay,
        Duplicate if Codat sent this message before."""
        try:
            self._webhook.verify(body, dict(headers))
        except self._failure as err:
            raise Unverified(str(err) or "bad signature") from None
        message_id, stamp = headers["svix-id"], headers["svix-timestamp"]
        with self._lock:
            stamps = self._seen.get(message_id)
            if stamps is None:
                self._seen[message_id] = {stamp}
                if len(self._seen) > self._limit:
                    self._seen.popitem(last=False)
                return
            self._seen.move_to_end(message_id)
            if stamp in stamps:
                raise Unverified("replay of a delivery already taken")
            stamps.add(stamp)
        raise Duplicate("sent again by Codat, already taken: nothing done")
