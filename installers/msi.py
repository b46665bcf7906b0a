"""The Windows installer: a WiX source generated from the service description, built by wixl.

The ``.msi`` installs the frozen agent under Program Files, its config (and CA)
under ``%ProgramData%\\kitlife``, the agent service (ServiceInstall, started and
stopped by ServiceControl), and the rating helper in the HKLM Run key, so it
starts in every user's session at logon. A deferred custom action enrols with
the ``URL`` and ``TOKEN`` properties (``msiexec /i kitlife-agent.msi /qn
URL=... TOKEN=...``; both default to what ``kitlife package`` was given) before
the service starts; a failed enrolment does not fail the install (run
``kitlife-agent enroll`` later). Uninstall removes the program, the service,
the Run value and every file in the state folder.

wixl (msitools) builds it on Linux. It implements the WiX 3 elements used here;
the Windows frozen build itself can only be made on Windows
(.github/workflows/agent-windows.yml).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid
from pathlib import Path
from xml.etree import ElementTree as ET

from kitlife import __version__
from kitlife.installers.enrolment import Enrolment, InstallerError, agent_toml
from kitlife.installers.service import AGENT, HELPER, WINDOWS, TargetOS

WIX_NS = "http://schemas.microsoft.com/wix/2006/wi"
EXE = "kitlife-agent.exe"
# Fixed for ever: Windows recognises an upgrade of the same product by it.
UPGRADE_CODE = "6C1E0B7A-5E7B-4C55-9E55-2E0C7D4E1A01"
# Component GUIDs derive from the install path, so the same file keeps its GUID
# across versions (Windows Installer's component rules).
GUID_NAMESPACE = uuid.UUID(UPGRADE_CODE)
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
BUILD_TIMEOUT_S = 300
STATE_REF = "[STATEDIR]"
SECURE_QUERY = (
    "UPDATE `Property` SET `Value` = 'URL;TOKEN;WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED' "
    "WHERE `Property` = 'SecureCustomProperties'"
)
# The staging folder's layout, which the WiX source's relative sources name.
PROGRAM = "program"
SETTINGS = "settings"


def _id(prefix: str, key: str) -> str:
    # MSI identifiers: letters, digits, underscores and dots, at most 72 characters.
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:32]


def _guid(key: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, key)).upper()


def _windows_version() -> str:
    # MSI ProductVersion: three numbers (the fourth is ignored by upgrades).
    numbers = [int("".join(c for c in part if c.isdigit()) or 0) for part in __version__.split(".")]
    return ".".join(str(n) for n in [*numbers, 0, 0, 0][:3])


def list2cmdline(args: list[str]) -> str:
    """A Windows command line; arguments holding a WiX reference are quoted too,
    since the path it becomes may hold spaces."""
    return " ".join(
        f'"{a}"' if "[" in a and " " not in a else subprocess.list2cmdline([a]) for a in args
    )


def _el(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{WIX_NS}}}{tag}", attrs)


def _file_component(parent: ET.Element, rel: str) -> tuple[ET.Element, str]:
    comp = _el(parent, "Component", Id=_id("c", rel), Guid=_guid("program/" + rel), Win64="yes")
    file_id = _id("f", rel)
    # Relative to the folder wixl runs in (it refuses absolute sources).
    _el(comp, "File", Id=file_id, Source=f"{PROGRAM}/{rel}", KeyPath="yes")
    return comp, file_id


def _add_tree(parent: ET.Element, folder: Path, root: Path, refs: list[str]) -> str | None:
    """Components for every file under ``folder``; returns the agent executable's file id."""
    exe_id = None
    for path in sorted(folder.iterdir()):
        rel = path.relative_to(root).as_posix()
        if path.is_dir():
            sub = _el(parent, "Directory", Id=_id("d", rel), Name=path.name)
            exe_id = _add_tree(sub, path, root, refs) or exe_id
            continue
        comp, file_id = _file_component(parent, rel)
        refs.append(comp.get("Id", ""))
        if rel == EXE:
            exe_id = file_id
            _service_elements(comp)
    return exe_id


def _service_elements(comp: ET.Element) -> None:
    args = AGENT.arguments_for(TargetOS.WINDOWS, STATE_REF + WINDOWS.config_file.name)
    _el(
        comp,
        "ServiceInstall",
        Id="AgentService",
        Name=AGENT.name,
        DisplayName=AGENT.display_name,
        Description=AGENT.description,
        Type="ownProcess",
        Start="auto",
        ErrorControl="normal",
        Account=WINDOWS.service_user,
        Arguments=list2cmdline(args),
        Vital="yes",
    )
    _el(
        comp,
        "ServiceControl",
        Id="AgentServiceControl",
        Name=AGENT.name,
        Start="install",
        Stop="both",
        Remove="uninstall",
        Wait="yes",
    )


def wxs_text(agent_build: Path, enrolment: Enrolment) -> str:
    """The WiX source for ``agent_build`` (a onedir tree with ``kitlife-agent.exe``).

    Its sources are relative: ``program/`` holds the build, ``settings/`` the
    config and CA (:func:`stage`).
    """
    ET.register_namespace("", WIX_NS)
    wix = ET.Element(f"{{{WIX_NS}}}Wix")
    product = _el(
        wix,
        "Product",
        Id="*",
        Name=AGENT.display_name,
        Language="1033",
        Version=_windows_version(),
        Manufacturer="kitlife",
        UpgradeCode=UPGRADE_CODE,
    )
    _el(
        product,
        "Package",
        InstallerVersion="500",
        Compressed="yes",
        InstallScope="perMachine",
        Description=AGENT.description,
    )
    _el(product, "Media", Id="1", Cabinet="agent.cab", EmbedCab="yes")
    # Secure: msiexec's URL=/TOKEN= reach the elevated install. WiX 3 (candle, in the
    # Windows workflow) honours it; wixl ignores it, so build_msi sets the row after.
    _el(product, "Property", Id="URL", Value=enrolment.url, Secure="yes")
    _el(product, "Property", Id="TOKEN", Value=enrolment.token, Secure="yes")
    # What WiX's Hidden="yes" writes, which wixl does not know: the token is not
    # written to the installer's log.
    _el(product, "Property", Id="MsiHiddenProperties", Value="TOKEN")
    _el(product, "Property", Id="ARPNOMODIFY", Value="1")

    target = _el(product, "Directory", Id="TARGETDIR", Name="SourceDir")
    program_files = _el(target, "Directory", Id="ProgramFiles64Folder")
    vendor = _el(program_files, "Directory", Id="VendorDir", Name=WINDOWS.install_dir.parent.name)
    install = _el(vendor, "Directory", Id="INSTALLDIR", Name=WINDOWS.install_dir.name)
    refs: list[str] = []
    exe_id = _add_tree(install, agent_build, agent_build, refs)
    if exe_id is None:
        raise InstallerError(f"{agent_build} is no Windows agent build: it has no {EXE}")

    data = _el(target, "Directory", Id="CommonAppDataFolder")
    state = _el(data, "Directory", Id="STATEDIR", Name=WINDOWS.state_dir.name)
    settings = _el(state, "Component", Id="Settings", Guid=_guid("state/settings"), Win64="yes")
    _el(
        settings,
        "File",
        Id="AgentConfig",
        Name=WINDOWS.config_file.name,
        Source=f"{SETTINGS}/{WINDOWS.config_file.name}",
        KeyPath="yes",
    )
    if enrolment.ca_pem is not None:
        name = WINDOWS.ca_file.name
        _el(settings, "File", Id="CollectorCA", Name=name, Source=f"{SETTINGS}/{name}")
    _el(settings, "RemoveFolder", Id="StateFolder", On="uninstall")
    refs.append("Settings")

    helper_cmd = list2cmdline(
        HELPER.arguments_for(TargetOS.WINDOWS, STATE_REF + WINDOWS.config_file.name)
    )
    helper = _el(install, "Component", Id="HelperAtLogon", Guid=_guid("helper/run"), Win64="yes")
    _el(
        helper,
        "RegistryValue",
        Root="HKLM",
        Key=RUN_KEY,
        Name=HELPER.name,
        Type="string",
        Value=f'"[#{exe_id}]" {helper_cmd}',
        KeyPath="yes",
    )
    refs.append("HelperAtLogon")

    feature = _el(product, "Feature", Id="Agent", Title=AGENT.display_name, Level="1")
    for ref in refs:
        _el(feature, "ComponentRef", Id=ref)

    enrol_args = list2cmdline(
        ["--config", STATE_REF + WINDOWS.config_file.name, "enroll", "--url", "[URL]", "--token"]
    )
    _el(
        product,
        "CustomAction",
        Id="Enrol",
        FileKey=exe_id,
        ExeCommand=f'{enrol_args} "[TOKEN]"',
        Execute="deferred",
        Impersonate="no",
        Return="ignore",
    )
    # What the agent wrote at run time (key, spool, log) goes with the program. wixl
    # has neither RemoveFile nor Directory custom actions, so: cmd.exe's path into a
    # property (type 51), then cmd.exe run from it (type 50) after the service stopped.
    _el(
        product,
        "CustomAction",
        Id="FindCmd",
        Property="KITLIFE_CMD",
        Value="[System64Folder]cmd.exe",
    )
    _el(
        product,
        "CustomAction",
        Id="RemoveState",
        Property="KITLIFE_CMD",
        ExeCommand=list2cmdline(
            ["/c", "rmdir", "/s", "/q", "[CommonAppDataFolder]" + WINDOWS.state_dir.name]
        ),
        Execute="deferred",
        Impersonate="no",
        Return="ignore",
    )
    sequence = _el(product, "InstallExecuteSequence")
    custom = _el(sequence, "Custom", Action="Enrol", Before="StartServices")
    # Only on a first install: an upgrade keeps the device's key.
    custom.text = "NOT Installed AND NOT WIX_UPGRADE_DETECTED"
    # Only on a real uninstall, not the removal of the old version inside an upgrade.
    uninstall = 'REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE'
    _el(sequence, "Custom", Action="FindCmd", Before="StopServices").text = uninstall
    _el(sequence, "Custom", Action="RemoveState", After="StopServices").text = uninstall
    _el(product, "MajorUpgrade", DowngradeErrorMessage="A newer kitlife agent is installed.")
    ET.indent(wix)
    return ET.tostring(wix, encoding="unicode", xml_declaration=True) + "\n"


def stage(agent_build: Path, enrolment: Enrolment, folder: Path) -> Path:
    """The build, config and CA under ``folder`` as the WiX source names them; its path."""
    if not (agent_build / EXE).is_file():
        raise InstallerError(f"{agent_build} is no Windows agent build: it has no {EXE}")
    shutil.copytree(agent_build, folder / PROGRAM, symlinks=False)
    settings = folder / SETTINGS
    settings.mkdir()
    (settings / WINDOWS.config_file.name).write_text(
        agent_toml(WINDOWS, enrolment), encoding="utf-8", newline="\r\n"
    )
    if enrolment.ca_pem is not None:
        (settings / WINDOWS.ca_file.name).write_bytes(enrolment.ca_pem)
    wxs = folder / "kitlife-agent.wxs"
    wxs.write_text(wxs_text(agent_build, enrolment), encoding="utf-8")
    return wxs


def build_msi(agent_build: Path, enrolment: Enrolment, out: Path, work: Path) -> Path:
    """``kitlife-agent.msi`` in ``out``, built with wixl; the WiX source is kept beside it."""
    folder = work / "msi-src"
    folder.mkdir(parents=True)
    wxs = stage(agent_build, enrolment, folder)
    out.mkdir(parents=True, exist_ok=True)
    target = (out / "kitlife-agent.msi").resolve()
    done = subprocess.run(
        ["wixl", "--arch", "x64", "-o", str(target), wxs.name],
        check=False,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise InstallerError(f"wixl failed: {done.stderr.strip()[-2000:]}")
    # Public properties given on msiexec's command line reach the elevated
    # install only when listed here; wixl lists only its upgrade properties.
    subprocess.run(
        [
            "msibuild",
            str(target),
            "-q",
            SECURE_QUERY,
        ],
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT_S,
    )
    shutil.copy2(wxs, out / wxs.name)
    return target
