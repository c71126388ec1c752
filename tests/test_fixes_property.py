"""The renderer on generated layouts: whatever the indentation, quoting, comments, line breaks
and key order, a fix either sets exactly the intended value and keeps every other line as it
was, or there is none; on arbitrary text it never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.core.fixes import Safety, SetValues, add_properties, set_value
from reviewer.decode.load import decode
from reviewer.fixes import Source, SourceError, apply_edits, render_on

KEYS = ("DelaySeconds", "MaximumMessageSize", "QueueName", "Tags")


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, bool]:
    """A block-style queue template; the bool says whether VisibilityTimeout is written."""
    unit = draw(st.sampled_from([2, 3, 4]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    pad = " " * unit
    lines = ["Resources:", f"{pad}Q:" + draw(st.sampled_from(["", " # the queue"]))]
    groups: list[list[str]] = []  # one entry each (a key and the lines below it)
    keys = draw(st.permutations(KEYS))
    written = draw(st.booleans())
    for key in keys[: draw(st.integers(0, len(keys)))]:
        if key == "Tags":
            dash = draw(st.sampled_from(["", pad]))  # an indentless list or an indented one
            groups.append([f"{key}:", f"{dash}- Key: a", f"{dash}  Value: b"])
        else:
            quote = draw(st.sampled_from(["", '"', "'"]))
            groups.append([f"{key}: {quote}1{quote}" + draw(st.sampled_from(["", "  # c"]))])
    if written:
        value = draw(st.sampled_from(["30", '"30"', "'30'", "", "~"]))
        groups.insert(draw(st.integers(0, len(groups))), [f"VisibilityTimeout: {value}".rstrip()])
    props = [line for group in groups for line in group]
    lines.append(f"{pad * 2}Type: AWS::SQS::Queue")
    empty_properties = draw(st.booleans())
    if props or empty_properties:
        lines.append(f"{pad * 2}Properties:")
        if not props:
            props = ["DelaySeconds: 0"]
        lines += [f"{pad * 3}{p}" for p in props]
    if draw(st.booleans()):
        lines += ["", "# a trailing comment"]
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return text, written


INTENTS: list[SetValues] = [
    set_value(Safety.SAFE, "d", "Q", ("Properties", "VisibilityTimeout"), 360, "why"),
    add_properties(Safety.SAFE, "d", "Q", (("DeletionPolicy", "Retain"),)),
    set_value(Safety.SAFE, "d", "Q", ("Properties", "RedrivePolicy", "maxReceiveCount"), 5),
]


def plain(text: str) -> object:
    tree, problems = decode(text.replace("\r\n", "\n"))
    assert not problems
    return tree


def drop(mapping: dict[str, object], path: tuple[str, ...]) -> None:
    """Remove the key at `path`, and the mappings above it it leaves empty."""
    if len(path) == 1:
        mapping.pop(path[0], None)
        return
    child = mapping.get(path[0])
    if isinstance(child, dict):
        drop(child, path[1:])
        if not child:
            mapping.pop(path[0])


@settings(derandomize=True, deadline=None, max_examples=300)
@given(templates(), st.sampled_from(INTENTS))
def test_a_fix_changes_only_its_key(case: tuple[str, bool], intent: SetValues) -> None:
    text, _written = case
    fix = render_on(Source("t.yaml", text.encode()), intent)
    before = plain(text)
    assert isinstance(before, dict)
    if fix is None:
        return
    after_text = apply_edits(text, fix.edits)
    after = plain(after_text)
    assert isinstance(after, dict)
    resource = after["Resources"]["Q"]
    for setting in intent.settings:
        node = resource
        for key in setting.path:
            node = node[key]
        assert str(node).lower() == str(setting.value).lower()
    # nothing else changed: drop the set keys (and mappings the fix made) from both sides
    for tree in (before, after):
        for setting in intent.settings:
            drop(tree["Resources"]["Q"], setting.path)
    assert after == before
    # every line of the original is still there, in order
    old = text.replace("\r\n", "\n").split("\n")
    new = after_text.replace("\r\n", "\n").split("\n")
    changed = {
        n
        for e in fix.edits
        # whole lines added before a line, or after the last one, change no line
        if not (e.column == 1 and e.replacement.endswith("\n"))
        and not (e.line == e.end_line and e.replacement.startswith(("\n", "\r\n")))
        for n in range(e.line, e.end_line + 1)
    }
    kept = [line for n, line in enumerate(old, 1) if n not in changed]
    it = iter(new)
    assert all(any(line == other for other in it) for line in kept)
    if "\r\n" in text:
        assert "\n" not in after_text.replace("\r\n", "")
    # and again: nothing left to do
    assert render_on(Source("t.yaml", after_text.encode()), intent) is None


@settings(derandomize=True, deadline=None, max_examples=300)
@given(st.text(max_size=300), st.sampled_from(INTENTS))
def test_arbitrary_text_never_raises(tail: str, intent: SetValues) -> None:
    text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n" + tail
    try:
        source = Source("t.yaml", text.encode("utf-8", "surrogatepass"))
    except SourceError:
        return
    fix = render_on(source, intent)
    if fix is not None:
        apply_edits(source.raw, fix.edits)
