"""A scan that needs no template never imports cfn-lint; nothing imports boto3 without --aws."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from reviewer.runner.engine import scan
report = scan(sys.argv[1])
names = ("cfnlint", "_archreview_cfnlint.decode.cfn_yaml", "reviewer.decode.fastyaml", "boto3", "botocore", "jinja2")
print(",".join(sorted(m for m in names if m in sys.modules)))
"""


def _loaded(root: Path) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(root)], capture_output=True, text=True, check=True, timeout=120
    )
    return {m for m in proc.stdout.strip().split(",") if m}


def test_no_template_no_cfnlint(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "go.mod").write_text("module example.invalid/svc\n\ngo 1.24.6\n", encoding="utf-8")
    assert _loaded(tmp_path) == set()


def test_templates_load_cfnlint_decoder_but_never_boto3(tmp_path: Path) -> None:
    """Every template is decoded (a cold scan) by the fast decoder (docs/adr/0006); cfn-lint's
    decoder, its fallback, is loaded only for a document the fast one refuses, and never the
    linter (tests/test_decoder.py); boto3 only with --aws."""
    (tmp_path / "template.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T:\n    Type: AWS::SNS::Topic\n", encoding="utf-8"
    )
    loaded = _loaded(tmp_path)
    assert "reviewer.decode.fastyaml" in loaded
    assert "_archreview_cfnlint.decode.cfn_yaml" not in loaded
    assert "cfnlint" not in loaded
    assert not loaded & {"boto3", "botocore"}
