"""Terminal output: findings grouped by module and file, each shown the way cargo and zizmor
show a diagnostic (the source line with the offending property marked under it), then grade and
layer scores. Colour only when asked for; repository text never drives the terminal."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from reviewer.core.types import Finding, Location, Persona, Report, Severity
from reviewer.outputs import RenderOptions, insights
from reviewer.outputs.limits import (
    ELLIPSIS,
    PATH_CHARS,
    TEXT_CHARS,
    clip,
    line_offset,
    source_bounds,
)

_COLORS = {
    Severity.CRITICAL: "\x1b[1;35m",
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_GUTTER = "\x1b[1;34m"  # arrows, bars and notes around a source line

SOURCE_WIDTH = 120  # longer source lines (minified JSON) show a window around the mark
_TAB = 4

# a YAML `Key:` or JSON `"key":` written at the start of the text
_KEY = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#:][^:#]*?)\s*:(?:\s|$)""")
_COMMENT = re.compile(r"\s#")


def _clean(text: str, limit: int = TEXT_CHARS) -> str:
    """Repository text never drives the terminal: control characters are shown escaped, and
    the text is clipped to `limit` characters first."""
    return "".join(
        ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in clip(text, limit)
    )


def marked_span(source: str, column: int, end_column: int | None = None) -> tuple[int, int]:
    """The 0-based [start, end) slice of a source line to mark for a finding at `column`
    (1-based): the finding's own span when it ends further on the same line, else the key
    written there (YAML `Key:`, JSON `"key":`), else the rest of the line without a trailing
    comment. Never empty, so a marker always shows. Only the excerpt's window of the line is
    read (`limits.source_bounds`), however long the line."""
    bounds = source_bounds(source, column)
    line = source[bounds.lo : bounds.hi]
    start = min(max(column - 1 - bounds.lo, 0), len(line))
    if end_column is not None and end_column > column:
        end = min(end_column - 1 - bounds.lo, len(line))
        if end > start:
            return bounds.lo + start, bounds.lo + end
    rest = line[start:]
    key = _KEY.match(rest)
    if key is not None:
        return bounds.lo + start, bounds.lo + start + len(key.group(1))
    comment = _COMMENT.search(rest)
    body = (rest[: comment.start()] if comment else rest).rstrip()
    if rest.startswith("#"):
        body = rest.rstrip()
    return bounds.lo + start, bounds.lo + start + max(1, len(body))


def _cells(ch: str, at: int) -> str:
    """How one character of a source line shows in a terminal starting at display column `at`."""
    if ch == "\t":
        return " " * (_TAB - at % _TAB)
    if ch.isprintable() or ch == " ":
        return ch
    return repr(ch)[1:-1]


def _width(shown: str) -> int:
    if len(shown) != 1:
        return len(shown)
    if unicodedata.combining(shown):
        return 0
    return 2 if unicodedata.east_asian_width(shown) in ("W", "F") else 1


def excerpt_parts(
    source: str, span: tuple[int, int], width: int = SOURCE_WIDTH
) -> tuple[str, str, str]:
    """A source line as a terminal (or any monospace view) shows it, cut in three around the
    marked span: tabs expanded, control and bidi characters escaped (so nothing hides or
    reorders text), and a window of `width` columns around the mark ("…" where cut). Only
    `limits.SOURCE_CHARS` characters around the mark are read, however long the line."""
    bounds = source_bounds(source, span[0] + 1)
    line = source[bounds.lo : bounds.hi]
    pieces: list[tuple[str, int, int]] = []  # (shown text, display column, display width)
    at = 0
    for ch in line:
        shown = _cells(ch, at)
        w = sum(_width(c) for c in shown) if len(shown) > 1 else _width(shown)
        pieces.append((shown, at, w))
        at += w
    start = min(max(span[0] - bounds.lo, 0), len(pieces))
    end = min(max(span[1] - bounds.lo, start), len(pieces))
    mark_from = pieces[start][1] if start < len(pieces) else at
    left = 0
    if at > width:
        left = max(0, min(mark_from - width // 6, at - width))
    right = left + width

    def shown_text(lo: int, hi: int) -> str:
        return "".join(s for s, col, w in pieces[lo:hi] if col >= left and col + w <= right)

    before = (ELLIPSIS if left > 0 or bounds.cut_left else "") + shown_text(0, start)
    marked = shown_text(start, end)
    after = shown_text(end, len(pieces)) + (ELLIPSIS if at > right or bounds.cut_right else "")
    return before, marked, after


def finding_excerpt(
    source: str | None,
    line: int,
    column: int,
    end_line: int,
    end_column: int,
    width: int = SOURCE_WIDTH,
) -> tuple[str, str, str] | None:
    """A finding's source line cut in three around what it marks (see `excerpt_parts`), or None
    when it has no source. The finding's columns are mapped into the window the engine kept
    (`limits.line_offset`); the work is bounded by SOURCE_CHARS, however long `source` is."""
    if not source or source.isspace():
        return None
    offset = line_offset(source, column)
    end = end_column - offset if end_line == line else None
    span = marked_span(source, column - offset, end)
    return excerpt_parts(source, span, width)


def display_width(text: str) -> int:
    return sum(_width(ch) for ch in text)


def source_excerpt(
    source: str, span: tuple[int, int], width: int = SOURCE_WIDTH
) -> tuple[str, str]:
    """The source line as shown (see `excerpt_parts`) and the marker line under it."""
    before, marked, after = excerpt_parts(source, span, width)
    marker = " " * display_width(before) + "^" * max(1, display_width(marked))
    return before + marked + after, marker


DETAILS_PER_RULE = 5  # findings of one rule (and title) shown in full; the rest as a count


def render(report: Report, options: RenderOptions | None = None) -> str:
    return render_text(report, color=(options or RenderOptions()).color)


def render_text(report: Report, *, color: bool = False, summary: bool = True) -> str:
    """The report for a terminal, decisions first:

    - the grade (and what capped it), the declared architecture the review used, the counts
      and how many findings a higher persona would add;
    - the decisions to take: the findings grouped by rule, by consequence, the first few;
    - the findings themselves, most severe first, at most `DETAILS_PER_RULE` of each rule in
      full and the rest as a count;
    - the score of each layer, the accepted risks, and a summary by rule (one line per rule,
      however many findings it has).

    With `summary` off (--quiet), only the findings."""

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    groups = insights.report_groups(report)
    details = _details(groups, paint)
    if not summary:
        return "\n".join(details) + "\n" if details else ""
    out = _opening(report, paint)
    out += ["", *_decisions(groups, paint)]
    if details:
        out += ["", *details]
    out += ["", *_score_summary(report, paint)]
    out += _accepted(report, paint)
    if groups:
        out += ["", *_rule_summary(groups, paint)]
    return "\n".join(out) + "\n"


def _opening(report: Report, paint: Callable[[str, str], str]) -> list[str]:
    """Nothing to review (when so), grade and cap, the profile used (and its notice), the
    counts, the hidden findings."""
    block = report.score
    grade = block.grade or "-"
    score = "n/a" if block.score is None else f"{block.score:.1f}"
    cap = insights.cap_note(block)
    nothing = insights.nothing_found_parts(report)
    out = [paint(_BOLD, _clean(nothing[0], PATH_CHARS)), nothing[1]] if nothing else []
    headline = (
        "Grade n/a: nothing was reviewed"
        if nothing and block.score is None
        else f"Grade {grade}  score {score}/100"
    )
    out += [
        paint(_BOLD, headline)
        + (f" — {cap}" if cap else "")
        + f"  ({block.evaluated} evaluations, {block.failed} failed)",
        _clean(insights.profile_line(report), PATH_CHARS),
    ]
    if report.profile_notice:
        out.append("note: " + _clean(report.profile_notice))
    out.extend(_totals(report, paint))
    out.append(_clean(insights.hidden_sentence(report), PATH_CHARS))
    return out


def _decisions(
    groups: tuple[insights.DecisionGroup, ...], paint: Callable[[str, str], str]
) -> list[str]:
    """The first few decision groups: severity, rule and title; how many and where; the
    decision in one sentence."""
    shown = groups[: insights.DECISIONS_SHOWN]
    if not shown:
        return [paint(_BOLD, "Decisions to take: none") + " (no unsuppressed finding)"]
    head = f"Decisions to take ({len(shown)} of {len(groups)}, by consequence)"
    out = [paint(_BOLD, head)]
    for i, g in enumerate(shown, 1):
        number = f"  {i}. "
        pad = " " * len(number)
        out.append(
            number
            + paint(_COLORS[g.severity], g.severity.value)
            + f" {_clean(g.rule_id)} "
            + paint(_BOLD, _clean(g.title))
        )
        places = ", ".join(_place(f) for f in g.where())
        more = f", +{g.more} more" if g.more else ""
        out.append(f"{pad}{insights.plural(g.count, 'finding')}: {places}{more}")
        if g.decision:
            out.append(pad + paint(_DIM, "decide: ") + _clean(g.decision))
    rest = len(groups) - len(shown)
    if rest:
        out.append(f"  {rest} more in the summary by rule at the end")
    return out


def _place(f: Finding) -> str:
    where = f"{_clean(f.file, PATH_CHARS)}:{f.line}"
    return f"{where} {_clean(f.resource)}" if f.resource else where


def _details(
    groups: tuple[insights.DecisionGroup, ...], paint: Callable[[str, str], str]
) -> list[str]:
    """Each finding as a diagnostic, the most severe groups first; past `DETAILS_PER_RULE` of
    a group, one line counts the rest."""
    ordered = sorted(groups, key=lambda g: -g.severity.rank)  # stable: consequence order kept
    if not ordered:
        return []
    out = [paint(_BOLD, "Findings, most severe first")]
    for g in ordered:
        findings = sorted(g.findings, key=lambda f: (-f.severity.rank, -f.score, *f.sort_key()))
        for f in findings[:DETAILS_PER_RULE]:
            out.append("")
            out.extend(_finding(f, paint))
        rest = len(findings) - DETAILS_PER_RULE
        if rest > 0:
            out.append("")
            out.append(
                "    "
                + paint(
                    _DIM, f"… {rest} more {_clean(g.rule_id)} finding{'s' if rest != 1 else ''}"
                )
                + " not shown in full (--format json, markdown or html lists every one)"
            )
    return out


def _finding(f: Finding, paint: Callable[[str, str], str]) -> list[str]:
    """One diagnostic, cargo style:

    high[AR-EVT-003]: Queue visibility timeout below the consumer's timeout
      --> modules/chariot/template.yml:37:7 · IngestQueue.VisibilityTimeout
       |
    37 |       VisibilityTimeout: 30
       |       ^^^^^^^^^^^^^^^^^ VisibilityTimeout
       = IngestQueue ... (the message)
       = related: modules/chariot/template.yml:40 IngestQueue.Policy — what it adds
       = high confidence · score 8.0 · decide: ... · fix available (safe)
    """
    pad = "    "
    sev = _COLORS[f.severity]
    gutter = " " * len(str(f.line))
    names = ".".join(_clean(n) for n in (f.resource, f.property) if n)
    where = f"{_clean(f.file, PATH_CHARS)}:{f.line}:{f.column}" + (f" · {names}" if names else "")
    lines = [
        pad + paint(sev, f"{f.severity.value}[{f.rule_id}]") + paint(_BOLD, f": {_clean(f.title)}"),
        pad + gutter + paint(_GUTTER, "--> ") + where,
    ]
    parts = finding_excerpt(f.source, f.line, f.column, f.end_line, f.end_column)
    if parts is not None:
        before, marked, after = parts
        shown = before + marked + after
        marker = " " * display_width(before) + "^" * max(1, display_width(marked))
        label = f.property or f.resource or ""
        lines += [
            pad + gutter + paint(_GUTTER, " |"),
            pad + paint(_GUTTER, f"{f.line} | ") + shown,
            pad
            + gutter
            + paint(_GUTTER, " | ")
            + paint(sev, marker + (f" {_clean(label)}" if label else "")),
        ]
    note = pad + gutter + paint(_GUTTER, " = ")
    lines.append(note + _clean(f.message))
    related, more = insights.related_shown(f)
    for loc in related:
        lines.append(note + "related: " + _related(loc))
    if more:
        lines.append(note + f"related: +{more} more")
    decision = insights.decision_title(f.rule_id, "")
    meta = f"{f.confidence.value} confidence · score {f.score:.1f}"
    if f.persona is not Persona.REGULAR:
        meta += f" · {f.persona.value}"
    if f.new is True:
        meta = "new · " + meta
    if decision:
        meta += f" · decide: {_clean(decision)}"
    if f.fix is not None and f.fix.edits:  # `archreview fix` applies it (--unsafe for unsafe)
        meta += f" · fix available ({f.fix.safety.value})"
    lines.append(note + paint(_DIM, meta))
    return lines


def _related(loc: Location) -> str:
    """'file:line Resource.Path — message' for a related location."""
    text = f"{_clean(loc.file, PATH_CHARS)}:{loc.line}"
    subject = insights.related_subject(loc)
    if subject:
        text += f" {_clean(subject)}"
    if loc.message:
        text += f" — {_clean(loc.message)}"
    return text


def _totals(report: Report, paint: Callable[[str, str], str]) -> list[str]:
    suppressed = sum(1 for f in report.findings if f.suppressed is not None)
    counts = dict(report.counts)
    total = sum(counts.get(s.value, 0) for s in Severity)
    summary = ", ".join(f"{counts.get(s.value, 0)} {s.value}" for s in Severity)
    return [
        paint(_BOLD, f"{total} finding{'s' if total != 1 else ''}")
        + f" ({summary}; {suppressed} suppressed) in "
        f"{insights.plural(report.files.templates, 'template')}, "
        f"{report.files.go_mod} go.mod, {report.files.package_json} package.json"
        + (f", {report.files.skipped} skipped" if report.files.skipped else "")
    ]


def _score_summary(report: Report, paint: Callable[[str, str], str]) -> list[str]:
    """Each layer's score and what moved it most, and what moved the grade most."""
    out: list[str] = [paint(_BOLD, "Scores by layer")]
    top = insights.movers(report, limit=3)
    if top:
        out.append("  moved most by: " + "; ".join(_mover(m) for m in top))
    if not report.layers:
        out.append("  nothing was evaluated")
        return out
    moved = insights.layer_movers(report, limit=1)
    caps = {layer: insights.capped_by(block) or "-" for layer, block in report.layers}
    w_cap = max(len("capped by"), *(len(c) for c in caps.values()))
    out.append(
        f"  {'layer':<34} {'score':>6} {'grade':>5}  {'capped by':<{w_cap}} {'failed':>7}"
        "  moved most by"
    )
    for layer, block in report.layers:
        label = f"{layer} {report.layer_label(layer, '')}"
        s = "n/a" if block.score is None else f"{block.score:.1f}"
        by = moved.get(layer, ())
        out.append(
            f"  {label:<34} {s:>6} {block.grade or '-':>5}  {caps[layer]:<{w_cap}} "
            f"{block.failed:>3}/{block.evaluated:<3}  {_mover(by[0]) if by else '-'}"
        )
    return out


def _accepted(report: Report, paint: Callable[[str, str], str]) -> list[str]:
    accepted = [f for f in report.findings if f.suppressed is not None]
    if not accepted:
        return []
    out = ["", paint(_BOLD, f"Accepted risks ({len(accepted)}, not counted in the scores)")]
    for f in sorted(accepted, key=Finding.sort_key):
        subject = f" {_clean(f.resource)}" if f.resource else ""
        out.append(
            f"  {f.rule_id} {_clean(f.file, PATH_CHARS)}:{f.line}{subject} "
            f"[{f.severity.value}]: {_clean(insights.suppression_note(f))}"
        )
    return out


def _rule_summary(
    groups: tuple[insights.DecisionGroup, ...], paint: Callable[[str, str], str]
) -> list[str]:
    """One line per rule (and title): rule, count, severity, title."""
    total = sum(g.count for g in groups)
    rules = len({g.rule_id for g in groups})
    rows = [
        (_clean(g.rule_id), str(g.count), insights.severity_label(g.severities), _clean(g.title))
        for g in groups
    ]
    w_rule = max(len("rule"), *(len(r[0]) for r in rows))
    w_count = max(len("count"), *(len(r[1]) for r in rows))
    w_sev = max(len("severity"), *(len(r[2]) for r in rows))
    out = [
        paint(
            _BOLD,
            f"Summary by rule ({insights.plural(rules, 'rule')}, "
            f"{insights.plural(total, 'finding')})",
        ),
        f"  {'rule':<{w_rule}}  {'count':>{w_count}}  {'severity':<{w_sev}}  title",
    ]
    for rule, count, sev, title in rows:
        out.append(f"  {rule:<{w_rule}}  {count:>{w_count}}  {sev:<{w_sev}}  {title}")
    return out


def _mover(m: insights.Mover) -> str:
    return f"{m.rule_id} {_clean(m.subject)} ({_clean(m.where, PATH_CHARS)}) -{m.points:.1f}"
