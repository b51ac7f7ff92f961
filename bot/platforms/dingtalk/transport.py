"""DingTalk custom robots: signed in the query string, 20 messages a minute per robot.

With a secret, ``timestamp`` (Unix milliseconds) and ``sign`` =
urlencode(base64(HMAC-SHA256(key=secret, message=timestamp + "\\n" + secret))) go in
the query string. Success is ``{"errcode": 0}``. Past 20 messages a minute the robot is
throttled for ten minutes: messages to one robot are kept within 20 in any minute (a
digest of a few messages goes at once), and a throttle answer is retried after the
ten-minute window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

from bot.platforms.robot import Request, Robot, RobotTransport
from formatters import dingtalk as dingtalk_format


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """``sign`` for the query string, already urlencoded."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


class DingTalkTransport(RobotTransport):
    platform = "dingtalk"
    default_limits = ((20, 60.0),)
    default_window = 600.0
    renderer = staticmethod(dingtalk_format.render_digest)
    title = "DingTalk"
    #: Sending too fast (the robot is throttled).
    rate_limited_codes = frozenset({130101, 410100})
    #: Token does not exist (300005; older answers 300001), signature, timestamp, keyword
    #: or IP refused (310000), group dissolved (400013), robot stopped (400102) or gone.
    robot_gone_codes = frozenset({300001, 300005, 310000, 400101, 400102, 400013, 400106})
    gone_hint = (
        "check channels[].webhook and channels[].secret (a robot secured by keywords "
        "needs signing, 加签, instead)"
    )

    def sign(self, robot: Robot, body: dict[str, Any], now: float) -> Request:
        if not robot.secret:
            return Request(robot.webhook, body)
        timestamp = int(now * 1000)
        separator = "&" if "?" in robot.webhook else "?"
        query = f"timestamp={timestamp}&sign={dingtalk_sign(robot.secret, timestamp)}"
        return Request(f"{robot.webhook}{separator}{query}", body)
