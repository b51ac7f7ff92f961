"""Digest content and chat-supplied topics never drive the terminal: no control
characters from content reach stdout/stderr, and user data is never read as rich markup."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from bot.archive import Archive
from bot.channels import Channel
from bot.config import load_settings
from bot.ingest import file_sha256, parse_file
from bot.platforms.console import ConsoleTransport
from formatters.templates import Templates
from formatters.terminal import SafeConsole
from tests.conftest import DATA
from tests.support.cli import run

HOSTILE = DATA / "terminal_hostile.md"
#: Sequences the hostile file carries: clear screen, window title, OSC 8 link, C1 CSI, bell.
INJECTED = ["\x1b[2J", "\x1b]0;", "\x1b]8;;https://evil", "\x9b", "\x07", "\x1b[31m", "\x7f"]


def clean(text: str) -> None:
    assert not [seq for seq in INJECTED if seq in text]
    assert "\x1b" not in text  # nothing here is a terminal: rich adds no styles either


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("archive:\n  url: sqlite:///archive.db\n", encoding="utf-8")
    archive = Archive.from_settings(load_settings(path, environ={}))
    archive.create_schema()
    archive.store(parse_file(HOSTILE).digest, path=str(HOSTILE), sha256=file_sha256(HOSTILE))
    archive.close()
    return path


def test_the_sample_really_is_hostile() -> None:
    raw = HOSTILE.read_text(encoding="utf-8")
    assert all(seq in raw for seq in INJECTED)


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_parse_prints_no_control_characters(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run(["parse", str(HOSTILE), *extra])
    captured = capsys.readouterr()
    clean(captured.out)
    clean(captured.err)
    assert "Clear" in captured.out
    if extra:
        json.loads(captured.out)


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_query_prints_no_control_characters(
    config: Path, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--config", str(config), "query", "date:2026-02-06", *extra]) == 0
    captured = capsys.readouterr()
    clean(captured.out)
    assert "Clear" in captured.out


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_render_console_prints_no_control_characters(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["render", str(HOSTILE), "--platform", "console", *extra]) == 0
    captured = capsys.readouterr()
    clean(captured.out)
    assert "Clear" in captured.out


def test_the_console_channel_on_a_real_terminal_keeps_styles_but_not_content_controls() -> None:
    buffer = io.StringIO()
    terminal = SafeConsole(file=buffer, force_terminal=True, color_system="truecolor", width=100)
    transport = ConsoleTransport(console=terminal)
    digest = parse_file(HOSTILE).digest
    channel = Channel("console", "stdout", "0 9 * * *", "UTC")
    for index, payload in enumerate(transport.render(digest, Templates())):
        asyncio.run(transport.send(channel, index, payload, digest_date=digest.date))
    out = buffer.getvalue()
    assert "\x1b[" in out  # rich's own styling is still there
    assert not [seq for seq in INJECTED if seq in out]
    assert "innocent" in out


def test_subscriptions_list_prints_topics_as_text_not_markup(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(config, environ={})
    archive = Archive.from_settings(settings)
    topics = ["[link=e]hi[/link]", "[bold]x[/bold]", "\x1b]0;t\x07"]
    archive.subscriptions.upsert("slack", "C1", topics=topics)
    archive.close()
    assert run(["--config", str(config), "subscriptions", "list"]) == 0
    out = capsys.readouterr().out
    assert "[link=e]hi[/link]" in out and "[bold]x[/bold]" in out
    clean(out)
