"""Runs record the lease holder of their cycle and the stage they are in.

With both, the next cycle can tell a run whose process died (its holder no longer holds
the lease, it never finished) and record it `failed` at the stage it was in.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance_runs") as batch:
        batch.add_column(sa.Column("holder", sa.String(200), nullable=True))
        batch.add_column(sa.Column("stage", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("maintenance_runs") as batch:
        batch.drop_column("stage")
        batch.drop_column("holder")
