"""chat state: seen requests and button queries

Revision ID: 0005
Revises: 0004

Two tables that replicas share: ``seen_requests`` remembers Slack request ids and Telegram
update ids until they expire, so a replayed or re-sent request changes nothing;
``button_queries`` holds queries too long for a Telegram button under a short key.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "button_queries",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "seen_requests",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("seen_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seen_requests_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("seen_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_requests_expires_at"))
    op.drop_table("seen_requests")
    op.drop_table("button_queries")
