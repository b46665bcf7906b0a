"""The self-contained agent: PyInstaller over :mod:`kitlife.installers.frozen_main`.

``python -m kitlife.installers.freeze --out DIR [--onefile]`` builds
``DIR/kitlife-agent/`` (onedir: the executable beside ``_internal/``) or
``DIR/kitlife-agent[.exe]`` (onefile). Onedir is what the installers ship: a
onefile executable unpacks itself into a temporary folder at every start,
and the agent starts a child every upload and probe (docs/install.md has the
figures).

The build holds what ``kitlife.agent`` imports and nothing else. It is made in
whatever venv runs it (CI: a fresh one with ``kitlife[build]``; here: the dev
venv), so the modules that only the dev venv's extras would drag in through
optional imports are excluded by name.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

NAME = "kitlife-agent"
ENTRY = Path(__file__).with_name("frozen_main.py")
FREEZE_TIMEOUT_S = 900

# Imported only through ``-m`` (runpy) or by name at run time: PyInstaller cannot see them.
COLLECT = ["kitlife.agent", "kitlife.protocol"]
# Optional imports of the agent's dependencies that a laptop never takes: anyio's
# uvloop backend, httpx's charset guessers, zstandard's CFFI twin of its C backend
# (12 MB), and the collector side of this project.
EXCLUDE = [
    "kitlife.collector",
    "kitlife.installers.cli",
    "uvloop",
    "trio",
    "chardet",
    "charset_normalizer",
    "numpy",
    "tkinter",
    # Reached only through concurrent.futures.process, which nothing in the agent uses;
    # in the build it brings PyInstaller's multiprocessing runtime hook, which imports
    # multiprocessing, pickle and socket code into every start (~0.6 MB RSS).
    "multiprocessing",
    "zstandard._cffi",
    "zstandard.backend_cffi",
    "_cffi_backend",
]

# PyInstaller's runtime hooks that run at every start of the agent, resident loop
# included, for nothing the agent does: inspect's makes inspect.getsourcefile find
# frozen sources (it imports zipfile, and with it shutil, bz2 and lzma: ~0.8 MB RSS),
# pkgutil's lets pkgutil.iter_modules list frozen modules (never called).
DROP_RUNTIME_HOOKS = ("pyi_rth_inspect", "pyi_rth_pkgutil")


def makespec_args(work: Path, onefile: bool, entry: Path = ENTRY, name: str = NAME) -> list[str]:
    """The spec's options: what goes in the build and what stays out."""
    args = [
        "--onefile" if onefile else "--onedir",
        "--name",
        name,
        "--specpath",
        str(work),
        "--log-level",
        "WARN",
        # The Windows service host, imported by the SCM's command line only.
        "--hidden-import",
        "kitlife.agent.winservice",
    ]
    if sys.platform != "win32":
        args.append("--strip")
    for package in COLLECT:
        args += ["--collect-submodules", package, "--collect-data", package]
    for module in EXCLUDE:
        args += ["--exclude-module", module]
    return [*args, str(entry)]


def write_spec(work: Path, onefile: bool, entry: Path = ENTRY, name: str = NAME) -> Path:
    """The spec PyInstaller would write, less the runtime hooks in :data:`DROP_RUNTIME_HOOKS`.

    PyInstaller adds a runtime hook for every module in the build that has one
    and has no option to leave one out; the spec's ``Analysis`` result can be
    filtered before the archive is made, so the spec is written, then edited.
    """
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller.utils.cliutils.makespec",
            *makespec_args(work, onefile, entry, name),
        ],
        check=True,
        timeout=FREEZE_TIMEOUT_S,
        stdout=subprocess.DEVNULL,  # "Wrote ... Now run pyinstaller.py": not for the reader
    )
    spec = work / f"{name}.spec"
    text = spec.read_text()
    anchor = "pyz = PYZ(a.pure)"
    if anchor not in text:
        raise RuntimeError(f"{spec}: no {anchor!r} line to filter the runtime hooks before")
    drop = f"a.scripts = [s for s in a.scripts if s[0] not in {DROP_RUNTIME_HOOKS!r}]\n"
    spec.write_text(text.replace(anchor, drop + anchor, 1))
    return spec


def _is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


def drop_runpaths(build: Path) -> list[Path]:
    """Remove the RUNPATH a source-built Python leaves in its extension modules.

    A pyenv Python links its modules with ``RUNPATH=<build machine's prefix>/lib``:
    on a laptop the loader would look there before the build's own folder
    (where PyInstaller's bootloader points it), and Debian's policy refuses such
    paths. ``patchelf`` edits the dynamic section safely; writing ELF by hand
    would not. Returns the files changed.
    """
    changed = []
    for path in sorted(build.rglob("*")):
        if not path.is_file() or path.is_symlink() or not _is_elf(path):
            continue
        runpath = subprocess.run(
            ["patchelf", "--print-rpath", str(path)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if runpath.returncode == 0 and runpath.stdout.strip():
            subprocess.run(["patchelf", "--remove-rpath", str(path)], check=True, timeout=60)
            changed.append(path)
    return changed


def freeze(
    out: Path, work: Path, onefile: bool = False, entry: Path = ENTRY, name: str = NAME
) -> Path:
    """Build the agent; returns the onedir folder or the onefile executable.

    ``entry`` and ``name`` are for measuring only: the footprint benchmark
    freezes its floor (the loop's imports, no work) with the agent's options.
    """
    spec = write_spec(work, onefile, entry, name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(out),
            "--workpath",
            str(work),
            str(spec),
        ],
        check=True,
        timeout=FREEZE_TIMEOUT_S,
    )
    exe = name + (".exe" if sys.platform == "win32" else "")
    if onefile:
        return out / exe
    if sys.platform.startswith("linux"):
        drop_runpaths(out / name)
    return out / name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, required=True, help="where the build goes")
    parser.add_argument("--work", type=Path, default=Path("build/pyinstaller"))
    parser.add_argument("--onefile", action="store_true", help="one executable (measured only)")
    args = parser.parse_args()
    print(freeze(args.out, args.work, args.onefile))


if __name__ == "__main__":
    main()
