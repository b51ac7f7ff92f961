"""The subscription commands: ``subscribe``, ``unsubscribe``, ``schedule``, ``subscriptions``.

They are the only commands that change state, so they live apart from the read-only
search and digest handlers in ``bot.chat.core``, which dispatches to them after
``require_admin``. A channel's settings are its subscriptions row over its ``channels[]``
entry (``bot.chat.settings``); changing a configured channel writes a row that
overrides the entry, because the config file itself is never edited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.archive import Subscription
from bot.channels import Channel, config_channel
from bot.chat.grammar import (
    WEEKLY_EXAMPLE,
    ScheduleSpec,
    WeeklySpec,
    normalize_text,
    parse_schedule,
    parse_weekly,
)
from bot.chat.replies import Reply, SubscriptionReply
from bot.chat.settings import effective_channel
from bot.errors import CommandError, PermissionDenied
from bot.query import parse_query

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.chat.request import CommandRequest
    from bot.config import Settings

SUBSCRIBE_EXAMPLE = "/ai subscribe tag:Agent"


def require_admin(request: CommandRequest) -> None:
    """Refuse a state-changing command from a user the platform says is not an admin."""
    if request.is_admin is False:
        who = (
            "a workspace admin or owner, the channel's creator, or a user in slack.admins"
            if request.platform == "slack"
            else "admins of this chat"
        )
        raise PermissionDenied(
            f"Only {who} can change this chat's subscriptions. "
            "Anyone can still search the archive.",
            example="/ai tag:Agent",
        )


def _configured_elsewhere(request: CommandRequest, what: str) -> CommandError:
    """Channels from the config file are changed there: chat would only fight the file."""
    return CommandError(
        f"This channel's {what} comes from the config file (channels: {request.platform} "
        f"{request.channel_id}); change it there and restart digestbot.",
        example="/ai subscriptions",
    )


class SubscriptionCommands:
    """Reads and changes the subscription of the chat a request comes from.

    ``today(request)`` is the chat's today (in its own timezone), used to validate a topic
    query whose meaning depends on the date.
    """

    def __init__(
        self, archive: Archive, settings: Settings, today: Callable[[CommandRequest], dt.date]
    ) -> None:
        self.archive = archive
        self.settings = settings
        self._today = today

    def check_allowed(self, request: CommandRequest, verb: str) -> None:
        """``require_admin``, except for a first ``subscribe`` where the platform lets
        anyone start one (``anyone_may_start``)."""
        starts = (
            verb == "subscribe" and request.anyone_may_start and not self.effective(request).active
        )
        if not starts:
            require_admin(request)

    def row(self, request: CommandRequest) -> Subscription | None:
        return self.archive.subscriptions.get(request.platform, request.channel_id)

    def effective(self, request: CommandRequest) -> Channel:
        return effective_channel(
            self.settings, self.row(request), request.platform, request.channel_id
        )

    def _reply(
        self,
        request: CommandRequest,
        action: str,
        row: Subscription | None,
        topic: str | None = None,
    ) -> SubscriptionReply:
        effective = effective_channel(self.settings, row, request.platform, request.channel_id)
        return SubscriptionReply(
            action=action,  # type: ignore[arg-type]
            subscription=None if row is None else effective,
            topic=topic,
            schedule=effective.schedule,
            timezone=effective.timezone,
            digest=effective.digest,
            weekly_schedule=effective.weekly_schedule,
        )

    def _ensure_row(self, request: CommandRequest) -> Subscription:
        """The channel's row, created from its config entry (topics included) if missing."""
        row = self.row(request)
        if row is not None:
            return row
        configured = config_channel(self.settings, request.platform, request.channel_id)
        return self.archive.subscriptions.upsert(
            request.platform,
            request.channel_id,
            topics=list(configured.topics) if configured else [],
            thread_id=request.thread_id
            if request.thread_id is not None
            else (configured.thread_id if configured else None),
            created_by=request.user_id,
        )

    def add(
        self,
        request: CommandRequest,
        topics: Sequence[str] = (),
        *,
        schedule: ScheduleSpec | None = None,
        timezone: str | None = None,
        digest: str | None = None,
        weekly: WeeklySpec | None = None,
    ) -> tuple[Subscription, bool]:
        """Subscribe (or re-activate) the request's channel, adding ``topics`` and setting its
        time: ``/ai subscribe`` and ``digestbot subscriptions add`` both come here. ``weekly``
        is read as ``/ai schedule weekly`` reads it; an explicit ``digest`` decides the
        deliveries unless it contradicts ``weekly``'s ``only`` or ``off``. Returns the row and
        whether the channel had one before."""
        checked = [self._validated_topic(request, normalize_text(t)) for t in topics if t.strip()]
        weekly_fields = _weekly_fields(weekly, digest) if weekly is not None else {}
        existed = self.row(request) is not None
        row = self._ensure_row(request)
        current = list(row.topics)
        current += [t for t in checked if t not in current]
        fields: dict[str, object] = {"active": True, "inactive_reason": None, "topics": current}
        if schedule is not None:
            fields["schedule"] = schedule.cron
            if schedule.timezone is not None:
                fields["timezone"] = schedule.timezone
        fields.update(weekly_fields)
        if digest is not None:
            fields["digest"] = digest
        if timezone is not None:
            fields["timezone"] = timezone
        if request.thread_id is not None:
            fields["thread_id"] = request.thread_id
        row = self.archive.subscriptions.upsert(request.platform, request.channel_id, **fields)
        return row, existed

    def subscribe(self, request: CommandRequest, args: str) -> SubscriptionReply:
        row, _ = self.add(request, [args] if args else [])
        return self._reply(request, "subscribed", row, args or None)

    def _validated_topic(self, request: CommandRequest, args: str) -> str:
        query = parse_query(args, today=self._today(request))
        if query.is_empty:
            raise CommandError(
                f"'{args}' selects nothing to subscribe to.", example=SUBSCRIBE_EXAMPLE
            )
        return args

    def unsubscribe(self, request: CommandRequest, args: str) -> SubscriptionReply:
        row = self.row(request)
        configured = config_channel(self.settings, request.platform, request.channel_id)
        if row is None and configured is None:
            raise CommandError(
                "This channel is not subscribed, so there is nothing to remove.",
                example=SUBSCRIBE_EXAMPLE,
            )
        if not args or args.lower() == "all":
            if configured is not None:
                raise _configured_elsewhere(request, "subscription")
            self.archive.subscriptions.remove(request.platform, request.channel_id)
            return self._reply(request, "unsubscribed", None)
        if configured is not None and args in configured.topics:
            raise _configured_elsewhere(request, f"topic '{args}'")
        row = row or self._ensure_row(request)
        if args not in row.topics:
            current = ", ".join(f"'{t}'" for t in row.topics) or "none (the whole digest)"
            raise CommandError(
                f"This channel has no topic '{args}'. Its topics: {current}.",
                example=f"/ai unsubscribe {row.topics[0]}" if row.topics else "/ai unsubscribe all",
            )
        topics = [t for t in row.topics if t != args]
        row = self.archive.subscriptions.upsert(request.platform, request.channel_id, topics=topics)
        return self._reply(request, "unsubscribed", row, args)

    def schedule(self, request: CommandRequest, args: str) -> SubscriptionReply:
        first, _, rest = args.partition(" ")
        if first.lower() == "weekly":
            return self.schedule_weekly(request, rest)
        spec = parse_schedule(args)
        self._refuse_configured(request, "schedule")
        self._require_subscribed(request)
        self._ensure_row(request)
        fields: dict[str, object] = {"schedule": spec.cron}
        if spec.timezone is not None:
            fields["timezone"] = spec.timezone
        row = self.archive.subscriptions.upsert(request.platform, request.channel_id, **fields)
        return self._reply(request, "scheduled", row)

    def _refuse_configured(self, request: CommandRequest, what: str) -> None:
        if config_channel(self.settings, request.platform, request.channel_id) is not None:
            raise _configured_elsewhere(request, what)

    def _require_subscribed(self, request: CommandRequest) -> None:
        if (
            self.row(request) is None
            and config_channel(self.settings, request.platform, request.channel_id) is None
        ):
            raise CommandError(
                "This channel is not subscribed yet: subscribe it first, then set its time.",
                example=SUBSCRIBE_EXAMPLE,
            )

    def schedule_weekly(self, request: CommandRequest, args: str) -> SubscriptionReply:
        """``weekly [only] DAY HH:MM [TZ]`` turns the rollup on (``both``, or ``weekly``
        with ``only``) at that time; ``weekly off`` goes back to the daily digest only."""
        spec = parse_weekly(args)
        self._refuse_configured(request, "weekly schedule")
        self._require_subscribed(request)
        self._ensure_row(request)
        fields = _weekly_fields(spec)
        row = self.archive.subscriptions.upsert(request.platform, request.channel_id, **fields)
        return self._reply(request, "scheduled_weekly", row)

    def listing(self, request: CommandRequest) -> Reply:
        row = self.row(request)
        configured = config_channel(self.settings, request.platform, request.channel_id)
        if row is None and configured is not None:
            # Show the config's settings as if they were a row, so the listing is complete.
            row = Subscription(
                platform=request.platform,
                channel_id=request.channel_id,
                thread_id=configured.thread_id,
                schedule=configured.schedule,
                timezone=configured.timezone,
                topics=list(configured.topics),
                digest=configured.digest,
                weekly_schedule=configured.weekly_schedule,
            )
        return self._reply(request, "listed", row)


def _weekly_fields(spec: WeeklySpec, digest: str | None = None) -> dict[str, object]:
    """The row fields ``/ai schedule weekly …`` sets: the rollup's time, and ``digest``
    (``both``; ``weekly`` with ``only``; ``daily`` for ``off``). An explicit ``digest``
    (``subscriptions add --digest``) may choose among those unless the spec said which."""
    implied = "daily" if spec.cron is None else "weekly" if spec.only else "both"
    said = spec.cron is None or spec.only
    if digest is not None and said and digest != implied:
        raise CommandError(
            f"The weekly schedule says '{'off' if spec.cron is None else 'only'}' "
            f"(digest {implied}), but the digest asked for is {digest}.",
            example=WEEKLY_EXAMPLE,
        )
    fields: dict[str, object] = {"digest": implied}
    if spec.cron is not None:
        fields["weekly_schedule"] = spec.cron
    if spec.timezone is not None:
        fields["timezone"] = spec.timezone
    return fields
