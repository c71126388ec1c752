"""The native SAM model (reviewer/cfn/sam.py) against aws-sam-translator.

- Corpus parity (slow, needs ../shared): for every SAM template of serverless-patterns, the
  (type, logical id) pairs of the types the rules read are the translator's, up to the known,
  documented exceptions of docs/adr/0001-native-sam-model.md.
- Inline templates: generated ids and types for SAM features the corpus does not exercise
  (each also checked against the translator when it is installed), and the lines the
  generated properties locate to.
"""

from __future__ import annotations

import logging
import textwrap
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import sam_parity
from reviewer.decode.load import decode
from reviewer.model.build import build
from reviewer.model.template import Template

from .conftest import require_shared

# (template, side, type, logical id) pairs the model and the translator disagree on, each
# explained in docs/adr/0001-native-sam-model.md ("Remaining mismatches"). None today.
KNOWN_MISMATCHES: set[tuple[str, str, str, str]] = set()

# Templates aws-sam-translator refuses (so they are not compared): an empty `Resources:`.
KNOWN_REFUSED = {
    "_pattern-model/template.yaml",
    "apigw-lambda-sagemaker-jumpstartendpoint-cdk-python/template.yaml",
    "dynamodb-lambda-cdk-kotlin/template.yaml",
    "kinesis-lambda-ddb-cdk-java/template.yaml",
    "kinesis-lambda-py-cdk/template.yaml",
}

HEADER = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"


def model(body: str) -> Template:
    text = HEADER + textwrap.dedent(body)
    tree, problems = decode(text)
    assert tree is not None, problems
    return build("template.yaml", ".", tree, text)


def pairs(template: Template, *types: str) -> set[tuple[str, str]]:
    wanted = set(types or sam_parity.TYPES)
    return {(r.type, r.logical_id) for r in template.resources.values() if r.type in wanted}


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle` (in HEADER + text)."""
    for n, line in enumerate((HEADER + textwrap.dedent(text)).split("\n"), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


def python_function(name: str) -> str:
    """The head of a SAM function (Python, code on S3) for an inline template; what the test
    needs of it (Role, Events, ...) follows as more Properties."""
    return (
        f"  {name}:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        "      CodeUri: s3://bucket/key\n"
    )


def translator_agrees(body: str) -> None:
    """Our pairs of the rule types equal the translator's (skipped without the translator)."""
    pytest.importorskip("samtranslator")
    text = HEADER + textwrap.dedent(body)
    tree, _ = decode(text)
    assert tree is not None
    src = sam_parity.Source("inline.yaml", text, tree)
    ours, _ = sam_parity.model_pairs(src)
    logging.disable(logging.WARNING)
    try:
        theirs = sam_parity.translator_pairs(src)
    finally:
        logging.disable(logging.NOTSET)
    assert ours == theirs, {"only ours": ours - theirs, "only translator": theirs - ours}


# -- corpus --------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.shared
def test_corpus_parity_with_translator() -> None:
    pytest.importorskip("samtranslator")
    corpus = require_shared("corpora", "serverless-patterns")
    logging.disable(logging.WARNING)
    try:
        result = sam_parity.run(corpus)
    finally:
        logging.disable(logging.NOTSET)
    assert result.compared >= 490, sam_parity.report(result)
    assert set(result.refused) == KNOWN_REFUSED, result.refused
    assert result.mismatches() == KNOWN_MISMATCHES, sam_parity.report(result)
    per_type = result.per_type()
    # every type the rules read is exercised by the corpus except none-generated Methods/Routes
    for rtype in ("AWS::ApiGateway::Stage", "AWS::Lambda::Permission", "AWS::IAM::Role"):
        assert per_type[rtype][0] > 50, per_type


# -- inline templates: ids ------------------------------------------------------------------
IMPLICIT_REST = """\
Globals:
  Api:
    MethodSettings:
      - ResourcePath: /*
        HttpMethod: "*"
        LoggingLevel: INFO
  Function:
    Runtime: python3.12
    Handler: app.handler
    CodeUri: src/
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: s3:GetObject
              Resource: "*"
      Events:
        Get:
          Type: Api
          Properties:
            Path: /
            Method: get
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
  Q:
    Type: AWS::SQS::Queue
"""


def test_implicit_rest_api_ids_and_lines() -> None:
    t = model(IMPLICIT_REST)
    assert pairs(t) == {
        ("AWS::IAM::Role", "FnRole"),
        ("AWS::ApiGateway::Stage", "ServerlessRestApiProdStage"),
        ("AWS::Lambda::Permission", "FnGetPermissionProd"),
        ("AWS::Lambda::EventSourceMapping", "FnQueue"),
    }
    stage = t.resources["ServerlessRestApiProdStage"]
    assert stage.source == "ServerlessRestApi"
    assert t.resources["ServerlessRestApi"].type == "AWS::Serverless::Api"
    # inherited from Globals: the property locates to the Globals line
    span = t.locate("ServerlessRestApiProdStage", ("Properties", "MethodSettings"))
    assert span.line == line_of(IMPLICIT_REST, "MethodSettings:")
    span = t.locate("ServerlessRestApiProdStage", ("Properties", "MethodSettings", 0))
    assert span.line == line_of(IMPLICIT_REST, "- ResourcePath")
    # generated from the event: the event's lines
    span = t.locate("FnQueue", ("Properties", "EventSourceArn"))
    assert span.line == line_of(IMPLICIT_REST, "Queue: !GetAtt")
    assert t.locate("FnGetPermissionProd", ("Properties",)).line == line_of(IMPLICIT_REST, "Get:")
    span = t.locate("FnRole", ("Properties", "Policies"))
    assert span.line == line_of(IMPLICIT_REST, "Policies:")
    # Globals merged into the function keep their lines too
    assert t.locate("Fn", ("Properties", "Runtime")).line == line_of(IMPLICIT_REST, "Runtime:")
    assert t.aliases["ServerlessRestApi.Stage"] == "ServerlessRestApiProdStage"
    translator_agrees(IMPLICIT_REST)


EXPLICIT_REST = (
    """\
Parameters:
  Stage:
    Type: String
    Default: dev
Resources:
  Literal:
    Type: AWS::Serverless::Api
    Properties:
      StageName: dev
      Auth:
        Authorizers:
          Lam:
            FunctionArn: !GetAtt Fn.Arn
          Quiet:
            FunctionArn: !GetAtt Fn.Arn
            DisableFunctionDefaultPermissions: true
        UsagePlan:
          CreateUsagePlan: PER_API
  ByRef:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
  Dotted:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1.0
"""
    + python_function("Fn")
    + """\
      Events:
        A:
          Type: Api
          Properties: {RestApiId: !Ref Literal, Path: /a, Method: get}
        B:
          Type: Api
          Properties: {RestApiId: !Ref ByRef, Path: /b, Method: get}
        C:
          Type: Api
          Properties: {RestApiId: Dotted, Path: /c, Method: get}
"""
)


def test_explicit_rest_api_stage_and_permission_names() -> None:
    t = model(EXPLICIT_REST)
    hashed = sam_parity_hash("v1.0")
    assert pairs(t) == {
        ("AWS::IAM::Role", "FnRole"),
        ("AWS::ApiGateway::Stage", "LiteraldevStage"),
        # an intrinsic StageName: no name in the id, whatever the parameter's default
        ("AWS::ApiGateway::Stage", "ByRefStage"),
        ("AWS::ApiGateway::Stage", f"DottedStage{hashed}"),
        ("AWS::Lambda::Permission", "FnAPermissiondev"),
        ("AWS::Lambda::Permission", "FnBPermissionStage"),
        ("AWS::Lambda::Permission", f"FnCPermission{hashed}"),
        ("AWS::Lambda::Permission", "LiteralLamAuthorizerPermission"),
    }
    assert {"LiteralUsagePlan", "LiteralApiKey", "LiteralUsagePlanKey"} <= set(t.resources)
    translator_agrees(EXPLICIT_REST)


def sam_parity_hash(value: str) -> str:
    import hashlib

    return hashlib.sha1(value.encode()).hexdigest()[:10]


HTTP = (
    """\
Globals:
  HttpApi:
    AccessLogSettings:
      DestinationArn: arn:aws:logs:us-east-1:123456789012:log-group:x
      Format: $context.requestId
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          WithPerm:
            FunctionArn: !GetAtt Auth.Arn
            EnableFunctionDefaultPermissions: true
            AuthorizerPayloadFormatVersion: "2.0"
            Identity: {Headers: [Authorization]}
          NoPerm:
            FunctionArn: !GetAtt Auth.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            Identity: {Headers: [Authorization]}
  Named:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: prod
  Auth:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: a.h, CodeUri: s3://b/k}
"""
    + python_function("Fn")
    + """\
      Role: arn:aws:iam::123456789012:role/given
      Events:
        Explicit:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /x, Method: get}
        Implicit:
          Type: HttpApi
"""
)


def test_http_api_stages_and_permissions() -> None:
    t = model(HTTP)
    assert pairs(t) == {
        ("AWS::IAM::Role", "AuthRole"),
        ("AWS::ApiGatewayV2::Stage", "ApiApiGatewayDefaultStage"),
        ("AWS::ApiGatewayV2::Stage", "NamedprodStage"),
        ("AWS::ApiGatewayV2::Stage", "ServerlessHttpApiApiGatewayDefaultStage"),
        ("AWS::Lambda::Permission", "FnExplicitPermission"),
        ("AWS::Lambda::Permission", "FnImplicitPermission"),
        ("AWS::Lambda::Permission", "ApiWithPermAuthorizerPermission"),
    }
    span = t.locate("ServerlessHttpApiApiGatewayDefaultStage", ("Properties", "AccessLogSettings"))
    assert span.line == line_of(HTTP, "AccessLogSettings:")
    translator_agrees(HTTP)


EVENTS = (
    """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Pool:
    Type: AWS::Cognito::UserPool
"""
    + python_function("Fn")
    + """\
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Enabled: false
      FunctionUrlConfig:
        AuthType: NONE
      Events:
        Direct:
          Type: SNS
          Properties: {Topic: !Ref Topic}
        ViaQueue:
          Type: SNS
          Properties: {Topic: !Ref Topic, SqsSubscription: true}
        ViaExisting:
          Type: SNS
          Properties:
            Topic: !Ref Topic
            SqsSubscription:
              QueueArn: arn:aws:sqs:us-east-1:123456789012:q
              QueueUrl: https://sqs.us-east-1.amazonaws.com/123456789012/q
        Pre:
          Type: Cognito
          Properties: {UserPool: !Ref Pool, Trigger: PreSignUp}
        Post:
          Type: Cognito
          Properties: {UserPool: !Ref Pool, Trigger: PostConfirmation}
        Tick:
          Type: Schedule
          Properties: {Schedule: rate(1 hour)}
        Tock:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(1 hour)}
        Logs:
          Type: CloudWatchLogs
          Properties: {LogGroupName: /x, FilterPattern: ""}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
      Events:
        Rule:
          Type: EventBridgeRule
          Properties: {Pattern: {source: [x]}}
        Timer:
          Type: Schedule
          Properties: {Schedule: rate(1 day), RoleArn: arn:aws:iam::123456789012:role/r}
        V2:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(1 day)}
        Http:
          Type: Api
          Properties: {Path: /start, Method: post}
"""
)


def test_event_sources() -> None:
    t = model(EVENTS)
    assert pairs(t) == {
        ("AWS::IAM::Role", "FnRole"),
        ("AWS::IAM::Role", "FnTockRole"),
        ("AWS::IAM::Role", "MachineRole"),
        ("AWS::IAM::Role", "MachineRuleRole"),
        ("AWS::IAM::Role", "MachineV2Role"),
        ("AWS::IAM::Role", "MachineHttpRole"),
        ("AWS::Lambda::Permission", "FnDirectPermission"),
        # Cognito: one per function, named after the alias when there is one
        ("AWS::Lambda::Permission", "FnAliasliveCognitoPermission"),
        ("AWS::Lambda::Permission", "FnTickPermission"),
        ("AWS::Lambda::Permission", "FnLogsPermission"),
        ("AWS::Lambda::Permission", "FnUrlPublicPermissions"),
        ("AWS::Lambda::Permission", "FnURLInvokeAllowPublicAccess"),
        ("AWS::Lambda::EventSourceMapping", "FnViaQueueEventSourceMapping"),
        ("AWS::Lambda::EventSourceMapping", "FnViaExistingEventSourceMapping"),
        ("AWS::ApiGateway::Stage", "ServerlessRestApiProdStage"),
    }
    # a disabled deployment preference makes no CodeDeploy resources
    assert "CodeDeployServiceRole" not in t.resources
    assert "FnDeploymentGroup" not in t.resources
    assert "FnViaQueueQueue" in t.resources
    assert "FnViaExistingQueue" not in t.resources
    assert t.aliases["Fn.Alias"] == "FnAliaslive"
    span = t.locate("FnDirectPermission", ("Properties", "SourceArn"))
    assert span.line == line_of(EVENTS, "Properties: {Topic: !Ref Topic}")
    translator_agrees(EVENTS)


MISC = (
    """\
Conditions:
  UseGiven: !Equals [a, b]
Resources:
"""
    + python_function("Maybe")
    + """\
      Role: !If [UseGiven, arn:aws:iam::123456789012:role/given, !Ref AWS::NoValue]
      Events:
        Upload:
          Type: S3
          Properties: {Bucket: !Ref Bucket, Events: s3:ObjectCreated:*}
  Bucket:
    Type: AWS::S3::Bucket
  Topic:
    Type: AWS::SNS::Topic
    Connectors:
      ToFn:
        Properties:
          Destination: {Id: Maybe}
          Permissions: [Write]
  Table:
    Type: AWS::Serverless::SimpleTable
  Plain:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: s3://bucket/key}
  Link:
    Type: AWS::Serverless::Connector
    Properties:
      Source: {Id: Plain}
      Destination: [{Id: Table}, {Id: Topic}]
      Permissions: [Write]
  Graph:
    Type: AWS::Serverless::GraphQLApi
    Properties:
      SchemaInline: "type Query { a: String }"
      Auth:
        Type: AWS_LAMBDA
        LambdaAuthorizer:
          AuthorizerUri: !GetAtt Maybe.Arn
      DataSources:
        DynamoDb:
          Items:
            TableName: !Ref Table
      Functions:
        f:
          Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
          DataSource: Items
          InlineCode: "export function request(){} export function response(){}"
      Resolvers:
        Query:
          a:
            Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
            Pipeline: [f]
  Sockets:
    Type: AWS::Serverless::WebSocketApi
    Properties:
      RouteSelectionExpression: $request.body.action
      Routes:
        $connect:
          FunctionArn: !GetAtt Maybe.Arn
        send:
          FunctionArn: !GetAtt Maybe.Arn
"""
)


def test_conditional_role_connectors_graphql_websocket() -> None:
    t = model(MISC)
    assert pairs(t) == {
        ("AWS::IAM::Role", "MaybeRole"),
        ("AWS::IAM::Role", "PlainRole"),
        ("AWS::Lambda::Permission", "MaybeUploadPermission"),
        ("AWS::Lambda::Permission", "TopicToFnWriteLambdaPermission"),
        ("AWS::IAM::Role", "GraphCloudWatchRole"),
        ("AWS::IAM::Role", "GraphItemsDynamoDBDataSourceRole"),
        ("AWS::Lambda::Permission", "GraphToLambdaAuthConnector1WriteLambdaPermission"),
        ("AWS::ApiGatewayV2::Stage", "SocketsDefaultStage"),
        ("AWS::ApiGatewayV2::Route", "SocketsConnectRoute"),
        ("AWS::ApiGatewayV2::Route", "SocketsSendRoute"),
        ("AWS::Lambda::Permission", "SocketsConnectPermission"),
        ("AWS::Lambda::Permission", "SocketsSendPermission"),
    }
    # the role exists only when the If takes its NoValue (else) branch
    assert t.resources["MaybeRole"].condition == "NOTUseGiven"
    assert t.conditions["NOTUseGiven"] == {"Fn::Not": [{"Condition": "UseGiven"}]}
    assert {"LinkPolicyDestination0", "LinkPolicyDestination1"} <= set(t.resources)
    assert t.resources["LinkPolicyDestination0"].type == "AWS::IAM::ManagedPolicy"
    translator_agrees(MISC)


CAPACITY = """\
Resources:
  Provider:
    Type: AWS::Serverless::CapacityProvider
    Properties:
      VpcConfig:
        SubnetIds: [subnet-1]
  Given:
    Type: AWS::Serverless::CapacityProvider
    Properties:
      VpcConfig:
        SubnetIds: [subnet-1]
      OperatorRole: arn:aws:iam::123456789012:role/op
"""


def test_capacity_provider_operator_role() -> None:
    t = model(CAPACITY)
    assert pairs(t) == {("AWS::IAM::Role", "ProviderOperatorRole")}
    translator_agrees(CAPACITY)


# -- robustness ---------------------------------------------------------------------------
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6))
_nodes = st.recursive(
    _scalars,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "Type",
                    "Properties",
                    "Events",
                    "StageName",
                    "RestApiId",
                    "ApiId",
                    "Auth",
                    "Authorizers",
                    "FunctionArn",
                    "Routes",
                    "DataSources",
                    "Destination",
                    "Id",
                    "Role",
                    "Ref",
                    "Fn::If",
                    "SqsSubscription",
                    "AutoPublishAlias",
                    "DeploymentPreference",
                    "FunctionUrlConfig",
                    "Logging",
                ]
            ),
            kids,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
_types = st.sampled_from(
    [
        "AWS::Serverless::Function",
        "AWS::Serverless::Api",
        "AWS::Serverless::HttpApi",
        "AWS::Serverless::StateMachine",
        "AWS::Serverless::GraphQLApi",
        "AWS::Serverless::WebSocketApi",
        "AWS::Serverless::Connector",
        "AWS::Serverless::CapacityProvider",
    ]
)
_event_types = st.sampled_from(
    ["Api", "HttpApi", "SNS", "SQS", "Schedule", "ScheduleV2", "Cognito", "EventBridgeRule"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rtype=_types,
    props=st.dictionaries(st.text(max_size=3), _nodes, max_size=3),
    extra=_nodes,
    etype=_event_types,
    eprops=_nodes,
    globals_=_nodes,
)
def test_expansion_never_raises(
    rtype: str, props: dict[str, Any], extra: Any, etype: str, eprops: Any, globals_: Any
) -> None:
    """Malformed SAM must not crash the model: the transform's refusals are its business."""
    props = {
        **props,
        "Events": {"E": {"Type": etype, "Properties": eprops}},
        "StageName": extra,
        "Auth": extra,
        "Routes": extra,
        "DataSources": extra,
        "Destination": extra,
        "Source": extra,
        "Role": extra,
    }
    tree = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {"Function": globals_, "Api": globals_},
        "Resources": {"R": {"Type": rtype, "Properties": props, "Connectors": extra}},
    }
    template = build("t.yaml", ".", tree, "")
    assert "R" in template.resources
