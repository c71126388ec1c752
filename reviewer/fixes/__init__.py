"""The fix stage (issue 22): a check's FixIntent rendered as Edits on the file as written.

`render_fix` reads the file again (inside the checkout, never through a link), checks that it
is the text the scan read, decodes it afresh (nulls and all, as written; once for all the fixes
of a file), plans the change (reviewer.fixes.plan), writes it in the file's own layout
(yamledit / jsonedit: quoting, indentation, short- or long-form intrinsics, CRLF, JSON
separators) and then proves it: the edited text must decode to the original tree with exactly
the intended keys changed. Whatever cannot be done for certain gives no fix.

Snippets are written by hand rather than by cfn-flip: a fix writes a few keys with literals
or references, and only text laid out like its neighbours (the mapping's own column, the
file's quote and comment habits) keeps the rest of the file as it is; cfn-flip serialises
whole documents in its own layout.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.core import safefs
from reviewer.core.fixes import Edit, Fix, FixIntent, SetValues
from reviewer.decode.nodes import StrNode
from reviewer.fixes import jsonedit, yamledit
from reviewer.fixes.plan import NoFix, expected, make_plan
from reviewer.fixes.text import apply_edits

if TYPE_CHECKING:
    from reviewer.model.template import Template
    from reviewer.profile import Profile

__all__ = [
    "Source",
    "SourceError",
    "apply_edits",
    "forget",
    "read_source",
    "render_fix",
    "render_on",
]

MAX_FIX_BYTES = 5_000_000  # a larger file gets no fixes (the scan's own default limit)
_LINE_BREAKS = ("\x85", "\u2028", "\u2029")  # YAML 1.1 line breaks: the marks would not fit


class SourceError(Exception):
    """The file cannot be read for a fix (a link, outside the checkout, not UTF-8...)."""


class Source:
    """A file's text as read for a fix: `raw` as on disk (decoded, BOM kept), `text` with CRLF
    as LF (what the scan decoded), and the line ending edits write."""

    def __init__(self, file: str, data: bytes) -> None:
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SourceError(f"{file} is not UTF-8") from err
        self.file = file
        self.data = data
        self.raw = raw
        body = raw[1:] if raw.startswith("\ufeff") else raw
        text = body.replace("\r\n", "\n")
        if "\r" in text or any(b in text for b in _LINE_BREAKS):
            raise SourceError(f"{file} has line breaks other than LF and CRLF")
        self.text = text
        self.newline = "\r\n" if "\r\n" in body else "\n"
        self.digest = hashlib.sha256(data).hexdigest()


def read_source(root: Path | str, file: str) -> Source:
    """The file `file` (relative, "/"-separated) below `root`, read without following a link
    anywhere below the root. Raises SourceError."""
    parts = [p for p in file.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise SourceError(f"{file} is not a path inside the checkout")
    try:
        anchor = safefs.open_anchor(os.fspath(root))
        try:
            folder = safefs.open_dir(anchor, parts[:-1]) if len(parts) > 1 else os.dup(anchor)
            try:
                data = safefs.read_file_at(folder, parts[-1], max_bytes=MAX_FIX_BYTES)
            finally:
                os.close(folder)
        finally:
            os.close(anchor)
    except safefs.UnsafePath as err:
        raise SourceError(str(err)) from err
    except OSError as err:
        raise SourceError(f"cannot read {file}: {err.strerror or err}") from err
    return Source(file, data)


# Each fix is proved by decoding the whole edited file: a template with thousands of fixable
# findings would cost thousands of decodings. The characters decoded for proofs are counted
# per file; past the budget (about a dozen proofs of a 5 MB template, thousands of a small
# one) its remaining findings get no fix rather than a scan that does not end.
PROOF_BUDGET_CHARS = 64_000_000
_PROOF_SPENT: dict[str, int] = {}  # file digest -> characters decoded for proofs


def proof_spent(digest: str) -> int:
    """The characters decoded so far to prove the fixes of the file with this digest."""
    return _PROOF_SPENT.get(digest, 0)


def forget() -> None:
    """Drop what the fix stage remembers from earlier fixes in this process: decodings,
    rendered fixes, proof budgets and the file last read (for tests that count work)."""
    _DECODED.clear()
    _RENDERED.clear()
    _PROOF_SPENT.clear()
    _LAST_READ.clear()


@dataclass(frozen=True)
class Decoded:
    """A file decoded afresh for its fixes, with what every fix of it reads."""

    tree: Any  # the marked tree, nulls and all (what a proof compares with; never changed)
    text_keys: bool  # every mapping key is a string (else no fix: see _render)
    is_json: bool
    lines: list[str]
    yaml_style: yamledit.Style | None
    chars: int  # the length of the source text


# fresh decodings by file digest: a template with many findings is decoded once
_DECODED: OrderedDict[str, Decoded] = OrderedDict()
_DECODED_KEEP = 8
_DECODED_CHARS = 8_000_000  # and no more than this much source text: large trees are large


def _decoded(source: Source) -> Decoded:
    """The source decoded afresh, remembered for the last few files."""
    hit = _DECODED.get(source.digest)
    if hit is not None:
        _DECODED.move_to_end(source.digest)
        return hit
    from reviewer.decode.load import decode

    is_json = _is_json(source.text)
    tree, problems = decode(source.text, json_first=is_json)
    if problems or not isinstance(tree, dict):
        raise NoFix("the file does not decode")
    lines = source.text.split("\n")
    style = None if is_json else yamledit.style_of(lines)
    got = Decoded(tree, _text_keys(tree), is_json, lines, style, len(source.text))
    _DECODED[source.digest] = got
    while len(_DECODED) > 1 and (
        len(_DECODED) > _DECODED_KEEP or sum(d.chars for d in _DECODED.values()) > _DECODED_CHARS
    ):
        _DECODED.popitem(last=False)
    return got


def _text_keys(tree: Any) -> bool:
    """Whether every mapping key of the decoded tree is a string. Each container is visited
    once (aliases share them); iterative, so any depth. (Files with other keys have never had
    fixes: Python's equality takes the keys 1, 1.0 and true for one another, which a proof
    comparing trees must not.)"""
    seen: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            for key in node:
                if key.__class__ is not StrNode and not isinstance(key, str):
                    return False
            children: Any = node.values()
        else:
            children = node
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append(child)
    return True


def _is_json(text: str) -> bool:
    if not text.lstrip().startswith("{"):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# rendered fixes by (file, digest, intent): a scan repeated on unchanged files (the cache, a
# watch, the tests) renders and proves each fix once
_RENDERED: OrderedDict[tuple[str, str, FixIntent], Fix | None] = OrderedDict()
_RENDERED_KEEP = 4096


class _OverBudget(NoFix):
    pass


def render_on(source: Source, intent: FixIntent) -> Fix | None:
    """The Fix for `intent` on `source`, or None when it cannot be written for certain (or
    nothing needs to change)."""
    key = (source.file, source.digest, intent)
    if key in _RENDERED:
        _RENDERED.move_to_end(key)
        return _RENDERED[key]
    try:
        fix = _render(source, intent)
    except _OverBudget:
        return None  # not remembered: another scan may have the budget for it
    _RENDERED[key] = fix
    if len(_RENDERED) > _RENDERED_KEEP:
        _RENDERED.popitem(last=False)
    return fix


def _render(source: Source, intent: FixIntent) -> Fix | None:
    if not isinstance(intent, SetValues):
        return None
    try:
        decoded = _decoded(source)
        if not decoded.text_keys:
            # a key such as `1:` or `true:` (an int, a bool) somewhere in the file: no fix, as
            # before (see _text_keys)
            raise NoFix("a mapping key that is not a string")
        plan = make_plan(decoded.tree, intent)
        if plan.empty:
            return None
        if decoded.yaml_style is None:
            spans, written = jsonedit.edits(source.text, plan)
            edits = [_edit_at(source, start, end, text) for start, end, text in spans]
        else:
            raw_edits, written = yamledit.edits(
                decoded.lines, decoded.tree, plan, decoded.yaml_style
            )
            edits = [
                Edit(source.file, l0 + 1, c0 + 1, l1 + 1, c1 + 1, _newlines(source, text))
                for l0, c0, l1, c1, text in raw_edits
            ]
        _prove(source, decoded, plan, written, edits)
        edits = [_with_original(decoded.lines, e) for e in edits]
    except _OverBudget:
        raise
    except NoFix:
        return None
    except (ValueError, KeyError, IndexError, TypeError, RecursionError):
        return None  # a shape the editors did not foresee: no fix rather than a wrong one
    return Fix(
        intent.safety, intent.description, tuple(sorted(edits, key=_edit_key)), source.digest
    )


def _with_original(lines: list[str], edit: Edit) -> Edit:
    """The edit with the whole lines it touches, as scanned (LF-joined, no last break)."""
    covered = lines[edit.line - 1 : edit.end_line]
    return replace(edit, original="\n".join(covered))


def _edit_key(e: Edit) -> tuple[int, int, int, int]:
    return (e.line, e.column, e.end_line, e.end_column)


def _newlines(source: Source, text: str) -> str:
    return text.replace("\n", source.newline) if source.newline != "\n" else text


def _edit_at(source: Source, start: int, end: int, text: str) -> Edit:
    """An Edit from offsets of the LF text."""
    line, col = _position(source.text, start)
    end_line, end_col = _position(source.text, end)
    return Edit(source.file, line, col, end_line, end_col, _newlines(source, text))


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _prove(
    source: Source, decoded: Decoded, plan: Any, written: dict[Any, Any], edits: list[Edit]
) -> None:
    """The edited file decodes to the original tree with the planned keys changed, and
    nothing else: raises NoFix otherwise."""
    from reviewer.decode.load import decode

    spent = _PROOF_SPENT.get(source.digest, 0) + len(source.text)
    if spent > PROOF_BUDGET_CHARS:
        raise _OverBudget("the file's proof budget is spent")
    if len(_PROOF_SPENT) > 4096:
        _PROOF_SPENT.clear()
    _PROOF_SPENT[source.digest] = spent
    after = apply_edits(source.raw, edits).replace("\r\n", "\n")
    if after.startswith("\ufeff"):
        after = after[1:]
    # the edited text decoded whole, without the marks a proof does not read (the same values,
    # for less work); the trees compare as plain values, and `expected` copies only the
    # mappings on the changed paths of the original
    new_tree, problems = decode(after, json_first=decoded.is_json, marks=False)
    if problems or new_tree != expected(decoded.tree, plan, written):
        raise NoFix("the edited file does not decode to the intended tree")


def render_fix(
    intent: FixIntent, *, template: Template | None, file: str, root: Path, profile: Profile
) -> Fix | None:
    """The edits for `intent` on `file` (relative to `root`), or None when they cannot be
    written safely (the file changed since the scan read it, the span is not where the model
    says, the value is not a literal)."""
    source = _read_for(root, file, template)
    return None if source is None else render_on(source, intent)


# the file last read for a template's fixes, with that template: a template's findings are
# made one after another, so its file is read, hashed and checked once for all its fixes
_LAST_READ: list[tuple[str, str, weakref.ref[Template], Source]] = []


def _read_for(root: Path, file: str, template: Template | None) -> Source | None:
    """The file as the scan read it for `template`, or None (unreadable, or not the text the
    scan read). Read once per template object: a later fix of the same template gets the
    Source its first fix read and checked against the template's text, the text the scan read;
    its digest pins the fix to those bytes (`archreview fix` refuses a file changed since)."""
    where = os.fspath(root)
    if template is not None and _LAST_READ:
        last_root, last_file, last_template, last_source = _LAST_READ[0]
        if last_template() is template and last_root == where and last_file == file:
            return last_source
    try:
        source = read_source(root, file)
    except SourceError:
        return None
    if template is not None and template.lines:
        if source.text != "\n".join(template.lines):
            return None  # not the text the scan read
        _LAST_READ[:] = [(where, file, weakref.ref(template), source)]
    return source
