"""What an installer carries, checked before anything is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from kitlife.agent.config import load_config
from kitlife.installers.enrolment import Enrolment, InstallerError, agent_toml
from kitlife.installers.service import LINUX, MACOS, WINDOWS

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_config_is_read_by_the_agent_as_written(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(PEM)
    enrolment = Enrolment.checked('https://kitlife.example/"x', "kle_abc", ca)
    path = tmp_path / "agent.toml"
    path.write_text(agent_toml(LINUX, enrolment), encoding="utf-8")
    config = load_config(path)
    assert config.collector_url == 'https://kitlife.example/"x'
    assert str(config.state_dir) == str(LINUX.state_dir)
    assert config.ca_bundle == str(LINUX.ca_file)
    assert config.allow_http is False


@pytest.mark.parametrize("layout", [LINUX, MACOS, WINDOWS])
def test_config_never_holds_the_token(layout: object) -> None:
    text = agent_toml(layout, Enrolment.checked("https://k.example", "kle_secret"))  # type: ignore[arg-type]
    assert "kle_secret" not in text


@pytest.mark.parametrize(
    ("url", "token", "allow_http", "reason"),
    [
        ("ftp://k.example", "kle_a", False, "an http\\(s\\) URL"),
        ("http://k.example", "kle_a", False, "plain http"),
        ("https://k.example", "kle a", False, "without spaces"),
        ("https://k.example", "", False, "without spaces"),
    ],
)
def test_unusable_inputs_are_refused(url: str, token: str, allow_http: bool, reason: str) -> None:
    with pytest.raises(InstallerError, match=reason):
        Enrolment.checked(url, token, None, allow_http)


def test_a_ca_file_without_a_certificate_is_refused(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate")
    with pytest.raises(InstallerError, match="no PEM certificate"):
        Enrolment.checked("https://k.example", "kle_a", ca)
