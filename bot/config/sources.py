"""Where configuration values come from, in order, and where a bad one was written.

Sources, lowest to highest precedence: built-in defaults < the YAML file < secret files in
``secrets_dir`` < ``.env`` < the process environment. The three environment-like sources
read the same names: ``DIGESTBOT_`` plus the key path joined by ``__``
(``DIGESTBOT_WEB__PORT``, ``DIGESTBOT_SLACK__BOT_TOKEN``), and the short secret names
(``SLACK_BOT_TOKEN``…). pydantic-settings' ``EnvSettingsSource`` does the splitting and
nesting for all three, so a secret file and a variable mean exactly the same thing.

Every value remembers its origin, so a validation error names ``FILE:LINE`` for the YAML,
or the variable / secret file it came from, and an unknown key gets a "did you mean".
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource

from bot.errors import ConfigError

ENV_PREFIX = "DIGESTBOT_"
NESTED_DELIMITER = "__"
#: Docker and Kubernetes mount secrets here by convention.
DEFAULT_SECRETS_DIR = "/run/secrets"

#: Short names for secrets, kept working beside the ``DIGESTBOT_…`` names.
SECRET_ENV: dict[str, tuple[str, str]] = {
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "FEISHU_APP_ID": ("feishu", "app_id"),
    "FEISHU_APP_SECRET": ("feishu", "app_secret"),
    "FEISHU_VERIFICATION_TOKEN": ("feishu", "verification_token"),
    "FEISHU_ENCRYPT_KEY": ("feishu", "encrypt_key"),
    "TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
    "DIGESTBOT_ARCHIVE_URL": ("archive", "url"),
    "DIGESTBOT_WEB_TOKEN": ("web", "token"),
}
#: Variables that steer loading itself and are not settings.
_NOT_SETTINGS = frozenset({"config", "config_path", "secrets_dir"})

Origins = dict[tuple[str, ...], str]


class _MappingSource(EnvSettingsSource):
    """``EnvSettingsSource`` over any mapping of names (a ``.env`` file, secret files)."""

    def __init__(self, settings_cls: type[BaseSettings], mapping: Mapping[str, str]) -> None:
        self._mapping = {key.lower(): value for key, value in mapping.items()}
        super().__init__(
            settings_cls,
            case_sensitive=False,
            env_prefix=ENV_PREFIX,
            env_nested_delimiter=NESTED_DELIMITER,
        )

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return self._mapping


def env_layer(
    settings_cls: type[BaseSettings], mapping: Mapping[str, str], label: str
) -> tuple[dict[str, Any], Origins]:
    """The settings one environment-like mapping sets, and where each value came from.

    ``label`` names the source (``environment``, ``/run/secrets``, ``.env``).
    """
    data = {k: v for k, v in _MappingSource(settings_cls, mapping)().items()}
    for name in _NOT_SETTINGS:
        data.pop(name, None)
    origins: Origins = {}
    for path in _leaf_paths(data):
        name = ENV_PREFIX + NESTED_DELIMITER.join(path[:2]).upper()
        origins[path] = f"{label}: {name}"
    for name, (section, key) in SECRET_ENV.items():
        value = _lookup(mapping, name)
        if not value:
            continue
        section_data = data.setdefault(section, {})
        if isinstance(section_data, dict):
            section_data.setdefault(key, value)  # the DIGESTBOT_ name wins within a source
            origins.setdefault((section, key), f"{label}: {name}")
    return data, origins


def unknown_names(settings_cls: type[BaseSettings], mapping: Mapping[str, str]) -> list[str]:
    """``DIGESTBOT_…`` names that set nothing, each with a suggestion when one is close.

    Only a warning: other tools may share the prefix (the test suite's
    ``DIGESTBOT_TEST_PG_URL``), so an unknown name cannot be an error.
    """
    fields = [name for name, field in settings_cls.model_fields.items() if not field.exclude]
    known = {*fields, *_NOT_SETTINGS, "archive_url"}
    found = []
    for name in mapping:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in SECRET_ENV:
            continue
        head = upper.removeprefix(ENV_PREFIX).split(NESTED_DELIMITER)[0].lower()
        if head and head not in known:
            close = difflib.get_close_matches(head, fields, n=1, cutoff=0.6)
            hint = f" (did you mean {ENV_PREFIX}{close[0].upper()}?)" if close else ""
            found.append(f"{name} is not a setting{hint}")
    return found


def read_yaml(config_path: Path | None, shown: str) -> tuple[str, dict[str, Any]]:
    """The config file's text and mapping; ConfigError at ``FILE:LINE`` if unreadable."""
    if config_path is None:
        return "", {}
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
    return text, loaded


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a ``.env`` file (python-dotenv's reading), if it exists."""
    if not path.is_file():
        return {}

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def read_secrets_dir(directory: Path, *, required: bool = False) -> dict[str, str]:
    """Secret files named like the variables (``SLACK_BOT_TOKEN``, ``digestbot_slack__bot_token``).

    Only names digestbot knows are read: a shared ``/run/secrets`` may hold other files.
    ``required``: the folder was configured, so its absence is an error, not a default.
    """
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        if required:
            raise ConfigError(f"secrets_dir: cannot read {directory}: {exc.strerror}") from exc
        return {}
    found: dict[str, str] = {}
    for entry in entries:
        upper = entry.name.upper()
        if entry.name.startswith(".") or not entry.is_file():
            continue
        if upper.startswith(ENV_PREFIX) or upper in SECRET_ENV:
            try:
                found[entry.name] = entry.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{entry}: cannot read this secret file: {exc}") from exc
    return found


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: mappings merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def describe(
    exc: ValidationError, shown: str, text: str, origins: Origins, model: type[BaseModel]
) -> str:
    """One ``WHERE: key: message`` line per error; WHERE is FILE:LINE or the variable."""
    lines = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if part not in ("function-after", "function-before")]
        named = (error.get("ctx") or {}).get("key")
        if not loc and isinstance(named, str):  # a check across keys names the one at fault
            loc = named.split(".")
        key = ".".join(str(part) for part in loc) or "(root)"
        where = _origin_of(loc, origins)
        if where is None:
            line = line_of(text, loc)
            where = f"{shown}:{line}" if line else shown
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key" + _suggest(model, loc) + " (see config.example.yaml)"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        lines.append(f"{where}: {key}: {message}")
    return "\n".join(lines)


def did_you_mean(word: str, choices: list[str] | set[str]) -> str:
    """`` (did you mean 'x'?)`` for a close match, else an empty string."""
    lowered = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]!r}?)" if close else ""


def _suggest(model: type[BaseModel], loc: list[Any]) -> str:
    """A close known key for the unknown last part of ``loc``."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(str(part))
        if field is None:
            return ""
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        current = args[0] if args and isinstance(args[0], type) else annotation
    fields = getattr(current, "model_fields", None)
    if not fields or not loc:
        return ""
    known = [name for name, field in fields.items() if not field.exclude]
    return did_you_mean(str(loc[-1]), known)


def _origin_of(loc: list[Any], origins: Origins) -> str | None:
    path = tuple(str(part) for part in loc)
    for length in range(len(path), 0, -1):
        if path[:length] in origins:
            return origins[path[:length]]
    return None


def _leaf_paths(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            paths.extend(_leaf_paths(value, (*prefix, key)))
        else:
            paths.append((*prefix, key))
    return paths


def _lookup(mapping: Mapping[str, str], name: str) -> str | None:
    for key, value in mapping.items():
        if key.upper() == name:
            return value
    return None


def line_of(text: str, loc: list[Any]) -> int | None:
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
