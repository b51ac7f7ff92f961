"""Posting to group-robot webhooks (Feishu, DingTalk, WeCom): one transport shape, three
dialects.

Each of the three lets a group add a custom robot with a webhook URL (and for Feishu and
DingTalk an optional signing secret); a POST of JSON posts one message. What differs is
how a request is signed and how an answer is read, so a platform subclasses
``RobotTransport`` and writes only ``sign`` and names its answer codes. Requests to one robot are
paced by a ``WindowPacer`` keyed by the robot (two channels may share one), within the
platform's per-robot windows; a rate-limit answer is transient with the platform's window as
``retry_after``. A bad signature, an invalid key or a removed robot is
``PlatformUnavailable``: reported, and the delivery stays retryable.

Webhooks cannot read a group's history, so ``find_posted`` cannot reconcile: a crash
between the robot accepting a message and the ledger recording it repeats that one message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp

from bot.delivery import Transport
from bot.errors import (
    DeliveryError,
    PermanentDeliveryError,
    PlatformUnavailable,
    TransientDeliveryError,
)
from bot.platforms.pacing import WindowPacer, paced
from bot.redact import redact_in_logs
from formatters import RobotMessage

if TYPE_CHECKING:
    from rich.console import Console

    from bot.channels import Channel
    from bot.config import Settings
    from bot.models import Digest

log = logging.getLogger(__name__)

#: Errors raised before the request left this process: retrying cannot duplicate.
_NOT_SENT = (aiohttp.ClientConnectorError,)


@dataclass(frozen=True)
class Answer:
    """A webhook's answer: HTTP status and the JSON body (empty when it is not JSON)."""

    status_code: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Robot:
    """One group robot: its webhook URL and optional signing secret (both secrets)."""

    webhook: str
    secret: str | None = None

    @property
    def key(self) -> str:
        """Pacing key: the robot itself, never shown (the URL holds its token)."""
        return hashlib.sha256(self.webhook.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Robot(<{self.key}>)"


@dataclass(frozen=True)
class Request:
    url: str
    body: dict[str, Any]


class RobotTransport(Transport):
    """A group robot's webhook: sign, pace per robot, post, read the platform's answer."""

    platform: ClassVar[str]
    payload_type = RobotMessage
    #: The platform's per-robot limits: at most N messages in any W seconds, per (N, W).
    default_limits: ClassVar[tuple[tuple[int, float], ...]]
    #: Seconds a rate-limited robot stays blocked (the platform's window).
    default_window: ClassVar[float]
    #: Answer keys holding the platform's result code and message (first present wins).
    code_keys: ClassVar[tuple[str, ...]] = ("errcode",)
    message_keys: ClassVar[tuple[str, ...]] = ("errmsg",)
    #: Codes meaning "rate limited", and "the robot's key, signature or existence is the
    #: problem" (the whole platform pauses; the delivery stays retryable).
    rate_limited_codes: ClassVar[frozenset[int]]
    robot_gone_codes: ClassVar[frozenset[int]]
    #: The platform's name in messages, and the keys to check when the robot refuses us.
    title: ClassVar[str]
    gone_hint: ClassVar[str] = "check channels[].webhook"
    #: The platform's formatter (``formatters.<platform>.render_digest``).
    renderer: ClassVar[Callable[[Digest, Any], list[RobotMessage]]]

    @classmethod
    def robots_from(cls, settings: Settings) -> dict[str, Robot]:
        """The configured channels of this platform that have a webhook, by channel id."""
        robots = {}
        for channel in settings.channels:
            if channel.platform == cls.platform and channel.webhook is not None:
                secret = channel.secret.get_secret_value() if channel.secret else None
                robots[channel.id] = Robot(channel.webhook.get_secret_value(), secret)
        return robots

    @classmethod
    def from_settings(
        cls, settings: Settings, *, console: Console | None = None, **options: Any
    ) -> RobotTransport:
        return cls(cls.robots_from(settings), **options)

    def __init__(
        self,
        robots: dict[str, Robot],
        *,
        limits: tuple[tuple[int, float], ...] | None = None,
        rate_window: float | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.robots = dict(robots)
        for robot in self.robots.values():
            redact_in_logs(robot.webhook)
            if robot.secret:
                redact_in_logs(robot.secret)
        self.pacer = WindowPacer(self.default_limits if limits is None else tuple(limits))
        self.rate_window = self.default_window if rate_window is None else rate_window
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    # -- what a platform writes ----------------------------------------------------------
    def sign(self, robot: Robot, body: dict[str, Any], now: float) -> Request:
        """The request for one message (a platform with signatures puts them in the body or
        the URL; by default the webhook's own key is the credential)."""
        return Request(robot.webhook, body)

    def outcome(self, channel: Channel, response: Answer) -> Exception | None:
        """None on success, else the error this answer means (see ``bot.errors``)."""
        error = self.server_error(channel, response)
        if error is not None:
            return error
        data = response.data
        code = next((data[key] for key in self.code_keys if key in data), None)
        message = str(next((data[key] for key in self.message_keys if key in data), ""))[:200]
        if code == 0:
            return None
        if code in self.rate_limited_codes:
            return self.rate_limited(channel, f"code {code}: {message}")
        if code in self.robot_gone_codes:
            return PlatformUnavailable(
                f"{channel}: the {self.title} robot refused us (code {code}: {message}); "
                f"{self.gone_hint}",
                code=str(code),
            )
        return DeliveryError(f"{channel}: rejected (code {code}: {message})", code=str(code))

    # -- the shared path -----------------------------------------------------------------
    def render(self, digest: Digest, templates: Any) -> list[Any]:
        return list(type(self).renderer(digest, templates))

    def describe(self, payload: RobotMessage) -> str:
        size = len(json.dumps(payload.body, ensure_ascii=False).encode())
        kind = payload.body.get("msgtype") or payload.body.get("msg_type")
        return f"{kind} ({size} bytes)"

    def robot_of(self, channel: Channel) -> Robot:
        robot = self.robots.get(channel.id)
        if robot is None:
            raise PermanentDeliveryError(
                f"{channel}: no webhook configured for this channel (channels[].webhook)",
                code="no_webhook",
            )
        return robot

    async def send(
        self,
        channel: Channel,
        message_index: int,
        payload: RobotMessage,
        *,
        digest_date: dt.date,
        parent_id: str | None = None,
    ) -> str:
        robot = self.robot_of(channel)
        return await self.post(channel, robot, payload.api_kwargs(), message_index)

    async def post(
        self, channel: Channel, robot: Robot, body: dict[str, Any], message_index: int
    ) -> str:
        """Sign and post one body to one robot, paced; the error it means, mapped."""

        async def attempt() -> str:
            request = self.sign(robot, body, dt.datetime.now(dt.UTC).timestamp())
            content = json.dumps(request.body, ensure_ascii=False).encode()
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(timeout=self.timeout)
            try:
                async with self._session.post(
                    request.url,
                    data=content,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                ) as reply:
                    response = Answer(reply.status, parse_json(await reply.read()))
            except (aiohttp.ClientError, TimeoutError) as exc:
                sent = not isinstance(exc, _NOT_SENT)
                raise TransientDeliveryError(
                    f"{channel}: {type(exc).__name__} posting to the robot",
                    code="network",
                    maybe_posted=sent,
                ) from None  # the library's message holds the webhook URL
            error = self.outcome(channel, response)
            if error is not None:
                raise error
            return f"{self.platform}:{message_index}"

        return await paced(self.pacer, robot.key, attempt)

    def server_error(self, channel: Channel, response: Answer) -> Exception | None:
        """HTTP 429 and 5xx, which all three answer the same way."""
        if response.status_code == 429:
            return self.rate_limited(channel, "HTTP 429")
        if response.status_code >= 500:
            return TransientDeliveryError(
                f"{channel}: HTTP {response.status_code} from the robot",
                code=str(response.status_code),
                maybe_posted=True,
            )
        return None

    def rate_limited(self, channel: Channel, what: str) -> TransientDeliveryError:
        return TransientDeliveryError(
            f"{channel}: rate limited ({what}); retry in {self.rate_window:g}s",
            code="rate_limited",
            retry_after=self.rate_window,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def parse_json(raw: bytes) -> dict[str, Any]:
    """The JSON answer, or an empty dict when the body is not JSON."""
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
