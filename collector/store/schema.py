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
    UniqueConstraint,
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


# -- amnesty days (migration 0007) --------------------------------------------------------
# A campaign: one amnesty day at some sites. ``sites``, ``lead_days`` and ``channels``
# are JSON arrays as text; ``link_secret`` signs its booking links (never leaves here).
amnesty_campaigns = Table(
    "amnesty_campaigns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("day", Integer, nullable=False),
    Column("sites", Text, nullable=False),
    Column("lead_days", Text, nullable=False),
    Column("channels", Text, nullable=False),
    Column("dormant_days", Integer, nullable=False),
    Column("link_secret", String(64), nullable=False),
    Column("status", String(16), nullable=False, server_default="scheduled"),
    Column("created_s", BigInteger, nullable=False),
    Column("cancelled_s", BigInteger),
)

# A collection point: a locker bank (``slots`` compartments for the day) or a desk
# (``slots`` returns per window). ``capacity``/``booked`` bound the whole point.
amnesty_points = Table(
    "amnesty_points",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "campaign_id",
        Integer,
        ForeignKey("amnesty_campaigns.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("point_key", String(64), nullable=False),
    Column("site", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("location", String(255), nullable=False, server_default=""),
    Column("slots", Integer, nullable=False),
    Column("opens_min", Integer, nullable=False),
    Column("closes_min", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("booked", Integer, nullable=False, server_default="0"),
    UniqueConstraint("campaign_id", "point_key", name="uq_amnesty_points_key"),
)

# A booking window at a point; a booking takes one only while booked < capacity.
amnesty_windows = Table(
    "amnesty_windows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "point_id", Integer, ForeignKey("amnesty_points.id", ondelete="CASCADE"), nullable=False
    ),
    Column("start_s", BigInteger, nullable=False),
    Column("end_s", BigInteger, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("booked", Integer, nullable=False, server_default="0"),
    UniqueConstraint("point_id", "start_s", name="uq_amnesty_windows_start"),
)

# One person asked in a campaign: pseudonymous holder id, the address their e-mail
# goes to (from --contacts or the template), their reasons and devices (JSON arrays),
# the nonce their booking link carries, and when they opened and booked.
amnesty_audience = Table(
    "amnesty_audience",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "campaign_id",
        Integer,
        ForeignKey("amnesty_campaigns.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("holder_id", String(64), nullable=False),
    Column("site", String(128), nullable=False),
    Column("email", String(255), nullable=False, server_default=""),
    Column("reasons", Text, nullable=False),
    Column("devices", Text, nullable=False),
    Column("link_nonce", String(32), nullable=False),
    Column("opened_s", BigInteger),
    Column("booked_s", BigInteger),
    UniqueConstraint("campaign_id", "holder_id", name="uq_amnesty_audience_holder"),
)

# One reminder: (campaign, person, lead time, channel) once, whatever the workers.
# status: pending -> sending (claimed) -> delivered | pending (retry) | failed;
# pending -> skipped (superseded by a later lead time, or already booked);
# sending past the claim timeout -> uncertain (never sent twice).
amnesty_messages = Table(
    "amnesty_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "campaign_id",
        Integer,
        ForeignKey("amnesty_campaigns.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "audience_id",
        Integer,
        ForeignKey("amnesty_audience.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("lead_days", Integer, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("due_s", BigInteger, nullable=False),
    Column("status", String(12), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_try_s", BigInteger, nullable=False, server_default="0"),
    Column("claimed_by", String(64), nullable=False, server_default=""),
    Column("claimed_s", BigInteger),
    Column("delivered_s", BigInteger),
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="SET NULL")),
    Column("last_error", String(255), nullable=False, server_default=""),
    UniqueConstraint(
        "campaign_id", "audience_id", "lead_days", "channel", name="uq_amnesty_messages_once"
    ),
    Index("ix_amnesty_messages_status_due", "status", "due_s"),
)

# A booking: one per person and campaign (the unique audience_id makes the link single-use).
amnesty_bookings = Table(
    "amnesty_bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "campaign_id",
        Integer,
        ForeignKey("amnesty_campaigns.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "audience_id",
        Integer,
        ForeignKey("amnesty_audience.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column(
        "window_id", Integer, ForeignKey("amnesty_windows.id", ondelete="CASCADE"), nullable=False
    ),
    Column("booked_s", BigInteger, nullable=False),
)

# A device handed back: its route, erasure record and health certificate (JSON text,
# the record the HTML and PDF are rendered from).
amnesty_handbacks = Table(
    "amnesty_handbacks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("certificate_uid", String(32), nullable=False, unique=True),
    Column("device_id", Integer, ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    Column("campaign_id", Integer, ForeignKey("amnesty_campaigns.id", ondelete="SET NULL")),
    Column("route", String(16), nullable=False),
    Column("erasure_method", String(32), nullable=False, server_default=""),
    Column("erasure_ref", String(128), nullable=False, server_default=""),
    Column("erasure_day", Integer),
    Column("t_s", BigInteger, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("carbon_avoided_kg", Float, nullable=False),
    Column("certificate", Text, nullable=False),
    Index("ix_amnesty_handbacks_device", "device_id"),
)
