"""The registry of metric ids: the one list both sides agree on.

Rules (wire format v1):
- an id, once shipped, never changes meaning, unit or exponent; new metrics
  only add rows (the wire version stays 1);
- a collector that meets an id it does not know keeps it in the raw batch chunk
  and leaves it out of derived tables (latest readings, rollups); it is never
  an error;
- ids are grouped in blocks per source so that parallel work adds rows without
  colliding.

``exponent`` is the power of ten a numeric value is quantised to on the wire:
0 keeps whole units, -1 one decimal, -2 two. ``kind`` is ``gauge`` (a level),
``counter`` (monotonic total), or ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["gauge", "counter", "text"]


@dataclass(frozen=True, slots=True)
class Metric:
    id: int
    name: str
    unit: str
    kind: Kind
    exponent: int
    description: str


def _m(id_: int, name: str, unit: str, kind: Kind, exponent: int, description: str) -> Metric:
    return Metric(id_, name, unit, kind, exponent, description)


REGISTRY: tuple[Metric, ...] = (
    # --- 1-99 system basics (psutil) -------------------------------------------------
    _m(1, "cpu.busy_pct", "%", "gauge", -1, "CPU busy share over the sampling interval"),
    _m(2, "cpu.count_logical", "count", "gauge", 0, "logical CPUs"),
    _m(3, "mem.total_bytes", "bytes", "gauge", 0, "physical memory"),
    _m(4, "mem.available_bytes", "bytes", "gauge", 0, "memory available without swapping"),
    _m(5, "mem.used_pct", "%", "gauge", -1, "memory in use"),
    _m(6, "swap.total_bytes", "bytes", "gauge", 0, "swap space"),
    _m(7, "swap.used_pct", "%", "gauge", -1, "swap in use"),
    _m(8, "disk.total_bytes", "bytes", "gauge", 0, "size of the system volume"),
    _m(9, "disk.used_pct", "%", "gauge", -1, "system volume in use"),
    _m(10, "boot.time_s", "epoch s", "gauge", 0, "when the OS last booted (UTC)"),
    _m(11, "uptime_s", "s", "gauge", 0, "seconds since boot"),
    _m(12, "cpu.load1", "load", "gauge", -2, "1-minute load average"),
    # --- 100-199 battery (component: the pack's OS name, e.g. BAT0) ------------------------
    _m(100, "battery.design_capacity_mwh", "mWh", "gauge", 0, "capacity the pack was designed for"),
    _m(
        101,
        "battery.full_charge_capacity_mwh",
        "mWh",
        "gauge",
        0,
        "capacity the pack holds when full today",
    ),
    _m(102, "battery.remaining_capacity_mwh", "mWh", "gauge", 0, "energy in the pack now"),
    _m(103, "battery.cycle_count", "cycles", "counter", 0, "charge cycles the pack reports"),
    _m(104, "battery.charge_pct", "%", "gauge", 0, "state of charge"),
    _m(105, "battery.on_ac", "bool", "gauge", 0, "1 when on mains power"),
    _m(
        106, "battery.unplugged_s", "s", "counter", 0, "time spent on battery since the agent began"
    ),
    _m(107, "battery.voltage_mv", "mV", "gauge", 0, "pack voltage now"),
    _m(108, "battery.design_voltage_mv", "mV", "gauge", 0, "pack design (minimum) voltage"),
    _m(
        109,
        "battery.design_capacity_mah",
        "mAh",
        "gauge",
        0,
        "design capacity where the pack reports charge, not energy",
    ),
    _m(
        110,
        "battery.full_charge_capacity_mah",
        "mAh",
        "gauge",
        0,
        "full-charge capacity where the pack reports charge, not energy",
    ),
    _m(
        111,
        "battery.remaining_capacity_mah",
        "mAh",
        "gauge",
        0,
        "charge in the pack now where the pack reports charge, not energy",
    ),
    _m(112, "battery.temperature_c", "degC", "gauge", -1, "pack temperature"),
    _m(
        113,
        "battery.os_max_capacity_pct",
        "%",
        "gauge",
        0,
        "maximum capacity as the OS itself states it (macOS System Information)",
    ),
    _m(150, "battery.chemistry", "", "text", 0, "cell chemistry (Li-ion, LiP)"),
    _m(151, "battery.manufacturer", "", "text", 0, "pack manufacturer"),
    _m(152, "battery.model", "", "text", 0, "pack model"),
    _m(153, "battery.serial", "", "text", 0, "pack serial number"),
    _m(154, "battery.manufacture_date", "", "text", 0, "pack manufacture date, ISO 8601"),
    _m(
        155,
        "battery.os_condition",
        "",
        "text",
        0,
        "the OS's own battery label (macOS: Normal, Service Recommended)",
    ),
    # --- 200-299 storage (component: the disk's OS name, e.g. nvme0, sda) ---------------------
    _m(200, "storage.smart_passed", "bool", "gauge", 0, "the drive's own overall self-assessment"),
    _m(201, "storage.power_on_hours", "h", "counter", 0, "hours the drive has been powered"),
    _m(202, "storage.temperature_c", "degC", "gauge", 0, "drive temperature"),
    _m(203, "storage.capacity_bytes", "bytes", "gauge", 0, "drive capacity"),
    _m(210, "nvme.percentage_used_pct", "%", "gauge", 0, "vendor estimate of endurance used"),
    _m(211, "nvme.available_spare_pct", "%", "gauge", 0, "spare blocks left"),
    _m(
        212,
        "nvme.available_spare_threshold_pct",
        "%",
        "gauge",
        0,
        "the drive's own threshold for available spare",
    ),
    _m(213, "nvme.media_errors", "count", "counter", 0, "unrecovered data-integrity errors"),
    _m(214, "nvme.unsafe_shutdowns", "count", "counter", 0, "power lost without a clean shutdown"),
    _m(215, "nvme.data_units_written", "512000 bytes", "counter", 0, "data written, NVMe units"),
    _m(216, "nvme.critical_warning", "bits", "gauge", 0, "critical warning bit field"),
    _m(217, "nvme.error_log_entries", "count", "counter", 0, "error information log entries"),
    _m(220, "ata.reallocated_sectors", "sectors", "counter", 0, "SMART 5 raw"),
    _m(221, "ata.power_cycle_count", "count", "counter", 0, "SMART 12 raw"),
    _m(222, "ata.reported_uncorrect", "count", "counter", 0, "SMART 187 raw"),
    _m(223, "ata.command_timeout", "count", "counter", 0, "SMART 188 raw"),
    _m(224, "ata.pending_sectors", "sectors", "gauge", 0, "SMART 197 raw"),
    _m(225, "ata.offline_uncorrectable", "sectors", "counter", 0, "SMART 198 raw"),
    _m(226, "ata.udma_crc_errors", "count", "counter", 0, "SMART 199 raw"),
    _m(227, "ata.total_lbas_written", "LBAs", "counter", 0, "SMART 241 raw"),
    _m(228, "ata.total_lbas_read", "LBAs", "counter", 0, "SMART 242 raw"),
    _m(
        230,
        "ata.attr_normalised",
        "",
        "gauge",
        0,
        "normalised value of a SMART attribute (component: disk:attribute id)",
    ),
    _m(
        231,
        "ata.attr_threshold",
        "",
        "gauge",
        0,
        "the drive's own failure threshold for that attribute (component: disk:attribute id)",
    ),
    _m(240, "scsi.grown_defects", "blocks", "counter", 0, "SAS/SCSI grown defect list length"),
    _m(
        241,
        "scsi.uncorrected_read_errors",
        "count",
        "counter",
        0,
        "SAS/SCSI error counter log: total uncorrected read errors",
    ),
    _m(
        242,
        "scsi.uncorrected_write_errors",
        "count",
        "counter",
        0,
        "SAS/SCSI error counter log: total uncorrected write errors",
    ),
    _m(
        243,
        "scsi.uncorrected_verify_errors",
        "count",
        "counter",
        0,
        "SAS/SCSI error counter log: total uncorrected verify errors",
    ),
    _m(250, "storage.model", "", "text", 0, "drive model"),
    _m(251, "storage.firmware", "", "text", 0, "drive firmware version"),
    _m(252, "storage.serial", "", "text", 0, "drive serial number"),
    _m(253, "storage.protocol", "", "text", 0, "ATA, NVMe or SCSI"),
    _m(254, "storage.rotation_rpm", "rpm", "gauge", 0, "0 for solid state"),
    # --- 300-349 thermal and power -------------------------------------------------------
    _m(
        300,
        "thermal.temperature_c",
        "degC",
        "gauge",
        -1,
        "a temperature sensor (component: chip/label, e.g. coretemp/Package id 0)",
    ),
    _m(
        301,
        "thermal.temperature_high_c",
        "degC",
        "gauge",
        -1,
        "the sensor's own 'high' limit (component as for 300)",
    ),
    _m(
        302,
        "thermal.temperature_critical_c",
        "degC",
        "gauge",
        -1,
        "the sensor's own critical limit (component as for 300)",
    ),
    _m(303, "thermal.fan_rpm", "rpm", "gauge", 0, "fan speed (component: chip/label)"),
    _m(
        304,
        "thermal.core_throttle_count",
        "events",
        "counter",
        0,
        "CPU core thermal-throttle events since boot, summed over CPUs",
    ),
    _m(
        305,
        "thermal.package_throttle_count",
        "events",
        "counter",
        0,
        "CPU package thermal-throttle events since boot, summed over packages",
    ),
    # --- 400-499 inventory -----------------------------------------------------------------
    _m(400, "inv.hostname", "", "text", 0, "the device's network name"),
    _m(401, "inv.os_name", "", "text", 0, "operating system family (Linux, Windows, Darwin)"),
    _m(402, "inv.os_version", "", "text", 0, "operating system release"),
    _m(403, "inv.cpu_model", "", "text", 0, "processor model string"),
    _m(404, "inv.vendor", "", "text", 0, "hardware vendor"),
    _m(405, "inv.model", "", "text", 0, "hardware model"),
    _m(406, "inv.serial", "", "text", 0, "hardware serial number"),
    _m(407, "inv.cpu_cores", "count", "gauge", 0, "physical CPU cores"),
    _m(408, "inv.machine", "", "text", 0, "CPU architecture (x86_64, arm64)"),
    _m(409, "inv.asset_tag", "", "text", 0, "asset tag set in firmware"),
    _m(410, "inv.bios_vendor", "", "text", 0, "BIOS/firmware vendor"),
    _m(411, "inv.bios_version", "", "text", 0, "BIOS/firmware version"),
    _m(412, "inv.bios_date", "", "text", 0, "BIOS/firmware release date, ISO 8601"),
    _m(413, "inv.ram_total_bytes", "bytes", "gauge", 0, "installed physical memory"),
    _m(
        414,
        "inv.ram_soldered",
        "bool",
        "gauge",
        0,
        "1 when some memory is soldered to the board (cannot be upgraded)",
    ),
    _m(415, "inv.ram_slots_total", "count", "gauge", 0, "memory device slots the firmware lists"),
    _m(416, "inv.ram_slots_used", "count", "gauge", 0, "memory slots populated"),
    _m(417, "inv.os_build", "", "text", 0, "OS build (Windows build number, macOS build)"),
    _m(
        418,
        "inv.os_end_of_support",
        "",
        "text",
        0,
        "date security updates end for this OS version, ISO 8601; only older agents send it, "
        "the collector judges support from the inv.os_* identity",
    ),
    _m(
        419,
        "inv.os_days_to_end_of_support",
        "days",
        "gauge",
        0,
        "days until that date; negative when already past",
    ),
    _m(420, "inv.tpm_present", "bool", "gauge", 0, "1 when a TPM is visible to the OS"),
    _m(421, "inv.tpm_version", "", "text", 0, "TPM specification version (1.2, 2.0)"),
    _m(422, "inv.secure_boot", "bool", "gauge", 0, "1 when UEFI Secure Boot is on"),
    _m(423, "inv.cpu_vendor", "", "text", 0, "CPU vendor id (GenuineIntel, AuthenticAMD, Apple)"),
    _m(424, "inv.cpu_family", "", "gauge", 0, "CPU family number"),
    _m(425, "inv.cpu_model_number", "", "gauge", 0, "CPU model number"),
    _m(
        426,
        "inv.cpu_generation",
        "",
        "gauge",
        0,
        "Intel Core generation or AMD Ryzen series read from the brand string",
    ),
    _m(427, "inv.disk_bytes", "bytes", "gauge", 0, "size of an internal disk (component: disk)"),
    _m(428, "inv.chassis_type", "", "text", 0, "laptop, notebook, desktop... from SMBIOS"),
    _m(429, "inv.uefi", "bool", "gauge", 0, "1 when the OS booted in UEFI mode"),
    _m(
        430,
        "inv.os_release_name",
        "",
        "text",
        0,
        "the OS's full name and version (distro PRETTY_NAME, Windows caption, macOS version)",
    ),
    _m(
        431,
        "inv.cpu_brand",
        "",
        "text",
        0,
        "full CPU brand string (cpuinfo model name, Win32_Processor.Name, Apple chip)",
    ),
    _m(
        432,
        "inv.os_edition",
        "",
        "text",
        0,
        "OS edition as the OS names it (Windows caption: Pro, Enterprise; os-release VARIANT)",
    ),
    # --- 500-599 responsiveness ------------------------------------------------------------
    # Interval values (``_s`` per interval) cover the time since the previous cycle; the
    # daily rollup's sum of them is the day's total.
    _m(500, "resp.cpu_busy_pct", "%", "gauge", -1, "CPU busy share since the previous cycle"),
    _m(
        501,
        "resp.cpu_busy_p95_pct",
        "%",
        "gauge",
        -1,
        "95th percentile of CPU busy share over the recent cycles (rolling window)",
    ),
    _m(
        502,
        "resp.cpu_above90_s",
        "s",
        "gauge",
        0,
        "time in this interval the CPU was at least 90% busy",
    ),
    _m(503, "resp.mem_available_pct", "%", "gauge", -1, "memory available without swapping"),
    _m(504, "resp.swap_in_bytes_per_s", "bytes/s", "gauge", 0, "swap-in rate since last cycle"),
    _m(
        510,
        "resp.psi_some_avg10_pct",
        "%",
        "gauge",
        -2,
        "Linux PSI: share of time some task stalled, 10 s average (component: cpu, memory, io)",
    ),
    _m(
        511,
        "resp.psi_some_avg60_pct",
        "%",
        "gauge",
        -2,
        "Linux PSI: share of time some task stalled, 60 s average (component: resource)",
    ),
    _m(
        512,
        "resp.psi_full_avg10_pct",
        "%",
        "gauge",
        -2,
        "Linux PSI: share of time all tasks stalled, 10 s average (component: resource)",
    ),
    _m(
        513,
        "resp.psi_full_avg60_pct",
        "%",
        "gauge",
        -2,
        "Linux PSI: share of time all tasks stalled, 60 s average (component: resource)",
    ),
    _m(
        514,
        "resp.psi_some_total_s",
        "s",
        "counter",
        -3,
        "Linux PSI: total time some task stalled since boot (component: resource)",
    ),
    _m(
        515,
        "resp.psi_full_total_s",
        "s",
        "counter",
        -3,
        "Linux PSI: total time all tasks stalled since boot (component: resource)",
    ),
    _m(
        516,
        "resp.psi_some_stall_s",
        "s",
        "gauge",
        -2,
        "Linux PSI: time some task stalled in this interval (component: resource)",
    ),
    _m(
        520,
        "resp.disk_busy_pct",
        "%",
        "gauge",
        -1,
        "share of the interval the disk was busy (component: the disk's OS name)",
    ),
    _m(
        525,
        "resp.thermal_throttle_s",
        "s",
        "gauge",
        -1,
        "time in this interval a CPU was held back by thermal throttling",
    ),
    _m(
        540,
        "boot.duration_s",
        "s",
        "gauge",
        -1,
        "how long the last boot took, as the OS records it",
    ),
    _m(
        541,
        "boot.os_ready_s",
        "s",
        "gauge",
        -1,
        "from kernel start to the OS's own ready point (graphical target, Windows main path)",
    ),
    _m(
        542,
        "boot.login_to_usable_s",
        "s",
        "gauge",
        -1,
        "from the desktop appearing to a usable desktop, where the OS records it",
    ),
    # --- 600-649 reliability ----------------------------------------------------------------
    _m(
        600,
        "rel.unexpected_shutdowns_24h",
        "count",
        "gauge",
        0,
        "boots in the last 24 h that followed no clean shutdown",
    ),
    _m(601, "rel.os_crashes_24h", "count", "gauge", 0, "OS crashes (bugchecks, panics), last 24 h"),
    _m(602, "rel.app_crashes_24h", "count", "gauge", 0, "application crashes, last 24 h"),
    _m(603, "rel.app_hangs_24h", "count", "gauge", 0, "applications that stopped responding, 24 h"),
    _m(
        604,
        "rel.unexpected_shutdowns_30d",
        "count",
        "gauge",
        0,
        "boots in the last 30 days that followed no clean shutdown",
    ),
    _m(605, "rel.os_crashes_30d", "count", "gauge", 0, "OS crashes, last 30 days"),
    _m(606, "rel.app_crashes_30d", "count", "gauge", 0, "application crashes, last 30 days"),
    _m(
        640,
        "rel.app_crashes_by_exe_24h",
        "count",
        "gauge",
        0,
        "crashes per executable, last 24 h (component: executable base name; only when the "
        "admin sets report_crash_names)",
    ),
    # --- 650-699 use and dormancy ------------------------------------------------------------
    _m(
        650,
        "use.active_s",
        "s",
        "gauge",
        0,
        "time in this interval with keyboard or pointer input (daily sum: active time)",
    ),
    _m(651, "use.input_idle_s", "s", "gauge", 0, "time since the last keyboard or pointer input"),
    _m(
        652,
        "use.days_since_active",
        "days",
        "gauge",
        -2,
        "days since the last keyboard or pointer input",
    ),
    _m(
        655,
        "use.unplugged_interval_s",
        "s",
        "gauge",
        0,
        "time in this interval spent on battery (daily sum: time unplugged)",
    ),
    # --- 700-719 user feedback ----------------------------------------------------------------
    _m(700, "feedback.score", "1-5", "gauge", 0, "the user's own rating of the laptop, 1 to 5"),
    _m(
        701,
        "feedback.reason",
        "code",
        "gauge",
        0,
        "the user's chosen reason: 0 none, 1 slow, 2 battery, 3 crashes, 4 heat-noise, "
        "5 screen-keyboard, 6 storage, 7 other",
    ),
    _m(702, "feedback.asked", "bool", "gauge", 0, "1 when the agent asked the user for a rating"),
    # --- 900-949 the agent itself ----------------------------------------------------------
    _m(900, "agent.rss_bytes", "bytes", "gauge", 0, "the agent's own resident memory"),
    _m(901, "agent.cpu_s", "s", "counter", -2, "the agent's own CPU time since it started"),
    _m(
        902,
        "agent.spool_dropped_total",
        "readings",
        "counter",
        0,
        "readings the spool evicted because it was full",
    ),
)

_BY_ID = {m.id: m for m in REGISTRY}
_BY_NAME = {m.name: m for m in REGISTRY}
if len(_BY_ID) != len(REGISTRY) or len(_BY_NAME) != len(REGISTRY):  # pragma: no cover
    raise RuntimeError("duplicate metric id or name in the registry")


def metric_by_id(metric_id: int) -> Metric | None:
    """The metric with this id, or None for an id from a newer agent."""
    return _BY_ID.get(metric_id)


def metric_by_name(name: str) -> Metric:
    """The metric with this name; KeyError names it when it is not registered."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"metric {name!r} is not in the protocol registry") from None
