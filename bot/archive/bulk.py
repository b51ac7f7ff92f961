"""Writing many days into the archive in one transaction (bulk ingest).

``Archive.store`` is a batch of one, so every write goes through here. It is its own module
because the fast path is subtle: rows go in with plain executemany, and for a big batch
SQLite's per-row text-index trigger is dropped, the index filled by one statement, and the
trigger recreated before the transaction commits. ``Archive`` (bot/archive/store.py) keeps
the connection, the retries and the error conversion.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from bot.archive.schema import FTS_TABLE, digests, item_tags, item_words, items
from bot.archive.words import insert_words
from bot.errors import ArchiveError
from bot.models import Digest, Item
from bot.query import TagAliases, item_search_text, name_key, normalize, orgs_text

StoreOutcome = Literal["created", "updated", "unchanged"]
#: One file for ``Archive.store_many``: (digest, path, sha256).
StoreEntry = tuple[Digest, str, str]

#: The SQLite trigger that indexes each inserted item (bot/archive/schema.py).
_FTS_INSERT_TRIGGER = "items_fts_insert"


def check(entries: Sequence[StoreEntry]) -> None:
    """Refuse a batch that cannot be stored (a rank twice in a day, a date twice) before
    any write, naming the file."""
    seen: dict[dt.date, str] = {}
    for digest, path, _ in entries:
        ranks = [item.rank for item in digest.items]
        duplicate = next((r for r in ranks if ranks.count(r) > 1), None)
        if duplicate is not None:
            raise ArchiveError(f"{path}: digest {digest.date} has item {duplicate} twice")
        if digest.date in seen:
            raise ArchiveError(f"{path}: same date {digest.date} as {seen[digest.date]}")
        seen[digest.date] = path


def store_many(
    conn: Connection,
    entries: Sequence[StoreEntry],
    aliases: TagAliases,
    *,
    fts_min_items: int,
) -> list[StoreOutcome]:
    """Store checked ``entries`` in the open transaction: a day whose file is unchanged is
    left alone, a changed one replaced, a new one created; the outcomes in order. From
    ``fts_min_items`` new items, SQLite's text index is filled by one statement."""
    now = dt.datetime.now(dt.UTC)
    found = {
        row.date: row
        for row in conn.execute(
            select(digests.c.id, digests.c.date, digests.c.sha256)
            .where(digests.c.date.in_([digest.date for digest, _, _ in entries]))
            .with_for_update()
        )
    }
    outcomes: list[StoreOutcome] = []
    changed: list[Digest] = []
    moved: list[tuple[str, dt.date]] = []
    updates: list[dict[str, Any]] = []
    creates: list[dict[str, Any]] = []
    for digest, path, sha256 in entries:
        old = found.get(digest.date)
        values = _digest_values(digest, path, sha256, now)
        if old is not None and old.sha256 == sha256:
            outcomes.append("unchanged")
            continue
        changed.append(digest)
        moved.append((path, digest.date))
        if old is None:
            outcomes.append("created")
            creates.append({"date": digest.date, "ingested_at": now, **values})
        else:
            outcomes.append("updated")
            updates.append({"old_id": old.id, **{f"new_{k}": v for k, v in values.items()}})
    if updates:
        stmt = update(digests).where(digests.c.id == bindparam("old_id"))
        columns = {k.removeprefix("new_"): bindparam(k) for k in updates[0] if k != "old_id"}
        conn.execute(stmt.values(columns), updates)
        _delete_items(conn, [row["old_id"] for row in updates])
    if creates:
        conn.execute(insert(digests), creates)
    if changed:
        ids = dict(
            conn.execute(
                select(digests.c.date, digests.c.id).where(
                    digests.c.date.in_([digest.date for digest in changed])
                )
            ).all()
        )
        days = [(ids[digest.date], digest) for digest in changed]
        _insert_many(conn, days, aliases, fts_min_items=fts_min_items)
        _drop_moved_days(conn, moved)
    return outcomes


def _drop_moved_days(conn: Connection, stored: list[tuple[str, dt.date]]) -> None:
    """A path holds one day: when a file's header date was edited, the day it used to
    hold is removed, so a stale copy can never be delivered."""
    stale: list[int] = []
    for path, date in stored:
        stale.extend(
            conn.execute(
                select(digests.c.id).where(digests.c.path == path, digests.c.date != date)
            ).scalars()
        )
    if stale:
        _delete_items(conn, stale)
        conn.execute(delete(digests).where(digests.c.id.in_(stale)))


def _insert_many(
    conn: Connection,
    days: list[tuple[int, Digest]],
    aliases: TagAliases,
    *,
    fts_min_items: int,
) -> None:
    """Insert the items, tags and words of many days with plain executemany; ids come back
    by (digest, rank). SQLite's text index is filled in one statement when that beats
    the per-row trigger; the trigger is back before the transaction commits."""
    rows = [item_row(item, digest_id, d.date) for digest_id, d in days for item in d.items]
    if not rows:
        return
    digest_ids = [digest_id for digest_id, _ in days]
    trigger = _suspend_fts_trigger(conn) if len(rows) >= fts_min_items else None
    conn.execute(insert(items), rows)
    if trigger is not None:
        conn.exec_driver_sql(
            f"INSERT INTO {FTS_TABLE}(rowid, search_text) SELECT id, search_text FROM items"
            " WHERE digest_id IN (SELECT value FROM json_each(?))",
            (json.dumps(digest_ids),),
        )
        conn.exec_driver_sql(trigger)
    id_of = {
        (row.digest_id, row.rank): row.id
        for row in conn.execute(
            select(items.c.id, items.c.digest_id, items.c.rank).where(
                items.c.digest_id.in_(digest_ids)
            )
        )
    }
    tag_rows = [
        tag_row(id_of[(digest_id, item.rank)], position, tag, aliases)
        for digest_id, d in days
        for item in d.items
        for position, tag in enumerate(item.tags)
    ]
    if tag_rows:
        conn.execute(insert(item_tags), tag_rows)
    insert_words(
        conn, ((id_of[(row["digest_id"], row["rank"])], row["search_text"]) for row in rows)
    )


def _suspend_fts_trigger(conn: Connection) -> str | None:
    """Drop SQLite's per-row text-index trigger inside the open transaction and return
    the SQL that recreates it (None: not SQLite, no trigger, or no transaction yet)."""
    if conn.dialect.name != "sqlite" or not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        return None
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
        (_FTS_INSERT_TRIGGER,),
    ).scalar()
    if sql is None:
        return None
    conn.exec_driver_sql(f"DROP TRIGGER {_FTS_INSERT_TRIGGER}")
    return str(sql)


# -- models -> rows ---------------------------------------------------------------------------


def _digest_values(digest: Digest, path: str, sha256: str, now: dt.datetime) -> dict[str, Any]:
    """The ``digests`` columns a (re)store writes."""
    return {
        "title": digest.title,
        "path": path,
        "sha256": sha256,
        "item_count": len(digest.items),
        "updated_at": now,
    }


def _delete_items(conn: Connection, digest_ids: list[int]) -> None:
    """Remove the items (and their tags and words) of days about to be replaced."""
    old = select(items.c.id).where(items.c.digest_id.in_(digest_ids))
    conn.execute(delete(item_tags).where(item_tags.c.item_id.in_(old)))
    conn.execute(delete(item_words).where(item_words.c.item_id.in_(old)))
    conn.execute(delete(items).where(items.c.digest_id.in_(digest_ids)))


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
        "category": item.category,
        "category_norm": name_key(item.category) if item.category else None,
        "score": item.score,
        "score_scale": item.score_scale,
        "pipeline_failed": item.pipeline_failed,
    }


def tag_row(item_id: int, position: int, tag: str, aliases: TagAliases) -> dict[str, Any]:
    """The ``item_tags`` row of one tag: as written, its alias key and its folded form."""
    return {
        "item_id": item_id,
        "position": position,
        "tag": tag,
        "canonical": aliases.canonical(tag),
        "normalized": normalize(tag),
    }
