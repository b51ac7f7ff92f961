"""What the Feishu app bot's listener needs from the config, without importing lark-oapi.

``bot.platforms.listeners`` asks every platform's entry in ``bot.registry`` these
questions before anything connects; the adapter (``bot.platforms.feishu.app``) asks
``missing_key`` again as its own guard, so a direct start fails just as clearly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

#: ``module:function`` that starts the listener (loaded only when it is wanted).
START = "bot.platforms.feishu.app:start_feishu"
#: The keys a failed start names.
KEYS = "feishu.app_id / feishu.api_url"


def wanted(settings: Settings) -> bool:
    """An app id configures the app bot; group robots (webhooks) need no listener."""
    return bool(settings.feishu.app_id)


def missing_key(settings: Settings) -> str | None:
    """Why the listener cannot start (naming the key), or None if it can."""
    feishu = settings.feishu
    if not feishu.app_id:
        return "feishu.app_id: required to run the Feishu app bot (FEISHU_APP_ID)"
    if feishu.app_secret is None:
        return "feishu.app_secret: required to run the Feishu app bot (FEISHU_APP_SECRET)"
    if feishu.mode == "http":
        if feishu.encrypt_key is None:
            return (
                "feishu.encrypt_key: required in HTTP mode to verify event signatures "
                "(FEISHU_ENCRYPT_KEY)"
            )
        if feishu.verification_token is None:
            return "feishu.verification_token: required in HTTP mode (FEISHU_VERIFICATION_TOKEN)"
    return None


def post_only(settings: Settings) -> tuple[str, Settings] | None:
    """The app id and secret serve posting and listening alike: never a post-only setup."""
    return None
