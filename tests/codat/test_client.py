from __future__ import annotations

import base64
import json
import random
from email.utils import formatdate
from time import time

import httpx
import pytest

from reconciler.codat import CodatAPIError, CodatClient, CodatConnectionError, CodatError
from reconciler.codat.errors import QuotaExhausted
from reconciler.codat.retry import BASE_DELAY, MAX_DELAY
from reconciler.errors import ReconcilerError
from tests.codat.fakes import API_KEY, FakeClock, error_json, make_client, scripted

OK = httpx.Response(200, json={"id": "c1", "name": "12345678"})
GONE = httpx.Response(404, json=error_json(404, "No company was found with ID c1"))
LOST = httpx.RemoteProtocolError("Server disconnected without sending a response.")


class TopOfRange(random.Random):
    """Jitter that always picks the upper bound, to check the backoff curve itself."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_every_request_carries_basic_auth_of_the_key() -> None:
    handler, seen = scripted(OK)
    client, _ = make_client(handler)
    client.get_company("c1")
    expected = "Basic " + base64.b64encode(API_KEY.encode()).decode()
    assert seen[0].headers["Authorization"] == expected
    assert seen[0].url == "https://api.codat.io/companies/c1"


def test_no_key_no_authorization_header() -> None:
    handler, seen = scripted(OK)
    client = CodatClient("http://sandbox", transport=httpx.MockTransport(handler))
    client.get_company("c1")
    assert "Authorization" not in seen[0].headers


def test_real_network_obeys_base_url_rules() -> None:
    with pytest.raises(ReconcilerError, match="unencrypted"):
        CodatClient("http://api.codat.io", API_KEY)
    with CodatClient("http://127.0.0.1:9", API_KEY) as client:
        assert "127.0.0.1" in repr(client)


def test_ids_cannot_add_path_segments() -> None:
    handler, seen = scripted(OK)
    client, _ = make_client(handler)
    client.get_company("../apiKeys")
    assert seen[0].url.raw_path == b"/companies/..%2FapiKeys"


def test_list_companies_sends_paging_and_filters() -> None:
    handler, seen = scripted(httpx.Response(200, json={"results": [], "totalResults": 0}))
    client, _ = make_client(handler)
    client.list_companies(3, 2000, query='name="Bolt Bikes"')
    params = seen[0].url.params
    assert (params["page"], params["pageSize"]) == ("3", "2000")
    assert params["query"] == 'name="Bolt Bikes"'


def test_sync_flow_url() -> None:
    handler, seen = scripted(httpx.Response(200, json={"url": "https://sync.example/x?otp=1"}))
    client, _ = make_client(handler)
    url = client.sync_flow_url("lqai", "gbol", "12345678", "https://app.example.com/done")
    assert url == "https://sync.example/x?otp=1"
    assert seen[0].url.path == "/config/sync/commerce/lqai/gbol/start"
    assert seen[0].url.params["merchantIdentifier"] == "12345678"
    assert seen[0].url.params["redirectUrl"] == "https://app.example.com/done"


# -- retries ---------------------------------------------------------------


def test_429_waits_retry_after_seconds_then_succeeds() -> None:
    handler, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}, json=error_json(429, "slow down")), OK
    )
    clock = FakeClock()
    client, calls = make_client(handler, clock)
    assert client.get_company("c1")["id"] == "c1"
    assert len(seen) == 2
    assert clock.sleeps == [pytest.approx(7.0)]
    assert [(c.status, c.attempt) for c in calls] == [(429, 1), (200, 2)]


def test_429_waits_retry_after_http_date() -> None:
    date = formatdate(time() + 9, usegmt=True)
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": date}), OK)
    clock = FakeClock()
    client, _ = make_client(handler, clock)
    client.get_company("c1")
    assert len(clock.sleeps) == 1
    assert 7.0 <= clock.sleeps[0] <= 9.0  # HTTP dates have one-second resolution


def test_429_without_retry_after_backs_off() -> None:
    handler, seen = scripted(httpx.Response(429), OK)
    clock = FakeClock()
    client, _ = make_client(handler, clock, rng=TopOfRange())
    client.get_company("c1")
    assert len(seen) == 2
    assert clock.sleeps == [pytest.approx(BASE_DELAY)]


def test_429_with_an_unreasonable_retry_after_is_reported_not_waited() -> None:
    handler, seen = scripted(httpx.Response(429, headers={"Retry-After": "86400"}), OK, OK)
    clock = FakeClock()
    client, _ = make_client(handler, clock)
    with pytest.raises(QuotaExhausted) as err:
        client.get_company("c1")
    assert err.value.status == 429 and 86_000 < err.value.resume_at - time() <= 86_400
    assert "quota is used up until" in str(err.value) and "run again after" in str(err.value)
    assert len(seen) == 1 and clock.sleeps == []
    # Every later call is refused at once, without a request: the quota is gone for hours.
    with pytest.raises(QuotaExhausted):
        client.get_company("c2")
    assert len(seen) == 1


def test_429_pauses_the_next_operation_too() -> None:
    # The limiter is shared by every thread of the client: a 429 seen by one
    # operation, even one giving up, holds back the others.
    times: list[float] = []
    clock = FakeClock(0.0)

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(clock())
        if request.url.path.endswith("/a"):
            return httpx.Response(429, headers={"Retry-After": "5"})
        return OK

    client, _ = make_client(handler, clock, max_attempts=1)
    with pytest.raises(CodatAPIError):
        client.get_company("a")
    client.get_company("b")
    assert times == [0.0, pytest.approx(5.0)]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    handler, seen = scripted(httpx.Response(status, json=error_json(status, "oops")), OK)
    client, _ = make_client(handler)
    assert client.get_company("c1")["id"] == "c1"
    assert len(seen) == 2


def test_backoff_doubles_up_to_the_cap() -> None:
    handler, seen = scripted(httpx.Response(503))
    clock = FakeClock()
    client, _ = make_client(handler, clock, max_attempts=10, rng=TopOfRange())
    with pytest.raises(CodatAPIError):
        client.get_company("c1")
    assert len(seen) == 10
    expected = [min(MAX_DELAY, BASE_DELAY * 2**i) for i in range(9)]
    assert clock.sleeps == pytest.approx(expected)
    assert clock.sleeps[-1] == MAX_DELAY


def test_backoff_is_jittered_within_bounds() -> None:
    handler, _ = scripted(httpx.Response(500))
    clock = FakeClock()
    client, _ = make_client(handler, clock, max_attempts=6, rng=random.Random(42))
    with pytest.raises(CodatAPIError):
        client.get_company("c1")
    bounds = [min(MAX_DELAY, BASE_DELAY * 2**i) for i in range(5)]
    assert all(0 <= s <= b for s, b in zip(clock.sleeps, bounds, strict=True))
    assert clock.sleeps != pytest.approx(bounds)  # full jitter, not a fixed curve


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("Connection refused"),
        httpx.ReadTimeout("timed out"),
        LOST,
    ],
)
def test_transport_errors_are_retried(exc: Exception) -> None:
    handler, seen = scripted(exc, OK)
    client, calls = make_client(handler)
    assert client.get_company("c1")["id"] == "c1"
    assert len(seen) == 2
    assert calls[0].status is None and calls[0].error


def test_transport_failure_after_all_attempts() -> None:
    handler, seen = scripted(httpx.ConnectError("[Errno 111] Connection refused"))
    client, _ = make_client(handler)
    with pytest.raises(CodatConnectionError) as err:
        client.list_companies(1)
    assert len(seen) == 6
    assert str(err.value).startswith(
        "GET https://api.codat.io/companies?page=1&pageSize=5000 failed after 6 attempts: "
        "could not connect"
    )
    # httpx's exception holds the request, Authorization header included: not chained.
    assert err.value.__cause__ is None and err.value.__context__ is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    handler, seen = scripted(httpx.Response(status, json=error_json(status, "no")), OK)
    client, _ = make_client(handler)
    with pytest.raises(CodatAPIError) as err:
        client.create_company({"name": "x"}, idempotency_key="k1")
    assert len(seen) == 1
    assert err.value.status == status and not err.value.retryable


def test_409_in_flight_is_retried_only_with_an_idempotency_key() -> None:
    in_flight = httpx.Response(409, json=error_json(409, "request in progress"))
    handler, seen = scripted(in_flight, OK)
    client, _ = make_client(handler)
    client.create_company({"name": "x"}, idempotency_key="k1")
    assert len(seen) == 2

    handler, seen = scripted(in_flight, OK)
    client, _ = make_client(handler)
    with pytest.raises(CodatAPIError, match="409 Conflict"):
        client.authorize_connection("c1", "d1", {"apiToken": "t0ken-value"})
    assert len(seen) == 1


# -- idempotency -----------------------------------------------------------


def test_same_idempotency_key_after_a_lost_answer_a_409_or_a_429() -> None:
    handler, seen = scripted(LOST, httpx.Response(409), httpx.Response(429), OK)
    client, _ = make_client(handler)
    client.create_company({"name": "12345678"}, idempotency_key="key-1")
    assert [r.headers["Idempotency-Key"] for r in seen] == ["key-1"] * 4
    assert all(json.loads(r.content) == {"name": "12345678"} for r in seen)


@pytest.mark.parametrize("status", [500, 503])
def test_a_keyed_post_answered_5xx_is_not_retried_and_may_have_applied(status: int) -> None:
    # Codat keeps a 5xx for its key: the same key would only replay it.
    handler, seen = scripted(httpx.Response(status), OK)
    client, _ = make_client(handler)
    with pytest.raises(CodatAPIError) as err:
        client.create_company({"name": "12345678"}, idempotency_key="key-1")
    assert len(seen) == 1
    assert err.value.may_have_applied and not err.value.retryable


def test_a_keyed_post_without_any_answer_may_have_applied() -> None:
    handler, seen = scripted(*[LOST] * 6)
    client, _ = make_client(handler)
    with pytest.raises(CodatConnectionError) as err:
        client.create_company({"name": "12345678"}, idempotency_key="key-1")
    assert len(seen) == 6 and err.value.may_have_applied


def test_a_patch_answered_5xx_is_retried_under_a_new_key() -> None:
    handler, seen = scripted(httpx.Response(500), httpx.Response(503), OK)
    client, _ = make_client(handler)
    client.update_company("c1", {"description": "d"}, idempotency_key="key-1")
    keys = [r.headers["Idempotency-Key"] for r in seen]
    assert keys[0] == "key-1" and len(set(keys)) == 3


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_never_success(status: int) -> None:
    handler, seen = scripted(httpx.Response(status, headers={"Location": "/elsewhere"}))
    client, _ = make_client(handler)
    with pytest.raises(CodatAPIError) as err:
        client.delete_company("c1")
    assert err.value.status == status and len(seen) == 1


@pytest.mark.parametrize("body", [{}, {"id": 7}, {"id": ""}, [1]])
def test_a_create_answered_without_an_id_is_a_clean_error(body: object) -> None:
    handler, _ = scripted(httpx.Response(200, json=body, headers={"x-correlation-id": "c-9"}))
    client, _ = make_client(handler)
    with pytest.raises(CodatError, match=r"POST /companies: .*correlationId: c-9"):
        client.create_company({"name": "12345678"})


def test_every_post_and_patch_carries_a_key() -> None:
    handler, seen = scripted(OK)
    client, _ = make_client(handler)
    client.create_company({"name": "a"}, idempotency_key="k1")
    client.update_company("c1", {"description": "d"}, idempotency_key="k2")
    client.create_connection("c1", "dfxm", idempotency_key="k3")
    client.update_connection("c1", "d1", {"status": "Unlinked"}, idempotency_key="k4")
    keyed = [(r.method, r.headers.get("Idempotency-Key")) for r in seen]
    assert keyed == [("POST", "k1"), ("PATCH", "k2"), ("POST", "k3"), ("PATCH", "k4")]


@pytest.mark.parametrize("method", ["POST", "PATCH", "post"])
def test_post_or_patch_without_a_key_gets_a_fresh_one(method: str) -> None:
    handler, seen = scripted(OK, OK)
    client, _ = make_client(handler)
    client.request(method, "/companies", json={"name": "x"})
    client.request(method, "/companies", json={"name": "x"})
    keys = [r.headers["Idempotency-Key"] for r in seen]
    assert len(set(keys)) == 2 and all(len(k) == 36 for k in keys)


def test_put_and_delete_carry_no_key() -> None:
    handler, seen = scripted(OK, httpx.Response(204))
    client, _ = make_client(handler)
    client.authorize_connection("c1", "d1", {"apiToken": "x"})
    client.delete_company("c1")
    assert [("Idempotency-Key" in r.headers) for r in seen] == [False, False]


# -- delete: a retry answered 404 means the first attempt worked ------------


@pytest.mark.parametrize("first", [LOST, httpx.ReadTimeout("t"), httpx.Response(502)])
def test_delete_404_after_a_possibly_applied_attempt_is_success(
    first: httpx.Response | Exception,
) -> None:
    handler, seen = scripted(first, GONE)
    client, _ = make_client(handler)
    client.delete_company("c1")
    assert len(seen) == 2


def test_delete_404_on_first_attempt_is_an_error() -> None:
    handler, _ = scripted(GONE)
    client, _ = make_client(handler)
    with pytest.raises(CodatAPIError, match="404 Not Found"):
        client.delete_company("c1")


@pytest.mark.parametrize(
    "first", [httpx.ConnectError("refused"), httpx.Response(429, headers={"Retry-After": "0"})]
)
def test_delete_404_after_an_attempt_that_never_applied_is_an_error(
    first: httpx.Response | Exception,
) -> None:
    handler, _ = scripted(first, GONE)
    client, _ = make_client(handler)
    with pytest.raises(CodatAPIError, match="404"):
        client.delete_company("c1")


# -- what users and logs see -------------------------------------------------


def test_error_message_carries_codat_message_validation_and_correlation_id() -> None:
    body = error_json(
        400,
        "The request was invalid",
        correlation="7c1f0e",
        validation={
            "errors": [{"itemId": "name", "message": "must match pattern", "validatorName": "x"}]
        },
    )
    handler, _ = scripted(httpx.Response(400, json=body))
    client, calls = make_client(handler)
    with pytest.raises(CodatAPIError) as err:
        client.create_company({"name": "bad{}"}, idempotency_key="k")
    assert str(err.value) == (
        "POST /companies failed: 400 Bad Request: The request was invalid; "
        "name: must match pattern (correlationId: 7c1f0e)"
    )
    assert err.value.correlation_id == "7c1f0e"
    assert calls[0].correlation_id == "7c1f0e"


def test_error_without_a_json_body() -> None:
    handler, _ = scripted(httpx.Response(401, text="<html>nope</html>"))
    client, _ = make_client(handler)
    with pytest.raises(CodatAPIError) as err:
        client.get_company("c1")
    assert str(err.value) == (
        "GET /companies/c1 failed: 401 Unauthorized. Codat did not accept the API key: check "
        "CODAT_API_KEY or the file given to --api-key-file (the key as Codat's portal shows it)"
    )


def test_no_secret_reaches_errors_or_observer() -> None:
    token = base64.b64encode(API_KEY.encode()).decode()
    secret_value = "merchant-token-5551"
    # A careless server echoing what it got: the key, the header and the values.
    echo = error_json(
        400, f"bad token {secret_value} for Basic {token} ({API_KEY})", correlation="c9"
    )
    handler, _ = scripted(httpx.Response(400, json=echo))
    client, calls = make_client(handler)
    with pytest.raises(CodatAPIError) as err:
        client.authorize_connection("c1", "d1", {"apiToken": secret_value, "storeId": "s1"})
    texts = [str(err.value), repr(err.value), *map(repr, calls), repr(client), str(err.value.args)]
    for text in texts:
        for secret in (API_KEY, token, secret_value, "Authorization"):
            assert secret not in text
    assert "(correlationId: c9)" in str(err.value)

    handler, _ = scripted(httpx.ConnectError(f"boom {API_KEY}"))
    client, calls = make_client(handler, max_attempts=2)
    with pytest.raises(CodatConnectionError) as conn_err:
        client.get_company("c1")
    assert API_KEY not in str(conn_err.value) + repr(conn_err.value) + repr(calls)


def test_observer_sees_each_attempt() -> None:
    handler, _ = scripted(
        httpx.Response(503, json=error_json(503, "maintenance", correlation="a1")),
        httpx.Response(200, json={"id": "c1"}, headers={"X-Correlation-Id": "a2"}),
    )
    clock = FakeClock()
    client, calls = make_client(handler, clock)
    client.get_company("c1")
    assert [(c.method, c.path, c.status, c.attempt, c.correlation_id) for c in calls] == [
        ("GET", "/companies/c1", 503, 1, "a1"),
        ("GET", "/companies/c1", 200, 2, "a2"),
    ]
    assert calls[0].error == "maintenance" and calls[1].error is None


def test_success_without_json_object_is_an_error() -> None:
    handler, _ = scripted(httpx.Response(200, text="[]"))
    client, _ = make_client(handler)
    with pytest.raises(ReconcilerError, match="without a JSON object"):
        client.get_company("c1")
