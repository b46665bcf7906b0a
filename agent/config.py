"""The agent's configuration: one typed object, loaded once.

Precedence, lowest first: defaults, the system TOML file (see
:func:`kitlife.agent.paths.system_config_path`), ``KITLIFE_*`` environment
variables, command-line flags. Unknown keys are warned about and ignored;
a value of the wrong type is refused with the key and the reason.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kitlife.agent.paths import default_state_dir, system_config_path

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    collector_url: str = ""
    state_dir: Path = dataclasses.field(default_factory=default_state_dir)
    sample_interval_s: int = 60
    upload_interval_s: int = 900
    spool_max_bytes: int = 20 * 1024 * 1024
    batch_max_points: int = 50_000
    ca_bundle: str = ""
    allow_http: bool = False
    request_timeout_s: float = 30.0
    startup_splay_s: int = 300
    log_max_bytes: int = 1024 * 1024
    report_crash_names: bool = False

    def with_overrides(self, overrides: Mapping[str, Any], origin: str) -> AgentConfig:
        """A copy with ``overrides`` applied (each checked); None values are skipped."""
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, raw in overrides.items():
            if raw is None:
                continue
            if key not in known:
                log.warning("%s: unknown key %r ignored", origin, key)
                continue
            changes[key] = _coerce(key, raw, getattr(self, key), origin)
        return dataclasses.replace(self, **changes)


# Bounds keep a typo or a bad value from the collector from breaking the loop.
_BOUNDS: dict[str, tuple[float, float]] = {
    "sample_interval_s": (5, 3600),
    "upload_interval_s": (30, 7 * 86400),
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


def _env_overrides() -> dict[str, str]:
    names = {f.name for f in fields(AgentConfig)}
    return {
        key[len("KITLIFE_") :].lower(): value
        for key, value in os.environ.items()
        if key.startswith("KITLIFE_") and key[len("KITLIFE_") :].lower() in names
    }


def load_config(path: Path | None = None, flags: Mapping[str, Any] | None = None) -> AgentConfig:
    """Defaults < TOML file < KITLIFE_* environment < flags."""
    config = AgentConfig()
    path = path or system_config_path()
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{path}: {err}") from err
        table = data.get("agent", data)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [agent] must be a table")
        config = config.with_overrides(table, str(path))
    config = config.with_overrides(_env_overrides(), "environment")
    return config.with_overrides(flags or {}, "command line")
