"""A store knows who it is: `store_meta` keeps its id, which labels the models trained from it.

Several stores (checkouts, databases) share one BentoML home on a machine; with the id a
store's defaults never pick up another store's models.

Revision ID: 0004
Revises: 0003
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
        "store_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_meta")
