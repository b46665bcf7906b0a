"""The rating prompt in the user's session: ``kitlife-agent -m kitlife.agent.userhelper``.

The service runs as a system account, which cannot show a notification on a
user's desktop; launchd (a LaunchAgent) and Windows (the HKLM Run key) start
this small process at every logon instead. Once an hour it reads the spool's
rating schedule (read-only: the service owns the file) and shows the prompt
when :func:`kitlife.agent.feedback.prompt_due` says so. When it last asked is
kept in the user's own state folder, so each user is asked once per period.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kitlife.agent.config import ConfigError, load_config
from kitlife.agent.feedback import META_ASKED, META_EVERY, META_RATED, prompt_due
from kitlife.agent.spool import SPOOL_FILE, Spool, SpoolError

log = logging.getLogger(__name__)
CHECK_EVERY_S = 3600.0
ASKED_FILE = "helper-last-asked"


def _user_asked_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("kitlife", appauthor=False)) / ASKED_FILE


def _read_asked(path: Path) -> float:
    try:
        return float(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return 0.0


def check_once(spool_path: Path, asked_path: Path, now_s: float, send: Callable[[], bool]) -> bool:
    """Show the prompt if due; True when it was shown."""
    try:
        with Spool(spool_path, 1 << 20, readonly=True) as spool:
            every = spool.meta_int(META_EVERY)
            asked = max(spool.meta_int(META_ASKED), _read_asked(asked_path))
            rated = spool.meta_int(META_RATED)
    except (SpoolError, OSError) as err:
        log.info("no rating schedule readable in %s: %s", spool_path, err)
        return False
    if not prompt_due(now_s, every, asked, rated) or not send():
        return False
    asked_path.parent.mkdir(parents=True, exist_ok=True)
    asked_path.write_text(str(int(now_s)), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kitlife-agent -m kitlife.agent.userhelper")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--once", action="store_true", help="check once and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as err:
        sys.stderr.write(f"Error: {err}\n")
        return 2
    from kitlife.agent.notify import notify
    from kitlife.agent.platforms import current_platform

    platform = current_platform()

    spool_path = config.state_dir / SPOOL_FILE
    asked_path = _user_asked_file()
    while True:
        check_once(spool_path, asked_path, time.time(), lambda: notify(platform))
        if args.once:
            return 0
        # Ended by the session's logout (the OS stops what it started at logon).
        time.sleep(CHECK_EVERY_S)


if __name__ == "__main__":
    sys.exit(main())
