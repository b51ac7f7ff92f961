"""The archive's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

digests ─< items ─< item_tags, item_words; subscriptions (channels added or changed at runtime);
deliveries ─< delivery_messages, delivery_items (the exactly-once ledger); source_files
(what ingest last saw of each file); seen_requests and button_queries (chat state that
replicas share). Beyond the tables, each database
gets its own text index (``install_text_search``) and SQLite a few covering indexes that
its search plans name (bot/archive/search.py).
"""

from __future__ import annotations

import logging

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

metadata = MetaData()

digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("date", Date, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("item_count", Integer, nullable=False, default=0),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest_id", Integer, ForeignKey("digests.id", ondelete="CASCADE"), nullable=False),
    Column("date", Date, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("orgs", JSON, nullable=False),
    Column("orgs_text", Text, nullable=False, default=""),
    Column("source", Text),
    Column("published_at", DateTime(timezone=False)),
    Column("stars", Integer),
    Column("url", Text),
    Column("summary", Text),
    Column("sections", JSON, nullable=False),
    Column("resources", JSON, nullable=False),
    Column("search_text", Text, nullable=False, default=""),
    # Matching forms (bot/query.py: name_key) and the source line, for exact round trips.
    Column("source_norm", Text, nullable=False, default=""),
    Column("line", Integer),
    # Added with the wider digest layouts: plain nullable columns (a migration adds them).
    Column("category", Text),
    Column("category_norm", Text),
    Column("score", Float),
    Column("score_scale", Float),
    Column("pipeline_failed", Boolean),
    UniqueConstraint("digest_id", "rank", name="uq_items_digest_rank"),
)
Index("ix_items_order", items.c.date, items.c.stars, items.c.rank)
Index("ix_items_source", items.c.source)
Index("ix_items_source_norm", items.c.source_norm)
# SQLite search plans name these covering indexes (bot/archive/search.py): result order with
# the cheap match columns, and the same keyed by id to sort a few matches without the rows.
_MATCH_COLUMNS = (items.c.date, items.c.stars, items.c.rank, items.c.source_norm, items.c.orgs_text)
Index("ix_items_newest", *_MATCH_COLUMNS).ddl_if(dialect="sqlite")
Index("ix_items_by_id", items.c.id, *_MATCH_COLUMNS).ddl_if(dialect="sqlite")
# PostgreSQL: the exact result order, so a common term's first page is an ordered index scan.
Index(
    "ix_items_result_order",
    items.c.date.desc(),
    func.coalesce(items.c.stars, 0).desc(),
    items.c.rank,
).ddl_if(dialect="postgresql")

item_tags = Table(
    "item_tags",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("tag", Text, nullable=False),
    Column("canonical", Text, nullable=False),
    # normalize(tag): searches match it against the alias group's variants, so changing
    # tags.aliases in config takes effect without re-ingesting.
    Column("normalized", Text, nullable=False),
)
Index("ix_item_tags_canonical", item_tags.c.canonical)
Index("ix_item_tags_normalized", item_tags.c.normalized, item_tags.c.item_id)
Index("ix_item_tags_item", item_tags.c.item_id, item_tags.c.normalized)

#: Words longer than this are not indexed (a btree entry has a size limit); a longer term
#: is matched on the text instead.
WORD_MAX_CHARS = 64

# Each item's distinct words (bot.query.words of its search_text), written with the item:
# a one-word term (``RL``, ``agent``) is answered exactly from the index on word, without
# reading any item's text. SQLite: no rowid, the key is the row. No foreign key: its check
# per row made PostgreSQL's store a third slower; bot.archive.bulk removes an item's words
# with the item, the only place items are deleted.
item_words = Table(
    "item_words",
    metadata,
    Column("item_id", Integer, primary_key=True),
    Column("word", String(WORD_MAX_CHARS), primary_key=True),
    sqlite_with_rowid=False,
)
Index("ix_item_words_word", item_words.c.word, item_words.c.item_id)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("channel_id", String(128), nullable=False),
    Column("thread_id", Integer),
    Column("schedule", String(128)),
    Column("timezone", String(64)),
    Column("topics", JSON, nullable=False),
    # daily | weekly | both, and the weekly rollup's cron; NULL: the config's (or default).
    Column("digest", String(8)),
    Column("weekly_schedule", String(128)),
    Column("active", Boolean, nullable=False, default=True),
    Column("inactive_reason", Text),
    Column("created_by", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform", "channel_id", name="uq_subscriptions_channel"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("channel_id", String(128), nullable=False),
    Column("digest_date", Date, nullable=False),
    # daily: one day's digest (digest_date = that day); weekly: the rollup of an ISO week
    # (digest_date = its Monday). Added after the first release: the default keeps old
    # rows daily.
    Column("kind", String(8), nullable=False, default="daily", server_default="daily"),
    Column("status", String(16), nullable=False),
    Column("owner", String(128)),
    Column("lease_until", DateTime(timezone=True)),
    Column("message_count", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("snapshot", JSON),
    # The payloads as first rendered ({"fingerprint", "payloads"}): a resumed delivery
    # finishes what it started even if the digest file was edited in between.
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform", "channel_id", "digest_date", "kind", name="uq_deliveries_claim"),
)

delivery_messages = Table(
    "delivery_messages",
    metadata,
    Column(
        "delivery_id", Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("idx", Integer, primary_key=True),
    Column("message_id", String(64), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
)

#: Chat requests already handled (Slack request bodies, Telegram update ids), kept until
#: ``expires_at`` so that a replayed or re-sent request changes nothing, on any replica.
seen_requests = Table(
    "seen_requests",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

#: Queries too long for a Telegram button (64 bytes): the button carries a short key.
button_queries = Table(
    "button_queries",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("query", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


# Which items a delivery carried (by plan.item_key): items that appear later in the same
# day's file are posted as an addendum, and nothing is posted twice.
delivery_items = Table(
    "delivery_items",
    metadata,
    Column(
        "delivery_id", Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("item_key", String(64), primary_key=True),
)

# What ingest last saw of each source file (size, mtime, hash): unchanged files are skipped
# without being read or parsed again.
source_files = Table(
    "source_files",
    metadata,
    Column("path", Text, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("mtime_ns", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("digest_date", Date),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)

# -- text search indexes (bot/archive/search.py) ------------------------------------------------

FTS_TABLE = "items_fts"
VOCAB_TABLE = "items_fts_vocab"

_SQLITE_DDL = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        search_text, content='items', content_rowid='id',
        tokenize='trigram case_sensitive 1')""",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {VOCAB_TABLE} USING fts5vocab({FTS_TABLE}, 'row')",
    f"""CREATE TRIGGER IF NOT EXISTS items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS items_fts_delete AFTER DELETE ON items BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS items_fts_update AFTER UPDATE OF search_text ON items BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
]

_PG_TRGM_INDEXES = {"ix_items_search_trgm": "search_text", "ix_items_orgs_trgm": "orgs_text"}


# -- schema ---------------------------------------------------------------------------------


def is_managed(type_: str, name: str | None) -> bool:
    """Whether revisions own this object; the text-search objects are installed (and
    re-installed after every upgrade) by ``install_text_search`` instead."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(FTS_TABLE):
        return False
    return not (type_ == "index" and name in _PG_TRGM_INDEXES)


def install_text_search(conn: Connection) -> None:
    """Create the dialect's text index (idempotent); called by ``Archive.create_schema``.

    SQLite: an external-content FTS5 table (``tokenize='trigram'``) over the folded
    ``items.search_text``, kept in sync by triggers, and its vocabulary (for 2-character
    terms). PostgreSQL: ``pg_trgm`` GIN indexes.
    """
    if conn.dialect.name == "sqlite":
        existed = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (FTS_TABLE,)
        ).first()
        for statement in _SQLITE_DDL:
            conn.exec_driver_sql(statement)
        if not existed:
            # An archive made before the index existed: index the rows it already has.
            conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    elif conn.dialect.name == "postgresql":
        _install_pg_trgm(conn)


def _install_pg_trgm(conn: Connection) -> None:
    """pg_trgm + GIN indexes; without them search still works, only slower.

    The extension may already live in any schema (``public`` usually): the operator class
    is qualified with that schema so the indexes do not depend on ``search_path``.
    """
    find = text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'"
    )
    try:
        with conn.begin_nested():
            schema = conn.execute(find).scalar()
            if schema is None:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
                schema = conn.execute(find).scalar_one()
            for name, column_name in _PG_TRGM_INDEXES.items():
                conn.execute(
                    text(
                        f"CREATE INDEX IF NOT EXISTS {name} ON items"
                        f' USING gin ({column_name} "{schema}".gin_trgm_ops)'
                    )
                )
    except SQLAlchemyError as exc:
        log.warning(
            "pg_trgm is unavailable (%s); free-text search will scan without an index",
            getattr(exc, "orig", exc),
        )
