"""`reviewer.outputs.sarif.line_hashes` computes GitHub's primaryLocationLineHash from prefix
hashes over the text with its line breaks and blanks normalised up front; this holds it equal
to the algorithm as GitHub describes it — a walk over the UTF-16 code units with a rolling
window — on generated texts full of the cases the normalisation must get right (CR, LF and
CRLF next to spaces and tabs, lines longer than the window, characters outside the BMP, lone
surrogates, repeated lines)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.outputs.sarif import LineHashes, line_hashes
from tests.test_sarif import KNOWN, TRAILING

ENDINGS = [
    " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
    " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
    " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
]

_MASK = (1 << 64) - 1


def _walk(text: str) -> list[str]:
    """The reference: one UTF-16 code unit at a time, a rolling hash over the last 100 kept
    units (spaces and tabs skipped, CR read as LF, an LF right after a CR skipped), then 65535
    and 100 zeros; a line's hash is taken when the window starts at its first kept unit."""
    data = text.encode("utf-16-le", errors="surrogatepass")
    units = [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]
    window = [0] * 100
    starts_here = [False] * 100  # the window's unit in this slot began a line
    value = index = 0
    line_start, after_cr = True, False
    seen: dict[str, int] = {}
    out: list[str] = []

    def feed(unit: int, begins_line: bool) -> None:
        nonlocal value, index
        if starts_here[index]:  # that line's window is complete: its hash is the value now
            key = format(value, "x")
            seen[key] = seen.get(key, 0) + 1
            out.append(f"{key}:{seen[key]}")
        starts_here[index] = begins_line
        value = (37 * value + unit - pow(37, 100, 1 << 64) * window[index]) & _MASK
        window[index] = unit
        index = (index + 1) % 100

    for unit in [*units, 65535]:
        if unit in (32, 9) or (after_cr and unit == 10):
            after_cr = False
            continue
        after_cr = unit == 13
        if after_cr:
            unit = 10
        feed(unit, line_start)
        line_start = unit == 10
    for _ in range(100):
        feed(0, False)
    return out


_pieces = st.sampled_from(
    [" ", "\t", "\r", "\n", "\r\n", "\n\r", "a", "Z", "é", "\U0001f600", "\ud800", "x" * 120, ":"]
)
_texts = st.lists(_pieces, max_size=60).map("".join)


def test_the_reference_walk_agrees_with_githubs_published_values() -> None:
    # the oracle is checked against GitHub's own test vectors before it judges anything
    for text, expected in {**KNOWN, **dict.fromkeys(ENDINGS, TRAILING)}.items():
        assert _walk(text) == expected


@settings(max_examples=400, deadline=None, derandomize=True)
@given(_texts)
def test_line_hashes_equal_the_rolling_walk(text: str) -> None:
    assert line_hashes(text) == _walk(text)


def test_line_hashes_equal_the_rolling_walk_on_long_mixed_text() -> None:
    lines = [
        "Resources:",
        "  Queue:\t# \U0001f600",
        "y" * 400,
        "\t\tQueue:\t# \U0001f600",
        "",
        "end",
    ]
    for sep in ("\n", "\r\n", "\r", " \r \n"):
        text = sep.join(lines * 7)
        assert line_hashes(text) == _walk(text)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_texts, st.lists(st.integers(-1, 70), max_size=8))
def test_line_hashes_asked_in_any_order_are_the_same(text: str, asked: list[int]) -> None:
    """A file is hashed only as far as its findings' lines: asking for lines in any order (and
    past the end) gives what hashing it whole gives."""
    whole = line_hashes(text)
    hashes = LineHashes(text)
    for line in asked:
        assert hashes.hash_of(line) == (whole[line - 1] if 1 <= line <= len(whole) else None)
