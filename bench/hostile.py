"""Time and peak memory of a CLI scan of the hostile inputs of issue 15 that the engine's budgets
and bounds answer for (item 7: template checks, modelling, repository checks, source excerpts).

    .venv/bin/python bench/hostile.py                          # every case
    .venv/bin/python bench/hostile.py --case sam-globals-statements --repeat 3
    .venv/bin/python bench/hostile.py --json bench/out/hostile.json --timeout 120

Each case writes a repository (at most 5 MB) into a temporary folder and runs, in a fresh
process, on two cores (``--jobs 2``, the process pinned to CPUs 0 and 1 when there are more):

    {python} -m reviewer scan PATH --format FORMAT --output /dev/null --fail-on never \\
        --no-cache --jobs 2

killed after ``--timeout`` seconds (the row then reads "> N s"). Reported per case: the wall time
(the median of ``--repeat`` runs), the peak RSS of the largest process (``ru_maxrss`` from
``wait4``: the scan or one of its workers), the peak RSS of the whole process tree (the sum over
the scan and its workers, read from /proc every 20 ms), and what the scan said it left out (its
AR-MOD-006 findings, from a JSON run of the same case). The goal of issue 15: no case above 10 s
or 500 MB; the last column says whether a case meets it.

The cases:

- ``sam-globals-statements``: the issue's case, one Globals policy of 5,000 statements merged
  into 200 functions (before: 50 s in the template checks; the statements were walked once per
  function and per check, and the reference graph walked the policy once per function and role);
- ``sam-globals-statements-max``: the same at the size limit: 50,000 statements (4 MB) and
  1,000 functions;
- ``sam-globals-documents``: 480 Globals policy documents merged into 200 functions that each
  have their own Policies (so the merge copies the list into every function): 192,000 entries,
  under the Globals copy cap, reviewed in full;
- ``sam-globals-documents-over``: 5,000 documents and 200 functions: over the copy cap
  (AR-MOD-006, modelling) instead of a model of a million entries;
- ``sam-globals-layers``: a 20,000-entry Layers list in Globals and 1,000 functions with their
  own Layers (20 million entries once merged): over the copy cap;
- ``one-line-json``: a 4.8 MB template on one JSON line with 40,000 queues, rendered as text
  (each finding's source keeps a few hundred characters of the line, not the line);
- ``wide-template``: a plain 4.9 MB YAML template of 34,000 queues (cfn-lint's decoder checks
  each key of a mapping against all the keys before it, so decoding was quadratic: 26 s,
  stopped by the per-file budget; the decoder on libyaml, docs/adr/0006, finds duplicates with
  a lookup per key);
- ``wide-template-duplicate``: the same with the first queue named again at the end (a parse
  finding, reached in linear time);
- ``one-line-json-broken``: the one-line JSON template with a colon missing near its end (a
  parse finding; cfn-lint's JSON decoder is quadratic in an object's width too);
- ``sam-globals-merge``: sam-globals-statements-max with one merge key (``<<``), which the fast
  decoder refuses: cfn-lint's decoder decodes it (the fallback's bound, not the fast path's);
- ``manifests-2000``: 2,000 tiny package.json files naming ``react`` with ranges that share no
  version (repository checks, each on its own budget).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
GOAL_S = 10.0
GOAL_MB = 500.0
MAX_BYTES = 5_000_000


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _sam(globals_body: str, functions: int, function_extra: str = "") -> str:
    fns = "".join(
        f"  F{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n"
        + function_extra
        for i in range(functions)
    )
    return (
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\n"
        f"    Handler: a.b\n{globals_body}Resources:\n{fns}"
    )


def _statements(count: int) -> str:
    return "".join(
        f"          - {{Effect: Allow, Action: s3:GetObject, Resource: 'arn:aws:s3:::b{i}/*'}}\n"
        for i in range(count)
    )


def globals_statements(statements: int, functions: int) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        body = "    Policies:\n      - Version: '2012-10-17'\n        Statement:\n" + _statements(
            statements
        )
        _write(root, "template.yaml", _sam(body, functions))

    return make


def globals_documents(documents: int, functions: int) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        docs = "".join(
            f"      - Statement: [{{Effect: Allow, Action: s3:GetObject, "
            f"Resource: 'arn:aws:s3:::b{i}/*'}}]\n"
            for i in range(documents)
        )
        extra = "      Policies: [AWSLambdaBasicExecutionRole]\n"
        _write(root, "template.yaml", _sam("    Policies:\n" + docs, functions, extra))

    return make


def globals_layers(root: Path) -> None:
    layers = ",".join(f"l{i}" for i in range(20_000))
    body = f"    Layers: [{layers}]\n"
    _write(root, "template.yaml", _sam(body, 1_000, "      Layers: [mine]\n"))


def one_line_json(root: Path) -> None:
    queues = ",".join(
        f'"Queue{i}":{{"Type":"AWS::SQS::Queue","Properties":{{"QueueName":"queue-{i}",'
        f'"VisibilityTimeout":60}}}}'
        for i in range(40_000)
    )
    _write(
        root,
        "template.json",
        '{"AWSTemplateFormatVersion":"2010-09-09","Resources":{' + queues + "}}",
    )


def wide_template(root: Path) -> None:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Resources:"]
    for i in range(34_000):
        lines += [
            f"  Queue{i}:",
            "    Type: AWS::SQS::Queue",
            "    Properties:",
            f"      QueueName: q{i}",
            "      KmsMasterKeyId: alias/aws/sqs",
            "      VisibilityTimeout: 60",
        ]
    _write(root, "template.yaml", "\n".join(lines) + "\n")


def wide_template_duplicate(root: Path) -> None:
    """The wide template with its first queue named again at the end: a duplicate key, found
    with a lookup per key (cfn-lint's decoder compared each key with every earlier one)."""
    wide_template(root)
    path = root / "template.yaml"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("  Queue0:\n    Type: AWS::SNS::Topic\n")


def one_line_json_broken(root: Path) -> None:
    """The one-line JSON template with a colon missing near its end: a syntax error, which the
    C scanner finds and the fast path words as cfn-lint does."""
    one_line_json(root)
    path = root / "template.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:-2] + ',"Late" {}}}', encoding="utf-8")


def globals_statements_merge(root: Path) -> None:
    """sam-globals-statements-max with one merge key (`<<`): the fast decoder refuses merge
    keys, so cfn-lint's decoder (the fallback) decodes it, within the per-file budget."""
    globals_statements(50_000, 1_000)(root)
    path = root / "template.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    Handler: a.b\n", "    Handler: a.b\n    <<: {}\n", 1))


def manifests(root: Path) -> None:
    for i in range(2_000):
        data = {"name": f"app{i}", "version": "1.0.0", "dependencies": {"react": f"1.{i}.x"}}
        _write(root, f"apps/app{i}/package.json", json.dumps(data))


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "sam-globals-statements": (globals_statements(5_000, 200), "json"),
    "sam-globals-statements-max": (globals_statements(50_000, 1_000), "json"),
    "sam-globals-documents": (globals_documents(480, 200), "json"),
    "sam-globals-documents-over": (globals_documents(5_000, 200), "json"),
    "sam-globals-layers": (globals_layers, "json"),
    "one-line-json": (one_line_json, "text"),
    "wide-template": (wide_template, "json"),
    "wide-template-duplicate": (wide_template_duplicate, "json"),
    "one-line-json-broken": (one_line_json_broken, "json"),
    "sam-globals-merge": (globals_statements_merge, "json"),
    "manifests-2000": (manifests, "json"),
}


def _tree_rss_kb(pid: int) -> int:
    """The resident memory of a process and its descendants (Linux /proc), in KB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text(encoding="ascii")
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text(encoding="ascii").split()
                pending.extend(int(c) for c in children)
        except OSError:
            continue
    return total


def _pinned() -> list[str]:
    """`taskset -c 0,1` when the machine has more than two CPUs (and taskset exists)."""
    if (os.cpu_count() or 1) > 2 and Path("/usr/bin/taskset").exists():
        return ["/usr/bin/taskset", "-c", "0,1"]
    return []


def run_once(
    python: str, root: Path, fmt: str, timeout: float, output: str = os.devnull
) -> dict[str, Any]:
    cmd = [
        *_pinned(),
        python,
        "-m",
        "reviewer",
        "scan",
        str(root),
        "--format",
        fmt,
        "--output",
        output,
        "--fail-on",
        "never",
        "--no-cache",
        "--jobs",
        "2",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak_tree = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak_tree[0] = max(peak_tree[0], _tree_rss_kb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timed_out = False
    deadline = start + timeout
    status = 0
    usage: Any = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            timed_out = True
            break
        time.sleep(0.01)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    return {
        "wall_s": wall,
        "timed_out": timed_out,
        "exit": proc.returncode,
        "max_process_mb": usage.ru_maxrss / 1024 if usage else 0.0,
        "tree_mb": peak_tree[0] / 1024,
        "stderr": stderr.strip().splitlines()[-1:] if stderr.strip() else [],
    }


def left_out(python: str, root: Path, timeout: float) -> list[str]:
    """The scan's AR-MOD-006 findings that name a budget (a JSON run, untimed)."""
    with tempfile.TemporaryDirectory(prefix="archreview-hostile-out-") as tmp:
        out = Path(tmp) / "report.json"
        run_once(python, root, "json", timeout, str(out))
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return ["(no JSON report)"]
    return [
        f["message"][:160]
        for f in data.get("findings", ())
        if f.get("rule_id") == "AR-MOD-006" and "budget" in f.get("message", "")
    ]


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--json", type=Path, help="write every measurement here")
    args = parser.parse_args(argv)
    names = args.case or list(CASES)
    rows: list[dict[str, Any]] = []
    header = f"{'case':28} {'size':>7} {'wall':>8} {'max proc':>9} {'tree':>8}  goal  left out"
    print(header)
    for name in names:
        make, fmt = CASES[name]
        with tempfile.TemporaryDirectory(prefix="archreview-hostile-") as tmp:
            root = Path(tmp) / name
            root.mkdir()
            make(root)
            size = _size(root)
            assert size <= MAX_BYTES, f"{name} is {size} bytes"
            runs = [run_once(args.python, root, fmt, args.timeout) for _ in range(args.repeat)]
            said = left_out(args.python, root, args.timeout)
        wall = statistics.median(r["wall_s"] for r in runs)
        proc_mb = max(r["max_process_mb"] for r in runs)
        tree_mb = max(r["tree_mb"] for r in runs)
        timed_out = any(r["timed_out"] for r in runs)
        meets = not timed_out and wall <= GOAL_S and tree_mb <= GOAL_MB
        wall_text = f"> {args.timeout:g} s" if timed_out else f"{wall:6.2f} s"
        print(
            f"{name:28} {size / 1e6:5.2f}MB {wall_text:>8} {proc_mb:6.0f} MB {tree_mb:5.0f} MB"
            f"  {'ok' if meets else 'OVER'}  {'; '.join(said) or '-'}"
        )
        rows.append(
            {
                "case": name,
                "bytes": size,
                "format": fmt,
                "runs": runs,
                "wall_s": wall,
                "max_process_mb": proc_mb,
                "tree_mb": tree_mb,
                "meets_goal": meets,
                "left_out": said,
            }
        )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["meets_goal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
