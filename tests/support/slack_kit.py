"""Helpers for the Slack adapter tests: settings for HTTP mode and a poster that sends
requests signed (or not) exactly as Slack does, over real HTTP."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.config import Settings
from bot.platforms.slack.app import EVENTS_PATH
from tests.fakes import FakeSlack, block_actions_payload, sign_request, slash_command_payload

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def http_settings(fake: FakeSlack, **slack: Any) -> Settings:
    return Settings(
        slack={
            "bot_token": "xoxb-test-token",
            "signing_secret": SECRET,
            "mode": "http",
            "api_url": fake.api_url,
            **slack,
        }
    )


def texts(payload: dict[str, Any]) -> str:
    """Every piece of text in a message (fallback text and all blocks), for content checks."""
    return (
        payload.get("text", "") + "\n" + json.dumps(payload.get("blocks", []), ensure_ascii=False)
    )


class Poster:
    """Sends Slack-shaped requests to the app, signed (or not) like Slack does."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}{EVENTS_PATH}"

    async def raw(
        self, body: bytes, headers: dict[str, str], *, content_type: str | None = None
    ) -> tuple[int, str]:
        """POST ``body`` as is; the status and the response text."""
        headers = {
            "Content-Type": content_type or "application/x-www-form-urlencoded",
            **headers,
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def signed(
        self,
        body: bytes,
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        extra: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> tuple[int, str]:
        headers = {**sign_request(body, secret, timestamp), **(extra or {})}
        return await self.raw(body, headers, content_type=content_type)

    async def post(
        self, form: dict[str, str], *, secret: str = SECRET, timestamp: int | None = None
    ) -> tuple[int, float]:
        started = time.perf_counter()
        status, _ = await self.signed(urlencode(form).encode(), secret=secret, timestamp=timestamp)
        return status, time.perf_counter() - started

    async def command(self, fake: FakeSlack, text: str, **kwargs: Any) -> tuple[int, str]:
        url = fake.new_response_url()
        channel = kwargs.pop("channel_id", "C0FAKECHAN")
        user = kwargs.pop("user_id", "U0FAKEUSER")
        form = slash_command_payload(
            "/ai", text, response_url=url, channel_id=channel, user_id=user
        )
        status, _ = await self.post(form, **kwargs)
        return status, url

    async def action(self, fake: FakeSlack, action_id: str, value: str) -> tuple[int, str]:
        url = fake.new_response_url()
        payload = block_actions_payload(action_id, value, response_url=url)
        status, _ = await self.post({"payload": json.dumps(payload)})
        return status, url


async def response_for(fake: FakeSlack, url: str) -> dict[str, Any]:
    found = await fake.wait_until(lambda: fake.responses(url), timeout=5)
    return found[0]
