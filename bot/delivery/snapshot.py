"""Payloads as JSON, so a delivery can be resumed with exactly the messages it started with.

Why: a crashed delivery resumes at its first unrecorded message *index*. If the digest file
was edited in between, a fresh rendering would shift the indices and skip or repeat items.
The first claim stores the rendered payloads and their fingerprint in the ledger; a resume
whose fresh rendering differs posts the stored ones instead.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from formatters.payloads import SlackMessage, TelegramMessage

_TYPES: dict[str, type[SlackMessage] | type[TelegramMessage]] = {
    "slack": SlackMessage,
    "telegram": TelegramMessage,
}


def encode(payloads: list[Any]) -> dict[str, Any] | None:
    """``{"fingerprint", "payloads"}`` for JSON-able payloads; None for console renderables."""
    encoded: list[dict[str, Any]] = []
    for payload in payloads:
        if isinstance(payload, SlackMessage | TelegramMessage):
            kind = "slack" if isinstance(payload, SlackMessage) else "telegram"
            encoded.append({"type": kind, "data": payload.model_dump(mode="json")})
        elif isinstance(payload, dict):
            encoded.append({"type": "json", "data": payload})
        else:
            return None
    text = json.dumps(encoded, sort_keys=True, ensure_ascii=False, default=str)
    return {"fingerprint": hashlib.sha256(text.encode()).hexdigest(), "payloads": encoded}


def decode(snapshot: dict[str, Any]) -> list[Any]:
    """The payloads stored by ``encode``."""
    decoded: list[Any] = []
    for entry in snapshot["payloads"]:
        kind, data = entry["type"], entry["data"]
        decoded.append(data if kind == "json" else _TYPES[kind].model_validate(data))
    return decoded
