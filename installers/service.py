"""The agent service, described once; every OS's service definition is generated from here.

The systemd unit (:mod:`kitlife.installers.systemd`), the launchd plists
(:mod:`kitlife.installers.launchd`) and the Windows ServiceInstall and Run key
(:mod:`kitlife.installers.wix`) read :data:`AGENT` and :data:`HELPER` and the
per-OS :class:`Layout`, so a name, a path or an argument cannot differ between
them. Pure data, standard library only: ``kitlife.agent.winservice`` imports
it on Windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath, PurePosixPath, PureWindowsPath

__all__ = ["AGENT", "HELPER", "LAYOUTS", "Layout", "Service", "TargetOS", "layout_for"]


class TargetOS(StrEnum):
    LINUX = "linux"
    MACOS = "macos"
    WINDOWS = "windows"


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the agent lives on one OS.

    ``config_file`` and ``state_dir`` are the agent's own defaults
    (:mod:`kitlife.agent.paths`); the installers write them explicitly into the
    config anyway, so a service user without a home folder cannot fall back to
    a per-user folder.
    """

    os: TargetOS
    install_dir: PurePath
    executable: PurePath
    config_file: PurePath
    state_dir: PurePath
    # The system account the service runs as.
    service_user: str

    @property
    def ca_file(self) -> PurePath:
        """Where an installer puts the collector's CA certificate, beside the config."""
        return self.config_file.parent / "collector-ca.pem"


LINUX = Layout(
    os=TargetOS.LINUX,
    # Not /opt: Debian policy (and lintian) keep packages out of it.
    install_dir=PurePosixPath("/usr/lib/kitlife-agent"),
    executable=PurePosixPath("/usr/lib/kitlife-agent/kitlife-agent"),
    config_file=PurePosixPath("/etc/kitlife/agent.toml"),
    state_dir=PurePosixPath("/var/lib/kitlife"),
    service_user="kitlife",
)
MACOS = Layout(
    os=TargetOS.MACOS,
    install_dir=PurePosixPath("/Library/kitlife-agent"),
    executable=PurePosixPath("/Library/kitlife-agent/kitlife-agent"),
    config_file=PurePosixPath("/Library/Application Support/kitlife/agent.toml"),
    state_dir=PurePosixPath("/Library/Application Support/kitlife"),
    # SMART and the battery registry need root on macOS; launchd runs daemons as root.
    service_user="root",
)
WINDOWS = Layout(
    os=TargetOS.WINDOWS,
    install_dir=PureWindowsPath(r"C:\Program Files\kitlife\agent"),
    executable=PureWindowsPath(r"C:\Program Files\kitlife\agent\kitlife-agent.exe"),
    config_file=PureWindowsPath(r"C:\ProgramData\kitlife\agent.toml"),
    state_dir=PureWindowsPath(r"C:\ProgramData\kitlife"),
    service_user="LocalSystem",
)
LAYOUTS = {layout.os: layout for layout in (LINUX, MACOS, WINDOWS)}


def layout_for(target: TargetOS | str) -> Layout:
    return LAYOUTS[TargetOS(target)]


@dataclass(frozen=True, slots=True)
class Service:
    """One program the OS keeps running, and how.

    ``arguments`` follow the executable; ``{config}`` is replaced by the
    layout's config file. ``windows_arguments`` replace them on Windows, where
    the Service Control Manager talks to a service host, not to a console
    program.
    """

    name: str
    # launchd's label (reverse DNS), also the plist's file name.
    label: str
    display_name: str
    description: str
    arguments: tuple[str, ...]
    windows_arguments: tuple[str, ...]
    restart_delay_s: int
    # How long a stop may take before the OS kills the process: the loop gives an
    # upload child 5 s to finish its batch, then checkpoints the spool.
    stop_timeout_s: int
    per_user: bool

    def arguments_for(self, target: TargetOS, config_file: str) -> list[str]:
        """The arguments after the executable, with ``config_file`` (a path, or an
        installer's reference to one, such as WiX's ``[STATEDIR]agent.toml``)."""
        args = self.windows_arguments if target is TargetOS.WINDOWS else self.arguments
        return [a.format(config=config_file) for a in args]

    def argv(self, layout: Layout) -> list[str]:
        """The full command line on ``layout``'s OS, executable first."""
        return [str(layout.executable), *self.arguments_for(layout.os, str(layout.config_file))]


AGENT = Service(
    name="kitlife-agent",
    label="org.kitlife.agent",
    display_name="kitlife agent",
    description="Gathers this laptop's hardware health and uploads it to the kitlife collector.",
    arguments=("--config", "{config}", "run"),
    # The frozen executable runs -m kitlife.agent.* modules (installers/frozen_main.py).
    windows_arguments=("-m", "kitlife.agent.winservice"),
    restart_delay_s=10,
    stop_timeout_s=20,
    per_user=False,
)

# Started in every user's session at logon (LaunchAgent on macOS, the HKLM Run key
# on Windows): the system service cannot show a notification on a user's desktop,
# so this small process asks for the rating when the collector wants one.
HELPER = Service(
    name="kitlife-agent-helper",
    label="org.kitlife.agent.helper",
    display_name="kitlife rating prompt",
    description="Asks the laptop's user for a 1-5 rating when the kitlife collector wants one.",
    arguments=("-m", "kitlife.agent.userhelper", "--config", "{config}"),
    windows_arguments=("-m", "kitlife.agent.userhelper", "--config", "{config}"),
    restart_delay_s=300,
    stop_timeout_s=5,
    per_user=True,
)
