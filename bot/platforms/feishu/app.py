"""The Feishu app bot: ``@digestbot tag:RL`` in a group (or a direct message) answered from
the archive, over the SDK's long connection (websocket) or signed HTTP events.

Thin on purpose, like the Slack and Telegram adapters: an ``im.message.receive_v1`` event
becomes a ``CommandRequest`` (the mention stripped, the rest is what follows ``/ai``), the
core's reply becomes ``formatters.feishu_replies`` cards sent as a reply to the message. The event
is acknowledged first (the dispatcher returns at once; the answer is a task), the bot's
own messages (and any app's) are ignored, and an event id seen before is ignored too:
Feishu redelivers. Only a group's owner and managers may change its subscription.

HTTP mode serves ``POST /feishu/events``: an event must carry a valid signature
(``X-Lark-Signature`` over timestamp, nonce, encrypt key and body) no older than
``MAX_AGE``; lark-oapi's dispatcher then decrypts it, checks the verification token and
answers the URL-verification challenge. Anything else is refused with 401.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import lark_oapi as lark
from aiohttp import web

from bot.chat import CommandCore, CommandRequest, is_mutating
from bot.errors import ConfigError, DigestbotError
from bot.platforms.feishu.api import FeishuApi
from bot.platforms.feishu.listener import missing_key
from bot.platforms.feishu.replies import send_replies
from bot.redact import protect_settings_secrets
from formatters import feishu_replies

if TYPE_CHECKING:
    from lark_oapi.api.im.v1 import P2ImMessageReceiveV1

    from bot.config import Settings
    from formatters import Templates

log = logging.getLogger(__name__)

EVENTS_PATH = "/feishu/events"
#: Signed events older (or newer) than this many seconds are refused as replays.
MAX_AGE = 300
#: Event ids remembered to ignore redeliveries.
SEEN_EVENTS = 4096


class FeishuBridge:
    """Translate message events for the core, and its replies into reply cards."""

    def __init__(
        self,
        core: CommandCore,
        templates: Templates,
        api: FeishuApi,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.core = core
        self.templates = templates
        self.api = api
        self.loop = loop
        self.tasks: set[asyncio.Future[Any]] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def on_message(self, data: P2ImMessageReceiveV1) -> None:
        """The dispatcher's callback (any thread): remember the event, answer later."""
        event_id = data.header.event_id if data.header else None
        with self._lock:
            if event_id in self._seen:
                log.info("feishu: event %s seen before (a redelivery); ignored", event_id)
                return
            if event_id:
                self._seen[event_id] = None
                while len(self._seen) > SEEN_EVENTS:
                    self._seen.popitem(last=False)
        future = asyncio.run_coroutine_threadsafe(self.answer(data), self.loop)
        self.tasks.add(future)
        future.add_done_callback(self.tasks.discard)

    async def answer(self, data: P2ImMessageReceiveV1) -> None:
        try:
            await self._answer(data)
        except DigestbotError as exc:
            log.warning("feishu: could not answer: %s", exc)
        except Exception:
            log.exception("feishu: answering a message failed")

    async def _answer(self, data: P2ImMessageReceiveV1) -> None:
        event = data.event
        if event is None or event.message is None or event.sender is None:
            return
        if event.sender.sender_type != "user":
            return  # our own messages, and other bots'
        message = event.message
        if message.message_type != "text":
            return
        text = command_text(message.content or "", [m.key for m in message.mentions or []])
        if message.chat_type != "p2p" and not message.mentions:
            return  # in a group, only messages that mention the bot are for it
        user = event.sender.sender_id.open_id if event.sender.sender_id else ""
        is_admin = await self._is_admin(message.chat_type, message.chat_id, user, text)
        request = CommandRequest(
            platform="feishu",
            channel_id=str(message.chat_id),
            user_id=str(user or ""),
            is_admin=is_admin,
            text=text,
        )
        cards = await self.core.in_worker(self._render, request)
        await send_replies(self.api, str(message.message_id), cards, self.templates)

    async def _is_admin(
        self, chat_type: str | None, chat_id: str | None, user: str | None, text: str
    ) -> bool | None:
        if not is_mutating(text):
            return None
        if chat_type == "p2p":
            return True
        try:
            return bool(user) and user in await self.api.chat_admins(str(chat_id))
        except DigestbotError as exc:
            log.warning("feishu: cannot read the managers of %s: %s", chat_id, exc)
            return False

    def _render(self, request: CommandRequest) -> list[dict[str, Any]]:
        envelope = self.core.handle(request)
        return self.core.render_safely(
            envelope, lambda r: feishu_replies.render_reply(r, self.templates)
        )


def command_text(content: str, mention_keys: list[str]) -> str:
    """The text of a message with the mentions removed (and an optional leading ``/ai``)."""
    try:
        text = str(json.loads(content).get("text", ""))
    except (ValueError, AttributeError):
        return ""
    for key in mention_keys:
        text = text.replace(key, " ")
    text = " ".join(text.split())
    return text.removeprefix("/ai").strip()


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
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def connected(self) -> bool:
        if self._stopped:
            return False
        if self.mode == "http":
            return self._runner is not None
        return self._thread is not None and self._thread.is_alive()

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._runner is not None:
            await self._runner.cleanup()
        for task in list(self.bridge.tasks):
            task.cancel()
        # The SDK's long connection has no stop: its daemon thread ends with the process.


def dispatcher(settings: Settings, bridge: FeishuBridge) -> lark.EventDispatcherHandler:
    feishu = settings.feishu
    key = feishu.encrypt_key.get_secret_value() if feishu.encrypt_key else ""
    token = feishu.verification_token.get_secret_value() if feishu.verification_token else ""
    return (
        lark.EventDispatcherHandler.builder(key, token)
        .register_p2_im_message_receive_v1(bridge.on_message)
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
        raw.headers = dict(request.headers)
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


def run_websocket(settings: Settings, handler: lark.EventDispatcherHandler) -> threading.Thread:
    """The SDK's long connection in a thread of its own (its client blocks and owns a loop)."""
    import lark_oapi.ws.client as ws_client

    feishu = settings.feishu
    assert feishu.app_id and feishu.app_secret is not None

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        ws_client.loop = loop  # the SDK keeps its loop in a module global
        client = lark.ws.Client(
            feishu.app_id,
            feishu.app_secret.get_secret_value(),  # type: ignore[union-attr]
            event_handler=handler,
            domain=feishu.api_url.rstrip("/"),
            log_level=lark.LogLevel.WARNING,
        )
        try:
            client.start()
        except Exception:
            log.exception("feishu: the long connection stopped")

    thread = threading.Thread(target=run, name="feishu-ws", daemon=True)
    thread.start()
    return thread


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
    else:
        listener._thread = run_websocket(settings, handler)
        log.info("feishu: long connection started")
    return listener
