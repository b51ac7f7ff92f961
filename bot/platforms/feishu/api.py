"""The Feishu app bot's open API, through lark-oapi: send, reply, and who runs a group.

One ``lark.Client`` per app (tenant token fetched and cached by the SDK), pointed at
``feishu.api_url``. Answers are mapped to the error tree here, at the edge:

- frequency limit (99991400, HTTP 429), 5xx, network errors: ``TransientDeliveryError``,
  a rate limit retried after ``x-ogw-ratelimit-reset`` seconds when Feishu says;
- the bot is not in the chat, or the chat is gone: ``PermanentDeliveryError``;
- the app's credentials or token are refused: ``PlatformUnavailable``;
- anything else (a card Feishu rejects): ``DeliveryError``.

Sends carry a ``uuid``: Feishu posts a message with a ``uuid`` it has seen within the hour
only once, so re-sending after a crash or a lost answer does not duplicate it.
"""

from __future__ import annotations

import json
import logging
from io import BytesIO
from typing import Any

import httpx
import lark_oapi as lark
import requests
from lark_oapi.api.im.v1 import (
    CreateImageRequest,
    CreateImageRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    GetChatRequest,
    IsInChatChatMembersRequest,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.core.exception import ObtainAccessTokenException

from bot.errors import (
    DeliveryError,
    PermanentDeliveryError,
    PlatformUnavailable,
    TransientDeliveryError,
)
from bot.redact import redact_in_logs

log = logging.getLogger(__name__)

#: Frequency limits: 99991400 (the open API's, HTTP 429 or 400 on older APIs), 230020
#: (a chat's message rate), and the codes lark-oapi's own retry treats as backpressure.
RATE_LIMITED = {99991400, 99991402, 11020, 11021, 230020}
#: The bot is not in the chat, or the chat does not exist (any more).
CHAT_GONE = {230002, 232011, 232010, 230006}
#: The app's credentials or token are refused.
APP_REFUSED = {99991661, 99991663, 99991664, 99991665, 10014, 10003, 99991672}


def reset_after(headers: dict[str, str]) -> float | None:
    """Seconds until a rate limit lifts, from ``x-ogw-ratelimit-reset`` (Feishu's advice on
    every rate-limited answer), or None without a usable header."""
    for key, value in headers.items():
        if key.lower() == "x-ogw-ratelimit-reset":
            try:
                seconds = float(value)
            except ValueError:
                return None
            return seconds if 0 < seconds <= 3600 else None
    return None


class FeishuApi:
    """The IM calls digestbot makes, as coroutines with mapped errors."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        *,
        domain: str = "https://open.feishu.cn",
        timeout: float = 10.0,
        rate_window: float = 1.0,
    ) -> None:
        redact_in_logs(app_secret, "Lark", "httpx")
        self.client = (
            lark.Client.builder()
            .app_id(app_id)
            .app_secret(app_secret)
            .domain(domain.rstrip("/"))
            .timeout(timeout)
            .log_level(lark.LogLevel.WARNING)
            .build()
        )
        self.rate_window = rate_window

    async def send_card(
        self, chat_id: str, card: dict[str, Any], *, uuid: str | None = None
    ) -> str:
        return await self.send_message(chat_id, "interactive", card, uuid=uuid)

    async def reply_card(self, message_id: str, card: dict[str, Any]) -> str:
        return await self.reply_message(message_id, "interactive", card)

    async def chat_admins(self, chat_id: str) -> set[str]:
        """Open ids of the group's owner and managers."""
        request = GetChatRequest.builder().chat_id(chat_id).user_id_type("open_id").build()
        response = await self._call(
            f"feishu:{chat_id}: im/v1/chats", self.client.im.v1.chat.aget, request
        )
        data = response.data
        return {data.owner_id, *(data.user_manager_id_list or [])} - {None}  # type: ignore[arg-type]

    async def _call(self, where: str, method: Any, request: Any) -> Any:
        try:
            response = await method(request)
        except ObtainAccessTokenException as exc:
            raise PlatformUnavailable(
                f"{where}: the app's credentials were refused (code {exc.code}); check "
                "feishu.app_id and feishu.app_secret",
                code=str(exc.code),
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, requests.ConnectionError) as exc:
            raise TransientDeliveryError(f"{where}: {type(exc).__name__}", code="network") from None
        except (httpx.HTTPError, requests.RequestException) as exc:
            raise TransientDeliveryError(
                f"{where}: {type(exc).__name__}", code="network", maybe_posted=True
            ) from None
        except ValueError as exc:  # an answer that is not JSON (a proxy's 502 page)
            raise TransientDeliveryError(
                f"{where}: unreadable answer ({exc})", code="5xx", maybe_posted=True
            ) from None
        if response.success():
            return response
        raise self._error(where, response)

    def _error(self, where: str, response: Any) -> Exception:
        code, message = response.code, str(response.msg or "")[:200]
        status = response.raw.status_code if response.raw is not None else None
        text = f"{where}: code {code}: {message}"
        if code in RATE_LIMITED or status == 429:
            wait = reset_after(response.raw.headers if response.raw is not None else {})
            return TransientDeliveryError(
                text, code=str(code), retry_after=self.rate_window if wait is None else wait
            )
        if status is not None and status >= 500:
            return TransientDeliveryError(text, code=str(status), maybe_posted=True)
        if code in CHAT_GONE:
            return PermanentDeliveryError(text, code=str(code))
        if code in APP_REFUSED:
            return PlatformUnavailable(text, code=str(code))
        return DeliveryError(text, code=str(code))

    async def bot_info(self) -> dict[str, Any]:
        """``GET /open-apis/bot/v3/info``: the bot's ``open_id``, ``app_name`` and
        ``activate_status``; also the cheapest proof that the app's credentials work."""
        request = (
            lark.BaseRequest.builder()
            .http_method(lark.HttpMethod.GET)
            .uri("/open-apis/bot/v3/info")
            .token_types({lark.AccessTokenType.TENANT})
            .build()
        )
        where = "feishu: bot/v3/info"
        response = await self._call(where, self.client.arequest, request)
        try:
            bot = json.loads(response.raw.content)["bot"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise DeliveryError(f"{where}: an answer without bot") from None
        if not isinstance(bot, dict):
            raise DeliveryError(f"{where}: an answer without bot")
        return bot

    async def bot_open_id(self) -> str:
        """The bot's own open id: in a group the bot answers only messages that mention it,
        and never its own."""
        open_id = (await self.bot_info()).get("open_id")
        if not isinstance(open_id, str) or not open_id:
            raise DeliveryError("feishu: bot/v3/info: an answer without bot.open_id")
        return open_id

    async def is_in_chat(self, chat_id: str) -> bool:
        """Whether this app's bot is a member of ``chat_id`` (asked with its own token)."""
        request = IsInChatChatMembersRequest.builder().chat_id(chat_id).build()
        where = f"feishu:{chat_id}: is_in_chat"
        response = await self._call(where, self.client.im.v1.chat_members.ais_in_chat, request)
        return bool(response.data is not None and response.data.is_in_chat)

    # -- other message types, and images: the cards' fallbacks and the trends chart -------

    async def send_message(
        self, chat_id: str, msg_type: str, content: dict[str, Any], *, uuid: str | None = None
    ) -> str:
        """Any message type (``post``, ``text``) to a chat; ``content`` as the IM API takes it."""
        body = (
            CreateMessageRequestBody.builder()
            .receive_id(chat_id)
            .msg_type(msg_type)
            .content(json.dumps(content, ensure_ascii=False))
        )
        if uuid:
            body = body.uuid(uuid[:50])
        request = (
            CreateMessageRequest.builder().receive_id_type("chat_id").request_body(body.build())
        )
        where = f"feishu:{chat_id}: im/v1/messages ({msg_type})"
        response = await self._call(where, self.client.im.v1.message.acreate, request.build())
        return str(response.data.message_id)

    async def upload_image(self, png: bytes, *, image_type: str = "message") -> str:
        """Upload an image for a message or card (``im/v1/images``); returns its image_key."""
        body = CreateImageRequestBody.builder().image_type(image_type).image(BytesIO(png))
        request = CreateImageRequest.builder().request_body(body.build()).build()
        where = f"feishu: im/v1/images ({len(png)} bytes)"
        response = await self._call(where, self.client.im.v1.image.acreate, request)
        return str(response.data.image_key)

    async def reply_message(self, message_id: str, msg_type: str, content: dict[str, Any]) -> str:
        """Reply with any message type (``text`` when Feishu refused the reply's card)."""
        body = (
            ReplyMessageRequestBody.builder()
            .msg_type(msg_type)
            .content(json.dumps(content, ensure_ascii=False))
            .build()
        )
        request = ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()
        where = f"feishu: reply to {message_id} ({msg_type})"
        response = await self._call(where, self.client.im.v1.message.areply, request)
        return str(response.data.message_id)
