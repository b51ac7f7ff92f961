"""Durations and ports as the config writes them, with the bounds the guarantees need.

Why a module of their own: the types say which values break exactly-once or burn the
CPU (a zero lease duplicated a post, a zero poll interval spun at 99 %), so they are
refused at load with the key named, and the config module stays about its keys.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

__all__ = ["Duration", "NonNegativeDuration", "Port", "PositiveDuration", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s|days?|hours?|minutes?|seconds?)\s*$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: Any) -> Any:
    """Accept ``2d``, ``3h``, ``90m``, ``45s`` or a number of seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return dt.timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2][0]])
    if isinstance(value, int | float):
        return dt.timedelta(seconds=value)
    return value


def _positive(value: dt.timedelta) -> dt.timedelta:
    if value <= dt.timedelta(0):
        raise ValueError("must be longer than 0 (e.g. 10m)")
    return value


def _not_negative(value: dt.timedelta) -> dt.timedelta:
    if value < dt.timedelta(0):
        raise ValueError("must not be negative")
    return value


Duration = Annotated[dt.timedelta, BeforeValidator(parse_duration)]
#: A duration that must be > 0: a zero lease duplicated posts, a zero poll spun the CPU.
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
#: A duration that may be 0 but not negative.
NonNegativeDuration = Annotated[Duration, AfterValidator(_not_negative)]
#: A TCP port; 0 lets the system pick a free one.
Port = Annotated[int, Field(ge=0, le=65535)]
