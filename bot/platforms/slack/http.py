"""The HTTP-mode front of the Slack app: authenticate the raw bytes, then let Bolt parse.

Bolt's aiohttp adapter decodes and parses the body before it checks the signature, so an
unsigned ``[]`` or ``payload=%7Bbad`` reached the JSON parser and became a 500 with an
ERROR traceback: anyone could fill the logs. Here the signature is checked on the bytes
as received; only a signed body is decoded and parsed (strictly: a malformed one is a
quiet 400), and only a signed, well-formed request that was not handled before (a replay
inside Slack's five-minute window, or a retry copy of the same body) reaches Bolt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.errors import MalformedRequest

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)

#: Slack's own limit on request bodies is far below this; anything bigger is not Slack
#: (the aiohttp application is created with it as ``client_max_size``).
MAX_BODY_BYTES = 512 * 1024
#: Slack's replay window: older timestamps are refused.
MAX_AGE_SECONDS = 5 * 60
#: How long request ids are kept: Slack refuses timestamps older than 5 minutes, so twice
#: that covers every replay the signature check would still accept.
REPLAY_WINDOW = dt.timedelta(minutes=10)

#: Marks whether a request id is new (True) or seen before; runs off the event loop.
FirstTime = Callable[[str], Awaitable[bool]]


def is_signed(secret: bytes, body: bytes, headers: Any, now: float) -> bool:
    """Slack's v0 HMAC-SHA256 over ``v0:timestamp:`` + the raw body, at most 5 minutes old.

    Computed here on bytes: slack_sdk's ``SignatureVerifier`` decodes the body as UTF-8
    first, so a signed body with bad bytes would raise instead of being judged.
    """
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
        return False
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)


def check_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a signed body as Bolt will, but strictly; raise ``MalformedRequest`` otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest("the body is not UTF-8") from exc
    if content_type == "application/json" or text.startswith("{"):
        return _json_object(text, "the JSON body")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return _json_object(fields["payload"], "the payload field")
    if "command" in fields or "ssl_check" in fields:
        return fields
    raise MalformedRequest("neither a slash command nor an interaction payload")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise MalformedRequest(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise MalformedRequest(f"{what} is not a JSON object")
    return value


def request_key(body: bytes) -> str:
    """The request's identity: its bytes carry a unique ``trigger_id`` (or event id), so a
    replay and a retry copy (``X-Slack-Retry-Num``) of one request share the key."""
    return "slack:" + hashlib.sha256(body).hexdigest()


def events_endpoint(
    app: AsyncApp, signing_secret: str, first_time: FirstTime
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler for ``/slack/events``."""
    secret = signing_secret.encode("utf-8")

    async def handle(request: web.Request) -> web.Response:
        # The application's client_max_size refuses bigger bodies with 413 while reading.
        body = await request.read()
        if not is_signed(secret, body, request.headers, time.time()):
            return web.Response(status=401, text="invalid or missing Slack signature")
        try:
            check_body(body, request.content_type)
        except MalformedRequest as exc:
            log.info("slack: refused a signed but malformed request: %s", exc)
            return web.Response(status=400, text=f"malformed request: {exc}")
        if not await first_time(request_key(body)):
            log.info(
                "slack: ignored a repeated request (retry %s)",
                request.headers.get("X-Slack-Retry-Num", "none"),
            )
            return web.Response(status=200, text="")
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8"),
            query=request.query_string,
            headers=dict(request.headers),
        )
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    return handle
