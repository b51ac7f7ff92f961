"""A local DingTalk custom-robot webhook: signatures, limits, markup, throttling.

``POST /robot/send?access_token=…[&timestamp=ms&sign=…]``. A robot added with a secret
requires the signature (HMAC-SHA256 with the secret over ``timestamp + "\\n" + secret``,
base64, urlencoded) and a timestamp within an hour. Past 20 messages a minute the robot is
throttled for ten minutes (``errcode 130101``); tests scale the window down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

from aiohttp import web

from tests.fakes.dingtalk_validation import validate_dingtalk_message
from tests.fakes.robot_markdown import RobotRefused
from tests.fakes.robot_server import FakeRobots, RateLimit, RobotFail, RobotState


class FakeDingTalk(FakeRobots):
    LIMIT = RateLimit(per_window=20, window=60.0, throttle=600.0)

    def webhook_path(self) -> str:
        return "/robot/send"

    def webhook_url(self, token: str) -> str:
        return f"{self.base_url}/robot/send?access_token={token}"

    def new_token(self) -> str:
        return secrets.token_hex(32)

    def token_of(self, request: web.Request) -> str:
        return request.query.get("access_token", "")

    def check_signature(
        self, robot: RobotState, request: web.Request, body: dict[str, Any]
    ) -> None:
        if not robot.secret:
            return
        timestamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3_600_000:
            raise RobotFail(310000, "invalid timestamp")
        message = f"{timestamp}\n{robot.secret}".encode()
        expected = base64.b64encode(
            hmac.new(robot.secret.encode(), message, hashlib.sha256).digest()
        )
        # aiohttp has already url-decoded the query value once.
        if not hmac.compare_digest(sign.encode(), expected):
            raise RobotFail(
                310000,
                "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
            )

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return validate_dingtalk_message(body)
        except RobotRefused as exc:
            raise RobotFail(exc.code, str(exc)) from None

    def rate_fail(self) -> RobotFail:
        return RobotFail(130101, "send too fast, exceed 20 times per minute")

    def keyword_fail(self) -> RobotFail:
        return RobotFail(
            310000,
            "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
        )

    def gone_fail(self) -> RobotFail:
        return RobotFail(300005, "token is not exist")  # 300001 in older answers
