"""One answer to "can this listener start?", naming the missing key."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings
from bot.platforms.listeners import listener_needs


@pytest.mark.parametrize(
    ("platform", "config", "key"),
    [
        ("slack", {"slack": {"bot_token": "xoxb-1"}}, "slack.app_token"),
        ("slack", {"slack": {"bot_token": "xoxb-1", "mode": "http"}}, "slack.signing_secret"),
        ("slack", {"slack": {"bot_token": "xoxb-1", "app_token": "xapp-1"}}, None),
        ("slack", {"slack": {"mode": "http", "signing_secret": "s"}}, None),
        ("telegram", {"telegram": {"token": "1:x"}}, None),
        ("telegram", {"telegram": {"token": "1:x", "mode": "webhook"}}, "telegram.webhook_url"),
        (
            "telegram",
            {"telegram": {"token": "1:x", "mode": "webhook", "webhook_url": "https://e.x/h"}},
            "telegram.webhook_secret",
        ),
    ],
)
def test_missing_keys_are_named(platform: Any, config: dict[str, Any], key: str | None) -> None:
    problem = listener_needs(platform).missing_key(Settings(**config))
    if key is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(f"{key}: required")
