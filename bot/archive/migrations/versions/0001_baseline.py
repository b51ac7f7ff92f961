"""Baseline: the archive as release 0.1.0 created it.

An archive made by 0.1.0 has these tables but no ``alembic_version``: ``bot.archive.migrate``
stamps it with this revision and upgrades from here. The text-search objects (FTS5 table,
triggers, pg_trgm indexes) are not part of revisions: ``install_text_search`` installs them
after every upgrade.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("date", sa.Date, nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "digest_id",
            sa.Integer,
            sa.ForeignKey("digests.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("orgs", sa.JSON, nullable=False),
        sa.Column("orgs_text", sa.Text, nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("published_at", sa.DateTime(timezone=False)),
        sa.Column("stars", sa.Integer),
        sa.Column("url", sa.Text),
        sa.Column("summary", sa.Text),
        sa.Column("sections", sa.JSON, nullable=False),
        sa.Column("resources", sa.JSON, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("source_norm", sa.Text, nullable=False),
        sa.Column("line", sa.Integer),
        sa.UniqueConstraint("digest_id", "rank", name="uq_items_digest_rank"),
    )
    op.create_index("ix_items_order", "items", ["date", "stars", "rank"])
    op.create_index("ix_items_source", "items", ["source"])
    op.create_index("ix_items_source_norm", "items", ["source_norm"])
    match = ["date", "stars", "rank", "source_norm", "orgs_text"]
    if dialect == "sqlite":
        op.create_index("ix_items_newest", "items", match)
        op.create_index("ix_items_by_id", "items", ["id", *match])
    if dialect == "postgresql":
        op.create_index(
            "ix_items_result_order",
            "items",
            [sa.text("date DESC"), sa.text("coalesce(stars, 0) DESC"), "rank"],
        )
    op.create_table(
        "item_tags",
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("tag", sa.Text, nullable=False),
        sa.Column("canonical", sa.Text, nullable=False),
        sa.Column("normalized", sa.Text, nullable=False),
    )
    op.create_index("ix_item_tags_canonical", "item_tags", ["canonical"])
    op.create_index("ix_item_tags_normalized", "item_tags", ["normalized", "item_id"])
    op.create_index("ix_item_tags_item", "item_tags", ["item_id", "normalized"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(128), nullable=False),
        sa.Column("thread_id", sa.Integer),
        sa.Column("schedule", sa.String(128)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("inactive_reason", sa.Text),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "channel_id", name="uq_subscriptions_channel"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(128), nullable=False),
        sa.Column("digest_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(128)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("message_count", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("snapshot", sa.JSON),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "channel_id", "digest_date", name="uq_deliveries_claim"),
    )
    op.create_table(
        "delivery_messages",
        sa.Column(
            "delivery_id",
            sa.Integer,
            sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("delivery_messages", "deliveries", "subscriptions", "item_tags", "items"):
        op.drop_table(table)
    op.drop_table("digests")
