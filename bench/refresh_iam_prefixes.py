"""Rewrite reviewer/data/iam_prefixes.yaml: the IAM service prefixes AR-IAM-008 accepts.

With cfn-lint's copy it also rewrites reviewer/data/iam_no_resource_level.json: the actions
that take no resource type (only Resource "*" applies), which AR-IAM-004 does not report.

Run by hand when AWS adds services (the scan never calls the network). Two sources, both
derived from AWS's Service Authorization Reference:

  .venv/bin/python bench/refresh_iam_prefixes.py
      reads the Policies.json that the installed cfn-lint ships (keys are service prefixes);
  .venv/bin/python bench/refresh_iam_prefixes.py --service-reference index.json
      reads AWS's machine-readable service list, saved beforehand from
      https://servicereference.us-east-1.amazonaws.com/ (a list of {"service": prefix, ...}).

The `aliases` block (names that look like prefixes but are not) is kept as it is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent / "reviewer" / "data" / "iam_prefixes.yaml"
ACCOUNT_LEVEL = DATA.with_name("iam_no_resource_level.json")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def from_cfn_lint() -> tuple[list[str], str]:
    import cfnlint  # a dev dependency, only for this script

    path = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
    version = getattr(cfnlint, "__version__", "")
    if not version:
        from importlib.metadata import version as dist_version

        version = dist_version("cfn-lint")
    data = json.loads(path.read_text(encoding="utf-8"))
    source = (
        f"AWS Service Authorization Reference, as packaged by cfn-lint {version} "
        "(cfnlint/data/AdditionalSpecs/Policies.json)"
    )
    write_account_level(data, source)
    return list(data), source


def write_account_level(data: dict[str, dict[str, object]], source: str) -> None:
    """The actions of each service that list no resource type, lower case."""
    actions: dict[str, list[str]] = {}
    for service, body in sorted(data.items()):
        table = body.get("Actions") if isinstance(body, dict) else None
        if not isinstance(table, dict):
            continue
        names = sorted(
            a.lower() for a, v in table.items() if not (isinstance(v, dict) and v.get("Resources"))
        )
        if names:
            actions[service.lower()] = names
    doc = {
        "about": (
            'IAM actions that take no resource type (only Resource "*" applies), by service '
            "prefix, lower case. Read by AR-IAM-004 (reviewer/checks/iam.py). Rewritten by "
            "bench/refresh_iam_prefixes.py."
        ),
        "date": dt.date.today().isoformat(),
        "source": source,
        "actions": actions,
    }
    ACCOUNT_LEVEL.write_text(json.dumps(doc, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {sum(map(len, actions.values()))} account-level actions to {ACCOUNT_LEVEL}")


def from_service_reference(path: Path) -> tuple[list[str], str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    names = [item["service"] for item in data if isinstance(item, dict) and "service" in item]
    return names, "https://servicereference.us-east-1.amazonaws.com/ (AWS service reference)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service-reference", type=Path)
    parser.add_argument("--date", default=dt.date.today().isoformat())
    args = parser.parse_args(argv)
    names, source = (
        from_service_reference(args.service_reference)
        if args.service_reference
        else from_cfn_lint()
    )
    prefixes = sorted({n.strip().lower() for n in names if _PREFIX.match(n.strip().lower())})
    if len(prefixes) < 100:
        print(f"only {len(prefixes)} prefixes read: refusing to write", file=sys.stderr)
        return 1
    old = yaml.safe_load(DATA.read_text(encoding="utf-8")) if DATA.exists() else {}
    aliases = (old or {}).get("aliases") or {}
    lines = [
        "# IAM service prefixes (the part before ':' in a policy action), read by AR-IAM-008 in",
        "# reviewer/checks/iam.py. An action whose prefix is not listed grants or denies nothing.",
        "# Regenerate with bench/refresh_iam_prefixes.py (see its docstring); edit `aliases` by hand:",
        "# names people write for a service whose actions live under another prefix.",
        f"date: {args.date}",
        f"source: {source}",
        "aliases:",
        *(f"  {k}: {v}" for k, v in sorted(aliases.items())),
        "prefixes:",
        *(f"  - {p}" for p in prefixes),
    ]
    DATA.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(prefixes)} prefixes to {DATA}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
