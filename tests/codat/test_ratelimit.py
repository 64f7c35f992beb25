from __future__ import annotations

import threading

import pytest

from reconciler.codat.headers import Quota
from reconciler.codat.ratelimit import MAX_SPACING, NOTABLE_WAIT, RequestPacer
from tests.codat.fakes import FakeClock


def pacer(max_rate: int, clock: FakeClock, margin: float = 0.5) -> RequestPacer:
    return RequestPacer(max_rate, window=60.0, margin=margin, clock=clock, sleep=clock.sleep)


def test_sliding_window_sixth_start_waits_for_first_to_leave_plus_margin() -> None:
    clock = FakeClock(0.0)
    rl = pacer(5, clock)
    starts = []
    for _ in range(5):
        rl.acquire()
        starts.append(clock.now)
        clock.now += 1.0  # starts at 0, 1, 2, 3, 4
    assert clock.sleeps == []
    rl.acquire()  # at t=5: must wait until 0 + 60 + 0.5
    assert clock.now == pytest.approx(60.5)
    rl.acquire()  # the second start (t=1) leaves at 61.5
    assert clock.now == pytest.approx(61.5)
    assert starts == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_long_wait_is_told_before_it_begins_a_short_one_is_not() -> None:
    clock = FakeClock(0.0)
    rl = pacer(0, clock)
    told: list[float] = []
    rl.pause(NOTABLE_WAIT - 1)
    rl.acquire(told.append)
    assert told == [] and clock.now == pytest.approx(NOTABLE_WAIT - 1)
    rl.pause(55.0)
    rl.acquire(told.append)
    assert told == [pytest.approx(55.0)] and clock.sleeps[-1] == pytest.approx(55.0)


def test_window_is_sliding_not_fixed() -> None:
    clock = FakeClock(0.0)
    rl = pacer(3, clock, margin=0.0)
    for t in (0.0, 50.0, 59.0):
        clock.now = t
        rl.acquire()
    clock.now = 60.0
    assert rl.delay_for(60.0) == pytest.approx(0.0)  # t=0 has just left
    rl.acquire()
    assert rl.delay_for(60.0) == pytest.approx(50.0)  # next frees when t=50 leaves


def test_zero_means_unlimited() -> None:
    clock = FakeClock(0.0)
    rl = pacer(0, clock)
    for _ in range(10_000):
        rl.acquire()
    assert clock.sleeps == []


def test_burst_then_next_batch_a_window_later() -> None:
    # The benchmark shape: 3 x max_rate starts take two windows, not more.
    clock = FakeClock(0.0)
    rl = pacer(1000, clock)
    times = []
    for _ in range(3000):
        rl.acquire()
        times.append(clock.now)
    assert times[999] == 0.0
    assert times[1000] == pytest.approx(60.5)
    assert times[2999] == pytest.approx(121.0)


def test_retry_after_pause_applies_to_every_thread() -> None:
    clock = FakeClock(0.0)
    rl = pacer(0, clock)
    rl.pause(30.0)  # as one thread does on a 429
    started: list[float] = []

    def worker() -> None:
        rl.acquire()
        started.append(clock())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(started) == 4
    assert min(started) >= 30.0


def test_pause_never_shortens_a_longer_one() -> None:
    clock = FakeClock(0.0)
    rl = pacer(0, clock)
    rl.pause_until(20.0)
    rl.pause_until(5.0)
    assert rl.delay_for(0.0) == pytest.approx(20.0)


def test_low_server_remaining_spreads_requests_until_reset() -> None:
    clock = FakeClock(0.0)
    rl = pacer(1000, clock)
    rl.acquire()
    # Another client shares the quota: the server has 5 left of 100 for 20 s.
    rl.observe(Quota(limit=100, remaining=5, reset_in=20.0), now=0.0)
    assert rl.delay_for(0.0) == pytest.approx(4.0)
    rl.acquire()
    assert clock.now == pytest.approx(4.0)
    # Once the server's reset passes, spacing stops.
    clock.now = 25.0
    assert rl.delay_for(25.0) <= 0


def test_spacing_is_capped_for_far_resets() -> None:
    clock = FakeClock(0.0)
    rl = pacer(0, clock)
    rl.acquire()
    rl.observe(Quota(limit=10_000, remaining=10, reset_in=36_000.0), now=0.0)
    assert rl.delay_for(0.0) == pytest.approx(MAX_SPACING)


def test_server_remaining_zero_pauses_until_reset() -> None:
    clock = FakeClock(0.0)
    rl = pacer(0, clock)
    rl.observe(Quota(limit=100, remaining=0, reset_in=12.0), now=0.0)
    assert rl.delay_for(0.0) == pytest.approx(12.0)


def test_no_slowdown_while_our_own_window_is_stricter() -> None:
    # Server and client agree on 1000/min: bursting up to our window is safe, and
    # spreading the tail would stretch a 3-window job into 4.
    clock = FakeClock(0.0)
    rl = pacer(1000, clock)
    for _ in range(990):
        rl.acquire()
    rl.observe(Quota(limit=1000, remaining=10, reset_in=60.0), now=0.0)
    assert rl.delay_for(0.0) <= 0


def test_high_server_remaining_does_not_slow_down() -> None:
    clock = FakeClock(0.0)
    rl = pacer(0, clock)
    rl.acquire()
    rl.observe(Quota(limit=100, remaining=50, reset_in=60.0), now=0.0)
    assert rl.delay_for(0.0) <= 0


def test_negative_rate_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        RequestPacer(-1)
