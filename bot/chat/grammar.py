"""The argument grammar of ``/ai`` commands, kept apart from what the commands do.

Anything that is not a known verb is a query, so ``/ai tag:RL`` needs no ``search`` verb.
Schedules are validated with APScheduler's own cron parser and zoneinfo, and every error
names the part of the input that is wrong, because a chat user cannot see a stack trace.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.cron import ScheduleSpec, check_timezone
from bot.cron import parse_schedule as cron_parse_schedule
from bot.errors import CommandError

VERBS = ("help", "today", "latest", "subscribe", "unsubscribe", "subscriptions", "schedule")
#: Verbs that change a channel's subscription (and so need permission).
MUTATING = frozenset({"subscribe", "unsubscribe", "schedule"})
SEARCH = "search"

SCHEDULE_EXAMPLE = "/ai schedule 08:30 weekdays Europe/Berlin"


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
