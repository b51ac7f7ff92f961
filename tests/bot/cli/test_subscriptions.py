"""``digestbot subscriptions list|add|remove`` on a real SQLite archive via the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.archive import Archive
from bot.channels import delivery_jobs, load_channels
from bot.chat import CommandCore, CommandRequest, ErrorReply
from bot.config import load_settings
from tests.support.cli import run as run_cli


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for the whole table, so cells are not folded mid-word."""
    from bot.cli.app import out

    monkeypatch.setattr(out, "width", 200)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "archive:\n  url: sqlite:///subs.db\n"
        "timezone: Asia/Shanghai\n"
        "channels:\n"
        "  - platform: slack\n    id: CCONF\n    topics: ['tag:RL']\n    schedule: '0 7 * * *'\n",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str) -> int:
    return run_cli(["--config", str(config), "subscriptions", *args])


def stored(config: Path) -> Archive:
    return Archive(f"sqlite:///{config.parent / 'subs.db'}")


def test_add_list_remove(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(config, "add", "slack", "C123", "--topic", "tag:Agent", "--topic", "tag:RL -tag:开源")
        == 0
    )
    assert "Added slack:C123" in capsys.readouterr().out
    assert (
        run(
            config,
            "add",
            "slack",
            "C123",
            "-t",
            "tag:Agent",
            "--schedule",
            "08:30 weekdays",
            "-z",
            "UTC",
        )
        == 0
    )
    assert "Updated slack:C123" in capsys.readouterr().out
    archive = stored(config)
    row = archive.subscriptions.get("slack", "C123")
    assert row is not None
    assert row.topics == ["tag:Agent", "tag:RL -tag:开源"]
    assert (row.schedule, row.timezone, row.created_by) == ("30 8 * * mon-fri", "UTC", "cli")

    assert run(config, "add", "telegram", "-100200", "--thread-id", "42") == 0
    assert run(config, "list") == 0
    listing = capsys.readouterr().out
    for expected in ("C123", "tag:Agent", "30 8 * * mon-fri", "UTC", "-100200", "thread 42"):
        assert expected in listing
    assert "(whole digest)" in listing and "Asia/Shanghai" in listing

    assert run(config, "list", "--platform", "telegram") == 0
    assert "C123" not in capsys.readouterr().out

    assert run(config, "remove", "slack", "C123") == 0
    assert archive.subscriptions.get("slack", "C123") is None
    assert run(config, "remove", "slack", "C123") == 1
    assert "no subscription stored for slack:C123" in capsys.readouterr().err
    archive.close()


def test_add_reactivates_and_seeds_config_topics(config: Path) -> None:
    archive = stored(config)
    archive.create_schema()
    archive.subscriptions.upsert("slack", "CGONE", topics=[])
    archive.subscriptions.deactivate("slack", "CGONE", "channel_not_found")
    assert run(config, "add", "slack", "CGONE") == 0
    row = archive.subscriptions.get("slack", "CGONE")
    assert row is not None and row.active and row.inactive_reason is None
    assert run(config, "add", "slack", "CCONF", "--topic", "tag:Agent") == 0
    row = archive.subscriptions.get("slack", "CCONF")
    assert row is not None and row.topics == ["tag:RL", "tag:Agent"]
    archive.close()


@pytest.mark.parametrize(
    ("args", "digest", "weekly"),
    [
        (["--digest", "both", "--weekly-schedule", "0 17 * * fri"], "both", "0 17 * * fri"),
        (["--weekly-schedule", "sat 09:30"], "both", "30 9 * * sat"),  # as the chat reads it
        (["-w", "only fri 18:00"], "weekly", "0 18 * * fri"),
        (["--digest", "weekly"], "weekly", None),  # the default weekly_schedule then
        (["--digest", "weekly", "--weekly-schedule", "0 8 * * mon"], "weekly", "0 8 * * mon"),
        (["--weekly-schedule", "off"], "daily", None),
    ],
)
def test_add_sets_the_weekly_rollup_as_the_chat_does(
    config: Path, args: list[str], digest: str, weekly: str | None
) -> None:
    assert run(config, "add", "slack", "CW", *args) == 0
    archive = stored(config)
    row = archive.subscriptions.get("slack", "CW")
    archive.close()
    assert row is not None and (row.digest, row.weekly_schedule) == (digest, weekly)
    settings = load_settings(str(config), environ={})
    archive = stored(config)
    channels = [c for c in load_channels(settings, archive.subscriptions) if c.id == "CW"]
    jobs = {c.key: c for c in delivery_jobs(channels)}
    archive.close()
    expected = {
        "daily": ["slack:CW"],
        "weekly": ["slack:CW/weekly"],
        "both": ["slack:CW", "slack:CW/weekly"],
    }
    assert sorted(jobs) == expected[digest]
    if "slack:CW/weekly" in jobs:
        assert jobs["slack:CW/weekly"].schedule == (weekly or settings.weekly_schedule)


def test_the_chat_and_the_cli_store_the_same_weekly_row(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "add", "slack", "CCLI", "--weekly-schedule", "only fri 17:00 UTC") == 0
    settings = load_settings(str(config), environ={})
    archive = stored(config)
    archive.subscriptions.upsert("slack", "CCHAT", topics=[])
    request = CommandRequest("slack", "CCHAT", "U1", True, "schedule weekly only fri 17:00 UTC")
    CommandCore(archive, settings).handle(request)
    cli, chat = (
        archive.subscriptions.get("slack", "CCLI"),
        archive.subscriptions.get("slack", "CCHAT"),
    )
    archive.close()
    assert cli is not None and chat is not None
    fields = ("digest", "weekly_schedule", "timezone", "active")
    assert [getattr(cli, f) for f in fields] == [getattr(chat, f) for f in fields]
    assert cli.digest == "weekly" and cli.timezone == "UTC"
    assert run(config, "list") == 0
    listing = capsys.readouterr().out
    assert "weekly 0 17 * * fri" in listing and "0 9 * * *" not in listing  # rollup only


def test_inactive_rows_show_their_reason(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = stored(config)
    archive.create_schema()
    archive.subscriptions.upsert("slack", "CDEAD", topics=[])
    archive.subscriptions.deactivate("slack", "CDEAD", "is_archived")
    archive.close()
    assert run(config, "list") == 0
    out = capsys.readouterr().out
    assert "inactive since" in out and ": is_archived" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["add", "slack", "C1", "--topic", "colour:red"], "colour:red"),
        (["add", "slack", "C1", "--schedule", "25:99"], "--schedule"),
        (["add", "slack", "C1", "--timezone", "Moon/Base"], "Moon/Base"),
        (["add", "slack", "C1", "--digest", "monthly"], "--digest: 'monthly' is not one of"),
        (["add", "slack", "C1", "--weekly-schedule", "fri 25:00"], "--weekly-schedule"),
        (
            ["add", "slack", "C1", "--digest", "daily", "--weekly-schedule", "only fri 17:00"],
            "the digest asked for is daily",
        ),
        (["add", "irc", "C1"], "irc"),
        (["add", "console", "x"], "'console' channels cannot be subscribed"),
        (["add", "file", "x"], "'file' channels cannot be subscribed"),
    ],
)
def test_bad_input_is_named_and_nothing_is_stored(
    config: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    assert run(config, *args) == 1
    assert named in capsys.readouterr().err
    archive = stored(config)
    archive.create_schema()
    assert archive.subscriptions.list() == []
    archive.close()


def test_empty_list_says_how_to_add(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config, "list") == 0
    assert "digestbot subscriptions add" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("option", "value", "chat"),
    [
        ("--schedule", "25:99", "schedule 25:99"),
        ("--topic", "colour:red", "subscribe colour:red"),
        ("--timezone", "Moon/Base", "schedule 08:30 Moon/Base"),
        ("--weekly-schedule", "fri 25:00", "schedule weekly fri 25:00"),
        ("--weekly-schedule", "only", "schedule weekly only"),
    ],
)
def test_cli_and_chat_give_the_same_answer(
    config: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, chat: str
) -> None:
    assert run(config, "add", "slack", "C1", option, value) == 1
    cli_error = capsys.readouterr().err
    settings = load_settings(str(config), environ={})
    archive = stored(config)
    archive.create_schema()
    archive.subscriptions.upsert("slack", "C1", topics=[])  # chat: schedule needs a row
    request = CommandRequest("slack", "C1", "U1", True, chat)
    reply = CommandCore(archive, settings).handle(request).reply
    archive.close()
    assert isinstance(reply, ErrorReply)
    assert " ".join(reply.message.split()) in " ".join(cli_error.split())


def test_list_shows_why_and_when_a_channel_went_inactive_and_activate_undoes_it(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "list") == 0
    archive = stored(config)
    archive.create_schema()
    archive.subscriptions.deactivate("slack", "CGONE", "slack:CGONE: chat.postMessage: is_archived")
    capsys.readouterr()
    assert run(config, "list") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "inactive since" in out and "is_archived" in out
    assert run(config, "activate", "slack", "CGONE") == 0
    assert "Activated slack:CGONE" in capsys.readouterr().out
    row = archive.subscriptions.get("slack", "CGONE")
    assert row is not None and row.active and row.inactive_reason is None
    assert run(config, "activate", "slack", "CNONE") == 1
    archive.close()


def test_list_shows_unfinished_and_given_up_deliveries(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    archive = stored(config)
    archive.create_schema()
    ledger = archive.ledger
    old = ledger.claim("slack", "CCONF", dt.date(2026, 2, 1), "dead", dt.timedelta(seconds=0))
    assert old is not None
    ledger.record(old.delivery_id, 0, "1.0")
    assert ledger.give_up(old.delivery_id, "not finished within max_age (2 days)")
    new = ledger.claim("slack", "CCONF", dt.date(2026, 2, 3), "dead", dt.timedelta(minutes=5))
    assert new is not None
    ledger.fail(new.delivery_id, "window closed after 3h of 429s", permanent=False)
    archive.close()
    assert run(config, "list") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "2026-02-01" in out and "given up" in out and "max_age" in out
    assert "2026-02-03" in out and "unfinished, will resume" in out and "429s" in out
    assert "--retry" in out
