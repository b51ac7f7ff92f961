"""The Feishu app bot end to end: lark-oapi's client and event dispatcher against the fake
open API, events delivered over real HTTP, encrypted and signed the way Feishu does."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.archive import Archive
from bot.chat import CommandCore, actions
from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms.feishu.app import EVENTS_PATH, FeishuListener, start_feishu
from bot.platforms.feishu.events import command_text
from formatters.templates import Templates
from tests.bot.platforms.conftest import free_port
from tests.bot.platforms.feishu.kit import (
    DETAILS,
    GROUP,
    MANAGER,
    MEMBER,
    MORE,
    OWNER,
    buttons,
    message_with,
    ranks,
    settings_for,
)
from tests.fakes.feishu_api import FakeFeishuApi
from tests.fakes.feishu_validation import validate_card
from tests.fakes.robot_markdown import RobotRefused
from tests.support.cli import run as run_cli

#: What a member who is not an owner or manager is told when asking for a change.
REFUSAL = "Only admins of this chat can change"
SCHEDULE = "schedule 08:30 weekdays Asia/Shanghai"
WEEKDAYS = "30 8 * * mon-fri"


@pytest.fixture
def core(reference_archive: Archive) -> CommandCore:
    return CommandCore(reference_archive, Settings(), page_size=5)


@pytest.fixture
async def bot(fake_feishu_api: FakeFeishuApi, core: CommandCore) -> AsyncIterator[FeishuListener]:
    fake_feishu_api.add_chat(GROUP, owner=OWNER, managers=(MANAGER,))
    fake_feishu_api.add_chat("oc_dm", owner=MEMBER)
    listener = await start_feishu(
        settings_for(fake_feishu_api), core, Templates(), host="127.0.0.1", port=free_port()
    )
    yield listener
    await listener.stop()


def url(listener: FeishuListener) -> str:
    return f"http://127.0.0.1:{listener.port}{EVENTS_PATH}"


async def ask(
    fake: FakeFeishuApi, listener: FeishuListener, chat: str, text: str, **kwargs: Any
) -> list[dict[str, Any]]:
    """Deliver a message event and wait for the bot's reply cards to it."""
    before = len(fake.sent(chat))
    event = fake.message_event(chat, text, **kwargs)
    status, _ = await fake.deliver(url(listener), event)
    assert status == 200
    await fake.wait_until(lambda: len(fake.sent(chat)) > before, timeout=30)
    replies = fake.sent(chat)[before:]
    assert all(r["parent_id"] == event["event"]["message"]["message_id"] for r in replies)
    return replies


async def test_at_digestbot_tag_rl_answers_with_items_2_and_7(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    replies = await ask(fake_feishu_api, bot, GROUP, "tag:RL")
    assert ranks(replies) == [2, 7]
    assert all(r["msg_type"] == "interactive" and not r["mentions"] for r in replies)
    assert fake_feishu_api.calls_to("tenant_access_token")  # the SDK fetched its token


async def test_a_direct_message_needs_no_mention(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    replies = await ask(fake_feishu_api, bot, "oc_dm", "help", chat_type="p2p", mention=False)
    assert "tag:" in "\n".join(r["text"] for r in replies)


async def test_a_forged_or_stale_event_is_refused_and_never_answered(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    event = fake_feishu_api.message_event(GROUP, "tag:RL")
    status, _ = await fake_feishu_api.deliver(url(bot), event, forge=True)
    assert status == 401
    status, _ = await fake_feishu_api.deliver(url(bot), event, age=3600)
    assert status == 401
    # A wrong verification token inside a correctly signed body is refused by the SDK.
    event["header"]["token"] = "not-the-token"
    status, _ = await fake_feishu_api.deliver(url(bot), event)
    assert status == 401
    assert fake_feishu_api.calls_to("im.message.reply") == []


async def test_header_names_in_lower_case_are_read(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    """HTTP/2 and ingress proxies lower-case header names; a genuine event still counts."""
    before = len(fake_feishu_api.sent(GROUP))
    event = fake_feishu_api.message_event(GROUP, "tag:RL")
    status, _ = await fake_feishu_api.deliver(url(bot), event, lowercase=True)
    assert status == 200
    await fake_feishu_api.wait_until(lambda: len(fake_feishu_api.sent(GROUP)) > before, timeout=30)
    assert ranks(fake_feishu_api.sent(GROUP)[before:]) == [2, 7]
    status, _ = await fake_feishu_api.deliver(url(bot), event, forge=True, lowercase=True)
    assert status == 401


async def test_url_verification_challenge(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    challenge = {
        "challenge": "ajls384kdjx98XX",
        "token": fake_feishu_api.verification_token,
        "type": "url_verification",
    }
    body, _ = fake_feishu_api.signed_request(challenge)
    status, text = await fake_feishu_api.deliver(url(bot), challenge)
    assert status == 200 and json.loads(text) == {"challenge": "ajls384kdjx98XX"}
    assert body  # the challenge travelled encrypted, as with an encrypt key it does


async def test_redeliveries_and_own_messages_are_ignored(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    event = fake_feishu_api.message_event(GROUP, "tag:RL", event_id="ev-1")
    assert (await fake_feishu_api.deliver(url(bot), event))[0] == 200
    await fake_feishu_api.wait_until(lambda: fake_feishu_api.sent(GROUP), timeout=30)
    own = fake_feishu_api.message_event(GROUP, "tag:RL", sender_type="app")
    assert (await fake_feishu_api.deliver(url(bot), own))[0] == 200
    assert (await fake_feishu_api.deliver(url(bot), event))[0] == 200  # Feishu redelivers
    # A later question is answered, and is the only thing posted after the first answer.
    first = len(fake_feishu_api.sent(GROUP))
    await ask(fake_feishu_api, bot, GROUP, "help")
    assert len(fake_feishu_api.calls_to("im.message.reply")) == len(fake_feishu_api.sent(GROUP))
    parents = [m["parent_id"] for m in fake_feishu_api.sent(GROUP)]
    assert parents.count(event["event"]["message"]["message_id"]) == first


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["title"] + "\n" + r["text"] for r in replies)


def listed(config: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """``digestbot subscriptions list --platform feishu``: the table's lines for GROUP."""
    capsys.readouterr()
    assert run_cli(["--config", str(config), "subscriptions", "list", "-p", "feishu"]) == 0
    return [line for line in capsys.readouterr().out.splitlines() if GROUP in line]


@pytest.fixture
def cli_config(tmp_path: Path, reference_archive: Archive, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file for the CLI over the bot's own archive, and a terminal wide enough."""
    from bot.cli.app import out

    monkeypatch.setattr(out, "width", 400)
    path = tmp_path / "cli.yaml"
    path.write_text(yaml.safe_dump({"archive": {"url": reference_archive.url}}), "utf-8")
    return path


async def test_only_owners_and_managers_change_a_groups_subscription(
    fake_feishu_api: FakeFeishuApi,
    bot: FeishuListener,
    reference_archive: Archive,
    cli_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = reference_archive.subscriptions
    refused = await ask(fake_feishu_api, bot, GROUP, "subscribe tag:Agent", user=MEMBER)
    assert REFUSAL in text_of(refused)
    assert store.get("feishu", GROUP) is None and listed(cli_config, capsys) == []

    await ask(fake_feishu_api, bot, GROUP, "subscribe tag:Agent", user=MANAGER)
    sub = store.get("feishu", GROUP)
    assert sub is not None and sub.topics == ["tag:Agent"] and sub.active
    assert (sub.schedule, sub.timezone) == (None, None)  # the config's until changed
    assert "0 9 * * *" in listed(cli_config, capsys)[0]

    done = await ask(fake_feishu_api, bot, GROUP, SCHEDULE, user=OWNER)
    assert REFUSAL not in text_of(done)
    sub = store.get("feishu", GROUP)
    assert sub is not None and (sub.schedule, sub.timezone) == (WEEKDAYS, "Asia/Shanghai")
    row = listed(cli_config, capsys)
    assert len(row) == 1 and WEEKDAYS in row[0] and "Asia/Shanghai" in row[0]
    assert "tag:Agent" in row[0] and "active" in row[0]

    shown = await ask(fake_feishu_api, bot, GROUP, "subscriptions", user=MEMBER)
    assert "tag:Agent" in text_of(shown)
    await ask(fake_feishu_api, bot, GROUP, "unsubscribe all", user=OWNER)
    sub = store.get("feishu", GROUP)
    assert sub is None or not sub.active


async def test_a_member_cannot_reschedule_or_unsubscribe_a_group(
    fake_feishu_api: FakeFeishuApi,
    bot: FeishuListener,
    reference_archive: Archive,
    cli_config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = reference_archive.subscriptions
    await ask(fake_feishu_api, bot, GROUP, "subscribe tag:Agent", user=MANAGER)
    await ask(fake_feishu_api, bot, GROUP, SCHEDULE, user=MANAGER)
    before = store.get("feishu", GROUP)
    assert before is not None and before.active and before.schedule == WEEKDAYS
    listing = listed(cli_config, capsys)
    for text in (
        "schedule 07:00 daily Europe/Berlin",
        "schedule weekly fri 17:00",
        "unsubscribe tag:Agent",
        "unsubscribe all",
    ):
        refused = await ask(fake_feishu_api, bot, GROUP, text, user=MEMBER)
        assert REFUSAL in text_of(refused), text
        assert store.get("feishu", GROUP) == before, text
    assert listed(cli_config, capsys) == listing
    # The owner still can, so the refusals were about the member.
    await ask(fake_feishu_api, bot, GROUP, "unsubscribe all", user=OWNER)
    after = store.get("feishu", GROUP)
    assert after is None or not after.active


async def test_missing_keys_are_named(fake_feishu_api: FakeFeishuApi, core: CommandCore) -> None:
    for feishu, key in (
        ({"app_id": None}, "feishu.app_id"),
        ({"app_secret": None}, "feishu.app_secret"),
        ({"encrypt_key": None}, "feishu.encrypt_key"),
    ):
        with pytest.raises(ConfigError, match=key):
            await start_feishu(settings_for(fake_feishu_api, **feishu), core, Templates())


async def test_week_and_trends_answer_with_cards(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    week = await ask(fake_feishu_api, bot, GROUP, "week 2026-W06")
    assert ranks(week) and "2026-W06" in week[0]["title"]  # the card's header
    trends = await ask(fake_feishu_api, bot, "oc_dm", "trends", chat_type="p2p", mention=False)
    assert all(r["msg_type"] == "interactive" for r in trends)


# -- the bot's own mention ----------------------------------------------------------------


async def test_the_bot_fetches_its_open_id_and_answers_only_its_own_mention(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    assert fake_feishu_api.calls_to("bot.info")  # fetched once, at start
    assert bot.bridge.bot_open_id == fake_feishu_api.bot_open_id
    # Someone else mentioned, not the bot: not for it (answered only by the later question).
    other = fake_feishu_api.message_event(GROUP, "tag:RL", mention=False, others=("ou_alice",))
    assert (await fake_feishu_api.deliver(url(bot), other))[0] == 200
    # The bot and someone else: only the bot's mention is stripped; the other's key stays
    # and is searched for, so the answer is "nothing found", not RL's items.
    both = await ask(fake_feishu_api, bot, GROUP, "tag:RL", others=("ou_alice",))
    assert ranks(both) == [] and "_user_2" in "\n".join(r["text"] for r in both)
    assert all(r["parent_id"] != other["event"]["message"]["message_id"] for r in both)


async def test_a_passing_fault_at_start_is_retried_at_the_first_message(
    fake_feishu_api: FakeFeishuApi, core: CommandCore
) -> None:
    fake_feishu_api.add_chat(GROUP, owner=OWNER)
    fake_feishu_api.fail_next("bot.info", status=500)
    listener = await start_feishu(
        settings_for(fake_feishu_api), core, Templates(), host="127.0.0.1", port=free_port()
    )
    try:
        assert listener.bridge.bot_open_id is None and listener.connected
        assert ranks(await ask(fake_feishu_api, listener, GROUP, "tag:RL")) == [2, 7]
        assert len(fake_feishu_api.calls_to("bot.info")) == 2
    finally:
        await listener.stop()


async def test_the_bots_own_messages_are_ignored_even_as_a_user(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    own = fake_feishu_api.message_event(GROUP, "tag:RL", user=fake_feishu_api.bot_open_id)
    assert (await fake_feishu_api.deliver(url(bot), own))[0] == 200
    await ask(fake_feishu_api, bot, GROUP, "help")
    parents = {m["parent_id"] for m in fake_feishu_api.sent(GROUP)}
    assert own["event"]["message"]["message_id"] not in parents


# -- buttons --------------------------------------------------------------------------------


async def press(
    fake: FakeFeishuApi, listener: FeishuListener, message: dict[str, Any], value: Any
) -> list[dict[str, Any]]:
    """Press a button of ``message`` (a signed callback); the bot acknowledges at once and
    then replies to that message."""
    chat = message["chat_id"]
    before = len(fake.sent(chat))
    status, body = await fake.deliver(url(listener), fake.card_action_event(message, value))
    assert status == 200 and json.loads(body) == {}  # acknowledged, the card left as it is
    await fake.wait_until(lambda: len(fake.sent(chat)) > before, timeout=30)
    replies = fake.sent(chat)[before:]
    assert all(r["parent_id"] == message["message_id"] for r in replies)
    return replies


async def test_more_and_details_buttons(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener, reference_titles: dict[int, str]
) -> None:
    first = await ask(fake_feishu_api, bot, GROUP, "date:2026-02-03")
    found = buttons(first)
    assert found[MORE] == {"action": actions.encode_more("date:2026-02-03", 5)}
    details = [v["action"] for label, v in found.items() if label.startswith(DETAILS)]
    assert len(details) == 5
    second = await press(fake_feishu_api, bot, message_with(first, MORE), found[MORE])
    again = [v["action"] for label, v in buttons(second).items() if label.startswith(DETAILS)]
    assert len(again) == 5 and not set(details) & set(again)

    value = {"action": actions.encode_details(dt.date(2026, 2, 3), 9)}
    third = await press(fake_feishu_api, bot, first[-1], value)
    assert reference_titles[9] in "\n".join(r["title"] + r["text"] for r in third)


async def test_a_long_query_pages_through_a_stored_key(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    query = "date:2026-02-03 " + " ".join(f"-source:nowhere{n}" for n in range(6))
    first = await ask(fake_feishu_api, bot, GROUP, query)
    value = buttons(first)[MORE]["action"]
    assert value.startswith("k:5:") and len(value.encode()) <= actions.CALLBACK_LIMIT
    second = await press(fake_feishu_api, bot, message_with(first, MORE), {"action": value})
    assert ranks(second)


async def test_a_stale_or_forged_button_gets_a_polite_answer(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    first = await ask(fake_feishu_api, bot, GROUP, "tag:RL")
    good = await press(fake_feishu_api, bot, first[0], {"action": "m:0:tag:RL"})
    assert ranks(good) == [2, 7]  # a good value still works; these do not:
    for value in ({"action": "d:2026-02-03:99999"}, {"action": 42}, {"other": "x"}):
        replies = await press(fake_feishu_api, bot, first[0], value)
        assert ranks(replies) == [] and "/ai" in "\n".join(r["text"] for r in replies)


async def test_a_forged_button_press_is_refused(
    fake_feishu_api: FakeFeishuApi, bot: FeishuListener
) -> None:
    first = await ask(fake_feishu_api, bot, GROUP, "tag:RL")
    event = fake_feishu_api.card_action_event(first[0], {"action": "m:0:tag:RL"})
    status, _ = await fake_feishu_api.deliver(url(bot), event, forge=True)
    assert status == 401
    assert len(fake_feishu_api.sent(GROUP)) == len(first)


def test_the_fake_refuses_a_button_without_an_object_value() -> None:
    card = {
        "schema": "2.0",
        "body": {"elements": [{"tag": "button", "text": {"tag": "plain_text", "content": "x"}}]},
    }
    with pytest.raises(RobotRefused, match="behaviors"):
        validate_card(card)
    card["body"]["elements"][0]["behaviors"] = [{"type": "callback", "value": "m:0:x"}]
    with pytest.raises(RobotRefused, match="object"):
        validate_card(card)


@pytest.mark.parametrize(
    ("text", "keys", "expected"),
    [
        ("@_user_1 tag:RL", ["@_user_1"], "tag:RL"),
        ("@_user_1 /ai tag:RL", ["@_user_1"], "tag:RL"),
        ("@_user_10 @_user_1 tag:RL", ["@_user_1"], "@_user_10 tag:RL"),
        ("@_user_2 tag:RL @_user_1", ["@_user_1"], "@_user_2 tag:RL"),
    ],
)
def test_command_text_strips_only_the_bots_mention(
    text: str, keys: list[str], expected: str
) -> None:
    assert command_text(json.dumps({"text": text}), keys) == expected
    assert command_text("not json", keys) == ""
