"""Evaluating custom rules on the model: a rule becomes a template Check yielding Hits.

A condition is evaluated on a subject (a resource) to the places where it may fail and the
places where it may hold, each with how sure that is (None: certain; MEDIUM: only under a
Condition or with a parameter default; LOW: unknown). A value archreview cannot resolve makes
neither: an unknown never makes a finding. ``all`` fails where any part fails, ``any`` fails
only where every part fails (less surely when a part may hold), ``not`` swaps the two. A
`require` (or a case's) that may fail gives one Hit per place it fails (``report: first``:
one Hit, the other places as related locations), at the property path the engine locates.

The work of one rule on one template is counted (values visited, peers and subjects
examined); over reviewer.checks.custom.language.MAX_WORK the rule's findings on that template
are dropped and AR-MOD-006 says the rule was not fully evaluated (reviewer.checks.custom
`CustomRules.checks` carries the check that reports it). The scan goes on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.core.types import Checked, Confidence, Hit, NotJudged, Path, Related
from reviewer.model.resolve import number, truthy
from reviewer.model.template import Resource, Template

from . import language as lang
from .edges import Peer, peers
from .patterns import Regex, glob_match, path_glob_match
from .values import OverLimit, Val, Work, possible, written

if TYPE_CHECKING:
    from reviewer.checks.registry import TemplateContext, Yielded
    from reviewer.model.repo import RepoIndex
    from reviewer.profile import Profile


@dataclass(frozen=True)
class Blame:
    path: Path
    confidence: Confidence | None  # None: certain
    detail: str = ""


@dataclass(frozen=True)
class Res:
    fails: tuple[Blame, ...] = ()
    passes: tuple[Blame, ...] = ()

    @property
    def surely_fails(self) -> bool:
        return any(b.confidence is None for b in self.fails)

    @property
    def surely_holds(self) -> bool:
        return any(b.confidence is None for b in self.passes)

    @property
    def may_hold(self) -> bool:
        return bool(self.passes) and not self.surely_fails


def _lower(blames: tuple[Blame, ...], to: Confidence = Confidence.MEDIUM) -> tuple[Blame, ...]:
    return tuple(
        Blame(
            b.path,
            to if b.confidence is None or b.confidence.rank > to.rank else b.confidence,
            b.detail,
        )
        for b in blames
    )


def lowest(*confidences: Confidence | None) -> Confidence | None:
    known = [c for c in confidences if c is not None]
    return min(known, key=lambda c: c.rank) if known else None


@dataclass
class Overflow:
    """The (rule, template file, module, limit) of evaluations that went over their bound in one
    scan: the AR-MOD-006 check of the scan's custom rules reports them."""

    items: list[tuple[str, str, str, int]] = field(default_factory=list)


@dataclass
class _Scope:
    repo: RepoIndex
    profile: Profile
    work: Work
    subject_template: Template
    subject: Resource


# -- the check ------------------------------------------------------------------------------------


def rule_check_fn(rule: lang.Rule, overflow: Overflow, limit: int | None = None) -> Any:
    """The function of the Check of `rule` (a template check that reads the whole model)."""

    def run(ctx: TemplateContext) -> Iterator[Yielded]:
        t = ctx.template
        if not _file_selected(rule.select, t):
            yield NotJudged("the rule selects no resource of this template")
            return
        work = Work(lang.MAX_WORK if limit is None else limit)
        out: list[Yielded] = []
        try:
            for res in list(t):
                work.tick()
                if not _matches(rule.select, t, res):
                    continue
                scope = _Scope(ctx.repo, ctx.profile, work, t, res)
                if rule.where is not None and not evaluate(rule.where, scope, t, res).may_hold:
                    continue
                out.append(Checked(res.logical_id))
                out.extend(_case_hits(rule, scope, t, res))
        except OverLimit as over:
            overflow.items.append((rule.id, t.file, t.module, over.limit))
            return
        yield from out

    run.__name__ = "custom_" + re.sub(r"\W", "_", rule.id.lower())
    return run


def _case_hits(rule: lang.Rule, scope: _Scope, t: Template, res: Resource) -> Iterator[Hit]:
    for case in rule.cases:
        when_conf: Confidence | None = None
        if case.when is not None:
            gate = evaluate(case.when, scope, t, res)
            if not gate.may_hold:
                continue
            if not gate.surely_holds:
                when_conf = Confidence.MEDIUM
        result = evaluate(case.require, scope, t, res)
        blames: list[Blame] = []
        seen: set[Path] = set()
        for b in result.fails:
            if b.path not in seen:
                seen.add(b.path)
                blames.append(b)
        if not blames:
            continue
        chosen = blames[:1] if case.report == "first" else blames
        related = (
            tuple(
                Related(res.logical_id, b.path, "also: " + (b.detail or "fails here"))
                for b in blames[1:]
            )
            if case.report == "first"
            else ()
        )
        for b in chosen:
            yield Hit(
                res.logical_id,
                b.path,
                _message(rule, case, res, t, b),
                severity=case.severity,
                confidence=lowest(case.confidence, b.confidence, when_conf),
                related=related,
                persona=case.persona,
            )


def _message(rule: lang.Rule, case: lang.Case, res: Resource, t: Template, b: Blame) -> str:
    template = case.message or "{type} {subject}: {title}"
    values = {
        "{subject}": res.logical_id,
        "{type}": res.type,
        "{file}": t.file,
        "{title}": rule.title,
        "{detail}": b.detail,
        "{case}": case.id or "",
    }
    text = template
    for key, value in values.items():
        text = text.replace(key, value)
    if b.detail and "{detail}" not in template:
        text += f" ({b.detail})"
    return text


# -- selectors ------------------------------------------------------------------------------------


def _file_selected(sel: lang.Selector, t: Template) -> bool:
    if sel.modules and not any(path_glob_match(g, t.module) for g in sel.modules):
        return False
    return not (sel.paths and not any(path_glob_match(g, t.file) for g in sel.paths))


def _matches(sel: lang.Selector, t: Template, res: Resource) -> bool:
    if sel.types and res.type not in sel.types:
        return False
    if sel.generated == "exclude" and res.implicit:
        return False
    if sel.generated == "only" and not res.implicit:
        return False
    if sel.names and not any(glob_match(g, res.logical_id) for g in sel.names):
        return False
    if not _file_selected(sel, t):
        return False
    return all(_tagged(res, key, glob) for key, glob in sel.tags)


def _tagged(res: Resource, key: str, glob: str) -> bool:
    tags = res.get("Tags")
    value: Any = None
    if isinstance(tags, Mapping):
        value = tags.get(key)
    elif isinstance(tags, list):
        for item in tags:
            if isinstance(item, Mapping) and item.get("Key") == key:
                value = item.get("Value")
                break
    if value is None:
        return False
    return (
        glob_match(glob, _text(value))
        if isinstance(value, (str, int, float, bool))
        else glob == "*"
    )


def _peer_matches(sel: lang.Selector, scope: _Scope, p: Peer) -> bool:
    if not _matches(sel, p.template, p.resource):
        return False
    if sel.template == "same" and p.template is not scope.subject_template:
        return False
    if sel.template == "other" and p.template is scope.subject_template:
        return False
    module = scope.subject_template.module
    if sel.module == "same" and p.template.module != module:
        return False
    if sel.module == "other" and p.template.module == module:
        return False
    if sel.where is not None:
        return evaluate(sel.where, scope, p.template, p.resource).may_hold
    return True


# -- conditions -----------------------------------------------------------------------------------


def evaluate(cond: lang.Cond, scope: _Scope, t: Template, res: Resource) -> Res:
    scope.work.tick()
    if isinstance(cond, lang.All):
        return _all([evaluate(c, scope, t, res) for c in cond.items])
    if isinstance(cond, lang.AnyOf):
        return _any([evaluate(c, scope, t, res) for c in cond.items])
    if isinstance(cond, lang.Not):
        inner = evaluate(cond.item, scope, t, res)
        return Res(inner.passes, inner.fails)
    if isinstance(cond, lang.Prop):
        return _property(cond, scope, t, res)
    if isinstance(cond, lang.TypeIs):
        return _sure(res.type in cond.types, (), f"type {res.type}")
    if isinstance(cond, lang.NameIs):
        ok = (
            cond.regex.search(res.logical_id)
            if cond.regex
            else glob_match(cond.glob or "", res.logical_id)
        )
        return _sure(ok, (), f"logical id {res.logical_id}")
    if isinstance(cond, lang.TagIs):
        return _sure(_tagged(res, cond.key, cond.glob), ("Properties", "Tags"), f"tag {cond.key}")
    if isinstance(cond, lang.Edge):
        return _edge(cond, scope, t, res)
    return _count(cond, scope, t, res)


def _sure(ok: bool, path: Path, detail: str) -> Res:
    b = (Blame(path, None, detail),)
    return Res(passes=b) if ok else Res(fails=b)


def _all(parts: list[Res]) -> Res:
    fails = tuple(b for p in parts for b in p.fails)
    passes: tuple[Blame, ...] = ()
    if parts and all(p.passes for p in parts) and not any(p.surely_fails for p in parts):
        passes = tuple(b for p in parts for b in p.passes)
        if fails:
            passes = _lower(passes)
    return Res(fails, passes)


def _any(parts: list[Res]) -> Res:
    passes = tuple(b for p in parts for b in p.passes)
    fails: tuple[Blame, ...] = ()
    if parts and all(p.fails for p in parts) and not any(p.surely_holds for p in parts):
        fails = parts[0].fails  # one failure, located where its first alternative fails
        if passes:
            fails = _lower(fails)
    return Res(fails, passes)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _shown(value: Any) -> str:
    text = _text(value) if isinstance(value, (str, int, float, bool)) else type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _equals(value: Any, arg: Any) -> bool | None:
    if isinstance(arg, bool):
        found = truthy(value)
        return None if found is None else found == arg
    if isinstance(arg, (int, float)):
        n = number(value)
        if n is None:
            return False if isinstance(value, (str, bool, list, Mapping)) else None
        return n == float(arg)
    if isinstance(value, (str, int, float, bool)):
        return _text(value) == str(arg)
    return False


def _profile_number(scope: _Scope, num: lang.Num) -> float | None:
    if isinstance(num, lang.ProfileValue):
        from reviewer.profile import KEY_FIELDS

        names = KEY_FIELDS.get(num.key, ())
        value = getattr(scope.profile, names[0], None) if names else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)
    return num


def _compare(op: str, a: float, b: float) -> bool:
    if op == "gt":
        return a > b
    if op == "ge":
        return a >= b
    if op == "lt":
        return a < b
    if op == "le":
        return a <= b
    return a == b


_OP_WORDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "equals": "="}


def _test(cond: lang.Prop, scope: _Scope, v: Val) -> tuple[bool | None, str]:
    """Whether one possible value passes the test (None: cannot say), and what it was."""
    name = ".".join(str(p) for p in cond.path)
    if cond.test == "exists":
        present = not v.missing
        return present == cond.arg, f"{name} {'is set' if present else 'is not set'}"
    value = v.value
    if v.missing:
        if not cond.has_default:
            return False, f"{name} is not set"
        value = cond.default
    elif not v.known:
        return None, f"{name} is not known"
    shown = f"{name} is {_shown(value)}"
    if cond.test == "equals":
        return _equals(value, cond.arg), shown
    if cond.test == "one_of":
        found = [_equals(value, a) for a in cond.arg]
        if any(found):
            return True, shown
        return (None if None in found else False), shown
    if cond.test == "contains":
        if isinstance(value, list):
            return any(
                _equals(item, cond.arg) for item in value
            ), f"{name} lists {len(value)} items"
        if isinstance(value, Mapping):
            return str(cond.arg) in value, shown
        if isinstance(value, str):
            return _text(cond.arg) in value, shown
        return False, shown
    if cond.test in ("pattern", "regex"):
        if not isinstance(value, (str, int, float, bool)):
            return False, shown
        text = _text(value)
        arg = cond.arg
        return (arg.search(text) if isinstance(arg, Regex) else glob_match(arg, text)), shown
    limit = _profile_number(scope, cond.arg)
    n = number(value)
    if limit is None or n is None:
        return None, shown
    return _compare(
        cond.test, n, limit
    ), f"{name} is {_shown(n)}, expected {_OP_WORDS[cond.test]} {_shown(limit)}"


def _property(cond: lang.Prop, scope: _Scope, t: Template, res: Resource) -> Res:
    base: Path = (() if cond.attribute else ("Properties",)) + tuple(
        p for p in cond.path[: _first_wild(cond.path)]
    )
    if cond.test == "written":
        ok = written(res, cond.path, attribute=cond.attribute) == cond.arg
        name = ".".join(str(p) for p in cond.path)
        state = (
            "is written" if written(res, cond.path, attribute=cond.attribute) else "is not written"
        )
        return _sure(ok, base, f"{name} {state}")
    vals = possible(t, res, cond.path, scope.work, attribute=cond.attribute)
    if not vals:
        return Res(passes=(Blame(base, None, "nothing to test"),))
    fails: list[Blame] = []
    passes: list[Blame] = []
    for v in vals:
        scope.work.tick()
        ok, detail = _test(cond, scope, v)
        if ok is None:
            continue
        blame = Blame(v.path, v.confidence, detail + _when(v))
        (passes if ok else fails).append(blame)
    return Res(tuple(fails), tuple(passes))


def _first_wild(path: tuple[str | int, ...]) -> int:
    for i, p in enumerate(path):
        if p == lang.WILD:
            return i
    return len(path)


def _when(v: Val) -> str:
    if v.conditions:
        return " when " + " and ".join(v.conditions)
    if v.assumed:
        return " (from a parameter default)"
    return ""


def _selected_peers(cond: lang.Edge, scope: _Scope, t: Template, res: Resource) -> list[Peer]:
    found = peers(scope.repo, t, res, cond.kind, cond.direction, scope.work, cond.metrics)
    inner = _Scope(scope.repo, scope.profile, scope.work, t, res)
    return [p for p in found if _peer_matches(cond.peer, inner, p)]


def _edge(cond: lang.Edge, scope: _Scope, t: Template, res: Resource) -> Res:
    ps = _selected_peers(cond, scope, t, res)
    label = f"{cond.kind} edge {'from' if cond.direction == 'out' else 'to'} {res.logical_id}"
    if cond.compare is not None:
        return _compare_across(cond.compare, scope, t, res, ps, label)
    sure = [p for p in ps if not p.conditions]
    if cond.count is not None:
        op, num = cond.count
        limit = _profile_number(scope, num)
        if limit is None:
            return Res()
        ok_all = _compare(op, float(len(ps)), limit)
        ok_sure = _compare(op, float(len(sure)), limit)
        detail = f"{len(ps)} {label} peer(s), expected {_OP_WORDS[op]} {_shown(limit)}"
        if ok_all == ok_sure:
            return _sure(ok_all, (), detail)
        b = (Blame((), Confidence.MEDIUM, detail),)
        return Res(fails=b, passes=b)
    if cond.every is not None:
        if not ps:
            return _sure(False, (), f"no {label} peer")
        inner = _Scope(scope.repo, scope.profile, scope.work, t, res)
        bad = [p for p in ps if not _peer_matches(cond.every, inner, p)]
        if bad:
            return _sure(False, (), f"{bad[0].resource.logical_id} does not match")
        return _sure(True, (), f"every {label} peer matches")
    if sure:
        return _sure(True, (), f"{label} to {sure[0].resource.logical_id}")
    if ps:
        cond_text = ", ".join(c for p in ps for c in p.conditions)
        b_pass = (
            Blame(
                (), Confidence.MEDIUM, f"{label} to {ps[0].resource.logical_id} when {cond_text}"
            ),
        )
        b_fail = (Blame((), Confidence.MEDIUM, f"no {label} unless {cond_text}"),)
        return Res(fails=b_fail, passes=b_pass)
    return _sure(False, (), f"no {label}")


def _numbers(vals: list[Val], default: float | None) -> list[tuple[float, Val]]:
    out: list[tuple[float, Val]] = []
    for v in vals:
        if v.missing:
            if default is not None:
                out.append((default, v))
            continue
        n = number(v.value) if v.known else None
        if n is not None:
            out.append((n, v))
    return out


def _compare_across(
    cmp: lang.Compare, scope: _Scope, t: Template, res: Resource, ps: list[Peer], label: str
) -> Res:
    mine = _numbers(possible(t, res, cmp.path, scope.work), cmp.default)
    name = ".".join(str(p) for p in cmp.path)
    peer_name = ".".join(str(p) for p in cmp.peer_path)
    fails: list[Blame] = []
    passes: list[Blame] = []
    path: Path = ("Properties", *cmp.path)
    for p in ps:
        theirs = _numbers(
            possible(p.template, p.resource, cmp.peer_path, scope.work), cmp.peer_default
        )
        for a, va in mine:
            for b, vb in theirs:
                scope.work.tick()
                bound = cmp.factor * b
                conf = lowest(
                    va.confidence, vb.confidence, Confidence.MEDIUM if p.conditions else None
                )
                if p.template is not t:
                    conf = lowest(conf, Confidence.MEDIUM)
                detail = (
                    f"{name} {a:g} against {cmp.factor:g} x the {b:g} {peer_name} of "
                    f"{p.resource.logical_id}"
                    + ("" if p.template is t else f" in {p.template.file}")
                    + f" ({label})"
                )
                (passes if _compare(cmp.op, a, bound) else fails).append(Blame(path, conf, detail))
    if not fails and not passes:
        return Res(passes=(Blame(path, None, f"no {label} peer to compare with"),))
    fails.sort(key=lambda bl: bl.confidence.rank if bl.confidence else 3, reverse=True)
    return Res(tuple(fails), tuple(passes))


def _count(cond: lang.Count, scope: _Scope, t: Template, res: Resource) -> Res:
    limit = _profile_number(scope, cond.value)
    if limit is None:
        return Res()
    if cond.scope == "template":
        templates = [t]
    elif cond.scope == "module":
        templates = [x for x in scope.repo.templates.values() if x.module == t.module]
    else:
        templates = list(scope.repo.templates.values())
    counted = 0
    sure = 0
    inner = _Scope(scope.repo, scope.profile, scope.work, t, res)
    stop = False
    for other in templates:
        for item in other:
            scope.work.tick()
            if cond.before and other is t and item is res:
                stop = True
                break
            if not _matches(cond.selector, other, item):
                continue
            if (
                cond.selector.where is not None
                and not evaluate(cond.selector.where, inner, other, item).may_hold
            ):
                continue
            counted += 1
            if item.condition is None:
                sure += 1
        if stop:
            break
    ok_all = _compare(cond.op, float(counted), limit)
    ok_sure = _compare(cond.op, float(sure), limit)
    detail = f"{counted} counted, expected {_OP_WORDS[cond.op]} {_shown(limit)}"
    if ok_all == ok_sure:
        return _sure(ok_all, (), detail)
    b = (Blame((), Confidence.MEDIUM, detail),)
    return Res(fails=b, passes=b)
