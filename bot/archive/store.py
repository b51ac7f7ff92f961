"""The ``Archive`` facade: store digests, read them back, search them.

One object per process owns the engine; the subscription store and the delivery ledger
hang off it so every layer shares one connection pool. SQLAlchemy errors become
``ArchiveError`` here, at the edge, with the (password-free) URL in the message. How a
batch of days is written lives in ``bot.archive.bulk``; how a query is answered in
``bot.archive.search``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, event, func, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from bot.archive import browse, bulk, migrate, search
from bot.archive.bulk import StoreEntry, StoreOutcome
from bot.archive.chat_state import ButtonQueries, SeenRequests
from bot.archive.engine import make_engine, resolve_url, safe_url
from bot.archive.ledger import Ledger
from bot.archive.migrate import SchemaState
from bot.archive.plan_limits import PlanLimits
from bot.archive.schema import digests, item_tags, item_words, items
from bot.archive.source_files import SourceFiles
from bot.archive.subscriptions import SubscriptionStore
from bot.errors import ArchiveError
from bot.models import Digest, Hit, Item, Resource, Section
from bot.query import Query, TagAliases

if TYPE_CHECKING:
    from bot.config import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)

#: SQLite page cache per connection, in KiB (allocated only as pages are read).
SQLITE_CACHE_KIB = 65536

#: Attempts for a store that races another process (unique date) or a locked SQLite file.
_ATTEMPTS = 5
#: From this many new items in one ``store_many``, SQLite's text index is filled by one
#: statement instead of its per-row insert trigger (bot.archive.bulk).
BULK_FTS_MIN_ITEMS = 200


class Archive:
    """Digests, items and tags in SQLite or PostgreSQL, plus subscriptions and the ledger."""

    def __init__(
        self,
        url: str,
        aliases: TagAliases | None = None,
        *,
        plan_limits: PlanLimits | None = None,
        bulk_fts_min_items: int = BULK_FTS_MIN_ITEMS,
    ) -> None:
        self.url = url
        self.plan_limits = plan_limits or PlanLimits()
        self.bulk_fts_min_items = bulk_fts_min_items
        self.engine = make_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_cache)
        self.aliases = aliases if aliases is not None else TagAliases.builtin()
        self.subscriptions = SubscriptionStore(self.engine)
        self.source_files = SourceFiles(self.engine)
        self.seen_requests = SeenRequests(self.engine)
        self.button_queries = ButtonQueries(self.engine)
        self._ledger: Ledger | None = None
        self._hit_columns = _HIT_COLUMNS
        #: False for an archive read as it is at a revision before the word index.
        self._words = True
        self._seen_file: bool | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Archive:
        """The configured archive; a relative SQLite path is relative to the config file."""
        return cls(
            resolve_url(settings.archive.url, settings.base_dir()),
            TagAliases.builtin(settings.tags.aliases),
        )

    @property
    def ledger(self) -> Ledger:
        """The delivery ledger, made on first use (a plain query never needs it)."""
        if self._ledger is None:
            self._ledger = Ledger(self.engine)
        return self._ledger

    @property
    def word_index(self) -> bool:
        """Whether one-word terms can use ``item_words`` (not in an archive read as it is
        at an older revision)."""
        return self._words

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @property
    def where(self) -> str:
        """The URL without its password, for messages."""
        return safe_url(self.url)

    def missing_file(self) -> str | None:
        """Why a SQLite archive's file is gone (deleted or moved under us), or None.

        An open SQLite connection keeps writing to a deleted file, so nothing else notices;
        a restart would then start from an empty ledger and post whole digests again."""
        if self.engine.dialect.name != "sqlite":
            return None
        database = self.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        if self._seen_file is None:
            self._seen_file = os.path.exists(database)
        if self._seen_file and not os.path.exists(database):
            return f"archive file {database} has vanished; restore it before restarting"
        return None

    def __repr__(self) -> str:
        return f"Archive({self.where!r})"

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ArchiveError(f"archive {safe_url(self.url)}: cannot {action}: {detail}") from exc

    # -- schema -----------------------------------------------------------------------

    def create_schema(self, *, progress: bool = False) -> tuple[SchemaState, SchemaState]:
        """Create the tables, or upgrade them in place to this release's schema (Alembic),
        and install the text indexes; safe on every start. Returns (before, after).
        ``progress``: draw long upgrade work (indexing words) as a progress bar on stderr."""
        for attempt in (1, 2):
            try:
                with migrate.progress_bar() if progress else contextlib.nullcontext() as report:
                    before, after = migrate.upgrade(self.engine, report)
                if before.has_tables and before.current != after.current:
                    log.info(
                        "archive schema upgraded from %s to %s",
                        before.current or "0.1.0 (unversioned)",
                        after.current,
                    )
                self.missing_file()  # from now on, the file must stay
                return before, after
            except SQLAlchemyError:
                # Two processes creating the same table at once: the second one retries.
                if attempt == 2:
                    with self._guard("create the schema"):
                        raise
        raise AssertionError("unreachable")

    def schema_state(self) -> SchemaState:
        """The archive's schema revision and the code's head; reads only."""
        with self._guard("read the schema version"), self.engine.connect() as conn:
            return migrate.state(conn)

    def open_for_reading(self) -> None:
        """Make sure reads will work: upgrade only when needed, so a read-only archive
        at the current revision is never written to."""
        current = self.schema_state()
        if current.up_to_date:
            return
        try:
            self.create_schema()
        except ArchiveError as exc:
            if not current.has_tables:
                raise
            # Read-only (a 444 file, a replica's read-only role): answer from it as it is,
            # reading only the item columns its revision has.
            log.warning("archive schema %s not upgraded (%s)", current.describe(), exc)
            with self._guard("read the item columns"), self.engine.connect() as conn:
                present = {column["name"] for column in inspect(conn).get_columns("items")}
                self._words = inspect(conn).has_table(item_words.name)
            self._hit_columns = [c for c in _HIT_COLUMNS if c.name in present]

    # -- writing ----------------------------------------------------------------------

    def store(self, digest: Digest, *, path: str, sha256: str) -> StoreOutcome:
        """Store one day's digest: idempotent by date, replaced when the file changed."""
        return self.store_many([(digest, path, sha256)])[0]

    def store_many(self, entries: Sequence[StoreEntry]) -> list[StoreOutcome]:
        """Store many days in one transaction (bulk ingest), with the outcomes of
        ``store`` in order. All or nothing: on ``ArchiveError`` nothing of the batch was
        stored, and the caller can store the files one by one to find the bad one."""
        if not entries:
            return []
        bulk.check(entries)
        more = f" and {len(entries) - 1} more files" if len(entries) > 1 else ""
        return self._write(
            f"store {entries[0][1]}{more}",
            lambda conn: bulk.store_many(
                conn, entries, self.aliases, fts_min_items=self.bulk_fts_min_items
            ),
        )

    def _write(self, action: str, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction, retrying when another process stored the same day
        first (unique date) or held the SQLite write lock: the retry sees its rows."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except (IntegrityError, OperationalError) as exc:
                retry = isinstance(exc, IntegrityError) or "locked" in str(exc.orig)
                if not retry or attempt == _ATTEMPTS:
                    with self._guard(action):
                        raise
                time.sleep(0.05 * attempt)
            except SQLAlchemyError:
                with self._guard(action):
                    raise
        raise AssertionError("unreachable")

    # -- reading ----------------------------------------------------------------------

    def digest(self, date: dt.date) -> Digest | None:
        """The stored digest of a day, items in rank order, exactly as it was parsed."""
        with self._guard(f"read the digest of {date}"), self.engine.connect() as conn:
            head = conn.execute(
                select(digests.c.id, digests.c.title).where(digests.c.date == date)
            ).first()
            if head is None:
                return None
            rows = conn.execute(
                select(*self._hit_columns)
                .where(items.c.digest_id == head.id)
                .order_by(items.c.rank)
            ).all()
            tags = _tags_of(conn, [row.id for row in rows])
        return Digest(
            date=date,
            title=head.title,
            items=[Item(**_fields(row, tags.get(row.id, []))) for row in rows],
        )

    def latest_date(self) -> dt.date | None:
        with self._guard("read the latest date"), self.engine.connect() as conn:
            return conn.execute(select(func.max(digests.c.date))).scalar()

    def dates(self) -> list[dt.date]:
        """Every stored day, oldest first."""
        with self._guard("list the dates"), self.engine.connect() as conn:
            return list(conn.execute(select(digests.c.date).order_by(digests.c.date)).scalars())

    def search(self, query: Query, *, limit: int = 20, offset: int = 0) -> list[Hit]:
        """Items matching ``query``: newest day first, then most stars, then rank."""
        with self._guard(f"search for {str(query)!r}"), self.engine.connect() as conn:
            ids = search.find_ids(
                conn,
                query,
                self.aliases,
                limit=limit,
                offset=offset,
                limits=self.plan_limits,
                words=self._words,
            )
            if not ids:
                return []
            stmt = select(*self._hit_columns).where(items.c.id.in_(ids))
            rows = {row.id: row for row in conn.execute(stmt)}
            tags = _tags_of(conn, ids)
        return [Hit(date=rows[i].date, **_fields(rows[i], tags.get(i, []))) for i in ids]

    def count(self, query: Query, *, cap: int | None = None) -> int:
        """How many items match ``query`` (for "showing 1-20 of N"). With ``cap``, counting
        stops there: the result is exact below ``cap`` and means "at least ``cap``" at it,
        so a common term costs a bounded read, not one visit per match."""
        with self._guard(f"count {str(query)!r}"), self.engine.connect() as conn:
            return search.count(
                conn, query, self.aliases, cap=cap, limits=self.plan_limits, words=self._words
            )

    def stamp(self) -> browse.Stamp:
        """Changes whenever a day is stored or replaced (for caches, ETags, Last-Modified)."""
        with self._guard("read the archive's stamp"), self.engine.connect() as conn:
            return browse.stamp(conn)

    def neighbours(self, date: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The stored days just before and after ``date``, for "previous"/"next" links."""
        with self._guard(f"read the days around {date}"), self.engine.connect() as conn:
            return browse.neighbours(conn, date)

    def tag_counts(self) -> list[browse.TagCount]:
        """Every tag with its item count, aliases folded, most used first."""
        with self._guard("count the tags"), self.engine.connect() as conn:
            return browse.tag_counts(conn, self.aliases)

    def item(self, date: dt.date, rank: int) -> Hit | None:
        """One archived item, for "details" buttons."""
        stmt = select(*self._hit_columns).where(items.c.date == date, items.c.rank == rank)
        with self._guard(f"read item {date} #{rank}"), self.engine.connect() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return None
            tags = _tags_of(conn, [row.id])
        return Hit(date=row.date, **_fields(row, tags.get(row.id, [])))


# -- rows -> models --------------------------------------------------------------------------


#: What a Hit needs: not the (large) matching forms.
_HIT_COLUMNS = [
    items.c[name]
    for name in (
        "id", "date", "rank", "title", "orgs", "source", "published_at", "stars", "url",
        "summary", "sections", "resources", "line", "category", "score", "score_scale",
        "pipeline_failed",
    )
]  # fmt: skip


def _tags_of(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    if not ids:
        return tags
    stmt = (
        select(item_tags.c.item_id, item_tags.c.tag)
        .where(item_tags.c.item_id.in_(ids))
        .order_by(item_tags.c.item_id, item_tags.c.position)
    )
    for item_id, tag in conn.execute(stmt):
        tags.setdefault(item_id, []).append(tag)
    return tags


def _fields(row: Any, tags: list[str]) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "title": row.title,
        "orgs": list(row.orgs or []),
        "source": row.source,
        "published_at": row.published_at,
        "stars": row.stars,
        "tags": tags,
        "url": row.url,
        "summary": row.summary,
        "sections": [Section(**section) for section in row.sections or []],
        "resources": [Resource(**resource) for resource in row.resources or []],
        "line": row.line,
        # Columns of later revisions: absent when reading an old archive as it is.
        "category": getattr(row, "category", None),
        "score": getattr(row, "score", None),
        "score_scale": getattr(row, "score_scale", None),
        "pipeline_failed": bool(getattr(row, "pipeline_failed", False)),
    }


def _sqlite_cache(dbapi_conn: Any, _record: Any) -> None:
    """A 64 MB page cache (default 2 MB): searches re-read the newest items' wide rows."""
    dbapi_conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
