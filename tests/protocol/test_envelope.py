"""Issue 19.14: docs/privacy.md names every field a batch carries around the readings.

protocol.wire.LAYOUT names the members encode_batch writes; this test holds it to
the bytes (same number of members at every level) and to the manifest's envelope table.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgpack
import zstandard

from kitlife.protocol import MAGIC, Batch, Series, Text, Unavailable, encode_batch
from kitlife.protocol.wire import LAYOUT

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
ENVELOPE_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|\s*$")


def _envelope_rows() -> dict[str, str]:
    rows = {}
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        m = ENVELOPE_ROW.match(line.strip())
        if m:
            rows[m.group(1)] = m.group(2) + m.group(3)
    return rows


def test_layout_names_every_member_encode_batch_writes() -> None:
    batch = Batch(
        "d",
        "s",
        1,
        10,
        "v",
        (Series(1, "c", (1, 2), (1.0, 2.0)),),
        (Text(400, "", 1, "h"),),
        (Unavailable("src", "", "why"),),
    )
    raw = zstandard.ZstdDecompressor().stream_reader(encode_batch(batch)[len(MAGIC) :]).read()
    body = msgpack.unpackb(raw)
    assert len(body) == len(LAYOUT)
    for member, (name, item_fields) in zip(body, LAYOUT, strict=True):
        if item_fields:
            assert len(member[0]) == len(item_fields), name


def test_the_manifest_names_every_envelope_field_and_item_member() -> None:
    rows = _envelope_rows()
    for name, item_fields in LAYOUT:
        assert name in rows, f"{name} is not in docs/privacy.md's envelope table"
        for field in item_fields:
            assert f"`{field}`" in rows[name], f"{name}.{field} is not named in docs/privacy.md"
    assert "batch_id" in MANIFEST.read_text(encoding="utf-8")
