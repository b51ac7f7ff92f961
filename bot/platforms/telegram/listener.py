"""What the Telegram listener needs from the config, without importing python-telegram-bot.

``bot.platforms.listeners`` asks every platform's entry in ``bot.registry`` these
questions before anything connects; the adapter (``bot.platforms.telegram.app``) asks
``missing_key`` again as its own guard, so a direct start fails just as clearly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

#: ``module:function`` that starts the listener (loaded only when it is wanted).
START = "bot.platforms.telegram.app:start_telegram"
#: The keys a failed start names.
KEYS = "telegram.token / telegram.api_url"


def wanted(settings: Settings) -> bool:
    return settings.telegram.token is not None


def missing_key(settings: Settings) -> str | None:
    """Why the listener cannot start (naming the key), or None if it can."""
    telegram = settings.telegram
    if telegram.mode == "webhook":
        if not telegram.webhook_url:
            return "telegram.webhook_url: required in webhook mode (telegram.mode: webhook)"
        if telegram.webhook_secret is None:
            return (
                "telegram.webhook_secret: required in webhook mode, so forged updates are "
                "refused (TELEGRAM_WEBHOOK_SECRET)"
            )
    return None


def post_only(settings: Settings) -> tuple[str, Settings] | None:
    """The Telegram token serves posting and listening alike: never a post-only setup."""
    return None
