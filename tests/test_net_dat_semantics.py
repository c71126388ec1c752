"""Issue 17 semantics of the NET and DAT checks: reachability of world-open security groups from
attachment and routing (AR-NET-002), placeholders and slashes in secrets and credentials
published in Outputs (AR-DAT-007), public flags of MQ, Redshift, DMS and open search domains
(AR-NET-001), and CloudFront viewer certificates without exactly one source (AR-NET-004)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.checks.dat import path_like, placeholder_kind, plaintext
from reviewer.core.types import Confidence, Finding, Persona, Severity
from reviewer.runner.engine import ScanOptions, all_checks, scan

CHECKS = {c.rule_id: c for c in all_checks()}


def _scan(rule_id: str, text: str, tmp_path: Path, name: str = "template.yaml") -> list[Finding]:
    root = tmp_path / "repo"
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text, encoding="utf-8")
    options = ScanOptions(checks=(CHECKS[rule_id],), strict=True, persona=Persona.AUDITOR)
    return [f for f in scan(root, options).findings if f.rule_id == rule_id]


# -- AR-DAT-007: placeholders ----------------------------------------------------------------

PLACEHOLDERS = [
    "<>",
    "<<Enter your secret>>",
    "<your api key>",
    "Bearer <<Enter your APIKeyValue>>",
    "CHANGE_ME",
    "changeme",
    "change-it",
    "DUMMY_TOKEN",
    "dummy-value",
    "unused",
    "xxxxxxxxxxxx",
    "TODO",
    "REPLACE_WITH_REAL_KEY",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "my-example-secret",
    "xoxb-ENTER YOUR BOT'S ACCESS TOKEN HERE",
    "MyAPIkey",
    "KeyValue",
    "********",
]
REAL = [
    "activemqPassword123",
    "poc-microvm-token-42",
    "47C98BD15C48248F79DAAEDB82C297280287A120986E413AA40983F6746BE421",
    "Enterprise2024!",  # "enter" inside a word is not the verb
    "MyPassword",  # may well be the real (weak) password
    "password",
    "s3cr3t-Value-9",
    "Zq3/Lk8vTn2pRw5xYb7cMd9fGh1jKs4uVe6aNo0i",
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders_are_recognised_as_a_class(value: str) -> None:
    assert placeholder_kind(value) is not None


@pytest.mark.parametrize("value", REAL)
def test_credential_like_values_are_not_placeholders(value: str) -> None:
    assert placeholder_kind(value) is None


def test_placeholder_word_split_is_bounded() -> None:
    # a long run of describing words is not split (the split is capped at 64 characters)
    assert placeholder_kind("keyvalue" * 10_000) is None


def test_placeholder_is_pedantic_low_and_says_it_is_not_a_credential(tmp_path: Path) -> None:
    found = _scan(
        "AR-DAT-007",
        """
Parameters:
  ClientSecret:
    Type: String
    NoEcho: true
    Default: '<>'
  ApiToken:
    Type: String
    Default: real-token-8f3kQ92
Resources:
  Topic:
    Type: AWS::SNS::Topic
""",
        tmp_path,
    )
    by_line = {f.message.split(" ")[1]: f for f in found}
    placeholder = by_line["ClientSecret"]
    assert (placeholder.severity, placeholder.persona) == (Severity.LOW, Persona.PEDANTIC)
    assert "it is not a credential" in placeholder.message
    assert "NoEcho" not in placeholder.message.split(";")[-1]  # already NoEcho: not asked
    real = by_line["ApiToken"]
    assert (real.severity, real.persona) == (Severity.HIGH, Persona.REGULAR)
    assert "the secret is stored in the template" in real.message


# -- AR-DAT-007: secrets containing "/" --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["/aws/lambda/x", "./certs/key.pem", "s3://bucket/key", "https://issuer/oauth2/token"],
)
def test_real_paths_and_urls_stay_out(value: str) -> None:
    assert path_like(value)
    assert not plaintext(value)


@pytest.mark.parametrize("value", ["prod/app/db-credentials", "MyApp/Prod/DbPassword"])
def test_secret_names_stay_out(value: str) -> None:
    assert not plaintext(value)


@pytest.mark.parametrize(
    "value", ["Zq3/Lk8vTn2pRw5xYb7cMd9fGh1jKs4uVe6aNo0i", "Pa55/w0rdQ9", "qW3e/Rt5yU8iO/pA2sD4"]
)
def test_secrets_with_a_slash_are_literals(value: str) -> None:
    assert not path_like(value)
    assert plaintext(value)


def test_slash_does_not_change_the_finding(tmp_path: Path) -> None:
    """The same 40-character key with and without its slashes gives the same finding."""
    with_slash = "Zq3/Lk8vTn2pRw5xYb7cMd9fGh1jKs4uVe6aNo0i"
    without = with_slash.replace("/", "A")
    template = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code:
        ZipFile: x
      Environment:
        Variables:
          AWS_SECRET_ACCESS_KEY: {value}
"""
    a = _scan("AR-DAT-007", template.format(value=with_slash), tmp_path / "a")
    b = _scan("AR-DAT-007", template.format(value=without), tmp_path / "b")
    assert [(f.message, f.severity, f.confidence) for f in a] == [
        (f.message, f.severity, f.confidence) for f in b
    ]
    assert len(a) == 1 and "40-character literal" in a[0].message


# -- AR-DAT-007: credentials published in Outputs ---------------------------------------------

OUTPUTS = """
Resources:
  Api:
    Type: AWS::AppSync::GraphQLApi
    Properties:
      Name: a
      AuthenticationType: API_KEY
  Key:
    Type: AWS::AppSync::ApiKey
    Properties:
      ApiId: !GetAtt Api.ApiId
Outputs:
  Out:
    Value: {value}
"""


@pytest.mark.parametrize(
    ("value", "published"),
    [
        ("!GetAtt Key.ApiKey", True),
        ('!Sub "${Key.ApiKey}"', True),
        ("!Ref Key", False),  # the key's ARN
        ("!GetAtt Key.ApiKeyId", False),
        ("!GetAtt Key.Arn", False),
    ],
)
def test_appsync_api_key_in_outputs(value: str, published: bool, tmp_path: Path) -> None:
    found = _scan("AR-DAT-007", OUTPUTS.format(value=value), tmp_path)
    assert bool(found) is published
    if published:
        (f,) = found
        assert (f.severity, f.confidence, f.persona) == (
            Severity.MEDIUM,
            Confidence.HIGH,
            Persona.REGULAR,
        )
        assert "cloudformation:DescribeStacks" in f.message


# -- AR-NET-002: reachability ------------------------------------------------------------------

GROUP = """
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      VpcId: {vpc}
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: 0.0.0.0/0
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-12345678
      SubnetId: {subnet}
      SecurityGroupIds: [!Ref Group]
"""
NETWORK = """
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.1.0/24
      MapPublicIpOnLaunch: true
"""
GATEWAY = """
  Igw:
    Type: AWS::EC2::InternetGateway
  Attach:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties:
      VpcId: !Ref Vpc
      InternetGatewayId: !Ref Igw
  Table:
    Type: AWS::EC2::RouteTable
    Properties:
      VpcId: !Ref Vpc
  Default:
    Type: AWS::EC2::Route
    Properties:
      RouteTableId: !Ref Table
      DestinationCidrBlock: 0.0.0.0/0
      GatewayId: !Ref Igw
"""
ASSOCIATION = """
  Assoc:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties:
      SubnetId: !Ref Subnet
      RouteTableId: !Ref Table
"""
PARAMETERS = """
Parameters:
  VpcId:
    Type: AWS::EC2::VPC::Id
  SubnetId:
    Type: AWS::EC2::Subnet::Id
"""


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "routed",
            "Resources:"
            + NETWORK
            + GATEWAY
            + ASSOCIATION
            + GROUP.format(vpc="!Ref Vpc", subnet="!Ref Subnet"),
            ("internet", Severity.CRITICAL, Confidence.HIGH),
        ),
        (
            "no-gateway",
            "Resources:" + NETWORK + GROUP.format(vpc="!Ref Vpc", subnet="!Ref Subnet"),
            ("no-internet-route", Severity.MEDIUM, Confidence.HIGH),
        ),
        (
            "gateway-but-subnet-not-routed",
            "Resources:" + NETWORK + GATEWAY + GROUP.format(vpc="!Ref Vpc", subnet="!Ref Subnet"),
            ("no-internet-route", Severity.MEDIUM, Confidence.HIGH),
        ),
        (
            "vpc-from-parameter",
            PARAMETERS + "Resources:" + GROUP.format(vpc="!Ref VpcId", subnet="!Ref SubnetId"),
            ("internet", Severity.CRITICAL, Confidence.MEDIUM),
        ),
    ],
)
def test_world_open_group_follows_routing(
    name: str, text: str, expected: tuple[str, Severity, Confidence], tmp_path: Path
) -> None:
    (f,) = _scan("AR-NET-002", text, tmp_path)
    variant, severity, confidence = expected
    assert (f.severity, f.confidence) == (severity, confidence), f.message
    if variant == "no-internet-route":
        assert "the internet has no way in" in f.message
    else:
        assert "must never face the whole internet" in f.message
    if name == "vpc-from-parameter":
        assert "comes from parameter VpcId" in f.message


def test_exported_group_in_a_vpc_without_gateway_is_not_internet_facing(tmp_path: Path) -> None:
    text = (
        "Resources:"
        + NETWORK
        + """
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 0, ToPort: 65535, CidrIp: 0.0.0.0/0}
Outputs:
  GroupId:
    Value: !GetAtt Group.GroupId
"""
    )
    (f,) = _scan("AR-NET-002", text, tmp_path)
    assert f.severity is Severity.MEDIUM
    assert "its VPC Vpc has no internet gateway attached in the template" in f.message


def test_lambda_only_group_stays_pedantic(tmp_path: Path) -> None:
    text = (
        PARAMETERS
        + """Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      VpcId: !Ref VpcId
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: 0.0.0.0/0}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: a.h
      Role: arn:aws:iam::123456789012:role/fn
      Code: {ZipFile: x}
      VpcConfig:
        SecurityGroupIds: [!Ref Group]
        SubnetIds: [!Ref SubnetId]
"""
    )
    (f,) = _scan("AR-NET-002", text, tmp_path)
    assert (f.severity, f.persona) == (Severity.LOW, Persona.PEDANTIC)


# -- AR-NET-001: public flags and open search domains ------------------------------------------


def test_open_domain_policy_written_as_json_string(tmp_path: Path) -> None:
    policy = json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "es:*", "Resource": "*"}]}
    )
    text = f"""
Resources:
  Domain:
    Type: AWS::Elasticsearch::Domain
    Properties:
      AccessPolicies: '{policy}'
"""
    (f,) = _scan("AR-NET-001", text, tmp_path)
    assert f.severity is Severity.CRITICAL
    assert "anyone on the internet can call it" in f.message


def test_hostile_access_policy_is_inert(tmp_path: Path) -> None:
    """A deeply nested or malformed policy string is no crash and no open-domain claim."""
    nested = "[" * 5000 + "]" * 5000
    text = f"""
Resources:
  Deep:
    Type: AWS::OpenSearchService::Domain
    Properties:
      AccessPolicies: '{nested}'
  Broken:
    Type: AWS::OpenSearchService::Domain
    Properties:
      AccessPolicies: '{{"Statement": ['
"""
    found = _scan("AR-NET-001", text, tmp_path)
    assert sorted(f.resource or "" for f in found) == ["Broken", "Deep"]
    assert all(f.severity is Severity.MEDIUM for f in found)


def test_dms_public_by_default_and_private_when_said(tmp_path: Path) -> None:
    text = """
Resources:
  Default:
    Type: AWS::DMS::ReplicationInstance
    Properties:
      ReplicationInstanceClass: dms.t3.medium
  Private:
    Type: AWS::DMS::ReplicationInstance
    Properties:
      ReplicationInstanceClass: dms.t3.medium
      PubliclyAccessible: false
"""
    found = _scan("AR-NET-001", text, tmp_path)
    assert [(f.resource, f.confidence) for f in found] == [("Default", Confidence.MEDIUM)]


# -- AR-NET-004: certificate sources -----------------------------------------------------------

DISTRIBUTION = """
Resources:
  Dist:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        WebACLId: arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/b
        DefaultCacheBehavior:
          TargetOriginId: o
          ViewerProtocolPolicy: https-only
        ViewerCertificate: {certificate}
"""


@pytest.mark.parametrize(
    ("certificate", "says", "severity"),
    [
        ("{}", "has an empty ViewerCertificate", Severity.LOW),
        ("{MinimumProtocolVersion: TLSv1.2_2021}", "names no certificate source", Severity.MEDIUM),
        (
            "{CloudFrontDefaultCertificate: false, MinimumProtocolVersion: TLSv1.2_2021}",
            "names no certificate source",
            Severity.MEDIUM,
        ),
        (
            "{AcmCertificateArn: arn:aws:acm:us-east-1:1:certificate/a, IamCertificateId: X}",
            "names 2 certificate sources",
            Severity.MEDIUM,
        ),
        (
            "{CloudFrontDefaultCertificate: true, MinimumProtocolVersion: TLSv1.2_2021}",
            "fixes the security policy at TLSv1 whatever MinimumProtocolVersion says",
            Severity.LOW,
        ),
        (
            "{AcmCertificateArn: arn:aws:acm:us-east-1:1:certificate/a, "
            "SslSupportMethod: sni-only, MinimumProtocolVersion: TLSv1.2_2021}",
            None,
            None,
        ),
    ],
)
def test_viewer_certificate_needs_exactly_one_source(
    certificate: str, says: str | None, severity: Severity | None, tmp_path: Path
) -> None:
    found = _scan("AR-NET-004", DISTRIBUTION.format(certificate=certificate), tmp_path)
    if says is None:
        assert found == []
        return
    (f,) = found
    assert says in f.message
    assert f.severity is severity


def test_long_placeholder_scan_finishes(tmp_path: Path) -> None:
    """A megabyte-long value under a credential name is judged without a hang (a subprocess
    killed after 60 s is a failure)."""
    root = tmp_path / "repo"
    root.mkdir()
    value = "ab/" * 300_000 + "x"
    (root / "template.yaml").write_text(
        f"Parameters:\n  DbPassword:\n    Type: String\n    Default: '{value}'\n"
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n",
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from reviewer.runner.engine import ScanOptions, all_checks, scan\n"
        "c = [x for x in all_checks() if x.rule_id == 'AR-DAT-007']\n"
        "r = scan(Path(sys.argv[1]), ScanOptions(checks=tuple(c)))\n"
        "print(len(r.findings))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("value", "published"),
    [
        ("!Ref DbPassword", True),
        ('!Sub "postgres://app:${DbPassword}@db/app"', True),
        ('!Sub ["x${DbPassword}", {DbPassword: masked}]', False),  # a local Sub variable
        ("!Ref Stage", False),
        ("!Ref ApiKeyParameterName", False),  # an SSM parameter type names a parameter
    ],
)
def test_secret_parameter_echoed_in_outputs(value: str, published: bool, tmp_path: Path) -> None:
    text = f"""
Parameters:
  DbPassword:
    Type: String
    NoEcho: true
  Stage:
    Type: String
  ApiKeyParameterName:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /app/api-key
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  Out:
    Value: {value}
"""
    found = _scan("AR-DAT-007", text, tmp_path)
    assert [f.message.startswith("Output Out shows the value of parameter") for f in found] == (
        [True] if published else []
    )


@pytest.mark.parametrize(
    ("balanced", "severity"), [(False, Severity.MEDIUM), (True, Severity.HIGH)]
)
def test_load_balancer_targets_keep_internet_reach(
    balanced: bool, severity: Severity, tmp_path: Path
) -> None:
    """Tasks without public IPs have no way in of their own, but behind a load balancer (a
    network load balancer hands them the clients' addresses) the world-open rule is what admits
    the internet: no routing claim is made for them."""
    lb = (
        "\n      LoadBalancers:\n        - {ContainerName: app, ContainerPort: 8080, "
        "TargetGroupArn: arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/a/b}"
        if balanced
        else ""
    )
    text = (
        "Resources:"
        + NETWORK
        + GATEWAY
        + """
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 8080, ToPort: 8080, CidrIp: 0.0.0.0/0}
  Service:
    Type: AWS::ECS::Service
    Properties:
      TaskDefinition: app:1"""
        + lb
        + """
      NetworkConfiguration:
        AwsvpcConfiguration:
          Subnets: [!Ref Subnet]
          SecurityGroups: [!Ref Group]
"""
    )
    (f,) = _scan("AR-NET-002", text, tmp_path)
    assert f.severity is severity, f.message
