"""The Bot API envelope as the fake speaks it: JSON in form fields, and ``ok: false``.

Every layer of the fake (chats, updates, sending) refuses calls the same way Telegram
does, so the refusal and its wire format are shared here rather than owned by one layer.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class TelegramFail(Exception):
    """Answer with ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def bad_request(description: str) -> TelegramFail:
    return TelegramFail(400, f"Bad Request: {description}")


def json_field(value: Any) -> Any:
    """Form fields carry JSON as strings (PTB json-dumps every non-string value)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def error_response(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
