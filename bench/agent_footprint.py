"""Footprint of ``kitlife-agent run`` beside collectd and prometheus-node-exporter.

All three run side by side on this machine at the same 60 s interval for the
same wall time. Every ``--poll`` seconds (0.2 s) the script reads, for every
thread of every subject and of their child processes:

- CPU time from ``/proc/PID/task/TID/schedstat`` (first field: nanoseconds the
  thread ran), not psutil's ``cpu_times``, which counts 10 ms clock ticks and
  rounds an idle daemon's minute down to zero;
- context switches (``voluntary_ctxt_switches + nonvoluntary_ctxt_switches``
  in ``/proc/PID/task/TID/status``).

A thread or child that exits keeps the last values read for it, so short-lived
ones are counted up to the last poll before they ended. CPU of *all*
descendants, including the part of a child's life after the last poll, is also
read from a per-subject cgroup (``cpu.stat`` ``usage_usec`` in cgroup v2, or
``cpuacct.usage`` in v1) that each subject is started in; when the cgroup
exists its total is the CPU figure (the method is printed). Without one
(not root, no cgroup fs) the figure is own threads plus the children polled.

Wake-ups: a poll slot is *active* when any thread of the subject (or of its
children) switched context in it; a *wake-up* is an active slot after an
inactive one, i.e. the subject coming out of idle. Context switches inside one
burst of work (a blocking fsync, a child's pipe) are not extra wake-ups of an
idle laptop, so they are reported beside it as context switches per interval.
Everything is printed per interval (the target's wording) and CPU also per
minute.

The agent runs as a laptop gets it. ``--frozen [DIR]`` runs the shipped
build: the PyInstaller onedir agent of :mod:`kitlife.installers.freeze`, built
into DIR (a temporary folder without DIR) or reused from there when DIR holds
one; its upload child is the frozen executable itself (``kitlife-agent -m
kitlife.agent.childjob ...``). Without it, a wheel of this tree installed in a
temporary venv and byte-compiled; ``--compare-wheel`` adds that wheel agent as
a second row beside the frozen one (``--editable`` runs the dev venv's
editable install instead, which costs every agent process an import hook and,
with PYTHONDONTWRITEBYTECODE set, a compile of kitlife at each start).

The floor: ``bench/footprint_floor.py`` runs beside the agent (frozen with the
agent's PyInstaller options under ``--frozen``, else by the agent's
interpreter). It imports what the resident loop imports and wakes once per
interval doing nothing, so the loop's own work shows against it.

Uploads: the agent uploads on its default cadence (hourly) unless
``--upload-interval`` says otherwise, and its first upload comes at a random
point in the first 300 s (the start-up splay), so a window of minutes holds
one upload or none. The upload child's cost is therefore also measured over
the whole run, warm-up included (the subject's cgroup total less the loop's
own threads, divided by the uploads started), and the agent's CPU is printed
three ways: the window as measured; the loop alone; and the loop plus one
upload child per upload interval ("amortised"), the figure for a laptop.

Fairness notes, printed with the results:
- collectd runs a minimal config (cpu, memory, disk, battery, csv) with
  ``Interval 60`` in the foreground.
- node-exporter collects only when scraped and nobody scrapes it by default,
  so this script scrapes it once per interval itself; the scrape's client
  side is not counted, as the collector's own cost is not counted for the
  agent.
- the agent talks to a real collector (``kitlife serve`` on loopback with an
  SQLite file); the collector's own cost is not counted. The agent's upload
  and probe children are counted in its CPU and wake-ups.

Usage: ``python -m bench.agent_footprint [--frozen [DIR]] [--duration 300] [--interval 60]``.
collectd and node-exporter are installed with apt-get when missing (needs root).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.wheel import build_wheel
from kitlife.agent.config import AgentConfig
from kitlife.installers import freeze

BIN = Path(sys.executable).parent
FLOOR = Path(__file__).with_name("footprint_floor.py")
FLOOR_NAME = "kitlife-floor"
# The agent's own default, so the benchmark measures the cadence a laptop gets.
DEFAULT_UPLOAD_S = AgentConfig.__dataclass_fields__["upload_interval_s"].default


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_installed(no_install: bool) -> None:
    missing = [
        pkg
        for binary, pkg in (
            ("collectd", "collectd-core"),
            ("prometheus-node-exporter", "prometheus-node-exporter"),
        )
        if shutil.which(binary) is None and not Path(f"/usr/sbin/{binary}").exists()
    ]
    if not missing:
        return
    if no_install:
        sys.exit(f"missing: {', '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


# -- /proc readers (thin) and the arithmetic on them (pure) ------------------------------
def install_as_shipped(tmp: Path) -> str:
    """The agent as a laptop gets it: a wheel in its own venv, byte-compiled; its path.

    The dev venv's editable install costs every agent process (the resident
    loop and each child) an import hook (~2.4 MB RSS, ~16 ms CPU per start),
    and with PYTHONDONTWRITEBYTECODE (set in this environment) every start
    compiles kitlife from source. Neither happens on a laptop. The third-party
    dependencies are taken from the dev venv through a .pth line, so no
    registry is needed and their versions are the tested ones.
    """
    wheel = build_wheel(tmp / "dist", tmp)
    pip = [sys.executable, "-m", "pip"]
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [*pip, "--python", str(py), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dev_purelib = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Appended after the venv's own site-packages, and a .pth in a path added this
    # way is not read, so the dev venv's editable kitlife stays invisible.
    (Path(purelib) / "kitlife_bench_deps.pth").write_text(dev_purelib + "\n")
    subprocess.run([str(py), "-m", "compileall", "-q", f"{purelib}/kitlife"], check=True)
    return str(env_dir / "bin" / "kitlife-agent")


def frozen_builds(out: Path) -> tuple[str, str]:
    """The frozen agent and the frozen floor in ``out`` (built when missing); their paths.

    The floor is frozen with exactly the agent's PyInstaller options (same
    module set, same bootloader) and only its entry script and name changed.
    """
    agent = out / freeze.NAME / freeze.NAME
    if not agent.exists():
        freeze.freeze(out, out / "work")
    floor = out / FLOOR_NAME / FLOOR_NAME
    if not floor.exists():
        freeze.freeze(out, out / "work-floor", entry=FLOOR, name=FLOOR_NAME)
    return str(agent), str(floor)


def parse_schedstat(text: str) -> int:
    """Nanoseconds on CPU: the first field of ``/proc/PID/task/TID/schedstat``."""
    return int(text.split(maxsplit=1)[0])


def parse_ctxt(text: str) -> int:
    """Voluntary plus non-voluntary context switches from a ``status`` file."""
    total = 0
    for line in text.splitlines():
        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
            total += int(line.split()[1])
    return total


def read_tasks(pid: int) -> dict[int, tuple[int, int]]:
    """Thread id -> (CPU ns, context switches) for every live thread of ``pid``."""
    out: dict[int, tuple[int, int]] = {}
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in os.listdir(f"/proc/{pid}/task"):
            base = f"/proc/{pid}/task/{task}"
            with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
                with open(f"{base}/schedstat") as f:
                    ns = parse_schedstat(f.read())
                with open(f"{base}/status") as f:
                    out[int(task)] = (ns, parse_ctxt(f.read()))
    return out


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (one per upload for the agent)."""
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with (
                contextlib.suppress(FileNotFoundError, ProcessLookupError),
                open(f"/proc/{pid}/task/{task}/children") as f,
            ):
                found.extend(int(k) for k in f.read().split())
    return found


def descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively, from ``/proc/PID/task/TID/children``."""
    found: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for task in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                    with open(f"/proc/{p}/task/{task}/children") as f:
                        kids = [int(k) for k in f.read().split()]
                    found.extend(kids)
                    todo.extend(kids)
    return found


def peak_rss(pid: int) -> int:
    """Bytes: the process's peak RSS so far (``VmHWM``), 0 once it is gone.

    Read at every poll, so a child that lives half a second still shows its peak.
    """
    with (
        contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError),
        open(f"/proc/{pid}/status") as f,
    ):
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def count_wakeups(active: list[bool]) -> int:
    """Idle-to-active transitions in a run of poll slots (a leading active slot counts)."""
    wakes = 0
    previous = False
    for slot in active:
        if slot and not previous:
            wakes += 1
        previous = slot
    return wakes


class Cgroup:
    """A leaf cgroup to start a subject in, for the CPU of every descendant, dead or alive."""

    def __init__(self, path: Path, usage: Callable[[Path], int]) -> None:
        self.path = path
        self._usage = usage

    @classmethod
    def create(cls, name: str) -> Cgroup | None:
        v2_roots = [Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")]
        for root in v2_roots:
            if (root / "cgroup.procs").exists() and (root / "cgroup.controllers").exists():
                with contextlib.suppress(OSError):
                    path = root / name
                    path.mkdir(exist_ok=True)
                    if (path / "cpu.stat").exists():
                        return cls(path, cls._v2_usage_ns)
        v1 = Path("/sys/fs/cgroup/cpuacct")
        if (v1 / "cpuacct.usage").exists():
            with contextlib.suppress(OSError):
                path = v1 / name
                path.mkdir(exist_ok=True)
                return cls(path, lambda p: int((p / "cpuacct.usage").read_text()))
        return None

    @staticmethod
    def _v2_usage_ns(path: Path) -> int:
        for line in (path / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) * 1000
        raise ValueError("no usage_usec in cpu.stat")

    @property
    def kind(self) -> str:
        return "cgroup v1 cpuacct.usage" if "cpuacct" in str(self.path) else "cgroup v2 cpu.stat"

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` started inside the cgroup: a shell joins it, then execs (same pid)."""
        join = 'echo $$ > "$0/cgroup.procs" && exec "$@"'
        return ["/bin/sh", "-c", join, str(self.path), *argv]

    def usage_ns(self) -> int:
        return self._usage(self.path)

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()


@dataclass
class Counters:
    """Last values seen per thread, so a thread or child that exits keeps its share."""

    base: dict[int, tuple[int, int]] = field(default_factory=dict)
    last: dict[int, tuple[int, int]] = field(default_factory=dict)

    def update(self, tasks: dict[int, tuple[int, int]]) -> None:
        for tid, value in tasks.items():
            self.base.setdefault(tid, (0, 0))
            self.last[tid] = value

    def start(self) -> None:
        """From now on count only what happens after this call."""
        self.base = dict(self.last)

    def totals(self) -> tuple[int, int]:
        ns = sum(v[0] - self.base.get(t, (0, 0))[0] for t, v in self.last.items())
        cs = sum(v[1] - self.base.get(t, (0, 0))[1] for t, v in self.last.items())
        return ns, cs


@dataclass
class Subject:
    name: str
    proc: subprocess.Popen[bytes]
    cgroup: Cgroup | None
    note: str = ""
    # Seconds between uploads for an agent subject; None for the others.
    upload_interval_s: int | None = None
    rss: list[int] = field(default_factory=list)
    uss: list[int] = field(default_factory=list)
    own: Counters = field(default_factory=Counters)
    kids: Counters = field(default_factory=Counters)
    # The same, never reset: the whole run, warm-up included (the upload child's cost).
    own_all: Counters = field(default_factory=Counters)
    kids_all: Counters = field(default_factory=Counters)
    child_pids: set[int] = field(default_factory=set)
    direct_children: set[int] = field(default_factory=set)
    child_peak_rss: int = 0
    active: list[bool] = field(default_factory=list)
    last_switches: int = 0
    cg0: int = 0
    cg1: int = 0

    def poll(self, measuring: bool) -> None:
        """Read every thread of the subject and its children; note whether it was active."""
        own = read_tasks(self.proc.pid)
        self.own.update(own)
        self.own_all.update(own)
        self.direct_children.update(children(self.proc.pid))
        for pid in descendants(self.proc.pid):
            self.child_pids.add(pid)
            # Thread ids are unique system-wide while alive; a reused id after a
            # child exits would need 32k forks within one run, so no collision.
            kid = read_tasks(pid)
            self.kids.update(kid)
            self.kids_all.update(kid)
            self.child_peak_rss = max(self.child_peak_rss, peak_rss(pid))
        switches = self.own.totals()[1] + self.kids.totals()[1]
        if measuring:
            self.active.append(switches != self.last_switches)
        self.last_switches = switches

    def start_measuring(self) -> None:
        self.own.start()
        self.kids.start()
        self.last_switches = 0
        if self.cgroup is not None:
            self.cg0 = self.cgroup.usage_ns()

    def stop_measuring(self) -> None:
        if self.cgroup is not None:
            self.cg1 = self.cgroup.usage_ns()

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)


def enrol_token(db: str) -> str:
    """A new enrolment token: each is good for one device."""
    return subprocess.run(
        [str(BIN / "kitlife"), "--db", db, "token", "create", "--role", "enroll"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def start_collector(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """The collector on loopback; its process, URL and database URL (for tokens)."""
    db = f"sqlite:///{tmp / 'collector.sqlite3'}"
    port = free_port()
    subprocess.run(
        [str(BIN / "kitlife"), "--db", db, "db", "upgrade"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    log = (tmp / "collector.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "kitlife"), "--db", db, "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
            if r.status == 200:
                return proc, url, db
        time.sleep(0.1)
    raise RuntimeError("collector did not start")


def start_agent(
    tmp: Path,
    url: str,
    token: str,
    interval: int,
    upload_interval: int,
    agent_cmd: str,
    wrap: Callable[[list[str]], list[str]],
) -> subprocess.Popen[bytes]:
    state = tmp / "agent-state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITLIFE_")}
    env.update(
        KITLIFE_AGENT_STATE_DIR=str(state),
        KITLIFE_AGENT_CONFIG=str(tmp / "none.toml"),
        KITLIFE_AGENT_ALLOW_HTTP="1",
        KITLIFE_AGENT_SAMPLE_INTERVAL_S=str(interval),
        KITLIFE_AGENT_UPLOAD_INTERVAL_S=str(upload_interval),
        KITLIFE_AGENT_STARTUP_SPLAY_S=str(min(upload_interval, 300)),
    )
    enrol = subprocess.run(
        [agent_cmd, "enroll", "--url", url, "--token", token],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if enrol.returncode != 0:
        raise RuntimeError(f"{agent_cmd} enroll failed: {enrol.stderr.strip()}")
    return subprocess.Popen(wrap([agent_cmd, "run"]), env=env, stderr=subprocess.DEVNULL)


def start_collectd(
    tmp: Path, interval: int, wrap: Callable[[list[str]], list[str]]
) -> subprocess.Popen[bytes]:
    conf = tmp / "collectd.conf"
    plugin_dir = "/usr/lib/collectd"
    conf.write_text(
        f"""Hostname "bench"
FQDNLookup false
BaseDir "{tmp}/collectd"
PIDFile "{tmp}/collectd.pid"
PluginDir "{plugin_dir}"
TypesDB "/usr/share/collectd/types.db"
Interval {interval}
LoadPlugin cpu
LoadPlugin memory
LoadPlugin disk
LoadPlugin battery
LoadPlugin csv
<Plugin csv>
  DataDir "{tmp}/collectd-csv"
  StoreRates true
</Plugin>
"""
    )
    (tmp / "collectd").mkdir(exist_ok=True)
    binary = shutil.which("collectd") or "/usr/sbin/collectd"
    return subprocess.Popen(
        wrap([binary, "-f", "-C", str(conf)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_node_exporter(
    wrap: Callable[[list[str]], list[str]],
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    binary = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"
    proc = subprocess.Popen(
        wrap([binary, f"--web.listen-address=127.0.0.1:{port}"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}/metrics"


def scrape(url: str) -> int:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=10) as r:
        return len(r.read())
    return 0


def figures(s: Subject, duration: float, interval: int) -> dict[str, object]:
    """One subject's row: RSS, CPU per minute and per interval, wake-ups per interval."""
    minutes = duration / 60.0
    intervals = duration / interval
    own_ns, own_cs = s.own.totals()
    kid_ns, kid_cs = s.kids.totals()
    polled_ns = own_ns + kid_ns
    cgroup_ns = s.cg1 - s.cg0 if s.cgroup is not None else None
    # The cgroup sees every descendant's whole life; polling can only undercount.
    total_ns = max(cgroup_ns, polled_ns) if cgroup_ns is not None else polled_ns
    wakes = count_wakeups(s.active)
    upload: dict[str, object] = {}
    if s.upload_interval_s is not None:
        # The whole run, warm-up included: the cgroup counts every child's whole life.
        own_all_ns = s.own_all.totals()[0]
        kids_all_ns = s.kids_all.totals()[0]
        if s.cgroup is not None:
            kids_all_ns = max(kids_all_ns, s.cg1 - own_all_ns)
        uploads = len(s.direct_children)
        per_upload_ns = kids_all_ns / uploads if uploads else None
        upload = {
            "uploads_in_run": uploads,
            "upload_child_cpu_ms": None if per_upload_ns is None else per_upload_ns / 1e6,
            "upload_interval_s": s.upload_interval_s,
            # The loop as measured in the window plus one child per upload interval.
            "cpu_amortised_s_per_min": None
            if per_upload_ns is None
            else (own_ns + per_upload_ns * duration / s.upload_interval_s) / 1e9 / minutes,
        }
    return {
        "name": s.name,
        "rss_mb": statistics.median(s.rss) / 2**20,
        "rss_max_mb": max(s.rss) / 2**20,
        "uss_mb": statistics.median(s.uss) / 2**20,
        "cpu_s_per_min": total_ns / 1e9 / minutes,
        "cpu_ms_per_interval": total_ns / 1e6 / intervals,
        "cpu_own_s_per_min": own_ns / 1e9 / minutes,
        "cpu_children_s_per_min": (total_ns - own_ns) / 1e9 / minutes,
        "cpu_method": s.cgroup.kind if s.cgroup is not None else "schedstat polled",
        "cpu_polled_s_per_min": polled_ns / 1e9 / minutes,
        "wakeups_per_interval": wakes / intervals,
        "switches_per_interval": (own_cs + kid_cs) / intervals,
        "switches_own_per_interval": own_cs / intervals,
        "switches_per_min": (own_cs + kid_cs) / minutes,
        "children": len(s.child_pids),
        "child_switches": kid_cs,
        "child_peak_rss_mb": s.child_peak_rss / 2**20,
        "note": s.note,
        **upload,
    }


def start_floor(
    floor_cmd: list[str], interval: int, wrap: Callable[[list[str]], list[str]]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(wrap([*floor_cmd, str(interval)]), stderr=subprocess.DEVNULL)


def print_table(rows: list[dict[str, object]]) -> None:
    print(
        f"{'':26} {'RSS MB':>7} {'max':>5} {'USS MB':>7} {'CPU s/min':>10} "
        f"{'CPU ms/int':>10} {'wake-ups/int':>12} {'switches/int':>12}"
    )
    for r in rows:
        print(
            f"{r['name']:26} {r['rss_mb']:7.1f} {r['rss_max_mb']:5.1f} {r['uss_mb']:7.1f} "
            f"{r['cpu_s_per_min']:10.5f} {r['cpu_ms_per_interval']:10.2f} "
            f"{r['wakeups_per_interval']:12.2f} {r['switches_per_interval']:12.1f}   {r['note']}"
        )


def ratio(x: object, y: object) -> str:
    assert isinstance(x, float) and isinstance(y, float)
    return f"{x / y:.2f}" if y > 0 else "n/a (other is 0)"


def print_agent(a: dict[str, object], others: list[dict[str, object]]) -> None:
    child_ms = a["upload_child_cpu_ms"]
    amortised = a["cpu_amortised_s_per_min"]
    print(
        f"  {a['name']}: loop {a['cpu_own_s_per_min']:.5f} CPU s/min, children "
        f"{a['cpu_children_s_per_min']:.5f} in the window; {a['children']} processes "
        f"spawned in the run ({a['uploads_in_run']} uploads), child peak RSS "
        f"{a['child_peak_rss_mb']:.1f} MB, {a['child_switches']} of the switches theirs; "
        f"loop alone {a['switches_own_per_interval']:.1f} switches/int"
    )
    if isinstance(child_ms, float) and isinstance(amortised, float):
        print(
            f"  {a['name']}: upload child {child_ms:.0f} ms CPU per upload (mean of "
            f"{a['uploads_in_run']}, whole run); loop + one upload per "
            f"{a['upload_interval_s']} s = {amortised:.5f} CPU s/min (amortised)"
        )
    else:
        print(f"  {a['name']}: no upload in the run; no amortised figure")
    for other in others:
        line = (
            f"  ratio {a['name']}/{other['name']}: RSS {ratio(a['rss_mb'], other['rss_mb'])}, "
            f"CPU {ratio(a['cpu_s_per_min'], other['cpu_s_per_min'])}"
        )
        if isinstance(amortised, float):
            line += f" (amortised {ratio(amortised, other['cpu_s_per_min'])})"
        line += (
            f", wake-ups {ratio(a['wakeups_per_interval'], other['wakeups_per_interval'])}, "
            f"switches {ratio(a['switches_per_interval'], other['switches_per_interval'])}"
        )
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=300, help="seconds measured [300]")
    ap.add_argument("--interval", type=int, default=60, help="sampling interval, s [60]")
    ap.add_argument(
        "--upload-interval",
        type=int,
        default=DEFAULT_UPLOAD_S,
        help=f"agent upload, s [the agent's default, {DEFAULT_UPLOAD_S}]",
    )
    ap.add_argument("--warmup", type=float, default=None, help="s ignored first [interval]")
    ap.add_argument("--poll", type=float, default=0.2, help="s between /proc reads [0.2]")
    ap.add_argument(
        "--frozen",
        nargs="?",
        type=Path,
        const=Path(""),
        default=None,
        metavar="DIR",
        help="run the frozen onedir agent (and floor), built into DIR or reused from it "
        "[a temporary folder]",
    )
    ap.add_argument(
        "--compare-wheel",
        action="store_true",
        help="with --frozen: also run the wheel-installed agent and its floor, for comparison",
    )
    ap.add_argument(
        "--agent-cmd",
        default=None,
        help="agent executable [a wheel of this tree, installed in a temporary venv]",
    )
    ap.add_argument(
        "--editable",
        action="store_true",
        help="run the dev venv's editable kitlife-agent instead of a wheel install",
    )
    ap.add_argument("--no-floor", action="store_true", help="no floor row")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--no-cgroup", action="store_true", help="poll only, no cgroup totals")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    warmup = args.interval if args.warmup is None else args.warmup
    ensure_installed(args.no_install)

    tmp = Path(tempfile.mkdtemp(prefix="kitlife-footprint-"))
    tag = f"kitlife-footprint-{os.getpid()}"

    def cgroup(name: str) -> Cgroup | None:
        return None if args.no_cgroup else Cgroup.create(f"{tag}-{name}")

    # (row name, agent executable, floor command) per agent subject.
    agents: list[tuple[str, str, list[str]]] = []
    if args.frozen is not None:
        out = args.frozen if str(args.frozen) else tmp / "frozen"
        agent_exe, floor_exe = frozen_builds(out.resolve())
        agents.append(("kitlife-agent (frozen)", agent_exe, [floor_exe]))
    if args.frozen is None or args.compare_wheel:
        if args.agent_cmd is not None:
            agent_exe, name = args.agent_cmd, "kitlife-agent"
            python = sys.executable
        elif args.editable:
            agent_exe, name = str(BIN / "kitlife-agent"), "kitlife-agent (editable)"
            python = sys.executable
        else:
            agent_exe, name = install_as_shipped(tmp), "kitlife-agent (wheel)"
            python = str(Path(agent_exe).parent / "python")
        agents.append((name, agent_exe, [python, str(FLOOR)]))
    collector, url, db = start_collector(tmp)
    subjects: list[Subject] = []
    try:
        for i, (name, agent_exe, floor_cmd) in enumerate(agents):
            cg = cgroup(f"agent{i}")
            state = tmp / f"agent{i}"
            state.mkdir()
            subjects.append(
                Subject(
                    name,
                    start_agent(
                        state,
                        url,
                        enrol_token(db),
                        args.interval,
                        args.upload_interval,
                        agent_exe,
                        cg.wrap if cg else list,
                    ),
                    cg,
                    f"upload every {args.upload_interval} s via a child process",
                    upload_interval_s=args.upload_interval,
                )
            )
            if not args.no_floor:
                cg = cgroup(f"floor{i}")
                kind = name.partition(" ")[2] or "(python)"
                subjects.append(
                    Subject(
                        f"floor {kind}",
                        start_floor(floor_cmd, args.interval, cg.wrap if cg else list),
                        cg,
                        "the loop's imports, one wake-up per interval, no work",
                    )
                )
        cg = cgroup("collectd")
        collectd = Subject(
            "collectd",
            start_collectd(tmp, args.interval, cg.wrap if cg else list),
            cg,
            "cpu, memory, disk, battery, csv",
        )
        subjects.append(collectd)
        cg = cgroup("node-exporter")
        nx_proc, nx_url = start_node_exporter(cg.wrap if cg else list)
        node = Subject(
            "node-exporter",
            nx_proc,
            cg,
            f"default collectors, scraped by this script every {args.interval} s",
        )
        subjects.append(node)
        t_start = time.monotonic()
        next_scrape = t_start
        next_mem = t_start
        measuring = False
        t_measure = t_start + warmup
        t_end = t_measure + args.duration
        load_start = os.getloadavg()
        print(
            f"warm-up {warmup:.0f} s, then measuring {args.duration:.0f} s at a "
            f"{args.interval} s interval, upload every {args.upload_interval} s ...",
            flush=True,
        )
        next_poll = t_start
        while (now := time.monotonic()) < t_end:
            if now >= next_scrape:
                scrape(nx_url)
                next_scrape += args.interval
            if not measuring and now >= t_measure:
                for s in subjects:
                    s.poll(False)
                    s.start_measuring()
                measuring = True
            for s in subjects:
                if s.proc.poll() is not None:
                    raise RuntimeError(f"{s.name} exited with {s.proc.returncode}")
                s.poll(measuring)
            if now >= next_mem:
                # memory_full_info reads smaps: once a second is plenty for a median.
                next_mem += 1.0
                for s in subjects:
                    if measuring:
                        mem = s.ps.memory_full_info()
                        s.rss.append(mem.rss)
                        s.uss.append(mem.uss)
            next_poll += args.poll
            time.sleep(max(0.0, min(next_poll, t_end) - time.monotonic()))
        for s in subjects:
            s.poll(True)
            s.stop_measuring()
        load_end = os.getloadavg()
    finally:
        for s in subjects:
            with contextlib.suppress(ProcessLookupError):
                s.proc.terminate()
        for s in subjects:
            with contextlib.suppress(subprocess.TimeoutExpired):
                s.proc.wait(15)
        collector.terminate()
        collector.wait(15)
        for s in subjects:
            if s.cgroup is not None:
                time.sleep(0.1)  # an exited process leaves the cgroup once reaped
                s.cgroup.remove()

    rows = [figures(s, args.duration, args.interval) for s in subjects]
    print(
        f"\n{args.duration:.0f} s measured after {warmup:.0f} s warm-up, interval "
        f"{args.interval} s, upload every {args.upload_interval} s, host "
        f"{os.uname().nodename} {os.uname().sysname} {os.uname().release} "
        f"({psutil.cpu_count()} CPUs), CPU by {rows[0]['cpu_method']}, /proc polled every "
        f"{args.poll:g} s\nload average at start {load_start[0]:.2f} {load_start[1]:.2f} "
        f"{load_start[2]:.2f}, at end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}"
    )
    for name, agent_exe, _ in agents:
        print(f"{name}: {agent_exe}")
    print_table(rows)
    baseline = [r for r in rows if r["name"] in ("collectd", "node-exporter")]
    for r in rows:
        if "upload_interval_s" in r:
            floor = [
                f
                for f in rows
                if f["name"] == "floor " + (str(r["name"]).partition(" ")[2] or "(python)")
            ]
            print_agent(r, floor + baseline)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "duration_s": args.duration,
                    "interval_s": args.interval,
                    "upload_interval_s": args.upload_interval,
                    "loadavg_start": load_start,
                    "loadavg_end": load_end,
                    "rows": rows,
                },
                indent=2,
            )
        )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
