"""score history table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scores",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("t_s", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.Text(), server_default="[]", nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_scores_device_t", "scores", ["device_id", "t_s"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_scores_device_t", table_name="scores")
    op.drop_table("scores")
