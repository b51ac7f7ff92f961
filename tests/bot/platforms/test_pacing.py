"""``WindowPacer``: at most N requests in any W seconds per key, counted from responses."""

from __future__ import annotations

import asyncio

from bot.platforms.pacing import WindowPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_short_run_goes_at_once_and_the_next_waits_for_the_window() -> None:
    clock = Clock()
    pacer = WindowPacer(((3, 60.0),), clock=clock, margin=0.0)
    for _ in range(3):
        assert pacer.wait_time("robot") == 0
        async with pacer.turn("robot"):
            clock.now += 1.0  # each request takes a second to answer
    # The first answer came at 101: a fourth request fits at 161, not before.
    assert pacer.wait_time("robot") == 161.0 - clock.now
    assert pacer.wait_time("other robot") == 0


async def test_every_window_holds_and_a_deferral_adds_to_them() -> None:
    clock = Clock()
    pacer = WindowPacer(((2, 1.0), (3, 60.0)), clock=clock, margin=0.0)
    for _ in range(2):
        async with pacer.turn("k"):
            pass
    assert pacer.wait_time("k") == 1.0  # the per-second window
    clock.now += 1.0
    async with pacer.turn("k"):
        pass
    assert pacer.wait_time("k") == 59.0  # now the per-minute window
    pacer.defer("k", 600.0)  # the platform said: throttled for ten minutes
    assert pacer.wait_time("k") == 600.0


async def test_turns_on_one_key_are_taken_one_at_a_time() -> None:
    pacer = WindowPacer(((100, 1.0),))
    inside: list[int] = []
    peak = 0

    async def request() -> None:
        nonlocal peak
        async with pacer.turn("k"):
            inside.append(1)
            peak = max(peak, len(inside))
            await asyncio.sleep(0.001)
            inside.pop()

    await asyncio.gather(*(request() for _ in range(10)))
    assert peak == 1
    assert WindowPacer(()).limits == ()
