"""Baseline for the benchmark: find the templates under a folder and decode each one with
cfnlint.decode, in one process, doing nothing else.

    python bench/decode_only.py PATH          decode, print one summary line
    python bench/decode_only.py --list PATH   print the template paths (relative), one a line
    python bench/decode_only.py --compare PATH [--rounds 3]
                                              the three decoders side by side (see compare())

Templates are found the way the product spec says archreview finds them: a file named
template.yaml/.yml/.json, or a *.yaml, *.yml, *.json or *.template file whose first 4 KB show
AWSTemplateFormatVersion, a SAM Transform, or a top-level Resources mapping with AWS:: types.
The folders archreview skips (.git, node_modules, vendor, dist, build, target, .next, .aws-sam,
cdk.out, .archreview-cache) are skipped, and so is package.json (a manifest); .gitignore files are not read, and files over 5 MB are
left out. find_templates() is standard library only, so run.py can import it; decoding needs
cfn-lint (the project's virtualenv).
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

SKIP_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        "vendor",
        "dist",
        "build",
        "target",
        ".next",
        ".aws-sam",
        "cdk.out",
        ".archreview-cache",
    }
)
NAMED = frozenset({"template.yaml", "template.yml", "template.json"})
MANIFESTS = frozenset({"package.json"})  # read as manifests, never as templates
SNIFF_EXTS = frozenset({".yaml", ".yml", ".json", ".template"})
SNIFF_BYTES = 4096
MAX_BYTES = 5_000_000

_RE_TRANSFORM = re.compile(r"""(?m)^[ \t]*['"]?Transform['"]?[ \t]*:|"Transform"\s*:""")
_RE_RESOURCES = re.compile(r"""(?m)^['"]?Resources['"]?[ \t]*:|"Resources"\s*:\s*\{""")
_RE_TYPE_AWS = re.compile(r"""['"]?Type['"]?\s*:\s*['"]?AWS::""")


def _looks_like_template(head: str) -> bool:
    if "AWSTemplateFormatVersion" in head:
        return True
    if "AWS::Serverless" in head and _RE_TRANSFORM.search(head):
        return True
    return _RE_RESOURCES.search(head) is not None and _RE_TYPE_AWS.search(head) is not None


def find_templates(root: str | os.PathLike[str]) -> list[str]:
    """Relative paths (forward slashes, sorted) of the templates under ``root``."""
    root = os.fspath(root)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            lower = name.lower()
            ext = os.path.splitext(lower)[1]
            if name in MANIFESTS or (lower not in NAMED and ext not in SNIFF_EXTS):
                continue
            try:
                if os.path.getsize(path) > MAX_BYTES:
                    continue
                if lower not in NAMED:
                    with open(path, "rb") as fh:
                        head = fh.read(SNIFF_BYTES).decode("utf-8", "replace")
                    if not _looks_like_template(head):
                        continue
            except OSError:
                continue
            found.append(os.path.relpath(path, root).replace(os.sep, "/"))
    return sorted(found)


# The decoders compare() runs, each in a fresh process: cfn-lint's `decode(filename)` (the
# baseline above); archreview's old path, cfn-lint's decoder then a conversion into archreview
# nodes (reviewer.decode.load.decode_reference, now the fallback); and the new path on libyaml's
# events and the C JSON scanner (reviewer.decode.load.decode). The last two read each file
# inside the timed loop, as cfn-lint's decode does.
WAYS = ("cfnlint.decode", "old path", "new path")


def _decode_way(way: str, root: Path) -> int:
    """One decoder over every template: prints the decode seconds and the process's peak RSS
    (KB) as JSON. Imports are done (and not timed) before the loop."""
    import json
    import resource

    templates = find_templates(root)
    paths = [str(root / rel) for rel in templates]
    if way == "cfnlint.decode":
        from cfnlint.decode import decode as cfnlint_decode

        def run(path: str) -> bool:
            _, matches = cfnlint_decode(path)
            return not matches
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from reviewer.decode import load

        load.import_decoder()
        decode = load.decode if way == "new path" else load.decode_reference
        if way == "old path":
            from reviewer.decode import cfnlint as decoder

            decoder.load()

        def run(path: str) -> bool:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            tree, _ = decode(text, json_first=path.lower().endswith(".json"))
            return tree is not None

    start = time.perf_counter()
    failed = 0
    for path in paths:
        try:
            failed += not run(path)
        except Exception:  # a decoder crash is a failed file, as for archreview
            failed += 1
    seconds = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"templates": len(paths), "failed": failed, "s": seconds, "rss_kb": rss_kb}))
    return 0


def compare(root: Path, rounds: int) -> int:
    """Decode the templates with each of WAYS, `rounds` times each in fresh processes taking
    turns, and print one row per decoder: the median decode time, the median peak RSS of its
    process, and the time against cfnlint.decode's."""
    import json
    import os
    import statistics
    import subprocess

    runs: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
    for _ in range(rounds):
        for way in WAYS:
            done = subprocess.run(
                [sys.executable, __file__, "--way", way, str(root)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[way].append(json.loads(done.stdout.strip().splitlines()[-1]))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    base = statistics.median(r["s"] for r in runs[WAYS[0]])
    print(
        f"{'decoder':16} {'templates':>9} {'failed':>6} {'decode':>9} {'vs cfn-lint':>11} {'peak RSS':>9}"
    )
    for way in WAYS:
        seconds = statistics.median(r["s"] for r in runs[way])
        rss = statistics.median(r["rss_kb"] for r in runs[way]) / 1024
        first = runs[way][0]
        print(
            f"{way:16} {int(first['templates']):9d} {int(first['failed']):6d} {seconds:8.2f}s "
            f"{seconds / base:10.2f}x {rss:7.0f}MB"
        )
    print(f"medians of {rounds} rounds; load average {load:.2f} at the end")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 3 and args[0] == "--way" and args[1] in WAYS:
        return _decode_way(args[1], Path(args[2]))
    rounds = 3
    if "--rounds" in args:
        at = args.index("--rounds")
        rounds = int(args[at + 1])
        del args[at : at + 2]
    comparing = "--compare" in args
    listing = "--list" in args
    args = [a for a in args if a not in ("--list", "--compare")]
    if len(args) != 1:
        print("usage: decode_only.py [--list | --compare [--rounds N]] PATH", file=sys.stderr)
        return 2
    root = Path(args[0])
    if not root.is_dir():
        print(f"decode_only.py: {root} is not a folder", file=sys.stderr)
        return 2
    if comparing:
        return compare(root, rounds)
    t0 = time.perf_counter()
    templates = find_templates(root)
    if listing:
        sys.stdout.write("".join(f"{t}\n" for t in templates))
        return 0
    t1 = time.perf_counter()
    from cfnlint.decode import decode  # imported here: --list needs only the standard library

    t2 = time.perf_counter()
    failed = 0
    for rel in templates:
        try:
            _, matches = decode(str(root / rel))
        except Exception:  # a decoder crash is a failed file, as for archreview
            failed += 1
            continue
        if matches:
            failed += 1
    t3 = time.perf_counter()
    print(
        f"decoded {len(templates)} templates ({failed} with parse errors): "
        f"find {t1 - t0:.2f} s, import cfnlint {t2 - t1:.2f} s, decode {t3 - t2:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
