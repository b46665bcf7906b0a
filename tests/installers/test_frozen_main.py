"""The frozen executable runs the agent's own modules for ``-m``, and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kitlife.installers.frozen_main import runnable_module


def test_agent_modules_are_runnable() -> None:
    assert runnable_module(["-m", "kitlife.agent.childjob", "upload"]) == "kitlife.agent.childjob"


def test_other_modules_and_ordinary_commands_are_not() -> None:
    assert runnable_module(["-m", "os"]) is None
    assert runnable_module(["-m", "kitlife.collector.cli"]) is None
    assert runnable_module(["run"]) is None
    assert runnable_module(["-m"]) is None


def test_frozen_build_reports_its_version(frozen_agent: Path) -> None:
    done = subprocess.run(
        [str(frozen_agent / "kitlife-agent"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("kitlife-agent, version ")


def test_frozen_build_starts_the_service_children(frozen_agent: Path, tmp_path: Path) -> None:
    """What agent/service.py runs: ``sys.executable -m kitlife.agent.childjob ...``."""
    exe = str(frozen_agent / "kitlife-agent")
    # A probe child: the hardware parsers and the spool, frozen.
    probed = subprocess.run(
        [exe, "-m", "kitlife.agent.childjob", "probe", "storage", "inventory"],
        check=False,
        input=json.dumps({"state_dir": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(probed.stdout)["ok"] is True, probed.stdout + probed.stderr[-2000:]
    assert json.loads(probed.stdout)["points"] > 0
    upload = subprocess.run(
        [exe, "-m", "kitlife.agent.childjob", "upload"],
        check=False,
        input=json.dumps({"state_dir": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "not enrolled" in json.loads(upload.stdout)["error"]


def test_frozen_build_holds_no_collector_code(frozen_agent: Path) -> None:
    names = {p.name for p in frozen_agent.rglob("*")}
    assert not {"fastapi", "sqlalchemy", "numpy", "scipy", "uvloop"} & names


def test_frozen_build_leaves_out_what_costs_every_start_memory(frozen_agent: Path) -> None:
    """No runtime hook the agent does not need, no multiprocessing: RSS of the resident loop.

    Read from the executable's own archive, as PyInstaller's archive viewer lists it.
    """
    from kitlife.installers.freeze import DROP_RUNTIME_HOOKS

    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller.utils.cliutils.archive_viewer",
            "--list",
            "--recursive",
            str(frozen_agent / "kitlife-agent"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    names = {line.rsplit(",", 1)[-1].strip().strip("'") for line in listing.splitlines()}
    assert "frozen_main" in names  # the listing is read as expected
    assert "pyiboot01_bootstrap" in names
    assert "httpx" in names  # the upload child's modules are in the build
    assert not set(DROP_RUNTIME_HOOKS) & names
    assert "pyi_rth_multiprocessing" not in names
    assert not {n for n in names if n.split(".")[0] == "multiprocessing"}
