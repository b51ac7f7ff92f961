"""Payloads as JSON, so a delivery can be resumed with exactly the messages it started with.

Why: a crashed delivery resumes at its first unrecorded message *index*. If the digest file
was edited in between, a fresh rendering would shift the indices and skip or repeat items.
The first claim stores the rendered payloads and their fingerprint in the ledger; a resume
whose fresh rendering differs posts the stored ones instead. Each transport says how its
payloads become JSON and back (``Transport.dump``/``load``), so this knows no platform.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.delivery.transport import Transport


def encode(transport: Transport, payloads: list[Any]) -> dict[str, Any] | None:
    """``{"fingerprint", "payloads"}``; None when a payload cannot be stored (console)."""
    encoded: list[Any] = []
    for payload in payloads:
        data = transport.dump(payload)
        if data is None:
            return None
        encoded.append(data)
    text = json.dumps(encoded, sort_keys=True, ensure_ascii=False, default=str)
    return {"fingerprint": hashlib.sha256(text.encode()).hexdigest(), "payloads": encoded}


def decode(transport: Transport, snapshot: dict[str, Any]) -> list[Any]:
    """The payloads stored by ``encode`` (rows written by 0.1.0 wrap each in type/data)."""
    decoded: list[Any] = []
    for entry in snapshot["payloads"]:
        if isinstance(entry, dict) and set(entry) == {"type", "data"}:
            entry = entry["data"]
        decoded.append(transport.load(entry))
    return decoded
