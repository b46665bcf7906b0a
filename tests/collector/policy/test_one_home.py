"""One home per fact: cited figures live in their table, and nowhere else in the code.

Scans every .py, .toml and .csv file under collector/ and agent/ (tests and docs may
quote the figures) for a second copy of figures that once lived in two or three
places: the Defra programme totals, the refurbished carbon saving, the Boavizta
fallback, the 80 % battery service line and the Windows 10 end of support. Each
detector looks for the figure *in its context* (an expression with its partner
numbers, a comparison on a battery reading, a phrase with its unit), so an
unrelated 80 or 12000 elsewhere does not trip it; the self-tests below show each
detector catching the copy it is meant for.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kitlife.collector.policy.fit import load_roles
from kitlife.collector.policy.scoring import load_thresholds
from kitlife.collector.policy.scoring.carbon import default_boavizta

ROOT = Path(__file__).resolve().parents[3]
SCANNED = ("collector", "agent")
#: The tables that are the homes: thresholds.csv (every figure below) and the
#: OS table (collector/policy/data/os_support.csv, one cited row per release).
HOMES = {
    Path("collector/policy/data/thresholds.csv"),
    Path("collector/policy/data/os_support.csv"),
    # Boavizta's own data: its numbers are its rows, not copies of ours.
    Path("collector/policy/data/boavizta-data-us.csv"),
}
#: Copies another piece of work removes (empty: nothing pending).
PENDING: dict[str, set[Path]] = {}

DEFRA_NUMBERS = {72000, 51000, 12000}
DEFRA_PARTNERS = {0.9, 72000, 51000, 12000, 64800, 1000, 1e6}

TEXT_PATTERNS: dict[str, re.Pattern[str]] = {
    "defra_programme": re.compile(r"(90\s?%|0\.9)\s*(of|x|\*)\s*72[,_ ]?000", re.I),
    "defra_raw_materials": re.compile(r"\b51[,_ ]?000\s?(t|tonnes)\b"),
    "defra_water": re.compile(r"\b12[,_ ]?000\s?ML\b"),
    "refurbished_saving": re.compile(
        r"44\s?%[^.\n]{0,40}(carbon|refurb)|(carbon|refurb)[^.\n]{0,40}\b44\s?%", re.I
    ),
    "carbon_fallback": re.compile(r"\b(248|236)\s?kg\b"),
    "battery_line": re.compile(r"battery\w*\s*(<|<=|>=|>)\s*80\b|below_80|battery<80", re.I),
    "windows10_end": re.compile(r"2025-10-14|date\(\s*2025,\s*10,\s*14\s*\)"),
}
TOML_PATTERNS: dict[str, re.Pattern[str]] = {
    # A role writes out its battery minimum instead of naming the table's line.
    "battery_line": re.compile(r"^\s*min_battery_health_pct\s*=\s*[\d.]+", re.M),
}


@dataclass(frozen=True, slots=True)
class Copy:
    fact: str
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.fact}: {self.text.strip()[:100]}"


def _numbers(node: ast.AST) -> set[float]:
    return {
        float(n.value)
        for n in ast.walk(node)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, int | float)
        and not isinstance(n.value, bool)
    }


INTERESTING = {float(n) for n in DEFRA_NUMBERS} | {0.44, 248.0, 236.0, 80.0}


def _targets(stmt: ast.stmt) -> list[ast.expr]:
    if isinstance(stmt, ast.Assign):
        return list(stmt.targets)
    if isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        return [stmt.target]
    return []


def _is_80(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (80, 80.0)


def _is_win10_end_date(node: ast.Call) -> bool:
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    args = [a.value for a in node.args if isinstance(a, ast.Constant)]
    return name == "date" and args == [2025, 10, 14]


def python_copies(path: Path, source: str) -> Iterator[Copy]:
    """Figures written into Python code, found by their context (the statement around them)."""
    tree = ast.parse(source)

    def seg(node: ast.AST) -> str:  # only on a hit: get_source_segment is O(file)
        return ast.get_source_segment(source, node) or ""

    for stmt in ast.walk(tree):
        if not isinstance(stmt, ast.stmt):
            continue
        for expr in ast.iter_child_nodes(stmt):
            if not isinstance(expr, ast.expr):
                continue
            found = _numbers(expr)
            if not found & INTERESTING:
                continue
            text = " ".join([seg(expr), *(seg(t) for t in _targets(stmt))])
            line = expr.lineno
            if found & DEFRA_NUMBERS and len(found & DEFRA_PARTNERS) >= 2:
                yield Copy("defra_programme", path, line, text)
            if 0.44 in found and re.search(r"carbon|refurb|saving|embodied", text, re.I):
                yield Copy("refurbished_saving", path, line, text)
            if found & {248.0, 236.0} and re.search(r"median|fallback|embodied", text, re.I):
                yield Copy("carbon_fallback", path, line, text)
            if _is_80(expr) and re.search(r"battery|health", text, re.I):
                yield Copy("battery_line", path, line, text)  # NAME = 80
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and 80.0 in _numbers(node):
            text = seg(node)
            if re.search(r"battery|health", text, re.I):
                yield Copy("battery_line", path, node.lineno, text)
        elif isinstance(node, ast.keyword) and _is_80(node.value):
            if re.search(r"battery|health", node.arg or "", re.I):
                yield Copy("battery_line", path, node.value.lineno, seg(node))  # f(name=80)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield from text_copies(path, node.value, node.lineno, TEXT_PATTERNS)
        elif isinstance(node, ast.Call) and _is_win10_end_date(node):
            yield Copy("windows10_end", path, node.lineno, seg(node))


def text_copies(
    path: Path, text: str, first_line: int, patterns: dict[str, re.Pattern[str]]
) -> Iterator[Copy]:
    for fact, pattern in patterns.items():
        for m in pattern.finditer(text):
            line = first_line + text.count("\n", 0, m.start())
            yield Copy(fact, path, line, text.splitlines()[line - first_line])


def file_copies(rel: Path, text: str) -> list[Copy]:
    if rel.suffix == ".py":
        found = list(python_copies(rel, text))
    elif rel.suffix == ".toml":
        found = list(text_copies(rel, text, 1, {**TEXT_PATTERNS, **TOML_PATTERNS}))
    else:
        found = list(text_copies(rel, text, 1, TEXT_PATTERNS))
    return [c for c in found if rel not in PENDING.get(c.fact, set())]


def _scanned_files() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in (".py", ".toml", ".csv") and "__pycache__" not in path.parts:
                yield path.relative_to(ROOT)


def test_no_cited_figure_has_a_second_copy() -> None:
    scanned = list(_scanned_files())
    assert len(scanned) > 50  # the scan did find the code
    copies = [
        str(c)
        for rel in scanned
        if rel not in HOMES
        for c in file_copies(rel, (ROOT / rel).read_text(encoding="utf-8"))
    ]
    assert copies == [], "figures copied out of their table:\n" + "\n".join(copies)


@pytest.mark.parametrize(
    ("fact", "snippet"),
    [
        ("defra_programme", "DEFRA_DEVICES = 72_000 * 0.9\n"),
        ("defra_programme", "RAW = 51_000 * 1000 / devices\n"),
        ("defra_programme", "x = f(12000 * 1e6 / 64800)\n"),
        ("defra_raw_materials", 'NOTE = "Defra: 51,000 t of raw materials"\n'),
        ("defra_water", 'NOTE = "12,000 ML over the programme"\n'),
        ("defra_programme", 'NOTE = "12,000 ML over 90% of 72,000 devices"\n'),
        ("refurbished_saving", "REFURB_CARBON_SAVING = 0.44\n"),
        ("refurbished_saving", 'm = "embodied carbon x 44% (Defra)"\n'),
        ("carbon_fallback", 'basis = "median Boavizta laptop (248 kg)"\n'),
        ("carbon_fallback", "FALLBACK_EMBODIED = 236.0\n"),
        ("battery_line", "worn = f.battery_health_pct < 80\n"),
        ("battery_line", "if f.battery_health_pct is not None and f.battery_health_pct < 80: 1\n"),
        ("battery_line", "MIN_BATTERY_HEALTH = 80\n"),
        ("battery_line", "RoleProfile(min_battery_health_pct=80)\n"),
        ("battery_line", 'key = "battery_below_80_per_100_device_years"\n'),
        ("windows10_end", "END = dt.date(2025, 10, 14)\n"),
        ("windows10_end", 'END = "2025-10-14"\n'),
    ],
)
def test_each_detector_catches_a_python_copy(fact: str, snippet: str) -> None:
    assert fact in {c.fact for c in file_copies(Path("collector/x.py"), snippet)}


def test_a_role_writing_out_its_battery_minimum_is_a_copy() -> None:
    toml = "[roles.field]\nmin_battery_health_pct = 80\n"
    assert {c.fact for c in file_copies(Path("collector/x.toml"), toml)} == {"battery_line"}
    ref = '[roles.field]\nmin_battery_health_pct = "battery.fleet_normal_min_health_pct"\n'
    assert file_copies(Path("collector/x.toml"), ref) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "timeout_ms = 12000\n",  # an unrelated 12000
        "design = rng.choice((50000, 72000, 86000))\n",  # a battery capacity in mWh
        "if cpu_pct < 80:\n    pass\n",  # an unrelated 80
        "dev = Device(battery_mwh=design, cycles=rng.integers(80, 400))\n",  # 80 cycles
        'doc = "72,000 laptops every 15 minutes"\n',  # the estate size, not Defra's
    ],
)
def test_unrelated_numbers_are_not_copies(snippet: str) -> None:
    assert file_copies(Path("collector/x.py"), snippet) == []


def test_every_consumer_reads_the_one_value() -> None:
    """The roles, the report's battery line and scoring's footprint read the table."""
    t = load_thresholds()
    roles = load_roles().roles
    assert roles["field"].min_battery_health_pct == t.number("battery.fleet_normal_min_health_pct")
    assert roles["office"].min_battery_health_pct == t.number(
        "battery.health_most_impacted_below_pct"
    )
    index = default_boavizta()
    # One fallback for a model not in the Boavizta table, whichever lookup is used.
    assert (
        index.embodied_kg("Nobody", "Nothing 1")[0] == index.embodied("Nobody", "Nothing 1").kgco2e
    )
