"""asset register

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:40:00
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
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=255), nullable=False),
        sa.Column("serial_key", sa.String(length=255), nullable=False),
        sa.Column("asset_tag", sa.String(length=64), server_default="", nullable=False),
        sa.Column("holder_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("role", sa.String(length=32), server_default="", nullable=False),
        sa.Column("site", sa.String(length=128), server_default="", nullable=False),
        sa.Column("purchase_day", sa.Integer(), nullable=False),
        sa.Column("purchase_route", sa.String(length=16), nullable=False),
        sa.Column("warranty_end_day", sa.Integer(), nullable=True),
        sa.Column("vendor", sa.String(length=255), server_default="", nullable=False),
        sa.Column("model", sa.String(length=255), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="in_use", nullable=False),
        sa.Column("retired_day", sa.Integer(), nullable=True),
        sa.Column("eol_route", sa.String(length=16), server_default="", nullable=False),
        sa.Column("retired_reason", sa.String(length=32), server_default="", nullable=False),
        sa.Column("previous_holders", sa.Integer(), server_default="0", nullable=False),
        sa.Column("imported_s", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("serial_key"),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index("ix_assets_holder", ["holder_id"], unique=False)
        batch_op.create_index("ix_assets_site_role", ["site", "role"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_site_role")
        batch_op.drop_index("ix_assets_holder")
    op.drop_table("assets")
