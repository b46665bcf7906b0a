"""The ``kitlife-agent`` executable: ``run`` without click, everything else through it.

``kitlife-agent run`` is the process that stays resident on 72,000 laptops for
months; click costs it about 3 MB of RSS for parsing one word. So the entry
point recognises exactly the service's command line (``[--config F]
[--state-dir D] [-v] run [--in-process-upload]``) and starts the loop directly;
anything else, including ``--help`` and any mistake, goes to the click CLI in
:mod:`kitlife.agent.cli`, which also accepts ``run`` with the same meaning.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def _fast_run_args(argv: list[str]) -> dict[str, object] | None:
    """The parsed service command line, or None when click should handle it."""
    opts: dict[str, object] = {"config": None, "state_dir": None, "verbose": False}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--config", "--state-dir") and i + 1 < len(argv):
            opts[arg[2:].replace("-", "_")] = Path(argv[i + 1])
            i += 2
        elif arg.startswith(("--config=", "--state-dir=")):
            key, _, value = arg[2:].partition("=")
            opts[key.replace("-", "_")] = Path(value)
            i += 1
        elif arg in ("-v", "--verbose"):
            opts["verbose"] = True
            i += 1
        elif arg == "run":
            rest = argv[i + 1 :]
            if rest not in ([], ["--in-process-upload"]):
                return None
            opts["in_process_upload"] = bool(rest)
            return opts
        else:
            return None
    return None


def main() -> None:
    argv = sys.argv[1:]
    opts = _fast_run_args(argv)
    if opts is None:
        from kitlife.agent.cli import main as cli_main

        cli_main()
        return
    from kitlife.agent.config import ConfigError, load_config
    from kitlife.agent.service import run_service

    logging.basicConfig(
        level=logging.DEBUG if opts["verbose"] else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    config_path = opts["config"]
    state_dir = opts["state_dir"]
    try:
        config = load_config(
            config_path if isinstance(config_path, Path) else None, {"state_dir": state_dir}
        )
    except ConfigError as err:
        sys.stderr.write(f"Error: {err}\n")
        sys.exit(2)
    sys.exit(run_service(config, in_process_upload=bool(opts["in_process_upload"])))


if __name__ == "__main__":
    main()
