"""Button payloads ("more", "details") shared by formatters and platform adapters.

A button value comes back from the client, so it is decoded as untrusted input: every
number is bounded, and anything malformed decodes to None (the stale-button answer).
Slack button values hold 2,000 characters, enough for any query that fits a command;
Telegram's ``callback_data`` holds 64 bytes, so a longer query travels as a short key
into the archive (``k:OFFSET:KEY``), stored by the command core before rendering.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MORE = "ai_more"
DETAILS = "ai_details"
#: Telegram's limit on ``callback_data``, in UTF-8 bytes.
CALLBACK_LIMIT = 64
#: Slack's limit on a button ``value``, in characters.
SLACK_VALUE_LIMIT = 2000
#: "More" pages reach this far into the results at most (about 2,000 pages of 5).
MAX_OFFSET = 10_000
#: Items of one digest are ranked below this.
MAX_RANK = 1_000

_NUMBER = re.compile(r"^[0-9]{1,6}$")
_KEY = re.compile(r"^[0-9a-f]{1,32}$")


@dataclass(frozen=True)
class MoreAction:
    query: str
    offset: int


@dataclass(frozen=True)
class MoreByKeyAction:
    """A "more" button whose query is stored in the archive under ``key``."""

    key: str
    offset: int


@dataclass(frozen=True)
class DetailsAction:
    date: dt.date
    rank: int


def encode_more(
    query: str, offset: int, limit: int = CALLBACK_LIMIT, *, in_bytes: bool = True
) -> str | None:
    """``m:OFFSET:QUERY``, or None when it exceeds ``limit`` (UTF-8 bytes, or characters
    with ``in_bytes=False`` as Slack counts) or the offset is past ``MAX_OFFSET``."""
    if not 0 <= offset <= MAX_OFFSET:
        return None
    value = f"m:{offset}:{query}"
    size = len(value.encode("utf-8")) if in_bytes else len(value)
    return value if size <= limit else None


def needs_key(query: str) -> bool:
    """Whether a "more" button for ``query`` cannot carry it within Telegram's 64 bytes."""
    return encode_more(query, MAX_OFFSET) is None


def encode_more_key(key: str, offset: int) -> str | None:
    """``k:OFFSET:KEY`` for a query stored under ``key``."""
    return f"k:{offset}:{key}" if 0 <= offset <= MAX_OFFSET else None


def encode_details(date: dt.date, rank: int) -> str:
    """``d:YYYY-MM-DD:RANK``."""
    return f"d:{date.isoformat()}:{rank}"


def decode(value: str) -> MoreAction | MoreByKeyAction | DetailsAction | None:
    """Parse a button value; None for anything malformed or out of bounds."""
    if len(value) > SLACK_VALUE_LIMIT + 16:
        return None
    kind, _, rest = value.partition(":")
    first, _, last = rest.partition(":")
    if not last:
        return None
    if kind in ("m", "k"):
        if not _NUMBER.match(first) or int(first) > MAX_OFFSET:
            return None
        if kind == "k":
            return MoreByKeyAction(key=last, offset=int(first)) if _KEY.match(last) else None
        return MoreAction(query=last, offset=int(first))
    if kind == "d" and _NUMBER.match(last) and 1 <= int(last) < MAX_RANK:
        try:
            return DetailsAction(date=dt.date.fromisoformat(first), rank=int(last))
        except ValueError:
            return None
    return None
