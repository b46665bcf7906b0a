"""`kitlife-agent enroll --allow-http`: a lab collector on plain http, remembered for uploads."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import BIN, start_collector


def test_enrol_with_allow_http_then_upload_without_any_setting(
    sqlite_url: str, tmp_path: Path
) -> None:
    server = start_collector(sqlite_url, tmp_path / "collector.log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITLIFE_AGENT_")}
    env.update(
        KITLIFE_AGENT_STATE_DIR=str(tmp_path / "agent"),
        KITLIFE_AGENT_CONFIG=str(tmp_path / "none.toml"),
    )

    def agent(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "kitlife-agent"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    try:
        token = server.kitlife("token", "create", "--role", "enroll", "--uses", "2").stdout.strip()
        refused = agent("enroll", "--url", server.url, "--token", token)
        assert refused.returncode == 1 and "--allow-http" in refused.stderr
        assert "Traceback" not in refused.stderr
        enrolled = agent("enroll", "--url", server.url, "--token", token, "--allow-http")
        assert enrolled.returncode == 0, enrolled.stderr
        once = agent("once")
        assert once.returncode == 0, once.stderr
        assert server.kitlife("devices", "list", "--format", "json").stdout.count("device_uid") == 1
    finally:
        server.stop()
