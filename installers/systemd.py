"""The hardened systemd unit, generated from :data:`kitlife.installers.service.AGENT`."""

from __future__ import annotations

import shlex

from kitlife.installers.service import LINUX, Layout, Service

# smartctl's ATA passthrough (SG_IO) needs CAP_SYS_RAWIO and NVMe admin commands
# CAP_SYS_ADMIN; CAP_DAC_READ_SEARCH opens the root-only disk nodes, DMI tables
# (serial, memory layout via dmidecode) and the system journal read-only, so the
# service user needs no group that could also write to disks.
CAPABILITIES = ("CAP_SYS_RAWIO", "CAP_SYS_ADMIN", "CAP_DAC_READ_SEARCH")


def _exec_line(argv: list[str]) -> str:
    # systemd splits ExecStart= like a shell, without expanding anything else.
    return " ".join(shlex.quote(a) for a in argv)


def unit_text(service: Service, layout: Layout = LINUX) -> str:
    """The ``.service`` file for ``service`` on Linux."""
    caps = " ".join(CAPABILITIES)
    state_name = layout.state_dir.name
    lines = [
        "[Unit]",
        f"Description={service.description}",
        "Documentation=https://github.com/kitlife/kitlife/blob/main/docs/install.md",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={_exec_line(service.argv(layout))}",
        f"User={layout.service_user}",
        f"Group={layout.service_user}",
        "Restart=on-failure",
        f"RestartSec={service.restart_delay_s}",
        # SIGTERM to the loop only: it gives an upload child its grace period itself.
        "KillMode=mixed",
        f"TimeoutStopSec={service.stop_timeout_s}",
        f"StateDirectory={state_name}",
        "StateDirectoryMode=0700",
        "UMask=0077",
        f"AmbientCapabilities={caps}",
        f"CapabilityBoundingSet={caps}",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "SystemCallArchitectures=native",
        # AF_NETLINK: psutil's network readers; the rest is HTTPS and the child's pipes.
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        # Nothing the capabilities above could read that the agent has no use for.
        "InaccessiblePaths=-/etc/shadow -/etc/gshadow -/etc/ssh -/root",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)
