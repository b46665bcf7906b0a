"""``kitlife``: the admin's command line (``main.py``: the group and core commands;
``fleet.py``: assets, fit, redeploy, report, simulate)."""

from kitlife.collector.cli.main import main

__all__ = ["main"]
