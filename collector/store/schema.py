"""The collector's tables, in SQLAlchemy Core. Alembic migrations create them.

Times are integer UTC epoch seconds (``*_s``) and days are epoch days
(``day`` = t_s // 86400): portable between SQLite and PostgreSQL and cheap
to compare. Secrets are stored only as SHA-256 hex digests (``*_hash``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# BigInteger primary keys need to be plain INTEGER on SQLite to auto-increment.
BigId = BigInteger().with_variant(Integer(), "sqlite")

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_uid", String(64), nullable=False, unique=True),
    Column("hostname", String(255), nullable=False, server_default=""),
    Column("serial", String(255), nullable=False, server_default=""),
    Column("vendor", String(255), nullable=False, server_default=""),
    Column("model", String(255), nullable=False, server_default=""),
    Column("os_name", String(255), nullable=False, server_default=""),
    Column("os_version", String(255), nullable=False, server_default=""),
    Column("agent_version", String(64), nullable=False, server_default=""),
    Column("enrolled_s", BigInteger, nullable=False),
    Column("last_seen_s", BigInteger),
    Column("batches", BigInteger, nullable=False, server_default="0"),
    Column("points", BigInteger, nullable=False, server_default="0"),
    Column("revoked_s", BigInteger),
    # The newest assessment, kept on the row so fleet listings need no join.
    Column("score", Float),
    Column("decision", String(32), nullable=False, server_default=""),
    Column("scored_s", BigInteger),
    Index("ix_devices_hostname", "hostname"),
    Index("ix_devices_serial", "serial"),
)

device_keys = Table(
    "device_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_s", BigInteger, nullable=False),
    Column("revoked_s", BigInteger),
)

enrol_tokens = Table(
    "enrol_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_s", BigInteger, nullable=False),
    Column("expires_s", BigInteger, nullable=False),
    Column("uses_left", Integer, nullable=False),
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("note", String(255), nullable=False, server_default=""),
    Column("revoked_s", BigInteger),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("name", String(255), nullable=False, server_default=""),
    Column("created_s", BigInteger, nullable=False),
    Column("expires_s", BigInteger),
    Column("revoked_s", BigInteger),
)

# One row per batch: the batch's own compressed columnar chunk, as received.
batches = Table(
    "batches",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("batch_uid", String(160), nullable=False, unique=True),
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    Column("received_s", BigInteger, nullable=False),
    Column("first_s", BigInteger, nullable=False),
    Column("last_s", BigInteger, nullable=False),
    Column("n_points", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index("ix_batches_device_received", "device_id", "received_s"),
    Index("ix_batches_received", "received_s"),
)

# A device's derived readings, packed (see :mod:`kitlife.collector.store.packed`):
# one row per device and UTC day with every series' aggregate of that day (kept
# for the device's life), and one row per device with its newest reading of
# each series and text and the sources its newest batch could not read.
device_days = Table(
    "device_days",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True),  # days since 1970-01-01 UTC
    Column("body", LargeBinary, nullable=False),
)

device_state = Table(
    "device_state",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("latest", LargeBinary, nullable=False),
    Column("unavailable", LargeBinary, nullable=False),
)

# The scoring series' closed weeks, packed (see :mod:`kitlife.collector.store.weekly`):
# the rescorer reads this row and the days after ``upto_day`` instead of two
# years of days. ``version`` moves whenever an ingest invalidates it.
device_weeks = Table(
    "device_weeks",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("upto_day", Integer, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("body", LargeBinary, nullable=False),
)

# Background jobs' rounds: which host process claimed each job's last round, and
# when (see :mod:`kitlife.collector.store.jobs`).
job_rounds = Table(
    "job_rounds",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("started_ms", BigInteger, nullable=False),
    Column("holder", String(255), nullable=False, server_default=""),
    Column("rounds", BigInteger, nullable=False, server_default="0"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("t_s", BigInteger, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
)

# Score history: one row per scoring run and device, written by the scoring
# integration. ``reasons`` is a JSON array as text (portable to both databases);
# ``horizon`` is the look-ahead of the prediction in days.
scores = Table(
    "scores",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    Column("t_s", BigInteger, nullable=False),
    Column("score", Float),  # None: not enough data to score
    Column("decision", String(32), nullable=False),
    Column("reasons", Text, nullable=False, server_default="[]"),
    Column("horizon", Integer, nullable=False),
    # The whole assessment (components, repairs, footprint) as JSON text.
    Column("assessment", Text, nullable=False, server_default="{}"),
    Index("ix_scores_device_t", "device_id", "t_s"),
)


# -- fleet (migration 0004) ---------------------------------------------------------------
# The asset register: one row per physical device the organisation owns, as
# the register (CMDB) knows it. Matched to enrolled devices by serial.
# Days are epoch days; an empty holder_id is a device in spare stock.
assets = Table(
    "assets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("serial", String(255), nullable=False),
    Column("serial_key", String(255), nullable=False, unique=True),
    Column("asset_tag", String(64), nullable=False, server_default=""),
    Column("holder_id", String(64), nullable=False, server_default=""),
    Column("role", String(32), nullable=False, server_default=""),
    Column("site", String(128), nullable=False, server_default=""),
    Column("purchase_day", Integer, nullable=False),
    Column("purchase_route", String(16), nullable=False),
    Column("warranty_end_day", Integer),
    Column("vendor", String(255), nullable=False, server_default=""),
    Column("model", String(255), nullable=False, server_default=""),
    Column("status", String(16), nullable=False, server_default="in_use"),
    Column("retired_day", Integer),
    Column("eol_route", String(16), nullable=False, server_default=""),
    Column("retired_reason", String(32), nullable=False, server_default=""),
    Column("previous_holders", Integer, nullable=False, server_default="0"),
    Column("imported_s", BigInteger, nullable=False),
    Index("ix_assets_holder", "holder_id"),
    Index("ix_assets_site_role", "site", "role"),
)
