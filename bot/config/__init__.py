"""Configuration: ``config.yaml`` plus environment variables, validated by pydantic-settings.

One place for defaults. Unknown keys are errors that name the key, the file and the line,
because a mistyped ``shedule:`` that is silently ignored means a missed morning. Where
values come from, and in which order, is ``bot.config.sources``; the shared value types
and checks are ``bot.config.fields``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
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

from bot.config import sources
from bot.config.durations import NonNegativeDuration, PositiveDuration
from bot.config.fields import (
    check_cron,
    check_log_level,
    human_schedule,
    no_empty_secret,
)
from bot.config.platforms import FeishuSettings, RobotSecret, http_url
from bot.config.sections import (
    ArchiveSettings,
    DeliverySettings,
    FormatsSettings,
    HttpSettings,
    SlackSettings,
    TagSettings,
    TelegramSettings,
    WebSettings,
    _Section,
)
from bot.config.sources import SECRET_ENV
from bot.cron import check_timezone
from bot.errors import ConfigError
from bot.registry import PLATFORM_CHANNEL_KEYS, platform_spec

__all__ = [
    "DEFAULT_WEEKLY_SCHEDULE",
    "SECRET_ENV",
    "ChannelSettings",
    "Settings",
    "TelegramSettings",
    "check_cron",
    "load_settings",
    "sources",
]

log = logging.getLogger(__name__)

DEFAULT_CONFIG_FILE = "config.yaml"
CONFIG_ENV = "DIGESTBOT_CONFIG"
SECRETS_DIR_ENV = "DIGESTBOT_SECRETS_DIR"


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
    webhook: RobotSecret = None
    """Feishu, DingTalk and WeCom group robots: the webhook URL (a secret; ``${ENV}`` works)."""
    secret: RobotSecret = None
    """Feishu and DingTalk: the robot's signing secret (optional; ``${ENV}`` works)."""
    chat_id: str | None = None
    """Feishu app bot: the chat (``oc_…``) to post to instead of a webhook."""

    _tz = field_validator("timezone")(check_timezone)
    _cron = field_validator("schedule", "weekly_schedule")(check_cron)
    _human = model_validator(mode="before")(human_schedule)
    _robot_secrets = field_validator("webhook", "secret")(no_empty_secret)
    _webhook_url = field_validator("webhook")(http_url)

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
        if spec.one_of_keys:
            given = [key for key in sorted(spec.one_of_keys) if getattr(self, key) is not None]
            if len(given) != 1:
                keys = " or ".join(sorted(spec.one_of_keys))
                raise ValueError(f"{keys}: set exactly one for the {self.platform} platform")
        return self


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
    sources_settle: NonNegativeDuration = dt.timedelta(seconds=30)
    """A source file is ingested once its size and mtime have not changed for this long
    (0: at once, for pipelines that write elsewhere and rename into place)."""
    date_conflict: Literal["refuse", "header", "name"] = "refuse"
    """A file whose name says one date and whose header another: refuse it, or which wins."""
    max_age: NonNegativeDuration = dt.timedelta(days=2)
    max_future: NonNegativeDuration = dt.timedelta(days=1)
    """A digest dated further ahead of today is refused (a typo in the year hid real days)."""
    wait_for_digest: NonNegativeDuration = dt.timedelta(hours=3)
    poll_interval: PositiveDuration = dt.timedelta(minutes=5)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    """``json``: one JSON object a line, for log collectors."""
    secrets_dir: str | None = None
    """A folder of secret files named like the variables (default ``/run/secrets``)."""
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    feishu: FeishuSettings = Field(default_factory=FeishuSettings)
    channels: list[ChannelSettings] = Field(default_factory=list)
    tags: TagSettings = Field(default_factory=TagSettings)
    formats: FormatsSettings = Field(default_factory=FormatsSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    config_path: str | None = Field(default=None, exclude=True)
    """Where this configuration came from (None for built-in defaults)."""

    _tz = field_validator("timezone")(check_timezone)
    _cron = field_validator("schedule", "weekly_schedule")(check_cron)
    _human = model_validator(mode="before")(human_schedule)
    _level = field_validator("log_level")(check_log_level)

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
        # load_settings merges every source itself (bot.config.sources) so that each value
        # remembers where it came from, and passes the result as init kwargs.
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
        for url in (self.archive.url, self.slack.proxy, self.telegram.proxy):
            password = _url_password(url) if url else None
            if password:
                found.append(password)
        return [secret for secret in found if secret]

    def base_dir(self) -> Path:
        """Relative paths in the config are relative to the config file."""
        return Path(self.config_path).resolve().parent if self.config_path else Path.cwd()

    def template_options(self) -> dict[str, Any]:
        """What ``formatters.Templates`` takes from the config (the formatters read no
        config): the language, ``templates_dir`` relative to the config file, the reader's
        base URL for permalinks."""
        directory = Path(self.templates_dir) if self.templates_dir else None
        if directory is not None and not directory.is_absolute():
            directory = self.base_dir() / directory
        return {
            "language": self.language,
            "templates_dir": directory,
            "web_base_url": self.web.base_url,
        }


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
    path: str | Path | None = None,
    *,
    environ: dict[str, str] | None = None,
    env_file: str | Path | None = ".env",
) -> Settings:
    """Load and validate the configuration; raise ConfigError naming where a value is bad.

    Precedence, highest first: the environment, ``env_file`` (``.env``), secret files in
    ``secrets_dir``, the YAML file, built-in defaults (see ``bot.config.sources``).
    """
    environ = dict(os.environ) if environ is None else environ
    config_path = resolve_config_path(str(path) if path else None)
    shown = str(config_path) if config_path else "<defaults>"
    text, data = sources.read_yaml(config_path, shown)
    dotenv = sources.read_env_file(Path(env_file)) if env_file else {}
    chosen = environ.get(SECRETS_DIR_ENV) or dotenv.get(SECRETS_DIR_ENV) or data.get("secrets_dir")
    secrets_dir = str(chosen or sources.DEFAULT_SECRETS_DIR)
    origins: sources.Origins = {}
    layers = [
        (
            sources.read_secrets_dir(Path(secrets_dir), required=bool(chosen)),
            f"secret file in {secrets_dir}",
        ),
        (dotenv, str(env_file)),
        (environ, "environment"),
    ]
    for mapping, label in layers:
        if mapping:
            layer, where = sources.env_layer(Settings, mapping, label)
            data = sources.merge(data, layer)
            origins.update(where)
            for problem in sources.unknown_names(Settings, mapping):
                log.warning("%s: %s", label, problem)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(sources.describe(exc, shown, text, origins, Settings)) from exc
    settings.config_path = str(config_path) if config_path else None
    _check_paths(settings, shown, text)
    return settings


def _check_paths(settings: Settings, shown: str, text: str) -> None:
    """Folders the config names must exist now, not when the first reply is rendered."""
    if settings.templates_dir:
        directory = Path(settings.templates_dir)
        if not directory.is_absolute():
            directory = settings.base_dir() / directory
        if not directory.is_dir():
            line = sources.line_of(text, ["templates_dir"])
            where = f"{shown}:{line}" if line else shown
            raise ConfigError(f"{where}: templates_dir: no such folder: {directory}")
