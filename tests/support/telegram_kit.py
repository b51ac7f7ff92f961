"""Settings for the Telegram adapter tests: polling, or a webhook on a free local port."""

from __future__ import annotations

import socket
from typing import Any

from bot.config import Settings
from tests.fakes import FakeTelegram

WEBHOOK_SECRET = "s3cret_Token-1"


def settings_for(fake: FakeTelegram, **telegram: Any) -> Settings:
    return Settings(telegram={"token": fake.token, "api_url": fake.api_url, **telegram})


def webhook_settings(fake: FakeTelegram, **telegram: Any) -> Settings:
    """Webhook mode on a free port of 127.0.0.1 (the fake posts updates there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return settings_for(
        fake,
        mode="webhook",
        webhook_url=f"http://127.0.0.1:{port}/tg-hook",
        webhook_secret=WEBHOOK_SECRET,
        port=port,
        **telegram,
    )
