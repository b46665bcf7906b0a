"""Building kitlife's wheel from a clean copy of the work tree.

Shared by the packaging tests (what the wheel holds) and the agent footprint
benchmark (the agent run as a laptop gets it). The copy matters: setuptools
stages files in ./build, and a stale stage in the work tree would otherwise
leak deleted files into the wheel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_wheel(out: Path, staging: Path) -> Path:
    """The wheel built into ``out`` from a copy of the work tree under ``staging``."""
    src = staging / "kitlife"
    shutil.copytree(
        ROOT,
        src,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".venv", "build", "dist", ".git", "var", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        check=True,
        timeout=300,
    )
    (wheel,) = out.glob("kitlife-*.whl")
    return wheel
