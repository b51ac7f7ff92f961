"""The Feishu doctor check: the app bot through lark-oapi against the fake open API
(tenant token, ``bot/v3/info``, ``is_in_chat``), custom robots through a signed probe
against the fake webhook — nothing is posted."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from bot.channels import load_channels
from bot.config import Settings
from bot.platforms.checks import platform_check
from tests.fakes.feishu_api import FakeFeishuApi
from tests.fakes.feishu_webhook import FakeFeishuWebhook


async def rows_for(channels: list[dict[str, Any]], **feishu: Any) -> dict[str, tuple[str, str]]:
    settings = Settings(channels=[{"platform": "feishu", **c} for c in channels], feishu=feishu)
    check = platform_check("feishu")
    assert check is not None
    found = load_channels(settings, None)
    return {row.area: (row.status, row.detail) for row in await check(settings, found)}


def app(fake: FakeFeishuApi, **more: Any) -> dict[str, Any]:
    return {"app_id": fake.app_id, "app_secret": fake.app_secret, "api_url": fake.base_url, **more}


async def test_robots_answer_the_probe_without_posting(
    fake_feishu_webhook: FakeFeishuWebhook,
) -> None:
    signed = fake_feishu_webhook.add_robot("signing-secret")
    plain = fake_feishu_webhook.add_robot()
    wrong = f"{fake_feishu_webhook.base_url}/open-apis/bot/v2/hook/{uuid.uuid4()}"
    rows = await rows_for(
        [
            {"id": "signed", "webhook": signed, "secret": "signing-secret"},
            {"id": "plain", "webhook": plain},
            {"id": "badsign", "webhook": signed, "secret": "not-the-secret"},
            {"id": "gone", "webhook": wrong},
        ]
    )
    # A wrong token answers 19001 whatever the body, so 19002 proves the token; whether
    # the signature is checked before the message is undocumented: the secret stays a warning.
    assert rows["feishu:plain"] == (
        "ok",
        "webhook on 127.0.0.1, not Feishu/Lark's own host (a proxy?), with a token; token "
        "accepted: the probe was refused as a message (code 19002), nothing was posted",
    )
    status, detail = rows["feishu:signed"]
    assert status == "warn" and "token accepted" in detail and "code 19002" in detail
    assert "channels[0].secret cannot be verified without posting" in detail
    status, detail = rows["feishu:badsign"]
    assert status == "fail" and "code 19021" in detail and "channels[2].secret" in detail
    status, detail = rows["feishu:gone"]
    assert status == "fail" and "code 19001" in detail and "channels[3].webhook" in detail
    assert fake_feishu_webhook.sent(signed) == [] and fake_feishu_webhook.sent(plain) == []
    every = " ".join(detail for _, detail in rows.values())
    for secret in ("signing-secret", "not-the-secret", fake_feishu_webhook.robot(signed).token):
        assert secret not in every
    assert "feishu" not in rows  # no app bot configured, no app rows


async def test_the_app_bot_its_identity_and_chat_membership(
    fake_feishu_api: FakeFeishuApi,
) -> None:
    fake_feishu_api.add_chat("oc_in", owner="ou_owner")
    rows = await rows_for(
        [{"id": "team", "chat_id": "oc_in"}, {"id": "out", "chat_id": "oc_out"}],
        **app(fake_feishu_api),
    )
    assert rows["feishu"] == ("ok", "bot/v3/info: digestbot (ou_digestbot), tenant token works")
    assert rows["feishu listener"][0] == "ok" and "websocket" in rows["feishu listener"][1]
    assert rows["feishu:team"] == ("ok", "the app bot is in oc_in")
    status, detail = rows["feishu:out"]
    assert status == "fail" and "not in oc_out" in detail and "channels[1]" in detail
    assert {c.method for c in fake_feishu_api.calls} >= {"bot.info", "im.chat.members.is_in_chat"}
    assert not fake_feishu_api.calls_to("im.message.create")


async def test_wrong_app_credentials_and_http_mode_keys_fail(
    fake_feishu_api: FakeFeishuApi,
) -> None:
    settings = app(fake_feishu_api, mode="http", verification_token="vt")
    settings["app_secret"] = "wrong-secret"
    rows = await rows_for([{"id": "team", "chat_id": "oc_in"}], **settings)
    status, detail = rows["feishu"]
    assert (
        status == "fail" and "credentials were refused" in detail and "feishu.app_secret" in detail
    )
    assert "wrong-secret" not in detail
    assert (
        rows["feishu listener"][0] == "fail" and "feishu.encrypt_key" in rows["feishu listener"][1]
    )
    assert rows["feishu:team"][0] == "fail"


class DisabledApp(FakeFeishuApi):
    """The open API of an app the tenant has stopped (``activate_status`` 1)."""

    async def _bot_info(self, request: web.Request) -> web.Response:
        answer = await super()._bot_info(request)
        data = json.loads(answer.body)  # type: ignore[arg-type]
        if data.get("bot"):
            data["bot"]["activate_status"] = 1
        return web.json_response(data, status=answer.status)


async def test_a_disabled_app_warns() -> None:
    with DisabledApp() as fake:
        rows = await rows_for([], **app(fake))
    assert rows["feishu"][0] == "warn" and "activate_status 1" in rows["feishu"][1]


async def test_a_chat_without_an_app_bot_fails_naming_the_entry() -> None:
    rows = await rows_for([{"id": "team", "chat_id": "oc_1"}])
    status, detail = rows["feishu:team"]
    assert status == "fail" and "channels[0].webhook" in detail and "feishu.app_id" in detail
