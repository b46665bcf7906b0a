"""The device's identity and key, given by the collector at enrolment.

Kept as a small JSON file in the state folder, readable by its owner only
(mode 0600): the key is the device's only credential.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from kitlife.agent.paths import make_private_dir

FILENAME = "device.json"


class NotEnrolledError(RuntimeError):
    """The agent has no device key yet: run ``kitlife-agent enroll``."""


@dataclass(frozen=True, slots=True)
class Credentials:
    collector_url: str
    device_id: str
    device_key: str
    # Enrolled with --allow-http: this collector may be reached over plain http
    # (a lab or a loopback demo), remembered so that every later upload may too.
    allow_http: bool = False


def save_credentials(state_dir: Path, creds: Credentials) -> Path:
    """Write atomically with mode 0600 from the first byte."""
    make_private_dir(state_dir)
    path = state_dir / FILENAME
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(creds), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    os.chmod(path, 0o600)
    return path


def load_credentials(state_dir: Path) -> Credentials:
    path = state_dir / FILENAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(
            str(data["collector_url"]),
            str(data["device_id"]),
            str(data["device_key"]),
            data.get("allow_http", False) is True,
        )
    except FileNotFoundError:
        raise NotEnrolledError(f"not enrolled: no {path}; run kitlife-agent enroll") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise NotEnrolledError(f"unreadable credentials in {path}: {err}") from err
