"""The fake open API's image upload refuses what Feishu refuses, with Feishu's codes, and
its card check refuses an ``img`` showing a key it never issued."""

from __future__ import annotations

import io

import httpx
import pytest

from bot.errors import DeliveryError, TransientDeliveryError
from bot.platforms.feishu.api import FeishuApi
from tests.fakes.feishu_api import FakeFeishuApi
from tests.fakes.feishu_images import IMAGE_LIMIT


def png(width: int = 40, height: int = 20) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


def api_for(fake: FakeFeishuApi) -> FeishuApi:
    return FeishuApi(fake.app_id, fake.app_secret, domain=fake.base_url)


async def test_a_real_png_gets_a_key_and_a_card_may_show_it(fake_feishu_api: FakeFeishuApi) -> None:
    api = api_for(fake_feishu_api)
    key = await api.upload_image(png())
    [upload] = fake_feishu_api.images.uploads
    assert upload.image_key == key and upload.size == (40, 20)
    fake_feishu_api.add_chat("oc_img", owner="ou_o")
    card = {
        "schema": "2.0",
        "body": {
            "elements": [
                {"tag": "img", "img_key": key, "alt": {"tag": "plain_text", "content": "a"}}
            ]
        },
    }
    await api.send_card("oc_img", card)
    forged = {
        **card,
        "body": {"elements": [{**card["body"]["elements"][0], "img_key": "img_v2_x"}]},
    }
    with pytest.raises(DeliveryError, match="230099"):
        await api.send_card("oc_img", forged)


@pytest.mark.parametrize(
    ("data", "image_type", "code"),
    [
        (b"GIF89a not a png", "message", "234011"),
        (png(400, 300)[:60], "message", "234011"),  # truncated
        (png(), "sticker", "234001"),
        (png(5000, 1), "avatar", "234039"),  # wider than an avatar may be
        (b"\x89PNG\r\n\x1a\n" + bytes(IMAGE_LIMIT), "message", "234006"),
    ],
    ids=["not-png", "truncated", "bad-type", "too-wide", "too-large"],
)
async def test_refusals_carry_feishus_codes(
    fake_feishu_api: FakeFeishuApi, data: bytes, image_type: str, code: str
) -> None:
    with pytest.raises(DeliveryError) as caught:
        await api_for(fake_feishu_api).upload_image(data, image_type=image_type)
    assert caught.value.code == code
    assert not isinstance(caught.value, TransientDeliveryError)
    assert fake_feishu_api.images.uploads == []


async def test_no_token_or_no_multipart_form_is_refused(fake_feishu_api: FakeFeishuApi) -> None:
    url = f"{fake_feishu_api.base_url}/open-apis/im/v1/images"
    async with httpx.AsyncClient() as client:
        anonymous = await client.post(
            url, files={"image": ("c.png", png())}, data={"image_type": "message"}
        )
        assert anonymous.json()["code"] == 99991663
        await api_for(fake_feishu_api).upload_image(png())  # the SDK fetched a token
        token = next(iter(fake_feishu_api.tokens))
        as_json = await client.post(
            url, json={"image_type": "message"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert as_json.json()["code"] == 234001
    assert len(fake_feishu_api.images.uploads) == 1
