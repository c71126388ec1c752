"""Time archreview on a real corpus and on a generated super-repository.

    .venv/bin/python bench/run.py [--repeat 3] [--generate 562] [--peers] [--cmd CMD] ...

For each target (the serverless-patterns corpus when it is there, and a generated tree of N
templates) it runs every tool --repeat times, alternating the tools round by round, and reports
wall time (median, min-max, spread), CPU time (user+sys of the children), the peak RSS and PSS of
the process tree, and the ratio to a decode-only baseline (bench/decode_only.py: find the same
templates and decode each with cfnlint.decode in one process). archreview is timed cold (no
cache), warm with nothing changed, and warm after editing one template (each with a cache of its
own in a temporary folder); --diff-base also times `scan --diff-base` on a git copy of the
largest generated tree with one template changed; several --generate sizes print the scaling.
--peers also times checkov and cfn-lint, installed into bench/.venv-peers/ with pip. Standard
library only; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from decode_only import find_templates  # noqa: E402  (stdlib only)
from generate import DEFAULT_SEED, DEFAULT_TEMPLATES, generate  # noqa: E402

DEFAULT_CORPUS = "../shared/corpora/serverless-patterns"  # relative to the repository root
ARCHREVIEW_CMD = (
    "{python} -m reviewer scan {path} --format json --output /dev/null --fail-on never --no-cache"
)
OPTIONAL_FLAGS = ("--no-cache",)  # dropped, with a notice, when `scan --help` lacks them
WARM_CMD = (  # a cache of its own per row, outside the scanned tree
    "{python} -m reviewer scan {path} --format json --output /dev/null --fail-on never "
    "--cache-dir {cache}"
)
EDIT_MARK = "# archreview bench edit"
DECODE_CMD = "{python} {bench}/decode_only.py {path}"
PEER_VENVS = BENCH / ".venv-peers"
PEER_SPECS = {"checkov": "checkov", "cfn-lint": "cfn-lint"}
SAMPLE_SECONDS = 0.02

# The corpus files that make cfn-lint 1.58's rule engine abort the whole run (an empty top-level
# section). Read from shared/corpora/README.md when it is there; this copy is the fallback.
CRASHING_PEERS_FALLBACK = (
    "_pattern-model/template.yaml",
    "apigw-lambda-sagemaker-jumpstartendpoint-cdk-python/template.yaml",
    "dynamodb-lambda-cdk-kotlin/template.yaml",
    "kinesis-lambda-ddb-cdk-java/template.yaml",
    "kinesis-lambda-py-cdk/template.yaml",
    "eventbridge-schedule-stepfunctions-sam/template.yaml",
)


# --------------------------------------------------------------------------- measuring


def _has_children_files() -> bool:
    return os.path.exists(f"/proc/self/task/{os.getpid()}/children")


_CHILDREN_FILES = _has_children_files()
_PROC = os.path.isdir("/proc/self")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    if _CHILDREN_FILES:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return kids
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    kids.extend(int(x) for x in fh.read().split())
            except OSError:
                continue
        return kids
    # No CONFIG_PROC_CHILDREN: find the children by their parent id.
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == pid:
            kids.append(int(entry))
    return kids


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0  # gone, or a zombie (no VmRSS line)


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_pss_kib(pid: int) -> int:
    """Sum of Pss (proportional set size: a page shared by n processes counts 1/n in each)
    over ``pid`` and its descendants, in KiB: the tree's real memory, forked workers included."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _pss_kib(p)
        stack.extend(_children(p))
    return total


def tree_rss_kib(pid: int) -> int:
    """Sum of VmRSS over ``pid`` and all its descendants, in KiB."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_kib(p)
        stack.extend(_children(p))
    return total


@dataclass
class Run:
    wall: float
    cpu: float
    peak_kib: int | None
    rc: int | None  # None: killed at the timeout
    note: str  # last stdout line (decode-only prints its summary there)
    stderr_tail: str
    peak_pss_kib: int | None = None


def measure(argv: list[str], cwd: Path, timeout: float) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
        )
        peak = peak_pss = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, peak_pss
            while not done.is_set():
                peak = max(peak, tree_rss_kib(proc.pid))
                peak_pss = max(peak_pss, tree_pss_kib(proc.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        if _PROC:
            sampler.start()
        rc: int | None
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group of the process this run started
            proc.wait()
            rc = None
        wall = time.perf_counter() - t0
        done.set()
        if _PROC:
            sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.seek(0)
        err.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
        stderr = err.read().decode("utf-8", "replace").strip()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(
        wall,
        cpu,
        peak if _PROC else None,
        rc,
        lines[-1] if lines else "",
        stderr[-2000:],
        peak_pss if _PROC else None,
    )


# --------------------------------------------------------------------------- tools and targets


@dataclass
class Tool:
    name: str
    argv: list[str]
    cwd: Path
    note: str = ""
    ours: bool = False  # archreview or the baseline: warmed up, must exit 0
    runs: list[Run] = field(default_factory=list)
    before: Callable[[], None] | None = None  # run before each run, untimed (an edit)
    after: Callable[[], None] | None = None  # run after each run, untimed (undo it)

    def run(self, timeout: float) -> Run:
        if self.before is not None:
            self.before()
        try:
            return measure(self.argv, self.cwd, timeout)
        finally:
            if self.after is not None:
                self.after()


@dataclass
class Target:
    name: str
    path: Path
    templates: list[str]
    excluded_for_peers: list[str]
    tools: list[Tool] = field(default_factory=list)


def _expand(cmd: str, python: str, path: Path) -> list[str]:
    return [
        part.format(python=python, path=str(path), bench=str(BENCH), repo=str(REPO))
        for part in shlex.split(cmd)
    ]


def corpus_exclusions(corpus: Path) -> tuple[list[str], str]:
    """The corpus files listed as crashing the peers, and where the list came from."""
    readme = corpus.parent / "README.md"
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError:
        return list(CRASHING_PEERS_FALLBACK), "built-in list (corpus README not found)"
    m = re.search(r"abort the whole\s+run:(.*?)\n\s*\n", text, re.S)
    names = re.findall(r"[\w.\-]+(?:/[\w.\-]+)*/[\w.\-]+\.ya?ml", m.group(1)) if m else []
    if not names:
        return list(CRASHING_PEERS_FALLBACK), f"built-in list ({readme} not understood)"
    return names, str(readme)


def ensure_peer(name: str, spec: str) -> tuple[Path, str]:
    """Install ``spec`` into bench/.venv-peers/NAME once; return its executable and version."""
    venv = PEER_VENVS / name
    exe = venv / "bin" / name
    if not exe.exists():
        print(f"installing {spec} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, spec], check=True)
    res = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    version = (res.stdout or res.stderr).strip().splitlines()
    return exe, (version[-1] if version else "?")


def add_peers(target: Target, peers: dict[str, tuple[Path, str]]) -> None:
    skip = set(target.excluded_for_peers)
    files = [t for t in target.templates if t not in skip]
    if "checkov" in peers:
        exe, version = peers["checkov"]
        argv = [
            str(exe),
            "-d",
            ".",
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "--quiet",
            "--skip-download",
        ]
        for rel in target.excluded_for_peers:
            argv += ["--skip-path", "(^|/)" + re.escape(rel) + "$"]
        target.tools.append(
            Tool("checkov", argv, target.path, f"checkov {version}: -d (its own discovery)")
        )
    if "cfn-lint" in peers:
        exe, version = peers["cfn-lint"]
        argv = [str(exe), "-f", "json", "--", *files]
        target.tools.append(Tool("cfn-lint", argv, target.path, f"{version}: {len(files)} files"))


# --------------------------------------------------------------------------- reporting


def _fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def summarise(tool: Tool) -> dict[str, object]:
    walls = [r.wall for r in tool.runs]
    cpus = [r.cpu for r in tool.runs]
    peaks = [r.peak_kib for r in tool.runs if r.peak_kib is not None]
    psss = [r.peak_pss_kib for r in tool.runs if r.peak_pss_kib is not None]
    med = statistics.median(walls)
    return {
        "runs": len(walls),
        "wall_median": med,
        "wall_min": min(walls),
        "wall_max": max(walls),
        "spread_pct": (max(walls) - min(walls)) / med * 100 if med else 0.0,
        "cpu_median": statistics.median(cpus),
        "peak_mib": max(peaks) / 1024 if peaks else None,
        "peak_pss_mib": max(psss) / 1024 if psss else None,
        "exit_codes": sorted({("timeout" if r.rc is None else r.rc) for r in tool.runs}, key=str),
    }


def print_table(target: Target) -> None:
    base = next((t for t in target.tools if t.name == "decode-only" and t.runs), None)
    base_wall = summarise(base)["wall_median"] if base else None
    ours = next(
        (t for t in target.tools if t.name in ("archreview", "custom-cmd") and t.runs), None
    )
    ours_wall = summarise(ours)["wall_median"] if ours else None
    header = (
        "tool",
        "runs",
        "wall median",
        "wall min-max",
        "spread",
        "CPU median",
        "CPU/wall",
        "peak RSS",
        "peak PSS",
        "x decode",
        "x archreview",
        "exit",
    )
    rows = [header]
    for tool in target.tools:
        if not tool.runs:
            continue
        s = summarise(tool)
        wall = float(s["wall_median"])  # type: ignore[arg-type]
        cpu = float(s["cpu_median"])  # type: ignore[arg-type]
        rows.append(
            (
                tool.name,
                str(s["runs"]),
                _fmt_s(wall),
                f"{s['wall_min']:.2f}-{s['wall_max']:.2f} s",
                f"{s['spread_pct']:.0f} %",
                _fmt_s(cpu),
                f"{cpu / wall:.2f}" if wall else "-",
                f"{s['peak_mib']:.0f} MiB" if s["peak_mib"] is not None else "n/a",
                f"{s['peak_pss_mib']:.0f} MiB" if s["peak_pss_mib"] is not None else "n/a",
                f"{wall / float(base_wall):.2f}x" if base_wall else "-",  # type: ignore[arg-type]
                f"{wall / float(ours_wall):.1f}x" if ours_wall else "-",  # type: ignore[arg-type]
                ",".join(str(c) for c in s["exit_codes"]),  # type: ignore[attr-defined]
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))
    for tool in target.tools:
        notes = [tool.note] if tool.note else []
        last = tool.runs[-1] if tool.runs else None
        if last and last.note and tool.ours:
            notes.append(last.note)
        failed = [r for r in tool.runs if r.rc != 0 and tool.ours]
        if failed:
            tail = failed[-1].stderr_tail.strip().splitlines()[-5:]
            joined = "\n      ".join(tail)
            notes.append(f"FAILED (exit {failed[-1].rc}); stderr ends:\n      {joined}")
        for note in notes:
            print(f"  {tool.name}: {note}")


def run_target(target: Target, repeat: int, warmup: int, timeout: float) -> None:
    print(f"\n== {target.name}: {target.path}")
    print(f"   {len(target.templates)} templates (decode_only.py's discovery)")
    if target.excluded_for_peers and any(t.name in ("checkov", "cfn-lint") for t in target.tools):
        print(
            f"   peers skip {len(target.excluded_for_peers)} files that crash them: "
            + ", ".join(target.excluded_for_peers)
        )
    for tool in target.tools:
        if tool.ours:
            for _ in range(max(warmup, 1 if tool.before is not None or "warm" in tool.name else 0)):
                tool.run(timeout)  # a warm row needs its cache filled first
    for r in range(repeat):
        order = target.tools[r % len(target.tools) :] + target.tools[: r % len(target.tools)]
        for tool in order:
            run = tool.run(timeout)
            tool.runs.append(run)
            rc = "timeout" if run.rc is None else run.rc
            peak = f"{run.peak_kib / 1024:.0f} MiB" if run.peak_kib is not None else "n/a"
            print(
                f"   round {r + 1}/{repeat} {tool.name:<12} {run.wall:7.2f} s wall "
                f"{run.cpu:7.2f} s CPU {peak:>9} exit {rc}",
                flush=True,
            )
    print()
    print_table(target)


# --------------------------------------------------------------------------- warm rows


def _edit_hooks(path: Path) -> tuple[Callable[[], None], Callable[[], None]]:
    """Before a run: append a comment (new content every time) to one template; after: put
    the original back. So each run sees exactly one template changed since the cache last saw
    the tree, and the other rows never see the edit."""
    original = path.read_bytes()
    count = [0]

    def before() -> None:
        count[0] += 1
        path.write_bytes(original + f"\n{EDIT_MARK} {count[0]}\n".encode())

    def after() -> None:
        path.write_bytes(original)

    return before, after


def _edited_template(target: Target) -> Path:
    """The template the warm-edit rows change: a YAML one from the middle of the list."""
    yaml_files = [t for t in target.templates if t.endswith((".yaml", ".yml"))] or target.templates
    return target.path / yaml_files[len(yaml_files) // 2]


def add_warm_rows(target: Target, python: str, tmp: Path, extra: str) -> None:
    safe = re.sub(r"[^\w.-]", "_", target.name)
    for name, edited in (("warm", False), ("warm-1-edit", True)):
        cache = tmp / f"cache-{name}-{safe}"
        cmd = WARM_CMD.replace("{cache}", str(cache)) + (f" {extra}" if extra else "")
        tool = Tool(name, _expand(cmd, python, target.path), REPO, ours=True)
        if edited:
            changed = _edited_template(target)
            tool.before, tool.after = _edit_hooks(changed)
            tool.note = f"edits {changed.relative_to(target.path)} before each run"
        else:
            tool.note = "cache filled by the warm-up run; nothing changed"
        target.tools.append(tool)


def add_diff_base_row(target: Target, python: str, tmp: Path, extra: str) -> None:
    """`scan --diff-base HEAD` on a git copy of the tree: HEAD is the tree as generated, the
    working copy has one template edited (anew before each run); the warm-up run fills the
    cache for the base and the head."""
    repo = tmp / f"git-{target.name}"
    shutil.copytree(target.path, repo)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@invalid",
    }
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *step], cwd=repo, check=True, env=env, capture_output=True)
    cache = tmp / f"cache-diff-base-{target.name}"
    cmd = (
        WARM_CMD.replace("{cache}", str(cache))
        + " --diff-base HEAD"
        + (f" {extra}" if extra else "")
    )
    tool = Tool("diff-base", _expand(cmd, python, repo), REPO, ours=True)
    changed = repo / _edited_template(target).relative_to(target.path)
    tool.before, tool.after = _edit_hooks(changed)
    tool.note = f"git copy, HEAD = as generated, {changed.relative_to(repo)} edited before each run"
    target.tools.append(tool)


def print_scaling(targets: list[Target]) -> None:
    """archreview cold and decode-only on each generated size, against the smallest."""
    generated = sorted(
        (t for t in targets if t.name.startswith("generated-") and t.tools and t.tools[0].runs),
        key=lambda t: len(t.templates),
    )
    if len(generated) < 2:
        return
    print("\n== scaling (wall medians against the smallest generated tree)")
    small = generated[0]
    for big in generated[1:]:
        size = len(big.templates) / len(small.templates)
        for name in ("archreview", "custom-cmd", "decode-only"):
            a = next((t for t in small.tools if t.name == name and t.runs), None)
            b = next((t for t in big.tools if t.name == name and t.runs), None)
            if a is None or b is None:
                continue
            wa = float(summarise(a)["wall_median"])  # type: ignore[arg-type]
            wb = float(summarise(b)["wall_median"])  # type: ignore[arg-type]
            print(
                f"   {name:<12} {big.name} / {small.name}: {wb:.2f} s / {wa:.2f} s = "
                f"{wb / wa:.2f}x time for {size:.1f}x templates"
            )


# --------------------------------------------------------------------------- main


def _scan_help_run(python: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            [python, "-m", "reviewer", "scan", "--help"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def _scan_help(python: str) -> str:
    res = _scan_help_run(python)
    return res.stdout if res is not None else ""


def _default_python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _drop_unsupported(cmd: str, python: str) -> str:
    """Leave out the optional flags this checkout's `scan` does not know yet (saying so)."""
    res = _scan_help_run(python)
    if res is None or res.returncode != 0:
        return cmd  # let the timed runs show the failure
    for flag in OPTIONAL_FLAGS:
        if flag in cmd.split() and flag not in res.stdout:
            print(f"note: this archreview's scan has no {flag}; timing without it")
            cmd = " ".join(part for part in cmd.split() if part != flag)
    return cmd


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time archreview (see bench/README.md).")
    ap.add_argument(
        "--repeat", type=int, default=3, help="measured runs per tool and target (default 3)"
    )
    ap.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="unmeasured runs of archreview and decode-only first (default 1)",
    )
    ap.add_argument(
        "--generate",
        type=int,
        action="append",
        metavar="N",
        help=f"templates in a generated tree (default {DEFAULT_TEMPLATES}; 0: none); repeat it "
        "(--generate 562 --generate 5620) for the scaling line",
    )
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument(
        "--corpus",
        default=DEFAULT_CORPUS,
        help=f"corpus folder, relative to the repository root (default {DEFAULT_CORPUS})",
    )
    ap.add_argument("--no-corpus", action="store_true", help="skip the corpus")
    ap.add_argument(
        "--python",
        default=_default_python(),
        help="interpreter for archreview and decode-only (default: the project's .venv)",
    )
    ap.add_argument(
        "--cmd",
        help="command to time instead of archreview's, with {python} and {path} "
        f"(default: {ARCHREVIEW_CMD!r})",
    )
    ap.add_argument(
        "--archreview-args", default="", help="extra arguments appended to the archreview command"
    )
    ap.add_argument(
        "--peers",
        action="store_true",
        help="also time checkov and cfn-lint (installed into bench/.venv-peers with pip)",
    )
    ap.add_argument(
        "--checkov-spec", default=PEER_SPECS["checkov"], help="pip requirement for checkov"
    )
    ap.add_argument(
        "--cfn-lint-spec", default=PEER_SPECS["cfn-lint"], help="pip requirement for cfn-lint"
    )
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds before a run is killed")
    ap.add_argument(
        "--keep", metavar="DIR", help="write the generated trees under DIR and keep them"
    )
    ap.add_argument(
        "--no-warm",
        action="store_true",
        help="skip the warm rows (nothing changed; one template edited)",
    )
    ap.add_argument(
        "--diff-base",
        action="store_true",
        help="also time `scan --diff-base` on a git copy of the largest generated tree, one "
        "template changed, base already cached",
    )
    ap.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    sizes = [n for n in (args.generate or [DEFAULT_TEMPLATES]) if n > 0]

    label = "archreview" if not args.cmd else "custom-cmd"
    print(
        f"archreview bench: python {platform.python_version()} on {platform.system()} "
        f"{platform.release()}, {os.cpu_count()} CPUs; repeat {args.repeat}, warm-up {args.warmup}"
    )
    cmd = args.cmd or ARCHREVIEW_CMD
    if not args.cmd:
        cmd = _drop_unsupported(cmd, args.python)
    if args.archreview_args:
        cmd = f"{cmd} {args.archreview_args}"
    print(f"timed command: {cmd}" + ("   (--cmd override)" if args.cmd else ""))
    if not _PROC:
        print("note: no /proc here, so peak RSS is not measured")

    peers: dict[str, tuple[Path, str]] = {}
    if args.peers:
        for name, spec in (("checkov", args.checkov_spec), ("cfn-lint", args.cfn_lint_spec)):
            peers[name] = ensure_peer(name, spec)

    targets: list[Target] = []
    tmp: str | None = None
    corpus = (REPO / args.corpus).resolve()
    if args.no_corpus:
        pass
    elif corpus.is_dir():
        excluded, source = corpus_exclusions(corpus)
        present = set(find_templates(corpus))
        excluded = [e for e in excluded if e in present]
        targets.append(Target("serverless-patterns", corpus, sorted(present), excluded))
        if args.peers:
            print(
                f"peers: excluding {len(excluded)} corpus files listed as crashing them in {source}"
            )
    else:
        print(f"skipping the corpus: {corpus} is absent")

    tmp = tempfile.mkdtemp(prefix="archreview-bench-")
    try:
        for size in sizes:
            base_dir = Path(args.keep).resolve() if args.keep else Path(tmp)
            gen_root = base_dir / f"super-repo-{size}"
            stats = generate(gen_root, size, args.seed)
            print(
                f"generated {stats.templates} templates ({stats.sam} SAM, {stats.plain_yaml} plain YAML, "
                f"{stats.plain_json} plain JSON), {stats.go_mod} go.mod, {stats.package_json} package.json, "
                f"{stats.modules} modules, {stats.bytes / 1e6:.2f} MB, seed {args.seed} -> {gen_root}"
            )
            targets.append(Target(f"generated-{size}", gen_root, find_templates(gen_root), []))

        if not targets:
            print("nothing to time")
            return 1
        warm = not args.cmd and not args.no_warm
        if warm and "--cache-dir" not in _scan_help(args.python):
            print("note: this archreview's scan has no --cache-dir; no warm rows")
            warm = False
        diff_target = max(
            (t for t in targets if t.name.startswith("generated-")),
            key=lambda t: len(t.templates),
            default=None,
        )
        if args.diff_base and "--diff-base" not in _scan_help(args.python):
            print("note: this archreview's scan has no --diff-base yet; not timed")
            diff_target = None
        for target in targets:
            target.tools.append(
                Tool(label, _expand(cmd, args.python, target.path), REPO, ours=True)
            )
            target.tools.append(
                Tool("decode-only", _expand(DECODE_CMD, args.python, target.path), REPO, ours=True)
            )
            if warm:
                add_warm_rows(target, args.python, Path(tmp), args.archreview_args)
            if args.diff_base and target is diff_target:
                add_diff_base_row(target, args.python, Path(tmp), args.archreview_args)
            add_peers(target, peers)
            run_target(target, args.repeat, args.warmup, args.timeout)
        print_scaling(targets)

        if args.json:
            report = {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "command": cmd,
                "targets": [
                    {
                        "name": t.name,
                        "path": str(t.path),
                        "templates": len(t.templates),
                        "excluded_for_peers": t.excluded_for_peers,
                        "tools": [
                            {
                                "name": tool.name,
                                "argv": tool.argv[:12],
                                "summary": summarise(tool),
                                "runs": [asdict(r) for r in tool.runs],
                            }
                            for tool in t.tools
                            if tool.runs
                        ],
                    }
                    for t in targets
                ],
            }
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            print(f"\nwrote {args.json}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    failed = any(r.rc != 0 for t in targets for tool in t.tools if tool.ours for r in tool.runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
