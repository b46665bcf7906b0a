"""Settings: read once from KITLIFE_* at start, never at import; bad values named; docs in step."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitlife.collector.cli.main import cli
from kitlife.collector.runtime.settings import Settings, SettingsError, load_settings, open_store

ROOT = Path(__file__).resolve().parents[3]

# Every variable wrong at once: importing the collector must not notice any of them.
POISON = {
    "KITLIFE_DB": "mysql://nobody@nowhere/none",
    "KITLIFE_MAX_INFLIGHT": "notanumber",
    "KITLIFE_GROUP_LINGER_S": "soon",
    "KITLIFE_WRITER_THREADS": "-3",
    "KITLIFE_RESCORE_EVERY_S": "often",
    "KITLIFE_REATTACH_AFTER_SILENT_S": "an hour",
    "KITLIFE_ROLES": "/nonexistent/roles.toml",
}


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KITLIFE_")}
    return {**clean, **extra}


def test_importing_every_collector_module_reads_no_environment() -> None:
    """Fresh interpreter, poisoned environment: every module imports, then Settings() refuses."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import kitlife.collector as root
        names = [
            m.name
            for m in pkgutil.walk_packages(root.__path__, "kitlife.collector.")
            # Alembic's env and revisions run only inside an Alembic context.
            if ".migrations" not in m.name
        ]
        for name in names:
            importlib.import_module(name)
        from kitlife.collector.runtime.settings import Settings
        from pydantic import ValidationError
        try:
            Settings()
        except ValidationError as err:
            print(len(names), "modules;", err)
        else:
            sys.exit("Settings() accepted a poisoned environment")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=_env(**POISON),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[0]) > 50  # it really walked the collector
    for name in POISON:
        assert name in done.stdout, name


def test_a_bad_value_is_reported_by_variable_name_one_line_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KITLIFE_MAX_INFLIGHT", "notanumber")
    monkeypatch.setenv("KITLIFE_RESCORE_DUTY", "2")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("KITLIFE_MAX_INFLIGHT='notanumber': ")
    assert (
        lines[1].startswith("KITLIFE_RESCORE_DUTY='2': ") and "less than or equal to 1" in lines[1]
    )


def test_the_existing_names_still_set_their_fields(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    roles = tmp_path / "roles.toml"
    roles.write_text((ROOT / "collector/policy/data/roles.toml").read_text(encoding="utf-8"))
    for name, value in {
        "KITLIFE_DB": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "KITLIFE_MAX_INFLIGHT": "7",
        "KITLIFE_GROUP_LINGER_S": "0.002",
        "KITLIFE_WRITER_THREADS": "2",
        "KITLIFE_RESCORE_EVERY_S": "60",
        "KITLIFE_REATTACH_AFTER_SILENT_S": "0",
        "KITLIFE_ROLES": str(roles),
    }.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert (s.max_inflight_ingests, s.group_linger_s, s.writer_threads) == (7, 0.002, 2)
    assert (s.rescore_min_interval_s, s.reattach_after_silent_s, s.roles_path) == (60, 0, roles)
    assert s.db_url.endswith("x.sqlite3")
    # Arguments (the CLI's flags) win over the environment.
    assert Settings(max_inflight_ingests=3).max_inflight_ingests == 3


def test_the_store_gets_its_reattach_window_from_the_settings(sqlite_url: str) -> None:
    store = open_store(Settings(db_url=sqlite_url, reattach_after_silent_s=0))
    try:
        assert store.reattach_after_silent_s == 0
    finally:
        store.close()


def test_a_roles_file_that_does_not_parse_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "roles.toml"
    bad.write_text("[roles.x]\nmin_ram_gb = 8\n", encoding="utf-8")
    monkeypatch.setenv("KITLIFE_ROLES", str(bad))
    with pytest.raises(SettingsError, match=r"^KITLIFE_ROLES=.*roles.x lacks"):
        load_settings()


def test_the_cli_refuses_a_bad_environment_in_one_line(sqlite_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["devices", "list"], env={"KITLIFE_DB": sqlite_url, "KITLIFE_MAX_INFLIGHT": "x"}
    )
    assert result.exit_code == 2
    assert "KITLIFE_MAX_INFLIGHT='x'" in result.output
    assert "Traceback" not in result.output


def test_the_db_flag_overrides_kitlife_db(tmp_path: Path) -> None:
    env_db, flag_db = tmp_path / "env.sqlite3", tmp_path / "flag.sqlite3"
    result = CliRunner().invoke(
        cli,
        ["--db", f"sqlite:///{flag_db}", "db", "upgrade"],
        env={"KITLIFE_DB": f"sqlite:///{env_db}"},
    )
    assert result.exit_code == 0, result.output
    assert flag_db.exists() and not env_db.exists()


def test_the_settings_table_in_the_docs_lists_every_variable_with_its_default() -> None:
    doc = (ROOT / "docs/collector.md").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^\| `(KITLIFE_[A-Z0-9_]+)` \| ([^|]*) \|", doc, re.MULTILINE)
    }
    fields = Settings.model_fields
    assert sorted(rows) == sorted(str(f.validation_alias) for f in fields.values())
    for name, field in fields.items():
        if field.default_factory is not None or field.default is None:
            continue  # documented in words (a per-user folder; the shipped file)
        default = field.default
        if isinstance(default, bool):
            shown = str(default).lower()
        else:  # whole numbers in full (16,777,216, not 1.67772e+07)
            shown = str(default) if isinstance(default, int) else f"{default:g}"
        assert rows[str(field.validation_alias)].replace(",", "") == shown, name


def test_no_collector_variable_uses_the_agents_prefix() -> None:
    """The agent reads KITLIFE_AGENT_*: a shared name would set both sides on a machine
    that runs both (the demo, a test box)."""
    aliases = [str(f.validation_alias) for f in Settings.model_fields.values()]
    assert all(a.startswith("KITLIFE_") for a in aliases)
    assert not [a for a in aliases if a.startswith("KITLIFE_AGENT_")]
