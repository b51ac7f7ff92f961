"""A local WeCom group-robot webhook: the key, content limits, markup, 20 a minute.

``POST /cgi-bin/webhook/send?key=…``; an unknown or removed robot's key answers
``errcode 93000`` (invalid webhook url), the 21st message within a minute ``45009``.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from tests.fakes.robot_markdown import RobotRefused
from tests.fakes.robot_server import FakeRobots, RateLimit, RobotFail
from tests.fakes.wecom_validation import validate_wecom_message


class FakeWeCom(FakeRobots):
    LIMIT = RateLimit(per_window=20, window=60.0)

    def webhook_path(self) -> str:
        return "/cgi-bin/webhook/send"

    def webhook_url(self, token: str) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key={token}"

    def new_token(self) -> str:
        return str(uuid.uuid4())

    def token_of(self, request: web.Request) -> str:
        return request.query.get("key", "")

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return validate_wecom_message(body)
        except RobotRefused as exc:
            raise RobotFail(exc.code, str(exc)) from None

    def rate_fail(self) -> RobotFail:
        return RobotFail(45009, "api freq out of limit")

    def gone_fail(self) -> RobotFail:
        return RobotFail(93000, "invalid webhook url")
