"""What the Slack listener needs from the config, without importing slack_sdk or Bolt.

``bot.platforms.listeners`` asks every platform's entry in ``bot.registry`` these
questions before anything connects; the adapter (``bot.platforms.slack.app``) asks
``missing_key`` again as its own guard, so a direct start fails just as clearly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings

#: ``module:function`` that starts the listener (loaded only when it is wanted).
START = "bot.platforms.slack.app:start_slack"
#: The keys a failed start names.
KEYS = "slack.bot_token / slack.api_url"


def wanted(settings: Settings) -> bool:
    """A bot token configures Slack; whether commands can be heard is ``missing_key``'s."""
    return settings.slack.bot_token is not None


def missing_key(settings: Settings) -> str | None:
    """Why the listener cannot start (naming the key), or None if it can."""
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


def post_only(settings: Settings) -> tuple[str, Settings] | None:
    """Slack can post digests with the bot token alone: when the listener's key is missing,
    the key to name in a warning and the settings without the listener; else None."""
    if not wanted(settings) or missing_key(settings) is None:
        return None
    slack = settings.slack
    needed = (
        "slack.app_token (SLACK_APP_TOKEN)"
        if slack.mode == "socket"
        else "slack.signing_secret (SLACK_SIGNING_SECRET)"
    )
    off = settings.model_copy(update={"slack": slack.model_copy(update={"bot_token": None})})
    return needed, off
