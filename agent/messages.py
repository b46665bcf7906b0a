"""Amnesty reminders from the collector, shown in the logged-in user's desktop session.

After each upload the upload child asks the collector for its holder's due
reminders (``GET /v1/messages``), shows each one, and acknowledges those it
showed (``POST /v1/messages/ack``); the collector then counts them delivered,
once. A reminder that could not be shown is not acknowledged and is not
offered again (the collector marks it uncertain rather than risk showing it
twice); failures never fail the upload.

On Linux a reminder goes to the ``org.freedesktop.Notifications`` service on
each logged-in user's session bus, through jeepney (a small, pure-Python,
well-kept D-Bus library; notify-send may not be installed, and its exit code
does not say whether a notification server took the message). An agent
running as root (the system service) cannot use another user's session bus
as itself: it runs ``python -m kitlife.agent.messages`` as that user, with the
reminder on stdin. Other platforms use the platform's notification command
(osascript, a PowerShell toast), which reaches the user when the agent runs
in their session; a per-user helper for a system-wide agent there is not
built yet (docs/agent.md).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_MESSAGES = 10
MAX_TITLE = 200
MAX_BODY = 4000
DBUS_TIMEOUT_S = 5.0
NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
# Reminders stay on screen until the user closes them (freedesktop spec: 0 = never expire).
EXPIRE_NEVER = 0


class ShowError(RuntimeError):
    """A reminder that could not be shown (no session bus, no notification server)."""


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    title: str
    body: str
    link: str


def parse_messages(data: Any) -> list[Message]:
    """The collector's answer, bounded: at most MAX_MESSAGES, text cut to size, bad rows dropped."""
    out: list[Message] = []
    if not isinstance(data, list):
        return out
    for item in data[:MAX_MESSAGES]:
        if not isinstance(item, Mapping):
            continue
        mid, title, body, link = (item.get(k) for k in ("id", "title", "body", "link"))
        if not (isinstance(mid, int) and not isinstance(mid, bool) and mid > 0):
            continue
        if not (isinstance(title, str) and isinstance(body, str) and isinstance(link, str)):
            continue
        if not link.startswith(("https://", "http://")):
            continue
        out.append(Message(mid, title[:MAX_TITLE], body[:MAX_BODY], link[:1000]))
    return out


def _markup_safe(text: str) -> str:
    """Notification servers may read the body as markup: show the text as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify_dbus(address: str, message: Message, timeout_s: float = DBUS_TIMEOUT_S) -> int:
    """Show ``message`` through the notification server on the bus at ``address``; its id."""
    from jeepney import DBusAddress, MessageType, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    target = DBusAddress(NOTIFICATIONS_PATH, bus_name=NOTIFICATIONS, interface=NOTIFICATIONS)
    call = new_method_call(
        target,
        "Notify",
        "susssasa{sv}i",
        (
            "kitlife",
            0,
            "",
            message.title,
            _markup_safe(message.body),
            [],
            {"urgency": ("y", 1)},
            EXPIRE_NEVER,
        ),
    )
    try:
        with open_dbus_connection(address, auth_timeout=timeout_s) as conn:
            reply = conn.send_and_get_reply(call, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as err:
        raise ShowError(f"session bus {address}: {err}") from err
    if reply.header.message_type is MessageType.error:
        raise ShowError(f"notification server: {reply.body[0] if reply.body else 'error'}")
    return int(reply.body[0])


def session_buses(
    run_user: Path = Path("/run/user"),
    env: Mapping[str, str] | None = None,
    uid: int | None = None,
) -> list[tuple[int, str]]:
    """(uid, bus address) of each session to show reminders in.

    The agent's own session when it has one (``DBUS_SESSION_BUS_ADDRESS``);
    else, run as root, every logged-in user's bus (``/run/user/UID/bus``,
    systemd-logind's place for it); else its own user's bus there.
    """
    env = os.environ if env is None else env
    uid = os.getuid() if uid is None else uid
    own = env.get("DBUS_SESSION_BUS_ADDRESS")
    if own:
        return [(uid, own)]
    buses: list[tuple[int, str]] = []
    try:
        entries = sorted(run_user.iterdir())
    except OSError:
        return buses
    for folder in entries:
        if not folder.name.isdigit():
            continue
        user = int(folder.name)
        if uid in (user, 0) and (folder / "bus").exists():
            buses.append((user, f"unix:path={folder / 'bus'}"))
    return buses


def _show_as(user: int, address: str, message: Message) -> bool:
    """Show as ``user`` in a child process (root cannot use another user's session bus)."""
    import pwd

    try:
        entry = pwd.getpwuid(user)
    except KeyError:
        return False
    env = {"DBUS_SESSION_BUS_ADDRESS": address, "HOME": entry.pw_dir, "PATH": "/usr/bin:/bin"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kitlife.agent.messages"],
            input=json.dumps(asdict(message)),
            env=env,
            user=user,
            group=entry.pw_gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=DBUS_TIMEOUT_S * 3,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        log.warning("could not show a reminder to user %d: %s", user, err)
        return False
    return done.returncode == 0


def show(message: Message) -> bool:
    """Show one reminder in every session found; True if at least one took it."""
    if sys.platform != "linux":
        from kitlife.agent.commands import run
        from kitlife.agent.platforms import current_platform

        text = f"{message.body}\n{message.link}"
        return run(current_platform().notification_command(message.title, text)).ok
    shown = False
    me = os.getuid()
    for user, address in session_buses():
        if user != me:
            shown = _show_as(user, address, message) or shown
            continue
        try:
            notify_dbus(address, message)
            shown = True
        except ShowError as err:
            log.warning("reminder %d not shown: %s", message.id, err)
    return shown


def deliver(client: Any, device_key: str) -> list[int]:
    """Fetch the due reminders, show them, acknowledge the ones shown; their ids.

    ``client`` is the upload's httpx client (base URL set). HTTP failures are
    logged and end the pass: the reminders are fetched again next hour.
    """
    import httpx

    headers = {"Authorization": f"Bearer {device_key}"}
    try:
        response = client.get("/v1/messages", headers=headers)
        if response.status_code != 200:
            log.warning("reminders not fetched: HTTP %d", response.status_code)
            return []
        shown = [m.id for m in parse_messages(response.json()) if show(m)]
        if shown:
            client.post("/v1/messages/ack", json={"ids": shown}, headers=headers)
    except (httpx.HTTPError, ValueError) as err:
        log.warning("reminders: %s", err)
        return []
    return shown


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kitlife.agent.messages``: show the reminder on stdin in this user's session."""
    del argv
    try:
        data = json.loads(sys.stdin.read(64 * 1024))
        [message] = parse_messages([data])
        notify_dbus(os.environ["DBUS_SESSION_BUS_ADDRESS"], message)
    except (ValueError, KeyError, ShowError) as err:
        print(f"not shown: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
