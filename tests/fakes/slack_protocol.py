"""How the fake Slack reads requests and refuses them: tokens, form booleans, ``ok: false``.

Shared by the fake's layers (channels and history, posting) so that every method answers
an error exactly as Slack does: HTTP 200 with ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web


class SlackFail(Exception):
    """Answer the call with ``{"ok": false, "error": ...}`` (HTTP 200, as Slack does)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


def request_token(request: web.Request, params: dict[str, Any]) -> str | None:
    header = request.headers.get("Authorization", "")
    token = params.pop("token", None)
    if header.startswith("Bearer "):
        return header[len("Bearer ") :]
    return str(token) if token else None
