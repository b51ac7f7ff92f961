"""Private Telegram chats that subscribed while ``telegram.allow_private`` was on, after it
was turned off: held (nothing posted, one WARNING per chat, still subscribed), and
delivered again once it is back on. Real python-telegram-bot over HTTP to the fake Bot API.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.delivery import Outcome
from tests.fakes import FakeTelegram
from tests.support.cli import run as run_cli
from tests.support.delivery_kit import DAY
from tests.support.delivery_world import World

HELD = 4242  # a user's private chat: positive ids are users (Bot API dialog ids)
LISTED = 5151  # a private chat whose user is in telegram.allowed_users
CONFIGURED = 6161  # a private chat the config itself lists
GROUP = -1001


def at_ten() -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(10), tzinfo=dt.UTC)


def make(make_world: Callable[..., World], allow_private: bool) -> World:
    world = make_world(
        [{"platform": "telegram", "id": GROUP}, {"platform": "telegram", "id": CONFIGURED}],
        clock=at_ten,
        config={"telegram.allow_private": allow_private, "telegram.allowed_users": [LISTED]},
    )
    for chat in (HELD, LISTED):  # subscribed from the chat, back when that was allowed
        world.archive.subscriptions.upsert("telegram", str(chat), topics=[])
    return world


def warnings_about(caplog: pytest.LogCaptureFixture, chat: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and f"telegram:{chat}" in r.getMessage()
    ]


async def test_a_private_chat_is_held_while_allow_private_is_off_and_resumes_after(
    make_world: Callable[..., World],
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.delivery")
    world = make(make_world, allow_private=False)

    first = {r.channel.id: r for r in await world.deliverer.deliver_all(world.channels())}
    assert first[str(HELD)].outcome is Outcome.HELD
    assert "telegram.allow_private is off" in (first[str(HELD)].error or "")
    assert fake_telegram.sent(HELD) == []
    assert world.archive.ledger.status("telegram", str(HELD), DAY) is None  # nothing claimed
    for chat in (GROUP, LISTED, CONFIGURED):
        assert first[str(chat)].outcome is Outcome.DELIVERED, first[str(chat)]
        assert fake_telegram.sent(chat)
    (warning,) = warnings_about(caplog, HELD)
    assert "digestbot subscriptions remove telegram 4242" in warning

    # A later run (the scheduler, the sweep, `send --date`): still held, no second warning.
    again = await world.deliverer.deliver_all(world.channels())
    assert {r.channel.id: r.outcome for r in again}[str(HELD)] is Outcome.HELD
    explicit = await world.deliverer.deliver(world.channel(f"telegram:{HELD}"), date=DAY)
    assert explicit.outcome is Outcome.HELD and explicit.ok
    assert fake_telegram.sent(HELD) == [] and len(warnings_about(caplog, HELD)) == 1
    row = world.archive.subscriptions.get("telegram", str(HELD))
    assert row is not None and row.active  # not deactivated

    from bot.cli.app import out

    monkeypatch.setattr(out, "width", 400)
    assert run_cli(["--config", str(tmp_path / "config.yaml"), "subscriptions", "list"]) == 0
    listing = capsys.readouterr().out
    held_rows = [line for line in listing.splitlines() if str(HELD) in line]
    assert held_rows and "held: private chat" in held_rows[0]
    assert not any("held" in line for line in listing.splitlines() if str(LISTED) in line)

    # The setting back on: the chat gets the day it missed, once.
    world = make(make_world, allow_private=True)
    resumed = {r.channel.id: r for r in await world.deliverer.deliver_all(world.channels())}
    assert resumed[str(HELD)].outcome is Outcome.DELIVERED
    assert resumed[str(GROUP)].outcome is Outcome.NOTHING_NEW
    assert len(fake_telegram.sent(HELD)) == resumed[str(HELD)].total > 0
