"""Every OS's service definition comes from the one description."""

from __future__ import annotations

import plistlib
import shlex

from kitlife.installers.launchd import plist_bytes, plist_path
from kitlife.installers.service import AGENT, HELPER, LINUX, MACOS, WINDOWS, TargetOS
from kitlife.installers.systemd import CAPABILITIES, unit_text


def _unit_values(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key] = value
    return values


def test_unit_runs_the_described_command_as_the_service_user() -> None:
    unit = _unit_values(unit_text(AGENT))
    assert shlex.split(unit["ExecStart"]) == AGENT.argv(LINUX)
    assert unit["User"] == LINUX.service_user
    assert unit["RestartSec"] == str(AGENT.restart_delay_s)
    assert unit["TimeoutStopSec"] == str(AGENT.stop_timeout_s)
    assert unit["StateDirectory"] == LINUX.state_dir.name


def test_unit_is_hardened_and_keeps_only_the_smartctl_capabilities() -> None:
    unit = _unit_values(unit_text(AGENT))
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
    }.items():
        assert unit[key] == value
    assert unit["AmbientCapabilities"].split() == list(CAPABILITIES)
    assert unit["CapabilityBoundingSet"].split() == list(CAPABILITIES)


def test_linux_service_command_is_the_fast_run_path() -> None:
    from kitlife.agent.entry import _fast_run_args

    opts = _fast_run_args(AGENT.argv(LINUX)[1:])
    assert opts is not None
    assert str(opts["config"]) == str(LINUX.config_file)


def test_launch_daemon_plist_is_valid_and_runs_as_root() -> None:
    daemon = plistlib.loads(plist_bytes(AGENT))
    assert daemon["Label"] == AGENT.label
    assert daemon["ProgramArguments"] == AGENT.argv(MACOS)
    assert daemon["UserName"] == "root"
    assert daemon["KeepAlive"] is True
    assert plist_path(AGENT) == f"/Library/LaunchDaemons/{AGENT.label}.plist"


def test_launch_agent_plist_starts_the_helper_in_graphical_sessions() -> None:
    helper = plistlib.loads(plist_bytes(HELPER))
    assert helper["ProgramArguments"] == HELPER.argv(MACOS)
    assert helper["LimitLoadToSessionType"] == "Aqua"
    assert "UserName" not in helper
    assert plist_path(HELPER) == f"/Library/LaunchAgents/{HELPER.label}.plist"


def test_windows_runs_the_service_host_module() -> None:
    assert AGENT.argv(WINDOWS)[1:] == ["-m", "kitlife.agent.winservice"]
    assert AGENT.arguments_for(TargetOS.WINDOWS, "x") == ["-m", "kitlife.agent.winservice"]


def test_winservice_module_refuses_to_run_off_windows() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "kitlife.agent.winservice"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Windows" in done.stderr
