"""One classify line, without I/O: a detector that fails fails its line only."""

from __future__ import annotations

from datetime import date

from stancewire.cli import _classify_line


def _broken(text: str, at: date | None) -> list[object]:
    raise ValueError(f"cannot read {text!r}")


def test_a_detector_failing_on_a_line_gives_an_error_line_with_its_id() -> None:
    out = _classify_line('{"id": "x", "text": "China sanctions US firms"}', _broken)
    assert out["id"] == "x"
    assert out["error"].startswith("detection failed: ValueError")
    assert "relevant" not in out
