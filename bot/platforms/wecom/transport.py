"""WeCom group robots: the key in the webhook URL, 20 messages a minute per robot.

No signature: the webhook's ``key`` is the credential. Success is ``{"errcode": 0}``;
errcode 45009 means the rate limit was hit, and it is retried after the minute; an invalid
key (93000) means the robot was removed or the URL is wrong.
"""

from __future__ import annotations

from bot.platforms.robot import RobotTransport
from formatters import wecom as wecom_format


class WeComTransport(RobotTransport):
    platform = "wecom"
    default_limits = ((20, 60.0),)
    default_window = 60.0
    renderer = staticmethod(wecom_format.render_digest)
    title = "WeCom"
    rate_limited_codes = frozenset({45009})
    #: The webhook key is invalid or the robot was removed.
    robot_gone_codes = frozenset({93000, 93004, 40001, 40014, 42001})
    gone_hint = "check channels[].webhook (was the robot removed?)"
