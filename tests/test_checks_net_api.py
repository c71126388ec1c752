"""Profile-driven behaviour of the NET and API checks, and their helpers (TLS tables, ARN
rendering, routes)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from reviewer.checks import net
from reviewer.checks import routes as routes_mod
from reviewer.checks.edge import protocol_version, render, tls_tables
from reviewer.core.types import Finding, Persona, Severity
from reviewer.decode.load import decode
from reviewer.model.build import build
from reviewer.model.template import Template
from reviewer.profile import BASELINE, Profile
from reviewer.profile.loader import preset
from reviewer.runner.engine import ScanOptions, all_checks, scan

from .conftest import FIXTURES

CHECKS = {c.rule_id: c for c in all_checks()}


def _findings(
    rule_id: str, fixture: str, tmp_path: Path, profile: Profile = BASELINE
) -> list[Finding]:
    """The findings of one rule on a fixture, at every persona."""
    source = FIXTURES / "templates" / fixture
    root = tmp_path / "repo"
    tmp_path.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, root)
    else:
        root.mkdir()
        shutil.copy(source, root / source.name)
    options = ScanOptions(
        profile=profile, checks=(CHECKS[rule_id],), strict=True, persona=Persona.AUDITOR
    )
    return [f for f in scan(root, options).findings if f.rule_id == rule_id]


def _scan(
    rule_id: str, fixture: str, tmp_path: Path, profile: Profile = BASELINE
) -> list[tuple[int, str, str]]:
    found = _findings(rule_id, fixture, tmp_path, profile)
    return [(f.line, f.resource or "", f.message) for f in found]


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
    from reviewer.discover.inventory import Inventory
    from reviewer.model.repo import RepoIndex

    repo = RepoIndex(Inventory(root=Path("."), files=(), skipped=(), modules=(), submodules=()))
    repo.templates[t.file] = t
    t.repo = repo
    found = {r.label: r.auth.kind for r in routes_mod.routes(repo, t)}
    assert found == {"GET /items": routes_mod.COGNITO, "GET /health": routes_mod.NONE}


# -- profile-driven rules ---------------------------------------------------------------------------

CHARIOT = preset("chariot")


def _declaring(**values: Any) -> Profile:
    """The baseline with `values` set and their schema keys declared."""
    keys = {
        "tls_minimum": "layers.data.tls_minimum",
        "waf_managed_rule_groups": "layers.api.waf_managed_rule_groups",
        "waf_rate_limit": "layers.api.waf_rate_limit",
        "authorizers": "layers.api.authorizer_kinds",
    }
    return dataclasses.replace(
        BASELINE, declared=frozenset(keys[name] for name in values), **values
    )


def test_geo_restriction_is_not_judged_when_the_profile_does_not_ask(tmp_path: Path) -> None:
    declared_off = dataclasses.replace(CHARIOT, geo_restriction=False)
    assert _scan("AR-NET-005", "AR-NET-005/fail.yaml", tmp_path, declared_off) == []
    # the baseline does not declare it: the rule does not run at all
    assert _scan("AR-NET-005", "AR-NET-005/fail.yaml", tmp_path / "baseline") == []
    assert _scan("AR-NET-005", "AR-NET-005/fail.yaml", tmp_path / "chariot", CHARIOT)


def test_geo_restriction_compares_declared_countries(tmp_path: Path) -> None:
    @dataclasses.dataclass(frozen=True)
    class GeoProfile(Profile):
        geo_countries: tuple[str, ...] = ("US", "CA")

    found = _scan(
        "AR-NET-005",
        "AR-NET-005/pass.yaml",
        tmp_path,
        GeoProfile(geo_restriction=True, declared=None),
    )
    assert [m for _, _, m in found] == [
        "Distribution SiteDistribution allows GB, which the profile does not declare "
        "(declared: US, CA)"
    ]


def test_ecs_public_ip_is_not_judged_without_the_declaration(tmp_path: Path) -> None:
    declared_off = dataclasses.replace(CHARIOT, private_subnets_behind_lb=False)
    assert _scan("AR-NET-006", "AR-NET-006/fail.yaml", tmp_path, declared_off) == []
    assert _scan("AR-NET-006", "AR-NET-006/fail.yaml", tmp_path / "baseline") == []


def test_cloudfront_floor_follows_the_declared_tls_minimum(tmp_path: Path) -> None:
    found = _findings(
        "AR-NET-004", "AR-NET-004/pass.yaml", tmp_path, _declaring(tls_minimum="TLSv1.3")
    )
    assert [(f.resource, f.message.split(":")[0], f.persona) for f in found] == [
        (
            "SiteDistribution",
            "Distribution SiteDistribution has MinimumProtocolVersion TLSv1.2_2021, below the "
            "declared minimum (TLSv1.3_2025)",
            Persona.REGULAR,  # a floor the repository declared is said by default
        )
    ]
    # a value nobody declared is not read: the baseline's TLS 1.2 floor applies
    undeclared = dataclasses.replace(BASELINE, tls_minimum="TLSv1.3")
    assert _findings("AR-NET-004", "AR-NET-004/pass.yaml", tmp_path / "u", undeclared) == []


def test_api_domain_floor_follows_the_declared_tls_minimum(tmp_path: Path) -> None:
    declared = _declaring(tls_minimum="TLSv1.3")
    found = _findings("AR-API-007", "AR-API-007/pass.yaml", tmp_path, declared)
    # TLS_1_2 policies; the TLS 1.3 one passes
    assert sorted({f.resource or "" for f in found}) == ["Domain", "HttpDomain"]
    assert all("below the declared minimum TLS 1.3" in f.message for f in found)
    assert {(f.severity, f.persona) for f in found} == {(Severity.LOW, Persona.REGULAR)}
    undeclared = dataclasses.replace(BASELINE, tls_minimum="TLSv1.3")
    assert _findings("AR-API-007", "AR-API-007/pass.yaml", tmp_path / "u", undeclared) == []


def test_api_domain_messages_claim_no_declaration_under_the_baseline(tmp_path: Path) -> None:
    found = _findings("AR-API-007", "AR-API-007/fail.yaml", tmp_path)
    tls = [f for f in found if f.property == "SecurityPolicy"]
    assert tls and all("which RFC 8996 deprecates" in f.message for f in tls)
    assert not any("declared" in f.message for f in found)


def test_waf_rule_groups_and_rate_rule_come_from_the_profile(tmp_path: Path) -> None:
    stricter = _declaring(
        waf_managed_rule_groups=(
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
        )
    )
    found = _findings("AR-API-002", "AR-API-002/pass.json", tmp_path, stricter)
    assert len(found) == 1 and "AWSManagedRulesKnownBadInputsRuleSet" in found[0].message
    assert found[0].persona == Persona.REGULAR  # a declared expectation is said by default
    relaxed = _declaring(waf_rate_limit=False)
    found = _findings("AR-API-002", "AR-API-002/fail.yaml", tmp_path / "relaxed", relaxed)
    assert {f.resource for f in found} == {"RateOnlyAcl", "EmptyAcl"}
    # the baseline's expectations (common rule set, rate rule) hold without a declaration,
    # as hygiene
    found = _findings("AR-API-002", "AR-API-002/fail.yaml", tmp_path / "baseline")
    assert {f.resource for f in found} == {"RateOnlyAcl", "EmptyAcl", "ManagedOnlyAcl"}
    assert {f.persona for f in found} == {Persona.PEDANTIC}


def test_authorizer_kinds_come_from_the_profile(tmp_path: Path) -> None:
    cognito_only = _declaring(authorizers=("COGNITO_USER_POOLS",))
    found = _scan("AR-API-006", "AR-API-006/pass.yaml", tmp_path, cognito_only)
    assert {r for _, r, _ in found} == {"TokenAuthorizer", "JwtAuthorizer"}
    with_iam = dataclasses.replace(CHARIOT, authorizers=(*CHARIOT.authorizers, "AWS_IAM"))
    assert _scan("AR-API-006", "AR-API-006/fail.yaml", tmp_path / "iam", with_iam) == []


# -- one finding per root cause -------------------------------------------------------------------


def test_open_routes_of_one_api_are_one_finding_with_related_routes(tmp_path: Path) -> None:
    (finding,) = _findings("AR-API-005", "AR-API-005/fail-one-per-api.yaml", tmp_path)
    assert (finding.resource, finding.property) == ("StandardMethod", "AuthorizationType")
    related = {(r.logical_id, r.path, r.message) for r in finding.related}
    assert related == {
        (
            "CounterFunction",
            "Events.Standard",
            "the same route GET /standard, also declared by event Standard of CounterFunction",
        ),
        (
            "IsolatedMethod",
            "AuthorizationType",
            "also reachable without an authorizer: GET /isolated (Method IsolatedMethod)",
        ),
        ("Api", None, "API"),
    }


def test_world_open_rules_of_one_group_are_one_finding(tmp_path: Path) -> None:
    found = _findings("AR-NET-002", "AR-NET-002/fail-vpc-internal.yaml", tmp_path)
    docdb = [f for f in found if f.resource == "DocDBSecurityGroup"]
    assert len(docdb) == 1
    assert [(r.path, r.message) for r in docdb[0].related] == [
        ("SecurityGroupIngress[1].CidrIpv6", "also open: tcp port 27017 (MongoDB/DocumentDB)")
    ]


def test_password_length_and_classes_are_one_finding(tmp_path: Path) -> None:
    (finding,) = _findings("AR-IDN-002", "AR-IDN-002/fail-very-short.yaml", tmp_path)
    assert finding.severity == Severity.MEDIUM and finding.persona == Persona.REGULAR
    assert [r.path for r in finding.related] == ["Policies.PasswordPolicy.RequireLowercase"]


def test_mfa_of_a_pool_exchanged_for_aws_credentials_names_the_identity_pool(
    tmp_path: Path,
) -> None:
    (finding,) = _findings("AR-IDN-001", "AR-IDN-001/fail-identity-pool.yaml", tmp_path)
    assert finding.persona == Persona.REGULAR
    assert [(r.logical_id, r.message) for r in finding.related] == [
        ("IdentityPool", "identity pool")
    ]


# -- what a security group exposes ------------------------------------------------------------------


def test_security_group_reach_follows_what_the_group_is_attached_to() -> None:
    t = _template(
        """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Unused:
    Type: AWS::EC2::SecurityGroup
  LambdaOnly:
    Type: AWS::EC2::SecurityGroup
  Internal:
    Type: AWS::EC2::SecurityGroup
  Mixed:
    Type: AWS::EC2::SecurityGroup
  PublicDb:
    Type: AWS::EC2::SecurityGroup
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      VpcConfig: {SecurityGroupIds: [!Ref LambdaOnly, !Ref Mixed], SubnetIds: [subnet-1]}
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: internal, SecurityGroups: [!Ref Internal]}
  Cache:
    Type: AWS::ElastiCache::ReplicationGroup
    Properties: {SecurityGroupIds: [!Ref Internal]}
  Db:
    Type: AWS::RDS::DBInstance
    Properties: {PubliclyAccessible: true, VPCSecurityGroups: [!Ref PublicDb]}
  Host:
    Type: AWS::EC2::Instance
    Properties: {SecurityGroupIds: [!Ref Mixed]}
  FromLambda:
    Type: AWS::EC2::SecurityGroupIngress
    Properties: {GroupId: !Ref Internal, SourceSecurityGroupId: !Ref LambdaOnly}
"""
    )
    reach = {
        g: net.security_group_reach(t, g)
        for g in ("Unused", "LambdaOnly", "Internal", "Mixed", "PublicDb")
    }
    assert {g: r.kind for g, r in reach.items()} == {
        "Unused": "internet",  # attached nowhere here: not known, so not relaxed
        "LambdaOnly": "none",  # a SourceSecurityGroupId is not an attachment
        "Internal": "vpc",
        "Mixed": "internet",
        "PublicDb": "internet",
    }
    assert reach["Internal"].attached == ("Lb", "Cache")


# -- personas -------------------------------------------------------------------------------------


def test_hygiene_findings_are_hidden_at_the_default_persona_and_counted(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(FIXTURES / "templates" / "AR-API-004" / "fail.yaml", root / "fail.yaml")
    report = scan(root, ScanOptions(checks=(CHECKS["AR-API-004"],), strict=True))
    assert [f for f in report.findings if f.rule_id == "AR-API-004"] == []
    assert dict(report.hidden).get("pedantic", 0) >= 3


def test_older_ciphers_under_a_declared_tls_1_2_are_hygiene_not_a_broken_declaration(
    tmp_path: Path,
) -> None:
    found = _findings("AR-NET-004", "AR-NET-004/fail-old-tls.yaml", tmp_path, CHARIOT)
    ciphers = [f for f in found if "TLSv1.2_2019" in f.message]
    assert ciphers and all(f.persona == Persona.PEDANTIC for f in ciphers)
    assert not any("declared" in f.message for f in ciphers)  # TLS 1.2 is what was declared
