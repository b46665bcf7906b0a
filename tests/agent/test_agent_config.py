"""AgentConfig: TOML < env < flags, unknown keys warned, wrong types refused, ack bounds."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kitlife.agent.config import AgentConfig, ConfigError, load_config


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("KITLIFE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("KITLIFE_AGENT_STATE_DIR", str(tmp_path / "state"))


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.toml")
    assert config == AgentConfig(state_dir=tmp_path / "state")
    assert config.spool_max_bytes == 20 * 1024 * 1024
    assert config.sample_interval_s == 60


def test_toml_env_and_flags_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _toml(
        tmp_path,
        '[agent]\nsample_interval_s = 120\nupload_interval_s = 1800\ncollector_url = "https://a"\n',
    )
    assert load_config(path).sample_interval_s == 120
    monkeypatch.setenv("KITLIFE_AGENT_SAMPLE_INTERVAL_S", "30")
    monkeypatch.setenv("KITLIFE_AGENT_ALLOW_HTTP", "yes")
    config = load_config(path)
    assert (config.sample_interval_s, config.upload_interval_s) == (30, 1800)
    assert config.allow_http is True
    assert config.collector_url == "https://a"
    flagged = load_config(path, {"sample_interval_s": 10, "state_dir": tmp_path / "f"})
    assert flagged.sample_interval_s == 10
    assert flagged.state_dir == tmp_path / "f"
    assert flagged.pinned == {"sample_interval_s", "allow_http", "state_dir"}


def test_top_level_table_is_accepted(tmp_path: Path) -> None:
    assert load_config(_toml(tmp_path, "startup_splay_s = 7\n")).startup_splay_s == 7


def test_unknown_keys_are_warned_about_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _toml(tmp_path, "[agent]\nsample_intervall_s = 5\nlog_max_bytes = 65536\n")
    with caplog.at_level(logging.WARNING):
        config = load_config(path)
    assert config.log_max_bytes == 65536
    assert "unknown key 'sample_intervall_s' ignored" in caplog.text
    assert str(path) in caplog.text


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('sample_interval_s = "often"', "sample_interval_s"),
        ("sample_interval_s = true", "expected a number, got bool"),
        ("allow_http = 1", "allow_http: expected true or false"),
        ("collector_url = 5", "collector_url: expected a string, got int"),
        ("spool_max_bytes = 10", "spool_max_bytes: 10 is outside"),
        ("upload_interval_s = 0", "upload_interval_s: 0 is outside"),
        ("sample_interval_s = -60", "is outside"),
        ("batch_max_points = 1e12", "batch_max_points"),
        ("state_dir = 3", "state_dir: expected a path"),
    ],
)
def test_wrong_types_and_values_are_refused_with_key_and_reason(
    tmp_path: Path, line: str, needle: str
) -> None:
    path = _toml(tmp_path, f"[agent]\n{line}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert needle in str(err.value)
    assert str(path) in str(err.value)


def test_bad_env_value_names_the_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITLIFE_AGENT_UPLOAD_INTERVAL_S", "fast")
    with pytest.raises(ConfigError, match=r"environment: upload_interval_s"):
        load_config(tmp_path / "missing.toml")


def test_unparseable_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"agent\.toml"):
        load_config(_toml(tmp_path, "[agent\n"))


# -- the collector's ack config ----------------------------------------------------------
def test_ack_config_applies_good_values() -> None:
    new, refused = AgentConfig().with_remote({"sample_interval_s": 120, "upload_interval_s": 600})
    assert (new.sample_interval_s, new.upload_interval_s) == (120, 600)
    assert refused == []


@pytest.mark.parametrize(
    "value",
    [0, -60, 10**12, "60", True, None, [60], {"v": 60}, 1.5, float("nan"), float("inf"), 5],
)
def test_ack_config_bad_values_are_refused_without_raising(value: object) -> None:
    before = AgentConfig()
    new, refused = before.with_remote({"sample_interval_s": value, "upload_interval_s": 1200})
    assert new.sample_interval_s == before.sample_interval_s
    assert new.upload_interval_s == 1200  # the good key still applies
    assert len(refused) == 1 and "sample_interval_s" in refused[0]


def test_ack_config_cannot_touch_trust_settings_or_pinned_keys() -> None:
    new, refused = AgentConfig().with_remote(
        {"allow_http": True, "ca_bundle": "/tmp/evil.pem", "sample_interval_s": 30},
        pinned=frozenset({"sample_interval_s"}),
    )
    assert new == AgentConfig()
    assert len(refused) == 3


def test_ack_config_floors_protect_the_collector() -> None:
    # Locally 1 s is allowed (tests, labs); from the collector it would be a fleet-wide flood.
    assert AgentConfig().with_overrides({"upload_interval_s": 1}, "t").upload_interval_s == 1
    new, refused = AgentConfig().with_remote({"upload_interval_s": 1, "sample_interval_s": 9})
    assert new == AgentConfig()
    assert all("floor" in r for r in refused)


def test_one_prefix_and_the_config_file_from_the_environment(tmp_path: Path) -> None:
    path = _toml(tmp_path, "startup_splay_s = 7\n")
    env = {"KITLIFE_AGENT_CONFIG": str(path), "KITLIFE_AGENT_STATE_DIR": str(tmp_path / "s")}
    config = load_config(env=env)
    assert (config.startup_splay_s, config.state_dir) == (7, tmp_path / "s")
    assert config.pinned == {"state_dir"}  # the file is not pinned: the collector may override it


def test_earlier_variable_names_are_warned_about_not_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = {
        "KITLIFE_AGENT_STATE_DIR": str(tmp_path / "s"),
        "KITLIFE_STATE_DIR": "/elsewhere",
        "KITLIFE_UPLOAD_INTERVAL_S": "60",
        "KITLIFE_CONFIG": "/etc/other.toml",
        "KITLIFE_DB": "sqlite://",  # the collector's: not the agent's business
    }
    with caplog.at_level(logging.WARNING):
        config = load_config(tmp_path / "missing.toml", env=env)
    assert config.state_dir == tmp_path / "s"
    assert config.upload_interval_s == 3600  # the default: hourly
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "KITLIFE_STATE_DIR is no longer read; set KITLIFE_AGENT_STATE_DIR" in warned
    assert "KITLIFE_UPLOAD_INTERVAL_S" in warned and "KITLIFE_CONFIG" in warned
    assert "KITLIFE_DB" not in warned


def test_importing_the_agent_reads_no_environment() -> None:
    """Settings are resolved when load_config runs, so a changed environment is seen."""
    import subprocess
    import sys

    code = (
        "import os, kitlife.agent.config as c, kitlife.agent.service, kitlife.agent.cli\n"
        "os.environ['KITLIFE_AGENT_SAMPLE_INTERVAL_S'] = '7'\n"
        "print(c.load_config(c.Path('/nonexistent.toml')).sample_interval_s)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "7"
