"""The wheel installs as kitlife.* only, and the bare install is the agent alone."""

from __future__ import annotations

import subprocess
import venv
import zipfile
from pathlib import Path

import pytest

from bench.wheel import build_wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("src"))


def test_wheel_holds_only_the_kitlife_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.startswith("kitlife-")}
    assert top == {"kitlife"}
    assert "kitlife/agent/cli.py" in names and "kitlife/protocol/wire.py" in names
    assert any(n.startswith("kitlife/collector/store/migrations/versions/") for n in names)


def test_wheel_carries_every_data_licence_beside_its_data(wheel: Path) -> None:
    """Each shipped third-party table travels with its licence notice (ODbL for Boavizta)."""
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "kitlife/collector/policy/data/"
    assert data + "boavizta-data-us.csv" in names
    notice = zipfile.ZipFile(wheel).read(data + "BOAVIZTA.md").decode()
    assert "ODbL" in notice
    # Every table kitlife reads is in the wheel, in the one data folder.
    for table in ("thresholds.csv", "repair_catalogue.csv", "roles.toml", "os_support.csv"):
        assert data + table in names
    assert data + "amnesty.csv" in names
    # The amnesty certificate and booking page templates travel with the code.
    assert "kitlife/collector/reports/templates/certificate.html" in names
    for page in ("base.html", "booking.html", "problem.html"):
        assert f"kitlife/collector/api/templates/amnesty/{page}" in names


def test_bare_install_is_the_agent_without_collector_dependencies(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for bare in ("agent", "collector", "protocol"):
        assert not (Path(site) / bare).exists(), f"bare top-level {bare!r} installed"
    probe = (
        "import kitlife.agent.cli, kitlife.protocol\n"
        "import importlib.util as u\n"
        "print(u.find_spec('fastapi') is None, u.find_spec('sqlalchemy') is None)"
    )
    out = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
    helped = subprocess.run(
        [str(env_dir / "bin" / "kitlife-agent"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "enroll" in helped.stdout and "once" in helped.stdout
