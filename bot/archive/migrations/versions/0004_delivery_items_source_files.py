"""delivery items (addenda) and source files (unchanged files skipped)

Revision ID: 0004
Revises: 0003

Two new tables, nothing else changes: ``delivery_items`` records which items a delivery
carried, so items added to a day's file after it was delivered go out as an addendum;
``source_files`` records what ingest last saw of each source file (size, mtime, hash), so
unchanged files are not read or parsed again. A delivery row may also have the new status
``given_up`` (the column is text already).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_items",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("delivery_id", "item_key"),
    )
    op.create_table(
        "source_files",
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mtime_ns", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("digest_date", sa.Date(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("path"),
    )


def downgrade() -> None:
    op.drop_table("source_files")
    op.drop_table("delivery_items")
