"""The Feishu app bot: ``@digestbot tag:RL`` in a group (or a direct message) answered from
the archive, over the SDK's long connection (websocket, the default) or signed HTTP events.

Thin on purpose, like the Slack and Telegram adapters: ``bot.platforms.feishu.events``
turns messages and button presses into ``CommandRequest``s and the core's replies into
reply cards; this module starts the bot. At start it fetches the bot's own open id (which
also proves the app's credentials: a refusal is a named ``PlatformUnavailable``), then
either serves HTTP events or opens the long connection (``websocket.py``) and waits for it.

HTTP mode serves ``POST /feishu/events`` for events and card callbacks alike: a request
must carry a valid signature (``X-Lark-Signature`` over timestamp, nonce, encrypt key and
body) no older than ``MAX_AGE``; lark-oapi's dispatcher then decrypts it, checks the
verification token and answers the URL-verification challenge. Anything else is refused
with 401.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from typing import TYPE_CHECKING, Any

import lark_oapi as lark
from aiohttp import web
from multidict import CIMultiDict

from bot.errors import ConfigError, DigestbotError, PlatformUnavailable
from bot.platforms.feishu.api import FeishuApi
from bot.platforms.feishu.events import FeishuBridge
from bot.platforms.feishu.listener import missing_key
from bot.platforms.feishu.websocket import FeishuWebsocket
from bot.redact import protect_settings_secrets

if TYPE_CHECKING:
    from bot.chat import CommandCore
    from bot.config import Settings
    from formatters import Templates

log = logging.getLogger(__name__)

EVENTS_PATH = "/feishu/events"
#: Signed events older (or newer) than this many seconds are refused as replays.
MAX_AGE = 300
#: How long a start waits for the long connection before going on without it.
CONNECT_WAIT = 15.0


def valid_signature(headers: Any, body: bytes, encrypt_key: str, now: float) -> bool:
    """Feishu's event signature, and a timestamp within ``MAX_AGE`` of now."""
    timestamp = headers.get("X-Lark-Request-Timestamp", "")
    nonce = headers.get("X-Lark-Request-Nonce", "")
    signature = headers.get("X-Lark-Signature", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_AGE:
        return False
    expected = hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()
    return hmac.compare_digest(signature.encode(), expected.encode())


class FeishuListener:
    """A running Feishu app bot: an HTTP events endpoint or the SDK's long connection."""

    name = "feishu"

    def __init__(self, bridge: FeishuBridge, mode: str) -> None:
        self.bridge = bridge
        self.mode = mode
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self.websocket: FeishuWebsocket | None = None
        self._stopped = False

    @property
    def connected(self) -> bool:
        if self._stopped:
            return False
        if self.mode == "http":
            return self._runner is not None
        return self.websocket is not None and self.websocket.connected

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._runner is not None:
            await self._runner.cleanup()
        if self.websocket is not None:
            await asyncio.to_thread(self.websocket.stop)
        self.bridge.cancel()


def dispatcher(settings: Settings, bridge: FeishuBridge) -> lark.EventDispatcherHandler:
    feishu = settings.feishu
    key = feishu.encrypt_key.get_secret_value() if feishu.encrypt_key else ""
    token = feishu.verification_token.get_secret_value() if feishu.verification_token else ""
    return (
        lark.EventDispatcherHandler.builder(key, token)
        .register_p2_im_message_receive_v1(bridge.on_message)
        .register_p2_card_action_trigger(bridge.on_card_action)
        .build()
    )


async def serve_http(
    listener: FeishuListener,
    handler: lark.EventDispatcherHandler,
    encrypt_key: str,
    host: str,
    port: int,
) -> None:
    async def events(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        signed = "X-Lark-Signature" in request.headers
        if signed and not valid_signature(request.headers, body, encrypt_key, time.time()):
            log.warning("feishu: refused an event with a bad or stale signature")
            return web.json_response({"msg": "invalid signature"}, status=401)
        raw = lark.RawRequest()
        raw.uri = EVENTS_PATH
        raw.body = body
        # Case-insensitive, as HTTP header names are: the SDK looks up ``X-Lark-…`` as
        # spelled, and HTTP/2 or an ingress proxy delivers them in lower case.
        raw.headers = CIMultiDict(request.headers)  # type: ignore[assignment]
        response = handler.do(raw)
        if not signed and b"challenge" not in (response.content or b""):
            # Only the URL-verification challenge may come unsigned.
            return web.json_response({"msg": "missing signature"}, status=401)
        status = response.status_code if response.status_code == 200 else 401
        return web.Response(status=status, body=response.content, content_type="application/json")

    app = web.Application()
    app.router.add_post(EVENTS_PATH, events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    listener._runner = runner
    listener.port = port


async def start_feishu(
    settings: Settings,
    core: CommandCore,
    templates: Templates,
    *,
    host: str | None = None,
    port: int | None = None,
    api: FeishuApi | None = None,
) -> FeishuListener:
    """Start the Feishu app bot in the running loop (HTTP events, or the long connection)."""
    problem = missing_key(settings)
    if problem:
        raise ConfigError(problem)
    protect_settings_secrets(settings)
    feishu = settings.feishu
    assert feishu.app_id and feishu.app_secret is not None
    api = api or FeishuApi(
        feishu.app_id, feishu.app_secret.get_secret_value(), domain=feishu.api_url
    )
    bridge = FeishuBridge(core, templates, api, asyncio.get_running_loop())
    try:
        await bridge.identify()  # refused credentials end the start here, named
    except PlatformUnavailable:
        raise
    except DigestbotError as exc:  # a passing fault: the first message asks again
        log.warning("feishu: the bot's open id is not known yet: %s", exc)
    listener = FeishuListener(bridge, feishu.mode)
    handler = dispatcher(settings, bridge)
    if feishu.mode == "http":
        assert feishu.encrypt_key is not None
        await serve_http(
            listener,
            handler,
            feishu.encrypt_key.get_secret_value(),
            host or feishu.host,
            feishu.port if port is None else port,
        )
        log.info("feishu: serving %s on port %s", EVENTS_PATH, listener.port)
        return listener
    websocket = FeishuWebsocket(
        feishu.app_id, feishu.app_secret.get_secret_value(), handler, domain=feishu.api_url
    )
    listener.websocket = websocket
    websocket.start()
    try:
        if await websocket.wait_connected(CONNECT_WAIT):
            log.info("feishu: long connection open")
        else:
            log.warning("feishu: the long connection is not open yet; the SDK keeps trying")
    except BaseException:
        await listener.stop()
        raise
    return listener
