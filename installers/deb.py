"""The Linux package: a staged tree, maintainer scripts, ``dpkg-deb --build``.

What the package does, in its maintainer scripts (all idempotent):

- postinst: creates the ``kitlife`` system user, writes ``/etc/kitlife/agent.toml``
  (only when absent, so local edits survive upgrades), enrols with the token it
  carries (only when not enrolled yet; a failure is reported and retried by
  ``dpkg-reconfigure kitlife-agent``, the install itself does not fail), and
  enables and starts the service when systemd is running (not in a container).
- prerm: stops the service.
- postrm purge: removes the state, the config, the user and its group.
"""

from __future__ import annotations

import gzip
import os
import shlex
import shutil
import subprocess
from pathlib import Path

from kitlife import __version__
from kitlife.installers.enrolment import Enrolment, InstallerError, agent_toml
from kitlife.installers.service import AGENT, LINUX
from kitlife.installers.systemd import unit_text

PACKAGE = "kitlife-agent"
UNIT_PATH = f"/usr/lib/systemd/system/{AGENT.name}.service"
ENROLMENT_DIR = f"{LINUX.install_dir}/enrolment"
# dpkg-deb needs its tools; the architecture is that of the frozen build (this machine's).
BUILD_TIMEOUT_S = 300


def _deb_arch() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


def control_text(arch: str, installed_kib: int) -> str:
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {__version__}\n"
        f"Architecture: {arch}\n"
        "Maintainer: kitlife maintainers <kitlife@example.org>\n"
        f"Installed-Size: {installed_kib}\n"
        # adduser for the system user; smartmontools for SMART; the frozen build
        # carries its own Python and libraries but links the system's libc.
        "Depends: adduser, libc6 (>= 2.31), smartmontools\n"
        "Recommends: dmidecode, upower\n"
        "Section: admin\n"
        "Priority: optional\n"
        "Homepage: https://github.com/kitlife/kitlife\n"
        f"Description: {AGENT.display_name}: laptop health for the kitlife collector\n"
        " Gathers hardware health (battery wear, SMART/NVMe, thermals, inventory)\n"
        " and user-experience signals, spools them on disk and uploads compact\n"
        " batches to a kitlife collector. It reports facts, never personal content.\n"
        " This package enrols with the collector it was built for when installed.\n"
    )


def postinst_text() -> str:
    exe = str(LINUX.executable)
    config = str(LINUX.config_file)
    state = str(LINUX.state_dir)
    user = LINUX.service_user
    return f"""#!/bin/sh
# kitlife-agent postinst: user, config, enrolment, service. Safe to run again.
set -e
[ "$1" = configure ] || exit 0
if ! getent passwd {user} >/dev/null; then
    adduser --system --group --quiet --no-create-home --home {state} {user}
fi
install -d -m 0700 -o {user} -g {user} {state}
if [ ! -e {config} ]; then
    install -d -m 0755 /etc/kitlife
    install -m 0644 {ENROLMENT_DIR}/agent.toml {config}
    if [ -e {ENROLMENT_DIR}/collector-ca.pem ]; then
        install -m 0644 {ENROLMENT_DIR}/collector-ca.pem {LINUX.ca_file}
    fi
fi
if [ ! -e {state}/device.json ]; then
    # As root, so the hardware serial is read (the collector recognises a reimaged
    # laptop by it); the state is handed to the service user afterwards.
    url="$(cat {ENROLMENT_DIR}/url)"
    if {exe} --config {config} enroll --url "$url" --token "$(cat {ENROLMENT_DIR}/token)"
    then
        chown -R {user}:{user} {state}
    else
        echo "kitlife-agent: enrolment failed; retry with: dpkg-reconfigure {PACKAGE}" >&2
    fi
fi
if command -v deb-systemd-helper >/dev/null; then
    deb-systemd-helper enable {AGENT.name}.service
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl restart {AGENT.name}.service
fi
exit 0
"""


def prerm_text() -> str:
    return f"""#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl stop {AGENT.name}.service || true
fi
exit 0
"""


def postrm_text() -> str:
    user = LINUX.service_user
    return f"""#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
if [ "$1" = purge ]; then
    if command -v deb-systemd-helper >/dev/null; then
        deb-systemd-helper purge {AGENT.name}.service
    fi
    rm -rf {shlex.quote(str(LINUX.state_dir))} /etc/kitlife
    if getent passwd {user} >/dev/null; then
        deluser --system --quiet {user} 2>/dev/null || userdel {user}
    fi
    if getent group {user} >/dev/null; then
        delgroup --system --quiet {user} 2>/dev/null || groupdel {user}
    fi
fi
exit 0
"""


def _write(path: Path, text: str | bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    path.chmod(mode)


def _tree_kib(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def stage(root: Path, agent_build: Path, enrolment: Enrolment) -> None:
    """Lay out the package's files under ``root`` (``DEBIAN/`` included)."""
    if not (agent_build / "kitlife-agent").is_file():
        raise InstallerError(f"{agent_build} is no agent build: it has no kitlife-agent")
    install = root / str(LINUX.install_dir).lstrip("/")
    shutil.copytree(agent_build, install, symlinks=True)
    for path in [install, *install.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
        elif not path.is_symlink():
            # Shared libraries are mapped, not run: 0644 (Debian policy 10.9).
            runnable = os.access(path, os.X_OK) and ".so" not in path.name
            path.chmod(0o755 if runnable else 0o644)
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/kitlife-agent").symlink_to(f"../lib/{PACKAGE}/kitlife-agent")
    enrol = root / ENROLMENT_DIR.lstrip("/")
    _write(enrol / "agent.toml", agent_toml(LINUX, enrolment), 0o644)
    _write(enrol / "url", enrolment.url + "\n", 0o644)
    # The token lets any holder enrol a device: root only.
    _write(enrol / "token", enrolment.token + "\n", 0o600)
    if enrolment.ca_pem is not None:
        _write(enrol / "collector-ca.pem", enrolment.ca_pem, 0o644)
    _write(root / UNIT_PATH.lstrip("/"), unit_text(AGENT), 0o644)
    doc = root / "usr/share/doc" / PACKAGE
    _write(
        doc / "copyright",
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: kitlife\n\nFiles: *\nCopyright: kitlife contributors\n"
        "License: Apache-2.0\n On Debian systems the full text is in\n"
        " /usr/share/common-licenses/Apache-2.0.\n",
        0o644,
    )
    changelog = (
        f"{PACKAGE} ({__version__}) unstable; urgency=medium\n\n"
        "  * Built by kitlife package --type deb.\n\n"
        " -- kitlife maintainers <kitlife@example.org>  Thu, 01 Jan 2026 00:00:00 +0000\n"
    )
    _write(doc / "changelog.gz", gzip.compress(changelog.encode(), mtime=0), 0o644)
    _write(
        root / "usr/share/lintian/overrides" / PACKAGE,
        _LINTIAN_OVERRIDES,
        0o644,
    )
    debian = root / "DEBIAN"
    _write(debian / "postinst", postinst_text(), 0o755)
    _write(debian / "prerm", prerm_text(), 0o755)
    _write(debian / "postrm", postrm_text(), 0o755)
    _write(debian / "control", control_text(_deb_arch(), _tree_kib(root) // 1024 + 1), 0o644)


# The frozen build carries its own Python and libraries (that is its point), and
# the enrolment token must be root-only.
_LINTIAN_OVERRIDES = f"""\
{PACKAGE}: embedded-library *
{PACKAGE}: non-standard-file-perm 0600 != 0644 [{ENROLMENT_DIR.lstrip("/")}/token]
{PACKAGE}: no-manual-page *
{PACKAGE}: library-not-linked-against-libc [usr/lib/{PACKAGE}/_internal/*]
"""


def build_deb(agent_build: Path, enrolment: Enrolment, out: Path, work: Path) -> Path:
    """The ``.deb`` in ``out``, staged under ``work`` (which must be empty or absent)."""
    root = work / "deb-root"
    stage(root, agent_build, enrolment)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{PACKAGE}_{__version__}_{_deb_arch()}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(target)],
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT_S,
    )
    return target
