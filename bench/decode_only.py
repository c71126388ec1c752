"""Baseline for the benchmark: find the templates under a folder and decode each one with
cfnlint.decode, in one process, doing nothing else.

    python bench/decode_only.py PATH          decode, print one summary line
    python bench/decode_only.py --list PATH   print the template paths (relative), one a line

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


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    listing = "--list" in args
    args = [a for a in args if a != "--list"]
    if len(args) != 1:
        print("usage: decode_only.py [--list] PATH", file=sys.stderr)
        return 2
    root = Path(args[0])
    if not root.is_dir():
        print(f"decode_only.py: {root} is not a folder", file=sys.stderr)
        return 2
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
