"""Button payloads ("more", "details") shared by formatters and platform adapters.

Telegram limits ``callback_data`` to 64 bytes, so the encodings are compact; a "more"
button whose query cannot fit is simply not offered (``encode_more`` returns None).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MORE = "ai_more"
DETAILS = "ai_details"
CALLBACK_LIMIT = 64


@dataclass(frozen=True)
class MoreAction:
    query: str
    offset: int


@dataclass(frozen=True)
class DetailsAction:
    date: dt.date
    rank: int


def encode_more(query: str, offset: int) -> str | None:
    """``m:OFFSET:QUERY`` or None when it exceeds 64 UTF-8 bytes."""
    value = f"m:{offset}:{query}"
    return value if len(value.encode("utf-8")) <= CALLBACK_LIMIT else None


def encode_details(date: dt.date, rank: int) -> str:
    """``d:YYYY-MM-DD:RANK``."""
    return f"d:{date.isoformat()}:{rank}"


def decode(value: str) -> MoreAction | DetailsAction | None:
    """Parse a button value; None for anything malformed (never trust client data)."""
    kind, _, rest = value.partition(":")
    first, _, last = rest.partition(":")
    try:
        if kind == "m" and last and int(first) >= 0:
            return MoreAction(query=last, offset=int(first))
        if kind == "d" and last:
            return DetailsAction(date=dt.date.fromisoformat(first), rank=int(last))
    except ValueError:
        return None
    return None
