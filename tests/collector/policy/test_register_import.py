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


def _one_row(**cells: str) -> bytes:
    values = {
        "serial": "SN1",
        "holder_id": "h-1",
        "role": "office",
        "site": "York",
        "purchase_date": "2023-01-10",
        "purchase_route": "new",
        "warranty_end": "2026-01-10",
        "previous_holders": "0",
        **cells,
    }
    return (",".join(values) + "\n" + ",".join(values.values()) + "\n").encode()


def test_hostile_cells_are_errors_with_line_and_column() -> None:
    """Issue 19.7: each was a 500 with a traceback (csv.Error, int overflow, NUL on PostgreSQL)."""
    cases = {
        "site": ("x" * 129, "over the 128"),
        "previous_holders": (str(2**64), "whole number"),
        "model": ("a\0b", "NUL"),
        "serial": ("S" * 256, "over the 255"),
    }
    for column, (cell, message) in cases.items():
        rows, errors = parse_register(_one_row(**{column: cell}), roles())
        assert rows == [], column
        assert [(e.line, e.column) for e in errors] == [(2, column)], errors
        assert message in errors[0].message


def test_a_cell_the_csv_reader_cannot_read_stops_the_file_at_its_line() -> None:
    """Over csv's 131,072-character field limit: the reader raises; the error names the line."""
    data = _one_row() + b'SN2,h-2,office,"' + b"y" * 140_000 + b'",2023-01-10,new,2026-01-10,0\n'
    _, errors = parse_register(data, roles())
    assert [(e.line, "unreadable CSV" in e.message) for e in errors] == [(3, True)]
    _, errors = parse_register(_one_row(site="x" * 131_073), roles())
    assert [(e.line, "field larger than field limit" in e.message) for e in errors] == [(2, True)]


def test_register_widths_are_the_tables_widths() -> None:
    from kitlife.collector.policy.register import MAX_CHARS
    from kitlife.collector.store.schema import assets

    widths = {c.name: c.type.length for c in assets.c if getattr(c.type, "length", None)}
    assert {k: v for k, v in widths.items() if k != "serial_key"} == MAX_CHARS


def test_hostile_register_over_http_is_422_and_cli_exits_with_the_line(
    db_url: str, tmp_path: Path
) -> None:
    from kitlife.collector.runtime.settings import Settings
    from tests.collector.api.conftest import running

    settings = Settings(db_url=db_url, prune_interval_s=0)
    with running(settings) as live, live.client(live.admin) as c:
        for body, where in (
            (_one_row(model="a\0b"), "line 2 [model]"),
            (_one_row(previous_holders=str(2**64)), "line 2 [previous_holders]"),
            (_one_row(site="x" * 131_073), "line 2: unreadable CSV"),
        ):
            r = c.put("/v1/assets", content=body)
            assert r.status_code == 422 and where in r.text, r.text
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_one_row(previous_holders=str(2**64)))
    result = CliRunner().invoke(cli, ["--db", db_url, "assets", "import", str(bad)])
    assert result.exit_code == 1, result.output
    assert "line 2 [previous_holders]" in result.output


def test_exported_formulas_are_neutralised_and_import_back_unchanged(
    db_url: str, tmp_path: Path
) -> None:
    """Issue 19.6: a cell starting = + - @ is exported as text, and imports as it was."""
    good = tmp_path / "evil.csv"
    good.write_bytes(_one_row(site='=HYPERLINK("http://x")', model="@SUM(A1)"))
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db_url, "db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["--db", db_url, "assets", "import", str(good)]).exit_code == 0
    out = runner.invoke(cli, ["--db", db_url, "assets", "export", "--format", "csv"]).output
    assert "'=HYPERLINK" in out and "'@SUM" in out
    again = tmp_path / "again.csv"
    again.write_text(out, encoding="utf-8")
    rows, errors = parse_register(again.read_bytes(), roles())
    assert errors == [] and rows[0].site == '=HYPERLINK("http://x")' and rows[0].model == "@SUM(A1)"


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
