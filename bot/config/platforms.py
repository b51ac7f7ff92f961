"""Configuration of the group-robot platforms and the Feishu app bot.

Apart from the core sections: what a robot channel's webhook and secret accept
(``${ENV_VAR}`` references, http(s) only), and the ``feishu`` section.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr, field_validator

from bot.config.durations import Port
from bot.config.fields import no_empty_secret

_ENV_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def from_environment(value: Any) -> Any:
    """``${NAME}`` reads the environment variable NAME, so robot secrets stay out of the YAML."""
    if isinstance(value, str):
        match = _ENV_REFERENCE.match(value.strip())
        if match:
            found = os.environ.get(match[1])
            if not found:
                raise ValueError(f"environment variable {match[1]} is not set")
            return found
    return value


def http_url(value: SecretStr | None) -> SecretStr | None:
    """A robot webhook is an absolute http(s) URL; anything else would post nowhere."""
    if value is not None:
        url = value.get_secret_value()
        if not re.match(r"^https?://[^/\s]+/\S*$", url):
            raise ValueError("must be the robot's http(s) webhook URL")
    return value


RobotSecret = Annotated[SecretStr | None, BeforeValidator(from_environment)]


class FeishuSettings(BaseModel):
    """The Feishu/Lark app bot (commands and ``chat_id`` delivery); group robots need none."""

    model_config = ConfigDict(extra="forbid")

    app_id: str | None = None
    app_secret: SecretStr | None = None
    verification_token: SecretStr | None = None
    encrypt_key: SecretStr | None = None
    mode: Literal["websocket", "http"] = "websocket"
    host: str = "127.0.0.1"
    port: Port = 9000
    """HTTP mode: serves ``POST /feishu/events`` here."""
    api_url: str = "https://open.feishu.cn"
    """Open API origin (``https://open.larksuite.com`` for Lark)."""

    _secrets = field_validator("app_secret", "verification_token", "encrypt_key")(no_empty_secret)
