"""In-process payload validators for formatter tests (no fake server needed).

``check_slack_message`` runs slack_sdk's own Block Kit validation plus the limits it does
not check; ``check_telegram_html`` parses Telegram HTML the way the Bot API does (allowed
tags, balanced nesting, safe hrefs, entities) and returns the visible text whose UTF-16
length must stay within 4096. The fakes in ``tests/fakes/`` carry their own validators;
these are the small, dependency-free versions the formatter tests use.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.models.blocks import Block

SLACK_MAX_BLOCKS = 50
SLACK_TEXT = 3000
SLACK_HEADER = 150
SLACK_CONTEXT_ELEMENTS = 10
SLACK_ACTIONS_ELEMENTS = 25
SLACK_BUTTON_TEXT = 75
SLACK_BUTTON_URL = 3000
SLACK_BUTTON_VALUE = 2000
SLACK_MESSAGE_CHARS = 12_000
TELEGRAM_LIMIT = 4096

TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
    "a", "code", "pre", "blockquote", "tg-spoiler", "span",
}  # fmt: skip
_TELEGRAM_ENTITIES = {"lt", "gt", "amp", "quot"}
_SLACK_ANGLE = re.compile(r"<([^<>]*)>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- Slack


def _texts(block: dict[str, Any]) -> list[dict[str, Any]]:
    """Every text object in a block (section text/fields, context elements, buttons)."""
    found = []
    if isinstance(block.get("text"), dict):
        found.append(block["text"])
    found += [f for f in block.get("fields", []) if isinstance(f, dict)]
    for element in block.get("elements", []):
        if element.get("type") in ("mrkdwn", "plain_text"):
            found.append(element)
        elif isinstance(element.get("text"), dict):
            found.append(element["text"])
    accessory = block.get("accessory")
    if isinstance(accessory, dict) and isinstance(accessory.get("text"), dict):
        found.append(accessory["text"])
    return found


def check_slack_block(block: dict[str, Any]) -> None:
    parsed = Block.parse(block)
    assert parsed is not None, f"unknown block type: {block.get('type')!r}"
    parsed.to_dict()  # raises SlackObjectFormationError on any violation it knows
    kind = block["type"]
    for text in _texts(block):
        assert isinstance(text.get("text"), str) and text["text"].strip(), f"empty text in {kind}"
        assert len(text["text"]) <= SLACK_TEXT, f"{kind} text is {len(text['text'])} > 3000"
    if kind == "header":
        assert block["text"]["type"] == "plain_text"
        assert len(block["text"]["text"]) <= SLACK_HEADER
    if kind == "context":
        assert 1 <= len(block["elements"]) <= SLACK_CONTEXT_ELEMENTS
    if kind == "actions":
        assert 1 <= len(block["elements"]) <= SLACK_ACTIONS_ELEMENTS
    buttons = [e for e in block.get("elements", []) if e.get("type") == "button"]
    if isinstance(block.get("accessory"), dict):
        buttons.append(block["accessory"])
    for button in buttons:
        assert button["text"]["type"] == "plain_text"
        assert len(button["text"]["text"]) <= SLACK_BUTTON_TEXT
        assert len(button.get("url", "")) <= SLACK_BUTTON_URL
        assert len(button.get("value", "")) <= SLACK_BUTTON_VALUE
        assert button.get("action_id"), "a button without action_id"


def check_slack_message(payload: dict[str, Any]) -> None:
    """A ``chat.postMessage`` payload (or SlackMessage dump) that Slack would accept."""
    assert isinstance(payload.get("text"), str) and payload["text"].strip(), "no text fallback"
    blocks = payload.get("blocks", [])
    assert 1 <= len(blocks) <= SLACK_MAX_BLOCKS, f"{len(blocks)} blocks"
    for block in blocks:
        check_slack_block(block)
    chars = sum(len(t["text"]) for b in blocks for t in _texts(b))
    assert chars <= SLACK_MESSAGE_CHARS, f"{chars} characters of block text"


def slack_mrkdwn(payload: dict[str, Any]) -> list[str]:
    """Every string Slack parses as mrkdwn: the fallback and all mrkdwn text objects."""
    texts = [payload["text"]]
    for block in payload.get("blocks", []):
        texts += [t["text"] for t in _texts(block) if t.get("type") == "mrkdwn"]
    return texts


def live_mentions(mrkdwn: str) -> list[str]:
    """``<...>`` sequences that are not links we generate (``<http(s)://...|text>``)."""
    bad = []
    for match in _SLACK_ANGLE.finditer(mrkdwn):
        target = match.group(1).split("|", 1)[0]
        if urlsplit(target).scheme not in ("http", "https"):
            bad.append(match.group(0))
    # A raw ">" is harmless (and starts quote lines); a raw "<" would open a sequence.
    if "<" in _SLACK_ANGLE.sub("", mrkdwn):
        bad.append("unbalanced angle bracket")
    return bad


def slack_visible(mrkdwn: str) -> str:
    """What a reader sees, minus formatting markers: links → text, entities decoded."""
    text = _SLACK_ANGLE.sub(lambda m: m.group(1).split("|", 1)[-1], mrkdwn)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.replace("\u200b", "")


# --------------------------------------------------------------------------- Telegram


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"unsupported tag <{tag}>")
        if tag == "a":
            href = attributes.get("href") or ""
            if urlsplit(href).scheme not in ("http", "https", "tg"):
                self.errors.append(f"unsafe href {href!r}")
            if set(attributes) - {"href"}:
                self.errors.append(f"unexpected attributes on <a>: {attrs}")
        elif tag == "blockquote":
            if set(attributes) - {"expandable"}:
                self.errors.append(f"unexpected attributes on <blockquote>: {attrs}")
            if "blockquote" in self.stack:
                self.errors.append("nested blockquote")
        elif tag == "span":
            if attributes != {"class": "tg-spoiler"}:
                self.errors.append(f"<span> must be class=tg-spoiler: {attrs}")
        elif tag == "code" and attrs:
            cls = attributes.get("class") or ""
            if (
                set(attributes) != {"class"}
                or not cls.startswith("language-")
                or self.stack[-1:] != ["pre"]
            ):
                self.errors.append(f"unexpected attributes on <code>: {attrs}")
        elif attrs:
            self.errors.append(f"unexpected attributes on <{tag}>: {attrs}")
        if (
            self.stack
            and self.stack[-1] in ("code", "pre")
            and not (tag == "code" and self.stack[-1] == "pre")
        ):
            self.errors.append(f"<{tag}> inside <{self.stack[-1]}>")
        if tag == "a" and "a" in self.stack:
            self.errors.append("nested <a>")
        if tag == "pre" and "blockquote" in self.stack:
            self.errors.append("<pre> inside <blockquote>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close {self.stack[-1:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data or "&" in data:
            self.errors.append(f"unescaped character in {data[:40]!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _TELEGRAM_ENTITIES:
            self.errors.append(f"unsupported entity &{name};")
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")

    def unknown_decl(self, data: str) -> None:
        self.errors.append("declaration")


def telegram_visible(text: str) -> str:
    """The message text after entity parsing (tags removed, entities decoded)."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    return "".join(parser.text)


def check_telegram_html(text: str) -> str:
    """Assert ``text`` is valid Telegram HTML within the limit; return its visible text."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.stack:
        parser.errors.append(f"unclosed tags {parser.stack}")
    if parser.rawdata:
        parser.errors.append(f"unparsed trailing data {parser.rawdata[:40]!r}")
    assert not parser.errors, f"{parser.errors[:5]} in {text[:200]!r}"
    visible = "".join(parser.text)
    assert visible.strip(), "empty message"
    assert utf16_len(visible) <= TELEGRAM_LIMIT, f"{utf16_len(visible)} UTF-16 units > 4096"
    return visible


def check_telegram_message(payload: dict[str, Any]) -> str:
    """A ``TelegramMessage`` dump or ``sendMessage`` kwargs; returns the visible text."""
    assert payload.get("parse_mode") == "HTML"
    markup = payload.get("reply_markup")
    if markup is not None:
        rows = markup["inline_keyboard"]
        assert rows and all(rows), "empty keyboard rows"
        for button in (b for row in rows for b in row):
            assert button["text"], "button without text"
            kinds = {"url", "callback_data"} & set(button)
            assert len(kinds) == 1, f"button needs exactly one action: {button}"
            if "callback_data" in button:
                assert 1 <= len(button["callback_data"].encode()) <= 64
            else:
                assert urlsplit(button["url"]).scheme in ("http", "https", "tg")
    return check_telegram_html(payload["text"])
