"""A local Feishu/Lark custom-robot webhook: signed bodies, 20 KB, cards, 100/min + 5/s.

``POST /open-apis/bot/v2/hook/{token}``. A robot added with a secret requires
``timestamp`` (seconds, within an hour) and ``sign`` =
base64(HMAC-SHA256(key=timestamp + "\\n" + secret, message="")) in the body, else
``code 19021``. Over the rate limit it answers ``code 11232`` (frequency limited). A card
Feishu cannot build is answered with HTTP 200 and ``code 11246`` ("ErrCode: 11310; ErrMsg:
…"); ``refuse_cards`` makes it refuse every card that way (text and posts still pass),
``refuse_posts`` every post as a bad request (code 9499, HTTP 400).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.feishu_validation import BODY_LIMIT, CARD_INVALID, validate_feishu_message
from tests.fakes.robot_markdown import RobotRefused
from tests.fakes.robot_server import FakeRobots, RateLimit, RobotFail, RobotState

#: The webhook's answer to a card it cannot build (HTTP 200).
CARD_REFUSED = 11246


class FakeFeishuWebhook(FakeRobots):
    LIMIT = RateLimit(per_window=100, window=60.0, per_second=5)

    def __init__(self) -> None:
        super().__init__()
        self.refuse_cards = False
        self.refuse_posts = False

    def _validated(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.refuse_cards and body.get("msg_type") == "interactive":
            raise card_refused("unsupported type of block; ErrorValue: refused by the test")
        if self.refuse_posts and body.get("msg_type") == "post":
            raise RobotFail(9499, "Bad Request", status=400)
        return super()._validated(body)

    def webhook_path(self) -> str:
        return "/open-apis/bot/v2/hook/{token}"

    def webhook_url(self, token: str) -> str:
        return f"{self.base_url}/open-apis/bot/v2/hook/{token}"

    def new_token(self) -> str:
        return str(uuid.uuid4())

    def token_of(self, request: web.Request) -> str:
        return request.match_info.get("token", "")

    def check_signature(
        self, robot: RobotState, request: web.Request, body: dict[str, Any]
    ) -> None:
        if not robot.secret:
            return
        timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
        stale = not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 3600
        key = f"{timestamp}\n{robot.secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if stale or not hmac.compare_digest(sign, expected):
            raise RobotFail(
                19021, "sign match fail or timestamp is not within one hour from current time"
            )

    def _check_size(self, raw: bytes) -> None:
        if len(raw) > BODY_LIMIT:
            raise RobotFail(9499, "Bad Request: request body too large", status=400)

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        unsigned = {k: v for k, v in body.items() if k not in ("timestamp", "sign")}
        if "msg_type" not in unsigned:  # Feishu answers this one with HTTP 200
            raise RobotFail(19002, "params error, msg_type need")
        try:
            return validate_feishu_message(unsigned)
        except RobotRefused as exc:
            if exc.code == CARD_INVALID:
                raise card_refused(str(exc)) from None
            raise RobotFail(exc.code, str(exc), status=400) from None

    def ok(self) -> dict[str, Any]:
        return {"code": 0, "data": {}, "msg": "success"}

    def error_body(self, fail: RobotFail) -> dict[str, Any]:
        return {"code": fail.code, "data": {}, "msg": fail.message}

    def rate_fail(self) -> RobotFail:
        return RobotFail(11232, "frequency limited psm[lark.oapi.app_platform_runtime]")

    def keyword_fail(self) -> RobotFail:
        return RobotFail(19024, "Key Words Not Found")

    def gone_fail(self) -> RobotFail:
        return RobotFail(19001, "param invalid: incoming webhook access token invalid")


def card_refused(message: str) -> RobotFail:
    return RobotFail(CARD_REFUSED, f"ErrCode: {CARD_INVALID}; ErrMsg: {message}; ")
