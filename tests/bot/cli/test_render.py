"""``digestbot render``: payload JSON that passes the platform validators, previews, errors."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from bot.archive import Archive
from bot.cli.render import BLOCK_KIT_BUILDER, PARENT_TS
from bot.ingest import file_sha256, parse_file
from tests.fakes.dingtalk_validation import validate_dingtalk_message
from tests.fakes.feishu_validation import validate_feishu_message
from tests.fakes.slack_validation import check_slack_message, live_mentions, slack_mrkdwn
from tests.fakes.telegram_validation import check_telegram_message
from tests.fakes.wecom_validation import validate_wecom_message
from tests.support.cli import run

DATA = Path(__file__).resolve().parents[2] / "data"


def test_slack_json_is_valid_and_marks_thread_replies(reference_digest_path: Path, capsys) -> None:
    code = run(["render", str(reference_digest_path), "--platform", "slack", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    payloads = json.loads(captured.out)
    assert len(payloads) == 15
    for payload in payloads:
        check_slack_message(payload)
        assert payload["channel"] == "C0000000000"
        assert all(live_mentions(t) == [] for t in slack_mrkdwn(payload))
    assert "thread_ts" not in payloads[0]
    assert all(p["thread_ts"] == PARENT_TS for p in payloads[1:])
    # The Block Kit Builder link (stderr only) opens exactly the parent's blocks.
    link = next(line for line in captured.err.splitlines() if BLOCK_KIT_BUILDER in line)
    encoded = link.split(BLOCK_KIT_BUILDER, 1)[1]
    assert json.loads(unquote(encoded)) == {"blocks": payloads[0]["blocks"]}


def test_telegram_json_is_valid_with_the_given_chat(reference_digest_path: Path, capsys) -> None:
    code = run(
        ["render", str(reference_digest_path), "-p", "telegram", "--json", "--channel", "-1001234"]
    )
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    payloads = json.loads(captured.out)
    assert len(payloads) >= 2
    for payload in payloads:
        check_telegram_message(payload)
        assert payload["chat_id"] == -1001234
        assert payload["link_preview_options"] == {"is_disabled": True}


def test_hostile_file_renders_as_harmless_text(capsys) -> None:
    hostile = DATA / "formatters_hostile.md"
    assert run(["render", str(hostile), "-p", "slack", "--json"]) == 0
    slack_payloads = json.loads(capsys.readouterr().out)
    for payload in slack_payloads:
        check_slack_message(payload)
        assert all(live_mentions(t) == [] for t in slack_mrkdwn(payload))
    assert run(["render", str(hostile), "-p", "telegram", "--json"]) == 0
    telegram_payloads = json.loads(capsys.readouterr().out)
    text = "".join(check_telegram_message(p) for p in telegram_payloads)
    assert "<script>alert(1)</script>" in text and "<!channel>" in text


def test_previews_without_json(reference_digest_path: Path, capsys) -> None:
    assert run(["render", str(reference_digest_path), "-p", "console"]) == 0
    out = capsys.readouterr().out
    assert "AI 每日情报 | 2026-02-03" in out and "CL-bench" in out and "相关资源" in out
    assert run(["render", str(reference_digest_path), "-p", "slack"]) == 0
    captured = capsys.readouterr()
    assert "#1 parent" in captured.out and "#15 thread reply" in captured.out
    assert BLOCK_KIT_BUILDER in captured.err
    assert run(["render", str(reference_digest_path), "-p", "telegram"]) == 0
    assert "阅读原文" in capsys.readouterr().out


def test_console_json_is_text_at_80_columns(reference_digest_path: Path, capsys) -> None:
    assert run(["render", str(reference_digest_path), "-p", "console", "--json"]) == 0
    texts = [entry["text"] for entry in json.loads(capsys.readouterr().out)]
    assert any("CL-bench" in t for t in texts)
    from rich.cells import cell_len

    assert max(cell_len(line) for t in texts for line in t.splitlines()) <= 80


def test_date_reads_the_archive(tmp_path: Path, reference_digest_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    archive = Archive(url)
    archive.create_schema()
    digest = parse_file(reference_digest_path).digest
    archive.store(
        digest, path=str(reference_digest_path), sha256=file_sha256(reference_digest_path)
    )
    archive.close()
    config = tmp_path / "config.yaml"
    config.write_text(f"archive:\n  url: {url}\nlanguage: en\n", encoding="utf-8")
    code = run(
        ["--config", str(config), "render", "--date", "2026-02-03", "-p", "telegram", "--json"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    payloads = json.loads(captured.out)
    assert payloads[0]["text"].startswith(
        "<b>AI 每日情报 | 2026-02-03</b>\n14 items"
    )  # language: en
    for payload in payloads:
        check_telegram_message(payload)
    code = run(["--config", str(config), "render", "--date", "2026-02-04", "-p", "slack", "--json"])
    captured = capsys.readouterr()
    assert code == 1 and "no digest for 2026-02-04" in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "-p", "slack"], "or --week W"),
        (["render", "x.md", "--date", "2026-02-03"], "not both"),
        (["render", "--date", "Feb 3", "-p", "slack"], "not a date"),
        (["render", "x.md", "-p", "discord"], "discord"),
    ],
)
def test_usage_errors_name_the_problem(argv: list[str], message: str, capsys) -> None:
    code = run(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err


@pytest.mark.parametrize("platform", ["feishu", "dingtalk", "wecom"])
def test_robot_platforms_print_webhook_bodies_the_fakes_accept(
    reference_digest_path: Path, capsys, platform: str
) -> None:
    validate = {
        "feishu": validate_feishu_message,
        "dingtalk": validate_dingtalk_message,
        "wecom": validate_wecom_message,
    }[platform]
    assert run(["render", str(reference_digest_path), "-p", platform, "--json"]) == 0
    payloads = json.loads(capsys.readouterr().out)
    assert payloads
    seen = [validate(payload) for payload in payloads]
    assert all(not m["mentions"] for m in seen)
    assert run(["render", str(reference_digest_path), "-p", platform]) == 0
    preview = capsys.readouterr().out
    assert f"#{len(payloads)} · {platform}" in preview
