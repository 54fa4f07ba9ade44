"""The console's TTL cache: single-flight computation, and stale values served while they are refreshed."""
from __future__ import annotations

import asyncio

import pytest

from handlers.console.state import STALE_FACTOR, TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting(values: list):
    """A computation returning the next of `values` each time; `calls` counts them."""
    async def compute():
        compute.calls += 1
        await asyncio.sleep(0)
        return values[compute.calls - 1]
    compute.calls = 0
    return compute


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_fresh_value_is_computed_once_for_many_callers():
    cache = TTLCache(clock=Clock())
    compute = counting(["a"])
    results = await asyncio.gather(*(cache.get_or_compute("k", 30, compute) for _ in range(20)))
    assert results == ["a"] * 20 and compute.calls == 1


async def test_without_refresh_an_expired_value_is_recomputed_in_the_request():
    clock = Clock()
    cache = TTLCache(clock=clock)
    compute = counting(["old", "new"])
    assert await cache.get_or_compute("k", 30, compute) == "old"
    clock.now += 31
    assert await cache.get_or_compute("k", 30, compute) == "new"


async def test_an_expired_value_is_served_at_once_and_refreshed_in_the_background():
    clock = Clock()
    cache = TTLCache(clock=clock)
    assert await cache.get_or_compute("k", 30, counting(["old"])) == "old"
    clock.now += 31
    started = asyncio.Event()
    release = asyncio.Event()
    refreshes = 0

    async def refresh():
        nonlocal refreshes
        refreshes += 1
        started.set()
        await release.wait()
        return "new"

    never = counting([])  # the request itself must not compute
    stale = await asyncio.gather(*(cache.get_or_compute("k", 30, never, refresh=refresh) for _ in range(10)))
    assert stale == ["old"] * 10 and never.calls == 0
    await started.wait()
    assert await cache.get_or_compute("k", 30, never, refresh=refresh) == "old"  # still refreshing
    release.set()
    await settle()
    assert refreshes == 1
    assert await cache.get_or_compute("k", 30, never, refresh=refresh) == "new"


async def test_refreshes_run_one_at_a_time():
    clock = Clock()
    cache = TTLCache(clock=clock)
    for key in "abc":
        await cache.get_or_compute(key, 10, counting([key]))
    clock.now += 11
    running = peak = 0

    async def refresh():
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return "fresh"

    for key in "abc":
        assert await cache.get_or_compute(key, 10, counting([]), refresh=refresh) == key
    await asyncio.sleep(0.1)
    assert peak == 1
    assert [await cache.get_or_compute(k, 10, counting([])) for k in "abc"] == ["fresh"] * 3


async def test_a_failed_refresh_keeps_the_stale_value_until_it_is_too_old():
    clock = Clock()
    cache = TTLCache(clock=clock)
    await cache.get_or_compute("k", 30, counting(["old"]))
    clock.now += 31

    async def broken():
        raise RuntimeError("database away")

    assert await cache.get_or_compute("k", 30, counting([]), refresh=broken) == "old"
    await settle()
    assert await cache.get_or_compute("k", 30, counting([]), refresh=broken) == "old"
    clock.now = 1000.0 + 30 * STALE_FACTOR + 1  # too old to serve: the request computes it itself
    compute = counting(["recomputed"])
    assert await cache.get_or_compute("k", 30, compute, refresh=broken) == "recomputed"
    assert compute.calls == 1


async def test_clear_cancels_refreshes_under_way():
    clock = Clock()
    cache = TTLCache(clock=clock)
    await cache.get_or_compute("k", 30, counting(["old"]))
    clock.now += 31
    gate = asyncio.Event()

    async def slow():
        await gate.wait()
        return "from before the change"

    await cache.get_or_compute("k", 30, counting([]), refresh=slow)
    await settle()
    cache.clear()
    gate.set()
    await settle()
    compute = counting(["after the change"])
    assert await cache.get_or_compute("k", 30, compute) == "after the change"


@pytest.mark.parametrize("seconds", [0, -1])
async def test_no_caching_when_seconds_is_not_positive(seconds):
    cache = TTLCache(clock=Clock())
    compute = counting(["a", "b"])
    assert [await cache.get_or_compute("k", seconds, compute) for _ in range(2)] == ["a", "b"]


async def test_forget_drops_the_matching_values_only():
    cache = TTLCache(clock=Clock())
    await cache.get_or_compute(("review", "c1"), 30, counting(["old"]))
    await cache.get_or_compute(("figures", "c1"), 30, counting(["kept"]))
    cache.forget(lambda key: key[0] == "review")
    assert await cache.get_or_compute(("review", "c1"), 30, counting(["new"])) == "new"
    assert await cache.get_or_compute(("figures", "c1"), 30, counting(["other"])) == "kept"


async def test_a_value_computed_across_a_forget_is_returned_but_not_stored():
    cache = TTLCache(clock=Clock())
    reading = asyncio.Event()
    release = asyncio.Event()

    async def slow():  # read the data before it changed
        reading.set()
        await release.wait()
        return "before the change"

    pending = asyncio.ensure_future(cache.get_or_compute("k", 30, slow))
    await reading.wait()
    cache.forget(lambda key: key == "k")  # the change commits while the value is being computed
    release.set()
    assert await pending == "before the change"
    assert await cache.get_or_compute("k", 30, counting(["after the change"])) == "after the change"
