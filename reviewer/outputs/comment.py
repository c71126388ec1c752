"""The pull request comment: what the change does to the architecture, first and always.

A reviewer reads the top of a comment. It answers, in this order (the spec's *GitHub Action
and PR comment*):

1. the gate: did it pass, why, and what was not reviewed (a module not checked out, a file
   skipped or over a budget, a crashed check: AR-MOD-001/005/006);
2. what this pull request introduces: a count per rule and severity of EVERY new finding (one
   row per rule and severity, so 300 new criticals of one rule are one row that says 300), the
   new risks it accepts in the same change (new findings it suppresses), then the new findings
   as rows, most severe first, while they fit; the rest as "+N more" with a link to where they
   all are (the code scanning alerts of this pull request when the SARIF upload succeeded,
   else the job summary and the report artifact);
3. what it fixed: the base's findings the head no longer has, a count per rule and severity
   of every one, then rows while they fit (at the base's file and line, not linked: the head
   may not hold that line or file);
4. the review inputs it changed and what those changes hide;
5. the grade and score change against the base ("Grade C 72.4 -> D 61.0 (-11.4)"), and each
   layer whose score changed (collapsed when more than a few did); a change that alters no
   finding and no score says so;
6. collapsed: the score tables, the module x layer map, the findings that were already there,
   the accepted risks and the summary by rule.

GitHub refuses a comment over 65,536 characters. The comment is fitted by cutting from the end:
sections 1 to 5 are always kept, rows aside (their size depends on the number of rules, not of
findings); rows are added while they fit, and each later section goes in whole or is named in
a closing note as left out. Every cut keeps the Markdown well formed (no open table, fence or
`<details>`).

Repository text goes through `reviewer.outputs.markdown`'s `text`/`code`/`link`, which escape
it and break every autolink (ZWJ after `@` and `#`, inside `://`, `www.` and `GH-`); rule ids
link to their documentation only when they are built-in ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from reviewer.core.types import LAYER_LABELS, Finding, Report, ScoreBlock, Severity
from reviewer.outputs import insights
from reviewer.outputs.limits import PATH_CHARS
from reviewer.outputs.markdown import (
    GITHUB_COMMENT_LIMIT,
    accepted_table,
    code,
    module_map,
    rule_summary,
    score_tables,
    text,
    where,
)

FileLink = Callable[[str, int], "str | None"]
NOT_REVIEWED = {
    "AR-MOD-001": "modules not checked out",
    "AR-MOD-005": "checks that crashed",
    "AR-MOD-006": "files or stages not reviewed (skipped or over a budget)",
}
_BUILT_IN = re.compile(r"AR-[A-Z]{3}-\d{3}")
_REASONS_SHOWN = 5
_TAIL_ROOM = 600  # kept free for the closing note and the version line


@dataclass(frozen=True)
class CommentOptions:
    """What the comment needs besides the report."""

    link_base: str = ""  # put in front of file links (a blob URL at the head commit, ending in /)
    fail_on: str = "high"  # the gate's threshold (critical..info, never)
    fail_on_incomplete: bool = False  # the gate also fails when something was not reviewed
    more_url: str = ""  # where every finding is, for "+N more"
    more_label: str = "the JSON and SARIF reports"  # what more_url shows
    limit: int = GITHUB_COMMENT_LIMIT
    # (file, line) -> a URL for files the head commit does not hold (inside a git submodule)
    file_link: FileLink | None = None


def _rule(rule_id: str) -> str:
    """A rule id, linked to its documentation when it is a built-in id (a custom rule's id is
    repository text: shown escaped, never linked)."""
    if _BUILT_IN.fullmatch(rule_id):
        from reviewer.outputs.sarif import help_uri

        return f"[{rule_id}]({help_uri(rule_id)})"
    return text(rule_id, 100)


def _pr_mode(report: Report) -> bool:
    return report.diff_base is not None or any(f.new is not None for f in report.findings)


def introduced(report: Report) -> list[Finding]:
    """The findings the gate judges: new and unsuppressed in PR mode, else every unsuppressed
    one; most severe first."""
    pr = _pr_mode(report)
    return insights.severity_order(
        f for f in report.findings if f.suppressed is None and (not pr or f.new is True)
    )


def accepted_new(report: Report) -> list[Finding]:
    """New findings the same change suppresses: new risks it accepts (PR mode only)."""
    if report.pr is not None and report.pr.accepted_new:
        return insights.severity_order(report.pr.accepted_new)
    return insights.severity_order(
        f for f in report.findings if f.suppressed is not None and f.new is True
    )


def not_reviewed(report: Report) -> list[tuple[str, int]]:
    """(rule id, count) of the unsuppressed findings that say something was not reviewed."""
    counts: dict[str, int] = {}
    for f in report.findings:
        if f.suppressed is None and f.rule_id in NOT_REVIEWED:
            counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
    return sorted(counts.items())


def gate_failures(report: Report, fail_on: str) -> list[Finding]:
    """The findings that fail the gate at `fail_on`. Findings that say something was not
    reviewed never do (they fail it only with fail-on-incomplete, see `_gate`)."""
    if fail_on == "never":
        return []
    rank = Severity(fail_on).rank
    return [
        f for f in introduced(report) if f.severity.rank >= rank and f.rule_id not in NOT_REVIEWED
    ]


def _gate(report: Report, options: CommentOptions) -> str:
    failing = gate_failures(report, options.fail_on)
    missing = not_reviewed(report)
    incomplete = options.fail_on_incomplete and bool(missing)
    scope = "new finding" if _pr_mode(report) else "finding"
    if failing:
        why = f"{insights.plural(len(failing), scope)} at or above {options.fail_on}"
    elif options.fail_on == "never":
        why = "fail-on is never"
    else:
        why = f"no {scope} at or above {options.fail_on}"
    if incomplete:
        why += "; something was not reviewed (fail-on-incomplete)"
    verdict = "failed" if failing or incomplete else "passed"
    against = f" against {code(report.diff_base)}" if report.diff_base else ""
    lines = [f"## archreview: the gate {verdict}{against}", "", f"**Gate {verdict}**: {why}."]
    if missing:
        parts = [f"{NOT_REVIEWED[rule]}: {n} ({_rule(rule)})" for rule, n in missing]
        lines += [
            "",
            "> [!WARNING]",
            "> **Not everything was reviewed**: "
            + "; ".join(parts)
            + ". "
            + (
                "The gate fails for it."
                if options.fail_on_incomplete
                else "The gate does not fail for it (fail-on-incomplete is off)."
            ),
        ]
        reasons = report.pr.incomplete if report.pr is not None else ()
        lines += [f"> - {text(line, 300)}" for line in reasons[:_REASONS_SHOWN]]
        if len(reasons) > _REASONS_SHOWN:
            lines.append(f"> - +{len(reasons) - _REASONS_SHOWN} more")
    nothing = insights.nothing_found_parts(report)
    if nothing:
        lines += ["", "> [!WARNING]", f"> **{text(nothing[0])}** {text(nothing[1])}"]
    return "\n".join(lines) + "\n"


def _count_table(findings: Sequence[Finding], pr: bool) -> str:
    """One row per (severity, rule): how many, and the rule's title. Always complete."""
    heading = "What this pull request introduces" if pr else "Findings"
    if not findings:
        none = "No new findings." if pr else "No findings."
        return f"### {heading}\n\n{none}\n"
    rows: dict[tuple[Severity, str], list[Finding]] = {}
    for f in findings:
        rows.setdefault((f.severity, f.rule_id), []).append(f)
    order = sorted(rows, key=lambda k: (-k[0].rank, -len(rows[k]), k[1]))
    lines = [
        f"### {heading}: {insights.plural(len(findings), 'new finding' if pr else 'finding')}",
        "",
        "| Severity | Rule | Count | Title |",
        "|---|---|---:|---|",
    ]
    for sev, rule in order:
        group = rows[(sev, rule)]
        lines.append(
            f"| {sev.value} | {_rule(rule)} | {len(group)} | {text(group[0].title, 200)} |"
        )
    return "\n".join(lines) + "\n"


def _accepted_new(findings: Sequence[Finding], base: str, link: FileLink | None) -> str:
    if not findings:
        return ""
    lines = [
        "> [!WARNING]",
        f"> **This pull request accepts {insights.plural(len(findings), 'new risk')}**: "
        "it adds these findings and suppresses them in the same change.",
        "",
        "| Severity | Rule | Where | Suppression |",
        "|---|---|---|---|",
    ]
    for f in findings[:50]:
        lines.append(
            f"| {f.severity.value} | {_rule(f.rule_id)} | {_where(f, base, link)} "
            f"| {text(insights.suppression_note(f), 300)} |"
        )
    if len(findings) > 50:
        lines.append(f"\n+{len(findings) - 50} more in the JSON report.")
    return "\n".join(lines) + "\n"


def _where(f: Finding, base: str, file_link: FileLink | None) -> str:
    """file:line linked at the head commit, or, for a file inside a git submodule (which the
    pull request's repository does not hold), at the submodule's own repository."""
    url = file_link(f.file, f.line) if file_link is not None else None
    if url:
        return f"[{text(f'{f.file}:{f.line}', PATH_CHARS)}]({url})"
    return where(f, base)


def _row(f: Finding, base: str, link: FileLink | None = None) -> str:
    names = [code(n, 200) for n in (f.resource, f.property) if n]
    return (
        f"| {f.severity.value} | {_rule(f.rule_id)} | {_where(f, base, link)} "
        f"| {' '.join(names) or '-'} "
        f"| {text(f.message, 400)} |"
    )


_ROWS_HEAD = "| Severity | Rule | Where | Resource | Finding |\n|---|---|---|---|---|\n"


def _more(n: int, options: CommentOptions) -> str:
    if n <= 0:
        return ""
    label = text(options.more_label)
    where_all = f"[{label}]({options.more_url})" if options.more_url else label
    return f"\n+{n} more: every finding is in {where_all}.\n"


def _rows(findings: Sequence[Finding], base: str, room: int, options: CommentOptions) -> str:
    """The findings as table rows while they fit in `room` characters, then "+N more"."""
    if not findings:
        return ""
    reserve = len(_more(len(findings), options)) + 2
    out = _ROWS_HEAD
    shown = 0
    for f in findings:
        row = _row(f, base, options.file_link) + "\n"
        if len(out) + len(row) + reserve > room:
            break
        out += row
        shown += 1
    if shown == 0:
        return _more(len(findings), options).lstrip("\n")
    return out + _more(len(findings) - shown, options)


_FIXED_HEAD = "| Severity | Rule | Where (base) | Resource | Finding |\n|---|---|---|---|---|\n"


def _fixed_row(f: Finding) -> str:
    names = [code(n, 200) for n in (f.resource, f.property) if n]
    return (
        f"| {f.severity.value} | {_rule(f.rule_id)} | {text(f'{f.file}:{f.line}', PATH_CHARS)} "
        f"| {' '.join(names) or '-'} | {text(f.message, 400)} |"
    )


def _fixed_counts(report: Report) -> str:
    """What the pull request fixed: one row per (severity, rule) of every fixed finding."""
    pr = report.pr
    if pr is None:
        return ""
    heading = "### What this pull request fixed"
    if pr.fixed_total == 0:
        return f"{heading}\n\nNo finding of the base is gone.\n"
    titles = {f.rule_id: f.title for f in pr.fixed}
    lines = [
        f"{heading}: {insights.plural(pr.fixed_total, 'finding')} of the base no longer reported",
        "",
        "| Severity | Rule | Count | Title |",
        "|---|---|---:|---|",
    ]
    for sev, rule, n in pr.fixed_counts:
        lines.append(
            f"| {text(sev, 20)} | {_rule(rule)} | {n} | {text(titles.get(rule, ''), 200)} |"
        )
    return "\n".join(lines) + "\n"


def _fixed_rows(report: Report, room: int, options: CommentOptions) -> str:
    """The fixed findings as rows while they fit in `room`, then "+N more"."""
    pr = report.pr
    if pr is None or pr.fixed_total == 0:
        return ""
    reserve = len(_more(pr.fixed_total, options)) + 2
    out = _FIXED_HEAD
    shown = 0
    for f in pr.fixed:
        row = _fixed_row(f) + "\n"
        if len(out) + len(row) + reserve > room:
            break
        out += row
        shown += 1
    if shown == 0:
        return _more(pr.fixed_total, options).lstrip("\n")
    return out + _more(pr.fixed_total - shown, options)


def _score_text(block: ScoreBlock | None) -> str:
    if block is None or block.score is None or block.grade is None:
        return "n/a"
    return f"{text(block.grade, 10)} {block.score:.1f}"


def _delta(base: ScoreBlock | None, head: ScoreBlock | None) -> str:
    """' (-11.4)' between two weighed scores (of the rounded figures shown), else ''."""
    if base is None or head is None or base.score is None or head.score is None:
        return ""
    return f" ({round(head.score, 1) - round(base.score, 1):+.1f})"


def _same(base: ScoreBlock | None, head: ScoreBlock | None) -> bool:
    return _score_text(base) == _score_text(head)


_LAYERS_INLINE = 4  # more changed layers than this go in a collapsed table


def _change(report: Report) -> tuple[str, bool]:
    """The grade and score change against the base (overall, then each layer whose score
    changed), and whether anything changed at all. Empty when the base's score is unknown."""
    pr = report.pr
    if pr is None or pr.base_score is None:
        return "", True
    base_layers = dict(pr.base_layers)
    head_layers = dict(report.layers)
    changed: list[str] = []
    for layer in sorted(
        set(base_layers) | set(head_layers),
        key=lambda k: (list(LAYER_LABELS).index(k) if k in LAYER_LABELS else len(LAYER_LABELS), k),
    ):
        was, now = base_layers.get(layer), head_layers.get(layer)
        if _same(was, now):
            continue
        label = text(LAYER_LABELS.get(layer, layer), 80)
        changed.append(
            f"| {label} | {_score_text(was)} | {_score_text(now)} | {_delta(was, now).strip(' ()') or '-'} |"
        )
    overall = _same(pr.base_score, report.score)
    line = (
        f"**Grade {_score_text(pr.base_score)}, unchanged** against the base."
        if overall
        else f"**Grade {_score_text(pr.base_score)} -> {_score_text(report.score)}"
        f"{_delta(pr.base_score, report.score)}** against the base."
    )
    out = [line]
    if changed:
        table = "\n".join(
            ["| Layer | Base | This pull request | Change |", "|---|---|---|---:|", *changed]
        )
        if len(changed) > _LAYERS_INLINE:
            out += ["", _details(f"Layers whose score changed ({len(changed)})", table)]
        else:
            out += ["", table]
    return "\n".join(out) + "\n", overall and not changed


def _grade(report: Report) -> str:
    block = report.score
    cap = insights.cap_note(block)
    grade = (
        "no score (nothing was weighed)"
        if block.score is None
        else f"grade **{block.grade}** ({block.score:.1f}/100)" + (f", {text(cap)}" if cap else "")
    )
    change, unchanged = _change(report)
    if change:
        tail = " Scores are of the full scan of each side."
    elif _pr_mode(report):
        tail = " Scores are of the full scan, not only of what changed."
    else:
        tail = ""
    lead, command = insights.hidden_parts(report)
    hidden = text(lead) + (f": {code(command)}" if command else "")
    parts = ["### Grade", ""]
    pr = report.pr
    if (
        change
        and pr is not None
        and unchanged
        and pr.fixed_total == 0
        and not introduced(report)
        and not accepted_new(report)
        and not pr.hidden_by_inputs
    ):
        parts += [
            "**This pull request changes nothing archreview reports**: no new finding, none "
            "fixed, the same grade and scores.",
            "",
        ]
    if change:
        parts += [change]
    parts += [f"The repository: {grade}.{tail}", "", hidden]
    return "\n".join(parts) + "\n"


def _details(summary: str, body: str) -> str:
    return f"<details>\n<summary>{summary}</summary>\n\n{body}\n</details>\n"


def render_comment(report: Report, options: CommentOptions | None = None) -> str:
    """The comment's Markdown, at most `options.limit` characters."""
    options = options or CommentOptions()
    base = options.link_base
    pr = _pr_mode(report)
    new = introduced(report)
    limit = options.limit - _TAIL_ROOM
    head = [
        _gate(report, options),
        _count_table(new, pr),
        _accepted_new(accepted_new(report), base, options.file_link),
    ]
    doc = "\n".join(p for p in head if p)
    essential = "\n".join(
        p for p in (_inputs(report, base, options.file_link), _grade(report)) if p
    )
    fixed = _fixed_counts(report)
    # the layer scores are small and kept: the new findings' rows get the rest
    layers = _details("Scores by layer", score_tables(replace(report, modules=()), base))
    rows = _rows(
        new, base, limit - len(doc) - len(fixed) - len(essential) - len(layers) - 4, options
    )
    doc += "\n" + rows if rows else ""
    if fixed:  # then the fixed findings' rows, in half of what is left after the kept parts
        room = (limit - len(doc) - len(fixed) - len(essential) - len(layers) - 4) // 2
        fixed_rows = _fixed_rows(report, max(room, 0), options)  # at least "+N more"
        doc += "\n" + fixed + ("\n" + fixed_rows if fixed_rows else "")
    doc += "\n" + essential
    full = _details(
        "Scores by layer and module, and the map",
        score_tables(report, base) + "\n" + module_map(report),
    )
    left_out_first: list[str] = []
    if len(doc) + len(full) > limit * 3 // 4:  # many modules: keep room for what follows
        left_out_first.append("the module x layer table and the map")
        full = layers
    later: list[tuple[str, str | None]] = [("the score tables", full)]
    rest = insights.severity_order(
        f for f in report.findings if f.suppressed is None and f.new is not True
    )
    if pr and rest:
        later.append(("the findings that were already there", None))  # sized to what is left
    accepted = [f for f in report.findings if f.suppressed is not None]
    if accepted:
        later.append(
            (
                "the accepted risks",
                _details(f"Accepted risks ({len(accepted)})", accepted_table(accepted, base)),
            )
        )
    summary = rule_summary(report)
    if summary:
        later.append(("the summary by rule", _details("Summary by rule", summary)))
    left_out: list[str] = []
    for label, part in later:
        if part is None:  # the rows that fit in what is left, keeping a third for what follows
            room = (limit - len(doc)) * 2 // 3
            part = _existing(rest, base, room, options) if room > 600 else ""
        if left_out or not part or len(doc) + 1 + len(part) > limit:
            left_out.append(label)  # cut from the end: nothing after a part that did not fit
            continue
        doc += "\n" + part
    left_out = left_out_first + left_out
    if left_out:
        doc += (
            "\n> [!NOTE]\n> Left out to stay within GitHub's comment limit: "
            + ", ".join(left_out)
            + f". Every finding is in {text(options.more_label)}.\n"
        )
    doc += f"\n<sub>archreview {text(report.tool_version, 40)}</sub>\n"
    return doc if len(doc) <= options.limit else _cut(doc, options.limit)


_INPUT_KINDS = {
    "profile": "profile",
    "agent": "agent definition",
    "baseline": "baseline",
    "suppressions": "inline suppressions",
    "ignore": "ignore file",
    "rules": "custom rules",
}
_HIDDEN_SHOWN = 30


def _inputs(report: Report, base: str, link: FileLink | None) -> str:
    """The review inputs this pull request changed and what those changes hide: the findings
    the base's inputs report that the head's do not (PR mode)."""
    pr = report.pr
    if pr is None or not (pr.changed_inputs or pr.hidden_by_inputs):
        return ""
    lines = ["### Review inputs this pull request changed", ""]
    for path, kind in pr.changed_inputs:
        lines.append(f"- {_INPUT_KINDS.get(kind, text(kind, 40))}: {code(path, 300)}")
    hidden = insights.severity_order(pr.hidden_by_inputs)
    judged = "the base's" if pr.judged_with == "base" else "this pull request's"
    lines.append("")
    if hidden:
        lines += [
            "> [!CAUTION]",
            f"> **These changes hide {insights.plural(len(hidden), 'finding')}** that the "
            f"base's review inputs report. The findings above were judged with {judged} "
            "inputs; `--base-profile` (the Action's `base-profile` input) judges with the "
            "base's.",
            "",
            "| Severity | Rule | Where | Resource | Finding |",
            "|---|---|---|---|---|",
            *(_row(f, base, link) for f in hidden[:_HIDDEN_SHOWN]),
        ]
        if len(hidden) > _HIDDEN_SHOWN:
            lines += ["", f"+{len(hidden) - _HIDDEN_SHOWN} more in the JSON report."]
    else:
        lines.append(
            f"These changes hide no finding the base's inputs report (judged with {judged} inputs)."
        )
    return "\n".join(lines) + "\n"


def _existing(findings: Sequence[Finding], base: str, room: int, options: CommentOptions) -> str:
    """The findings that were already there, collapsed, with the rows that fit in `room`."""
    summary = f"Findings that were already there ({len(findings)})"
    body = _rows(findings, base, room - len(summary) - 60, options)
    return _details(summary, body)


def _cut(doc: str, limit: int) -> str:
    """A last guard (the parts above are sized to fit): cut at a line, close what is open."""
    tail = "\n\n*(cut to stay within the size limit)*\n"
    cut = doc[: max(0, limit - len(tail) - 40)]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else ""
    if sum(1 for line in cut.split("\n") if line.startswith("```")) % 2:
        cut += "\n```"
    cut += "\n</details>" * max(0, cut.count("<details>") - cut.count("</details>"))
    return (cut + tail)[:limit]


__all__ = [
    "NOT_REVIEWED",
    "CommentOptions",
    "accepted_new",
    "gate_failures",
    "introduced",
    "not_reviewed",
    "render_comment",
]
