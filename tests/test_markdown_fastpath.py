"""`reviewer.outputs.markdown.text` and `code` skip their per-character walks for text that
needs nothing done (printable, no Markdown punctuation, no mention or issue marker): the result
must be what the walks give, on generated text full of what they change."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.outputs.limits import clip
from reviewer.outputs.markdown import ZWJ, code, no_autolinks, text


def _plain_walk(value: str) -> str:
    out = []
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == "Cc" or ch in "\u2028\u2029":
            out.append(" ")
        elif cat != "Cf":
            out.append(ch)
    return "".join(out)


def _text_walk(value: str) -> str:
    s = _plain_walk(clip(value))
    out = []
    for i, ch in enumerate(s):
        if ch in "&<>":
            out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;"}[ch])
        elif ch in "\\`*_[]|~":
            out.append("\\" + ch)
        elif ch == "@" or (ch == "#" and i + 1 < len(s) and s[i + 1].isalnum()):
            out.append(ch + ZWJ)
        else:
            out.append(ch)
    return no_autolinks("".join(out))


_pieces = st.sampled_from(
    ["a", "Z", "9", " ", "é", "\t", "\n", "\x00", "\u202e", "\u200d", "\u2028", "\u2029", "\x85",
     "&", "<", ">", "\\", "`", "*", "_", "[", "]", "|", "~", "@", "#", "#1", "www.", "https://",
     "GH-1", "\U0001f600", "\ud800"]
)  # fmt: skip
_texts = st.lists(_pieces, max_size=40).map("".join) | st.text(max_size=40)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(_texts)
def test_text_is_the_character_walk(value: str) -> None:
    assert text(value) == _text_walk(value)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_texts)
def test_code_is_a_span_only_for_text_the_walk_leaves_alone(value: str) -> None:
    s = clip(value)
    safe = s and s == _plain_walk(s) and "`" not in s and "|" not in s and s.strip() == s
    assert code(value) == (f"`{s}`" if safe else _text_walk(s))
