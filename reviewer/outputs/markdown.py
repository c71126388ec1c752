"""The whole report as one GitHub-flavoured Markdown document (what the PR comment posts).

Layout, decisions first: the grade (and what capped it), the declared architecture the review
used, the counts and how many findings a higher persona would add; the decisions to take (the
findings grouped by rule, by consequence, the first few); the layer scores and what moved them
most, a module x layer table, a mermaid map of modules and layers coloured by score; new findings
first (PR mode), then every finding grouped by module and severity, collapsed (file:line links,
related locations, the decision each asks for; a finding with a fix says so in its decision cell,
and the fixes of a table follow it, each a collapsed unified diff made from its edits by
reviewer.outputs.fixdiff); the accepted risks; and a summary by rule (one row per rule, however
many findings it has).

Everything that comes from the scanned repository passes through `text`, `code`, `link` or
`_mermaid_label` before it reaches the document: no @mention or #reference pings, no raw HTML,
no way out of a table cell or a code fence. `render_markdown(max_chars=...)` drops the least
severe sections first (with a note saying what was left out) to stay under a size limit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from reviewer.core.types import Finding, Persona, Report, ScoreBlock, Severity
from reviewer.outputs import RenderOptions, insights
from reviewer.outputs.fixdiff import fence, unified
from reviewer.outputs.limits import PATH_CHARS, TEXT_CHARS, clip
from reviewer.outputs.submodules import encode_path

GITHUB_COMMENT_LIMIT = 65_536
ZWJ = "\u200d"

# Markdown punctuation that could start emphasis, links, tables, strikethrough or code
_BACKSLASHED = frozenset("\\`*_[]|~")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


# -- escaping ---------------------------------------------------------------------------------


def _plain(value: str) -> str:
    """One line of visible text: control characters become spaces, invisible format
    characters (bidi overrides, zero-width joiners) are dropped."""
    if value.isprintable():  # none of those (nor any line or paragraph separator): as it is
        return value
    out = []
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == "Cc" or ch in "\u2028\u2029":
            out.append(" ")
        elif cat == "Cf":
            continue
        else:
            out.append(ch)
    return "".join(out)


# any character `text` escapes or marks
_SPECIAL = re.compile("[" + re.escape("".join(sorted({*_BACKSLASHED, *_ENTITIES, "@", "#"}))) + "]")


def text(value: object, limit: int = TEXT_CHARS) -> str:
    """Repository text as inert inline Markdown, safe in a table cell, a list item or a heading,
    clipped to `limit` characters before it is escaped."""
    s = _plain(clip(str(value), limit))
    if _SPECIAL.search(s) is None:  # most text: nothing to escape
        return no_autolinks(s)
    out: list[str] = []
    for i, ch in enumerate(s):
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _BACKSLASHED:
            out.append("\\" + ch)
        elif ch == "@" or (ch == "#" and i + 1 < len(s) and s[i + 1].isalnum()):
            # @org/team and #123 stay readable but GitHub no longer links or pings them
            out.append(ch + ZWJ)
        else:
            out.append(ch)
    return no_autolinks("".join(out))


# what GitHub turns into a link by itself: `http://`, `https://`, `ftp://`, `www.`, `GH-123`
_AUTOLINK = re.compile(
    r"(?i:(?:(?<=http:)|(?<=https:)|(?<=ftp:))(?=//)|(?<=\bwww)(?=\.)|(?<=\bgh)(?=-\d))"
)


def no_autolinks(value: str) -> str:
    """Text GitHub would link by itself, made inert with a ZERO WIDTH JOINER (U+200D, invisible)
    inside the pattern: `https:\u200d//host`, `www\u200d.host`, `GH\u200d-12` (other schemes, such
    as the `aws://` of live findings, are not linked by GitHub and stay as written). With the ZWJ
    after `@` and `#` that `text` inserts, a comment shows repository text as it reads and
    GitHub makes no link, mention or issue reference of it (code spans are never linked)."""
    return _AUTOLINK.sub(ZWJ, value)


def code(value: object, limit: int = TEXT_CHARS) -> str:
    """Repository text as a code span when that is safe (no backtick, pipe or control
    character in it), else as escaped text. Mentions do not ping inside code spans. Clipped to
    `limit` characters first."""
    s = clip(str(value), limit)
    if s and s == _plain(s) and "`" not in s and "|" not in s and s.strip() == s:
        return f"`{s}`"
    return text(s, limit)


def link(label: str, path: str, line: int | None = None, base: str = "") -> str:
    """A link to a repository file (relative unless a base URL is given), label escaped."""
    if _SCHEME.match(path):  # aws://REGION/STACK: nothing to link to
        return text(label)
    target = base + encode_path(clip(path, PATH_CHARS))
    if line is not None:
        target += f"#L{line}"
    return f"[{text(label)}]({target})"


def where(f: Finding, base: str = "") -> str:
    return link(f"{f.file}:{f.line}", f.file, f.line, base)


# -- document ---------------------------------------------------------------------------------


@dataclass
class _Part:
    body: str
    priority: int | None = None  # None: always kept; lower numbers are dropped first
    label: str = ""  # what is lost when dropped, e.g. "3 low findings in infra"
    count: int = 0


# drop order: info, low, the map, accepted risks, medium, high, critical, then new findings
_SEVERITY_PRIORITY = {
    Severity.INFO: 10,
    Severity.LOW: 20,
    Severity.MEDIUM: 50,
    Severity.HIGH: 60,
    Severity.CRITICAL: 70,
}
_MAP_PRIORITY = 30
_ACCEPTED_PRIORITY = 40
_SUMMARY_PRIORITY = 45  # the summary by rule: one row per rule, dropped before medium findings
_NEW_OFFSET = 100  # in PR mode, findings that were already there go before any new one


def render(report: Report, options: RenderOptions | None = None) -> str:
    return render_markdown(report)


def render_markdown(report: Report, *, max_chars: int | None = None, link_base: str = "") -> str:
    """The report as Markdown. With `max_chars`, the least severe sections are left out
    (with a note) until the document fits; `link_base` (e.g. a blob URL ending in '/') is
    put in front of every file link, which is otherwise relative to the repository root."""
    parts = _parts(report, link_base)
    return _fit(parts, max_chars)


def _parts(report: Report, base: str) -> list[_Part]:
    groups = insights.report_groups(report)
    parts = [_Part(_header(report)), _Part(_decisions(groups, base)), _Part(_tables(report, base))]
    parts.append(_Part(_mermaid(report), _MAP_PRIORITY, "the map of modules and layers"))
    pr_mode = report.diff_base is not None or any(f.new is not None for f in report.findings)
    live = [f for f in report.findings if f.suppressed is None]
    if pr_mode:
        new = [f for f in live if f.new is True]
        rest = [f for f in live if f.new is not True]
        against = f" against {code(report.diff_base)}" if report.diff_base else ""
        parts.append(_Part(f"### New findings ({len(new)}){against}\n"))
        if new:
            parts.extend(_finding_groups(new, base, _NEW_OFFSET, "new "))
        else:
            parts.append(_Part("No new findings.\n"))
        if rest:
            parts.append(
                _Part(
                    "<details>\n<summary>"
                    f"Findings that were already there ({len(rest)})</summary>\n"
                )
            )
            parts.extend(_finding_groups(rest, base, 0, ""))
            parts.append(_Part("</details>\n"))
    else:
        parts.append(_Part(f"### Findings ({len(live)})\n"))
        if live:
            parts.append(
                _Part(
                    "<details>\n<summary>"
                    f"Every finding, by module and severity ({len(live)})</summary>\n"
                )
            )
            parts.extend(_finding_groups(live, base, 0, ""))
            parts.append(_Part("</details>\n"))
        else:
            parts.append(_Part("No findings.\n"))
    accepted = [f for f in report.findings if f.suppressed is not None]
    if accepted:
        parts.append(
            _Part(
                _accepted(accepted, base),
                _ACCEPTED_PRIORITY,
                f"{len(accepted)} accepted risk{'s' if len(accepted) != 1 else ''}",
                len(accepted),
            )
        )
    if groups:
        parts.append(_Part(_rule_summary(groups), _SUMMARY_PRIORITY, "the summary by rule"))
    parts.append(_Part(f"<sub>archreview {text(report.tool_version)}</sub>\n"))
    return parts


def _fit(parts: list[_Part], max_chars: int | None) -> str:
    def joined(ps: list[_Part], note: str) -> str:
        body = [p.body for p in ps]
        if note:
            body.insert(len(body) - 1, note)
        return "\n".join(body)

    if max_chars is None:
        return joined(parts, "")
    kept = list(parts)
    dropped: list[_Part] = []
    order = sorted(
        (i for i, p in enumerate(parts) if p.priority is not None),
        key=lambda i: (parts[i].priority or 0, -i),
    )
    note = ""
    doc = joined(kept, note)
    for i in order:
        if len(doc) <= max_chars:
            break
        dropped.append(parts[i])
        kept = [p for p in kept if p is not parts[i]]
        note = _omitted_note(dropped)
        doc = joined(kept, note)
    if len(doc) <= max_chars:
        return doc
    return _hard_cut(doc, max_chars)


def _omitted_note(dropped: list[_Part]) -> str:
    what = "; ".join(p.label for p in dropped if p.label)
    return (
        "> [!NOTE]\n> Left out to stay within the size limit: "
        f"{what}. The JSON and SARIF reports hold every finding.\n"
    )


def _hard_cut(doc: str, max_chars: int) -> str:
    tail = "\n\n*(truncated to stay within the size limit)*\n"
    room = max(0, max_chars - len(tail) - 8)
    cut = doc[:room]
    if "\n" in cut:
        cut = cut[: cut.rfind("\n")]
    fence = ""  # the fence left open, closed with as many backticks (a fix's may be longer)
    for line in cut.split("\n"):
        if line.startswith("```"):
            run = len(line) - len(line.lstrip("`"))
            if not fence:
                fence = "`" * run
            elif run >= len(fence) and not line[run:].strip():
                fence = ""
    if fence:
        cut += "\n" + fence
    if cut.count("<details>") > cut.count("</details>"):
        cut += "\n</details>"
    return (cut + tail)[:max_chars]


# -- sections ---------------------------------------------------------------------------------


def _grade(block: ScoreBlock) -> str:
    if block.score is None:
        return "n/a"
    return f"{block.score:.1f} {block.grade}"


def _header(report: Report) -> str:
    """Grade and cap, nothing to review (when so), the profile used (and its notice), the
    counts, the hidden findings."""
    block = report.score
    if block.score is None:
        title = "## archreview: no score (nothing was weighed)"
    else:
        cap = insights.cap_note(block)
        title = f"## archreview: grade {block.grade} ({block.score:.1f}/100)" + (
            f" — {text(cap)}" if cap else ""
        )
    counts = dict(report.counts)
    total = sum(counts.get(s.value, 0) for s in Severity)
    by_sev = ", ".join(f"{counts.get(s.value, 0)} {s.value}" for s in Severity)
    accepted = len(insights.accepted_risks(report))
    files = report.files
    lines = [title]
    nothing = insights.nothing_found_parts(report)
    if nothing:  # said before anything else: every score below judges nothing
        lines += ["", "> [!WARNING]", f"> **{text(nothing[0], PATH_CHARS)}** {text(nothing[1])}"]
    lines += ["", text(insights.profile_line(report), PATH_CHARS) + "."]
    if report.profile_notice:
        lines += ["", "> [!NOTE]", f"> {text(report.profile_notice)}"]
    lines += [
        "",
        f"**{total} finding{'s' if total != 1 else ''}** ({by_sev}; "
        f"{counts.get('suppressed', 0)} suppressed, "
        f"{accepted} accepted risk{'s' if accepted != 1 else ''}) "
        f"in {insights.plural(files.templates, 'template')}, {files.go_mod} go.mod, "
        f"{files.package_json} package.json"
        + (f", {files.skipped} skipped" if files.skipped else "")
        + f". {block.evaluated} evaluations, {block.failed} failed.",
    ]
    if report.diff_base is not None:
        new = sum(1 for f in report.findings if f.new is True and f.suppressed is None)
        pr, was = report.pr, report.pr.base_score if report.pr is not None else None
        fixed = f", **{pr.fixed_total} fixed**" if pr is not None else ""
        change = "scores are of the full scan"
        if was is not None and was.score is not None and block.score is not None:
            change = (
                f"grade {text(str(was.grade), 10)} {was.score:.1f} -> "
                f"{text(str(block.grade), 10)} {block.score:.1f} "
                f"({round(block.score, 1) - round(was.score, 1):+.1f}; full scans)"
            )
        lines += ["", f"**{new} new**{fixed} against {code(report.diff_base)}; {change}."]
    lead, command = insights.hidden_parts(report)
    lines += ["", text(lead) + (f": {code(command, PATH_CHARS)}" if command else "")]
    return "\n".join(lines) + "\n"


def _decisions(groups: tuple[insights.DecisionGroup, ...], base: str) -> str:
    """The first few decision groups: severity, rule and title; how many and where; the
    decision in one sentence."""
    shown = groups[: insights.DECISIONS_SHOWN]
    lines = ["### Decisions to take", ""]
    if not shown:
        return "\n".join([*lines, "None: no unsuppressed finding."]) + "\n"
    for i, g in enumerate(shown, 1):
        places = ", ".join(_place(f, base) for f in g.where())
        more = f", +{g.more} more" if g.more else ""
        lines.append(
            f"{i}. **{g.severity.value.capitalize()}** · {text(g.rule_id)} · {text(g.title)}"
        )
        lines.append(f"   - {insights.plural(g.count, 'finding')}: {places}{more}")
        if g.decision:
            lines.append(f"   - Decide: {text(g.decision)}")
    rest = len(groups) - len(shown)
    if rest:
        lines += ["", f"{rest} more in the summary by rule at the end."]
    return "\n".join(lines) + "\n"


def _place(f: Finding, base: str) -> str:
    return where(f, base) + (f" {code(f.resource)}" if f.resource else "")


def _rule_summary(groups: tuple[insights.DecisionGroup, ...]) -> str:
    """One row per rule (and title): rule, count, severity, title."""
    total = sum(g.count for g in groups)
    rules = len({g.rule_id for g in groups})
    lines = [
        f"### Summary by rule ({insights.plural(rules, 'rule')}, "
        f"{insights.plural(total, 'finding')})",
        "",
        "| Rule | Count | Severity | Title |",
        "|---|---:|---|---|",
    ]
    for g in groups:
        lines.append(
            f"| {text(g.rule_id)} | {g.count} | {insights.severity_label(g.severities)} "
            f"| {text(g.title)} |"
        )
    return "\n".join(lines) + "\n"


def _what_moved(report: Report, base: str) -> list[str]:
    top = insights.movers(report, limit=3)
    if not top:
        return []
    return ["", "**What moved the score most:**", "", *(f"- {_mover(m, base)}" for m in top)]


def _mover(m: insights.Mover, base: str) -> str:
    return f"-{m.points:.1f} {m.rule_id} {code(m.subject)} ({where(m.finding, base)})"


def _tables(report: Report, base: str) -> str:
    lines = ["### Scores by layer", ""]
    if not report.layers:
        lines.append("Nothing was evaluated.")
    else:
        lines += [
            "| Layer | Score | Grade | Failed | Moved most by |",
            "|---|---:|:---:|---:|---|",
        ]
        moved = insights.layer_movers(report, limit=1)
        for layer, block in report.layers:
            top = moved.get(layer, ())
            by = _mover(top[0], base) if top else "-"
            score = "n/a" if block.score is None else f"{block.score:.1f}"
            cap = insights.cap_note(block)
            grade = (block.grade or "-") + (f" ({text(cap)})" if cap else "")
            lines.append(
                f"| {layer} {report.layer_label(layer, '')} | {score} | {grade} "
                f"| {block.failed}/{block.evaluated} | {by} |"
            )
        lines += _what_moved(report, base)
    if report.modules:
        layers = [layer for layer, _ in report.layers]
        lines += ["", "### Modules x layers", ""]
        lines.append("| Module | Score | " + " | ".join(layers) + " |")
        lines.append("|---|---:|" + "---:|" * len(layers))
        for m in report.modules:
            cells = dict(m.layers)
            cap = insights.cap_note(m.score)
            row = [code(m.name), _grade(m.score) + (f" ({text(cap)})" if cap else "")]
            row += [_grade(cells[layer]) if layer in cells else "-" for layer in layers]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


_FILL = {
    "A": "#2da44e",
    "B": "#8ac926",
    "C": "#f2cc0c",
    "D": "#fb8500",
    "F": "#d1242f",
    None: "#afb8c1",
}


def _mermaid_label(value: str) -> str:
    """Text inside a quoted mermaid label: anything but plain characters as #code; entities."""
    out = []
    for ch in _plain(clip(value)):
        if ch.isalnum() or ch in " _./:+-,":
            out.append(ch)
        else:
            out.append(f"#{ord(ch)};")
    return "".join(out)


def _mermaid(report: Report) -> str:
    lines = ["### Map", "", "```mermaid", "flowchart LR"]
    styles: list[str] = []
    for i, m in enumerate(report.modules):
        mid = f"m{i}"
        lines.append(f'  subgraph {mid}["{_mermaid_label(m.name)} · {_grade(m.score)}"]')
        for j, (layer, block) in enumerate(m.layers):
            nid = f"{mid}l{j}"
            lines.append(f'    {nid}["{layer} {_grade(block)}"]:::g{block.grade or "N"}')
        if not m.layers:
            lines.append(f'    {mid}n["nothing evaluated"]:::gN')
        lines.append("  end")
        styles.append(f"  style {mid} fill:{_FILL[m.score.grade]}22,stroke:{_FILL[m.score.grade]}")
    lines += styles
    for grade, fill in _FILL.items():
        colour = "#000" if grade in ("B", "C") else "#fff"
        lines.append(f"  classDef g{grade or 'N'} fill:{fill},color:{colour},stroke:{fill}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def _finding_groups(findings: list[Finding], base: str, offset: int, kind: str) -> list[_Part]:
    parts: list[_Part] = []
    by_module: dict[str, list[Finding]] = {}
    for f in findings:
        by_module.setdefault(f.module, []).append(f)
    for module in sorted(by_module):
        items = by_module[module]
        parts.append(_Part(f"#### {text(module)}\n"))
        for sev in Severity:
            group = sorted((f for f in items if f.severity == sev), key=Finding.sort_key)
            if not group:
                continue
            n = len(group)
            body = [
                f"**{sev.value.capitalize()}** ({n})",
                "",
                "| Rule | Where | Resource | Finding | Decision |",
                "|---|---|---|---|---|",
            ]
            for f in group:
                names = [code(n) for n in (f.resource, f.property) if n]
                resource = " ".join(names) or "-"
                persona = "" if f.persona is Persona.REGULAR else f"{f.persona.value}, "
                fix = f" (fix below: {f.fix.safety.value})" if f.fix is not None else ""
                body.append(
                    f"| {f.rule_id} | {where(f, base)} | {resource} "
                    f"| {text(f.message)} ({persona}{f.confidence.value} confidence, "
                    f"score {f.score:.1f}){_related(f, base)} "
                    f"| {text(insights.decision_title(f.rule_id, f.title))}{fix} |"
                )
            body += [_fix(f) for f in group if f.fix is not None and f.fix.edits]
            parts.append(
                _Part(
                    "\n".join(body) + "\n",
                    offset + _SEVERITY_PRIORITY[sev],
                    f"{n} {kind}{sev.value} finding{'s' if n != 1 else ''} in {text(module)}",
                    n,
                )
            )
    return parts


def _fix(f: Finding) -> str:
    """A finding's fix: collapsed, its rule, place, safety and description as the summary, a
    unified diff of its edits in a fence nothing in it can close."""
    assert f.fix is not None
    summary = (
        f"Fix for {text(f.rule_id)} at {text(f'{f.file}:{f.line}', PATH_CHARS)} "
        f"({f.fix.safety.value}): {text(f.fix.description)}"
    )
    diff = fence(unified(f.fix, f.source, f.line), "diff")
    return f"\n<details>\n<summary>{summary}</summary>\n\n{diff}\n\n</details>"


def _related(f: Finding, base: str) -> str:
    """' · related: file:line `Res.Path` — message; ...; +N more' for a table cell, or ''."""
    shown, more = insights.related_shown(f)
    if not shown:
        return ""
    items = []
    for loc in shown:
        item = link(f"{loc.file}:{loc.line}", loc.file, loc.line, base)
        subject = insights.related_subject(loc)
        if subject:
            item += f" {code(subject)}"
        if loc.message:
            item += f" — {text(loc.message)}"
        items.append(item)
    if more:
        items.append(f"+{more} more")
    return " · related: " + "; ".join(items)


def _accepted(findings: list[Finding], base: str) -> str:
    lines = [
        f"### Accepted risks ({len(findings)})",
        "",
        "Suppressed findings cost nothing in the scores; each stands for a decision to accept "
        "the risk.",
        "",
        "| Rule | Where | Resource | Severity | Decision |",
        "|---|---|---|---|---|",
    ]
    for f in sorted(findings, key=Finding.sort_key):
        resource = code(f.resource) if f.resource else "-"
        lines.append(
            f"| {f.rule_id} | {where(f, base)} | {resource} | {f.severity.value} "
            f"| {text(insights.suppression_note(f))} |"
        )
    return "\n".join(lines) + "\n"


# -- the parts the PR comment (reviewer.outputs.comment) reuses ----------------------------------


def score_tables(report: Report, base: str = "") -> str:
    """The layer scores (and what moved them) and the module x layer table."""
    return _tables(report, base)


def module_map(report: Report) -> str:
    """The mermaid map of modules and layers coloured by score."""
    return _mermaid(report)


def rule_summary(report: Report) -> str:
    """One row per rule: rule, count, severity, title ('' when nothing is unsuppressed)."""
    groups = insights.report_groups(report)
    return _rule_summary(groups) if groups else ""


def accepted_table(findings: list[Finding], base: str = "") -> str:
    """The accepted risks (suppressed findings) as a table."""
    return _accepted(findings, base)
