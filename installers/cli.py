"""``kitlife package``: an installer that enrols by itself, for one OS.

The command parses and prints; the work is in :mod:`kitlife.installers.deb`,
:mod:`~kitlife.installers.msi` and :mod:`~kitlife.installers.macos`. The
collector's CLI registers :data:`package` in its group.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from kitlife.installers.enrolment import Enrolment, InstallerError


@click.command()
@click.option(
    "--type",
    "kind",
    type=click.Choice(["deb", "msi", "pkg"]),
    required=True,
    help="deb (Linux), msi (Windows) or pkg (macOS).",
)
@click.option("--url", required=True, help="The collector's base URL, e.g. https://kitlife.example")
@click.option("--token", required=True, help="An enrolment token (`kitlife token create`).")
@click.option(
    "--ca",
    "ca_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM CA certificate of the collector, when not in the public CA bundle.",
)
@click.option(
    "--agent-build",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The frozen agent (onedir) for the target OS [default: build it here; deb only].",
)
@click.option("--allow-http", is_flag=True, help="Accept a plain-http --url (labs and tests only).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the installer.",
)
def package(
    kind: str,
    url: str,
    token: str,
    ca_file: Path | None,
    agent_build: Path | None,
    allow_http: bool,
    out: Path,
) -> None:
    """Build a silent agent installer carrying the collector's URL, a token and a CA."""
    try:
        enrolment = Enrolment.checked(url, token, ca_file, allow_http)
    except InstallerError as err:
        raise click.UsageError(str(err)) from err
    with tempfile.TemporaryDirectory(prefix="kitlife-package-") as tmp:
        work = Path(tmp)
        try:
            path = build(kind, enrolment, agent_build, out, work)
        except InstallerError as err:
            raise click.UsageError(str(err)) from err
    click.echo(str(path))


def build(kind: str, enrolment: Enrolment, agent_build: Path | None, out: Path, work: Path) -> Path:
    """The installer of ``kind`` in ``out``; ``work`` is an empty scratch folder."""
    if agent_build is None:
        if kind != "deb":
            raise InstallerError(
                f"--type {kind} needs --agent-build: the agent for that OS is frozen on that OS"
            )
        from kitlife.installers.freeze import freeze

        agent_build = freeze(work / "frozen", work / "pyinstaller")
    if kind == "deb":
        from kitlife.installers.deb import build_deb

        return build_deb(agent_build, enrolment, out, work)
    if kind == "msi":
        from kitlife.installers.msi import build_msi

        return build_msi(agent_build, enrolment, out, work)
    from kitlife.installers.macos import build_pkg

    return build_pkg(agent_build, enrolment, out, work)
