"""Start the chat listeners ``digestbot run`` needs, inside the caller's event loop.

Slack starts when ``slack.bot_token`` is set, Telegram when ``telegram.token`` is set, the
Feishu app bot when ``feishu.app_id`` is set. All share one command core (one archive, one
configuration). A listener that cannot
start is a ``ConfigError`` naming the key to fix, and the ones already started are
stopped again, so a half-started service never lingers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from bot.chat import CommandCore
from bot.errors import ConfigError, DigestbotError
from bot.platforms.listener_config import missing_listener_key

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.config import Settings

log = logging.getLogger(__name__)


class Listener(Protocol):
    """A running chat listener, as ``/healthz`` and shutdown see it."""

    name: str

    @property
    def connected(self) -> bool: ...

    async def stop(self) -> None: ...


def check_listener_config(settings: Settings) -> None:
    """Fail before connecting anything if a configured listener lacks a key it needs."""
    if settings.slack.bot_token is not None:
        problem = missing_listener_key(settings, "slack")
        if problem:
            raise ConfigError(problem)
    if settings.telegram.token is not None:
        problem = missing_listener_key(settings, "telegram")
        if problem:
            raise ConfigError(problem)


async def start_listeners(
    settings: Settings,
    archive: Archive,
    *,
    core: CommandCore | None = None,
    slack_host: str = "0.0.0.0",
    telegram_listen: str = "0.0.0.0",
    failures: dict[str, str] | None = None,
) -> list[Listener]:
    """Start every configured listener; returns them running (possibly an empty list).

    With ``failures``, a listener that cannot start (a rejected app token, a port in use)
    is recorded there with its reason and logged, and the others still start: the service
    keeps delivering and ``/healthz`` reports it. Without, the first failure is raised."""
    check_listener_config(settings)
    from formatters.templates import Templates

    core = core or CommandCore(archive, settings)
    templates = Templates.from_settings(settings)
    started: list[Listener] = []

    async def start(name: str, starting: object) -> None:
        try:
            started.append(await _starting(name, starting, settings))
        except DigestbotError as exc:
            if failures is None:
                raise
            failures[name] = str(exc)
            log.error("the %s listener is off: %s (deliveries go on)", name, exc)

    try:
        if settings.slack.bot_token is not None:
            from bot.platforms.slack.app import start_slack

            await start("slack", start_slack(settings, core, templates, host=slack_host))
        if settings.telegram.token is not None:
            from bot.platforms.telegram.app import start_telegram

            await start(
                "telegram", start_telegram(settings, core, templates, listen=telegram_listen)
            )
        if settings.feishu.app_id:
            from bot.platforms.feishu.app import start_feishu

            started.append(
                await _starting("feishu", start_feishu(settings, core, templates), settings)
            )
    except BaseException:
        for listener in reversed(started):
            await _quietly_stop(listener)
        raise
    if not started:
        log.info("no chat listener configured (set slack.bot_token or telegram.token)")
    return started


async def _starting(name: str, starting: object, settings: Settings) -> Listener:
    """Await a start coroutine, turning library failures into one clear DigestbotError."""
    try:
        return await starting  # type: ignore[misc,no-any-return]
    except DigestbotError:
        raise
    except Exception as exc:
        key = {
            "slack": "slack.bot_token / slack.api_url",
            "telegram": "telegram.token / telegram.api_url",
        }.get(name, f"{name}.app_id / {name}.api_url")
        detail, redacted = _describe(exc, settings)
        error = ConfigError(f"{key}: the {name} listener could not start: {detail}")
        if redacted:
            # The library's own message carries a secret (PTB quotes a rejected token):
            # do not chain it, so no traceback logged later can leak it.
            raise error from None
        raise error from exc


def _describe(exc: Exception, settings: Settings) -> tuple[str, bool]:
    """The first line of the library's message with every secret blanked out, and whether
    anything had to be blanked."""
    original = (str(exc) or type(exc).__name__).splitlines()[0][:300]
    text = original
    for secret in (
        settings.slack.bot_token,
        settings.slack.app_token,
        settings.slack.signing_secret,
        settings.telegram.token,
        settings.telegram.webhook_secret,
        settings.feishu.app_secret,
        settings.feishu.encrypt_key,
        settings.feishu.verification_token,
    ):
        if secret is not None and secret.get_secret_value():
            text = text.replace(secret.get_secret_value(), "***")
    return text, text != original


async def stop_listeners(listeners: list[Listener]) -> None:
    """Stop listeners in reverse start order; one failing stop does not keep others running."""
    for listener in reversed(listeners):
        await _quietly_stop(listener)


async def _quietly_stop(listener: Listener) -> None:
    try:
        await listener.stop()
    except Exception:
        log.exception("stopping the %s listener failed", listener.name)
