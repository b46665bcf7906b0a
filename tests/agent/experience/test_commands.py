"""Running OS tools: every failure is a reason, and reasons carry no paths."""

from __future__ import annotations

import sys

from kitlife.agent.commands import run, scrub


def test_missing_tool_failure_and_timeout_are_reasons() -> None:
    assert run(["kitlife-no-such-tool"]).reason == "kitlife-no-such-tool not installed"
    failed = run([sys.executable, "-c", "import sys; sys.exit('boom at /home/alice/x')"])
    assert not failed.ok and "exit 1" in failed.reason and "alice" not in failed.reason
    slow = run([sys.executable, "-c", "import time; time.sleep(5)"], timeout_s=0.3)
    assert "timed out" in slow.reason
    ok = run([sys.executable, "-c", "print('hi')"])
    assert ok.ok and ok.text.strip() == "hi"


def test_scrub_removes_paths_only() -> None:
    assert scrub("Failed to open /home/alice/x.journal: denied") == "Failed to open <path>: denied"
    assert scrub("cannot read C:\\Users\\bob\\a.evtx now") == "cannot read <path> now"
    assert scrub("~/Library/Logs gone") == "<path> gone"
    assert scrub("(PID 1). Can't operate; 3 io/s") == "(PID 1). Can't operate; 3 io/s"
