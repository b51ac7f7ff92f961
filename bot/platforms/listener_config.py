"""What each chat listener needs from the config, said once.

The listeners' start-up (`start_listeners`), each adapter's own guard (`start_slack`,
`build_app`, `start_telegram`) and the service's "post-only Slack" decision all ask the
same question; this answers it, with the message that names the missing key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.config import Settings


def missing_listener_key(settings: Settings, platform: Literal["slack", "telegram"]) -> str | None:
    """Why this platform's listener cannot start (naming the key), or None if it can."""
    if platform == "slack":
        slack = settings.slack
        if slack.mode == "socket" and slack.app_token is None:
            return (
                "slack.app_token: required in Socket Mode (the default slack.mode) "
                "(SLACK_APP_TOKEN, xapp-…); or set slack.mode: http with slack.signing_secret"
            )
        if slack.mode == "http" and slack.signing_secret is None:
            return (
                "slack.signing_secret: required in HTTP mode (slack.mode: http) to verify "
                "requests (SLACK_SIGNING_SECRET)"
            )
        return None
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
