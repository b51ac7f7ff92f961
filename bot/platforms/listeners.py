"""Start the chat listeners ``digestbot run`` needs, inside the caller's event loop.

Every platform with a ``listener`` entry in ``bot.registry`` is asked whether it is
``wanted`` (Slack when ``slack.bot_token`` is set, Telegram when ``telegram.token`` is,
the Feishu app bot when ``feishu.app_id`` is)
and what key it is missing; all share one command core (one archive, one configuration).
A listener that cannot start is a ``ConfigError`` naming the key to fix, and the ones
already started are stopped again, so a half-started service never lingers.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from bot.chat import CommandCore
from bot.errors import ConfigError, DigestbotError
from bot.redact import blank_secrets
from bot.registry import listener_platforms, load, platform_spec
from formatters import Templates

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


def listener_needs(platform: str) -> ModuleType:
    """The light module that says what ``platform``'s listener needs (see ``bot.registry``)."""
    module = platform_spec(platform).listener
    if module is None:
        raise ConfigError(f"{platform}: has no chat listener")
    return importlib.import_module(module)


def wanted_listeners(settings: Settings) -> list[tuple[str, ModuleType]]:
    """The configured listeners, in registry order."""
    found = [(name, listener_needs(name)) for name in listener_platforms()]
    return [(name, needs) for name, needs in found if needs.wanted(settings)]


def check_listener_config(settings: Settings) -> None:
    """Fail before connecting anything if a configured listener lacks a key it needs."""
    for _, needs in wanted_listeners(settings):
        problem = needs.missing_key(settings)
        if problem:
            raise ConfigError(problem)


def listener_settings(settings: Settings) -> Settings | None:
    """The settings to start chat listeners with, or None when no listener is configured.

    A platform that can post without its listener (Slack: a bot token alone) and lacks the
    listener's key keeps delivering, with a warning that its commands are off, instead of
    the whole service refusing to start.
    """
    for name, needs in wanted_listeners(settings):
        post_only = needs.post_only(settings)
        if post_only is not None:
            needed, settings = post_only
            log.warning(
                "service: %s is not set: %s commands are off; digests are still delivered",
                needed,
                name.capitalize(),
            )
    return settings if wanted_listeners(settings) else None


async def start_listeners(
    settings: Settings,
    archive: Archive,
    *,
    core: CommandCore | None = None,
    host: str | None = None,
    failures: dict[str, str] | None = None,
) -> list[Listener]:
    """Start every configured listener; returns them running (possibly an empty list).

    With ``failures``, a listener that cannot start (a rejected app token, a port in use)
    is recorded there with its reason and logged, and the others still start: the service
    keeps delivering and ``/healthz`` reports it. Without, the first failure is raised.

    ``host`` overrides where HTTP listeners bind (tests: loopback); without it each
    listener binds where its own config says, or on every interface."""
    check_listener_config(settings)
    core = core or CommandCore(archive, settings)
    templates = Templates(**settings.template_options())
    started: list[Listener] = []

    async def start(name: str, starting: object, keys: str) -> None:
        try:
            started.append(await _starting(name, starting, settings, keys))
        except DigestbotError as exc:
            if failures is None:
                raise
            failures[name] = str(exc)
            log.error("the %s listener is off: %s (deliveries go on)", name, exc)

    try:
        for name, needs in wanted_listeners(settings):
            starting = load(needs.START)(
                settings, core, templates, **({"host": host} if host else {})
            )
            await start(name, starting, needs.KEYS)
    except BaseException:
        for listener in reversed(started):
            await _quietly_stop(listener)
        raise
    if not started and not failures:
        log.info(
            "no chat listener configured (set slack.bot_token, telegram.token or feishu.app_id)"
        )
    return started


async def _starting(name: str, starting: object, settings: Settings, keys: str) -> Listener:
    """Await a start coroutine, turning library failures into one clear DigestbotError."""
    try:
        return await starting  # type: ignore[misc,no-any-return]
    except DigestbotError:
        raise
    except Exception as exc:
        detail, redacted = _describe(exc, settings)
        error = ConfigError(f"{keys}: the {name} listener could not start: {detail}")
        if redacted:
            # The library's own message carries a secret (PTB quotes a rejected token):
            # do not chain it, so no traceback logged later can leak it.
            raise error from None
        raise error from exc


def _describe(exc: Exception, settings: Settings) -> tuple[str, bool]:
    """The first line of the library's message with every secret blanked out, and whether
    anything had to be blanked."""
    original = (str(exc) or type(exc).__name__).splitlines()[0][:300]
    text = blank_secrets(original, settings.secret_values(), "***")
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
