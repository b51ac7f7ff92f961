"""The platform-agnostic command core: a ``CommandRequest`` in, a ``ReplyEnvelope`` out.

Slack, Telegram and Feishu adapters translate their requests into ``CommandRequest`` and render
the envelope; what a command *means* lives here (dispatch, search, digests) or in
``bot.chat.subscriptions`` (the state-changing verbs), once. This is also the one place
where a ``DigestbotError`` becomes an ``ErrorReply`` (the problem named, plus an example),
and where anything unexpected becomes a polite apology and a logged traceback: a chat
user never sees a stack trace, and never silence.

The core is synchronous (the archive is SQLAlchemy); adapters run it with ``in_worker``
on a small thread pool so the event loop stays free to acknowledge the next command
within Slack's 3 seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from bot.chat import actions
from bot.chat.grammar import (
    MUTATING,
    SEARCH,
    parse_command,
    similar_verb,
)
from bot.chat.replies import (
    DigestReply,
    ErrorReply,
    HelpReply,
    ItemDetailReply,
    NoticeReply,
    Reply,
    ReplyEnvelope,
    SearchReply,
)
from bot.chat.request import CommandRequest
from bot.chat.subscriptions import SubscriptionCommands
from bot.chat.weekly import WeeklyCommands
from bot.errors import (
    ArchiveError,
    CommandError,
    DigestbotError,
    PermissionDenied,
    QueryError,
)
from bot.metrics import COMMAND_LATENCY, COMMANDS
from bot.query import parse_query

if TYPE_CHECKING:
    from bot.archive import Archive
    from bot.config import Settings
    from bot.query import Query

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PAGE_SIZE = 5
#: Totals are counted up to here and shown as "1000+" beyond: exact counts of common terms
#: on a big archive cost more than the rest of the answer, and nobody pages that far.
COUNT_CAP = 1000
#: Worker threads answering commands. Few on purpose: the work is mostly Python (GIL-bound),
#: and every extra busy thread delays the event loop that must ack the next command.
DEFAULT_WORKERS = 2
QUERY_EXAMPLE = "/ai tag:RL since:2026-02-01 -source:量子位"


class CommandCore:
    """Answers commands against one archive and one configuration."""

    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        clock: Callable[[], dt.datetime] | None = None,
        workers: int = DEFAULT_WORKERS,
        count_cap: int | None = COUNT_CAP,
    ) -> None:
        self.archive = archive
        self.settings = settings
        self.page_size = page_size
        self.count_cap = count_cap
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._counts = CountCache()
        self.subscriptions = SubscriptionCommands(archive, settings, self._today)
        self._weekly = WeeklyCommands(archive, self.subscriptions.effective, self._today)

    # -- async entry points (adapters) -----------------------------------------------------

    async def in_worker(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` on the command workers (adapters also render replies there)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="digestbot-cmd")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    async def first_time(self, key: str, memory: dt.timedelta) -> bool:
        """Whether a platform's request or event id is new, asked of the archive (shared by
        replicas, kept across restarts) off the loop. An archive that cannot answer lets
        it through (its command will say the archive is down) rather than drop it."""
        try:
            return await self.in_worker(self.archive.seen_requests.first_time, key, memory)
        except ArchiveError as exc:
            log.warning("cannot check whether %s was seen before: %s", key, exc)
            return True

    def close(self) -> None:
        """Stop the worker threads (idle ones exit at interpreter exit anyway)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # -- entry points -------------------------------------------------------------------

    def handle(self, request: CommandRequest) -> ReplyEnvelope:
        """Answer ``/ai TEXT``; never raises."""
        verb = parse_command(request.text).verb
        return self._guarded(request, verb, lambda: self._dispatch(request))

    def handle_action(self, request: CommandRequest, value: str) -> ReplyEnvelope:
        """Answer a "more"/"details" button whose payload is ``value``; never raises."""
        action = actions.decode(value)
        if isinstance(action, actions.MoreAction):
            return self._guarded(
                request, "more", lambda: self._search(request, action.query, action.offset)
            )
        if isinstance(action, actions.MoreByKeyAction):
            return self._guarded(request, "more", lambda: self._more_by_key(request, action))
        if isinstance(action, actions.DetailsAction):
            return self._guarded(request, "details", lambda: self._details(action))
        return self._guarded(request, "action", lambda: _raise_stale_button())

    def render_safely(self, envelope: ReplyEnvelope, render: Callable[[Reply], list[T]]) -> list[T]:
        """Render with a platform formatter; a formatter bug still gets the user an answer."""
        try:
            return render(envelope.reply)
        except Exception:
            log.exception("rendering a %s reply failed", envelope.reply.kind)
            return render(
                ErrorReply(
                    message="I found an answer but could not display it; the error has been "
                    "logged.",
                    example="/ai help",
                )
            )

    # -- dispatch -----------------------------------------------------------------------

    def _guarded(
        self, request: CommandRequest, command: str, work: Callable[[], ReplyEnvelope]
    ) -> ReplyEnvelope:
        started = time.perf_counter()
        try:
            envelope = work()
            outcome = "ok"
        except DigestbotError as exc:
            envelope = ReplyEnvelope(reply=_error_reply(exc))
            outcome = _outcome(exc)
        except Exception:
            log.exception(
                "command failed: platform=%s channel=%s command=%s",
                request.platform,
                request.channel_id,
                command,
            )
            envelope = ReplyEnvelope(
                reply=ErrorReply(
                    message="Something went wrong on my side; the error has been logged. "
                    "Please try again in a moment.",
                    example="/ai help",
                )
            )
            outcome = "crash"
        COMMANDS.labels(request.platform, command, outcome).inc()
        COMMAND_LATENCY.labels(request.platform).observe(time.perf_counter() - started)
        return envelope

    def _dispatch(self, request: CommandRequest) -> ReplyEnvelope:
        parsed = parse_command(request.text)
        if parsed.verb in MUTATING:
            self.subscriptions.check_allowed(request, parsed.verb)
        match parsed.verb:
            case "help":
                return ReplyEnvelope(reply=HelpReply())
            case "today" | "latest":
                return ReplyEnvelope(reply=self._digest(request, parsed.verb))
            case "week":
                return ReplyEnvelope(reply=self._weekly.week(request, parsed.args))
            case "trends":
                return ReplyEnvelope(reply=self._weekly.trends(request, parsed.args))
            case "subscriptions":
                return ReplyEnvelope(reply=self.subscriptions.listing(request))
            case "subscribe":
                reply = self.subscriptions.subscribe(request, parsed.args)
                return ReplyEnvelope(reply=reply, public=True)
            case "unsubscribe":
                reply = self.subscriptions.unsubscribe(request, parsed.args)
                return ReplyEnvelope(reply=reply, public=True)
            case "schedule":
                reply = self.subscriptions.schedule(request, parsed.args)
                return ReplyEnvelope(reply=reply, public=True)
            case _:
                assert parsed.verb == SEARCH
                return self._search(request, parsed.args, 0)

    # -- queries ------------------------------------------------------------------------

    def _today(self, request: CommandRequest) -> dt.date:
        """Today in the channel's timezone, so ``date:today`` means the reader's today."""
        zone = self.subscriptions.effective(request).timezone
        return self._clock().astimezone(ZoneInfo(zone)).date()

    def _parse_search(self, request: CommandRequest, text: str) -> Query:
        """Parse with the configured zone's today; only a query whose meaning depends on
        the date (``date:today``…) pays for looking up the channel's own zone."""
        default_today = self._clock().astimezone(ZoneInfo(self.settings.timezone)).date()
        query = parse_query(text, today=default_today)
        shifted = parse_query(text, today=default_today + dt.timedelta(days=1))
        if str(shifted) == str(query):
            return query
        return parse_query(text, today=self._today(request))

    def _search(self, request: CommandRequest, text: str, offset: int) -> ReplyEnvelope:
        query = self._parse_search(request, text)
        if query.is_empty:
            return ReplyEnvelope(reply=HelpReply())
        hits = self.archive.search(query, limit=self.page_size, offset=offset)
        capped = False
        if len(hits) < self.page_size and (hits or offset == 0):
            total = offset + len(hits)  # the last page: no need to count
        else:
            cap = self._cap(offset)
            latest = self.archive.latest_date()
            total = self._counts.get(query, self._counter(cap), latest, cap=cap)
            capped = cap is not None and total >= cap
            if not hits:  # a stale "more" past the end (so the count is exact): last page
                offset = max(0, total - self.page_size)
                hits = self.archive.search(query, limit=self.page_size, offset=offset)
        if total == 0 and offset == 0:
            guess = similar_verb(text)
            if guess is not None:
                raise CommandError(
                    f"Unknown command '{text.split()[0]}' (and no item matches it as a query). "
                    f"Did you mean '{guess}'?",
                    example=f"/ai {guess}" + (" tag:Agent" if guess == "subscribe" else ""),
                )
        more_key = None
        has_more = offset + len(hits) < total
        if has_more and request.platform != "slack" and actions.needs_key(text):
            more_key = self.archive.button_queries.put(text)
        reply = SearchReply(
            query=text,
            hits=hits,
            total=total,
            offset=offset,
            limit=self.page_size,
            total_capped=capped,
            more_key=more_key,
        )
        return ReplyEnvelope(reply=reply)

    def _more_by_key(
        self, request: CommandRequest, action: actions.MoreByKeyAction
    ) -> ReplyEnvelope:
        query = self.archive.button_queries.get(action.key)
        if query is None:
            return _raise_stale_button()
        return self._search(request, query, action.offset)

    def _cap(self, offset: int) -> int | None:
        """The count cap for a page: the next multiple of ``count_cap`` beyond it, so a
        "more" button still appears on pages past the first cap."""
        if self.count_cap is None:
            return None
        return self.count_cap * (1 + (offset + self.page_size) // self.count_cap)

    def _counter(self, cap: int | None) -> Callable[[Query], int]:
        return lambda query: self.archive.count(query, cap=cap)

    def _details(self, action: actions.DetailsAction) -> ReplyEnvelope:
        hit = self.archive.item(action.date, action.rank)
        if hit is None:
            raise CommandError(
                f"Item {action.rank} of {action.date.isoformat()} is not in the archive any more.",
                example=f"/ai date:{action.date.isoformat()}",
            )
        return ReplyEnvelope(reply=ItemDetailReply(hit=hit))

    def _digest(self, request: CommandRequest, verb: str) -> Reply:
        """``today``: today's digest in the channel's zone, else the newest one; ``latest``."""
        digest = self.archive.digest(self._today(request)) if verb == "today" else None
        if digest is None:
            latest = self.archive.latest_date()
            digest = self.archive.digest(latest) if latest else None
        if digest is None:
            return NoticeReply(
                message="The archive has no digest yet. Digests appear here after the first "
                "delivery or `digestbot ingest`."
            )
        return DigestReply(digest=digest)


class CountCache:
    """Recent match counts: counting is the costly half of a search on a big archive, and
    "more" pages and popular queries ask for the same count again.

    Keyed by the canonical query (relative dates already resolved) and the newest digest
    date, so a new day's digest changes every key; a re-ingested old day shows up within
    ``ttl`` seconds. A count is a courtesy ("1-5 of N"), never used to select items.
    """

    def __init__(self, ttl: float = 60.0, size: int = 512) -> None:
        self.ttl, self.size = ttl, size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, object, int | None], tuple[float, int]] = (
            OrderedDict()
        )

    def get(
        self,
        query: Query,
        count: Callable[[Query], int],
        latest: object = None,
        *,
        cap: int | None = None,
    ) -> int:
        """The count of ``query`` by ``count`` (which counts up to ``cap``), cached."""
        key = (str(query), latest, cap)
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[0] < self.ttl:
                self._entries.move_to_end(key)
                return found[1]
        value = count(query)
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


def _raise_stale_button() -> ReplyEnvelope:
    raise CommandError(
        "That button is no longer valid; run the query again.", example=QUERY_EXAMPLE
    )


def _error_reply(exc: DigestbotError) -> ErrorReply:
    """Name the problem and show an example that would have worked."""
    example = getattr(exc, "example", None)
    if example is None:
        if isinstance(exc, QueryError):
            example = QUERY_EXAMPLE
        elif isinstance(exc, ArchiveError):
            example = None
        else:
            example = "/ai help"
    message = str(exc)
    if isinstance(exc, ArchiveError):
        log.error("archive error while answering a command: %s", exc)
        message = "The archive is not reachable right now; please try again shortly."
    return ErrorReply(message=message, example=example)


def _outcome(exc: DigestbotError) -> str:
    if isinstance(exc, PermissionDenied):
        return "denied"
    if isinstance(exc, QueryError | CommandError):
        return "user_error"
    return "error"
