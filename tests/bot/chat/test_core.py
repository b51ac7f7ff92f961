"""The command core on the real archive (SQLite file and PostgreSQL) with the reference digest."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy

from bot.archive import Archive
from bot.chat import (
    CommandCore,
    CommandRequest,
    DigestReply,
    ErrorReply,
    HelpReply,
    ItemDetailReply,
    NoticeReply,
    SearchReply,
    SubscriptionReply,
    actions,
    effective_channel,
)
from bot.config import ChannelSettings, Settings
from bot.errors import ArchiveError
from bot.ingest import ingest_paths, parse_file
from bot.query import TagAliases, parse_query
from formatters import slack as slack_fmt
from formatters import telegram as telegram_fmt
from formatters.templates import Templates
from tests.support.metrics import sample

DAY = dt.date(2026, 2, 3)
NOW = dt.datetime(2026, 2, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def archive(db_url: str, reference_digest_path: Path) -> Iterator[Archive]:
    archive = Archive(db_url)
    archive.create_schema()
    summary = ingest_paths(archive, [str(reference_digest_path)], workers=1)
    assert summary.created == 1
    yield archive
    archive.close()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        channels=[
            ChannelSettings(platform="slack", id="CCONFIG", topics=["tag:RL"], schedule="0 8 * * *")
        ]
    )


@pytest.fixture
def core(archive: Archive, settings: Settings) -> CommandCore:
    return CommandCore(archive, settings, page_size=5, clock=lambda: NOW)


def ask(core: CommandCore, text: str, *, channel: str = "C1", admin: bool | None = None):
    return core.handle(CommandRequest("slack", channel, "U1", admin, text))


def titles(path: Path) -> dict[int, str]:
    return {item.rank: item.title for item in parse_file(path).digest.items}


# -- queries ------------------------------------------------------------------------------


def test_tag_rl_answers_items_2_and_7(core: CommandCore, reference_digest_path: Path) -> None:
    envelope = ask(core, "tag:RL")
    reply = envelope.reply
    assert isinstance(reply, SearchReply)
    assert envelope.public is False
    assert [(h.date, h.rank) for h in reply.hits] == [(DAY, 2), (DAY, 7)]
    expected = titles(reference_digest_path)
    assert [h.title for h in reply.hits] == [expected[2], expected[7]]
    assert reply.total == 2 and reply.offset == 0 and reply.query == "tag:RL"


def test_more_pages_through_every_match_once(core: CommandCore) -> None:
    first = ask(core, "date:2026-02-03").reply
    assert isinstance(first, SearchReply)
    assert first.total == 14 and len(first.hits) == 5
    seen = [h.rank for h in first.hits]
    offset = first.offset + len(first.hits)
    while offset < first.total:
        value = actions.encode_more("date:2026-02-03", offset)
        assert value is not None
        page = core.handle_action(CommandRequest("slack", "C1", "U1", None, ""), value).reply
        assert isinstance(page, SearchReply) and page.offset == offset
        seen += [h.rank for h in page.hits]
        offset += len(page.hits)
    assert sorted(seen) == list(range(1, 15))
    assert len(seen) == 14


def test_counts_are_only_taken_when_needed_and_reused(
    core: CommandCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[str] = []
    real_count = core.archive.count

    def count(query: object, *, cap: int | None = None) -> int:
        counted.append(str(query))
        return real_count(query, cap=cap)  # type: ignore[arg-type]

    monkeypatch.setattr(core.archive, "count", count)
    narrow = ask(core, "tag:RL").reply
    assert isinstance(narrow, SearchReply) and narrow.total == 2
    assert counted == []  # one short page: the total is known without counting
    for _ in range(2):
        broad = ask(core, "date:2026-02-03").reply
        assert isinstance(broad, SearchReply) and broad.total == 14
    value = actions.encode_more("date:2026-02-03", 5)
    assert value is not None
    page = core.handle_action(CommandRequest("slack", "C1", "U1", None, ""), value).reply
    assert isinstance(page, SearchReply) and page.total == 14 and page.offset == 5
    assert len(counted) == 1


def test_a_capped_total_shows_as_n_plus_and_still_pages_to_the_end(
    archive: Archive, settings: Settings
) -> None:
    core = CommandCore(archive, settings, page_size=2, clock=lambda: NOW, count_cap=4)
    first = ask(core, "date:2026-02-03").reply
    assert isinstance(first, SearchReply)
    assert (first.total, first.total_capped) == (4, True)  # 14 match; counting stopped at 4
    templates = Templates("en")
    slack = slack_fmt.render_reply(first, templates)[0]
    assert "4+ results, showing 1–2" in json.dumps(slack.blocks, ensure_ascii=False)
    more = [e for b in slack.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [e["text"]["text"] for e in more] == ["More (2/4+)"]
    telegram = telegram_fmt.render_reply(first, Templates("zh"))[0]
    assert "共 4+ 条" in telegram.text
    # Every page still offers "more" until the real end, where the total becomes exact.
    seen, offset, page = [h.rank for h in first.hits], 2, first
    while True:
        value = actions.encode_more("date:2026-02-03", offset)
        assert value is not None
        page = core.handle_action(CommandRequest("slack", "C1", "U1", None, ""), value).reply
        assert isinstance(page, SearchReply) and page.total > page.offset + len(page.hits) - 1
        seen += [h.rank for h in page.hits]
        offset += len(page.hits)
        if offset >= page.total and not page.total_capped:
            break
    assert sorted(seen) == list(range(1, 15))
    assert (page.total, page.total_capped) == (14, False)
    exact = slack_fmt.render_reply(page, templates)[0]
    assert "14 results" in json.dumps(exact.blocks, ensure_ascii=False)


def test_a_stale_more_past_the_end_shows_the_last_page(core: CommandCore) -> None:
    value = actions.encode_more("date:2026-02-03", 40)
    assert value is not None
    page = core.handle_action(CommandRequest("slack", "C1", "U1", None, ""), value).reply
    assert isinstance(page, SearchReply)
    assert (page.offset, page.total, len(page.hits)) == (9, 14, 5)


@pytest.mark.parametrize(
    "value",
    [
        "m:99999999999999999999:tag:RL",
        "m:-5:tag:RL",
        "m:1e9:tag:RL",
        "m:10001:tag:RL",
        "d:2026-02-03:99999999999999999999",
        "d:2026-02-03:0",
        "d:9999-99-99:1",
        "k:5:not-hex!",
        "k:5:0123456789ab",  # well-formed, but no such key is stored
        "m:" + "9" * 5000,
    ],
)
def test_tampered_button_values_get_the_stale_button_answer(
    core: CommandCore, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    reply = core.handle_action(CommandRequest("slack", "C1", "U1", None, ""), value).reply
    assert isinstance(reply, ErrorReply) and "no longer valid" in reply.message
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_telegram_more_for_a_long_query_goes_through_a_stored_key(core: CommandCore) -> None:
    long_query = "date:2026-02-03 " + " ".join(f"-source:nowhere{n:02d}" for n in range(6))
    request = CommandRequest("telegram", "42", "7", None, long_query)
    first = core.handle(request).reply
    assert isinstance(first, SearchReply) and first.total == 14 and first.more_key
    [message] = telegram_fmt.render_reply(first, Templates("en"))
    data = [
        b["callback_data"]
        for row in (message.reply_markup or {})["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("k:")
    ]
    assert data == [f"k:5:{first.more_key}"] and len(data[0].encode()) <= actions.CALLBACK_LIMIT
    page = core.handle_action(request, data[0]).reply
    assert isinstance(page, SearchReply) and page.offset == 5 and page.query == long_query
    # The same query stores nothing new; Slack, with room in its buttons, stores nothing.
    assert core.archive.button_queries.put(long_query) == first.more_key
    slack_reply = core.handle(CommandRequest("slack", "C1", "U1", None, long_query)).reply
    assert isinstance(slack_reply, SearchReply) and slack_reply.more_key is None


def test_details_button_shows_the_whole_item(core: CommandCore) -> None:
    value = actions.encode_details(DAY, 2)
    reply = core.handle_action(CommandRequest("telegram", "42", "7", None, ""), value).reply
    assert isinstance(reply, ItemDetailReply)
    assert reply.hit.rank == 2 and reply.hit.sections and reply.hit.url


@pytest.mark.parametrize("value", ["garbage", "d:2026-02-03:99", "m:x:tag:RL"])
def test_stale_or_forged_buttons_get_a_helpful_error(core: CommandCore, value: str) -> None:
    reply = core.handle_action(CommandRequest("slack", "C1", "U1", None, ""), value).reply
    assert isinstance(reply, ErrorReply)
    assert reply.example


@pytest.mark.parametrize(
    ("text", "term"), [("colour:red", "colour:red"), ("stars:many", "stars:many")]
)
def test_bad_query_names_the_term_with_an_example(core: CommandCore, text: str, term: str) -> None:
    reply = ask(core, text).reply
    assert isinstance(reply, ErrorReply)
    assert term in reply.message
    assert reply.example and reply.example.startswith("/ai ")


def test_typo_of_a_command_suggests_it(core: CommandCore) -> None:
    reply = ask(core, "subscibe tag:Agent").reply
    assert isinstance(reply, ErrorReply)
    assert "subscribe" in reply.message and "subscibe" in reply.message


@pytest.mark.parametrize("text", ["", "help", "  HELP  "])
def test_empty_and_help_give_help(core: CommandCore, text: str) -> None:
    assert isinstance(ask(core, text).reply, HelpReply)


def test_today_and_latest_show_the_newest_digest(core: CommandCore, archive: Archive) -> None:
    for text in ("today", "latest"):
        reply = ask(core, text).reply
        assert isinstance(reply, DigestReply)
        assert reply.digest.date == DAY and len(reply.digest.items) == 14
    later = CommandCore(archive, core.settings, clock=lambda: NOW + dt.timedelta(days=3))
    reply = later.handle(CommandRequest("slack", "C1", "U1", None, "today")).reply
    assert isinstance(reply, DigestReply) and reply.digest.date == DAY


def test_relative_dates_use_the_channels_timezone(archive: Archive, settings: Settings) -> None:
    evening_utc = dt.datetime(2026, 2, 3, 20, 0, tzinfo=dt.UTC)  # already Feb 4 in Shanghai
    core = CommandCore(archive, settings, clock=lambda: evening_utc)
    archive.subscriptions.upsert("slack", "CLA", timezone="America/Los_Angeles")
    in_la = core.handle(CommandRequest("slack", "CLA", "U", None, "date:today")).reply
    in_shanghai = core.handle(CommandRequest("slack", "CSH", "U", None, "date:today")).reply
    assert isinstance(in_la, SearchReply) and isinstance(in_shanghai, SearchReply)
    assert (in_la.total, in_shanghai.total) == (14, 0)
    absolute = core.handle(CommandRequest("slack", "CLA", "U", None, "date:2026-02-03")).reply
    assert isinstance(absolute, SearchReply) and absolute.total == 14


def test_today_with_an_empty_archive_says_so(sqlite_url: str, settings: Settings) -> None:
    archive = Archive(sqlite_url)
    archive.create_schema()
    reply = CommandCore(archive, settings).handle(CommandRequest("slack", "C", "U", None, "today"))
    assert isinstance(reply.reply, NoticeReply)
    assert "no digest" in reply.reply.message


# -- subscriptions --------------------------------------------------------------------------


def test_subscribe_tag_agent_stores_a_topic_selecting_only_agent_items(
    core: CommandCore, archive: Archive, reference_digest_path: Path
) -> None:
    envelope = ask(core, "subscribe tag:Agent", channel="CNEW")
    reply = envelope.reply
    assert isinstance(reply, SubscriptionReply)
    assert envelope.public is True
    assert reply.action == "subscribed" and reply.topic == "tag:Agent"
    assert reply.schedule == "0 9 * * *" and reply.timezone == "Asia/Shanghai"
    row = archive.subscriptions.get("slack", "CNEW")
    assert row is not None and row.active and row.topics == ["tag:Agent"]
    assert row.created_by == "U1"

    digest = parse_file(reference_digest_path).digest
    aliases = TagAliases.builtin()
    selected = {
        item.rank
        for item in digest.items
        if any(parse_query(t, today=DAY).matches(item, digest.date, aliases) for t in row.topics)
    }
    tagged_agent = {
        item.rank for item in digest.items if any(aliases.same(t, "Agent") for t in item.tags)
    }
    assert selected == tagged_agent
    assert {4, 5, 10} <= selected  # the items tagged "AI Agent" in the reference digest
    assert 2 not in selected and 7 not in selected  # RL items; 7 is a multi-agent swarm


def test_subscribe_is_idempotent_and_accumulates_topics(
    core: CommandCore, archive: Archive
) -> None:
    ask(core, "subscribe tag:Agent")
    ask(core, "subscribe tag:Agent")
    reply = ask(core, "subscribe tag:RL -tag:开源").reply
    assert isinstance(reply, SubscriptionReply)
    assert reply.subscription is not None
    assert reply.subscription.topics == ("tag:Agent", "tag:RL -tag:开源")


def test_subscribe_with_a_bad_query_stores_nothing(core: CommandCore, archive: Archive) -> None:
    reply = ask(core, "subscribe tag:Agent colour:red").reply
    assert isinstance(reply, ErrorReply) and "colour:red" in reply.message
    assert archive.subscriptions.get("slack", "C1") is None


def test_subscribe_reactivates_an_inactive_channel(core: CommandCore, archive: Archive) -> None:
    archive.subscriptions.upsert("slack", "C1", topics=["tag:RL"])
    archive.subscriptions.deactivate("slack", "C1", "channel_not_found")
    ask(core, "subscribe")
    row = archive.subscriptions.get("slack", "C1")
    assert row is not None and row.active and row.inactive_reason is None
    assert row.topics == ["tag:RL"]


def test_subscribing_a_configured_channel_keeps_its_config_topics(
    core: CommandCore, archive: Archive
) -> None:
    reply = ask(core, "subscribe tag:Agent", channel="CCONFIG").reply
    assert isinstance(reply, SubscriptionReply)
    assert reply.subscription is not None
    assert reply.subscription.topics == ("tag:RL", "tag:Agent")
    assert reply.schedule == "0 8 * * *"


def test_listing(core: CommandCore) -> None:
    empty = ask(core, "subscriptions").reply
    assert isinstance(empty, SubscriptionReply) and empty.subscription is None
    configured = ask(core, "subscribe list", channel="CCONFIG").reply
    assert isinstance(configured, SubscriptionReply) and configured.action == "listed"
    assert configured.subscription is not None and configured.subscription.topics == ("tag:RL",)
    assert configured.schedule == "0 8 * * *"
    assert ask(core, "subscriptions", channel="CCONFIG").public is False


def test_unsubscribe_a_topic_then_all(core: CommandCore, archive: Archive) -> None:
    ask(core, "subscribe tag:Agent")
    ask(core, "subscribe tag:RL")
    reply = ask(core, "unsubscribe tag:Agent").reply
    assert isinstance(reply, SubscriptionReply) and reply.action == "unsubscribed"
    assert reply.subscription is not None and reply.subscription.topics == ("tag:RL",)
    missing = ask(core, "unsubscribe tag:Nope").reply
    assert isinstance(missing, ErrorReply)
    assert "tag:Nope" in missing.message and "tag:RL" in missing.message
    gone = ask(core, "unsubscribe all").reply
    assert isinstance(gone, SubscriptionReply) and gone.subscription is None
    assert archive.subscriptions.get("slack", "C1") is None


@pytest.mark.parametrize(
    "text", ["unsubscribe", "unsubscribe all", "unsubscribe tag:RL", "schedule 07:00 Asia/Tokyo"]
)
def test_a_configured_channel_is_changed_in_the_config_not_from_chat(
    core: CommandCore, archive: Archive, text: str
) -> None:
    reply = ask(core, text, channel="CCONFIG").reply
    assert isinstance(reply, ErrorReply)
    assert "config file" in reply.message and "CCONFIG" in reply.message
    assert archive.subscriptions.get("slack", "CCONFIG") is None


def test_a_topic_added_from_chat_to_a_configured_channel_can_be_removed(
    core: CommandCore, archive: Archive
) -> None:
    ask(core, "subscribe tag:Agent", channel="CCONFIG")
    reply = ask(core, "unsubscribe tag:Agent", channel="CCONFIG").reply
    assert isinstance(reply, SubscriptionReply) and reply.subscription is not None
    assert reply.subscription.topics == ("tag:RL",)


def test_repeating_a_change_leaves_the_row_untouched(core: CommandCore, archive: Archive) -> None:
    ask(core, "subscribe tag:Agent")
    ask(core, "schedule 08:30 Europe/Berlin")
    before = archive.subscriptions.get("slack", "C1")
    ask(core, "subscribe tag:Agent")
    ask(core, "schedule 08:30 Europe/Berlin")
    ask(core, "subscribe")
    after = archive.subscriptions.get("slack", "C1")
    assert before is not None and after is not None
    assert after == before  # updated_at included: nothing was written


def test_unsubscribe_when_not_subscribed_is_explained(core: CommandCore) -> None:
    reply = ask(core, "unsubscribe all").reply
    assert isinstance(reply, ErrorReply) and "not subscribed" in reply.message


def test_schedule_sets_cron_and_timezone(core: CommandCore, archive: Archive) -> None:
    refused = ask(core, "schedule 08:30").reply
    assert isinstance(refused, ErrorReply) and refused.example == "/ai subscribe tag:Agent"
    ask(core, "subscribe")
    envelope = ask(core, "schedule 08:30 weekdays Europe/Berlin")
    reply = envelope.reply
    assert isinstance(reply, SubscriptionReply) and reply.action == "scheduled"
    assert envelope.public is True
    assert (reply.schedule, reply.timezone) == ("30 8 * * mon-fri", "Europe/Berlin")
    row = archive.subscriptions.get("slack", "C1")
    assert row is not None and (row.schedule, row.timezone) == ("30 8 * * mon-fri", "Europe/Berlin")
    ask(core, "schedule 07:00")
    row = archive.subscriptions.get("slack", "C1")
    assert row is not None and (row.schedule, row.timezone) == ("0 7 * * *", "Europe/Berlin")


@pytest.mark.parametrize(
    ("args", "named"), [("8h", "'8h'"), ("08:30 daily Moon/Base", "Moon/Base")]
)
def test_schedule_errors_name_the_bad_part(core: CommandCore, args: str, named: str) -> None:
    ask(core, "subscribe")
    reply = ask(core, f"schedule {args}").reply
    assert isinstance(reply, ErrorReply) and named in reply.message


def test_non_admins_cannot_change_but_can_query(core: CommandCore, archive: Archive) -> None:
    for text in ("subscribe tag:Agent", "unsubscribe all", "schedule 08:00"):
        reply = ask(core, text, admin=False).reply
        assert isinstance(reply, ErrorReply)
        assert "admin" in reply.message and reply.example
    assert archive.subscriptions.get("slack", "C1") is None
    assert isinstance(ask(core, "tag:RL", admin=False).reply, SearchReply)
    assert isinstance(ask(core, "subscriptions", admin=False).reply, SubscriptionReply)
    assert isinstance(ask(core, "subscribe", admin=True).reply, SubscriptionReply)


# -- failures never escape ---------------------------------------------------------------


def test_unexpected_errors_become_an_apology_and_a_log(
    core: CommandCore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(core.archive, "search", explode)
    before = sample("digestbot_commands", platform="slack", command="search", outcome="crash")
    with caplog.at_level(logging.ERROR, logger="bot.chat.core"):
        reply = ask(core, "tag:RL").reply
    assert isinstance(reply, ErrorReply)
    assert "boom" not in reply.message and "Traceback" not in reply.message
    assert any("boom" in (r.exc_text or "") for r in caplog.records)
    assert (
        sample("digestbot_commands", platform="slack", command="search", outcome="crash")
        == before + 1
    )


def test_archive_errors_do_not_leak_the_url(
    core: CommandCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_args: object, **_kwargs: object) -> None:
        raise ArchiveError("archive postgresql://secret@db: cannot search: connection refused")

    monkeypatch.setattr(core.archive, "search", down)
    reply = ask(core, "tag:RL").reply
    assert isinstance(reply, ErrorReply)
    assert "secret" not in reply.message and "not reachable" in reply.message


def test_a_broken_subscriptions_table_gets_a_clear_answer(
    core: CommandCore, caplog: pytest.LogCaptureFixture
) -> None:
    with core.archive.engine.begin() as conn:
        conn.execute(sqlalchemy.text("DROP TABLE subscriptions"))
    for command in ("subscribe tag:RL", "subscriptions"):
        reply = ask(core, command, admin=True).reply
        assert isinstance(reply, ErrorReply), command
        assert "went wrong" not in reply.message
    assert not [r for r in caplog.records if r.exc_info]


def test_commands_are_counted(core: CommandCore) -> None:
    before = sample("digestbot_commands", platform="slack", command="subscribe", outcome="denied")
    ask(core, "subscribe", admin=False)
    assert (
        sample("digestbot_commands", platform="slack", command="subscribe", outcome="denied")
        == before + 1
    )


# -- effective settings -------------------------------------------------------------------


def test_effective_channel_prefers_row_then_config_then_defaults(settings: Settings) -> None:
    from bot.archive.subscriptions import Subscription

    plain = effective_channel(settings, None, "slack", "CX")
    assert (plain.schedule, plain.timezone, plain.active) == (
        "0 9 * * *",
        "Asia/Shanghai",
        False,
    )
    configured = effective_channel(settings, None, "slack", "CCONFIG")
    assert (configured.schedule, configured.topics, configured.active) == (
        "0 8 * * *",
        ("tag:RL",),
        True,
    )
    row = Subscription(platform="slack", channel_id="CCONFIG", timezone="UTC", topics=[])
    merged = effective_channel(settings, row, "slack", "CCONFIG")
    assert (merged.schedule, merged.timezone, merged.topics) == ("0 8 * * *", "UTC", ())


def test_a_query_with_999_terms_names_the_limit_not_the_archive(core: CommandCore) -> None:
    reply = ask(core, " ".join(f"w{i}" for i in range(999))[:1990]).reply
    assert isinstance(reply, ErrorReply)
    assert "terms" in reply.message and "archive" not in reply.message


def test_self_service_starts_a_subscription_but_does_not_change_one(
    core: CommandCore, archive: Archive
) -> None:
    def member(text: str, start: bool = True) -> object:
        request = CommandRequest("slack", "CSELF", "U9", False, text, anyone_may_start=start)
        return core.handle(request).reply

    assert isinstance(member("subscribe", start=False), ErrorReply)  # Telegram groups
    assert archive.subscriptions.get("slack", "CSELF") is None
    assert isinstance(member("subscribe"), SubscriptionReply)
    for change in ("subscribe tag:RL", "unsubscribe all", "schedule 07:00"):
        refused = member(change)
        assert isinstance(refused, ErrorReply) and "admin" in refused.message
    row = archive.subscriptions.get("slack", "CSELF")
    assert row is not None and row.active and row.topics == [] and row.schedule is None


async def test_first_time_is_shared_through_the_archive_and_never_drops_on_a_fault(
    core: CommandCore, archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    memory = dt.timedelta(minutes=5)
    assert await core.first_time("feishu:ev-1", memory)
    assert not await core.first_time("feishu:ev-1", memory)
    other = CommandCore(archive, core.settings)  # another replica, the same archive
    assert not await other.first_time("feishu:ev-1", memory)
    with archive.engine.begin() as conn:
        conn.execute(sqlalchemy.text("DROP TABLE seen_requests"))
    with caplog.at_level(logging.WARNING):
        assert await core.first_time("feishu:ev-2", memory)  # handled, not silently dropped
    assert "feishu:ev-2 was seen before" in caplog.text
    other.close()
