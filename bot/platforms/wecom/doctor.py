"""``digestbot doctor`` for WeCom group robots: the webhook's shape and a probe that posts
nothing.

The webhook's ``key`` is the robot's only credential. An empty body has no ``msgtype``: a
wrong or removed key answers 93000 (invalid webhook url), a failure; a robot answering
40008 (invalid message type) probably exists, but WeCom does not document that it checks
the key before the message, so that row is a warning. Either way nothing is posted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.platforms.checks import Check
from bot.platforms.robot_probe import RobotShape, check_webhook_platform
from bot.platforms.wecom.transport import WeComTransport

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.config import Settings

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)

WECOM = RobotShape(
    title="WeCom",
    hosts=frozenset({"qyapi.weixin.qq.com"}),
    path="/cgi-bin/webhook/send",
    token_param="key",
    token_ok=lambda token: bool(_UUID.fullmatch(token)),
    token_form="a UUID",
    probe={},
    reached=frozenset({40008}),
    token_first=False,
    signature_first=False,
    refused={
        93000: "the key is invalid or the robot was removed; copy the robot's webhook "
        "URL into {key}.webhook again",
    },
)


async def check_wecom(settings: Settings, channels: Sequence[Channel]) -> list[Check]:
    """One row per WeCom channel: its webhook's shape and the probe's answer."""
    transport = WeComTransport.from_settings(settings)
    return await check_webhook_platform(settings, channels, transport, WECOM)
