"""items: category, score with its scale, and the pipeline-fallback flag

Revision ID: 0003
Revises: 0002

Digests in more layouts: an item may sit under a category heading (searchable with
``category:``, matched on ``category_norm``), keeps its rating as written (``score`` out of
``score_scale``; ``stars`` is derived from it), and may be a fallback the curation pipeline
wrote when it failed (``pipeline_failed``). Plain nullable columns: old rows read as
"no category, no score, not a fallback".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("category_norm", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("score_scale", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("pipeline_failed", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("pipeline_failed")
        batch_op.drop_column("score_scale")
        batch_op.drop_column("score")
        batch_op.drop_column("category_norm")
        batch_op.drop_column("category")
