"""The frozen agent, built once per session (about 10-15 s with PyInstaller)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kitlife.installers.freeze import freeze


@pytest.fixture(scope="session")
def frozen_agent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The onedir agent build, as ``kitlife package --type deb`` ships it."""
    base = tmp_path_factory.mktemp("frozen")
    build = freeze(base / "dist", base / "work")
    assert (build / "kitlife-agent").is_file()
    return build


@pytest.fixture
def placeholder_windows_build(tmp_path: Path) -> Path:
    """A onedir tree shaped like the Windows build (which only Windows can make)."""
    root = tmp_path / "win-build"
    (root / "_internal").mkdir(parents=True)
    (root / "kitlife-agent.exe").write_bytes(b"MZ placeholder")
    (root / "_internal" / "python311.dll").write_bytes(b"MZ placeholder")
    (root / "_internal" / "base_library.zip").write_bytes(os.urandom(64))
    return root
