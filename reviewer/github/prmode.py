"""PR mode (`scan --diff-base REF`): which findings does this change introduce?

The tree at REF is checked out in a temporary `git worktree add --detach` (and each submodule
that REF records, from the submodule's own repository), scanned with the same options, and then
removed. REF's findings are re-keyed through the renames `git diff -M --name-status REF` reports,
so a renamed template keeps its findings "existing". A finding of the current scan is new when
its logical fingerprint (rule, file, logical id, property path — never a line number) is absent
from REF's findings. Line-based filtering would miss the regressions this exists for: deleting a
WAF association makes AR-API-001 appear on a stage line the change never touched.

REF's side is cached (with a cache): its logical findings are kept under a key made of REF's
git tree id — which names every file's content and every submodule's commit, so it names the
whole base checkout — and everything else the scan's result depends on (archreview's code and
rules, the profile, the date, the options, the scanned root's place in the repository). A later
run against the same base reads them back without checking anything out or scanning it again:
a pull request's every push re-scans only its own side. A base whose submodules could not all be
checked out is not cached (fetching them later must change the answer).

What the change fixed (`PrDiff.fixed`) is REF's unsuppressed findings whose logical fingerprint,
renames followed, no finding of the current scan has; REF's score overall and per layer
(`PrDiff.base_score`, `base_layers`) gives the grade change. Both are cached with REF's keys.

Only git itself runs, with fixed arguments, hooks disabled and no prompts; nothing from the
repository is executed. Every git command has a time limit (`GIT_TIMEOUT` seconds, or
``ARCHREVIEW_GIT_TIMEOUT`` from the environment): git runs in a process group of its own, and
when the limit passes the whole group is killed (a child git keeping the output pipe open cannot
make the wait hang) and the scan fails with one line naming the command (exit 3). A repository
can make git itself slow: a `.gitignore` pattern that git's matcher backtracks on, a huge tree.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reviewer.core.types import AdrText, Finding, PrDiff, Report, ScoreBlock, Severity, evolve

# git is run by reviewer.discover.git (the outputs' submodule links use it too); PR mode's
# callers name these here.
from reviewer.discover.git import GIT_TIMEOUT as GIT_TIMEOUT
from reviewer.discover.git import DiffBaseError as DiffBaseError
from reviewer.discover.git import GitError as GitError
from reviewer.discover.git import git as git
from reviewer.discover.git import git_timeout as git_timeout
from reviewer.discover.git import gitlinks as gitlinks
from reviewer.runner.engine import ScanOptions, fingerprint, scan

MAX_FIXED = 1000  # fixed findings kept whole in PrDiff.fixed; the counts cover every one
MAX_SUBMODULE_DEPTH = 8


@dataclass
class BaseTree:
    """The checked-out base: where it is, the worktrees to remove, and what went wrong."""

    path: Path
    worktrees: list[tuple[Path, Path]] = field(default_factory=list)  # (repository, worktree)
    warnings: list[str] = field(default_factory=list)
    submodules: list[tuple[str, Path, str]] = field(default_factory=list)  # (path, repo, commit)


def _out(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stdout.decode("utf-8", "surrogateescape").strip()


def resolve(root: Path, ref: str) -> tuple[Path, str, str]:
    """(repository top level, the scanned root's prefix in it ('' or 'a/b/'), commit of REF)."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
        raise DiffBaseError(f"--diff-base {ref!r} is not a git revision")
    top = git(["rev-parse", "--show-toplevel"], root, check=False)
    if top.returncode != 0:
        raise DiffBaseError(f"--diff-base needs a git checkout: {root} is not inside one")
    toplevel = Path(_out(top))
    prefix = _out(git(["rev-parse", "--show-prefix"], root))
    commit = git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], toplevel, check=False)
    if commit.returncode != 0:
        raise DiffBaseError(
            f"--diff-base {ref}: no such commit in {toplevel} "
            "(in GitHub Actions, check out with fetch-depth: 0)"
        )
    return toplevel, prefix, _out(commit)


def _add_worktree(repo: Path, commit: str, dest: Path, tree: BaseTree) -> None:
    git(["worktree", "add", "--detach", "--quiet", str(dest), commit], repo)
    tree.worktrees.append((repo, dest))


def _add_submodules(
    repo: Path, commit: str, dest: Path, rel: str, tree: BaseTree, depth: int
) -> None:
    if depth > MAX_SUBMODULE_DEPTH:
        return
    for path, sub_commit in gitlinks(repo, commit):
        head_sub = repo / path
        target = dest / path
        label = f"{rel}{path}"
        if not (head_sub / ".git").exists():
            tree.warnings.append(
                f"submodule {label} is not checked out here: its base findings are unknown "
                "(check out with submodules: recursive)"
            )
            continue
        have = git(["cat-file", "-e", f"{sub_commit}^{{commit}}"], head_sub, check=False)
        if have.returncode != 0:
            tree.warnings.append(
                f"submodule {label}: base commit {sub_commit[:12]} is not available locally, so "
                "all its findings count as new (fetch the submodule's history)"
            )
            continue
        if target.exists() and any(target.iterdir()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rmdir()
        _add_worktree(head_sub, sub_commit, target, tree)
        tree.submodules.append((label, head_sub, sub_commit))
        _add_submodules(head_sub, sub_commit, target, f"{label}/", tree, depth + 1)


def checkout_base(toplevel: Path, commit: str, into: Path) -> BaseTree:
    """Check out `commit` (and the submodules it records) below `into`."""
    tree = BaseTree(into / "tree")
    try:
        _add_worktree(toplevel, commit, tree.path, tree)
        _add_submodules(toplevel, commit, tree.path, "", tree, 0)
    except Exception:
        remove_base(tree)
        raise
    return tree


def remove_base(tree: BaseTree) -> None:
    for repo, worktree in reversed(tree.worktrees):
        git(["worktree", "remove", "--force", "--force", str(worktree)], repo, check=False)
    for repo in dict.fromkeys(repo for repo, _ in tree.worktrees):
        git(["worktree", "prune"], repo, check=False)
    tree.worktrees.clear()


def _parse_name_status(raw: bytes, base: str = "") -> dict[str, str]:
    """old -> new for the renames in `git diff -M --name-status -z` output."""
    fields = raw.split(b"\0")
    renames: dict[str, str] = {}
    i = 0
    while i < len(fields):
        status = fields[i].decode("ascii", "replace")
        if not status:
            i += 1
            continue
        if status[0] in "RC":
            old = fields[i + 1].decode("utf-8", "surrogateescape")
            new = fields[i + 2].decode("utf-8", "surrogateescape")
            if status[0] == "R":
                renames[base + old] = base + new
            i += 3
        else:
            i += 2
    return renames


def renames_since(
    toplevel: Path, commit: str, submodules: Sequence[tuple[str, Path, str]]
) -> dict[str, str]:
    """Renames between `commit` and the working tree (top-level relative paths), including
    renames inside the submodules checked out for the base."""
    renames = _parse_name_status(
        git(["diff", "-M", "--name-status", "-z", commit, "--"], toplevel).stdout
    )
    for label, repo, sub_commit in submodules:
        done = git(["diff", "-M", "--name-status", "-z", sub_commit, "--"], repo, check=False)
        if done.returncode == 0:
            renames.update(_parse_name_status(done.stdout, f"{label}/"))
    return renames


def relative_renames(renames: Mapping[str, str], prefix: str) -> dict[str, str]:
    """Renames as paths relative to the scanned root (both ends inside it)."""
    out: dict[str, str] = {}
    for old, new in renames.items():
        if old.startswith(prefix) and new.startswith(prefix):
            out[old[len(prefix) :]] = new[len(prefix) :]
    return out


LogicalKey = tuple[str, str, "str | None", "str | None"]  # rule, file, resource, named path


def logical_keys(findings: Sequence[Finding]) -> list[LogicalKey]:
    """What a finding's logical fingerprint is made of (its property path with list items
    named: Finding.logical_path), once per distinct finding, in order."""
    return list(dict.fromkeys((f.rule_id, f.file, f.resource, f.logical_path) for f in findings))


def base_fingerprints(keys: Sequence[LogicalKey], renames: Mapping[str, str]) -> set[str]:
    """REF's logical fingerprints (from `logical_keys`), recomputed with each file's name in
    the current tree."""
    return {
        fingerprint(rule_id, renames.get(file, file), resource, named)
        for rule_id, file, resource, named in keys
    }


def _live(f: Finding) -> bool:
    """Findings of the live AWS review (deployed stacks, drift): a change to the repository
    does not introduce them, and REF is not reviewed live again."""
    return f.file.startswith("aws://") or f.layer == "DRF"


def mark_new(report: Report, fingerprints: set[str], ref: str) -> Report:
    marked = tuple(
        evolve(f, new=not _live(f) and f.fingerprint not in fingerprints) for f in report.findings
    )
    return replace(report, findings=marked, diff_base=ref)


BASE_KIND = "base"


def _base_key(toplevel: Path, commit: str, prefix: str, options: ScanOptions) -> str | None:
    """The cache key of REF's findings (see the module docstring), or None: no cache, or a
    value that has no stable digest."""
    if options.cache_dir is None:
        return None
    from reviewer.runner.pipeline import options_key

    scan_key = options_key(options)
    if scan_key is None:
        return None
    tree = git(["rev-parse", "--verify", "--quiet", f"{commit}^{{tree}}"], toplevel, check=False)
    if tree.returncode != 0:
        return None
    from reviewer.cache.store import digest

    return digest(BASE_KIND, scan_key, _out(tree), prefix)


def _cached_base(options: ScanOptions, key: str | None) -> dict[str, Any] | None:
    if key is None or options.cache_dir is None:
        return None
    from reviewer.cache.store import Cache

    saved = Cache.open(options.cache_dir).get(BASE_KIND, key)
    if (
        isinstance(saved, dict)
        and isinstance(saved.get("keys"), list)
        and isinstance(saved.get("inline"), list)
        and isinstance(saved.get("submodules"), list)
        and isinstance(saved.get("findings"), tuple)
        and isinstance(saved.get("layers"), tuple)
        and "score" in saved
    ):
        return saved
    return None


def _store_base(options: ScanOptions, key: str | None, value: dict[str, Any]) -> None:
    if key is None or options.cache_dir is None:
        return
    from reviewer.cache.store import Cache

    cache = Cache.open(options.cache_dir)
    cache.put(BASE_KIND, key, value)
    cache.prune((), whole=(BASE_KIND,), keep=4)


_NO_ADR = AdrText("", "", "", ())


def _checkout_artifact(f: Finding) -> bool:
    """A finding about the base's checkout rather than its content: the base is a `git worktree`
    whose `.git` is a link file the scan does not follow (AR-MOD-006 at `.git`), which the
    head's own checkout does not have. A change cannot fix it."""
    return f.file.rsplit("/", 1)[-1] == ".git"


def fixed_findings(
    base: Sequence[Finding], head: Sequence[Finding], renames: Mapping[str, str]
) -> tuple[tuple[Finding, ...], int, tuple[tuple[str, str, int], ...]]:
    """What a change fixed: the base's unsuppressed findings whose logical fingerprint, with
    each file's name in the current tree, no finding of the head has (suppressed or not: a
    finding the head suppresses is accepted or hidden, not fixed). Returns at most MAX_FIXED
    of them, most severe first (with their base file and line), how many there are in all, and
    (severity, rule id, count) of every one, most severe first."""
    present = {f.fingerprint for f in head}
    gone: list[Finding] = []
    for f in base:
        if f.suppressed is not None or _live(f) or _checkout_artifact(f):
            continue
        key = fingerprint(f.rule_id, renames.get(f.file, f.file), f.resource, f.logical_path)
        if key not in present:
            gone.append(f)
    counts: dict[tuple[Severity, str], int] = {}
    for f in gone:
        counts[(f.severity, f.rule_id)] = counts.get((f.severity, f.rule_id), 0) + 1
    order = sorted(counts, key=lambda k: (-k[0].rank, -counts[k], k[1]))
    gone.sort(key=lambda f: (-f.severity.rank, f.sort_key()))
    kept = tuple(evolve(f, new=None) for f in gone[:MAX_FIXED])
    return kept, len(gone), tuple((sev.value, rule, counts[(sev, rule)]) for sev, rule in order)


# -- review inputs (what a pull request can edit to change the review itself) ------------------

NOT_REVIEWED_RULES = ("AR-MOD-001", "AR-MOD-005", "AR-MOD-006")
_AGENT_FOLDERS = (".claude/agents/", ".github/agents/")


@dataclass(frozen=True)
class ReviewInputs:
    """The job's own choices, which a pull request cannot edit: they are the same for the base
    and the head. A repository's profile, agent definitions, baseline file, inline suppressions
    and ignore files are review inputs the pull request can edit (`input_kind`)."""

    profile_option: str | None = None  # --profile FILE (then the repository's are not read)
    excludes: tuple[str, ...] = ()  # --exclude
    baseline_path: str | None = None  # --baseline FILE
    base_profile: bool = False  # --base-profile: judge with the base's review inputs


def not_reviewed(findings: Sequence[Finding]) -> tuple[str, ...]:
    """One line per finding that says something was not reviewed (AR-MOD-001: a module not
    checked out; AR-MOD-005: a check that crashed; AR-MOD-006: a file skipped or over a
    budget), unsuppressed, in report order. These weigh nothing in the scores;
    --fail-on-incomplete fails the gate on any of them."""
    return tuple(
        f"{f.rule_id} {f.file}: {f.message}"
        for f in findings
        if f.rule_id in NOT_REVIEWED_RULES and f.suppressed is None
    )


def input_kind(path: str, baseline: str | None = None) -> str | None:
    """The kind of review input `path` (relative to the scanned root) is, or None: `profile`
    (any .archreview.yml or .archreview.yaml: the root's or a module's), `agent` (an agent
    definition that can win discovery), `baseline` (the --baseline file), `ignore` (a
    .gitignore), `rules` (a custom rule file below .archreview/rules/)."""
    name = path.rsplit("/", 1)[-1]
    if baseline is not None and path == baseline:
        return "baseline"
    if name in (".archreview.yml", ".archreview.yaml"):
        return "profile"
    if name.lower().endswith(".agent.md"):
        return "agent"
    if name.lower().endswith(".md") and any(
        path.startswith(folder) or f"/{folder}" in path for folder in _AGENT_FOLDERS
    ):
        return "agent"
    if name == ".gitignore":
        return "ignore"
    if (path.startswith(".archreview/rules/") or "/.archreview/rules/" in path) and name.endswith(
        (".yaml", ".yml")
    ):
        return "rules"  # the repository's own rules (reviewer.checks.custom)
    return None


def _changed_paths(raw: bytes) -> list[str]:
    """Every path `git diff -M --name-status -z` names (both ends of a rename or copy)."""
    fields = raw.split(b"\0")
    out: list[str] = []
    i = 0
    while i < len(fields):
        status = fields[i].decode("ascii", "replace")
        if not status:
            i += 1
            continue
        width = 2 if status[0] in "RC" else 1
        out.extend(f.decode("utf-8", "surrogateescape") for f in fields[i + 1 : i + 1 + width] if f)
        i += 1 + width
    return out


def changed_inputs(
    toplevel: Path, commit: str, prefix: str, baseline: str | None
) -> list[tuple[str, str]]:
    """(path, kind) of the review inputs changed between `commit` and the working tree, paths
    relative to the scanned root (`prefix` in the repository), in path order."""
    raw = git(["diff", "-M", "--name-status", "-z", commit, "--"], toplevel).stdout
    found: dict[str, str] = {}
    for path in _changed_paths(raw):
        if not path.startswith(prefix):
            continue
        rel = path[len(prefix) :]
        kind = input_kind(rel, baseline)
        if kind is not None:
            found[rel] = kind
    return sorted(found.items())


def _repo_relative(path: str | None, toplevel: Path, prefix: str) -> str | None:
    """`path` (a --baseline file) relative to the scanned root when it lies inside it."""
    if path is None:
        return None
    try:
        rel = Path(path).resolve().relative_to(toplevel.resolve()).as_posix()
    except (OSError, ValueError):
        return None
    return rel[len(prefix) :] if rel.startswith(prefix) else None


def _base_inputs(
    base_root: Path, inputs: ReviewInputs, toplevel: Path, prefix: str, into: Path
) -> tuple[ScanOptions | None, list[str]]:
    """The profile and baseline of the base (its .archreview.yml or agent definition, and its
    version of the --baseline file when that is in the repository), or None and why not."""
    from reviewer.findings.suppress import read_baseline
    from reviewer.profile.loader import ProfileError, resolve_profile

    warnings: list[str] = []
    try:
        profile = resolve_profile(base_root, inputs.profile_option)
    except ProfileError as err:
        return None, [f"the base's profile cannot be used ({err}): its inputs are not compared"]
    if inputs.excludes:
        profile = replace(profile, exclude_paths=(*profile.exclude_paths, *inputs.excludes))
    baseline: dict[str, str] | None = None
    rel = _repo_relative(inputs.baseline_path, toplevel, prefix)
    if inputs.baseline_path is not None and rel is None:  # outside the repository: the job's
        try:
            baseline = read_baseline(Path(inputs.baseline_path))
        except ValueError as err:
            warnings.append(str(err))
    elif rel is not None:  # the base's version, as checked out (never through a link out)
        from reviewer.discover.inventory import read_text

        text = read_text(base_root, rel)
        if isinstance(text, str):
            copy = into / "base-baseline.json"
            copy.write_text(text, encoding="utf-8", errors="surrogatepass")
            try:
                baseline = read_baseline(copy)
            except ValueError:
                warnings.append(f"the base's {rel} is not a usable baseline: it is not applied")
    return ScanOptions(profile=profile, baseline=baseline), warnings


def _inline_suppressed(findings: Sequence[Finding]) -> list[LogicalKey]:
    return logical_keys([f for f in findings if f.suppressed and f.suppressed.kind == "inline"])


def hidden_by_inputs(
    head: Report, judged: Sequence[Finding], base_inline: set[str]
) -> tuple[Finding, ...]:
    """Findings that the base's review inputs report and the head's hide. `judged`: the head's
    tree judged with the base's profile and baseline (or the head's own findings when those did
    not change); `base_inline`: fingerprints the base suppressed inline. A finding of `judged`
    counts as reported when it is unsuppressed, or suppressed inline where the base was not
    (a suppression the change adds); it is hidden when the head does not report it
    unsuppressed, or reports it at a lower severity. Risks the change both introduces and
    accepts are `accepted_new`, not listed here."""
    shown = {f.fingerprint: f for f in head.findings if f.suppressed is None}
    accepted = {f.fingerprint for f in head.findings if f.new and f.suppressed is not None}
    out: list[Finding] = []
    for f in judged:
        if f.suppressed is not None and not (
            f.suppressed.kind == "inline" and f.fingerprint not in base_inline
        ):
            continue
        if f.fingerprint in accepted:
            continue
        mine = shown.get(f.fingerprint)
        if mine is None or mine.severity.rank < f.severity.rank:
            out.append(evolve(f, suppressed=None, new=None))
    return tuple(out)


def compare_with_base(
    root: Path,
    ref: str,
    options: ScanOptions,
    report: Report,
    inputs: ReviewInputs | None = None,
) -> tuple[Report, list[str]]:
    """The current `report` with every finding marked new or existing against REF, its PR diff
    (`Report.pr`: new accepted risks, the review inputs the change edits and what they hide,
    what was not reviewed, what it fixed, the base's scores), and any warnings (submodules whose base could not be checked out,
    a base profile that cannot be used). With `inputs.base_profile` the findings are those of
    the head's tree judged with the base's profile and baseline (`judged_with="base"`)."""
    inputs = inputs or ReviewInputs()
    toplevel, prefix, commit = resolve(root, ref)
    baseline_rel = _repo_relative(inputs.baseline_path, toplevel, prefix)
    edited = changed_inputs(toplevel, commit, prefix, baseline_rel)
    judge = inputs.base_profile or any(k != "ignore" for _, k in edited)
    warnings: list[str] = []
    base_options = replace(options, baseline=None, aws=None)
    saved = (
        None
        if judge
        else _cached_base(base_options, _base_key(toplevel, commit, prefix, base_options))
    )
    if saved is not None:  # REF scanned before, with everything that shapes its findings
        submodules = [(label, Path(repo), sub) for label, repo, sub in saved["submodules"]]
        renames = relative_renames(renames_since(toplevel, commit, submodules), prefix)
        keys, inline = saved["keys"], saved.get("inline") or []
        base_shown: tuple[Finding, ...] = saved["findings"]
        base_score: ScoreBlock | None = saved["score"]
        base_layers: tuple[tuple[str, ScoreBlock], ...] = saved["layers"]
        judged = report
    else:
        workdir = Path(tempfile.mkdtemp(prefix="archreview-base-"))
        try:
            tree = checkout_base(toplevel, commit, workdir)
            warnings.extend(tree.warnings)
            try:
                renames = relative_renames(renames_since(toplevel, commit, tree.submodules), prefix)
                base_root = tree.path / prefix if prefix else tree.path
                judged = report
                if judge and base_root.is_dir():
                    chosen, why = _base_inputs(base_root, inputs, toplevel, prefix, workdir)
                    warnings.extend(why)
                    if chosen is not None:
                        head_options = replace(
                            options, profile=chosen.profile, baseline=chosen.baseline, aws=None
                        )
                        judged = scan(root, head_options)
                        if inputs.base_profile:
                            base_options = replace(head_options, baseline=None)
                base_findings: tuple[Finding, ...] = ()
                base_score, base_layers = None, ()
                if base_root.is_dir():
                    base_report = scan(base_root, base_options)
                    base_findings = base_report.findings
                    base_score, base_layers = base_report.score, base_report.layers
                    del base_report
            finally:
                remove_base(tree)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        keys = logical_keys(base_findings)
        inline = _inline_suppressed(base_findings)
        # kept lean (no ADR text, no source line: a fixed finding is listed, not explained)
        base_shown = tuple(
            evolve(f, adr=_NO_ADR, source=None)
            for f in base_findings
            if f.suppressed is None and not _live(f)
        )
        del base_findings
        if not tree.warnings and not inputs.base_profile:
            kept = [(label, str(repo), sub) for label, repo, sub in tree.submodules]
            key = _base_key(toplevel, commit, prefix, base_options)
            _store_base(
                base_options,
                key,
                {
                    "keys": keys,
                    "inline": inline,
                    "submodules": kept,
                    "findings": base_shown,
                    "score": base_score,
                    "layers": tuple(base_layers),
                },
            )
    if inputs.base_profile and judged is not report:
        head = judged
        judged_with = "base"
    else:
        head = report
        judged_with = "head"
    marked = mark_new(head, base_fingerprints(keys, renames), ref)
    base_inline = base_fingerprints(inline, renames)
    hidden = hidden_by_inputs(marked, judged.findings, base_inline)
    suppressions = sorted(
        {
            f.file
            for f in marked.findings
            if f.suppressed is not None
            and f.suppressed.kind == "inline"
            and not f.new
            and f.fingerprint not in base_inline
        }
    )
    fixed, fixed_total, fixed_counts = fixed_findings(base_shown, marked.findings, renames)
    listed = dict(edited)
    for file in suppressions:
        listed.setdefault(file, "suppressions")
    pr = PrDiff(
        accepted_new=tuple(f for f in marked.findings if f.new and f.suppressed is not None),
        changed_inputs=tuple(sorted(listed.items())),
        hidden_by_inputs=hidden,
        incomplete=not_reviewed(marked.findings),
        judged_with=judged_with,
        fixed=fixed,
        fixed_total=fixed_total,
        fixed_counts=fixed_counts,
        base_score=base_score,
        base_layers=tuple(base_layers),
    )
    return replace(marked, pr=pr), warnings
