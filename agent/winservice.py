"""The Windows service host: ``kitlife-agent.exe -m kitlife.agent.winservice``.

The Service Control Manager starts the frozen agent with these arguments
(installers/msi.py writes them into ServiceInstall). pywin32's service
framework runs :func:`kitlife.agent.service.run_service` on its service
thread; a stop request calls :func:`kitlife.agent.service.request_stop`,
which ends the loop's sleep at once. Everything here is a thin call into
pywin32, imported only when this module runs on Windows.
"""

from __future__ import annotations

import sys
from typing import Any


def _service_class() -> Any:
    import servicemanager
    import win32service
    import win32serviceutil

    from kitlife.agent.config import load_config
    from kitlife.agent.service import request_stop, run_service
    from kitlife.installers.service import AGENT

    class AgentService(win32serviceutil.ServiceFramework):  # type: ignore[misc]
        _svc_name_ = AGENT.name
        _svc_display_name_ = AGENT.display_name
        _svc_description_ = AGENT.description

        def SvcDoRun(self) -> None:
            servicemanager.LogInfoMsg(f"{AGENT.name} starting")
            run_service(load_config())

        def SvcStop(self) -> None:
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
            request_stop()

    return AgentService


def main() -> None:
    if sys.platform != "win32":
        sys.exit("kitlife.agent.winservice runs only under the Windows Service Control Manager")
    import servicemanager

    servicemanager.Initialize()
    servicemanager.PrepareToHostSingle(_service_class())
    servicemanager.StartServiceCtrlDispatcher()


if __name__ == "__main__":
    main()
