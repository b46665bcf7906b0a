"""amnesty days: campaigns, collection points, audience and reminders, bookings, hand-backs

Revision ID: 0007
Revises: 0008 (0008 landed first on main; it was numbered after this one, reserved for amnesty days)
Create Date: 2026-12-05 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "amnesty_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("sites", sa.Text(), nullable=False),
        sa.Column("lead_days", sa.Text(), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("dormant_days", sa.Integer(), nullable=False),
        sa.Column("link_secret", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="scheduled", nullable=False),
        sa.Column("created_s", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_s", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "amnesty_audience",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=255), server_default="", nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("devices", sa.Text(), nullable=False),
        sa.Column("link_nonce", sa.String(length=32), nullable=False),
        sa.Column("opened_s", sa.BigInteger(), nullable=True),
        sa.Column("booked_s", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["amnesty_campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "holder_id", name="uq_amnesty_audience_holder"),
    )
    op.create_table(
        "amnesty_handbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_uid", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("erasure_method", sa.String(length=32), server_default="", nullable=False),
        sa.Column("erasure_ref", sa.String(length=128), server_default="", nullable=False),
        sa.Column("erasure_day", sa.Integer(), nullable=True),
        sa.Column("t_s", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("carbon_avoided_kg", sa.Float(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["amnesty_campaigns.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("certificate_uid"),
    )
    op.create_index("ix_amnesty_handbacks_device", "amnesty_handbacks", ["device_id"], unique=False)
    op.create_table(
        "amnesty_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("point_key", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("location", sa.String(length=255), server_default="", nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("opens_min", sa.Integer(), nullable=False),
        sa.Column("closes_min", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["amnesty_campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "point_key", name="uq_amnesty_points_key"),
    )
    op.create_table(
        "amnesty_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("due_s", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_try_s", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("claimed_by", sa.String(length=64), server_default="", nullable=False),
        sa.Column("claimed_s", sa.BigInteger(), nullable=True),
        sa.Column("delivered_s", sa.BigInteger(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=255), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["audience_id"], ["amnesty_audience.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["campaign_id"], ["amnesty_campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "campaign_id", "audience_id", "lead_days", "channel", name="uq_amnesty_messages_once"
        ),
    )
    op.create_index(
        "ix_amnesty_messages_status_due", "amnesty_messages", ["status", "due_s"], unique=False
    )
    op.create_table(
        "amnesty_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.BigInteger(), nullable=False),
        sa.Column("end_s", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["point_id"], ["amnesty_points.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("point_id", "start_s", name="uq_amnesty_windows_start"),
    )
    op.create_table(
        "amnesty_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("audience_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("booked_s", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["audience_id"], ["amnesty_audience.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["campaign_id"], ["amnesty_campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["window_id"], ["amnesty_windows.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("audience_id"),
    )


def downgrade() -> None:
    op.drop_table("amnesty_bookings")
    op.drop_table("amnesty_windows")
    op.drop_index("ix_amnesty_messages_status_due", table_name="amnesty_messages")
    op.drop_table("amnesty_messages")
    op.drop_table("amnesty_points")
    op.drop_index("ix_amnesty_handbacks_device", table_name="amnesty_handbacks")
    op.drop_table("amnesty_handbacks")
    op.drop_table("amnesty_audience")
    op.drop_table("amnesty_campaigns")
