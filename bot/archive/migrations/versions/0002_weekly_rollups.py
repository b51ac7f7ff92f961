"""weekly rollups: delivery kind, channel digest and weekly schedule

Revision ID: 0002
Revises: 0001

A channel's deliveries are now daily digests or weekly rollups (keyed by the week's Monday),
so the claim's unique key gains the kind; old rows are daily.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), server_default="daily", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_deliveries_claim"), type_="unique")
        batch_op.create_unique_constraint(
            "uq_deliveries_claim", ["platform", "channel_id", "digest_date", "kind"]
        )

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("weekly_schedule", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("weekly_schedule")
        batch_op.drop_column("digest")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_claim", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_deliveries_claim"), ["platform", "channel_id", "digest_date"]
        )
        batch_op.drop_column("kind")
