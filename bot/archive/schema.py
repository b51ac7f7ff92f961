"""The archive's tables (SQLAlchemy Core), identical on SQLite and PostgreSQL.

digests ─< items ─< item_tags; subscriptions (channels added or changed at runtime);
deliveries ─< delivery_messages (the exactly-once ledger).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

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
    UniqueConstraint("digest_id", "rank", name="uq_items_digest_rank"),
)
Index("ix_items_order", items.c.date, items.c.stars, items.c.rank)
Index("ix_items_source", items.c.source)

item_tags = Table(
    "item_tags",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("tag", Text, nullable=False),
    Column("canonical", Text, nullable=False),
)
Index("ix_item_tags_canonical", item_tags.c.canonical)

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
    Column("status", String(16), nullable=False),
    Column("owner", String(128)),
    Column("lease_until", DateTime(timezone=True)),
    Column("message_count", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform", "channel_id", "digest_date", name="uq_deliveries_claim"),
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
