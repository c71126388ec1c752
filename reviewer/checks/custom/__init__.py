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

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.core.safefs import UnsafePath, open_anchor, open_dir, read_file_at

from .language import MAX_RULE_BYTES, MAX_RULE_FILES, Rule, RuleFileError, parse_rule

if TYPE_CHECKING:
    from reviewer.checks.catalogue import RuleMeta
    from reviewer.checks.registry import Check, RepoContext, Yielded
    from reviewer.profile import Profile

__all__ = [
    "NONE",
    "RULES_DIR",
    "CustomRules",
    "RuleFileError",
    "load_custom_rules",
    "read_rules",
]

RULES_DIR = (".archreview", "rules")
SUFFIXES = (".yaml", ".yml")


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
    return build(tuple(rules), _digest(texts), tuple(p for p, _ in texts))


def rules_digest(root: Path, profile: Profile) -> str:
    """The digest `load_custom_rules` gives these rule files, from their bytes alone (what an
    output replay keys on, before the scan parses them). Raises RuleFileError when they cannot
    be read."""
    texts = read_rules(root, getattr(profile, "custom_rules", ()))
    return _digest(texts) if texts else NONE.digest


def _digest(texts: Iterable[tuple[str, bytes]]) -> str:
    """Of every rule file's path and bytes."""
    digest = hashlib.sha256()
    for path, data in texts:
        digest.update(len(path.encode("utf-8", "surrogateescape")).to_bytes(4, "big"))
        digest.update(path.encode("utf-8", "surrogateescape"))
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


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


# -- reading the files ------------------------------------------------------------------------------


def read_rules(root: Path, extra: tuple[str, ...] = ()) -> list[tuple[str, bytes]]:
    """(repository-relative path, bytes) of every rule file, sorted by path. Raises
    RuleFileError for a path that leaves the repository, a link, or a file over the cap."""
    found: dict[str, bytes] = {}
    try:
        anchor = open_anchor(root)
    except OSError:  # the root itself cannot be opened: discovery says so
        return []
    try:
        _read_folder(anchor, RULES_DIR, found, missing_ok=True)
        for raw in extra:
            parts = _parts(raw)
            if not parts:
                continue
            try:
                parent = open_dir(anchor, parts[:-1]) if parts[:-1] else os.dup(anchor)
            except FileNotFoundError:
                raise RuleFileError(
                    f"rule path {raw!r} does not exist", ".archreview.yml"
                ) from None
            except (UnsafePath, OSError) as err:
                raise RuleFileError(f"rule path {raw!r}: {err}", ".archreview.yml") from None
            try:
                st = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                raise RuleFileError(
                    f"rule path {raw!r} does not exist", ".archreview.yml"
                ) from None
            finally:
                os.close(parent)
            if stat.S_ISDIR(st.st_mode):
                _read_folder(anchor, parts, found, missing_ok=False)
            else:
                _read_one(anchor, parts, found)
    finally:
        os.close(anchor)
    return sorted(found.items())


def _parts(raw: str) -> tuple[str, ...]:
    if raw.startswith("/") or "\0" in raw:
        raise RuleFileError(
            f"rule path {raw!r} must be relative to the repository", ".archreview.yml"
        )
    parts = tuple(p for p in raw.replace("\\", "/").split("/") if p not in ("", "."))
    if ".." in parts:
        raise RuleFileError(f"rule path {raw!r} leaves the repository", ".archreview.yml")
    return parts


def _read_folder(
    anchor: int, parts: tuple[str, ...], found: dict[str, bytes], *, missing_ok: bool
) -> None:
    shown = "/".join(parts)
    try:
        fd = open_dir(anchor, parts)
    except FileNotFoundError:
        if missing_ok:
            return
        raise RuleFileError(f"rule folder {shown} does not exist", shown) from None
    except (UnsafePath, OSError) as err:
        raise RuleFileError(f"rule folder {shown}: {err}", shown) from None
    try:
        try:
            names = sorted(n for n in os.listdir(fd) if n.endswith(SUFFIXES))
        except OSError as err:
            raise RuleFileError(
                f"rule folder {shown} cannot be listed: {err.strerror}", shown
            ) from None
        if len(names) + len(found) > MAX_RULE_FILES:
            raise RuleFileError(f"more than {MAX_RULE_FILES} rule files", shown)
        for name in names:
            path = f"{shown}/{name}"
            found[path] = _read_at(fd, name, path)
    finally:
        os.close(fd)


def _read_one(anchor: int, parts: tuple[str, ...], found: dict[str, bytes]) -> None:
    path = "/".join(parts)
    try:
        fd = open_dir(anchor, parts[:-1]) if parts[:-1] else os.dup(anchor)
    except (UnsafePath, OSError) as err:
        raise RuleFileError(f"rule file {path}: {err}", path) from None
    try:
        if len(found) + 1 > MAX_RULE_FILES:
            raise RuleFileError(f"more than {MAX_RULE_FILES} rule files", path)
        found[path] = _read_at(fd, parts[-1], path)
    finally:
        os.close(fd)


def _read_at(fd: int, name: str, path: str) -> bytes:
    try:
        return read_file_at(fd, name, max_bytes=MAX_RULE_BYTES, label=os.path.dirname(path))
    except UnsafePath as err:
        raise RuleFileError(f"the rule file cannot be read: {err}", path) from None
    except OSError as err:
        raise RuleFileError(f"the rule file cannot be read: {err.strerror or err}", path) from None
