"""Live mode (`scan --aws`, reviewer/aws.py, the AR-DRF rules) against moto's server.

Real parts, not mocks: a ThreadedMotoServer on 127.0.0.1 (port 0), boto3 pointed at it by
endpoint_url, stacks created from fixtures/aws/ (as written, or processed by aws-sam-translator
the way real AWS returns them with TemplateStage=Processed). What moto cannot produce — pages,
AccessDenied on one stack, throttling, refused credentials — comes from tests/aws_proxy.py in
front of it. No test touches the internet (instance metadata is disabled too).

The AR-DRF rules' `cases:` (rules/AR-DRF-*.yaml) are the repository side; DEPLOYED below is
their deployed side, and test_drf_cases runs them (tests/test_rules.py leaves them out).
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewer.aws.live import AwsOptions, AwsUsageError, fetch, samconfig_stack, stack_names
from reviewer.checks.catalogue import load_catalogue
from reviewer.core.types import Persona, Report
from reviewer.runner.engine import ScanError, ScanOptions, all_checks, scan

from .aws_proxy import FaultProxy
from .conftest import FIXTURES, ROOT, snapshot

try:
    from moto.server import ThreadedMotoServer
except ImportError:  # pragma: no cover - moto[server] is a dev dependency
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("moto[server] is not installed", allow_module_level=True)

pytestmark = [
    pytest.mark.moto,
    pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning"),
]

REGION = "us-east-1"
# recognisable fake credentials: they must appear nowhere in what archreview prints or writes
ACCESS_KEY = "AKIAARCHREVIEWCANARY7"
SECRET_KEY = "archreview/SecretCanary/d41d8cd98f00b204e9800998ecf8427e"
SESSION_TOKEN = "archreviewSessionTokenCanary0123456789"
CANARIES = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
ARTIFACTS = "archreview-artifacts"  # the bucket processed templates take their code from

CHECKS = {c.rule_id: c for c in all_checks()}
CATALOGUE = load_catalogue()
DRF_RULES = sorted(i for i in CHECKS if i.startswith("AR-DRF-"))
REPO_RULES = {i for i, c in CHECKS.items() if c.kind == "repo"}


# -- moto --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials and a clean, offline AWS configuration for every test."""
    home = tmp_path_factory.mktemp("aws-home")
    for name in list(os.environ):
        if name.startswith(("AWS_", "ARCHREVIEW_AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class Account:
    """The moto account, emptied for each test."""

    url: str

    def client(self, service: str, region: str = REGION) -> Any:
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def deploy(
        self,
        name: str,
        template: str,
        region: str = REGION,
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        self.client("cloudformation", region).create_stack(
            StackName=name,
            TemplateBody=template,
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )

    def artifacts(self, region: str = REGION) -> None:
        """The code and layer objects a processed template points at (moto fetches them)."""
        s3 = self.client("s3", region)
        s3.create_bucket(Bucket=ARTIFACTS)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("bootstrap", "#!/bin/sh\n")
        for key in ("orders.zip", "layer.zip"):
            s3.put_object(Bucket=ARTIFACTS, Key=key, Body=buf.getvalue())


@pytest.fixture
def account(moto_url: str) -> Account:
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return Account(moto_url)


def fixture_text(rel: str) -> str:
    return (FIXTURES / rel).read_text(encoding="utf-8")


def processed(rel: str) -> str:
    """A SAM template as real AWS returns it with TemplateStage=Processed (aws-sam-translator,
    offline: placeholder policies, no SAR)."""
    from bench.sam_parity import translate
    from reviewer.decode.load import decode

    tree, problems = decode(fixture_text(rel))
    assert tree is not None, problems
    return json.dumps(translate(tree, None), indent=2)


def live(url: str, *regions: str, **kw: Any) -> AwsOptions:
    return AwsOptions(regions=regions or (REGION,), endpoint_url=url, **kw)


def repo_from(tmp: Path, *templates: tuple[str, str]) -> Path:
    """A repository holding `text` at each `path`."""
    root = tmp / "repo"
    for path, text in templates:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    root.mkdir(parents=True, exist_ok=True)
    return root


def of(report: Report, prefix: str = "AR-DRF-") -> set[tuple[str, str, str | None]]:
    return {
        (f.rule_id, f.file, f.resource) for f in report.findings if f.rule_id.startswith(prefix)
    }


# -- the AR-DRF cases ---------------------------------------------------------------------------

PROCESSED = "processed"
# Each case's deployed side: stack name -> (template under fixtures/, parameters, processed?)
ORDERS = {"orders": ("aws/orders.yaml", {"Stage": "dev"}, False)}
INGEST_PROCESSED = {"ingest": ("aws/ingest.yaml", {}, True)}
DEPLOYED: dict[tuple[str, str], dict[str, tuple[str, dict[str, str], bool]]] = {
    ("AR-DRF-001", "resource-not-deployed"): ORDERS,
    ("AR-DRF-001", "same-as-deployed"): ORDERS,
    ("AR-DRF-001", "condition-false-with-deployed-parameters"): ORDERS,
    ("AR-DRF-001", "sam-repository-processed-stack"): INGEST_PROCESSED,
    ("AR-DRF-002", "deployed-not-in-repository-samconfig-stack-name"): ORDERS,
    ("AR-DRF-002", "same-as-deployed"): ORDERS,
    ("AR-DRF-002", "sam-generated-ids-in-processed-stack"): INGEST_PROCESSED,
    ("AR-DRF-003", "type-differs"): ORDERS,
    ("AR-DRF-003", "sam-simple-table-deployed-as-table"): ORDERS,
    ("AR-DRF-003", "sam-function-deployed-as-lambda-function"): INGEST_PROCESSED,
    ("AR-DRF-004", "waf-association-not-deployed"): ORDERS,
    ("AR-DRF-004", "fails-in-both"): ORDERS,
    ("AR-DRF-004", "sam-repository-processed-stack"): INGEST_PROCESSED,
}


def test_every_drf_case_has_a_deployed_side() -> None:
    declared = {(i, c.id) for i in DRF_RULES for c in CATALOGUE[i].cases}
    assert declared == set(DEPLOYED)


@pytest.mark.parametrize("rule_id", DRF_RULES)
def test_drf_cases(rule_id: str, account: Account, tmp_path: Path) -> None:
    """As tests/test_rules.py does for the other rules: fail -> a finding of the rule (saying
    `says`), pass -> none; the findings are held against expected.json."""
    results: dict[str, list[dict[str, Any]]] = {}
    for n, case in enumerate(CATALOGUE[rule_id].cases):
        request = urllib.request.Request(f"{account.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        for name, (rel, params, is_processed) in DEPLOYED[(rule_id, case.id)].items():
            if is_processed:
                account.artifacts()
            account.deploy(
                name, processed(rel) if is_processed else fixture_text(rel), REGION, params
            )
        root = tmp_path / str(n) / "repo"
        shutil.copytree(FIXTURES / case.fixture, root)
        report = scan(
            root,
            ScanOptions(checks=(CHECKS[rule_id],), strict=True, aws=live(account.url)),
        )
        found = [
            {
                "rule_id": f.rule_id,
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "resource": f.resource,
                "property": f.property,
                "severity": f.severity.value,
                "confidence": f.confidence.value,
                "message": f.message,
            }
            for f in report.findings
            if f.rule_id == rule_id
        ]
        results[case.fixture] = found
        if case.expect == "pass":
            assert not found, f"{rule_id} case {case.id} should pass, got {found}"
        else:
            assert found, f"{rule_id} case {case.id} should fail"
            assert all(f["file"] == f"aws://{REGION}/{f['file'].rsplit('/', 1)[-1]}" for f in found)
            if case.says:
                assert any(case.says in f["message"] for f in found), (case.id, found)
    snapshot(FIXTURES / "templates" / rule_id / "expected.json", results)


# -- reviewing deployed stacks ------------------------------------------------------------------


def test_deployed_stacks_are_reviewed_with_the_same_rules(account: Account, tmp_path: Path) -> None:
    account.deploy("orders", fixture_text("aws/orders.yaml"), parameters={"Stage": "dev"})
    repo = repo_from(tmp_path, ("orders/template.yaml", fixture_text("aws/orders.yaml")))
    report = scan(repo, ScanOptions(persona=Persona.AUDITOR, aws=live(account.url)))
    deployed = {
        (f.rule_id, f.resource) for f in report.findings if f.file == "aws://us-east-1/orders"
    }
    in_repo = {(f.rule_id, f.resource) for f in report.findings if f.file == "orders/template.yaml"}
    # the same template gives the same template findings on both sides
    assert ("AR-API-001", "ServerlessRestApiProdStage") in deployed
    assert deployed == {k for k in in_repo if k[0] not in REPO_RULES}
    live_findings = [f for f in report.findings if f.file.startswith("aws://")]
    assert all(f.module == "aws://us-east-1" for f in live_findings)
    stage = next(f for f in live_findings if f.rule_id == "AR-API-001")
    assert stage.resource_type == "AWS::ApiGateway::Stage"
    assert stage.line > 1 and stage.source is not None
    assert "aws://us-east-1" in {m.name for m in report.modules}
    # repository checks see the repository only: the deployed copy is not a second template
    trail = next(f for f in report.findings if f.rule_id == "AR-OBS-001" and f.resource is None)
    assert "1 template(s) of the repository" in trail.message
    assert not of(report), "a repository identical to the deployed stack has no drift"


def test_every_format_carries_live_findings_but_sarif(account: Account, tmp_path: Path) -> None:
    from reviewer.outputs import FORMATS, RenderOptions, renderer

    account.deploy("orders", fixture_text("aws/orders.yaml"))
    repo = repo_from(tmp_path, ("billing/template.yaml", fixture_text("aws/orders.yaml")))
    report = scan(repo, ScanOptions(persona=Persona.AUDITOR, aws=live(account.url)))
    rendered = {fmt: renderer(fmt)(report, RenderOptions()) for fmt in FORMATS}
    data = json.loads(rendered["json"])
    assert "aws://us-east-1/orders" in {f["file"] for f in data["findings"]}
    assert data["summary"]["score"] is not None
    for fmt, text in rendered.items():
        if fmt == "sarif":
            sarif = json.loads(text)
            uris = {
                loc["physicalLocation"]["artifactLocation"]["uri"]
                for result in sarif["runs"][0]["results"]
                for loc in result["locations"]
            }
            assert uris and not any(u.startswith("aws:") for u in uris)
            assert "aws://" not in text
        else:
            assert "aws://us-east-1/orders" in text, fmt


def test_types_moto_does_not_model_are_not_drift(account: Account, tmp_path: Path) -> None:
    """moto creates no AWS::Serverless::Function (nor WAFv2 association) and lists them with an
    empty logical id: the processed template, not the listing, says what the stack holds."""
    template = fixture_text("templates/AR-DRF-004/fail-waf-not-deployed/orders/template.yaml")
    account.deploy("orders", template)
    listed = account.client("cloudformation").list_stack_resources(StackName="orders")
    ids = {r["LogicalResourceId"] for r in listed["StackResourceSummaries"]}
    assert "OrdersFunction" not in ids and "OrdersWebAcl" not in ids
    repo = repo_from(tmp_path, ("orders/template.yaml", template))
    report = scan(repo, ScanOptions(persona=Persona.AUDITOR, aws=live(account.url)))
    assert not of(report)


def test_processed_stack_gives_the_repository_findings(account: Account, tmp_path: Path) -> None:
    """Real AWS returns SAM expanded: the SAM model reviews both forms alike, with no drift."""
    account.artifacts()
    account.deploy("ingest", processed("aws/ingest.yaml"))
    repo = repo_from(tmp_path, ("ingest/template.yaml", fixture_text("aws/ingest.yaml")))
    report = scan(repo, ScanOptions(persona=Persona.AUDITOR, aws=live(account.url)))
    assert not of(report)
    deployed = {(f.rule_id, f.resource) for f in report.findings if f.file.startswith("aws://")}
    in_repo = {(f.rule_id, f.resource) for f in report.findings if f.file == "ingest/template.yaml"}
    assert deployed
    assert deployed == {k for k in in_repo if k[0] not in REPO_RULES}


def test_drift_findings_together(account: Account, tmp_path: Path) -> None:
    """A stack drifting in every way at once, in one report with the repository's findings."""
    account.deploy("orders", fixture_text("aws/orders.yaml"), parameters={"Stage": "dev"})
    text = fixture_text("templates/AR-DRF-004/fail-waf-not-deployed/orders/template.yaml")
    text = text.replace("Type: AWS::SQS::Queue", "Type: AWS::SNS::Topic")  # OrdersQueue
    text = text.replace(
        "  OrdersTable:\n    Type: AWS::DynamoDB::Table\n",
        "  OrdersTable2:\n    Type: AWS::DynamoDB::Table\n",
    )
    repo = repo_from(tmp_path, ("orders/template.yaml", text))
    report = scan(repo, ScanOptions(persona=Persona.AUDITOR, aws=live(account.url)))
    stack = "aws://us-east-1/orders"
    assert of(report) == {
        ("AR-DRF-001", stack, "OrdersWebAcl"),
        ("AR-DRF-001", stack, "OrdersTable2"),
        ("AR-DRF-002", stack, "OrdersTable"),
        ("AR-DRF-003", stack, "OrdersQueue"),
        ("AR-DRF-004", stack, "ServerlessRestApiProdStage"),
    }
    waf = next(f for f in report.findings if f.rule_id == "AR-DRF-004")
    assert waf.severity.value == "high" and waf.confidence.value == "medium"
    assert waf.message.startswith("AR-API-001 (")
    assert any(f.file == "orders/template.yaml" for f in report.findings)
    layers = dict(report.layers)
    assert "DRF" in layers and layers["DRF"].failed >= 5


def test_a_condition_true_with_the_deployed_parameters_is_drift(
    account: Account, tmp_path: Path
) -> None:
    """The counterpart of the condition-false-with-deployed-parameters case: in a prod stack the
    production-only alarm is expected, and missing."""
    account.deploy("orders", fixture_text("aws/orders.yaml"), parameters={"Stage": "prod"})
    fixture = FIXTURES / "templates/AR-DRF-001/pass-condition-false"
    shutil.copytree(fixture, tmp_path / "repo")
    report = scan(tmp_path / "repo", ScanOptions(persona=Persona.AUDITOR, aws=live(account.url)))
    stack = "aws://us-east-1/orders"
    assert of(report) == {
        ("AR-DRF-001", stack, "OrdersErrorsAlarm"),
        ("AR-DRF-004", stack, "OrdersFunction"),  # and the function's errors go unwatched
    }
    (unwatched,) = [f for f in report.findings if f.rule_id == "AR-DRF-004"]
    assert unwatched.message.startswith("AR-OBS-005 (")


def test_stacks_without_a_repository_template_are_reviewed_not_compared(
    account: Account, tmp_path: Path
) -> None:
    account.deploy("payments", fixture_text("aws/orders.yaml"))
    repo = repo_from(tmp_path, ("orders/template.yaml", fixture_text("aws/orders.yaml")))
    report = scan(repo, ScanOptions(persona=Persona.AUDITOR, aws=live(account.url)))
    assert any(f.file == "aws://us-east-1/payments" for f in report.findings)
    assert not of(report)


# -- matching repository templates with stacks --------------------------------------------------


def test_stack_names_mapping_samconfig_and_own_name(tmp_path: Path) -> None:
    from reviewer.discover.inventory import discover
    from reviewer.model.repo import RepoIndex

    body = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    root = repo_from(
        tmp_path,
        ("services/orders/template.yaml", body),
        ("services/billing/template.yml", body),
        (
            "services/billing/samconfig.toml",
            '[default.deploy.parameters]\nstack_name = "bill"\n'
            '[prod.deploy.parameters]\nstack_name = "bill-prod"\n',
        ),
        ("stacks/network.yaml", body),
        ("apps/web/infra.yaml", body),
        (
            "apps/web/samconfig.toml",
            '[default.global.parameters]\nstack_name = "web"\ntemplate_file = "infra.yaml"\n',
        ),
        ("template.yaml", body),
    )
    repo = RepoIndex(discover(root))
    for file in (
        "services/orders/template.yaml",
        "services/billing/template.yml",
        "stacks/network.yaml",
        "apps/web/infra.yaml",
        "template.yaml",
    ):
        repo.templates[file] = None  # type: ignore[assignment]  # only the names matter
    names = stack_names(repo, {"stacks/network.yaml": "core-network"})
    assert names == {
        "services/orders/template.yaml": ("orders", "name"),
        "services/billing/template.yml": ("bill", "samconfig"),
        "stacks/network.yaml": ("core-network", "mapping"),
        "apps/web/infra.yaml": ("web", "samconfig"),
        "template.yaml": ("repo", "name"),
    }
    assert stack_names(repo, sam_env="prod")["services/billing/template.yml"] == (
        "bill-prod",
        "samconfig",
    )
    assert samconfig_stack("not toml [") == (None, None)


# -- pagination, faults, credentials ------------------------------------------------------------


def test_list_stacks_is_paginated(account: Account, tmp_path: Path) -> None:
    for n in range(6):
        account.deploy(f"svc{n}", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    account.client("cloudformation").delete_stack(StackName="svc5")  # DELETE_COMPLETE: not live
    with FaultProxy(account.url) as proxy:
        proxy.faults.page_size["ListStacks"] = 2
        report = scan(repo_from(tmp_path), ScanOptions(persona=Persona.AUDITOR, aws=live(proxy.url)))
        calls = [c for c in proxy.calls if c.action == "ListStacks"]
    reviewed = {f.file for f in report.findings if f.file.startswith("aws://")}
    assert reviewed == {f"aws://us-east-1/svc{n}" for n in range(5)}
    assert len(calls) >= 3 and [c.params.get("NextToken") for c in calls[:3]] == [None, "2", "4"]
    assert all(c.params.get("StackStatusFilter.member.1") for c in calls)  # live statuses only


def test_list_stack_resources_is_paginated_past_100(account: Account) -> None:
    resources = {f"Queue{n:03d}": {"Type": "AWS::SQS::Queue"} for n in range(120)}
    account.deploy("wide", json.dumps({"Resources": resources}))
    with FaultProxy(account.url) as proxy:
        proxy.faults.page_size["ListStackResources"] = 50
        fetched = fetch(live(proxy.url))
        actions = proxy.actions()
    (stack,) = fetched.stacks
    assert set(stack.resources) == set(resources)
    assert actions.count("ListStackResources") == 3
    assert "DescribeStackResources" not in actions


def test_access_denied_on_one_stack_is_a_finding_and_the_scan_goes_on(
    account: Account, tmp_path: Path
) -> None:
    account.deploy("orders", fixture_text("aws/orders.yaml"))
    account.deploy("payments", fixture_text("aws/orders.yaml"))
    with FaultProxy(account.url) as proxy:
        proxy.faults.deny.add(("GetTemplate", "orders"))
        report = scan(repo_from(tmp_path), ScanOptions(persona=Persona.AUDITOR, aws=live(proxy.url)))
    (denied,) = [f for f in report.findings if f.file == "aws://us-east-1/orders"]
    assert denied.rule_id == "AR-MOD-006"
    assert denied.module == "aws://us-east-1"
    assert "access denied to cloudformation:GetTemplate (AccessDenied)" in denied.message
    assert "arn:aws:iam" not in denied.message  # AWS's own text (the principal) is not echoed
    assert any(f.file == "aws://us-east-1/payments" for f in report.findings)


def test_access_denied_on_list_stacks_is_a_region_finding(account: Account, tmp_path: Path) -> None:
    account.deploy("orders", fixture_text("aws/orders.yaml"), region="eu-west-1")
    with FaultProxy(account.url) as proxy:
        proxy.faults.deny.add(("ListStacks", ""))
        report = scan(repo_from(tmp_path), ScanOptions(persona=Persona.AUDITOR, aws=live(proxy.url, REGION, "eu-west-1")))
    files = {f.file for f in report.findings if f.file.startswith("aws://")}
    assert files == {"aws://us-east-1", "aws://eu-west-1"}
    assert all(f.rule_id == "AR-MOD-006" for f in report.findings if f.file.startswith("aws://"))


def test_throttling_is_retried_in_adaptive_mode(account: Account, tmp_path: Path) -> None:
    account.deploy("orders", fixture_text("aws/orders.yaml"))
    with FaultProxy(account.url) as proxy:
        proxy.faults.throttle.update({"ListStacks": 1, "GetTemplate": 2})
        started = time.monotonic()
        report = scan(repo_from(tmp_path), ScanOptions(persona=Persona.AUDITOR, aws=live(proxy.url)))
        elapsed = time.monotonic() - started
        answered = [(c.action, c.answered) for c in proxy.calls]
    assert answered[:2] == [("ListStacks", 400), ("ListStacks", 200)]
    assert [a for a in answered if a[0] == "GetTemplate"] == [
        ("GetTemplate", 400),
        ("GetTemplate", 400),
        ("GetTemplate", 200),
    ]
    assert any(
        f.file == "aws://us-east-1/orders" and f.rule_id == "AR-API-001" for f in report.findings
    )
    assert not [f for f in report.findings if f.rule_id == "AR-MOD-006"]
    assert elapsed < 30


def test_throttling_that_does_not_end_is_a_finding(account: Account, tmp_path: Path) -> None:
    account.deploy("orders", fixture_text("aws/orders.yaml"))
    with FaultProxy(account.url) as proxy:
        proxy.faults.throttle["GetTemplate"] = 1000
        report = scan(repo_from(tmp_path), ScanOptions(persona=Persona.AUDITOR, aws=live(proxy.url, max_attempts=2)))
        attempts = proxy.actions().count("GetTemplate")
    (finding,) = [f for f in report.findings if f.file == "aws://us-east-1/orders"]
    assert finding.rule_id == "AR-MOD-006"
    assert "still throttled after 2 attempts (Throttling)" in finding.message
    assert attempts == 2


def test_botocore_uses_adaptive_retries(account: Account) -> None:
    """The retry mode is botocore's adaptive one (client-side rate limiting on throttling)."""
    import boto3

    from reviewer.aws.live import client_config

    client = boto3.client(
        "cloudformation",
        region_name=REGION,
        endpoint_url=account.url,
        config=client_config(AwsOptions(max_attempts=5)),
    )
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 5}


def test_stack_and_region_options(account: Account, tmp_path: Path) -> None:
    body = fixture_text("aws/orders.yaml")
    account.deploy("orders", body)
    account.deploy("orders", body, region="eu-west-1")
    account.deploy("payments", body, region="eu-west-1")
    options = live(account.url, REGION, "eu-west-1", stacks=("orders", "ghost"))
    report = scan(repo_from(tmp_path), ScanOptions(persona=Persona.AUDITOR, aws=options))
    files = {f.file for f in report.findings if f.file.startswith("aws://")}
    assert files == {"aws://us-east-1/orders", "aws://eu-west-1/orders", "aws://us-east-1/ghost"}
    (ghost,) = [f for f in report.findings if f.file == "aws://us-east-1/ghost"]
    assert ghost.rule_id == "AR-MOD-006"
    assert "no live stack named ghost in us-east-1, eu-west-1" in ghost.message


def test_unreachable_endpoint_fails_the_scan(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = AwsOptions(regions=(REGION,), endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1)
    with pytest.raises(
        ScanError, match=r"ListStacks in us-east-1 failed \(EndpointConnectionError\)"
    ):
        scan(repo_from(tmp_path), ScanOptions(persona=Persona.AUDITOR, aws=options))


def test_no_credentials_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with pytest.raises(AwsUsageError, match="no AWS credentials found"):
        fetch(AwsOptions(regions=(REGION,), endpoint_url="http://127.0.0.1:9"))


def test_no_region_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(AwsUsageError, match="no AWS region"):
        fetch(AwsOptions(endpoint_url="http://127.0.0.1:9"))


def test_aws_profile(account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name)
    Path(os.environ["AWS_CONFIG_FILE"]).write_text(
        "[profile archreview-test]\nregion = eu-west-1\n", encoding="utf-8"
    )
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        f"[archreview-test]\naws_access_key_id = {ACCESS_KEY}\n"
        f"aws_secret_access_key = {SECRET_KEY}\n",
        encoding="utf-8",
    )
    account.deploy("orders", fixture_text("aws/orders.yaml"), region="eu-west-1")
    fetched = fetch(AwsOptions(profile="archreview-test", endpoint_url=account.url))
    assert [s.file for s in fetched.stacks] == ["aws://eu-west-1/orders"]
    with pytest.raises(AwsUsageError, match="'nobody' is not configured"):
        fetch(AwsOptions(profile="nobody", endpoint_url=account.url))


# -- the command line ---------------------------------------------------------------------------


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_no_credentials(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text
        assert "d41d8cd98f00b204" not in text  # not even part of the secret


def test_cli_scan_aws_with_a_repository(account: Account, tmp_path: Path) -> None:
    account.deploy("orders", fixture_text("aws/orders.yaml"), parameters={"Stage": "dev"})
    repo = repo_from(
        tmp_path,
        (
            "orders/template.yaml",
            fixture_text("templates/AR-DRF-004/fail-waf-not-deployed/orders/template.yaml"),
        ),
    )
    out = tmp_path / "report.json"
    result = run_cli(
        "scan",
        str(repo),
        "--aws",
        "--region",
        REGION,
        "--stack",
        "orders",
        "--format",
        "json",
        "--format",
        "text",
        "--output",
        f"json={out}",
        "--output",
        f"text={tmp_path / 'report.txt'}",
        env={"ARCHREVIEW_AWS_ENDPOINT_URL": account.url},
    )
    assert result.returncode == 1, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    drift = {
        (f["rule_id"], f["resource"]) for f in data["findings"] if f["rule_id"].startswith("AR-DRF")
    }
    assert drift == {("AR-DRF-001", "OrdersWebAcl"), ("AR-DRF-004", "ServerlessRestApiProdStage")}
    assert_no_credentials(
        result.stdout,
        result.stderr,
        out.read_text(encoding="utf-8"),
        (tmp_path / "report.txt").read_text(encoding="utf-8"),
    )


def test_cli_no_credentials_exit_2(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "scan", str(repo_from(tmp_path)), "--aws"],
        cwd=ROOT,
        env={**env, "ARCHREVIEW_AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no AWS credentials found" in lines[0], result.stderr


def test_cli_refused_credentials_exit_2_without_echoing_them(
    account: Account, tmp_path: Path
) -> None:
    with FaultProxy(account.url) as proxy:
        proxy.faults.refuse_credentials = True
        result = run_cli(
            "scan",
            str(repo_from(tmp_path)),
            "--aws",
            env={"ARCHREVIEW_AWS_ENDPOINT_URL": proxy.url},
        )
    assert result.returncode == 2
    assert "AWS refused the credentials (InvalidClientTokenId)" in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_credentials(result.stdout, result.stderr)


def test_cli_access_denied_keeps_credentials_out(account: Account, tmp_path: Path) -> None:
    account.deploy("orders", fixture_text("aws/orders.yaml"))
    out = tmp_path / "report.json"
    with FaultProxy(account.url) as proxy:
        proxy.faults.deny.add(("ListStackResources", "orders"))
        result = run_cli(
            "scan",
            str(repo_from(tmp_path)),
            "--aws",
            "--format",
            "json",
            "--output",
            str(out),
            "--fail-on",
            "never",
            env={"ARCHREVIEW_AWS_ENDPOINT_URL": proxy.url},
        )
        headers = proxy.headers_seen
    assert result.returncode == 0, result.stderr
    report = out.read_text(encoding="utf-8")
    assert "cloudformation:ListStackResources (AccessDenied)" in report
    assert_no_credentials(result.stdout, result.stderr, report)
    assert "Authorization" in headers  # the requests were signed with them all along


def test_cli_aws_options_need_aws(tmp_path: Path) -> None:
    result = run_cli("scan", str(repo_from(tmp_path)), "--region", REGION)
    assert result.returncode == 2
    assert "need --aws" in result.stderr


def test_scan_without_aws_never_imports_boto3(tmp_path: Path) -> None:
    repo = repo_from(tmp_path, ("orders/template.yaml", fixture_text("aws/orders.yaml")))
    probe = textwrap.dedent(
        f"""
        import sys
        from click.testing import CliRunner
        from reviewer.cli.main import main
        result = CliRunner().invoke(main, ["scan", {str(repo)!r}, "--format", "json", "--fail-on", "never"])
        assert result.exit_code == 0, result.output
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore") or m == "reviewer.aws.live")
        print("LOADED", loaded)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout
