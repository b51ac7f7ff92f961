"""Configuration: ``config.yaml`` plus environment variables, validated by pydantic-settings.

One place for defaults. Unknown keys are errors that name the key, the file and the line,
because a mistyped ``shedule:`` that is silently ignored means a missed morning.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import ConfigError
from bot.registry import PLATFORM_CHANNEL_KEYS, platform_spec

DEFAULT_CONFIG_FILE = "config.yaml"
CONFIG_ENV = "DIGESTBOT_CONFIG"

#: Environment variables that fill secrets, so tokens never need to live in the YAML.
SECRET_ENV: dict[str, tuple[str, str]] = {
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
    "DIGESTBOT_ARCHIVE_URL": ("archive", "url"),
    "DIGESTBOT_WEB_TOKEN": ("web", "token"),
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s|days?|hours?|minutes?|seconds?)\s*$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _parse_duration(value: Any) -> Any:
    """Accept ``2d``, ``3h``, ``90m``, ``45s`` or a number of seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return dt.timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2][0]])
    if isinstance(value, int | float):
        return dt.timedelta(seconds=value)
    return value


Duration = Annotated[dt.timedelta, BeforeValidator(_parse_duration)]


def check_timezone(value: str | None) -> str | None:
    """Reject unknown IANA zone names at load time rather than at 09:00."""
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown timezone {value!r} (use an IANA name like Asia/Shanghai)"
        ) from exc
    return value


def check_cron(value: str | None) -> str | None:
    """Validate a 5-field crontab expression with APScheduler's own parser."""
    if value is None:
        return None
    from bot.cron import cron_trigger

    try:
        cron_trigger(value)
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {value!r}: {exc}") from exc
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArchiveSettings(_Section):
    url: str = "sqlite:///digestbot.db"
    """SQLAlchemy URL: ``sqlite:///path.db`` or ``postgresql+psycopg://user@host/db``."""


def _no_empty_secret(value: SecretStr | None) -> SecretStr | None:
    """An empty secret would start a listener that refuses every request: say so at load."""
    if value is not None and not value.get_secret_value().strip():
        raise ValueError("must not be empty (remove the key, or set the environment variable)")
    return value


class SlackSettings(_Section):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    mode: Literal["socket", "http"] = "socket"
    port: int = 3000
    api_url: str = "https://slack.com/api/"
    admins: list[str] = Field(default_factory=list)
    """User ids allowed to change subscriptions; empty means anyone in the channel."""
    per_channel_interval: float = 1.0
    """Seconds between two posts to one channel (Slack allows about one per second)."""

    _secrets = field_validator("bot_token", "app_token", "signing_secret")(_no_empty_secret)


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = 8443
    per_chat_interval: float = 1.0
    """Seconds between two messages to one chat (AIORateLimiter has no per-chat limit)."""

    _secrets = field_validator("token")(_no_empty_secret)

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_format(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - for secret_token.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value


DigestMode = Literal["daily", "weekly", "both"]
DEFAULT_WEEKLY_SCHEDULE = "0 17 * * fri"


class ChannelSettings(_Section):
    platform: str
    """A name from ``bot.registry.PLATFORMS``."""
    id: str
    schedule: str | None = None
    timezone: str | None = None
    digest: DigestMode | None = None
    """What the channel gets: the daily digest, the weekly rollup, or both (default daily)."""
    weekly_schedule: str | None = None
    """When the weekly rollup is posted (default: the top-level ``weekly_schedule``)."""
    topics: list[str] = Field(default_factory=list)
    thread_id: int | None = None
    path: str | None = None
    """For the ``file`` platform: the JSONL file payloads are appended to."""

    _tz = field_validator("timezone")(check_timezone)
    _cron = field_validator("schedule", "weekly_schedule")(check_cron)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        # Telegram chat ids are negative numbers in YAML; keep them as text.
        return str(value) if isinstance(value, int) else value

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        try:
            platform_spec(value)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        return value

    @model_validator(mode="after")
    def _platform_keys(self) -> ChannelSettings:
        """A key another platform uses is a mistake here; a key this one needs must be set."""
        spec = platform_spec(self.platform)
        for key in sorted(PLATFORM_CHANNEL_KEYS - spec.channel_keys):
            if getattr(self, key) is not None:
                raise ValueError(f"{key}: not used by the {self.platform} platform")
        for key in sorted(spec.required_keys):
            if getattr(self, key) is None:
                raise ValueError(f"{key}: required for the {self.platform} platform")
        return self


class TagSettings(_Section):
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    """Extra aliases: ``canonical: [alias, alias]``, merged over the built-in table."""


class DeliverySettings(_Section):
    """Timings of the exactly-once sender; the defaults suit production."""

    lease: Duration = dt.timedelta(minutes=10)
    """How long a claim is held without renewal before another run may take it over."""
    window: Duration = dt.timedelta(hours=3)
    """How long transient errors (429, 5xx, timeouts) are retried before giving up for now."""
    retry_base: Duration = dt.timedelta(seconds=1)
    retry_cap: Duration = dt.timedelta(seconds=60)
    concurrency: int = 500
    """Channels delivered at once: sends are paced I/O, so this can be large."""
    misfire_grace: Duration = dt.timedelta(hours=3)
    """A bot that was down at delivery time still delivers if it is back within this."""
    reload_interval: Duration = dt.timedelta(seconds=60)
    """How often `run` re-reads subscriptions to pick up runtime changes."""


class HttpSettings(_Section):
    """The older name of ``web.host`` and ``web.port``, still accepted."""

    host: str = "127.0.0.1"
    port: int | None = None
    """Port for ``/healthz`` and ``/metrics`` in ``digestbot run``; None turns them off."""


def _public_url(value: str | None) -> str | None:
    """``web.base_url`` ends up in chat links and feeds: an absolute http(s) URL."""
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"{value!r} is not an absolute http(s) URL without query (e.g. https://news.example.com)"
        )
    return value.strip().rstrip("/")


class WebSettings(_Section):
    """The reader, feeds, ``/healthz`` and ``/metrics``: one HTTP server in ``digestbot run``."""

    enabled: bool = False
    """Serve the web reader and Atom feeds (off: only ``/healthz`` and ``/metrics``)."""
    host: str = "127.0.0.1"
    port: int | None = None
    """None: no HTTP server at all."""
    base_url: str | None = None
    """The public URL of the reader, for links posted to chat and in feeds."""
    token: SecretStr | None = None
    """When set, every route but ``/healthz`` needs it (bearer header or ``?token=``)."""

    _base_url = field_validator("base_url")(_public_url)
    _secrets = field_validator("token")(_no_empty_secret)


#: ``http.KEY`` is the older spelling of ``web.KEY``.
WEB_ALIASES = ("host", "port")


class Settings(BaseSettings):
    """The whole configuration; see config.example.yaml for every key, documented."""

    model_config = SettingsConfigDict(extra="forbid", env_prefix="DIGESTBOT_", frozen=False)

    timezone: str = "Asia/Shanghai"
    schedule: str = "0 9 * * *"
    weekly_schedule: str = DEFAULT_WEEKLY_SCHEDULE
    """Default time of the weekly rollup, for channels on ``digest: weekly|both``."""
    language: Literal["zh", "en"] = "zh"
    templates_dir: str | None = None
    sources: list[str] = Field(default_factory=list)
    max_age: Duration = dt.timedelta(days=2)
    wait_for_digest: Duration = dt.timedelta(hours=3)
    poll_interval: Duration = dt.timedelta(minutes=5)
    log_level: str = "INFO"
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    channels: list[ChannelSettings] = Field(default_factory=list)
    tags: TagSettings = Field(default_factory=TagSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    config_path: str | None = Field(default=None, exclude=True)
    """Where this configuration came from (None for built-in defaults)."""

    _tz = field_validator("timezone")(check_timezone)
    _cron = field_validator("schedule", "weekly_schedule")(check_cron)

    @model_validator(mode="after")
    def _web_aliases(self) -> Settings:
        """Fold ``http.host``/``http.port`` into ``web``; both spellings must agree."""
        old, new = self.http.model_fields_set, self.web.model_fields_set
        for key in WEB_ALIASES:
            if key not in old:
                continue
            value = getattr(self.http, key)
            if key in new and getattr(self.web, key) != value:
                raise PydanticCustomError(
                    "alias_conflict",
                    f"{getattr(self.web, key)!r} differs from http.{key}: {value!r} (its older "
                    f"name); keep only web.{key}",
                    {"key": f"web.{key}"},
                )
            setattr(self.web, key, value)
        if self.web.enabled and self.web.port is None:
            raise PydanticCustomError(
                "missing_port",
                "the reader is enabled (web.enabled: true) but has no port; set web.port",
                {"key": "web.port"},
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # YAML (passed as init kwargs by load_settings) is the single source; secrets from
        # the environment are merged in explicitly so their names match DESIGN.md.
        return (init_settings,)

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds (any ``SecretStr``, channels included), and
        the archive URL's password: the one list the log redactor and error messages use."""
        found: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, SecretStr):
                found.append(value.get_secret_value())
            elif isinstance(value, BaseModel):
                for name in type(value).model_fields:
                    walk(getattr(value, name))
            elif isinstance(value, list | tuple):
                for entry in value:
                    walk(entry)

        walk(self)
        password = _url_password(self.archive.url)
        if password:
            found.append(password)
        return [secret for secret in found if secret]

    def base_dir(self) -> Path:
        """Relative paths in the config are relative to the config file."""
        return Path(self.config_path).resolve().parent if self.config_path else Path.cwd()


def _url_password(url: str) -> str | None:
    try:
        password = make_url(url).password
    except ArgumentError:
        return None
    return str(password) if password else None


def resolve_config_path(explicit: str | None) -> Path | None:
    """``--config`` wins, then ``$DIGESTBOT_CONFIG``, then ``./config.yaml`` if present."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.exists() else None


def load_settings(
    path: str | Path | None = None, *, environ: dict[str, str] | None = None
) -> Settings:
    """Load and validate the configuration; raise ConfigError naming file, line and key."""
    environ = dict(os.environ) if environ is None else environ
    config_path = resolve_config_path(str(path) if path else None)
    data: dict[str, Any] = {}
    text = ""
    shown = str(config_path) if config_path else "<defaults>"
    if config_path is not None:
        try:
            text = config_path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"{shown}: cannot read config file: {exc.strerror}") from exc
        try:
            loaded = yaml.safe_load(text) if text.strip() else {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{shown}:{mark.line + 1}" if mark else shown
            raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{shown}:1: the config file must be a mapping of keys")
        data = loaded
    for env_name, (section, key) in SECRET_ENV.items():
        if environ.get(env_name):
            data.setdefault(section, {})
            if isinstance(data[section], dict):
                data[section][key] = environ[env_name]
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, shown, text)) from exc
    settings.config_path = str(config_path) if config_path else None
    return settings


def _describe(exc: ValidationError, shown: str, text: str) -> str:
    lines = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if part not in ("function-after", "function-before")]
        named = (error.get("ctx") or {}).get("key")
        if not loc and isinstance(named, str):  # a check across keys names the one at fault
            loc = named.split(".")
        key = ".".join(str(part) for part in loc) or "(root)"
        line = _line_of(text, loc)
        where = f"{shown}:{line}" if line else shown
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see config.example.yaml)"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        lines.append(f"{where}: {key}: {message}")
    return "\n".join(lines)


def _line_of(text: str, loc: list[Any]) -> int | None:
    """Find the 1-based line of a key path in the YAML text, for located messages."""
    if not text.strip():
        return None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    line, node = key_node.start_mark.line + 1, value_node
                    break
            else:
                return line
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
