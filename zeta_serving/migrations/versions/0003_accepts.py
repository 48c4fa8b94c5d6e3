"""`zeta accept`: an operator's new reference for a champion, with who, when and why.

Alert grouping needs no schema change: its state is the runs' `alerted` column and the
`alert` entry of their JSON details.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accepts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("tag", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("previous_reference", sa.Float, nullable=False),
        sa.Column("reference", sa.Float, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
    )
    op.create_index("ix_accepts_model", "accepts", ["model"])


def downgrade() -> None:
    op.drop_index("ix_accepts_model", table_name="accepts")
    op.drop_table("accepts")
