"""The agent's configuration: one typed object, resolved in one place, :func:`load_config`.

Precedence, lowest first: defaults, the TOML file (``--config``, else
``KITLIFE_AGENT_CONFIG``, else the platform's system path), ``KITLIFE_AGENT_<KEY>``
environment variables, command-line flags. Unknown keys are warned about and
ignored; a value of the wrong type is refused with the key and the reason.
The environment is read when :func:`load_config` is called, never at import.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitlife.agent.platforms import Platform


log = logging.getLogger(__name__)


def _platform() -> Platform:
    from kitlife.agent.platforms import current_platform

    return current_platform()


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    collector_url: str = ""
    state_dir: Path = dataclasses.field(default_factory=lambda: _platform().default_state_dir())
    sample_interval_s: int = 60
    upload_interval_s: int = 3600
    spool_max_bytes: int = 20 * 1024 * 1024
    batch_max_points: int = 50_000
    ca_bundle: str = ""
    allow_http: bool = False
    request_timeout_s: float = 30.0
    startup_splay_s: int = 300
    log_max_bytes: int = 1024 * 1024
    report_crash_names: bool = False
    # Keys set by KITLIFE_AGENT_* variables: a deliberate local choice the collector
    # may not override (see with_remote). Not a setting itself.
    pinned: frozenset[str] = dataclasses.field(default=frozenset(), compare=False)

    def with_overrides(self, overrides: Mapping[str, Any], origin: str) -> AgentConfig:
        """A copy with ``overrides`` applied (each checked); None values are skipped."""
        known = {f.name: f for f in fields(self) if f.name != "pinned"}
        changes: dict[str, Any] = {}
        for key, raw in overrides.items():
            if raw is None:
                continue
            if key not in known:
                log.warning("%s: unknown key %r ignored", origin, key)
                continue
            changes[key] = _coerce(key, raw, getattr(self, key), origin)
        return dataclasses.replace(self, **changes)

    def with_remote(
        self, remote: Mapping[str, Any], pinned: frozenset[str] | None = None
    ) -> tuple[AgentConfig, list[str]]:
        """Apply the ``config`` of a collector's ack; returns the copy and what was refused.

        ``pinned`` keys (default: :attr:`pinned`) were set on this machine on
        purpose (a ``KITLIFE_AGENT_*`` variable) and win over the collector; the
        TOML file is the fleet default the collector may override.

        Only :data:`REMOTE_KEYS` may be set this way (a collector must not be
        able to switch TLS verification off or move the state folder), only
        real numbers are taken (not text, not booleans), and each value must be
        inside the same bounds as a local setting. A bad value is refused on
        its own and logged; the rest still applies, and nothing raises, so a
        broken collector cannot break the loop.
        """
        pinned = self.pinned if pinned is None else pinned
        config = self
        refused: list[str] = []
        for key, raw in remote.items():
            if key not in REMOTE_KEYS:
                refused.append(f"{key}: not settable by the collector")
                continue
            if key in pinned:
                # Expected on every ack while pinned: not worth a warning each time.
                log.debug("collector config %s ignored: pinned locally", key)
                refused.append(f"{key}: pinned by {ENV_PREFIX}{key.upper()} on this machine")
                continue
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                refused.append(f"{key}: expected a number, got {type(raw).__name__}")
                continue
            if isinstance(raw, float) and not raw.is_integer():
                refused.append(f"{key}: expected a whole number, got {raw!r}")
                continue
            floor = _REMOTE_FLOORS.get(key)
            if floor is not None and raw < floor:
                refused.append(f"collector: {key}: {raw:g} is below the floor of {floor}")
                continue
            try:
                config = config.with_overrides({key: int(raw)}, "collector")
            except (ConfigError, OverflowError, ValueError) as err:
                refused.append(str(err))
        for reason in refused:
            if "pinned by" not in reason:
                log.warning("collector config refused: %s", reason)
        return config, refused


# What a collector's ack may change: intervals and limits, never trust settings.
REMOTE_KEYS = frozenset(
    {"sample_interval_s", "upload_interval_s", "batch_max_points", "spool_max_bytes"}
)

# A collector may not push 72,000 agents below these: more often is a flood.
_REMOTE_FLOORS: dict[str, int] = {"sample_interval_s": 10, "upload_interval_s": 60}

# Bounds keep a typo or a bad value from the collector from breaking the loop.
_BOUNDS: dict[str, tuple[float, float]] = {
    # Local floors are low so tests and lab machines can run fast; the collector's
    # own floors (_REMOTE_FLOORS) are higher, so a fleet cannot be told to flood.
    "sample_interval_s": (1, 3600),
    "upload_interval_s": (1, 7 * 86400),
    "spool_max_bytes": (256 * 1024, 1 << 30),
    "batch_max_points": (100, 500_000),
    "request_timeout_s": (1, 600),
    "startup_splay_s": (0, 3600),
    "log_max_bytes": (16 * 1024, 100 << 20),
}


def _coerce(key: str, raw: Any, current: Any, origin: str) -> Any:
    from_text = isinstance(raw, str)
    try:
        if isinstance(current, bool):
            if from_text:
                if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                    raise ValueError("expected true or false")
                value: Any = raw.lower() in {"1", "true", "yes"}
            elif isinstance(raw, bool):
                value = raw
            else:
                raise ValueError("expected true or false")
        elif isinstance(current, int | float):
            if isinstance(raw, bool) or not (from_text or isinstance(raw, int | float)):
                raise ValueError(f"expected a number, got {type(raw).__name__}")
            value = type(current)(raw) if not isinstance(current, int) else int(str(raw))
        elif isinstance(current, Path):
            if not isinstance(raw, str | Path):
                raise ValueError("expected a path")
            value = Path(raw)
        else:
            if not isinstance(raw, str):
                raise ValueError(f"expected a string, got {type(raw).__name__}")
            value = raw
    except ValueError as err:
        raise ConfigError(f"{origin}: {key}: {err}") from err
    if key in _BOUNDS:
        lo, hi = _BOUNDS[key]
        if not lo <= value <= hi:
            raise ConfigError(f"{origin}: {key}: {value} is outside [{lo:g}, {hi:g}]")
    return value


ENV_PREFIX = "KITLIFE_AGENT_"
# Not a key of the file: which file to read.
CONFIG_ENV = ENV_PREFIX + "CONFIG"


def settings() -> list[str]:
    """The keys a file, the environment or a flag may set."""
    return [f.name for f in fields(AgentConfig) if f.name != "pinned"]


def env_overrides(env: Mapping[str, str]) -> dict[str, str]:
    """``KITLIFE_AGENT_<KEY>`` values by key; earlier names are warned about, not read.

    Before this scheme the agent read ``KITLIFE_<KEY>``, ``KITLIFE_CONFIG`` and
    ``KITLIFE_STATE_DIR``; a machine still setting one would otherwise silently
    run with another state folder.
    """
    keys = settings()
    found: dict[str, str] = {}
    for name, value in env.items():
        if name.startswith(ENV_PREFIX):
            # Other KITLIFE_AGENT_* names are click's, for command options.
            key = name[len(ENV_PREFIX) :].lower()
            if key in keys:
                found[key] = value
        elif name.startswith("KITLIFE_") and (
            name[len("KITLIFE_") :].lower() in keys or name == "KITLIFE_CONFIG"
        ):
            log.warning("environment: %s is no longer read; set %s%s", name, ENV_PREFIX, name[8:])
    return found


def load_config(
    path: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> AgentConfig:
    """Defaults < TOML file < KITLIFE_AGENT_* environment < flags, checked, in one object.

    ``env`` is the process environment unless given (tests pass their own).
    """
    env = os.environ if env is None else env
    config = AgentConfig()
    path = path or Path(env.get(CONFIG_ENV) or _platform().config_path())
    if path.is_file():
        import tomllib  # here, not at the top: parsed once, 0.7 MB not needed otherwise

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: {err}") from err
        table = data.get("agent", data)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [agent] must be a table")
        config = config.with_overrides(table, str(path))
    from_env = env_overrides(env)
    config = config.with_overrides(from_env, "environment")
    config = config.with_overrides(flags or {}, "command line")
    return dataclasses.replace(config, pinned=frozenset(from_env))
