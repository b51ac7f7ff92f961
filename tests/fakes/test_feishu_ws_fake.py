"""The fake long connection on its own: the handshake refuses what Feishu refuses, and a
client that answers frames wrongly is caught (the app bot tests rely on both)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.fakes.feishu_api import FakeFeishuApi
from tests.fakes.feishu_ws import REFUSED


async def endpoint(fake: FakeFeishuApi, secret: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}/callback/ws/endpoint",
            json={"AppID": fake.app_id, "AppSecret": secret},
        ) as response,
    ):
        assert response.status == 200
        return dict(await response.json())


async def test_wrong_credentials_and_reused_urls_are_refused(
    fake_feishu_api: FakeFeishuApi,
) -> None:
    assert (await endpoint(fake_feishu_api, "wrong"))["code"] == REFUSED
    answer = await endpoint(fake_feishu_api, fake_feishu_api.app_secret)
    assert answer["code"] == 0 and answer["data"]["ClientConfig"]["PingInterval"] > 0
    url = answer["data"]["URL"]
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            await fake_feishu_api.wait_until(lambda: fake_feishu_api.long_connection.connected)
            await ws.send_bytes(b"\xff not a frame")
            await fake_feishu_api.wait_until(lambda: fake_feishu_api.long_connection.failures)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)  # one URL, one connection
        assert refused.value.status == 403
