"""Parse and check an asset register CSV: every problem, with its line number.

Pure: bytes in, rows and errors out. The store imports only when there are
no errors at all, in one transaction, so a register is never half-imported.

Columns (header names, any order; extra columns are ignored):

* serial (or asset_tag when there is no serial): the match key to enrolled devices
* holder_id: the holder's pseudonymous id; empty = spare stock
* role: one of the configured roles; required when there is a holder
* site, purchase_date, purchase_route (new | refurbished | remanufactured), warranty_end
* optional: asset_tag, vendor, model, status (in_use | spare | retired),
  retired_date, eol_route (reuse | refurbish | donate | recycle | landfill),
  retired_reason, previous_holders

Dates are ISO (2024-03-31) or UK day-first (31/03/2024). The file must be
UTF-8 (a byte-order mark is allowed); a line that is not is refused by number.
Every cell is held to its column's width in the database and may not hold
NUL; a cell that would break the CSV reader itself (over 131,072 characters)
stops the parse at its line. A cell that starts with ``'`` and then one of
:data:`FORMULA_START` loses the quote: that is how exports neutralise
formulas (``collector/reports/export.py``), so an export imports unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import _csv

REQUIRED = ("holder_id", "role", "site", "purchase_date", "purchase_route", "warranty_end")
ROUTES = ("new", "refurbished", "remanufactured")
STATUSES = ("in_use", "spare", "retired")
EOL_ROUTES = ("reuse", "refurbish", "donate", "recycle", "landfill")
_EPOCH = dt.date(1970, 1, 1)
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, CSV
# injection): exports prefix such cells with ' and import takes it off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# The widest text each column may hold: the register table's column widths
# (tests/collector/policy/test_register.py holds the two to each other).
MAX_CHARS: dict[str, int] = {
    "serial": 255,
    "asset_tag": 64,
    "holder_id": 64,
    "role": 32,
    "site": 128,
    "purchase_route": 16,
    "vendor": 255,
    "model": 255,
    "status": 16,
    "eol_route": 16,
    "retired_reason": 32,
}
MAX_PREVIOUS_HOLDERS = 1000
# Dates and numbers are parsed; their text is bounded anyway, so no cell is unbounded.
_MAX_OTHER_CHARS = 64

# The register CSV, column by column: what import reads, export and simulate write.
REGISTER_COLUMNS: tuple[str, ...] = (
    "serial",
    "asset_tag",
    "holder_id",
    "role",
    "site",
    "purchase_date",
    "purchase_route",
    "warranty_end",
    "vendor",
    "model",
    "status",
    "retired_date",
    "eol_route",
    "retired_reason",
    "previous_holders",
)


@dataclass(frozen=True, slots=True)
class AssetRow:
    line: int
    serial: str
    asset_tag: str
    holder_id: str
    role: str
    site: str
    purchase_day: int
    purchase_route: str
    warranty_end_day: int | None
    vendor: str = ""
    model: str = ""
    status: str = "in_use"
    retired_day: int | None = None
    eol_route: str = ""
    retired_reason: str = ""
    previous_holders: int = 0

    @property
    def serial_key(self) -> str:
        return serial_key(self.serial or self.asset_tag)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f" [{self.column}]" if self.column else ""
        return f"line {self.line}{where}: {self.message}"


def serial_key(serial: str) -> str:
    """How serials are compared: case and surrounding blanks do not matter."""
    return serial.strip().upper()


def parse_date(text: str) -> dt.date:
    text = text.strip()
    m = _UK.match(text)
    if m:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return dt.date.fromisoformat(text)


def day_of(date: dt.date) -> int:
    return (date - _EPOCH).days


def iso_day(day: int | None) -> str:
    return "" if day is None else (_EPOCH + dt.timedelta(days=int(day))).isoformat()


def _decode_lines(data: bytes) -> tuple[str, list[RowError]]:
    """UTF-8 text, line by line, so that a bad byte is reported where it is."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    errors: list[RowError] = []
    out: list[str] = []
    for i, raw in enumerate(data.split(b"\n"), start=1):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            errors.append(
                RowError(
                    i,
                    "",
                    f"not UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                    "save the file as UTF-8",
                )
            )
            out.append(raw.decode("utf-8", errors="replace"))
    return "\n".join(out), errors


def _unquote(cell: str) -> str:
    """A cell as written before an export neutralised it (``'=x`` back to ``=x``)."""
    if cell[:1] == "'" and cell[1:2] and cell[1] in FORMULA_START:
        return cell[1:]
    return cell


def _records(
    reader: _csv.Reader, start: int, errors: list[RowError]
) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) per record; a record the reader cannot parse ends the file there.

    Why stop: ``csv`` raises on a cell over its field size limit and cannot
    be resumed reliably inside a broken record, so the error names its line
    and nothing after it is imported (nothing is imported at all anyway).
    """
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            errors.append(RowError(start, "", f"unreadable CSV: {err}"))
            return
        line_num = reader.line_num
        yield start, record
        start = line_num + 1


def parse_register(data: bytes, roles: Collection[str]) -> tuple[list[AssetRow], list[RowError]]:
    """Every row that is right, and every error with its line; import only if no errors."""
    text, errors = _decode_lines(data)
    bad_lines = {e.line for e in errors}
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(1, "", "the file is empty; it needs a header row")]
    cols = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in cols]
    if "serial" not in cols and "asset_tag" not in cols:
        missing.insert(0, "serial (or asset_tag)")
    if missing:
        errors.append(RowError(1, "", f"header lacks {', '.join(missing)}"))
        return [], sorted(errors, key=lambda e: e.line)
    pos = {c: i for i, c in enumerate(cols)}
    rows: list[AssetRow] = []
    seen: dict[str, int] = {}
    known_roles = sorted(roles)
    start = reader.line_num + 1
    for line, record in _records(reader, start, errors):
        if line in bad_lines:
            continue
        if not any(cell.strip() for cell in record):
            continue
        if any("\n" in cell or "\r" in cell for cell in record):
            # A register has no multi-line cells: this is a quote opened and not closed,
            # which swallows the lines after it (reported once, not as missing fields).
            errors.append(
                RowError(
                    line, "", "a quote opened on this line is never closed (lines run together)"
                )
            )
            continue
        if len(record) != len(cols):
            errors.append(
                RowError(line, "", f"{len(record)} fields where the header has {len(cols)}")
            )
            continue

        def get(name: str, rec: list[str] = record) -> str:
            i = pos.get(name)
            return _unquote(rec[i].strip()) if i is not None and i < len(rec) else ""

        row_errors: list[RowError] = []

        def err(
            column: str, message: str, ln: int = line, bucket: list[RowError] = row_errors
        ) -> None:
            bucket.append(RowError(ln, column, message))

        for name, i in pos.items():
            cell = record[i] if i < len(record) else ""
            width = MAX_CHARS.get(name, _MAX_OTHER_CHARS)
            if "\0" in cell:
                err(name, f"NUL character at column {cell.index(chr(0)) + 1} of the cell")
            elif name in REGISTER_COLUMNS and len(_unquote(cell.strip())) > width:
                err(name, f"{len(cell)} characters, over the {width} this column holds")
        if row_errors:
            errors.extend(row_errors)
            continue

        serial, tag = get("serial"), get("asset_tag")
        if not serial and not tag:
            err("serial", "no serial and no asset tag: the row cannot be matched")
        key = serial_key(serial or tag)
        if key and key in seen:
            err("serial", f"duplicate serial {serial or tag!r} (first on line {seen[key]})")
        elif key:
            seen[key] = line
        holder, role = get("holder_id"), get("role")
        status = get("status") or ("in_use" if holder else "spare")
        if status not in STATUSES:
            err("status", f"unknown status {status!r}; use {', '.join(STATUSES)}")
        if role and role not in roles:
            err("role", f"unknown role {role!r}; configured roles: {', '.join(known_roles)}")
        if holder and not role:
            err("role", "a device with a holder needs the holder's role")
        if status == "in_use" and not holder:
            err("holder_id", "status in_use needs a holder_id (leave status empty for spare)")
        dates: dict[str, int | None] = {}
        for name, required in (
            ("purchase_date", True),
            ("warranty_end", False),
            ("retired_date", False),
        ):
            value = get(name)
            if not value:
                if required:
                    err(name, "missing date")
                dates[name] = None
                continue
            try:
                dates[name] = day_of(parse_date(value))
            except ValueError:
                err(name, f"bad date {value!r}; use YYYY-MM-DD or DD/MM/YYYY")
                dates[name] = None
        p, w = dates["purchase_date"], dates["warranty_end"]
        if p is not None and w is not None and w < p:
            err("warranty_end", "warranty ends before the purchase date")
        route = get("purchase_route").lower()
        if route not in ROUTES:
            err("purchase_route", f"unknown purchase route {route!r}; use {', '.join(ROUTES)}")
        eol = get("eol_route").lower()
        if eol and eol not in EOL_ROUTES:
            err("eol_route", f"unknown end-of-life route {eol!r}; use {', '.join(EOL_ROUTES)}")
        if status == "retired" and not eol:
            err("eol_route", "a retired device needs its end-of-life route")
        prev_text = get("previous_holders") or "0"
        try:
            prev = int(prev_text)
            if not 0 <= prev <= MAX_PREVIOUS_HOLDERS:
                raise ValueError
        except ValueError:
            err(
                "previous_holders",
                f"{prev_text!r} is not a whole number from 0 to {MAX_PREVIOUS_HOLDERS}",
            )
            prev = 0
        if row_errors:
            errors.extend(row_errors)
            continue
        assert p is not None
        rows.append(
            AssetRow(
                line=line,
                serial=serial or tag,
                asset_tag=tag,
                holder_id=holder,
                role=role,
                site=get("site"),
                purchase_day=p,
                purchase_route=route,
                warranty_end_day=w,
                vendor=get("vendor"),
                model=get("model"),
                status=status,
                retired_day=dates["retired_date"],
                eol_route=eol,
                retired_reason=get("retired_reason"),
                previous_holders=prev,
            )
        )
    return rows, sorted(errors, key=lambda e: (e.line, e.column))
