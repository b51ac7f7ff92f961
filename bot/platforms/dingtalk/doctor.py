"""``digestbot doctor`` for DingTalk custom robots: the webhook's and secret's shape, and a
probe that posts nothing.

The probe is a markdown message without its title, signed like a delivery: an unknown
token answers 300005 (older: 300001), a wrong or missing signature 310000 — failures. A refusal as a
message (400402, title missing) is a warning: DingTalk does not document checking token
and signature first. A robot secured by keywords also answers 310000 ("keywords not in
content"): a warning too, since every digest message would need the keyword.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.platforms.checks import Check
from bot.platforms.dingtalk.transport import DingTalkTransport
from bot.platforms.robot_probe import RobotShape, check_webhook_platform

if TYPE_CHECKING:
    from bot.channels import Channel
    from bot.config import Settings

_TOKEN = re.compile(r"[0-9a-f]{64}", re.I)


def _secret_problem(secret: str) -> str | None:
    if secret.startswith("SEC"):
        return None
    return "DingTalk signing secrets start with SEC: is this the robot's 加签 secret?"


DINGTALK = RobotShape(
    title="DingTalk",
    hosts=frozenset({"oapi.dingtalk.com"}),
    path="/robot/send",
    token_param="access_token",
    token_ok=lambda token: bool(_TOKEN.fullmatch(token)),
    token_form="64 hex digits",
    probe={"msgtype": "markdown", "markdown": {}},
    reached=frozenset({400402, 400403, 40035}),
    token_first=False,
    signature_first=False,
    refused={
        **dict.fromkeys(
            (300001, 300005, 400101),
            "the access_token does not exist (robot removed?); copy the robot's webhook URL "
            "into {key}.webhook again",
        ),
        310000: "the robot's security check refused us: {key}.secret wrong, or missing "
        "while the robot signs (加签), this machine's clock off, or its IP not in the "
        "robot's allowlist",
        400102: "the robot is stopped; enable it again in the group's robot settings",
        400106: "the robot does not exist; copy its webhook URL into {key}.webhook again",
        400013: "the group was dissolved; add a robot to another group ({key}.webhook)",
    },
    secret_problem=_secret_problem,
    softer={
        "keyword": "the robot is secured by keywords: every digest message must contain "
        "one; switch it to 加签 (signing) and set {key}.secret instead",
    },
)


async def check_dingtalk(settings: Settings, channels: Sequence[Channel]) -> list[Check]:
    """One row per DingTalk channel: webhook and secret shape, and the probe's answer."""
    transport = DingTalkTransport.from_settings(settings)
    return await check_webhook_platform(settings, channels, transport, DINGTALK)
