"""Footprint of ``kitlife-agent run`` beside collectd and prometheus-node-exporter.

All three run side by side on this machine at the same 60 s interval for the
same wall time; for each we sample RSS (psutil), CPU time (own plus reaped
children) and wake-ups (context switches summed over every thread, from
/proc/PID/task/*/status) and print steady RSS, CPU seconds per minute and
wake-ups per minute, with the agent's ratios to each.

Fairness notes, printed with the results:
- collectd runs a minimal config (cpu, memory, disk, battery, csv) with
  ``Interval 60`` in the foreground.
- node-exporter collects only when scraped and nobody scrapes it by default,
  so this script scrapes it once per interval itself.
- the agent talks to a real collector (``kitlife serve`` on loopback with an
  SQLite file); the collector's own cost is not counted. The agent's upload
  child is counted in CPU (reaped children), and its wake-ups are reported
  separately as "child" since a child's counters vanish when it exits.

Usage: ``python bench/agent_footprint.py [--duration 300] [--interval 60]``.
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
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent


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


def wakeups(pid: int) -> int:
    """Context switches of every live thread: each one is the process waking up or being cut."""
    total = 0
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                for line in (task / "status").read_text().splitlines():
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
    return total


def cpu_s(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system + t.children_user + t.children_system)


@dataclass
class Subject:
    name: str
    proc: subprocess.Popen[bytes]
    note: str = ""
    rss: list[int] = field(default_factory=list)
    uss: list[int] = field(default_factory=list)
    cpu0: float = 0.0
    wake0: int = 0
    cpu1: float = 0.0
    wake1: int = 0
    child_pids: set[int] = field(default_factory=set)
    child_wakeups: dict[int, int] = field(default_factory=dict)
    child_peak_rss: int = 0

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)


def start_collector(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    db = f"sqlite:///{tmp / 'collector.sqlite3'}"
    port = free_port()
    token = subprocess.run(
        [str(BIN / "kitlife"), "--db", db, "token", "create", "--role", "enroll"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
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
                return proc, url, token
        time.sleep(0.1)
    raise RuntimeError("collector did not start")


def start_agent(
    tmp: Path, url: str, token: str, interval: int, upload_interval: int, agent_cmd: str
) -> subprocess.Popen[bytes]:
    state = tmp / "agent-state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITLIFE_")}
    env.update(
        KITLIFE_STATE_DIR=str(state),
        KITLIFE_CONFIG=str(tmp / "none.toml"),
        KITLIFE_ALLOW_HTTP="1",
        KITLIFE_SAMPLE_INTERVAL_S=str(interval),
        KITLIFE_UPLOAD_INTERVAL_S=str(upload_interval),
        KITLIFE_STARTUP_SPLAY_S=str(min(upload_interval, 300)),
    )
    subprocess.run(
        [agent_cmd, "enroll", "--url", url, "--token", token],
        env=env,
        check=True,
        capture_output=True,
    )
    return subprocess.Popen([agent_cmd, "run"], env=env, stderr=subprocess.DEVNULL)


def start_collectd(tmp: Path, interval: int) -> subprocess.Popen[bytes]:
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
        [binary, "-f", "-C", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def start_node_exporter() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    binary = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"
    proc = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}/metrics"


def scrape(url: str) -> int:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=10) as r:
        return len(r.read())
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=300, help="seconds measured [300]")
    ap.add_argument("--interval", type=int, default=60, help="sampling interval, s [60]")
    ap.add_argument("--upload-interval", type=int, default=900, help="agent upload, s [900]")
    ap.add_argument("--warmup", type=float, default=None, help="s ignored first [interval]")
    ap.add_argument("--agent-cmd", default=str(BIN / "kitlife-agent"))
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    warmup = args.interval if args.warmup is None else args.warmup
    ensure_installed(args.no_install)

    tmp = Path(tempfile.mkdtemp(prefix="kitlife-footprint-"))
    collector, url, token = start_collector(tmp)
    subjects: list[Subject] = []
    try:
        agent = Subject(
            "kitlife-agent",
            start_agent(tmp, url, token, args.interval, args.upload_interval, args.agent_cmd),
            f"upload every {args.upload_interval} s via a child process",
        )
        collectd = Subject(
            "collectd", start_collectd(tmp, args.interval), "cpu, memory, disk, battery, csv"
        )
        nx_proc, nx_url = start_node_exporter()
        node = Subject(
            "node-exporter",
            nx_proc,
            f"default collectors, scraped by this script every {args.interval} s",
        )
        subjects = [agent, collectd, node]
        t_start = time.monotonic()
        next_scrape = t_start
        measuring = False
        t_measure = t_start + warmup
        t_end = t_measure + args.duration
        print(
            f"warm-up {warmup:.0f} s, then measuring {args.duration:.0f} s at a "
            f"{args.interval} s interval ...",
            flush=True,
        )
        while (now := time.monotonic()) < t_end:
            if now >= next_scrape:
                scrape(nx_url)
                next_scrape += args.interval
            if not measuring and now >= t_measure:
                for s in subjects:
                    s.cpu0, s.wake0 = cpu_s(s.ps), wakeups(s.proc.pid)
                measuring = True
            for s in subjects:
                if s.proc.poll() is not None:
                    raise RuntimeError(f"{s.name} exited with {s.proc.returncode}")
                if measuring:
                    mem = s.ps.memory_full_info()
                    s.rss.append(mem.rss)
                    s.uss.append(mem.uss)
                for child in s.ps.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        s.child_pids.add(child.pid)
                        s.child_wakeups[child.pid] = wakeups(child.pid)
                        s.child_peak_rss = max(s.child_peak_rss, child.memory_info().rss)
            time.sleep(min(1.0, max(0.05, t_end - time.monotonic())))
        for s in subjects:
            s.cpu1, s.wake1 = cpu_s(s.ps), wakeups(s.proc.pid)
    finally:
        for s in subjects:
            with contextlib.suppress(ProcessLookupError):
                s.proc.terminate()
        for s in subjects:
            with contextlib.suppress(subprocess.TimeoutExpired):
                s.proc.wait(15)
        collector.terminate()
        collector.wait(15)

    minutes = args.duration / 60.0
    rows = []
    for s in subjects:
        rows.append(
            {
                "name": s.name,
                "rss_mb": statistics.median(s.rss) / 2**20,
                "rss_max_mb": max(s.rss) / 2**20,
                "uss_mb": statistics.median(s.uss) / 2**20,
                "cpu_s_per_min": (s.cpu1 - s.cpu0) / minutes,
                "wakeups_per_min": (s.wake1 - s.wake0) / minutes,
                "children": len(s.child_pids),
                "child_wakeups": sum(s.child_wakeups.values()),
                "child_peak_rss_mb": s.child_peak_rss / 2**20,
                "note": s.note,
            }
        )
    print(
        f"\n{args.duration:.0f} s measured after {warmup:.0f} s warm-up, interval "
        f"{args.interval} s, host {os.uname().nodename} ({psutil.cpu_count()} CPUs)"
    )
    print(f"{'':15} {'RSS MB':>8} {'max':>6} {'USS MB':>7} {'CPU s/min':>10} {'wakeups/min':>12}")
    for r in rows:
        print(
            f"{r['name']:15} {r['rss_mb']:8.1f} {r['rss_max_mb']:6.1f} {r['uss_mb']:7.1f} "
            f"{r['cpu_s_per_min']:10.4f} {r['wakeups_per_min']:12.1f}   {r['note']}"
        )
    a = rows[0]
    if a["children"]:
        print(
            f"  agent children: {a['children']} spawned, peak RSS {a['child_peak_rss_mb']:.1f} MB, "
            f">= {a['child_wakeups']} context switches (CPU included above)"
        )

    def ratio(x: float, y: float) -> str:
        # CPU time is counted in clock ticks (10 ms): below that, say so, not "inf".
        return f"{x / y:.2f}" if y > 0 else "n/a (other below 10 ms)"

    for other in rows[1:]:
        print(
            f"ratio agent/{other['name']}: RSS {ratio(a['rss_mb'], other['rss_mb'])}, "
            f"CPU {ratio(a['cpu_s_per_min'], other['cpu_s_per_min'])}, "
            f"wake-ups {ratio(a['wakeups_per_min'], other['wakeups_per_min'])}"
        )
    if args.json:
        args.json.write_text(json.dumps({"duration_s": args.duration, "rows": rows}, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
