"""item_words: the word index for whole-word search

Revision ID: 0006
Revises: 0005

Each item's distinct ASCII words (``bot.query.words`` of its ``search_text``), so a
one-word term is answered from an index instead of reading every item that contains it as
a substring. The rows of the items already archived are written here, in batches, with
progress reported to ``bot.archive.migrate``'s ``report`` when one was given; the index on
``word`` is built once they are all in (cheaper than keeping it sorted row by row).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.archive.migrate import REPORT
from bot.archive.words import backfill

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_words",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "word"),
        sqlite_with_rowid=False,
    )
    backfill(op.get_bind(), op.get_context().config.attributes.get(REPORT))
    with op.batch_alter_table("item_words", schema=None) as batch_op:
        batch_op.create_index("ix_item_words_word", ["word", "item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("item_words", schema=None) as batch_op:
        batch_op.drop_index("ix_item_words_word")
    op.drop_table("item_words")
