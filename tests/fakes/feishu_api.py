"""A local Feishu/Lark open API: tenant tokens, sending and replying, chats, and events.

``lark.Client.builder().domain(fake.base_url)`` talks to it unchanged. It issues tenant
access tokens for one app (``app_id``/``app_secret``), takes ``im/v1/messages`` sends and
``…/{message_id}/reply`` replies with a valid token only, checks card content with the
Feishu validators, answers ``im/v1/chats/{chat_id}`` with the group's owner and managers,
and enforces a per-chat rate limit on sends (code 99991400 over it). Message content is
held to Feishu's limits (text 150 KB, card and post 30 KB: code 230025); a card it cannot
build, or one showing an image it never issued (``feishu_images``), is code 230099, and
``refuse_cards`` refuses every card that way (posts and text still pass).

``bot/v3/info`` tells the bot its own open id.

It also plays Feishu's side of event delivery. Over HTTP, ``deliver`` posts an event
(``message_event``) or a card callback (``card_action_event``) to the bot's URL, encrypted
with the encrypt key and signed (``X-Lark-Signature`` = sha256(timestamp + nonce +
encrypt_key + body)) like the real one, or forged / stale on request. Over the long
connection (``long_connection``, ``tests.fakes.feishu_ws``) the same payloads travel as
protobuf frames.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import secrets
import time
from typing import Any

import aiohttp
from aiohttp import web
from Crypto.Cipher import AES

from tests.fakes.feishu_images import FakeImages
from tests.fakes.feishu_validation import validate_content
from tests.fakes.feishu_ws import FakeLongConnection
from tests.fakes.robot_markdown import RobotRefused
from tests.fakes.server import FakeServer, Fault, TokenBucket

RATE_LIMITED = 99991400
BAD_TOKEN = 99991663
CARD_REFUSED, TOO_LONG = 230099, 230025
#: Content limits in bytes: text messages, cards and posts.
CONTENT_LIMITS = {"text": 150 * 1024, "interactive": 30 * 1024, "post": 30 * 1024}


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus a JSON body (the SDK's token request sends no content type)."""
    params: dict[str, Any] = dict(request.query)
    raw = await request.read()
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update(body)
    return params


class FakeFeishuApi(FakeServer):
    """The fake open API; ``base_url`` goes into ``lark.Client.builder().domain(...)``."""

    def __init__(
        self,
        *,
        verification_token: str = "vtoken-test",
        encrypt_key: str | None = "encrypt-key-test",
        bot_open_id: str = "ou_digestbot",
    ) -> None:
        super().__init__()
        # A fresh app id per fake: lark-oapi caches tenant tokens process-wide by app id.
        self.app_id = f"cli_{secrets.token_hex(8)}"
        self.app_secret = secrets.token_urlsafe(16)
        self.verification_token = verification_token
        self.encrypt_key = encrypt_key
        self.bot_open_id = bot_open_id
        self.tokens: set[str] = set()
        self.chats: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.per_chat: tuple[float, float] | None = None
        self._buckets: dict[str, TokenBucket] = {}
        self._ids = itertools.count(1)
        self.long_connection = FakeLongConnection(self, self.app_id, self.app_secret)
        self.images = FakeImages(self)
        self.refuse_cards = False

    # -- state ------------------------------------------------------------------------
    def add_chat(self, chat_id: str, *, owner: str, managers: tuple[str, ...] = ()) -> None:
        with self._lock:
            self.chats[chat_id] = {"owner_id": owner, "managers": list(managers)}

    def sent(self, chat_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.messages.get(chat_id, []))

    def enforce_rate_limit(self, per_chat_per_sec: float = 5.0, burst: float = 5.0) -> None:
        with self._lock:
            self.per_chat = (per_chat_per_sec, burst)
            self._buckets.clear()

    def _reset_state(self) -> None:
        self.messages.clear()
        self._buckets.clear()

    # -- HTTP -------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/open-apis/im/v1/chats/{chat_id}/members/is_in_chat", self._in_chat)
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self._token)
        app.router.add_post("/open-apis/auth/v3/app_access_token/internal", self._token)
        app.router.add_post("/open-apis/im/v1/messages", self._send)
        app.router.add_post("/open-apis/im/v1/messages/{message_id}/reply", self._reply)
        app.router.add_get("/open-apis/im/v1/chats/{chat_id}", self._chat)
        app.router.add_get("/open-apis/bot/v3/info", self._bot_info)
        self.long_connection.routes(app)
        self.images.routes(app)
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    async def _before_stop(self) -> None:
        await self.long_connection.close()

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response({"code": 404, "msg": "not found"}, status=404)

    async def _in_chat(self, request: web.Request) -> web.Response:
        """Whether the token's own bot is in the chat (the chats the fake knows)."""
        chat_id = request.match_info["chat_id"]
        self.record("im.chat.members.is_in_chat", {"chat_id": chat_id})
        if not self._authorized(request):
            return self._answer(BAD_TOKEN, "Invalid access token for authorization", 400)
        with self._lock:
            inside = chat_id in self.chats
        return self._answer(0, "success", is_in_chat=inside)

    @staticmethod
    def _answer(code: int, msg: str, status: int = 200, **data: Any) -> web.Response:
        return web.json_response({"code": code, "msg": msg, "data": data}, status=status)

    def _fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.drop:
            return self.drop(request)
        if fault.status == 429:
            return web.json_response(
                {"code": RATE_LIMITED, "msg": "request trigger frequency limit"}, status=429
            )
        return web.Response(status=fault.status, text="upstream error")

    async def _token(self, request: web.Request) -> web.Response:
        params = await read_params(request)
        self.record("tenant_access_token", {"app_id": params.get("app_id")})
        if params.get("app_id") != self.app_id or params.get("app_secret") != self.app_secret:
            self.count("error:10014")
            return web.json_response({"code": 10014, "msg": "app secret invalid"}, status=400)
        token = f"t-{secrets.token_hex(12)}"
        with self._lock:
            self.tokens.add(token)
        return web.json_response(
            {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}
        )

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        with self._lock:
            return header.startswith("Bearer ") and header[7:] in self.tokens

    async def _send(self, request: web.Request) -> web.StreamResponse:
        params = await read_params(request)
        self.record("im.message.create", params)
        fault = self.take_fault("im.message.create")
        if fault is not None:
            return self._fault(request, fault)
        if not self._authorized(request):
            return self._answer(BAD_TOKEN, "Invalid access token for authorization", 400)
        if params.get("receive_id_type") != "chat_id":
            return self._answer(99992402, "field validation failed: receive_id_type", 400)
        return self._store(str(params.get("receive_id", "")), params, parent=None)

    async def _reply(self, request: web.Request) -> web.StreamResponse:
        params = await read_params(request)
        parent = request.match_info["message_id"]
        self.record("im.message.reply", {**params, "message_id": parent})
        fault = self.take_fault("im.message.reply")
        if fault is not None:
            return self._fault(request, fault)
        if not self._authorized(request):
            return self._answer(BAD_TOKEN, "Invalid access token for authorization", 400)
        chat_id = next(
            (c for c, ms in self.messages.items() for m in ms if m["message_id"] == parent),
            parent.removeprefix("om_in_").split(":", 1)[0],
        )
        return self._store(chat_id, params, parent=parent)

    def _store(self, chat_id: str, params: dict[str, Any], parent: str | None) -> web.Response:
        if chat_id not in self.chats:
            return self._answer(230002, "Bot/User can NOT be out of the chat.", 400)
        if self.per_chat is not None:
            with self._lock:
                bucket = self._buckets.setdefault(chat_id, TokenBucket(*self.per_chat))
                wait = bucket.wait_time()
                if wait <= 0:
                    bucket.take()
            if wait > 0:
                self.count("rate_limited")
                answer = self._answer(RATE_LIMITED, "request trigger frequency limit", 400)
                answer.headers["x-ogw-ratelimit-limit"] = str(self.per_chat[1])
                answer.headers["x-ogw-ratelimit-reset"] = str(math.ceil(wait))
                return answer
        kind = str(params.get("msg_type"))
        raw = str(params.get("content", ""))
        if len(raw.encode()) > CONTENT_LIMITS.get(kind, CONTENT_LIMITS["text"]):
            return self._answer(
                TOO_LONG, "The length of the message content reaches its limit", 400
            )
        try:
            content = json.loads(raw)
        except ValueError:
            return self._answer(230001, "invalid message content", 400)
        try:
            if kind == "interactive" and self.refuse_cards:
                raise RobotRefused(11310, "unsupported type of block; ErrorValue: refused")
            shown = validate_content(kind, content)
            unknown = set(shown["images"]) - self.images.keys
            if unknown:
                raise RobotRefused(11310, f"invalid image keys: {sorted(unknown)}")
        except RobotRefused as exc:
            text = f"Failed to create card content, ext=ErrCode: {exc.code}; ErrMsg: {exc}; "
            if kind != "interactive":
                text = f"invalid message content: {exc}"
            return self._answer(CARD_REFUSED if kind == "interactive" else 230001, text, 400)
        uuid = params.get("uuid")
        with self._lock:
            again = [m for m in self.messages.get(chat_id, []) if uuid and m["uuid"] == uuid]
        if again:  # Feishu posts a message with a uuid it saw within the hour only once
            self.count("deduplicated")
            return self._answer(0, "success", message_id=again[0]["message_id"], chat_id=chat_id)
        message_id = f"om_{next(self._ids):06d}"
        message = {
            "message_id": message_id,
            "chat_id": chat_id,
            "parent_id": parent,
            "msg_type": kind,
            "content": content,
            "uuid": params.get("uuid"),
            **shown,
        }
        with self._lock:
            self.messages.setdefault(chat_id, []).append(message)
            self._changed.notify_all()
        self.count("ok")
        return self._answer(0, "success", message_id=message_id, chat_id=chat_id)

    async def _chat(self, request: web.Request) -> web.Response:
        chat_id = request.match_info["chat_id"]
        self.record("im.chat.get", {"chat_id": chat_id})
        if not self._authorized(request):
            return self._answer(BAD_TOKEN, "Invalid access token for authorization", 400)
        chat = self.chats.get(chat_id)
        if chat is None:
            return self._answer(232011, "chat not found or bot not in chat", 400)
        return self._answer(
            0,
            "success",
            owner_id=chat["owner_id"],
            owner_id_type="open_id",
            user_manager_id_list=chat["managers"],
            chat_mode="group",
        )

    async def _bot_info(self, request: web.Request) -> web.Response:
        self.record("bot.info", {})
        fault = self.take_fault("bot.info")
        if fault is not None:
            return self._fault(request, fault)
        if not self._authorized(request):
            return self._answer(BAD_TOKEN, "Invalid access token for authorization", 400)
        return web.json_response(
            {
                "code": 0,
                "msg": "ok",
                "bot": {
                    "activate_status": 2,
                    "app_name": "digestbot",
                    "avatar_url": "",
                    "ip_white_list": [],
                    "open_id": self.bot_open_id,
                },
            }
        )

    # -- Feishu's side of event delivery -----------------------------------------------
    def message_event(
        self,
        chat_id: str,
        text: str,
        *,
        user: str = "ou_user",
        chat_type: str = "group",
        mention: bool = True,
        others: tuple[str, ...] = (),
        sender_type: str = "user",
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """An ``im.message.receive_v1`` event (schema 2.0) as Feishu sends it: ``mention``
        puts ``@digestbot`` first, ``others`` mentions those open ids after it."""
        people = ([self.bot_open_id] if mention else []) + list(others)
        mentions = [
            {
                "key": f"@_user_{n}",
                "id": {"open_id": open_id, "union_id": f"on_{open_id}", "user_id": None},
                "name": "digestbot" if open_id == self.bot_open_id else open_id,
                "tenant_key": "tk",
            }
            for n, open_id in enumerate(people, start=1)
        ]
        text = " ".join([*(m["key"] for m in mentions), text])
        return {
            "schema": "2.0",
            "header": {
                "event_id": event_id or secrets.token_hex(16),
                "event_type": "im.message.receive_v1",
                "create_time": str(int(time.time() * 1000)),
                "token": self.verification_token,
                "app_id": self.app_id,
                "tenant_key": "tk",
            },
            "event": {
                "sender": {
                    "sender_id": {"open_id": user},
                    "sender_type": sender_type,
                    "tenant_key": "tk",
                },
                "message": {
                    "message_id": f"om_in_{chat_id}:{secrets.token_hex(4)}",
                    "create_time": str(int(time.time() * 1000)),
                    "chat_id": chat_id,
                    "chat_type": chat_type,
                    "message_type": "text",
                    "content": json.dumps({"text": text}, ensure_ascii=False),
                    "mentions": mentions,
                },
            },
        }

    def card_action_event(
        self,
        message: dict[str, Any],
        value: Any,
        *,
        user: str = "ou_user",
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """A ``card.action.trigger`` callback (schema 2.0): ``user`` pressed the button
        whose callback ``value`` is given, on ``message`` (one the bot sent)."""
        return {
            "schema": "2.0",
            "header": {
                "event_id": event_id or secrets.token_hex(16),
                "token": self.verification_token,
                "create_time": str(int(time.time() * 1_000_000)),
                "event_type": "card.action.trigger",
                "tenant_key": "tk",
                "app_id": self.app_id,
            },
            "event": {
                "operator": {"tenant_key": "tk", "open_id": user, "union_id": f"on_{user}"},
                "token": f"c-{secrets.token_hex(12)}",
                "action": {"value": value, "tag": "button"},
                "host": "im_message",
                "context": {
                    "open_message_id": message["message_id"],
                    "open_chat_id": message["chat_id"],
                },
            },
        }

    def signed_request(
        self, payload: dict[str, Any], *, forge: bool = False, age: float = 0.0
    ) -> tuple[bytes, dict[str, str]]:
        """The body (encrypted when there is an encrypt key) and the signature headers."""
        plain = json.dumps(payload, ensure_ascii=False).encode()
        if self.encrypt_key:
            key = hashlib.sha256(self.encrypt_key.encode()).digest()
            iv = secrets.token_bytes(16)
            pad = 16 - len(plain) % 16
            secret = AES.new(key, AES.MODE_CBC, iv).encrypt(plain + bytes([pad]) * pad)
            body = json.dumps({"encrypt": base64.b64encode(iv + secret).decode()}).encode()
        else:
            body = plain
        timestamp, nonce = str(int(time.time() - age)), secrets.token_hex(8)
        key_text = self.encrypt_key or ""
        signature = hashlib.sha256((timestamp + nonce + key_text).encode() + body).hexdigest()
        if forge:
            signature = hashlib.sha256(b"forged" + body).hexdigest()
        return body, {
            "Content-Type": "application/json; charset=utf-8",
            "X-Lark-Request-Timestamp": timestamp,
            "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": signature,
        }

    async def deliver(
        self,
        url: str,
        payload: dict[str, Any],
        *,
        forge: bool = False,
        age: float = 0.0,
        lowercase: bool = False,
    ) -> tuple[int, str]:
        """POST an event to the bot as Feishu does; returns the bot's status and body.
        ``lowercase`` sends the header names in lower case, as HTTP/2 and many ingress
        proxies do."""
        body, headers = self.signed_request(payload, forge=forge, age=age)
        if lowercase:
            headers = {name.lower(): value for name, value in headers.items()}

        async def post() -> tuple[int, str]:
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, data=body, headers=headers) as response,
            ):
                return response.status, await response.text()

        return await self.run_async(post())
