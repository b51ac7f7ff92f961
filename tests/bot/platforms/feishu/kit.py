"""What the Feishu app bot tests share: settings for the fake, reading replies, buttons."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from formatters import Templates
from tests.fakes.feishu_api import FakeFeishuApi
from tests.support.delivery_kit import item_urls

GROUP = "oc_group1"
OWNER, MANAGER, MEMBER = "ou_owner", "ou_manager", "ou_member"
#: The button labels, in the default language.
MORE = f"{Templates().label('more')} ▸"
DETAILS = Templates().label("details")


def settings_for(fake: FakeFeishuApi, **feishu: Any) -> Settings:
    """HTTP mode unless ``mode`` says otherwise (the default mode is the long connection)."""
    return Settings(
        feishu={
            "app_id": fake.app_id,
            "app_secret": fake.app_secret,
            "verification_token": fake.verification_token,
            "encrypt_key": fake.encrypt_key,
            "mode": "http",
            "api_url": fake.base_url,
            **feishu,
        }
    )


def ranks(replies: list[dict[str, Any]]) -> list[int]:
    """The reference digest's ranks of the items the reply cards link to."""
    links = {link for r in replies for link in r["links"]}
    return sorted(rank for rank, u in item_urls().items() if u in links)


def buttons(replies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each button's label → its callback value, over all reply cards."""
    return {b["label"]: b["value"] for r in replies for b in r["buttons"]}


def message_with(replies: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """The reply card that carries the button ``label``."""
    return next(r for r in replies if any(b["label"] == label for b in r["buttons"]))
