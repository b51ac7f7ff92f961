"""Check Telegram message text and keyboards the way the Bot API does.

Pure functions, shared by the fake server and by formatter tests. The HTML parser follows
TDLib's ``parse_html`` (the tag set, attribute syntax, nesting, "byte offset" errors) and
returns the plain text plus entities with UTF-16 offsets, as Telegram's Message does.

Deliberately stricter than Telegram in two places, both formatter bugs worth catching: a
bare ``&`` that does not start a supported entity (Telegram shows it literally, but it means
content was not escaped), and ``<a>`` without ``href``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_TEXT_UTF16 = 4096
MAX_CALLBACK_DATA = 64
SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
SUPPORTED_TAGS = {*SIMPLE_TAGS, "a", "span", "tg-emoji"}
BUTTON_ACTIONS = {
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot);|#([0-9]{1,7});|#[xX]([0-9a-fA-F]{1,6});)")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTR_NAME = re.compile(r"[A-Za-z0-9_-]*")
_SPECIAL = re.compile(r"[<&]")


class TelegramHTMLError(ValueError):
    """Text Telegram cannot parse; the message reads like the Bot API's description."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    offset: int  # UTF-16 offset in the plain text
    language: str | None = None
    children: list[str] = field(default_factory=list)


def _byte(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _at(text: str, index: int) -> str:
    """TDLib locates HTML errors by UTF-8 byte offset."""
    return f"at byte offset {_byte(text, index)}"


def parse_telegram_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of ``text`` sent with ``parse_mode=HTML``.

    Raises TelegramHTMLError with TDLib's wording ("Unsupported start tag ..."). Results
    are cached: a fan-out sends the same text to hundreds of chats.
    """
    plain, frozen = _parse_cached(text)
    return plain, [dict(e) for e in frozen]


@functools.lru_cache(maxsize=2048)
def _parse_cached(text: str) -> tuple[str, tuple[tuple[tuple[str, Any], ...], ...]]:
    plain, entities = _parse(text)
    return plain, tuple(tuple(e.items()) for e in entities)


def _parse(text: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    units = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "&":
            m = _ENTITY.match(text, i)
            if m is None:
                end = text.find(";", i, i + 12)
                shown = text[i : end + 1] if end != -1 else "&"
                raise TelegramHTMLError(f'Unsupported HTML entity "{shown}" {_at(text, i)}')
            if m.group(1):
                ch = _NAMED[m.group(1)]
            else:
                code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
                if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise TelegramHTMLError(f"Invalid character code {_at(text, i)}")
                ch = chr(code)
            out.append(ch)
            units += utf16_len(ch)
            i = m.end()
        elif c == "<" and i + 1 < n and text[i + 1] == "/":
            i = _end_tag(text, i, stack, entities, units)
        elif c == "<":
            tag, attrs, i_next = _start_tag(text, i)
            _check_start(tag, attrs, text, i, stack)
            stack.append(_Open(tag, attrs, units))
            i = i_next
        else:
            m = _SPECIAL.search(text, i)
            stop = m.start() if m else n
            chunk = text[i:stop]
            out.append(chunk)
            units += utf16_len(chunk)
            i = stop
    if stack:
        raise TelegramHTMLError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _start_tag(text: str, i: int) -> tuple[str, dict[str, str], int]:
    m = _TAG_NAME.match(text, i + 1)
    assert m is not None
    tag = m.group(0).lower()
    if not tag:
        raise TelegramHTMLError(f'Unsupported start tag "" {_at(text, i)}')
    if tag not in SUPPORTED_TAGS:
        raise TelegramHTMLError(f'Unsupported start tag "{tag}" {_at(text, i)}')
    j, attrs = m.end(), {}
    while True:
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text):
            raise TelegramHTMLError(f"Unclosed start tag {_at(text, i)}")
        if text[j] == ">":
            return tag, attrs, j + 1
        name_m = _ATTR_NAME.match(text, j)
        assert name_m is not None
        name = name_m.group(0).lower()
        if not name:
            raise TelegramHTMLError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte(text, j)}'
            )
        j = name_m.end()
        while j < len(text) and text[j].isspace():
            j += 1
        if j < len(text) and text[j] != "=":
            attrs[name] = ""  # a bare attribute such as ``expandable``
            continue
        if j >= len(text):
            raise TelegramHTMLError(f"Unclosed start tag {_at(text, i)}")
        j += 1
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text):
            raise TelegramHTMLError(f"Unclosed start tag {_at(text, i)}")
        if text[j] in "\"'":
            end = text.find(text[j], j + 1)
            if end == -1:
                raise TelegramHTMLError(f"Unclosed start tag {_at(text, i)}")
            raw, j = text[j + 1 : end], end + 1
        else:
            end = j
            while end < len(text) and not text[end].isspace() and text[end] != ">":
                end += 1
            raw, j = text[j:end], end
        attrs[name] = _ENTITY.sub(_decode, raw)


def _decode(m: re.Match[str]) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    return chr(int(m.group(2)) if m.group(2) else int(m.group(3), 16))


def _check_start(tag: str, attrs: dict[str, str], text: str, i: int, stack: list[_Open]) -> None:
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise TelegramHTMLError(f'Tag "span" must have class "tg-spoiler" {_at(text, i)}')
    if tag == "a" and not attrs.get("href"):
        raise TelegramHTMLError(f'Tag "a" must have attribute "href" {_at(text, i)}')
    if tag == "tg-emoji" and not attrs.get("emoji-id"):
        raise TelegramHTMLError(f'Tag "tg-emoji" must have attribute "emoji-id" {_at(text, i)}')
    if tag == "blockquote" and any(o.tag == "blockquote" for o in stack):
        raise TelegramHTMLError(f"Blockquote entities can't be nested {_at(text, i)}")


def _end_tag(
    text: str, i: int, stack: list[_Open], entities: list[dict[str, Any]], units: int
) -> int:
    end = text.find(">", i)
    if end == -1:
        raise TelegramHTMLError(f"Unclosed end tag {_at(text, i)}")
    name = text[i + 2 : end].strip().lower()
    if not stack:
        raise TelegramHTMLError(f"Unexpected end tag {_at(text, i)}")
    top = stack.pop()
    if name != top.tag:
        raise TelegramHTMLError(
            f'Unmatched end tag {_at(text, i)}, expected "</{top.tag}>", found "</{name}>"'
        )
    length = units - top.offset
    parent = stack[-1] if stack else None
    language = top.attrs.get("class", "")
    if (
        top.tag == "code"
        and parent is not None
        and parent.tag == "pre"
        and language.startswith("language-")
    ):
        parent.language = language[len("language-") :]
        return end + 1
    if length > 0:
        entity: dict[str, Any] = {"offset": top.offset, "length": length}
        if top.tag == "a":
            entity.update(type="text_link", url=top.attrs["href"])
        elif top.tag == "span":
            entity["type"] = "spoiler"
        elif top.tag == "tg-emoji":
            entity.update(type="custom_emoji", custom_emoji_id=top.attrs["emoji-id"])
        elif top.tag == "blockquote" and "expandable" in top.attrs:
            entity["type"] = "expandable_blockquote"
        else:
            entity["type"] = SIMPLE_TAGS[top.tag]
        if top.tag == "pre" and top.language:
            entity["language"] = top.language
        entities.append(entity)
    return end + 1


def validate_telegram_html(text: str) -> list[str]:
    """Parse errors of ``text`` as HTML (empty list when Telegram would accept it)."""
    try:
        parse_telegram_html(text)
    except TelegramHTMLError as exc:
        return [str(exc)]
    return []


def message_text(text: str | None, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities of a sendMessage/editMessageText call; raises with the description.

    ``ValueError`` messages are the Bot API descriptions without the ``Bad Request: ``
    prefix. Only HTML is parsed; other parse modes are taken as plain text.
    """
    raw = text or ""
    if (parse_mode or "").lower() == "html":
        try:
            plain, entities = parse_telegram_html(raw)
        except TelegramHTMLError as exc:
            raise ValueError(f"can't parse entities: {exc}") from exc
    else:
        plain, entities = raw, []
    stripped = plain.strip()
    if not stripped:
        raise ValueError("message text is empty")
    if utf16_len(stripped) > MAX_TEXT_UTF16:
        raise ValueError("message is too long")
    lead = utf16_len(plain[: len(plain) - len(plain.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for e in entities:
        start = max(0, e["offset"] - lead)
        stop = min(size, e["offset"] - lead + e["length"])
        if stop > start:
            kept.append({**e, "offset": start, "length": stop - start})
    return stripped, kept


def validate_reply_markup(markup: Any) -> list[str]:
    """Problems with ``reply_markup`` (JSON string or object), in the Bot API's words."""
    if isinstance(markup, str | bytes):
        try:
            markup = json.loads(markup)
        except ValueError:
            return ["can't parse reply keyboard markup JSON object"]
    if not isinstance(markup, dict):
        return ["can't parse reply keyboard markup JSON object"]
    if "inline_keyboard" not in markup:
        return []
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        return ['field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays']
    errors: list[str] = []
    for row in rows:
        for button in row:
            errors.extend(_button_errors(button))
    return errors


def _button_errors(button: Any) -> list[str]:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        return ["can't parse inline keyboard button: Text buttons are unallowed"]
    if not button["text"]:
        return ["BUTTON_TEXT_EMPTY"]
    actions = BUTTON_ACTIONS & button.keys()
    if len(actions) != 1:
        return ["text buttons are unallowed in the inline keyboard"]
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
            return ["BUTTON_DATA_INVALID"]
    if "url" in button:
        url = button["url"]
        parts = urlsplit(url) if isinstance(url, str) else None
        if (
            parts is None
            or parts.scheme not in ("http", "https", "tg")
            or not (parts.netloc or parts.scheme == "tg")
        ):
            return [f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"]
    return []


def validate_telegram_message(
    text: str, parse_mode: str | None = "HTML", reply_markup: Any = None
) -> list[str]:
    """Every ``Bad Request: ...`` description Telegram would answer for this message."""
    errors: list[str] = []
    try:
        message_text(text, parse_mode)
    except ValueError as exc:
        errors.append(f"Bad Request: {exc}")
    if reply_markup is not None:
        errors.extend(f"Bad Request: {e}" for e in validate_reply_markup(reply_markup))
    return errors


def telegram_visible(text: str) -> str:
    """The message text after entity parsing (tags removed, entities decoded)."""
    return parse_telegram_html(text)[0]


def check_telegram_html(text: str) -> str:
    """Raise as the Bot API would refuse ``text`` as an HTML message, or if a link is not
    http(s)/tg (what we send: the API itself may drop such links); return the visible text."""
    errors = validate_telegram_message(text, "HTML")
    if errors:
        raise TelegramHTMLError(f"{errors} in {text[:200]!r}")
    visible, entities = parse_telegram_html(text)
    for entity in entities:
        url = entity.get("url")
        if url is not None and urlsplit(url).scheme not in ("http", "https", "tg"):
            raise TelegramHTMLError(f"unsafe link {url!r} in {text[:200]!r}")
    return visible


def check_telegram_message(payload: Mapping[str, Any]) -> str:
    """A ``TelegramMessage`` dump or ``sendMessage`` kwargs the Bot API would accept (and HTML,
    as every message we send is); returns the visible text."""
    if payload.get("parse_mode") != "HTML":
        raise TelegramHTMLError(f"parse_mode is {payload.get('parse_mode')!r}, not HTML")
    markup = payload.get("reply_markup")
    errors = validate_reply_markup(markup) if markup is not None else []
    if errors:
        raise TelegramHTMLError(f"{errors} in {payload['text'][:200]!r}")
    return check_telegram_html(payload["text"])
