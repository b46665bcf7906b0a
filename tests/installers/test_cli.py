"""``kitlife package``: usage errors in one line, exit 2."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kitlife.installers.cli import package


def test_msi_without_a_windows_build_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        package,
        ["--type", "msi", "--url", "https://k.example", "--token", "kle_a", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "needs --agent-build" in result.output


def test_plain_http_needs_allow_http(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        package,
        ["--type", "deb", "--url", "http://k.example", "--token", "kle_a", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "--allow-http" in result.output


def test_msi_is_built_around_a_windows_build(
    placeholder_windows_build: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        package,
        [
            "--type",
            "msi",
            "--url",
            "https://k.example",
            "--token",
            "kle_a",
            "--agent-build",
            str(placeholder_windows_build),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert Path(result.output.strip()).name == "kitlife-agent.msi"
