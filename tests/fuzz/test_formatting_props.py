"""formatting.inert and formatting.table under arbitrary text: safe to print, bounded
in terminal cells, and tables aligned however wide their characters are."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from binderctl.formatting import cells, inert, table
from tests.fuzz.fuzzkit import budget
from tests.fuzz.hostile import EVERYTHING, unsafe_characters

WIDE = st.sampled_from(["\u6f22", "\U0001f600", "e\u0301", "\u200d", "\uff21", "a", " "])
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(WIDE, st.sampled_from([EVERYTHING, "\x1b[2J", "\udcff"])), max_size=60).map(
        "".join
    ),
)


@budget(ci=300)
@given(TEXT, st.integers(1, 400))
def test_inert_is_safe_bounded_and_stable(text: str, limit: int) -> None:
    shown = inert(text, limit)
    assert unsafe_characters(shown) == set()
    assert "\n" not in shown
    assert cells(shown) <= limit
    assert inert(shown, limit) == shown
    shown.encode("utf-8")  # printable on a strict UTF-8 terminal


@budget(ci=200)
@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=100))
def test_plain_text_is_left_alone(text: str) -> None:
    assert inert(text, 100) == text


def test_columns_line_up_in_cells() -> None:
    rows = [
        [inert("\u6f22" * 30, 40), "REF1", "x"],
        [inert("e\u0301" * 12 + "\U0001f600", 40), "REF2", "y"],
        ["plain", "REF3", "z"],
    ]
    lines = table(["NAME", "REF", "Z"], rows).splitlines()
    starts = {cells(line[: line.index(f"REF{i}")]) for i, line in enumerate(lines[1:], start=1)}
    assert len(starts) == 1
    assert cells(lines[0][: lines[0].index("REF")]) in starts
