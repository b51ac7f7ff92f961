"""Feishu/Lark custom robots: cards signed in the body, 100 a minute and 5 a second.

With a secret, the body carries ``timestamp`` (Unix seconds, as a string) and ``sign`` =
base64(HMAC-SHA256(key=timestamp + "\\n" + secret, message="")). Success is
``{"code": 0}``. Messages to one robot are kept within
5 a second and 100 a minute; a frequency-limit answer is retried after the minute.

A channel without a webhook is a chat of the app bot (``chat_id: oc_…``, or a group that
subscribed from chat): the same cards go through the IM API with the app's tenant token
(``bot.platforms.feishu.api``), each with a ``uuid`` derived from the channel, the day and
the message index, so Feishu posts a re-sent message only once.

A card Feishu refuses as invalid (webhook code 11246, IM API code 230099) never loses its
items: the same content goes out as the ``post`` messages the card carries
(``RobotMessage.fallback``), and a post refused in turn as plain ``text``; each such
switch is logged as a warning naming the channel, the day and the card's index.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.errors import DeliveryError, PlatformUnavailable
from bot.platforms.pacing import paced
from bot.platforms.robot import Request, Robot, RobotTransport
from formatters import RobotMessage
from formatters import feishu as feishu_format

if TYPE_CHECKING:
    from rich.console import Console

    from bot.channels import Channel
    from bot.config import Settings
    from bot.platforms.feishu.api import FeishuApi

log = logging.getLogger(__name__)
#: Feishu could not build a card from our JSON: the webhook answers 11246 (HTTP 200), the
#: IM API 230099; both name the card error (11310) in the message.
WEBHOOK_CARD_REFUSED = frozenset({"11246"})
IM_CARD_REFUSED = frozenset({"230099"})
Send = Callable[[dict[str, Any], int], Awaitable[str]]


def feishu_sign(secret: str, timestamp: int) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuTransport(RobotTransport):
    platform = "feishu"
    default_limits = ((5, 1.0), (100, 60.0))
    default_window = 60.0
    renderer = staticmethod(feishu_format.render_digest)
    title = "Feishu"
    code_keys = ("code", "StatusCode")
    message_keys = ("msg", "StatusMessage")
    #: Request frequency limited.
    rate_limited_codes = frozenset({11232, 11233})
    #: Bad signature or stale timestamp, IP not allowed, invalid or removed robot token.
    #: Bad signature or stale timestamp, IP not allowed, invalid or removed robot token, and
    #: 19024: a robot secured by keywords (the digest cannot promise one).
    robot_gone_codes = frozenset({19021, 19022, 19024, 19001, 19002, 19003, 19005})
    gone_hint = (
        "check channels[].webhook and channels[].secret (a robot secured by keywords "
        "needs signing, 签名校验, instead)"
    )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, console: Console | None = None, **options: Any
    ) -> FeishuTransport:
        feishu = settings.feishu
        if "api" not in options and feishu.app_id and feishu.app_secret is not None:
            # Deferred: lark-oapi is heavy, and webhook-only setups never need it.
            from bot.platforms.feishu.api import FeishuApi

            options["api"] = FeishuApi(
                feishu.app_id, feishu.app_secret.get_secret_value(), domain=feishu.api_url
            )
        return cls(cls.robots_from(settings), chat_ids=cls.chat_ids_from(settings), **options)

    @staticmethod
    def chat_ids_from(settings: Settings) -> dict[str, str]:
        """The configured app-bot channels' chat ids (``chat_id: oc_…``), by channel id."""
        return {c.id: c.chat_id for c in settings.channels if c.platform == "feishu" and c.chat_id}

    def chat_id_of(self, channel: Channel) -> str:
        """The chat an app-bot channel posts to: its ``chat_id``, or its id (a group that
        subscribed from chat is known by its chat id)."""
        return self.chat_ids.get(channel.id, channel.id)

    def __init__(
        self,
        robots: dict[str, Robot],
        *,
        chat_ids: dict[str, str] | None = None,
        api: FeishuApi | None = None,
        **options: Any,
    ) -> None:
        super().__init__(robots, **options)
        self.chat_ids = dict(chat_ids or {})
        self.api = api

    async def send(
        self,
        channel: Channel,
        message_index: int,
        payload: RobotMessage,
        *,
        digest_date: dt.date,
        parent_id: str | None = None,
    ) -> str:
        if channel.id in self.robots:
            try:
                return await super().send(
                    channel, message_index, payload, digest_date=digest_date, parent_id=parent_id
                )
            except DeliveryError as exc:
                if not refused_card(exc, payload, WEBHOOK_CARD_REFUSED):
                    raise
                robot = self.robot_of(channel)

                async def post(body: dict[str, Any], part: int) -> str:
                    return await self.post(channel, robot, body, message_index)

                where = (channel, digest_date, message_index)
                return await send_fallback(where, payload, exc, post)
        if self.api is None:
            raise PlatformUnavailable(
                f"{channel}: no webhook for this channel and no app bot to post with "
                "(set channels[].webhook, or feishu.app_id and feishu.app_secret)",
                code="no_app",
            )
        chat_id = self.chat_id_of(channel)
        key = f"{chat_id}|{channel.kind}|{digest_date.isoformat()}|{message_index}"
        uuid = hashlib.sha256(key.encode()).hexdigest()[:32]
        pace = f"chat:{chat_id}"
        api = self.api

        try:
            return await paced(
                self.pacer, pace, lambda: api.send_card(chat_id, payload.body["card"], uuid=uuid)
            )
        except DeliveryError as exc:
            if not refused_card(exc, payload, IM_CARD_REFUSED):
                raise
            refusal = exc

        async def message(body: dict[str, Any], part: int) -> str:
            kind = str(body["msg_type"])
            content = body["content"]["post"] if kind == "post" else body["content"]
            again = hashlib.sha256(f"{key}|{kind}|{part}".encode()).hexdigest()[:32]
            return await paced(
                self.pacer, pace, lambda: api.send_message(chat_id, kind, content, uuid=again)
            )

        where = (channel, digest_date, message_index)
        return await send_fallback(where, payload, refusal, message)

    def sign(self, robot: Robot, body: dict[str, Any], now: float) -> Request:
        if not robot.secret:
            return Request(robot.webhook, body)
        timestamp = int(now)
        signed = {"timestamp": str(timestamp), "sign": feishu_sign(robot.secret, timestamp)}
        return Request(robot.webhook, {**signed, **body})


def refused_card(exc: DeliveryError, payload: RobotMessage, codes: frozenset[str]) -> bool:
    """Feishu refused this card as invalid, and the payload has content to send instead."""
    return type(exc) is DeliveryError and exc.code in codes and bool(payload.fallback)


async def send_fallback(
    where: tuple[Channel, dt.date, int], payload: RobotMessage, exc: DeliveryError, send: Send
) -> str:
    """The refused card's content as its posts, in order; a refused post as text. Returns
    the first message's id (the card's place in the ledger)."""
    channel, day, index = where
    log.warning(
        "%s: Feishu refused card %d of %s (code %s); sending its content as %d post(s)",
        channel,
        index,
        day.isoformat(),
        exc.code,
        len(payload.fallback),
    )
    first = ""
    for part, post in enumerate(payload.fallback):
        try:
            sent = await send(post, part)
        except DeliveryError as refused:
            if type(refused) is not DeliveryError:
                raise
            log.warning(
                "%s: Feishu refused post %d of card %d of %s (code %s); sending it as text",
                channel,
                part,
                index,
                day.isoformat(),
                refused.code,
            )
            sent = await send(feishu_format.text_fallback(post), part)
        first = first or sent
    return first
