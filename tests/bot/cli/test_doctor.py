"""``digestbot doctor`` over the real clients against the fakes: one table, exit 1 on a fail."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.fakes import FakeSlack, FakeTelegram
from tests.fakes.dingtalk_api import FakeDingTalk
from tests.fakes.wecom_api import FakeWeCom
from tests.support.cli import run as run_cli
from tests.support.delivery_kit import REFERENCE, write_config


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    code = run_cli(["--config", str(config), "doctor"])
    out = capsys.readouterr().out
    rows: dict[str, str] = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if len(cells) == 3 and cells[0] and cells[1][:1] in "✓!✗":
            rows[cells[0]] = f"{cells[1]} {cells[2]}"
        elif len(cells) == 3 and not cells[0] and not cells[1] and rows:
            last = list(rows)[-1]  # a folded detail continues on the next line
            rows[last] += f" {cells[2]}"
    return code, rows


def fakes_config(tmp_path: Path, slack: FakeSlack, telegram: FakeTelegram, **kw: object) -> Path:
    return write_config(
        tmp_path,
        slack_url=slack.api_url,
        telegram_url=telegram.api_url,
        telegram_token=telegram.token,
        channels=[
            {"platform": "slack", "id": "C1", "schedule": "08:30 weekdays"},
            {"platform": "telegram", "id": "-1001", "timezone": "Europe/Berlin"},
            {"platform": "console", "id": "terminal"},
        ],
        **kw,  # type: ignore[arg-type]
    )


def test_all_good(
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = fakes_config(tmp_path, fake_slack, fake_telegram)
    assert run_cli(["--config", str(config), "ingest"]) == 0
    capsys.readouterr()
    code, rows = doctor(config, capsys)
    assert code == 0, "\n".join(f"{k}: {v}" for k, v in rows.items())
    assert rows["config"].startswith("✓ ok")
    assert re.search(r"schema \d{4} \(head\); 1 digests, newest 2026-02-03", rows["archive"])
    assert "1 files, newest 2026-02-03" in rows["sources"]
    assert "auth.test: @digestbot in Fake Team" in rows["slack"]
    assert rows["slack scopes"].startswith("✓ ok") and "chat:write" in rows["slack scopes"]
    assert rows["slack listener"].startswith("! warn")  # no app token: /ai is off
    assert rows["telegram"].startswith("✓ ok") and "getMe: @" in rows["telegram"]
    assert re.search(r"next \d{4}-\d\d-\d\d 08:30 .*the bot is a member", rows["slack:C1"])
    assert "next" in rows["telegram:-1001"] and "CET" in rows["telegram:-1001"]
    assert rows["console:terminal"].startswith("✓ ok")
    assert {call.method for call in fake_slack.calls} >= {"auth.test", "conversations.info"}
    assert {"getMe", "getChat", "getChatMember"} <= {call.method for call in fake_telegram.calls}


def test_failures_are_named_and_exit_1(
    tmp_path: Path,
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_slack.scopes = ["chat:write", "commands"]
    fake_slack.add_channel("C1", "general", archived=True)
    fake_telegram.fail_chat(-1001, "kicked")
    config = fakes_config(
        tmp_path, fake_slack, fake_telegram, sources=[str(REFERENCE), "nowhere/*.md"]
    )
    code, rows = doctor(config, capsys)
    assert code == 1
    assert "✗ fail missing: channels:history" in rows["slack scopes"]
    assert "#general is archived" in rows["slack:C1"]
    assert rows["telegram:-1001"].startswith("✗ fail") and "kicked" in rows["telegram:-1001"]
    assert "nowhere/*.md: no digest files match" in rows["sources"]
    assert rows["archive"].startswith("! warn") and "schema empty" in rows["archive"]


def test_a_wrong_token_fails_without_printing_it(
    tmp_path: Path, fake_telegram: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        telegram_url=fake_telegram.api_url,
        telegram_token="999:wrong-token",
        channels=[{"platform": "telegram", "id": "-1001"}],
    )
    code = run_cli(["--config", str(config), "doctor"])
    out = capsys.readouterr().out
    assert code == 1
    assert "getMe" in out and "fail" in out
    assert "999:wrong-token" not in out


def test_a_bad_config_is_one_failed_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("log_level: LOUD\n", encoding="utf-8")
    code, rows = doctor(config, capsys)
    assert code == 1
    assert "log_level: unknown log level 'LOUD'" in rows["config"]


def test_group_robots_are_probed_and_their_tokens_never_printed(
    tmp_path: Path,
    fake_dingtalk: FakeDingTalk,
    fake_wecom: FakeWeCom,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = fake_dingtalk.add_robot("SECsigning")
    wrong_key = str(uuid.uuid4())
    wrong = f"{fake_wecom.base_url}/cgi-bin/webhook/send?key={wrong_key}"
    config = write_config(
        tmp_path,
        channels=[
            {"platform": "dingtalk", "id": "ops", "webhook": good, "secret": "SECsigning"},
            {"platform": "wecom", "id": "team", "webhook": wrong},
        ],
    )
    code = run_cli(["--config", str(config), "doctor"])
    out = capsys.readouterr().out
    assert code == 1
    _, rows = doctor(config, capsys)
    assert (
        rows["dingtalk:ops"].startswith("! warn") and "nothing was posted" in rows["dingtalk:ops"]
    )
    assert rows["wecom:team"].startswith("✗ fail") and "channels[1].webhook" in rows["wecom:team"]
    for secret in (fake_dingtalk.robot(good).token, "SECsigning", wrong_key):
        assert secret not in out
    assert fake_dingtalk.sent(good) == []
