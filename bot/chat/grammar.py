"""The argument grammar of ``/ai`` commands, kept apart from what the commands do.

Anything that is not a known verb is a query, so ``/ai tag:RL`` needs no ``search`` verb.
Schedules are validated with APScheduler's own cron parser and zoneinfo, and every error
names the part of the input that is wrong, because a chat user cannot see a stack trace.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.channels import DIGEST_MODES
from bot.cron import ScheduleSpec, check_timezone
from bot.cron import parse_schedule as cron_parse_schedule
from bot.errors import CommandError

VERBS = (
    "help",
    "today",
    "latest",
    "week",
    "trends",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "schedule",
)
#: Verbs that change a channel's subscription (and so need permission).
MUTATING = frozenset({"subscribe", "unsubscribe", "schedule"})
SEARCH = "search"

SCHEDULE_EXAMPLE = "/ai schedule 08:30 weekdays Europe/Berlin"
WEEKLY_EXAMPLE = "/ai schedule weekly fri 17:00"
#: The rollup's day when ``/ai schedule weekly 17:00`` names none.
DEFAULT_WEEKLY_DAY = "fri"

_HHMM = re.compile(r"^([01]?\d|2[0-3])[:：.]([0-5]\d)$")
_LOOKS_LIKE_TIME = re.compile(r"^\d{1,2}[:：.]\d{1,2}$")


@dataclass(frozen=True)
class ParsedCommand:
    """A verb (or ``search``) and the rest of the text, whitespace-normalised."""

    verb: str
    args: str


def normalize_text(text: str) -> str:
    """One space between words; chat clients add odd whitespace (NBSP, newlines)."""
    return " ".join(text.split())


def parse_command(text: str) -> ParsedCommand:
    """Split ``/ai`` text into a verb and its arguments; unknown first words mean a query."""
    text = normalize_text(text)
    if not text:
        return ParsedCommand("help", "")
    first, _, rest = text.partition(" ")
    verb = first.lower().lstrip("/")
    if verb in VERBS:
        if verb == "subscribe" and rest.lower() == "list":
            return ParsedCommand("subscriptions", "")
        return ParsedCommand(verb, rest)
    return ParsedCommand(SEARCH, text)


def is_mutating(text: str) -> bool:
    """Whether the command changes subscriptions: adapters only look up admin rights then."""
    return parse_command(text).verb in MUTATING


def similar_verb(text: str) -> str | None:
    """A verb the first word looks like a typo of (``subscibe``), for a helpful error."""
    first = normalize_text(text).partition(" ")[0].lower()
    if not first or ":" in first or first.startswith(("-", '"')):
        return None
    matches = difflib.get_close_matches(first, VERBS, n=1, cutoff=0.8)
    return matches[0] if matches else None


def parse_schedule(args: str) -> ScheduleSpec:
    """``HH:MM [daily|weekdays|weekends|DAYS] [TZ]`` or ``M H DOM MON DOW [TZ]``."""
    try:
        return cron_parse_schedule(normalize_text(args))
    except ValueError as exc:
        raise CommandError(str(exc), example=SCHEDULE_EXAMPLE) from exc


@dataclass(frozen=True)
class WeeklySpec:
    """``/ai schedule weekly …``: the rollup's cron (None: turn it off) and whether the
    channel then gets the rollup only (``only``) instead of both."""

    cron: str | None
    timezone: str | None
    only: bool = False


def parse_weekly(args: str) -> WeeklySpec:
    """``[only] DAY HH:MM [TZ]``, ``[only] HH:MM [DAY] [TZ]``, a 5-field cron, or ``off``."""
    parts = normalize_text(args).split(" ") if args.strip() else []
    if parts and parts[0].lower() == "off":
        if len(parts) > 1:
            raise CommandError(
                f"Unexpected '{' '.join(parts[1:])}' after 'off'.", example=WEEKLY_EXAMPLE
            )
        return WeeklySpec(None, None)
    only = bool(parts) and parts[0].lower() == "only"
    parts = parts[1:] if only else parts
    if not parts:
        raise CommandError(
            "Tell me when to post the weekly rollup: a day and a time like fri 17:00.",
            example=WEEKLY_EXAMPLE,
        )
    if (
        len(parts) >= 2
        and not _LOOKS_LIKE_TIME.match(parts[0])
        and _LOOKS_LIKE_TIME.match(parts[1])
    ):
        parts[0], parts[1] = parts[1], parts[0]  # "fri 17:00" reads as "17:00 fri"
    spec = parse_schedule(" ".join(parts))
    fields = spec.cron.split(" ")
    if fields[4] == "*" and _HHMM.match(parts[0]):
        fields[4] = DEFAULT_WEEKLY_DAY
    return WeeklySpec(" ".join(fields), spec.timezone, only)


def parse_digest(value: str) -> str:
    """A channel's ``digest``: which deliveries it gets (the config key's values)."""
    mode = normalize_text(value).lower()
    if mode not in DIGEST_MODES:
        raise CommandError(
            f"'{value}' is not one of {', '.join(DIGEST_MODES)}: daily is the digest only, "
            "weekly the rollup only, both is both.",
            example=WEEKLY_EXAMPLE,
        )
    return mode


def check_zone(name: str) -> str:
    """Raise a CommandError naming ``name`` unless it is an IANA zone."""
    try:
        check_timezone(name)
    except ValueError as exc:
        raise CommandError(
            f"Unknown timezone '{name}': use an IANA name like Asia/Shanghai or Europe/Berlin.",
            example=SCHEDULE_EXAMPLE,
        ) from exc
    return name
