"""The Linux package, installed for real on this machine, enrolled against a real collector.

The tests run as root in a throwaway container (scripts/test does so; CI too).
The package is installed with dpkg on the host itself: it owns
``/usr/lib/kitlife-agent``, ``/etc/kitlife``, ``/var/lib/kitlife`` and a
``kitlife`` user, and the test refuses to start if any of them exists already.
systemd is not PID 1 here, so the postinst skips systemctl and the test runs
the unit's own command line as the service user instead.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitlife.installers.cli import package
from kitlife.installers.deb import PACKAGE, UNIT_PATH
from kitlife.installers.service import AGENT, LINUX
from tests.conftest import Collector, start_collector

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("dpkg") is None, reason="installs a .deb: needs root"
)
# Where installing and purging the package may leave traces.
WATCHED = ["/etc", "/usr", "/var/lib", "/lib"]
# dpkg's and the user database's own bookkeeping, changed in place by any package.
BOOKKEEPING = ("/var/lib/dpkg/", "/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-")
# Other services on the machine write there all the time (the suite's own PostgreSQL).
BUSY = ("/var/lib/postgresql/",)
UPLOAD_WAIT_S = 60


def snapshot() -> set[str]:
    found = set()
    for top in WATCHED:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                if not path.startswith(BOOKKEEPING + BUSY):
                    found.add(path)
    return found


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    server = start_collector(f"sqlite:///{tmp_path / 'collector.sqlite3'}", tmp_path / "c.log")
    yield server
    server.stop()


@pytest.fixture
def deb(frozen_agent: Path, collector: Collector, tmp_path: Path) -> Path:
    token = collector.kitlife("token", "create", "--role", "enroll").stdout.strip()
    result = CliRunner().invoke(
        package,
        [
            "--type",
            "deb",
            "--url",
            collector.url,
            "--token",
            token,
            "--allow-http",
            "--agent-build",
            str(frozen_agent),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    return Path(result.output.strip())


def test_lintian_finds_no_errors(deb: Path) -> None:
    done = sh("lintian", "--no-tag-display-limit", str(deb), check=False)
    errors = [line for line in done.stdout.splitlines() if line.startswith("E:")]
    assert errors == []
    assert done.returncode == 0, done.stdout + done.stderr


def test_install_enrols_uploads_and_purge_leaves_nothing(
    deb: Path, collector: Collector, tmp_path: Path
) -> None:
    owned = [LINUX.install_dir, LINUX.config_file.parent, LINUX.state_dir]
    assert not any(Path(p).exists() for p in owned), "a kitlife-agent is installed already"
    assert sh("getent", "passwd", LINUX.service_user, check=False).returncode != 0
    before = snapshot()
    try:
        installed = sh("dpkg", "-i", str(deb))
        assert "enrolled as" in installed.stdout
        verify = sh("systemd-analyze", "verify", UNIT_PATH, check=False)
        assert verify.returncode == 0, verify.stderr
        assert verify.stderr.strip() == ""
        device = json.loads(Path(LINUX.state_dir, "device.json").read_text())
        assert Path(LINUX.state_dir, "device.json").stat().st_mode & 0o777 == 0o600
        assert Path(LINUX.state_dir).owner() == LINUX.service_user

        # The unit's command line as the unit's user: the service loop, then its upload child.
        with Path(LINUX.config_file).open("a") as config:
            config.write("startup_splay_s = 0\nsample_interval_s = 5\n")
        loop = subprocess.Popen(
            ["runuser", "-u", LINUX.service_user, "--", *AGENT.argv(LINUX)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + UPLOAD_WAIT_S
            status: dict[str, object] = {}
            while time.monotonic() < deadline and not status.get("last_upload_s"):
                time.sleep(1)
                status = json.loads(
                    sh(
                        "runuser",
                        "-u",
                        LINUX.service_user,
                        "--",
                        "kitlife-agent",
                        "--config",
                        str(LINUX.config_file),
                        "status",
                        "--json",
                    ).stdout
                )
        finally:
            os.killpg(loop.pid, signal.SIGTERM)
            _, err = loop.communicate(timeout=30)
        assert status.get("last_upload_s"), err
        shown = collector.kitlife("devices", "show", device["device_id"]).stdout
        assert device["device_id"] in shown
    finally:
        purged = sh("dpkg", "--purge", PACKAGE, check=False)
    assert purged.returncode == 0, purged.stderr
    assert sh("getent", "passwd", LINUX.service_user, check=False).returncode != 0
    assert sh("getent", "group", LINUX.service_user, check=False).returncode != 0
    assert snapshot() ^ before == set()
