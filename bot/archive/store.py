"""The ``Archive`` facade: store digests, read them back, search them.

One object per process owns the engine; the subscription store and the delivery ledger
hang off it so every layer shares one connection pool. SQLAlchemy errors become
``ArchiveError`` here, at the edge, with the (password-free) URL in the message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError

from bot.archive import search
from bot.archive.engine import make_engine
from bot.archive.schema import digests, install_text_search, item_tags, items, metadata
from bot.archive.subscriptions import SubscriptionStore
from bot.digest import Digest, Hit, Item, Resource, Section
from bot.errors import ArchiveError
from bot.query import Query, item_search_text, name_key, orgs_text
from bot.tags import TagAliases, normalize

if TYPE_CHECKING:
    from bot.archive.ledger import Ledger
    from bot.config import Settings

StoreOutcome = Literal["created", "updated", "unchanged"]

#: SQLite page cache per connection, in KiB (allocated only as pages are read).
SQLITE_CACHE_KIB = 65536

#: Attempts for a store that races another process (unique date) or a locked SQLite file.
_ATTEMPTS = 5


class Archive:
    """Digests, items and tags in SQLite or PostgreSQL, plus subscriptions and the ledger."""

    def __init__(self, url: str, aliases: TagAliases | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_cache)
        self.aliases = aliases if aliases is not None else TagAliases.builtin()
        self.subscriptions = SubscriptionStore(self.engine)
        self._ledger: Ledger | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Archive:
        """The configured archive; a relative SQLite path is relative to the config file."""
        return cls(
            resolve_url(settings.archive.url, settings.base_dir()),
            TagAliases.builtin(settings.tags.aliases),
        )

    @property
    def ledger(self) -> Ledger:
        """The delivery ledger (imported lazily: it is a separate concern)."""
        if self._ledger is None:
            from bot.archive.ledger import Ledger

            self._ledger = Ledger(self.engine)
        return self._ledger

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Archive({_safe_url(self.url)!r})"

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ArchiveError(f"archive {_safe_url(self.url)}: cannot {action}: {detail}") from exc

    # -- schema -----------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create missing tables and text indexes; safe to call on every start."""
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    metadata.create_all(conn)
                    install_text_search(conn)
                return
            except SQLAlchemyError:
                # Two processes creating the same table at once: the second one retries.
                if attempt == 2:
                    with self._guard("create the schema"):
                        raise

    # -- writing ----------------------------------------------------------------------

    def store(self, digest: Digest, *, path: str, sha256: str) -> StoreOutcome:
        """Store one day's digest: idempotent by date, replaced when the file changed."""
        ranks = [item.rank for item in digest.items]
        duplicate = next((r for r in ranks if ranks.count(r) > 1), None)
        if duplicate is not None:
            raise ArchiveError(f"{path}: digest {digest.date} has item {duplicate} twice")
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return self._store(conn, digest, path, sha256)
            except (IntegrityError, OperationalError) as exc:
                # Another process stored the same day first (unique date), or held the
                # SQLite write lock: try again, now as an update.
                retry = isinstance(exc, IntegrityError) or "locked" in str(exc.orig)
                if not retry or attempt == _ATTEMPTS:
                    with self._guard(f"store {path}"):
                        raise
                time.sleep(0.05 * attempt)
            except SQLAlchemyError:
                with self._guard(f"store {path}"):
                    raise
        raise AssertionError("unreachable")

    def _store(self, conn: Connection, digest: Digest, path: str, sha256: str) -> StoreOutcome:
        now = dt.datetime.now(dt.UTC)
        found = conn.execute(
            select(digests.c.id, digests.c.sha256)
            .where(digests.c.date == digest.date)
            .with_for_update()
        ).first()
        values = {
            "title": digest.title,
            "path": path,
            "sha256": sha256,
            "item_count": len(digest.items),
            "updated_at": now,
        }
        if found is not None and found.sha256 == sha256:
            return "unchanged"
        if found is not None:
            digest_id = found.id
            conn.execute(update(digests).where(digests.c.id == digest_id).values(**values))
            old = select(items.c.id).where(items.c.digest_id == digest_id)
            conn.execute(delete(item_tags).where(item_tags.c.item_id.in_(old)))
            conn.execute(delete(items).where(items.c.digest_id == digest_id))
        else:
            digest_id = conn.execute(
                insert(digests)
                .values(date=digest.date, ingested_at=now, **values)
                .returning(digests.c.id)
            ).scalar_one()
        self._insert_items(conn, digest_id, digest.date, digest.items)
        return "created" if found is None else "updated"

    def _insert_items(
        self, conn: Connection, digest_id: int, date: dt.date, new: Sequence[Item]
    ) -> None:
        if not new:
            return
        rows = [item_row(item, digest_id, date) for item in new]
        ids = conn.execute(
            insert(items).returning(items.c.id, sort_by_parameter_order=True), rows
        ).scalars()
        tag_rows = [
            tag_row(item_id, position, tag, self.aliases)
            for item_id, item in zip(ids, new, strict=True)
            for position, tag in enumerate(item.tags)
        ]
        if tag_rows:
            conn.execute(insert(item_tags), tag_rows)

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
                select(*_HIT_COLUMNS).where(items.c.digest_id == head.id).order_by(items.c.rank)
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
            ids = search.find_ids(conn, query, self.aliases, limit=limit, offset=offset)
            if not ids:
                return []
            stmt = select(*_HIT_COLUMNS).where(items.c.id.in_(ids))
            rows = {row.id: row for row in conn.execute(stmt)}
            tags = _tags_of(conn, ids)
        return [Hit(date=rows[i].date, **_fields(rows[i], tags.get(i, []))) for i in ids]

    def count(self, query: Query) -> int:
        """How many items match ``query`` (for "showing 1-20 of N")."""
        with self._guard(f"count {str(query)!r}"), self.engine.connect() as conn:
            return search.count(conn, query, self.aliases)

    def item(self, date: dt.date, rank: int) -> Hit | None:
        """One archived item, for "details" buttons."""
        stmt = select(*_HIT_COLUMNS).where(items.c.date == date, items.c.rank == rank)
        with self._guard(f"read item {date} #{rank}"), self.engine.connect() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return None
            tags = _tags_of(conn, [row.id])
        return Hit(date=row.date, **_fields(row, tags.get(row.id, [])))


# -- rows <-> models --------------------------------------------------------------------------


def item_row(item: Item, digest_id: int, date: dt.date) -> dict[str, Any]:
    """The ``items`` row of one item, with the folded forms search matches against."""
    return {
        "digest_id": digest_id,
        "date": date,
        "rank": item.rank,
        "title": item.title,
        "orgs": list(item.orgs),
        "orgs_text": orgs_text(item.orgs),
        "source": item.source,
        "source_norm": name_key(item.source or ""),
        "published_at": item.published_at,
        "stars": item.stars,
        "url": item.url,
        "summary": item.summary,
        "sections": [section.model_dump() for section in item.sections],
        "resources": [resource.model_dump() for resource in item.resources],
        "search_text": item_search_text(item),
        "line": item.line,
    }


def tag_row(item_id: int, position: int, tag: str, aliases: TagAliases) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "position": position,
        "tag": tag,
        "canonical": aliases.canonical(tag),
        "normalized": normalize(tag),
    }


#: What a Hit needs: not the (large) matching forms.
_HIT_COLUMNS = [
    items.c[name]
    for name in (
        "id", "date", "rank", "title", "orgs", "source", "published_at", "stars", "url",
        "summary", "sections", "resources", "line",
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
    }


def _sqlite_cache(dbapi_conn: Any, _record: Any) -> None:
    """A 64 MB page cache (default 2 MB): searches re-read the newest items' wide rows."""
    dbapi_conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


# -- URLs -------------------------------------------------------------------------------------


def resolve_url(url: str, base_dir: Any) -> str:
    """Make a relative SQLite file path absolute against ``base_dir`` (the config's folder)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ArchiveError(f"archive.url: cannot use {url!r}: {exc}") from exc
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:"):
        return url
    from pathlib import Path

    path = Path(database).expanduser()
    if path.is_absolute():
        return url
    return parsed.set(database=str(Path(base_dir) / path)).render_as_string(hide_password=False)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"
