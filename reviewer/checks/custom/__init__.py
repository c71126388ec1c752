"""A repository's own rules (issue 21): declarative YAML rules evaluated on archreview's model.

Rule files live in ``.archreview/rules/*.yaml`` (and ``*.yml``) and at the paths the profile
lists (``rules: [paths]`` in .archreview.yml: files, or folders of rule files). They are
untrusted input like templates: read through reviewer.core.safefs (no link is followed, nothing
outside the checkout is read, a size cap applies), composed by reviewer.core.typed, and never
executed. A rule file with an error is a RuleFileError (exit 2 with ``file:line: message``).

Each rule becomes a RuleMeta (its metadata joins the scan's catalogue) and a template Check
marked ``cross_file`` (it reads the whole repository model). One more check, registered under
AR-MOD-006, reports the rules whose evaluation went over its bound (language.MAX_WORK).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

# reading and digesting the files needs neither the language nor its pattern engine (RE2):
# those are imported when a repository has rule files (load_custom_rules)
from reviewer.discover.rulefiles import RULES_DIR, RuleFileError, digest_rules, read_rules

if TYPE_CHECKING:
    from reviewer.checks.catalogue import RuleMeta
    from reviewer.checks.registry import Check, RepoContext, Yielded
    from reviewer.profile import Profile

    from .language import Rule

__all__ = [
    "NONE",
    "RULES_DIR",
    "CustomRules",
    "RuleFileError",
    "load_custom_rules",
    "read_rules",
]


@dataclass(frozen=True)
class CustomRules:
    checks: tuple[Check, ...] = ()
    metas: Mapping[str, RuleMeta] = field(default_factory=dict)
    digest: str = ""  # of every rule file read (the cache keys depend on it)
    files: tuple[str, ...] = ()  # the rule files read, relative to the root
    rules: tuple[Rule, ...] = ()


NONE = CustomRules()


def load_custom_rules(root: Path, profile: Profile) -> CustomRules:
    """The rules the repository at `root` declares (.archreview/rules/*.yaml and the profile's
    paths). Raises RuleFileError (exit 2) for a rule file with an error."""
    texts = read_rules(root, getattr(profile, "custom_rules", ()))
    if not texts:
        return NONE
    from .language import parse_rule

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path, data in texts:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise RuleFileError(
                f"the rule file is not UTF-8 text (byte {err.start})", path
            ) from None
        rule = parse_rule(text, path)
        if rule.id in seen:
            raise RuleFileError(
                f"rule id {rule.id} is also declared in {seen[rule.id]}", path, rule.line
            )
        seen[rule.id] = path
        rules.append(rule)
    return build(tuple(rules), digest_rules(texts), tuple(p for p, _ in texts))


def build(rules: tuple[Rule, ...], digest: str = "", files: tuple[str, ...] = ()) -> CustomRules:
    """The checks and catalogue entries of parsed rules."""
    from reviewer.checks.registry import Check

    from .evaluate import Overflow, rule_check_fn

    overflow = Overflow()
    checks: list[Check] = [
        Check(rule.id, "template", rule_check_fn(rule, overflow), enumerates=True, cross_file=True)
        for rule in rules
    ]
    checks.append(Check("AR-MOD-006", "repo", _overflow_fn(overflow), cross_file=True))
    metas = {rule.id: rule_meta(rule) for rule in rules}
    return CustomRules(tuple(checks), metas, digest, files, rules)


def _overflow_fn(overflow: Any) -> Any:
    from reviewer.core.types import Hit

    def custom_rules_bounds(ctx: RepoContext) -> Iterator[Yielded]:
        for rule_id, file, _module, limit in sorted(overflow.items):
            yield Hit(
                None,
                (),
                f"the custom rule {rule_id} was not fully evaluated on {file}: it went over its "
                f"bound of {limit:,} evaluation steps; none of its findings there are reported",
                file=file,
            )
        overflow.items.clear()

    return custom_rules_bounds


def rule_meta(rule: Rule) -> RuleMeta:
    from reviewer.checks.catalogue import RuleMeta

    types: tuple[str, ...] = rule.select.types
    return RuleMeta(
        id=rule.id,
        name=rule.id.lower(),
        title=rule.title,
        layer=rule.layer,
        severity=rule.severity,
        confidence=rule.confidence,
        resource_types=types,
        since="",
        description=rule.description or rule.title,
        adr_title=rule.adr_title or rule.title,
        context=rule.context,
        decision=rule.decision,
        consequences=rule.consequences,
        options=rule.options,
        references=rule.references,
        nist=(),
        owasp=(),
        cases=(),
        persona=rule.persona,
        requires=rule.requires,
        source=rule.file,
        layer_label=rule.layer_label,
    )
