"""Fixtures of the delivery tests: ``make_world`` builds a ``World`` wired to the fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeSlack, FakeTelegram
from tests.support.delivery_world import World


@pytest.fixture
async def make_world(
    tmp_path: Path, fake_slack: FakeSlack, fake_telegram: FakeTelegram
) -> AsyncIterator[Callable[..., World]]:
    made: list[World] = []

    def make(channels: list[dict[str, Any]], **kwargs: Any) -> World:
        world = World(tmp_path, fake_slack, fake_telegram, channels, **kwargs)
        made.append(world)
        return world

    yield make
    for world in made:
        await world.close()
