"""assessments: the whole scoring result per run, and the newest on the device row

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch_op:
        batch_op.alter_column("score", existing_type=sa.Float(), nullable=True)
        batch_op.add_column(sa.Column("assessment", sa.Text(), server_default="{}", nullable=False))
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("decision", sa.String(length=32), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("scored_s", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_column("scored_s")
        batch_op.drop_column("decision")
        batch_op.drop_column("score")
    with op.batch_alter_table("scores") as batch_op:
        batch_op.drop_column("assessment")
        batch_op.alter_column("score", existing_type=sa.Float(), nullable=False)
