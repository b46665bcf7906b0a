"""The macOS package's pieces (pkgbuild itself runs only on macOS)."""

from __future__ import annotations

import plistlib
import subprocess
from pathlib import Path

import pytest

from kitlife.installers.enrolment import Enrolment, InstallerError
from kitlife.installers.launchd import plist_path
from kitlife.installers.macos import build_pkg, mobileconfig, stage
from kitlife.installers.service import AGENT, HELPER, MACOS


@pytest.fixture
def enrolment() -> Enrolment:
    return Enrolment.checked("https://kitlife.example", "kle_mac")


def test_stage_holds_the_agent_plists_and_scripts(
    frozen_agent: Path, enrolment: Enrolment, tmp_path: Path
) -> None:
    root, scripts = stage(frozen_agent, enrolment, tmp_path / "pkg")
    assert (root / str(MACOS.executable).lstrip("/")).is_file()
    for service in (AGENT, HELPER):
        data = plistlib.loads((root / plist_path(service).lstrip("/")).read_bytes())
        assert data["ProgramArguments"] == service.argv(MACOS)
    token = root / "Library/kitlife-agent/enrolment/token"
    assert token.read_text().strip() == "kle_mac"
    assert token.stat().st_mode & 0o777 == 0o600
    for script in ("preinstall", "postinstall"):
        subprocess.run(["sh", "-n", str(scripts / script)], check=True, timeout=30)


def test_profile_carries_url_and_token(enrolment: Enrolment) -> None:
    profile = plistlib.loads(mobileconfig(enrolment))
    assert profile["PayloadType"] == "Configuration"
    (payload,) = profile["PayloadContent"]
    assert payload["CollectorURL"] == "https://kitlife.example"
    assert payload["EnrolmentToken"] == "kle_mac"


def test_off_macos_the_package_is_staged_and_the_reason_given(
    frozen_agent: Path, enrolment: Enrolment, tmp_path: Path
) -> None:
    with pytest.raises(InstallerError, match="only on macOS"):
        build_pkg(frozen_agent, enrolment, tmp_path / "out", tmp_path / "work")
    assert (tmp_path / "out/kitlife-agent-pkg/scripts/postinstall").is_file()
    assert (tmp_path / "out/kitlife-agent.mobileconfig").is_file()
