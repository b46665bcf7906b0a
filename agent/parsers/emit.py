"""Turn parsed facts into registry readings, the same way on every OS (pure: no IO)."""

from __future__ import annotations

from kitlife.agent.parsers.battery import BatteryFacts
from kitlife.agent.parsers.smartctl import DiskHealth
from kitlife.agent.readings import SourceResult

# SMART attribute id -> registry metric for the raw value.
ATA_RAW_METRICS: dict[int, str] = {
    5: "ata.reallocated_sectors",
    12: "ata.power_cycle_count",
    187: "ata.reported_uncorrect",
    188: "ata.command_timeout",
    197: "ata.pending_sectors",
    198: "ata.offline_uncorrectable",
    199: "ata.udma_crc_errors",
    241: "ata.total_lbas_written",
    242: "ata.total_lbas_read",
}


def _bool(v: bool | None) -> int | None:
    return None if v is None else int(v)


def emit_battery(out: SourceResult, b: BatteryFacts) -> None:
    c = b.name
    out.add("battery.design_capacity_mwh", b.design_mwh, c)
    out.add("battery.full_charge_capacity_mwh", b.full_mwh, c)
    out.add("battery.remaining_capacity_mwh", b.remaining_mwh, c)
    out.add("battery.design_capacity_mah", b.design_mah, c)
    out.add("battery.full_charge_capacity_mah", b.full_mah, c)
    out.add("battery.remaining_capacity_mah", b.remaining_mah, c)
    out.add("battery.cycle_count", b.cycle_count, c)
    if b.charge_pct is not None:
        out.add("battery.charge_pct", round(b.charge_pct), c)
    out.add("battery.on_ac", _bool(b.on_ac), c)
    out.add("battery.voltage_mv", b.voltage_mv, c)
    out.add("battery.design_voltage_mv", b.design_voltage_mv, c)
    out.add("battery.temperature_c", b.temperature_c, c)
    out.add("battery.chemistry", b.chemistry, c)
    out.add("battery.manufacturer", b.manufacturer, c)
    out.add("battery.model", b.model, c)
    out.add("battery.serial", b.serial, c)
    out.add("battery.manufacture_date", b.manufacture_date, c)


def emit_disk(out: SourceResult, disk: str, h: DiskHealth) -> None:
    out.add("storage.model", h.model, disk)
    out.add("storage.firmware", h.firmware, disk)
    out.add("storage.serial", h.serial, disk)
    out.add("storage.protocol", h.protocol, disk)
    out.add("storage.capacity_bytes", h.capacity_bytes, disk)
    out.add("storage.rotation_rpm", h.rotation_rpm, disk)
    out.add("storage.smart_passed", _bool(h.smart_passed), disk)
    out.add("storage.power_on_hours", h.power_on_hours, disk)
    if h.temperature_c is not None and -40 <= h.temperature_c <= 150:
        out.add("storage.temperature_c", h.temperature_c, disk)
    out.add("nvme.percentage_used_pct", h.nvme_percentage_used, disk)
    out.add("nvme.available_spare_pct", h.nvme_available_spare, disk)
    out.add("nvme.available_spare_threshold_pct", h.nvme_spare_threshold, disk)
    out.add("nvme.media_errors", h.nvme_media_errors, disk)
    out.add("nvme.unsafe_shutdowns", h.nvme_unsafe_shutdowns, disk)
    out.add("nvme.data_units_written", h.nvme_data_units_written, disk)
    out.add("nvme.critical_warning", h.nvme_critical_warning, disk)
    out.add("nvme.error_log_entries", h.nvme_error_log_entries, disk)
    out.add("scsi.grown_defects", h.scsi_grown_defects, disk)
    out.add("scsi.uncorrected_read_errors", h.scsi_uncorrected_read, disk)
    out.add("scsi.uncorrected_write_errors", h.scsi_uncorrected_write, disk)
    out.add("scsi.uncorrected_verify_errors", h.scsi_uncorrected_verify, disk)
    for attr_id, attr in sorted(h.attributes.items()):
        metric = ATA_RAW_METRICS.get(attr_id)
        if metric is not None and attr.raw is not None and attr.raw >= 0:
            out.add(metric, attr.raw, disk)
        out.add("ata.attr_normalised", attr.value, f"{disk}:{attr_id}")
        out.add("ata.attr_threshold", attr.thresh, f"{disk}:{attr_id}")
