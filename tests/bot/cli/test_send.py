"""``digestbot send``: the console channel, the fakes, the ledger, dry runs and exit codes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from bot.archive.schema import deliveries
from tests.fakes import FakeSlack, FakeTelegram
from tests.support.cli import run as run_cli
from tests.support.delivery_kit import (
    AGENT_RANKS,
    ROOT,
    fast_timings,
    ranks_seen,
    reference_items,
    slack_text,
)
from tests.support.delivery_kit import write_config as write_kit_config


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run_cli(argv)
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())  # messages wrap at 80 columns


def ledger_rows(config_dir: Path, name: str = "archive.db") -> list[Any]:
    engine = create_engine(f"sqlite:///{config_dir / name}")
    with engine.connect() as conn:
        rows = conn.execute(select(deliveries).order_by(deliveries.c.id)).all()
    engine.dispose()
    return rows


def write_config(directory: Path, **kwargs: Any) -> Path:
    """The kit's config with test timings (no pacing, quick retries, the default max_age)."""
    return write_kit_config(directory, timings=fast_timings(any_age=False), **kwargs)


def test_console_channel_renders_the_digest_and_records_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        archive_url="sqlite:///archive.db",  # relative: next to the config file
        channels=[{"platform": "console", "id": "terminal"}],
    )
    code, out, err = run(["--config", str(config), "send", "--date", "2026-02-03"], capsys)
    assert code == 0, err
    for item in reference_items():
        assert item.title[:12] in out
    assert "delivery summary" in out
    assert "console:terminal" in out and "delivered" in out
    (row,) = ledger_rows(tmp_path)
    assert (row.platform, row.channel_id, str(row.digest_date), row.status) == (
        "console",
        "terminal",
        "2026-02-03",
        "done",
    )
    assert row.message_count and row.message_count > 14

    code, out, err = run(["--config", str(config), "send", "--date", "2026-02-03"], capsys)
    assert code == 0, err
    assert "already delivered" in out
    assert reference_items()[0].title[:12] not in out
    assert len(ledger_rows(tmp_path)) == 1


def fakes_config(tmp_path: Path, slack: FakeSlack, telegram: FakeTelegram) -> Path:
    return write_config(
        tmp_path,
        channels=[
            {"platform": "slack", "id": "C1"},
            {"platform": "slack", "id": "CAGENT", "topics": ["tag:Agent"]},
            {"platform": "telegram", "id": -1001},
        ],
        slack_url=slack.api_url,
        telegram_url=telegram.api_url,
        telegram_token=telegram.token,
    )


def test_send_delivers_once_through_the_fakes_even_with_429s(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
) -> None:
    config = fakes_config(tmp_path, fake_slack, fake_telegram)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
    code, out, err = run(["--config", str(config), "send", "--date", "2026-02-03"], capsys)
    assert code == 0, out + err
    assert ranks_seen([slack_text(m) for m in fake_slack.messages("C1")]) == list(range(1, 15))
    assert ranks_seen([slack_text(m) for m in fake_slack.messages("CAGENT")]) == AGENT_RANKS
    assert ranks_seen([m["html"] for m in fake_telegram.sent(-1001)]) == list(range(1, 15))
    assert out.count("delivered") >= 3
    posted = len(fake_slack.calls_to("chat.postMessage")) + len(
        fake_telegram.calls_to("sendMessage")
    )

    code, out, _ = run(["--config", str(config), "send", "--date", "2026-02-03"], capsys)
    assert code == 0
    assert out.count("already delivered") == 3
    assert (
        len(fake_slack.calls_to("chat.postMessage")) + len(fake_telegram.calls_to("sendMessage"))
        == posted
    )


def test_dry_run_shows_what_would_go_where_and_writes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
) -> None:
    config = fakes_config(tmp_path, fake_slack, fake_telegram)
    code, out, err = run(
        ["--config", str(config), "send", "--date", "2026-02-03", "--dry-run"], capsys
    )
    assert code == 0, err
    assert "dry run: nothing was posted" in out
    assert "slack:C1 · 2026-02-03 · 14/14 items (whole digest) · 15 messages" in out
    assert "slack:CAGENT · 2026-02-03 · 4/14 items (tag:Agent) · 5 messages" in out
    assert "#14: thread reply" in out
    assert fake_slack.calls_to("chat.postMessage") == []
    assert fake_telegram.calls_to("sendMessage") == []
    assert ledger_rows(tmp_path) == []


def test_channel_option_selects_one_and_names_unknown_ones(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
) -> None:
    config = fakes_config(tmp_path, fake_slack, fake_telegram)
    argv = ["--config", str(config), "send", "--date", "2026-02-03"]
    code, _, err = run([*argv, "--channel", "CAGENT"], capsys)
    assert code == 0, err
    assert set(fake_slack.all_messages()) == {"CAGENT"}
    assert fake_telegram.calls_to("sendMessage") == []
    code, _, err = run([*argv, "--channel", "C404"], capsys)
    assert code == 2  # a usage error
    assert "--channel C404: no such channel (known: slack:C1, slack:CAGENT, telegram:-1001)" in err


def test_a_failed_channel_makes_the_exit_status_non_zero(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
) -> None:
    config = fakes_config(tmp_path, fake_slack, fake_telegram)
    fake_slack.fail_channel("CAGENT", "is_archived")
    code, out, err = run(["--config", str(config), "send", "--date", "2026-02-03"], capsys)
    assert code == 1
    assert "deactivated" in out
    assert "error: slack:CAGENT: conversations.join: is_archived" in err  # before any post
    # The deactivated channel is skipped from now on; the rest is already delivered.
    code, out, _ = run(["--config", str(config), "send", "--date", "2026-02-03"], capsys)
    assert code == 0
    assert "CAGENT" not in out


def test_bad_input_gets_a_located_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, channels=[{"platform": "console", "id": "terminal"}])
    code, _, err = run(["--config", str(config), "send", "--date", "3 Feb"], capsys)
    assert (code, "--date: '3 Feb' is not a date (use YYYY-MM-DD)" in err) == (2, True)
    code, _, err = run(["--config", str(config), "send", "--date", "2025-01-01"], capsys)
    assert code == 1
    assert "--date 2025-01-01: no digest for that day in the archive" in err
    empty = write_config(tmp_path, channels=[])
    code, _, err = run(["--config", str(empty), "send"], capsys)
    assert (code, "channels: no channels configured or subscribed" in err) == (1, True)


def test_without_a_date_an_old_digest_is_not_sent_and_send_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, channels=[{"platform": "console", "id": "terminal"}])
    code, out, err = run(["--config", str(config), "send"], capsys)
    assert code == 1  # a digest was expected and none is fresh enough
    assert "no digest" in out
    assert (
        "warning: console:terminal: skipped 2026-02-03: older than max_age (2d); "
        "`digestbot send --date 2026-02-03` sends it anyway" in err
    )
    assert ledger_rows(tmp_path) == []
    empty = write_config(tmp_path, sources=[], channels=[{"platform": "console", "id": "t"}])
    (tmp_path / "archive.db").unlink()
    code, _, err = run(["--config", str(empty), "send"], capsys)
    assert (code, "the archive has no digest yet" in err) == (1, True)


def test_nothing_new_is_nothing_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(
        tmp_path,
        channels=[{"platform": "console", "id": "terminal"}],
        extra={"max_age": "3650d"},
    )
    code, out, _ = run(["--config", str(config), "send"], capsys)
    assert (code, "delivered" in out) == (0, True)
    code, out, _ = run(["--config", str(config), "send"], capsys)
    assert code == 0
    assert "nothing new" in out and "nothing new since 2026-02-03" in out


def test_the_console_prints_headlines_and_show_prints_the_whole_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, channels=[{"platform": "console", "id": "terminal"}])
    argv = ["--config", str(config), "send", "--date", "2026-02-03"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert len(out.splitlines()) < 40
    assert "add --show" in out
    section = "核心技术/实现逻辑"  # a section heading inside the first item
    assert section not in out
    code, out, _ = run([*argv, "--show"], capsys)  # already delivered: shown, not re-sent
    assert code == 0 and "already delivered" in out
    assert section in out and len(out.splitlines()) > 200
    (row,) = ledger_rows(tmp_path)
    assert row.status == "done"


def test_dry_run_needs_no_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(
        tmp_path,
        channels=[{"platform": "slack", "id": "C1"}, {"platform": "telegram", "id": "-1001"}],
    )
    argv = ["--config", str(config), "send", "--date", "2026-02-03", "--dry-run"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert "slack:C1" in out and "telegram:-1001" in out
    assert "thread reply" in out and "not set" not in err
    assert ledger_rows(tmp_path) == []


def test_a_missing_token_fails_that_platform_with_the_key_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        channels=[{"platform": "slack", "id": "C1"}, {"platform": "console", "id": "terminal"}],
    )
    code, _, err = run(["--config", str(config), "send", "--date", "2026-02-03"], capsys)
    assert code == 1
    assert "error: slack:C1: slack.bot_token is not set (or SLACK_BOT_TOKEN)" in err
    engine = create_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    with engine.connect() as conn:
        done = conn.execute(select(func.count()).where(deliveries.c.status == "done")).scalar()
    engine.dispose()
    assert done == 1  # the console channel was still served


def test_the_readme_command_on_a_copy_of_config_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``digestbot --config config.example.yaml send --date 2026-02-03``, in a scratch copy
    (the example's relative paths resolve next to the config file)."""
    if not (ROOT / "config.example.yaml").exists():
        pytest.skip("config.example.yaml is not written yet")
    shutil.copy(ROOT / "config.example.yaml", tmp_path / "config.example.yaml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    argv = ["--config", str(tmp_path / "config.example.yaml"), "send", "--date", "2026-02-03"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert reference_items()[-1].title[:12] in out
    assert (tmp_path / "digestbot.db").exists()
    (row,) = ledger_rows(tmp_path, "digestbot.db")
    assert (row.platform, row.status) == ("console", "done")


def test_send_to_group_robots_with_secrets_from_the_environment(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_feishu_webhook: Any,
    fake_dingtalk: Any,
    fake_wecom: Any,
) -> None:
    feishu = fake_feishu_webhook.add_robot("feishu-signing")
    dingtalk = fake_dingtalk.add_robot("SECdingtalk")
    wecom = fake_wecom.add_robot()
    monkeypatch.setenv("TEST_DINGTALK_SECRET", "SECdingtalk")
    monkeypatch.setenv("TEST_WECOM_WEBHOOK", wecom)
    config = write_config(
        tmp_path,
        channels=[
            {"platform": "feishu", "id": "team", "webhook": feishu, "secret": "feishu-signing"},
            {
                "platform": "dingtalk",
                "id": "team",
                "webhook": dingtalk,
                "secret": "${TEST_DINGTALK_SECRET}",
                "topics": ["tag:Agent"],
            },
            {"platform": "wecom", "id": "team", "webhook": "${TEST_WECOM_WEBHOOK}"},
        ],
    )
    code, out, err = run(["--config", str(config), "send", "--date", "2026-02-03"], capsys)
    assert code == 0, out + err
    assert out.count("delivered") == 3

    def links(fake: Any, hook: str) -> list[str]:
        return [link for m in fake.sent(hook) for link in m["links"]]

    assert ranks_seen(links(fake_feishu_webhook, feishu)) == list(range(1, 15))
    assert ranks_seen(links(fake_dingtalk, dingtalk)) == AGENT_RANKS
    assert ranks_seen(links(fake_wecom, wecom)) == list(range(1, 15))
    for secret in ("SECdingtalk", "feishu-signing", fake_wecom.robot(wecom).token):
        assert secret not in out + err
    code, out, _ = run(
        ["--config", str(config), "send", "--date", "2026-02-03", "--dry-run"], capsys
    )
    assert code == 0 and "already" in out


def test_send_retry_tries_a_failed_day_again(
    tmp_path: Path, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path, channels=[{"platform": "slack", "id": "C1"}], slack_url=fake_slack.api_url
    )
    fake_slack.fail_next("chat.postMessage", status=400, error="invalid_blocks")
    argv = ["--config", str(config), "send", "--date", "2026-02-03"]
    code, _, err = run(argv, capsys)
    assert code == 1 and "invalid_blocks" in err
    from bot.archive import Archive

    archive = Archive(f"sqlite:///{tmp_path / 'archive.db'}")
    claim = archive.ledger.claim("slack", "C1", dt.date(2026, 2, 3), "x", dt.timedelta(0))
    assert claim is not None  # it was released; now fail it for good, as a bad day would be
    archive.ledger.fail(claim.delivery_id, "gave up by hand", permanent=True)
    archive.close()
    code, out, err = run(argv, capsys)
    assert code == 1 and "failed earlier" in " ".join(out.split()) + err
    code, out, err = run([*argv, "--retry"], capsys)
    assert code == 0, err
    assert "retrying" in out and "delivered" in out
    assert len(fake_slack.messages("C1")) == 15
    code, _, err = run(["--config", str(config), "send", "--retry"], capsys)
    assert code != 0 and "--retry" in err
