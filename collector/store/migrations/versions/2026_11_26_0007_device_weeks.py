"""a device's closed weeks of the scoring series, kept for the rescorer; job rounds

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 12:00:00

``device_weeks``: one row per device holding the weekly points the scorer
fits trends on, for whole weeks that have closed (``from_day`` to
``upto_day``), as packed arrays. The rescorer extends it as weeks close and
reads only the days after it; an ingest that writes a day before
``upto_day`` (a late batch) moves ``upto_day`` back and bumps ``version``.
See kitlife.collector.store.weekly. Nothing to move: the rows are built
from ``device_days`` the first time each device is rescored.

``job_rounds``: one row per background job, the round last claimed (when
and by which host process): several collector hosts on one database run the
same schedule, and the first to claim a round does it (kitlife.collector.
store.jobs).

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_weeks",
        sa.Column(
            "device_id",
            sa.Integer(),
            sa.ForeignKey("devices.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("upto_day", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )

    op.create_table(
        "job_rounds",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False, server_default=""),
        sa.Column("rounds", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("job_rounds")
    op.drop_table("device_weeks")
