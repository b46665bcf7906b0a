"""Helpers every parser shares: one error type, tolerant text and number handling.

Parsers are pure: text in, dataclass out. The only exception a parser raises is
:class:`ParseError` (a ``ValueError``), which the calling source turns into
``unavailable: unparseable (...)``. Anything else escaping a parser is a bug.
"""

from __future__ import annotations

import re

# Digit-group separators seen in real command output: comma (en_US), dot (de_DE),
# space / no-break space / narrow no-break space (fr_FR, ru_RU), and the
# apostrophes used in de_CH.
_GROUP_SEPARATORS = ",. '\u00a0\u202f\u2019"
_GROUPED_INT = re.compile(r"^[0-9]{1,3}(?:[,. '\u00a0\u202f\u2019][0-9]{3})+$")
_LEADING_INT = re.compile(r"^\s*(-?[0-9]+)")


class ParseError(ValueError):
    """The text is not the format this parser reads (empty, truncated, binary, foreign)."""


def is_digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts "²" and "٣", which ``int()`` refuses."""
    return text.isascii() and text.isdigit()


def as_text(data: str | bytes) -> str:
    """Decode command output; raise ParseError for binary junk.

    Commands are run with a UTF-8 expectation, but Windows tools may answer in
    UTF-16 or a code page, so bytes are decoded leniently and only rejected
    when they clearly are not text (NUL bytes).
    """
    if isinstance(data, bytes):
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            try:
                data = data.decode("utf-16")
            except UnicodeDecodeError as exc:
                raise ParseError("undecodable UTF-16") from exc
        else:
            data = data.decode("utf-8", errors="replace")
    if "\x00" in data:
        raise ParseError("binary data")
    return data.lstrip("\ufeff")


def parse_int(text: str) -> int:
    """An integer as printed by a tool in any locale: ``1,000``, ``1.000``, ``1 000``, ``1’000``.

    A plain run of digits is taken as is; grouped digits must be grouped in threes,
    so a decimal such as ``17,3`` is refused rather than misread as 173.
    """
    s = text.strip()
    if not s:
        raise ParseError("empty number")
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("-+")
    if is_digits(s):
        return sign * int(s)
    if _GROUPED_INT.match(s):
        return sign * int("".join(ch for ch in s if ch not in _GROUP_SEPARATORS))
    raise ParseError(f"not an integer: {text[:40]!r}")


def leading_int(text: str) -> int | None:
    """The first integer at the start of ``text`` (``"38 (Min/Max 22/40)"`` -> 38), else None."""
    m = _LEADING_INT.match(text)
    return int(m.group(1)) if m else None


def parse_float(text: str) -> float:
    """A decimal number in either ``57.02`` or ``57,02`` form (upower follows the locale)."""
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if s.count(",") == 1 and "." not in s:
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError as exc:
        raise ParseError(f"not a number: {text[:40]!r}") from exc


def clean(value: object) -> str | None:
    """A trimmed text value, or None for the placeholders firmware fills fields with."""
    if value is None:
        return None
    s = str(value).strip().strip("\x00").strip()
    if not s or s.lower() in _PLACEHOLDERS:
        return None
    return s


_PLACEHOLDERS = frozenset(
    {
        "",
        "-",
        "--",
        "n/a",
        "na",
        "none",
        "unknown",
        "not specified",
        "not available",
        "to be filled by o.e.m.",
        "default string",
        "system serial number",
        "system product name",
        "system manufacturer",
        "0",
        "0123456789",
    }
)
