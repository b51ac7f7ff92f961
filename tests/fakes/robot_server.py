"""The group-robot webhook fakes' common ground: robots, rate windows, faults, records.

Feishu, DingTalk and WeCom custom robots all take a POST of JSON at a webhook that names
the robot by a token; each fake adds its signature check, its answer format and its
validators (``feishu_validation``, ``dingtalk_validation``, ``wecom_validation``). Rate
limits are counted per robot in a sliding window (``enforce_rate_limit``; tests shrink the
window), and DingTalk's throttle keeps a robot blocked for a while after it is exceeded.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer, Fault


class RobotFail(Exception):
    """Answer with the platform's error: HTTP ``status``, platform ``code`` and message."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class RobotState:
    token: str
    secret: str | None = None
    #: A keyword-secured robot posts only messages containing one of these.
    keywords: tuple[str, ...] = ()
    removed: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    recent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


@dataclass
class RateLimit:
    per_window: int
    window: float
    per_second: int | None = None
    throttle: float = 0.0
    #: The "second" of ``per_second`` (benchmarks scale it with the other windows).
    second: float = 1.0


class FakeRobots(FakeServer):
    """Base of the three robot fakes: ``add_robot()`` returns a webhook URL for a group."""

    #: The platform's own limits (subclasses); tests may enforce scaled-down ones.
    LIMIT: RateLimit

    def __init__(self) -> None:
        super().__init__()
        self.robots: dict[str, RobotState] = {}
        self.limit: RateLimit | None = None
        self.mentions: list[str] = []
        self._seen_bodies: dict[str, dict[str, Any]] = {}

    # -- what a platform writes -------------------------------------------------------
    def webhook_path(self) -> str:
        raise NotImplementedError

    def token_of(self, request: web.Request) -> str:
        raise NotImplementedError

    def check_signature(
        self, robot: RobotState, request: web.Request, body: dict[str, Any]
    ) -> None:
        """Raise RobotFail when a robot with a secret gets a missing, wrong or stale sign."""

    def validate(self, body: dict[str, Any]) -> dict[str, Any]:
        """The stored message (its visible text, ...), or RobotFail for a refused body."""
        raise NotImplementedError

    def ok(self) -> dict[str, Any]:
        """Success as DingTalk and WeCom say it (Feishu overrides)."""
        return {"errcode": 0, "errmsg": "ok"}

    def error_body(self, fail: RobotFail) -> dict[str, Any]:
        return {"errcode": fail.code, "errmsg": fail.message}

    def rate_fail(self) -> RobotFail:
        raise NotImplementedError

    def gone_fail(self) -> RobotFail:
        raise NotImplementedError

    def keyword_fail(self) -> RobotFail:
        """The answer of a keyword-secured robot to a message without its keyword."""
        raise NotImplementedError

    def webhook_url(self, token: str) -> str:
        raise NotImplementedError

    def new_token(self) -> str:
        """A robot's token, shaped like the platform's (the doctor checks the shape)."""
        return secrets.token_hex(12)

    # -- configuration ----------------------------------------------------------------
    def add_robot(self, secret: str | None = None) -> str:
        """A new robot in a new group; returns its webhook URL."""
        token = self.new_token()
        with self._lock:
            self.robots[token] = RobotState(token, secret)
        return self.webhook_url(token)

    def robot(self, webhook: str) -> RobotState:
        token = next(t for t in self.robots if t in webhook)
        return self.robots[token]

    def sent(self, webhook: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.robot(webhook).messages)

    def remove_robot(self, webhook: str) -> None:
        with self._lock:
            self.robot(webhook).removed = True

    def enforce_rate_limit(self, limit: RateLimit | None = None) -> None:
        """Answer the platform's rate-limit error beyond ``limit`` (default: the real one)."""
        with self._lock:
            self.limit = limit or self.LIMIT
            for robot in self.robots.values():
                robot.recent.clear()
                robot.blocked_until = 0.0

    def _reset_state(self) -> None:
        for robot in self.robots.values():
            robot.messages.clear()
            robot.recent.clear()
        self.mentions.clear()

    # -- HTTP -------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        app.router.add_post(self.webhook_path(), self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        token = self.token_of(request)
        try:
            body = json.loads(raw.decode("utf-8"))
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            body = {}
        self.record("send", {"token": token, "body": body, "bytes": len(raw), **request.query})
        fault = self.take_fault("send")
        if fault is not None:
            return self._fault_response(request, fault)
        try:
            with self._lock:
                robot = self.robots.get(token)
                if robot is None or robot.removed:
                    raise self.gone_fail()
            self.check_signature(robot, request, body)
            self._check_size(raw)
            self._rate_limit(robot)
            message = self._validated(body)
            if robot.keywords and not any(
                word in json.dumps(body, ensure_ascii=False) for word in robot.keywords
            ):
                raise self.keyword_fail()
        except RobotFail as fail:
            self.count(f"error:{fail.code}")
            if fail.code == self.rate_fail().code:
                self.count("rate_limited")
            return web.json_response(self.error_body(fail), status=fail.status)
        with self._lock:
            robot.messages.append(message)
            self.mentions += message.get("mentions", [])
        self.count("ok")
        return web.json_response(self.ok())

    def _validated(self, body: dict[str, Any]) -> dict[str, Any]:
        """``validate``, remembered per body: a fan-out sends one body to many robots, and
        reading markdown is the fake's costliest work (a refusal is never remembered)."""
        unsigned = {k: v for k, v in body.items() if k not in ("timestamp", "sign")}
        key = json.dumps(unsigned, sort_keys=True, ensure_ascii=False)
        with self._lock:
            known = self._seen_bodies.get(key)
        if known is None:
            known = self.validate(body)
            with self._lock:
                self._seen_bodies[key] = known
        return dict(known)

    def _check_size(self, raw: bytes) -> None:
        """Body limits are the platform's; subclasses override."""

    def _rate_limit(self, robot: RobotState) -> None:
        limit = self.limit
        if limit is None:
            return
        now = time.monotonic()
        with self._lock:
            if now < robot.blocked_until:
                raise self.rate_fail()
            while robot.recent and robot.recent[0] <= now - limit.window:
                robot.recent.popleft()
            last_second = sum(1 for t in robot.recent if t > now - limit.second)
            if len(robot.recent) >= limit.per_window or (
                limit.per_second is not None and last_second >= limit.per_second
            ):
                robot.blocked_until = now + limit.throttle
                raise self.rate_fail()
            robot.recent.append(now)

    def _fault_response(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.drop:
            return self.drop(request)
        if fault.status == 429 and fault.error is None:
            fail = self.rate_fail()
            return web.json_response(self.error_body(fail), status=fail.status)
        phrases = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return web.Response(status=fault.status, text=phrases.get(fault.status, "Error"))
