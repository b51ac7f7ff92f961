"""The value types and checks the config models share: durations, crontabs and schedules,
log levels, secrets and proxies. Each raises ``ValueError`` with the message pydantic
places under the key.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr

from bot.config.sources import did_you_mean
from bot.cron import check_fires_sensibly, parse_schedule

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def check_cron(value: str | None) -> str | None:
    """Validate a 5-field crontab expression with APScheduler's own parser."""
    if value is None:
        return None
    try:
        check_fires_sensibly(value)
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {value!r}: {exc}") from exc
    return value


def human_schedule(data: Any) -> Any:
    """``schedule: "08:30 weekdays [TZ]"`` as ``/ai schedule`` reads it, turned into cron.

    A zone written in the schedule fills ``timezone`` (a different ``timezone`` is an error).
    """
    if not isinstance(data, dict) or not isinstance(data.get("schedule"), str):
        return data
    text = data["schedule"].strip()
    if len(text.split()) == 5 and not re.match(r"^\d{1,2}[:：.]\d", text):
        return data  # a plain crontab: checked by check_cron, with its own message
    try:
        spec = parse_schedule(text)
    except ValueError as exc:
        raise ValueError(f"schedule: {exc}") from exc
    data = {**data, "schedule": spec.cron}
    if spec.timezone:
        if data.get("timezone") not in (None, spec.timezone):
            raise ValueError(
                f"schedule names {spec.timezone} but timezone is {data['timezone']}: keep one"
            )
        data["timezone"] = spec.timezone
    return data


def check_log_level(value: str) -> str:
    upper = str(value).strip().upper()
    if upper not in LOG_LEVELS:
        raise ValueError(
            f"unknown log level {value!r}: use one of {', '.join(LOG_LEVELS)}"
            + did_you_mean(upper, set(LOG_LEVELS))
        )
    return upper


def no_empty_secret(value: SecretStr | None) -> SecretStr | None:
    """An empty secret would start a listener that refuses every request: say so at load."""
    if value is not None and not value.get_secret_value().strip():
        raise ValueError("must not be empty (remove the key, or set the environment variable)")
    return value


def check_proxy(value: str | None) -> str | None:
    """An HTTP(S) or SOCKS proxy URL, checked at load rather than at the first post."""
    if value is not None and not re.match(r"^(https?|socks5h?)://[^/\s]+", value):
        raise ValueError("must be a URL like http://proxy.example:3128 or socks5://host:1080")
    return value
