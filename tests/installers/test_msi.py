"""The Windows installer, built with wixl and read back with msiinfo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kitlife.installers.enrolment import Enrolment
from kitlife.installers.msi import build_msi
from kitlife.installers.service import AGENT, HELPER

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def table(msi: Path, name: str) -> list[dict[str, str]]:
    """One MSI table as rows of column -> value (msiinfo's export: names, types, key, rows)."""
    text = subprocess.run(
        ["msiinfo", "export", str(msi), name],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    lines = text.split("\r\n") if "\r\n" in text else text.splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=False)) for line in lines[3:] if line]


@pytest.fixture
def msi(placeholder_windows_build: Path, tmp_path: Path) -> Path:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(PEM)
    enrolment = Enrolment.checked("https://kitlife.example", "kle_token1", ca)
    return build_msi(placeholder_windows_build, enrolment, tmp_path / "out", tmp_path / "work")


def test_service_is_installed_from_the_description(msi: Path) -> None:
    (row,) = table(msi, "ServiceInstall")
    assert row["Name"] == AGENT.name
    assert row["DisplayName"] == AGENT.display_name
    assert row["Arguments"] == "-m kitlife.agent.winservice"
    assert row["StartName"] == "LocalSystem"
    assert row["StartType"] == "2"  # automatic
    (control,) = table(msi, "ServiceControl")
    assert control["Name"] == AGENT.name


def test_url_and_token_are_properties_that_reach_the_elevated_install(msi: Path) -> None:
    props = {r["Property"]: r["Value"] for r in table(msi, "Property")}
    assert props["URL"] == "https://kitlife.example"
    assert props["TOKEN"] == "kle_token1"
    assert {"URL", "TOKEN"} <= set(props["SecureCustomProperties"].split(";"))
    assert props["MsiHiddenProperties"] == "TOKEN"


def test_enrolment_runs_before_the_service_starts_on_first_install(msi: Path) -> None:
    actions = {r["Action"]: r for r in table(msi, "CustomAction")}
    assert 'enroll --url "[URL]" --token "[TOKEN]"' in actions["Enrol"]["Target"]
    sequence = {r["Action"]: r for r in table(msi, "InstallExecuteSequence")}
    assert int(sequence["Enrol"]["Sequence"]) < int(sequence["StartServices"]["Sequence"])
    assert "NOT Installed" in sequence["Enrol"]["Condition"]
    assert int(sequence["RemoveState"]["Sequence"]) > int(sequence["StopServices"]["Sequence"])
    assert 'REMOVE="ALL"' in sequence["RemoveState"]["Condition"]


def test_helper_starts_at_every_logon(msi: Path) -> None:
    (run,) = [r for r in table(msi, "Registry") if r["Name"] == HELPER.name]
    assert run["Root"] == "2"  # HKLM
    assert run["Key"] == r"Software\Microsoft\Windows\CurrentVersion\Run"
    assert "-m kitlife.agent.userhelper" in run["Value"]


def test_every_file_of_the_build_and_the_config_is_a_component(
    msi: Path, placeholder_windows_build: Path
) -> None:
    files = {r["FileName"].split("|")[-1] for r in table(msi, "File")}
    built = {p.name for p in placeholder_windows_build.rglob("*") if p.is_file()}
    assert files == built | {"agent.toml", "collector-ca.pem"}
    assert len(table(msi, "Component")) == len(built) + 2  # + settings, + Run key
