"""Amnesty reminders reach the desktop: a real session bus (dbus-daemon) and notification server.

The notification server is a small D-Bus service written with jeepney in this
test, owning ``org.freedesktop.Notifications`` on a private ``dbus-daemon
--session`` (Debian's dbus package): what a desktop's notification daemon does.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from jeepney import MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

from kitlife.agent.childjob import upload
from kitlife.agent.config import AgentConfig
from kitlife.agent.credentials import Credentials, save_credentials
from kitlife.agent.messages import Message, notify_dbus, parse_messages, session_buses
from kitlife.agent.readings import SourceResult
from kitlife.agent.spool import Spool
from kitlife.collector.policy import amnesty as policy
from kitlife.collector.runtime.amnesty import ScheduleRequest, schedule
from kitlife.collector.runtime.settings import Settings
from kitlife.collector.store.schema import amnesty_messages
from tests.collector.amnesty_estate import POINTS_CSV, build
from tests.collector.api.conftest import running


@dataclass
class Desktop:
    """A session bus and the notifications its server was asked to show."""

    address: str
    shown: list[tuple[str, str, str]] = field(default_factory=list)


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[Desktop]:
    assert shutil.which("dbus-daemon"), "dbus missing: scripts/system-deps installs it"
    socket = tmp_path / "bus"
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address=unix:path={socket}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while not socket.exists():
        assert daemon.poll() is None and time.monotonic() < deadline, "dbus-daemon did not start"
        time.sleep(0.02)
    box = Desktop(f"unix:path={socket}")
    stop = threading.Event()
    ready = threading.Event()

    def serve() -> None:
        with open_dbus_connection(box.address) as conn:
            conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.Notifications"))
            ready.set()
            while not stop.is_set():
                try:
                    msg = conn.receive(timeout=0.1)
                except TimeoutError:
                    continue
                if msg.header.message_type is not MessageType.method_call:
                    continue
                if msg.header.fields.get(3) == "Notify":  # 3: the MEMBER header field
                    app, _replaces, _icon, summary, body, *_ = msg.body
                    box.shown.append((app, summary, body))
                    conn.send(new_method_return(msg, "u", (len(box.shown),)))
                else:
                    conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield box
    finally:
        stop.set()
        thread.join(5)
        daemon.terminate()
        daemon.wait(10)


def test_a_reminder_is_shown_by_the_sessions_notification_server(desktop: Desktop) -> None:
    message = Message(7, "Amnesty day 2027-03-15 (in 3 days)", "bring <pc-1> & co", "https://x/b")
    assert notify_dbus(desktop.address, message) == 1
    assert desktop.shown == [
        ("kitlife", "Amnesty day 2027-03-15 (in 3 days)", "bring &lt;pc-1&gt; &amp; co")
    ]


def test_no_notification_server_is_an_error_not_a_hang(tmp_path: Path) -> None:
    from kitlife.agent.messages import ShowError

    with pytest.raises(ShowError):
        notify_dbus(f"unix:path={tmp_path / 'nobody'}", Message(1, "t", "b", "https://x"))


def test_session_buses_own_session_first_then_logged_in_users(tmp_path: Path) -> None:
    assert session_buses(tmp_path, {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/a"}, 1000) == [
        (1000, "unix:path=/a")
    ]
    for uid in ("1000", "1001"):
        (tmp_path / uid).mkdir()
        (tmp_path / uid / "bus").touch()
    (tmp_path / "1002").mkdir()  # logged in, no bus: nothing to show it on
    assert session_buses(tmp_path, {}, 1001) == [(1001, f"unix:path={tmp_path / '1001' / 'bus'}")]
    assert [u for u, _ in session_buses(tmp_path, {}, 0)] == [1000, 1001]  # root: everyone's


def test_collector_answers_are_bounded_and_checked() -> None:
    good = {"id": 1, "title": "t" * 500, "body": "b", "link": "https://x/amnesty/book/1/t"}
    bad = [
        {"id": "1", "title": "t", "body": "b", "link": "https://x"},
        {"id": 2, "title": "t", "body": "b", "link": "javascript:alert(1)"},
        {"id": True, "title": "t", "body": "b", "link": "https://x"},
        "junk",
    ]
    parsed = parse_messages([good, *bad])
    assert [m.id for m in parsed] == [1] and len(parsed[0].title) == 200
    assert len(parse_messages([good] * 50)) == 10
    assert parse_messages({"not": "a list"}) == []


def test_the_upload_child_shows_the_holders_reminder_once(
    desktop: Desktop, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upload to a real collector, then the reminder appears in the session, then never again."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desktop.address)
    with running(Settings(db_url=sqlite_url, prune_interval_s=0)) as live:
        estate = build(live.store)
        today = int(time.time()) // 86_400
        schedule(
            live.store,
            ScheduleRequest(
                name="Spring amnesty",
                date=policy.EPOCH + dt.timedelta(days=today + 2),
                sites=("London", "Bristol"),
                points_csv=POINTS_CSV,
                channels=("agent",),
            ),
        )
        _device_id, uid = estate.devices["pc-idle"]
        state = tmp_path / "agent"
        state.mkdir()
        save_credentials(state, Credentials(live.url, uid, estate.keys["pc-idle"]))
        with Spool(state / "spool.db") as spool:
            result = SourceResult("system")
            result.add("cpu.busy_pct", 12.0)
            spool.add([result], int(time.time()))
        config = AgentConfig(state_dir=state, allow_http=True)
        first = upload(config)
        assert first["ok"] and first["acked"] == 1 and first["reminders"] == 1, first
        [(app, title, body)] = desktop.shown
        assert app == "kitlife" and title.startswith("Amnesty day") and "(in 3 days)" in title
        assert "pc-idle" in body and "no active use for 45 days" in body
        assert "pc-ref" not in body and "h-ref" not in body  # nobody else's data
        with Spool(state / "spool.db") as spool:
            result = SourceResult("system")
            result.add("cpu.busy_pct", 13.0)
            spool.add([result], int(time.time()))
        assert upload(config)["reminders"] == 0
        assert len(desktop.shown) == 1
        m = amnesty_messages
        with live.store.engine.connect() as conn:
            rows = conn.execute(
                m.select().where(m.c.status == "delivered", m.c.channel == "agent")
            ).all()
        assert [(r.device_id, r.lead_days) for r in rows] == [(estate.devices["pc-idle"][0], 3)]
