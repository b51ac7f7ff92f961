"""``digestbot render (FILE | --date D | --week W) --platform P [--json]``: P is any platform
whose ``bot.registry`` entry names a renderer.

Shows exactly what ``send`` would post. With ``--json`` it prints the ordered list of API
calls' arguments: Slack ``chat.postMessage`` kwargs (thread replies carry
``"thread_ts": "{parent_ts}"``, a placeholder for the ``ts`` the first message gets),
Telegram ``sendMessage`` kwargs, or for any other platform the payloads its registry
renderer builds (the group robots' webhook bodies, unsigned). Without ``--json`` it prints
a readable preview. For
Slack a Block Kit Builder link for the parent message always goes to stderr, so stdout
stays machine-readable. ``--week 2026-W06`` renders that ISO week's rollup from the archive,
as ``send --week`` would post it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.panel import Panel
from rich.text import Text

from bot.archive import Archive, Rollup, select_rollup
from bot.cli.app import out, state
from bot.cli.send import parse_week
from bot.errors import ArchiveError
from bot.ingest import Formats, parse_file
from bot.models import Digest
from bot.query import IsoWeek
from bot.registry import load, platform_spec, rendered_platforms
from formatters import (
    SafeConsole,
    SlackMessage,
    TelegramMessage,
    Templates,
    render_weekly,
    safe_json,
)

#: Stands in for the parent message's ``ts`` in thread replies (known only after posting).
PARENT_TS = "{parent_ts}"
SLACK_CHANNEL = "C0000000000"
TELEGRAM_CHAT = "0"
BLOCK_KIT_BUILDER = "https://app.slack.com/block-kit-builder/#"


#: ``--platform`` choices: every platform whose registry entry names a renderer.
Platform = StrEnum("Platform", {name: name for name in rendered_platforms()})  # type: ignore[misc]
DEFAULT_PLATFORM = Platform("console")


def block_kit_builder_url(blocks: list[dict[str, Any]]) -> str:
    """A link that opens the blocks in Slack's Block Kit Builder."""
    payload = json.dumps({"blocks": blocks}, ensure_ascii=False, separators=(",", ":"))
    return BLOCK_KIT_BUILDER + quote(payload, safe="")


def chat_id(value: str) -> str | int:
    """Telegram chat ids are integers (``-100…`` for groups); usernames stay text."""
    return int(value) if value.lstrip("-").isdigit() else value


def slack_payloads(messages: list[SlackMessage], channel: str) -> list[dict[str, Any]]:
    return [m.api_kwargs(channel, thread_ts=PARENT_TS if m.in_thread else None) for m in messages]


def telegram_payloads(messages: list[TelegramMessage], channel: str) -> list[dict[str, Any]]:
    return [m.api_kwargs(chat_id(channel)) for m in messages]


def _load(ctx: typer.Context, file: Path | None, date: str | None) -> Digest:
    if file is not None and date is not None:
        raise typer.BadParameter("give FILE or --date D, not both", param_hint="FILE / --date")
    if file is None and date is None:
        raise typer.BadParameter(
            "say what to render: a digest FILE, --date D from the archive, or --week W "
            "for a weekly rollup",
            param_hint="FILE / --date / --week",
        )
    if file is not None:
        formats = Formats.from_settings(state(ctx).settings)
        result = parse_file(file, formats.options_for(file))
        for problem in result.problems:
            typer.echo(f"warning: {problem}", err=True)
        return result.digest
    assert date is not None
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{date!r} is not a date like 2026-02-03", param_hint="--date"
        ) from exc
    archive = Archive.from_settings(state(ctx).settings)
    try:
        archive.create_schema()
        digest = archive.digest(day)
    finally:
        archive.close()
    if digest is None:
        raise ArchiveError(f"no digest for {day.isoformat()} in {archive!r} (ingest it first)")
    return digest


def _preview_slack(messages: list[SlackMessage]) -> None:
    for index, message in enumerate(messages, start=1):
        where = "thread reply" if message.in_thread else "parent"
        body = Text()
        for block in message.blocks:
            texts = [block["text"]] if "text" in block else block.get("elements", [])
            for element in texts:
                if isinstance(element.get("text"), str):
                    style = (
                        "bold"
                        if block["type"] == "header"
                        else ("dim" if block["type"] == "context" else "")
                    )
                    body.append(element["text"] + "\n", style=style)
                elif element.get("type") == "button":
                    body.append(f"[{element['text']['text']}]\n", style="cyan")
            if block["type"] == "divider":
                body.append("─" * 20 + "\n", style="dim")
        title = f"#{index} {where} · {len(message.blocks)} blocks"
        out.print(Panel(body, title=title, title_align="left"), soft_wrap=False)


def _preview_telegram(messages: list[TelegramMessage]) -> None:
    for index, message in enumerate(messages, start=1):
        body = Text(message.text)
        for row in (message.reply_markup or {}).get("inline_keyboard", []):
            body.append("\n" + "  ".join(f"[{b['text']}]" for b in row), style="cyan")
        title = f"#{index} · {len(message.text)} chars of HTML"
        out.print(Panel(body, title=title, title_align="left"), soft_wrap=False)


def _rollup(ctx: typer.Context, week: IsoWeek) -> Rollup:
    archive = Archive.from_settings(state(ctx).settings)
    try:
        archive.create_schema()
        return select_rollup(archive, week)
    finally:
        archive.close()


def _show_slack(messages: list[SlackMessage], as_json: bool, channel: str | None) -> list[Any]:
    if not as_json:
        _preview_slack(messages)
    typer.echo(
        f"Block Kit Builder (parent message): {block_kit_builder_url(messages[0].blocks)}",
        err=True,
    )
    return slack_payloads(messages, channel or SLACK_CHANNEL)


def _show_telegram(
    messages: list[TelegramMessage], as_json: bool, channel: str | None
) -> list[Any]:
    if not as_json:
        _preview_telegram(messages)
    return telegram_payloads(messages, channel or TELEGRAM_CHAT)


def _show_console(renderables: list[Any], as_json: bool, channel: str | None) -> list[Any]:
    if not as_json:
        for renderable in renderables:
            out.print(renderable, soft_wrap=False)
        return []

    texts = []
    for renderable in renderables:
        buffer = SafeConsole(file=io.StringIO(), width=80, color_system=None, highlight=False)
        buffer.print(renderable)
        texts.append({"text": buffer.file.getvalue()})  # type: ignore[attr-defined]
    return texts


def _show_payloads(
    platform: str, messages: list[Any], as_json: bool, channel: str | None
) -> list[Any]:
    """Any other platform: its API payloads as JSON (and one panel each as the preview)."""
    payloads = [_api_payload(message) for message in messages]
    if not as_json:
        _preview_json(platform, payloads)
    return payloads


def _api_payload(message: Any) -> Any:
    if hasattr(message, "api_kwargs"):
        return message.api_kwargs()
    return message.model_dump(mode="json") if hasattr(message, "model_dump") else message


def _preview_json(platform: str, payloads: list[Any]) -> None:
    for index, payload in enumerate(payloads, start=1):
        body = json.dumps(payload, ensure_ascii=False, indent=1)
        size = len(json.dumps(payload, ensure_ascii=False).encode())
        title = f"#{index} · {platform} · {size} bytes"
        out.print(Panel(Text(body), title=title, title_align="left"), soft_wrap=False)


#: How each platform's rendering is previewed and printed as API payloads.
_SHOW = {"slack": _show_slack, "telegram": _show_telegram, "console": _show_console}


def render(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Argument(help="A digest markdown file.", metavar="[FILE]")
    ] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="Render the archived digest of this day.", metavar="D"),
    ] = None,
    platform: Annotated[
        Platform, typer.Option("--platform", "-p", help="Which platform's payloads to build.")
    ] = DEFAULT_PLATFORM,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the API payloads send would post, as JSON.")
    ] = False,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Channel / chat id in the payloads.", metavar="ID"),
    ] = None,
    week: Annotated[
        str | None,
        typer.Option(
            "--week", help="Render this ISO week's rollup (e.g. 2026-W06).", metavar="YYYY-Www"
        ),
    ] = None,
) -> None:
    """Render a digest (or a week's rollup) as any platform's payloads (Slack Block Kit,
    Telegram HTML, Feishu cards, DingTalk or WeCom markdown) or a console preview."""
    iso_week = parse_week(week)
    if iso_week is not None and (file is not None or date is not None):
        raise typer.BadParameter("give FILE, --date D or --week W", param_hint="--week")
    rollup = _rollup(ctx, iso_week) if iso_week is not None else None
    settings = state(ctx).settings
    templates = Templates(**settings.template_options())
    if rollup is not None:
        messages = render_weekly(str(platform), rollup, templates)  # as ``send --week`` posts
    else:
        renderer = platform_spec(str(platform)).renderer
        assert renderer is not None  # the choices are the platforms that have one
        messages = list(load(renderer)(_load(ctx, file, date), templates))
    payloads = _SHOW.get(str(platform), partial(_show_payloads, str(platform)))(
        messages, as_json, channel
    )
    if as_json:
        typer.echo(safe_json(payloads, indent=2))
