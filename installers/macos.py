"""The macOS installer: a payload and scripts for pkgbuild/productbuild, and an MDM profile.

:func:`stage` lays out what ``pkgbuild`` packs: the frozen agent under
``/Library/kitlife-agent``, the LaunchDaemon and LaunchAgent plists, and the
``preinstall`` (stops a running agent before an upgrade) and ``postinstall``
(writes the config when absent, enrols when not enrolled, loads the daemon)
scripts. :func:`build_pkg` runs ``pkgbuild`` and ``productbuild`` where they
exist (macOS); elsewhere it stops after staging and says so. Signing and
notarisation happen in .github/workflows/agent-macos.yml.

The configuration profile (:func:`mobileconfig`) carries the same URL and
token for MDM tools (Jamf, Intune): a managed preference domain
``org.kitlife.agent`` that the postinstall script reads when the package
itself carries none.
"""

from __future__ import annotations

import plistlib
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from kitlife import __version__
from kitlife.installers.enrolment import Enrolment, InstallerError, agent_toml
from kitlife.installers.launchd import plist_bytes, plist_path
from kitlife.installers.service import AGENT, HELPER, MACOS

IDENTIFIER = "org.kitlife.agent"
ENROLMENT_DIR = f"{MACOS.install_dir}/enrolment"
MANAGED_PREFS = f"/Library/Managed Preferences/{IDENTIFIER}.plist"
BUILD_TIMEOUT_S = 600


def preinstall_text() -> str:
    return f"""#!/bin/sh
# Stop a running agent before its files are replaced (upgrade); nothing on a first install.
launchctl bootout system/{AGENT.label} 2>/dev/null || true
exit 0
"""


def postinstall_text() -> str:
    exe = shlex.quote(str(MACOS.executable))
    config = shlex.quote(str(MACOS.config_file))
    state = shlex.quote(str(MACOS.state_dir))
    daemon = shlex.quote(plist_path(AGENT))
    helper = shlex.quote(plist_path(HELPER))
    return f"""#!/bin/sh
# kitlife-agent postinstall: config, enrolment, launchd. Safe to run again.
set -e
install -d -m 0755 {state}
if [ ! -e {config} ]; then
    install -m 0644 {ENROLMENT_DIR}/agent.toml {config}
    if [ -e {ENROLMENT_DIR}/collector-ca.pem ]; then
        install -m 0644 {ENROLMENT_DIR}/collector-ca.pem {shlex.quote(str(MACOS.ca_file))}
    fi
fi
url="$(cat {ENROLMENT_DIR}/url 2>/dev/null || true)"
token="$(cat {ENROLMENT_DIR}/token 2>/dev/null || true)"
# A package built without a token takes the MDM profile's (docs/install.md).
if [ -z "$token" ] && [ -e {shlex.quote(MANAGED_PREFS)} ]; then
    url="$(defaults read {shlex.quote(MANAGED_PREFS)} CollectorURL)"
    token="$(defaults read {shlex.quote(MANAGED_PREFS)} EnrolmentToken)"
fi
if [ ! -e {state}/device.json ] && [ -n "$token" ]; then
    {exe} --config {config} enroll --url "$url" --token "$token" \\
        || echo "kitlife-agent: enrolment failed; run kitlife-agent enroll" >&2
fi
chmod 0644 {daemon} {helper}
chown root:wheel {daemon} {helper}
launchctl bootout system/{AGENT.label} 2>/dev/null || true
launchctl bootstrap system {daemon}
# The helper starts at each user's next login; start it now for the one logged in.
console_uid="$(stat -f %u /dev/console)"
if [ "$console_uid" -ne 0 ]; then
    launchctl bootstrap "gui/$console_uid" {helper} 2>/dev/null || true
fi
exit 0
"""


def uninstall_text() -> str:
    """Shipped as ``uninstall.sh`` beside the agent: macOS packages have no uninstall step."""
    return f"""#!/bin/sh
# Remove the kitlife agent and everything it wrote. Run as root.
launchctl bootout system/{AGENT.label} 2>/dev/null || true
for uid in $(ps -axo uid= -o comm= | awk '/kitlife-agent/ {{print $1}}' | sort -u); do
    launchctl bootout "gui/$uid/{HELPER.label}" 2>/dev/null || true
done
rm -f {shlex.quote(plist_path(AGENT))} {shlex.quote(plist_path(HELPER))}
rm -rf {shlex.quote(str(MACOS.install_dir))} {shlex.quote(str(MACOS.state_dir))}
pkgutil --forget {IDENTIFIER} >/dev/null 2>&1 || true
"""


def _write(path: Path, data: str | bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(mode)


def stage(agent_build: Path, enrolment: Enrolment, folder: Path) -> tuple[Path, Path]:
    """``(payload root, scripts folder)`` for ``pkgbuild --root --scripts``."""
    if not (agent_build / "kitlife-agent").is_file():
        raise InstallerError(f"{agent_build} is no agent build: it has no kitlife-agent")
    root, scripts = folder / "root", folder / "scripts"
    shutil.copytree(agent_build, root / str(MACOS.install_dir).lstrip("/"), symlinks=True)
    enrol = root / ENROLMENT_DIR.lstrip("/")
    _write(enrol / "agent.toml", agent_toml(MACOS, enrolment), 0o644)
    _write(enrol / "url", enrolment.url + "\n", 0o644)
    _write(enrol / "token", enrolment.token + "\n", 0o600)
    if enrolment.ca_pem is not None:
        _write(enrol / "collector-ca.pem", enrolment.ca_pem, 0o644)
    _write(root / str(MACOS.install_dir).lstrip("/") / "uninstall.sh", uninstall_text(), 0o755)
    for service in (AGENT, HELPER):
        _write(root / plist_path(service).lstrip("/"), plist_bytes(service), 0o644)
    _write(scripts / "preinstall", preinstall_text(), 0o755)
    _write(scripts / "postinstall", postinstall_text(), 0o755)
    return root, scripts


def mobileconfig(enrolment: Enrolment) -> bytes:
    """A configuration profile setting the agent's managed preferences (URL and token)."""
    seed = uuid.uuid5(uuid.NAMESPACE_URL, enrolment.url)
    payload: dict[str, Any] = {
        "PayloadType": IDENTIFIER,
        "PayloadIdentifier": f"{IDENTIFIER}.settings",
        "PayloadUUID": str(uuid.uuid5(seed, "settings")).upper(),
        "PayloadVersion": 1,
        "PayloadDisplayName": "kitlife agent settings",
        "CollectorURL": enrolment.url,
        "EnrolmentToken": enrolment.token,
    }
    profile: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": IDENTIFIER,
        "PayloadUUID": str(uuid.uuid5(seed, "profile")).upper(),
        "PayloadDisplayName": "kitlife agent",
        "PayloadDescription": AGENT.description,
        "PayloadScope": "System",
        "PayloadContent": [payload],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)


def build_pkg(agent_build: Path, enrolment: Enrolment, out: Path, work: Path) -> Path:
    """``kitlife-agent.pkg`` in ``out`` on macOS; elsewhere the staged tree and profile."""
    folder = work / "pkg-src"
    root, scripts = stage(agent_build, enrolment, folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kitlife-agent.mobileconfig").write_bytes(mobileconfig(enrolment))
    if shutil.which("pkgbuild") is None or shutil.which("productbuild") is None:
        staged = out / "kitlife-agent-pkg"
        shutil.copytree(folder, staged, symlinks=True)
        raise InstallerError(
            f"pkgbuild/productbuild exist only on macOS: staged the package in {staged}; "
            "build it there (.github/workflows/agent-macos.yml)"
        )
    component = work / "kitlife-agent-component.pkg"
    version = __version__
    subprocess.run(
        [
            "pkgbuild",
            "--root",
            str(root),
            "--scripts",
            str(scripts),
            "--identifier",
            IDENTIFIER,
            "--version",
            version,
            "--install-location",
            "/",
            str(component),
        ],
        check=True,
        timeout=BUILD_TIMEOUT_S,
    )
    target = out / "kitlife-agent.pkg"
    subprocess.run(
        ["productbuild", "--package", str(component), str(target)],
        check=True,
        timeout=BUILD_TIMEOUT_S,
    )
    return target
