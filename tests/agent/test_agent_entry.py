"""The executable's fast path: exactly the service command line skips click."""

from __future__ import annotations

from pathlib import Path

import pytest

from kitlife.agent.entry import _fast_run_args


def test_service_command_lines_take_the_fast_path() -> None:
    assert _fast_run_args(["run"]) == {
        "config": None,
        "state_dir": None,
        "verbose": False,
        "in_process_upload": False,
    }
    opts = _fast_run_args(["--config", "/etc/k.toml", "--state-dir=/var/k", "-v", "run"])
    assert opts is not None
    assert opts["config"] == Path("/etc/k.toml")
    assert opts["state_dir"] == Path("/var/k")
    assert opts["verbose"] is True
    assert _fast_run_args(["run", "--in-process-upload"]) == {
        "config": None,
        "state_dir": None,
        "verbose": False,
        "in_process_upload": True,
    }


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["status"],
        ["run", "--help"],
        ["--help"],
        ["--version"],
        ["--config"],
        ["run", "extra"],
        ["--bogus", "run"],
        ["enroll", "--url", "x", "--token", "run"],
    ],
)
def test_everything_else_goes_to_click(argv: list[str]) -> None:
    assert _fast_run_args(argv) is None
