"""Profile-driven behaviour of the NET and API checks, and their helpers (TLS tables, ARN
rendering, routes)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from reviewer.cfn.load import decode
from reviewer.cfn.template import Template, build
from reviewer.checks import routes as routes_mod
from reviewer.checks.edge import protocol_version, render, tls_tables
from reviewer.engine import ScanOptions, all_checks, scan
from reviewer.profile import DEFAULT, Profile

from .conftest import FIXTURES

CHECKS = {c.rule_id: c for c in all_checks()}


def _scan(
    rule_id: str, fixture: str, tmp_path: Path, profile: Profile = DEFAULT
) -> list[tuple[int, str, str]]:
    source = FIXTURES / "templates" / fixture
    root = tmp_path / "repo"
    tmp_path.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, root)
    else:
        root.mkdir()
        shutil.copy(source, root / source.name)
    report = scan(root, ScanOptions(profile=profile, checks=(CHECKS[rule_id],), strict=True))
    return [(f.line, f.resource or "", f.message) for f in report.findings if f.rule_id == rule_id]


def _template(text: str, name: str = "t.yaml") -> Template:
    tree, problems = decode(text)
    assert not problems and tree is not None
    return build(name, ".", tree, text)


# -- TLS tables ---------------------------------------------------------------------------------


def test_tls_tables_know_the_newer_policies() -> None:
    tables = tls_tables()
    assert tables.cloudfront["TLSv1.2_2025"].rank > tables.cloudfront["TLSv1.2_2021"].rank
    assert tables.cloudfront["TLSv1.3_2025"].min == "1.3"
    assert tables.cloudfront_floor["1.2"] == "TLSv1.2_2021"
    assert tables.cloudfront_default_certificate == "TLSv1"
    tls13 = tables.apigateway_policy("SecurityPolicy_TLS13_1_3_2025_09")
    assert tls13 is not None and tls13.min == "1.3"
    later = tables.apigateway_policy("SecurityPolicy_TLS13_1_2_SOMETHING_2027_01")
    assert later is not None and later.min == "1.2"
    assert tables.apigateway_policy("TLS_1_0") is not None
    assert tables.apigateway_policy("NotAPolicy") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TLSv1.2", (1, 2)),
        ("1.3", (1, 3)),
        ("TLS_1_0", (1, 0)),
        ("TLS1.2", (1, 2)),
        ("SSLv3", (0,)),
    ],
)
def test_protocol_version(text: str, expected: tuple[int, ...]) -> None:
    assert protocol_version(text) == expected


# -- ARN rendering --------------------------------------------------------------------------------


def test_render_keeps_the_resources_an_arn_is_built_from() -> None:
    t = _template(
        """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  StageName:
    Type: String
    Default: prod
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
  Assoc:
    Type: AWS::WAFv2::WebACLAssociation
    Properties:
      ResourceArn: !Join ["", ["arn:aws:apigateway:", !Ref AWS::Region, "::/restapis/", !Ref Api, "/stages/", !Ref StageName]]
"""
    )
    (rendered,) = render(t, t.resources["Assoc"].get("ResourceArn"))
    assert rendered.text == "arn:aws:apigateway:${AWS::Region}::/restapis/${Api}/stages/prod"
    assert rendered.points_at("t.yaml", "Api")
    assert rendered.assumed  # the stage name comes from a parameter default


def test_render_keeps_both_fn_if_branches() -> None:
    t = _template(
        """
AWSTemplateFormatVersion: "2010-09-09"
Conditions:
  IsProd: !Equals [a, b]
Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
  Other:
    Type: AWS::ApiGateway::RestApi
  Assoc:
    Type: AWS::WAFv2::WebACLAssociation
    Properties:
      ResourceArn: !If [IsProd, !Sub "x/${Api}", !Sub "x/${Other}"]
"""
    )
    out = render(t, t.resources["Assoc"].get("ResourceArn"))
    assert [r.conditions for r in out] == [("IsProd",), ("!IsProd",)]
    assert out[0].points_at("t.yaml", "Api") and out[1].points_at("t.yaml", "Other")


# -- routes ---------------------------------------------------------------------------------------


def test_routes_of_sam_events_and_rest_methods() -> None:
    t = _template(
        """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    Auth:
      DefaultAuthorizer: Cognito
      Authorizers:
        Cognito:
          UserPoolArn: arn:aws:cognito-idp:us-east-1:123456789012:userpool/x
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      Handler: bootstrap
      CodeUri: .
      Events:
        Get:
          Type: Api
          Properties: {Path: /items, Method: get}
        Open:
          Type: Api
          Properties: {Path: /health, Method: get, Auth: {Authorizer: NONE}}
"""
    )
    from reviewer.discover import Inventory
    from reviewer.repo import RepoIndex

    repo = RepoIndex(Inventory(root=Path("."), files=(), skipped=(), modules=(), submodules=()))
    repo.templates[t.file] = t
    t.repo = repo
    found = {r.label: r.auth.kind for r in routes_mod.routes(repo, t)}
    assert found == {"GET /items": routes_mod.COGNITO, "GET /health": routes_mod.NONE}


# -- profile-driven rules ---------------------------------------------------------------------------


def test_geo_restriction_is_not_judged_when_the_profile_does_not_ask(tmp_path: Path) -> None:
    profile = dataclasses.replace(DEFAULT, geo_restriction=False)
    assert _scan("AR-NET-005", "AR-NET-005/fail.yaml", tmp_path, profile) == []


def test_geo_restriction_compares_declared_countries(tmp_path: Path) -> None:
    @dataclasses.dataclass(frozen=True)
    class GeoProfile(Profile):
        geo_countries: tuple[str, ...] = ("US", "CA")

    found = _scan("AR-NET-005", "AR-NET-005/pass.yaml", tmp_path, GeoProfile())
    assert [m for _, _, m in found] == [
        "Distribution SiteDistribution allows GB, which the profile does not declare "
        "(declared: US, CA)"
    ]


def test_ecs_public_ip_is_not_judged_without_the_declaration(tmp_path: Path) -> None:
    profile = dataclasses.replace(DEFAULT, private_subnets_behind_lb=False)
    assert _scan("AR-NET-006", "AR-NET-006/fail.yaml", tmp_path, profile) == []


def test_cloudfront_floor_follows_the_profile_tls_minimum(tmp_path: Path) -> None:
    profile = dataclasses.replace(DEFAULT, tls_minimum="TLSv1.3")
    found = _scan("AR-NET-004", "AR-NET-004/pass.yaml", tmp_path, profile)
    assert [(r, m.split(":")[0]) for _, r, m in found] == [
        (
            "SiteDistribution",
            "Distribution SiteDistribution has MinimumProtocolVersion TLSv1.2_2021, below TLSv1.3_2025",
        )
    ]


def test_api_domain_floor_follows_the_profile_tls_minimum(tmp_path: Path) -> None:
    profile = dataclasses.replace(DEFAULT, tls_minimum="TLSv1.3")
    found = _scan("AR-API-007", "AR-API-007/pass.yaml", tmp_path, profile)
    resources = sorted({r for _, r, _ in found})
    assert resources == ["Domain", "HttpDomain"]  # TLS_1_2 policies; the TLS 1.3 one passes


def test_waf_rule_groups_and_rate_rule_come_from_the_profile(tmp_path: Path) -> None:
    stricter = dataclasses.replace(
        DEFAULT,
        waf_managed_rule_groups=(
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
        ),
    )
    found = _scan("AR-API-002", "AR-API-002/pass.json", tmp_path, stricter)
    assert len(found) == 1 and "AWSManagedRulesKnownBadInputsRuleSet" in found[0][2]
    relaxed = dataclasses.replace(DEFAULT, waf_rate_limit=False)
    found = _scan("AR-API-002", "AR-API-002/fail.yaml", tmp_path / "relaxed", relaxed)
    assert {r for _, r, _ in found} == {"RateOnlyAcl", "EmptyAcl"}


def test_authorizer_kinds_come_from_the_profile(tmp_path: Path) -> None:
    cognito_only = dataclasses.replace(DEFAULT, authorizers=("COGNITO_USER_POOLS",))
    found = _scan("AR-API-006", "AR-API-006/pass.yaml", tmp_path, cognito_only)
    assert {r for _, r, _ in found} == {"TokenAuthorizer", "JwtAuthorizer"}
    with_iam = dataclasses.replace(DEFAULT, authorizers=(*DEFAULT.authorizers, "AWS_IAM"))
    assert _scan("AR-API-006", "AR-API-006/fail.yaml", tmp_path / "iam", with_iam) == []
