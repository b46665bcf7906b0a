"""Collector settings: one typed object, read from ``KITLIFE_*`` variables once, at start.

Nothing here, nor anywhere in the collector, reads the environment when a
module is imported: the CLI builds one :class:`Settings` in its group callback
(its flags override the environment), and a uvicorn worker builds one when it
starts (``kitlife.collector.api.asgi``). Each part then gets what it needs as
arguments: the store its re-attach window, the app factory the whole object.

Every field is read from exactly one variable, written beside it as its alias
(the older names such as ``KITLIFE_MAX_INFLIGHT`` kept as they were), and
checked against its bounds; a bad value is reported by variable name
(:func:`load_settings`). docs/collector.md lists them all, and a test keeps
that table and this class in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import platformdirs
from pydantic import Field, FilePath, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kitlife.collector.policy.fit import load_roles
from kitlife.collector.store import Store
from kitlife.collector.store.engine import check_url
from kitlife.collector.store.identity import REATTACH_AFTER_SILENT_S
from kitlife.protocol import DEFAULT_LIMITS, Limits


def default_db_url() -> str:
    """An SQLite file in the per-OS user data folder (when KITLIFE_DB and --db are unset)."""
    folder = Path(platformdirs.user_data_dir("kitlife", appauthor=False))
    return f"sqlite:///{folder / 'kitlife.sqlite3'}"


class SettingsError(ValueError):
    """Settings that do not validate; the message names each bad variable, one per line."""


class Settings(BaseSettings):
    """The collector's configuration. Fields are set by name in code and tests,
    by their ``KITLIFE_*`` alias from the environment."""

    model_config = SettingsConfigDict(
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
        # KITLIFE_ROLES= (empty) means "not set", as it did before.
        env_ignore_empty=True,
    )

    # Wire limits are the protocol's, the same on both sides: not a deployment setting.
    limits: ClassVar[Limits] = DEFAULT_LIMITS

    db_url: str = Field(default_factory=default_db_url, validation_alias="KITLIFE_DB")
    # Ingests in flight above this get 429 + Retry-After rather than an unbounded queue.
    max_inflight_ingests: int = Field(
        default=64, ge=1, le=100_000, validation_alias="KITLIFE_MAX_INFLIGHT"
    )
    retry_after_s: int = Field(default=30, ge=1, le=3600, validation_alias="KITLIFE_RETRY_AFTER_S")
    raw_retention_days: int = Field(
        default=90, ge=1, le=36_500, validation_alias="KITLIFE_RAW_RETENTION_DAYS"
    )
    # Retention runs inside the server: first this long after start, then every interval
    # (0 turns the schedule off, e.g. when cron runs `kitlife db prune`).
    prune_first_delay_s: float = Field(
        default=60.0, ge=0, le=86_400 * 7, validation_alias="KITLIFE_PRUNE_FIRST_DELAY_S"
    )
    prune_interval_s: float = Field(
        default=86_400.0, ge=0, le=86_400 * 365, validation_alias="KITLIFE_PRUNE_INTERVAL_S"
    )
    # Group commit: batches per transaction, and writer threads per worker (SQLite
    # always uses one). One on PostgreSQL too by default: measured on two cores,
    # a second thread split the groups (more round trips per batch) and fought
    # the event loop for the interpreter: 2,890 vs 3,096 batches/s, p99 43 vs 36 ms.
    # Concurrency on PostgreSQL comes from workers (`serve --workers N`).
    max_group: int = Field(default=256, ge=1, le=10_000, validation_alias="KITLIFE_MAX_GROUP")
    group_linger_s: float = Field(
        default=0.001, ge=0, le=1.0, validation_alias="KITLIFE_GROUP_LINGER_S"
    )
    writer_threads: int = Field(default=1, ge=1, le=64, validation_alias="KITLIFE_WRITER_THREADS")
    # Sent to agents in every ack; they bound-check before applying (docs/agent.md).
    agent_sample_interval_s: int = Field(
        default=60, ge=10, le=3600, validation_alias="KITLIFE_ACK_SAMPLE_INTERVAL_S"
    )
    agent_upload_interval_s: int = Field(
        default=900, ge=60, le=604_800, validation_alias="KITLIFE_ACK_UPLOAD_INTERVAL_S"
    )
    # How often agents ask their user for a 1-5 rating (0: never).
    agent_feedback_ask_every_days: int = Field(
        default=30, ge=0, le=3650, validation_alias="KITLIFE_ACK_FEEDBACK_ASK_EVERY_DAYS"
    )
    # Rescore a device in the background after its batch lands (kitlife score does it by hand).
    rescore_on_ingest: bool = Field(default=True, validation_alias="KITLIFE_RESCORE_ON_INGEST")
    # ... at most this often per device (scores move over weeks; see Rescorer), and
    # working at most this share of the time, so scoring never crowds out ingest.
    rescore_min_interval_s: float = Field(
        default=21_600.0, ge=0, le=86_400 * 365, validation_alias="KITLIFE_RESCORE_EVERY_S"
    )
    rescore_duty: float = Field(
        default=0.25, ge=0.01, le=1.0, validation_alias="KITLIFE_RESCORE_DUTY"
    )
    # A re-enrolling laptop gets its old device back only after this long silent (Store.enroll).
    reattach_after_silent_s: int = Field(
        default=REATTACH_AFTER_SILENT_S,
        ge=0,
        le=86_400 * 365,
        validation_alias="KITLIFE_REATTACH_AFTER_SILENT_S",
    )
    # Role profiles TOML; None: the shipped collector/policy/data/roles.toml.
    roles_path: FilePath | None = Field(default=None, validation_alias="KITLIFE_ROLES")
    # -- limits on what a request may cost before and while it is read (docs/security.md)
    # Any request body but a batch (JSON, enrolment facts): refused with 413 above it.
    max_body_bytes: int = Field(
        default=65_536, ge=1024, le=1 << 30, validation_alias="KITLIFE_MAX_BODY_BYTES"
    )
    # PUT /v1/assets, the register as CSV: about 200 bytes a row, 72,000 rows = 14 MB.
    max_register_bytes: int = Field(
        default=16 << 20, ge=1024, le=1 << 30, validation_alias="KITLIFE_MAX_REGISTER_BYTES"
    )
    # The whole body must arrive within this (408 after), so a slow client holds
    # nothing for long: a 1 MiB batch at 32 KB/s still makes it.
    body_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, validation_alias="KITLIFE_BODY_TIMEOUT_S"
    )
    # Request line and headers together (431 above), and the time to send them.
    max_header_bytes: int = Field(
        default=65_536, ge=4096, le=1 << 24, validation_alias="KITLIFE_MAX_HEADER_BYTES"
    )
    header_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, validation_alias="KITLIFE_HEADER_TIMEOUT_S"
    )
    # Open connections per worker; uvicorn answers 503 beyond (limit_concurrency).
    max_connections: int = Field(
        default=4096, ge=16, le=1_000_000, validation_alias="KITLIFE_MAX_CONNECTIONS"
    )
    # Batches of one device being read or stored at once (429 beyond): one key
    # cannot hold the slots every other laptop needs.
    max_inflight_per_device: int = Field(
        default=2, ge=1, le=1000, validation_alias="KITLIFE_MAX_INFLIGHT_PER_DEVICE"
    )
    # Batches that decompress to more than this are decoded in a thread, at most
    # max_heavy_decodes at a time: the event loop never decodes more than this.
    decode_inline_max_bytes: int = Field(
        default=131_072, ge=0, le=1 << 30, validation_alias="KITLIFE_DECODE_INLINE_MAX_BYTES"
    )
    max_heavy_decodes: int = Field(
        default=2, ge=1, le=64, validation_alias="KITLIFE_MAX_HEAVY_DECODES"
    )
    # Readings dated further than this after the collector's clock are refused
    # (400, with the reason): a laptop with a wrong clock, or a forged batch,
    # cannot pin "latest readings" or file them under days to come.
    max_clock_skew_s: int = Field(
        default=86_400, ge=0, le=86_400 * 365, validation_alias="KITLIFE_MAX_CLOCK_SKEW_S"
    )
    # Amnesty days (docs/amnesty.md): the collector's address as staff reach it, for
    # booking links (None: http://127.0.0.1:8470), and where reminder e-mails go
    # (None: no SMTP server, e-mail reminders wait).
    public_url: str | None = Field(
        default=None,
        max_length=255,
        pattern=r"^https?://[^\s]+$",
        validation_alias="KITLIFE_PUBLIC_URL",
    )
    smtp_host: str | None = Field(
        default=None, max_length=255, validation_alias="KITLIFE_SMTP_HOST"
    )
    smtp_port: int = Field(default=25, ge=1, le=65_535, validation_alias="KITLIFE_SMTP_PORT")
    smtp_from: str | None = Field(
        default=None,
        max_length=255,
        pattern=r"^[^@\s]+@[^@\s]+$",
        validation_alias="KITLIFE_SMTP_FROM",
    )
    smtp_starttls: bool = Field(default=False, validation_alias="KITLIFE_SMTP_STARTTLS")
    smtp_user: str | None = Field(
        default=None, max_length=255, validation_alias="KITLIFE_SMTP_USER"
    )
    smtp_password: SecretStr | None = Field(default=None, validation_alias="KITLIFE_SMTP_PASSWORD")
    # The server's reminder job: every this long (0: off, when cron runs `kitlife amnesty remind`).
    amnesty_remind_every_s: float = Field(
        default=300.0, ge=0, le=86_400, validation_alias="KITLIFE_AMNESTY_REMIND_EVERY_S"
    )

    @field_validator("db_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        return check_url(url)

    @field_validator("roles_path")
    @classmethod
    def _roles_parse(cls, path: Path | None) -> Path | None:
        # At start, not at the first fleet request: a broken file stops the
        # server in one line instead of failing requests later.
        if path is not None:
            try:
                load_roles(path)
            except (OSError, ValueError) as err:
                raise ValueError(f"role profiles do not load: {err}") from err
        return path


def load_settings(**overrides: object) -> Settings:
    """The environment's settings with ``overrides`` (the CLI's flags) on top.

    Raises SettingsError naming every bad variable, one line each, so that a
    command or a worker can refuse in one line instead of a traceback.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        raise SettingsError(describe(err)) from err


def describe(err: ValidationError) -> str:
    """One line per problem: ``KITLIFE_X='value': what is wrong``."""
    lines = []
    for e in err.errors(include_url=False):
        name = ".".join(str(part) for part in e["loc"]) or "settings"
        value = f"={e['input']!r}" if isinstance(e.get("input"), str | int | float) else ""
        lines.append(f"{name}{value}: {e['msg']}")
    return "\n".join(lines)


def open_store(settings: Settings) -> Store:
    """The store these settings name, with the parts of them the store needs."""
    return Store.from_url(settings.db_url, reattach_after_silent_s=settings.reattach_after_silent_s)
