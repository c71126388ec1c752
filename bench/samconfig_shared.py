"""Issue 15, item 5: one 4.9 MB samconfig.toml shared by 100 templates.

    .venv/bin/python bench/samconfig_shared.py              # 100 templates, 4.9 MB
    .venv/bin/python bench/samconfig_shared.py --templates 200 --megabytes 2

Builds the repository in a temporary folder (48,000 environments of three lines each, every
template in its own folder taking the root's samconfig.toml), then runs, each in a fresh process:

- ``parse``: tomllib on the file once (what each template paid before the fix);
- ``scan``: ``reviewer.runner.engine.scan`` without the cache, serially, with the number of samconfig
  parses the scan made (reviewer.model.samconfig.COUNTERS) and the process's peak RSS.

Before the fix the scan parsed the file once per template: 100 x ``parse`` (278 s on the
machine the issue was measured on). After it, the scan parses it once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Stage: {Type: String}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Ref Stage
      KmsMasterKeyId: alias/q
"""

CHILD = """
import json, resource, sys, time, tomllib
from pathlib import Path
root, what = Path(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
if what == "parse":
    tomllib.loads((root / "samconfig.toml").read_text())
    parses = 1
else:
    from reviewer.model import samconfig
    from reviewer.runner.engine import ScanOptions, scan
    scan(root, ScanOptions(jobs=1))
    parses = samconfig.COUNTERS["parses"]
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"seconds": round(seconds, 2), "parses": parses, "peak_rss_mb": rss}))
"""


def build(root: Path, templates: int, megabytes: float) -> int:
    lines = [
        "version = 0.1",
        "[default.deploy.parameters]",
        'parameter_overrides = "Stage=prod"',
    ]
    size = sum(len(line) + 1 for line in lines)
    env = 0
    while size < megabytes * 1_000_000:
        block = [
            f"[env{env}.deploy.parameters]",
            f'stack_name = "app-{env}"',
            f'parameter_overrides = "Stage=s{env} Size={env}"',
        ]
        lines.extend(block)
        size += sum(len(line) + 1 for line in block)
        env += 1
    (root / "samconfig.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for i in range(templates):
        folder = root / f"svc{i:03d}"
        folder.mkdir()
        (folder / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    return size


def run(root: Path, what: str) -> dict[str, float]:
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), what],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=3600,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--templates", type=int, default=100)
    parser.add_argument("--megabytes", type=float, default=4.9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        size = build(root, args.templates, args.megabytes)
        parse = run(root, "parse")
        scan = run(root, "scan")
    print(f"samconfig.toml: {size / 1e6:.1f} MB, {args.templates} templates")
    print(f"one parse:  {parse['seconds']:.2f} s (before the fix, x{args.templates})")
    print(
        f"whole scan: {scan['seconds']:.2f} s, {scan['parses']:.0f} parse(s), "
        f"peak RSS {scan['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
