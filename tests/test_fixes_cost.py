"""The fix stage's work (issue 20): a file is read and decoded once for all the fixes of its
template, each fix is still proved by decoding the whole edited file, and the proof still
compares the complete tree (nulls included), not only the keys the fix meant to change."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import reviewer.decode.load as load
import reviewer.fixes as fixes
from reviewer.core.fixes import Safety, set_value
from reviewer.fixes import Source, apply_edits, render_fix, render_on, yamledit
from reviewer.fixes.text import EditError
from reviewer.model.build import build
from reviewer.model.template import Template
from reviewer.profile import Profile

QUEUES = "Resources:\n" + "".join(
    f"  Q{i}:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: 3\n"
    f"      DelaySeconds:\n"
    for i in range(4)
)


def visibility(queue: str, value: int = 360) -> Any:
    return set_value(Safety.SAFE, "d", queue, ("Properties", "VisibilityTimeout"), value)


def template_of(text: str, name: str = "t.yaml") -> Template:
    tree, problems = load.decode(text)
    assert not problems
    return build(name, "", tree, text)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    """Each test starts with nothing remembered from earlier fixes (and leaves nothing)."""
    fixes.forget()
    yield
    fixes.forget()


class _Counted:
    """Counts the calls of a module function (monkeypatched) by their first argument."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.calls: Counter[str] = Counter()
        real = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[str(args[0]) if args else ""] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def test_a_template_s_fixes_read_the_file_once_and_decode_it_once_plus_one_proof_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "t.yaml").write_text(QUEUES)
    template = template_of(QUEUES)
    reads = _Counted(monkeypatch, fixes, "read_source")
    decodes = _Counted(monkeypatch, load, "decode")
    got = [
        render_fix(
            visibility(f"Q{i}"), template=template, file="t.yaml", root=tmp_path, profile=Profile()
        )
        for i in range(4)
    ]
    assert all(f is not None for f in got)
    assert reads.total == 1
    # the original once (nulls and all), then every edited file whole: one proof per fix
    assert decodes.calls[QUEUES] == 1
    assert decodes.total == 1 + 4
    # another scan's template of the same file reads it again
    render_fix(
        visibility("Q0", 400),
        template=template_of(QUEUES),
        file="t.yaml",
        root=tmp_path,
        profile=Profile(),
    )
    assert reads.total == 2


def test_later_fixes_of_a_template_are_made_for_the_text_the_scan_read(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(QUEUES)
    template = template_of(QUEUES)
    first = render_fix(
        visibility("Q0"), template=template, file="t.yaml", root=tmp_path, profile=Profile()
    )
    path.write_text(QUEUES.replace("VisibilityTimeout: 3", "VisibilityTimeout: 30"))
    later = render_fix(
        visibility("Q1"), template=template, file="t.yaml", root=tmp_path, profile=Profile()
    )
    assert first is not None and later is not None
    # both pinned to the bytes the scan read: `archreview fix` refuses the changed file
    assert later.file_sha256 == first.file_sha256 == read_source_digest(QUEUES)
    assert apply_edits(QUEUES, later.edits).count("VisibilityTimeout: 360") == 1
    # a new scan of the changed file: its own template reads the file as it now is
    changed = path.read_text()
    assert (
        render_fix(
            visibility("Q1"),
            template=template_of(changed),
            file="t.yaml",
            root=tmp_path,
            profile=Profile(),
        )
        is not None
    )
    # and a template whose text is not the file's gets no fix
    assert (
        render_fix(
            visibility("Q2"),
            template=template_of(QUEUES),
            file="t.yaml",
            root=tmp_path,
            profile=Profile(),
        )
        is None
    )


def read_source_digest(text: str) -> str:
    return Source("t.yaml", text.encode("utf-8")).digest


@pytest.mark.parametrize(
    "other",
    [
        "      DelaySeconds: 5\n",  # a value the fix did not mean to change
        "",  # a null entry gone: the scan's model drops nulls, the proof must not
        "      DelaySeconds:\n      Extra: 1\n",  # a key added
    ],
)
def test_the_proof_compares_the_whole_tree_nulls_included(
    other: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor that also changes something else (here made to, on purpose) gives no fix."""
    real = yamledit.edits

    def sloppy(lines: list[str], tree: Any, plan: Any, style: Any) -> Any:
        raw, written = real(lines, tree, plan, style)
        # the entry below the edited key (`DelaySeconds:` of Q0, line 6) rewritten as `other`
        return [*raw, (5, 0, 6, 0, other)], written

    source = Source("t.yaml", QUEUES.encode("utf-8"))
    assert render_on(source, visibility("Q1")) is not None
    monkeypatch.setattr(yamledit, "edits", sloppy)
    assert render_on(source, visibility("Q1", 361)) is None


def test_a_key_that_is_not_a_string_still_means_no_fix() -> None:
    """Files with keys such as `1:` never had fixes, and still have none, wherever the key is
    (aliases included): a proof compares trees with Python's equality, which takes the keys
    1, 1.0 and true for one another."""
    plain = (
        "Resources:\n  Q0:\n    Type: AWS::SQS::Queue\n    Properties:\n"
        "      VisibilityTimeout: 3\n"
    )
    assert render_on(Source("a.yaml", plain.encode()), visibility("Q0")) is not None
    for extra in (
        "Mappings:\n  M:\n    1: one\n",
        "Metadata:\n  a: &x [{k: v}, {true: t}]\n  b: *x\n",
        "Metadata:\n  l: [[[{2020-01-01: d}]]]\n",
    ):
        text = extra + plain
        assert render_on(Source("b.yaml", text.encode()), visibility("Q0")) is None, extra


def test_apply_edits_is_right_for_each_text_in_turn() -> None:
    """The line offsets of the last text are kept: a different text of the same length, or
    the same text again, is edited at its own offsets."""
    from reviewer.core.fixes import Edit

    a = "ab\ncd\nef\n"
    b = "abcd\ne\nf\n"
    edit = Edit("t", 2, 1, 2, 2, "X")
    assert apply_edits(a, [edit]) == "ab\nXd\nef\n"
    assert apply_edits(b, [edit]) == "abcd\nX\nf\n"
    assert apply_edits(a, [edit]) == "ab\nXd\nef\n"
    with pytest.raises(EditError):
        apply_edits("abc\n", [Edit("t", 1, 5, 1, 5, "")])
