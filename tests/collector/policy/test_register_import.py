"""Register import: bad rows refused by line number, database left exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kitlife.collector.cli.main import cli
from kitlife.collector.policy.fit import load_roles
from kitlife.collector.policy.register import parse_register
from kitlife.collector.store import Store
from kitlife.collector.store.assets import register_rows

HEADER = "serial,holder_id,role,site,purchase_date,purchase_route,warranty_end\n"
GOOD = HEADER + (
    "SN1,h-1,office,York,2023-01-10,new,2026-01-10\nSN2,,,York,2022-05-01,refurbished,2023-05-01\n"
)


def roles() -> list[str]:
    return list(load_roles().roles)


def test_parser_reports_each_bad_row_with_its_line() -> None:
    data = (
        HEADER
        + "SN1,h-1,office,York,2023-01-10,new,2026-01-10\n"  # line 2, good
        + "sn1 ,h-2,office,York,2023-01-10,new,2026-01-10\n"  # 3: duplicate serial
        + "SN3,h-3,astronaut,York,2023-01-10,new,2026-01-10\n"  # 4: unknown role
        + "SN4,h-4,office,York,2023-02-30,new,2026-01-10\n"  # 5: bad date
        + "SN5,h-5,office,York,2023-01-10,stolen,2026-01-10\n"  # 6: bad route
    ).encode() + "SN6,h-6,office,Y\xf6rk,2023-01-10,new,2026-01-10\n".encode("latin-1")  # 7
    rows, errors = parse_register(data, roles())
    by_line = {e.line: e for e in errors}
    assert [r.serial for r in rows] == ["SN1"]
    assert "duplicate serial" in by_line[3].message and "line 2" in by_line[3].message
    assert "unknown role 'astronaut'" in by_line[4].message
    assert by_line[5].column == "purchase_date"
    assert by_line[6].column == "purchase_route"
    assert "not UTF-8" in by_line[7].message
    assert sorted(by_line) == [3, 4, 5, 6, 7]


def test_header_without_required_columns_is_refused() -> None:
    rows, errors = parse_register(b"serial,site\nA,York\n", roles())
    assert rows == [] and errors[0].line == 1 and "holder_id" in errors[0].message


def test_import_refuses_bad_file_and_keeps_previous_register(db_url: str, tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["--db", db_url, "db", "upgrade"]).exit_code == 0
    runner = CliRunner()
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(cli, ["--db", db_url, "assets", "import", str(good)])
    assert result.exit_code == 0, result.output
    store = Store.from_url(db_url)
    before = register_rows(store)
    assert [r["serial"] for r in before] == ["SN1", "SN2"]

    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        (HEADER + "SN9,h-9,office,York,2024-01-01,new,2027-01-01\n").encode()
        + b"SN10,h-10,office,M\xe4lmo,2024-01-01,new,2027-01-01\n"
        + b"SN9,h-11,office,York,2024-01-01,new,2027-01-01\n"
    )
    result = runner.invoke(cli, ["--db", db_url, "assets", "import", str(bad)])
    assert result.exit_code != 0
    assert "line 3" in result.output and "not UTF-8" in result.output
    assert "line 4" in result.output and "duplicate serial" in result.output
    assert "nothing imported" in result.output
    assert register_rows(store) == before
    store.close()


def test_export_round_trips(db_url: str, tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["--db", db_url, "db", "upgrade"]).exit_code == 0
    runner = CliRunner()
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    assert runner.invoke(cli, ["--db", db_url, "assets", "import", str(good)]).exit_code == 0
    out = runner.invoke(cli, ["--db", db_url, "assets", "export", "--csv"])
    again = tmp_path / "again.csv"
    again.write_text(out.output, encoding="utf-8")
    rows, errors = parse_register(again.read_bytes(), roles())
    assert errors == [] and [r.serial for r in rows] == ["SN1", "SN2"]
    assert rows[1].status == "spare" and rows[1].purchase_route == "refurbished"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("SN1,h-1,office,York,2023-01-10,new,2026-01-10,extra", "8 fields where the header has 7"),
        ("SN1,h-1,office,York", "4 fields where the header has 7"),
        ('SN1,"h-1,office,York,2023-01-10,new,2026-01-10', "quote opened on this line is never"),
    ],
)
def test_rows_with_the_wrong_field_count_or_an_open_quote_are_named(row: str, message: str) -> None:
    head = "serial,holder_id,role,site,purchase_date,purchase_route,warranty_end\n"
    good = "SN2,h-2,office,York,2023-01-10,new,2026-01-10\n"
    _rows, errors = parse_register((head + row + "\n" + good).encode(), roles())
    assert [(e.line, message in e.message) for e in errors] == [(2, True)]
