"""Baseline: the tables as they were before Alembic (listings, ledger, champions, leases).

A database made before migrations existed already has some or all of these tables (each
module used to create its own on first use): only the missing ones are created, so such a
database is upgraded in place, without a separate stamp step.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> list[tuple[str, list, list]]:
    """(name, columns, indexes) of every table, exactly as the pre-Alembic code declared them."""
    return [
        ("listings", [
            sa.Column("id", sa.String(200), primary_key=True),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("description", sa.Text, nullable=False),
            sa.Column("brand", sa.String(300), nullable=False),
            sa.Column("condition", sa.SmallInteger, nullable=False),
            sa.Column("shipping", sa.SmallInteger, nullable=False),
            sa.Column("category", sa.Text, nullable=False),
            sa.Column("price", sa.Float, nullable=True),
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("tags", sa.Text, nullable=False),
            sa.Column("listed_at", sa.DateTime, nullable=False),
        ], [("ix_listings_listed_at", ["listed_at"])]),
        ("maintenance_runs", [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("model", sa.String(32), nullable=False),
            sa.Column("replica", sa.String(200), nullable=False),
            sa.Column("trigger", sa.String(32), nullable=False),
            sa.Column("now", sa.DateTime, nullable=False),
            sa.Column("started_at", sa.DateTime, nullable=False),
            sa.Column("finished_at", sa.DateTime, nullable=True),
            sa.Column("decision", sa.String(32), nullable=True),
            sa.Column("failed_stage", sa.String(32), nullable=True),
            sa.Column("error", sa.Text, nullable=True),
            sa.Column("metric", sa.String(32), nullable=True),
            *[sa.Column(name, sa.Float, nullable=True) for name in (
                "reference_score", "live_score", "live_low", "live_high", "challenger_score",
                "challenger_low", "challenger_high", "gain_low", "gain_high")],
            sa.Column("eval_start", sa.DateTime, nullable=True),
            sa.Column("eval_end", sa.DateTime, nullable=True),
            sa.Column("eval_rows", sa.Integer, nullable=True),
            sa.Column("train_start", sa.DateTime, nullable=True),
            sa.Column("train_end", sa.DateTime, nullable=True),
            sa.Column("train_rows", sa.Integer, nullable=True),
            sa.Column("champion_tag", sa.String(200), nullable=True),
            sa.Column("challenger_tag", sa.String(200), nullable=True),
            sa.Column("bento_tag", sa.String(200), nullable=True),
            sa.Column("image_tag", sa.String(300), nullable=True),
            sa.Column("serving_tag", sa.String(200), nullable=True),
            sa.Column("tokenizer_id", sa.String(64), nullable=True),
            sa.Column("unseen_rate", sa.Float, nullable=True),
            sa.Column("unseen_rate_train", sa.Float, nullable=True),
            sa.Column("alerted", sa.Boolean, nullable=False),
            sa.Column("details", sa.Text, nullable=False),
        ], [("ix_maintenance_runs_model_now", ["model", "now"])]),
        ("maintenance_stages", [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("run_id", sa.Integer, sa.ForeignKey("maintenance_runs.id"), nullable=False),
            sa.Column("stage", sa.String(32), nullable=False),
            sa.Column("started_at", sa.DateTime, nullable=False),
            sa.Column("seconds", sa.Float, nullable=False),
            sa.Column("ok", sa.Boolean, nullable=False),
            sa.Column("info", sa.Text, nullable=False),
            sa.Column("error", sa.Text, nullable=True),
        ], [("ix_maintenance_stages_run_id", ["run_id"])]),
        ("champions", [
            sa.Column("model", sa.String(32), primary_key=True),
            sa.Column("tag", sa.String(200), nullable=False),
            sa.Column("reference_score", sa.Float, nullable=False),
            sa.Column("bento_tag", sa.String(200), nullable=True),
            sa.Column("image_tag", sa.String(300), nullable=True),
            sa.Column("promoted_at", sa.DateTime, nullable=False),
        ], []),
        ("leases", [
            sa.Column("model", sa.String(32), primary_key=True),
            sa.Column("holder", sa.String(200), nullable=False),
            sa.Column("acquired_at", sa.DateTime, nullable=False),
            sa.Column("expires_at", sa.DateTime, nullable=False),
        ], []),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns, indexes in _tables():
        if name in existing:
            continue
        op.create_table(name, *columns)
        for index, on in indexes:
            op.create_index(index, name, on)


def downgrade() -> None:
    for name, _, _ in reversed(_tables()):
        op.drop_table(name)
