"""`kitlife amnesty` and `kitlife handback`: one-line errors; a certificate whose PDF renders."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitlife.collector.cli.main import cli
from kitlife.collector.store import Store
from tests.collector.amnesty_estate import POINTS_CSV, build

TODAY = dt.datetime.now(dt.UTC).date()


def _run(url: str, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["--db", url, *args])
    return res.exit_code, res.output


@pytest.fixture
def url(store: Store) -> str:
    build(store)
    return store.engine.url.render_as_string(hide_password=False)


def test_schedule_list_show_cancel(url: str, tmp_path: Path) -> None:
    points = tmp_path / "points.csv"
    points.write_bytes(POINTS_CSV)
    date = (TODAY + dt.timedelta(days=10)).isoformat()
    code, out = _run(
        url,
        "amnesty",
        "schedule",
        "--date",
        date,
        "--sites",
        "London,Bristol",
        "--points",
        str(points),
        "--channels",
        "agent,csv",
        "--lead-days",
        "7,1",
    )
    assert code == 0, out
    campaign_id = out.strip()
    code, out = _run(url, "amnesty", "list")
    assert code == 0 and f"{date}  Amnesty day {date}  London,Bristol  scheduled  5" in out
    code, out = _run(url, "amnesty", "show", campaign_id)
    assert "LDN-L1  London   locker  Locker bank A  0/2" in out
    assert "7          csv      pending  5" in out
    assert _run(url, "amnesty", "cancel", campaign_id)[0] == 0
    code, out = _run(url, "amnesty", "cancel", campaign_id)
    assert code == 1 and "already cancelled" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2020-01-01"], "is not in the future"),
        (["--date", "tomorrow"], "is not a date like"),
        (["--sites", "Atlantis"], "unknown site Atlantis"),
        (["--points", "/nonexistent.csv"], "cannot read the points file"),
        (["--lead-days", "3,0"], "lead time '0'"),
        (["--channels", "email"], "e-mail reminders need addresses"),
    ],
)
def test_bad_schedules_are_one_line_errors_and_store_nothing(
    url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    points = tmp_path / "points.csv"
    points.write_bytes(POINTS_CSV)
    base = {
        "--date": (TODAY + dt.timedelta(days=10)).isoformat(),
        "--sites": "London",
        "--points": str(points),
        "--channels": "agent",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    code, out = _run(url, "amnesty", "schedule", *[x for kv in base.items() for x in kv])
    assert code == 2 and message in out and "Traceback" not in out
    assert "scheduled" not in _run(url, "amnesty", "list")[1]


def test_a_points_file_with_errors_names_line_and_column(url: str, tmp_path: Path) -> None:
    points = tmp_path / "points.csv"
    points.write_text(
        "point_id,site,kind,name,slots,opens,closes\nA,London,desk,Desk,3,9am,10:00\n"
    )
    code, out = _run(
        url,
        "amnesty",
        "schedule",
        "--date",
        (TODAY + dt.timedelta(days=9)).isoformat(),
        "--sites",
        "London",
        "--points",
        str(points),
        "--channels",
        "agent",
    )
    assert code == 2 and "line 2, column 6 (opens): '9am' is not a time like 08:30" in out


def test_handback_writes_a_certificate_whose_pdf_renders(url: str, tmp_path: Path) -> None:
    code, out = _run(
        url,
        "handback",
        "pc-ref",
        "--route",
        "refurbish",
        "--erasure",
        "nist-800-88-purge",
        "--erasure-ref",
        "BLANCCO-4711",
        "--out",
        str(tmp_path),
    )
    assert code == 0, out
    [cert_json] = tmp_path.glob("certificate-*.json")
    cert = json.loads(cert_json.read_text())
    assert cert["device"]["hostname"] == "pc-ref" and cert["device"]["asset_tag"] == "KL0000"
    assert cert["battery"] == {
        "health_pct": 82.0,
        "design_capacity_mwh": 50000.0,
        "full_charge_capacity_mwh": 41000.0,
        "cycle_count": 612,
    }
    assert cert["storage"]["wear_pct"] == 17.0 and cert["storage"]["power_on_hours"] == 8123
    assert cert["age"]["purchase_date"] == "2021-03-01" and cert["age"]["age_years"] > 5
    assert cert["erasure"]["method"] == "nist-800-88-purge"
    assert cert["erasure"]["reference"] == "BLANCCO-4711"
    assert cert["erasure"]["date"] == TODAY.isoformat()
    assert (
        cert["carbon"]["avoided_kgco2e"] > 0
        and "avoided = embodied carbon" in cert["carbon"]["formula"]
    )
    html = cert_json.with_suffix(".html").read_text()
    assert "BLANCCO-4711" in html and "82.0 % of design capacity" in html
    pdf = cert_json.with_suffix(".pdf")
    assert shutil.which("pdftoppm"), "poppler-utils missing: scripts/system-deps installs it"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    [png] = tmp_path.glob("page*.png")
    image = png.read_bytes()
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 2000  # a page with something on it
    # The device's record is closed: retired in the register, revoked, not handed back twice.
    code, out = _run(url, "assets", "export", "--json")
    row = next(r for r in json.loads(out) if r["serial"] == "SN0000XYZ")
    assert (row["status"], row["eol_route"]) == ("retired", "refurbish")
    code, out = _run(
        url,
        "handback",
        "pc-ref",
        "--route",
        "recycle",
        "--erasure",
        "nist-800-88-destroy",
        "--erasure-ref",
        "X",
        "--out",
        str(tmp_path),
    )
    assert code == 2 and "already handed back" in out


def test_handback_refuses_a_device_leaving_without_erasure(url: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "certs"
    code, out = _run(url, "handback", "pc-ok", "--route", "donate", "--out", str(out_dir))
    assert code == 2 and "needs --erasure and --erasure-ref" in out
    assert list(out_dir.iterdir()) == []
    code, out = _run(url, "handback", "no-such-pc", "--route", "redeploy", "--out", str(out_dir))
    assert code == 1 and "no device with hostname" in out


def test_redeploy_puts_the_device_back_in_spare_stock(url: str, tmp_path: Path) -> None:
    code, out = _run(url, "handback", "pc-ok", "--route", "redeploy", "--out", str(tmp_path))
    assert code == 0, out
    row = next(
        r
        for r in json.loads(_run(url, "assets", "export", "--json")[1])
        if r["serial"] == "SN0003XYZ"
    )
    assert (row["status"], row["holder_id"], row["previous_holders"]) == ("spare", "", 1)
