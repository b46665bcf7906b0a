"""The import contracts in pyproject.toml ([tool.importlinter]) hold: a wrong import fails here.

Runs import-linter's own command line, as CI and people do, over the source
tree as it is (static analysis: nothing is imported or run).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_lint_imports_keeps_every_contract() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "lint-imports missing: install the dev extra (pip install -e '.[dev]')"
    done = subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " broken" in done.stdout and ", 0 broken." in done.stdout
