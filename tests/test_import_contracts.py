"""The layer rules in pyproject.toml hold: a wrong import fails the suite.

import-linter reads its contracts from pyproject.toml; docs/architecture.md
draws the same layers. Run as a subprocess so the contracts are checked exactly
as `lint-imports` checks them on a developer's machine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    return subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout


def _lint_a_copy_with(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    """lint-imports on a copy of the tree where ``module`` (a path under it) gains ``line``."""
    for name in ("agent", "collector", "protocol", "kitlife"):
        shutil.copytree(ROOT / name, tmp_path / name, symlinks=True)
    for extra in ("installers",):
        if (ROOT / extra).is_dir():
            shutil.copytree(ROOT / extra, tmp_path / extra, symlinks=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    source = tmp_path / module
    source.write_text(source.read_text() + f"\n{line}  # noqa\n")
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    return subprocess.run(
        [exe, "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(tmp_path)},
    )


def test_a_wrong_import_breaks_a_contract(tmp_path: Path) -> None:
    """The same check on a copy of the tree where policy imports the store must fail."""
    result = _lint_a_copy_with(
        tmp_path, "collector/policy/fit.py", "from kitlife.collector.store import Store"
    )
    assert result.returncode != 0
    assert "kitlife.collector.policy.fit -> kitlife.collector.store" in result.stdout


def test_a_parser_that_runs_commands_breaks_the_agent_contracts(tmp_path: Path) -> None:
    """A parser reaching for the command runner (and so subprocess) must fail the suite."""
    result = _lint_a_copy_with(
        tmp_path, "agent/parsers/upower.py", "from kitlife.agent.commands import run"
    )
    assert result.returncode != 0
    assert "kitlife.agent.parsers.upower -> kitlife.agent.commands" in result.stdout
    assert "kitlife.agent.parsers is not allowed to import subprocess" in result.stdout


def test_a_platform_importing_a_source_breaks_the_agent_layers(tmp_path: Path) -> None:
    result = _lint_a_copy_with(
        tmp_path, "agent/platforms/_common.py", "from kitlife.agent.sources.table import SOURCES"
    )
    assert result.returncode != 0
    assert "kitlife.agent.platforms is not allowed to import kitlife.agent.sources" in result.stdout
