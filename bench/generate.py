"""Write a deterministic, synthetic super-repository for benchmarking archreview.

    python bench/generate.py OUT_DIR [--templates N] [--seed S]

The tree looks like a platform super-repository: a .gitmodules, Go service modules under
modules/ (go.mod + a SAM template.yaml + sometimes more stacks under cloudformation/), React
front ends under apps/ (package.json, a lockfile or not, a hosting stack), shared plain
CloudFormation under infra/, and now and then a local nested stack. Templates are built from a
handful of parameterised shapes, mostly SAM YAML with short-form tags, some plain YAML, a few
plain JSON; some are named template.yaml, the others are found only by their content. Each
shape flips a few settings at random (encryption, DLQs, WAF, authorizers, sizing, runtimes) so
the rules have both passes and findings to report.

The same N and seed always give byte-identical files. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TEMPLATES = 562
DEFAULT_SEED = 20261125

# Share of each kind for a module's secondary templates (its first is SAM 95 % of the time;
# the serverless-patterns corpus is ~91 % SAM, almost all YAML).
SAM_SHARE = 0.85
JSON_SHARE = 0.12  # the rest is plain CloudFormation YAML

GO_RUNTIMES = ["provided.al2023"] * 8 + ["provided.al2"] * 2 + ["go1.x"]
OTHER_RUNTIMES = ["nodejs20.x", "nodejs22.x", "python3.12", "python3.13", "nodejs16.x", "python3.8"]
MEMORY = [128, 256, 512, 512, 1024, 1024, 2048]
TIMEOUTS = [3, 10, 29, 30, 60, 120, 300, 600, 900]
WORDS = [
    "asset",
    "scan",
    "finding",
    "risk",
    "job",
    "report",
    "notify",
    "ingest",
    "correlate",
    "assess",
    "export",
    "tenant",
    "audit",
    "seed",
    "capability",
    "agent",
    "inventory",
    "graph",
    "search",
    "webhook",
    "billing",
    "session",
    "token",
    "schedule",
    "dispatch",
    "attribute",
]


@dataclass
class Stats:
    templates: int = 0
    sam: int = 0
    plain_yaml: int = 0
    plain_json: int = 0
    named_template: int = 0
    nested_children: int = 0
    go_mod: int = 0
    package_json: int = 0
    lockfiles: int = 0
    modules: int = 0
    bytes: int = 0
    files: list[str] = field(default_factory=list)


def _camel(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for part in parts for p in part.split("-"))


class _Writer:
    def __init__(self, root: Path, stats: Stats) -> None:
        self.root = root
        self.stats = stats

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        self.stats.bytes += len(data)
        self.stats.files.append(rel)


# --------------------------------------------------------------------------- SAM shapes


def _sam_header(rng: random.Random, name: str, runtime: str) -> str:
    mem = rng.choice(MEMORY)
    timeout = rng.choice([3, 10, 29, 30, 60])
    arch = "arm64" if rng.random() < 0.7 else "x86_64"
    tracing = "\n    Tracing: Active" if rng.random() < 0.6 else ""
    handler = "bootstrap" if runtime.startswith(("provided", "go")) else "app.handler"
    if runtime == "go1.x":
        handler = "main"
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: {name} - generated benchmark service

Parameters:
  Stage:
    Type: String
    Default: {rng.choice(["dev", "prod", "v1"])}
    AllowedValues: [dev, prod, v1]

Mappings:
  StageConfig:
    dev:
      LogLevel: DEBUG
      AlarmThreshold: 10
      Retention: 7
    prod:
      LogLevel: INFO
      AlarmThreshold: 1
      Retention: 365
    v1:
      LogLevel: INFO
      AlarmThreshold: 1
      Retention: 90

Conditions:
  IsProd: !Equals [!Ref Stage, prod]

Globals:
  Function:
    Runtime: {runtime}
    Handler: {handler}
    MemorySize: {mem}
    Timeout: {timeout}
    Architectures: [{arch}]{tracing}
    Environment:
      Variables:
        SERVICE_NAME: {name}
        STAGE: !Ref Stage
        LOG_LEVEL: !FindInMap [StageConfig, !Ref Stage, LogLevel]
        POWERTOOLS_SERVICE_NAME: {name}
        PROD: !If [IsProd, "true", "false"]

Resources:
"""


def _function(rng: random.Random, logical: str, events: str, policies: str, extra: str = "") -> str:
    lines = [
        f"  {logical}:",
        "    Type: AWS::Serverless::Function",
        "    Properties:",
        f"      CodeUri: cmd/{logical.lower()}/",
        f"      Description: {logical} - {rng.choice(WORDS)} {rng.choice(WORDS)} handler",
    ]
    if rng.random() < 0.4:
        lines.append(
            f"      Tags:\n        team: {rng.choice(['platform', 'scanning', 'data', 'edge'])}\n        cost-centre: cc-{rng.randint(100, 999)}"
        )
    if rng.random() < 0.5:
        lines.append(f"      MemorySize: {rng.choice(MEMORY)}")
    if rng.random() < 0.5:
        lines.append(f"      Timeout: {rng.choice(TIMEOUTS)}")
    if rng.random() < 0.3:
        lines.append(f"      ReservedConcurrentExecutions: {rng.choice([5, 10, 50])}")
    if rng.random() < 0.3:
        lines.append("      AutoPublishAlias: live")
        lines.append("      DeploymentPreference:")
        lines.append(
            f"        Type: {rng.choice(['Canary10Percent5Minutes', 'Linear10PercentEvery1Minute', 'AllAtOnce'])}"
        )
    if rng.random() < 0.6 and "Environment:" not in extra:
        lines.append("      Environment:")
        lines.append("        Variables:")
        modes = ["strict", "relaxed", "batch", "stream"]
        lines.extend(
            f"          {var.upper()}_MODE: {rng.choice(modes)}"
            for var in rng.sample(WORDS, rng.randint(1, 4))
        )
    if policies:
        lines.append("      Policies:")
        lines.append(policies.rstrip("\n"))
    if extra:
        lines.append(extra.rstrip("\n"))
    if events:
        lines.append("      Events:")
        lines.append(events.rstrip("\n"))
    return "\n".join(lines) + "\n\n"


def _table(rng: random.Random, logical: str) -> str:
    sse = ""
    r = rng.random()
    if r < 0.4:
        sse = "      SSESpecification:\n        SSEEnabled: true\n"
    elif r < 0.7:
        sse = "      SSESpecification:\n        SSEEnabled: true\n        SSEType: KMS\n        KMSMasterKeyId: alias/aws/dynamodb\n"
    pitr = (
        "      PointInTimeRecoverySpecification:\n        PointInTimeRecoveryEnabled: true\n"
        if rng.random() < 0.5
        else ""
    )
    retain = (
        "    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n"
        if rng.random() < 0.4
        else ""
    )
    if rng.random() < 0.7:
        billing = "      BillingMode: PAY_PER_REQUEST\n"
    else:
        billing = "      ProvisionedThroughput:\n        ReadCapacityUnits: 5\n        WriteCapacityUnits: 5\n"
    return f"""  {logical}:
    Type: AWS::DynamoDB::Table
{retain}    Properties:
{billing}      AttributeDefinitions:
        - AttributeName: PK
          AttributeType: S
        - AttributeName: SK
          AttributeType: S
      KeySchema:
        - AttributeName: PK
          KeyType: HASH
        - AttributeName: SK
          KeyType: RANGE
{sse}{pitr}
"""


def _queue(rng: random.Random, logical: str, name: str, fifo: bool, dlq: str | None) -> str:
    suffix = ".fifo" if fifo else ""
    lines = [
        f"  {logical}:",
        "    Type: AWS::SQS::Queue",
        "    Properties:",
        f"      QueueName: !Sub ${{AWS::StackName}}-{name}{suffix}",
    ]
    if fifo:
        lines.append("      FifoQueue: true")
    lines.append(f"      VisibilityTimeout: {rng.choice([30, 60, 180, 360, 1800, 5400])}")
    lines.append(f"      MessageRetentionPeriod: {rng.choice([345600, 1209600, 1209600])}")
    if rng.random() < 0.4:
        lines.append("      KmsMasterKeyId: alias/aws/sqs")
    if dlq:
        lines.append("      RedrivePolicy:")
        lines.append(f"        deadLetterTargetArn: !GetAtt {dlq}.Arn")
        lines.append(f"        maxReceiveCount: {rng.choice([3, 5, 10])}")
    return "\n".join(lines) + "\n\n"


def _alarm(logical: str, namespace: str, metric: str, dim_name: str, dim_value: str) -> str:
    return f"""  {logical}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: {namespace}
      MetricName: {metric}
      Dimensions:
        - Name: {dim_name}
          Value: {dim_value}
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold

"""


_RE_FUNCTION = re.compile(r"^  (\w+):\n    Type: AWS::Serverless::Function$", re.M)


def _with_outputs(text: str, outputs: dict[str, str] | None = None) -> str:
    """Append an Outputs section: the given values plus every function's ARN, exported."""
    lines = ["Outputs:"]
    for key, value in (outputs or {}).items():
        lines += [f"  {key}:", f"    Value: {value}"]
    for fn in _RE_FUNCTION.findall(text):
        lines += [
            f"  {fn}Arn:",
            f"    Description: ARN of {fn}",
            f"    Value: !GetAtt {fn}.Arn",
            "    Export:",
            f"      Name: !Sub ${{AWS::StackName}}-{fn}Arn",
        ]
    return text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"


def sam_api_table(rng: random.Random, name: str, runtime: str) -> str:
    out = [_sam_header(rng, name, runtime)]
    api = "ServiceApi"
    auth = rng.random() < 0.7
    out.append(f"""  {api}:
    Type: AWS::Serverless::Api
    Properties:
      Name: {name}-api
      StageName: !Ref Stage
      TracingEnabled: {str(rng.random() < 0.5).lower()}
""")
    if auth:
        out.append("""      Auth:
        DefaultAuthorizer: CognitoAuth
        Authorizers:
          CognitoAuth:
            UserPoolArn: !Sub arn:aws:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/${AWS::Region}_example
""")
    if rng.random() < 0.5:
        out.append("""      MethodSettings:
        - ResourcePath: "/*"
          HttpMethod: "*"
          ThrottlingRateLimit: 100
          ThrottlingBurstLimit: 50
""")
    if rng.random() < 0.5:
        out.append("""      AccessLogSetting:
        DestinationArn: !GetAtt ApiAccessLogs.Arn
        Format: $context.requestId $context.status
""")
    out.append("\n")
    out.append("""  ApiAccessLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 30

""")
    out.append(_table(rng, "ServiceTable"))
    for i in range(rng.randint(2, 6)):
        word = rng.choice(WORDS)
        logical = _camel(word, "handler", str(i))
        method = rng.choice(["get", "post", "put", "delete"])
        events = f"""        {_camel(method, word)}:
          Type: Api
          Properties:
            RestApiId: !Ref {api}
            Path: /v{i}/{word}s/{{id}}
            Method: {method}
"""
        policies = "        - DynamoDBCrudPolicy:\n            TableName: !Ref ServiceTable\n"
        extra = "      Environment:\n        Variables:\n          TABLE_NAME: !Ref ServiceTable\n"
        out.append(_function(rng, logical, events, policies, extra))
        if rng.random() < 0.4:
            out.append(
                _alarm(
                    f"{logical}Errors", "AWS/Lambda", "Errors", "FunctionName", f"!Ref {logical}"
                )
            )
    if rng.random() < 0.5:
        out.append(f"""  ApiWebAcl:
    Type: AWS::WAFv2::WebACL
    Properties:
      Scope: REGIONAL
      DefaultAction:
        Allow: {{}}
      VisibilityConfig:
        SampledRequestsEnabled: true
        CloudWatchMetricsEnabled: true
        MetricName: {name}-waf
      Rules:
        - Name: common
          Priority: 0
          OverrideAction:
            None: {{}}
          Statement:
            ManagedRuleGroupStatement:
              VendorName: AWS
              Name: AWSManagedRulesCommonRuleSet
          VisibilityConfig:
            SampledRequestsEnabled: true
            CloudWatchMetricsEnabled: true
            MetricName: common

  ApiWebAclAssociation:
    Type: AWS::WAFv2::WebACLAssociation
    Properties:
      ResourceArn: !Sub arn:aws:apigateway:${{AWS::Region}}::/restapis/${{{api}}}/stages/${{{api}.Stage}}
      WebACLArn: !GetAtt ApiWebAcl.Arn

""")
    return _with_outputs(
        "".join(out),
        {
            "ApiUrl": f"!Sub https://${{{api}}}.execute-api.${{AWS::Region}}.amazonaws.com/${{Stage}}"
        },
    )


def sam_queue_worker(rng: random.Random, name: str, runtime: str) -> str:
    out = [_sam_header(rng, name, runtime)]
    fifo = rng.random() < 0.3
    has_dlq = rng.random() < 0.7
    if has_dlq:
        out.append(_queue(rng, "WorkDLQ", "work-dlq", fifo, None))
    out.append(_queue(rng, "WorkQueue", "work", fifo, "WorkDLQ" if has_dlq else None))
    if rng.random() < 0.5:
        kms = "      KmsMasterKeyId: alias/aws/sns\n" if rng.random() < 0.5 else ""
        out.append(f"""  ResultTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub ${{AWS::StackName}}-results
{kms}
""")
    for i in range(rng.randint(2, 4)):
        logical = _camel(
            rng.choice(["ingest", "process", "correlate", "enrich", "dispatch"]), "worker", str(i)
        )
        report = (
            "            FunctionResponseTypes:\n              - ReportBatchItemFailures\n"
            if rng.random() < 0.5
            else ""
        )
        scaling = (
            "            ScalingConfig:\n              MaximumConcurrency: 5\n"
            if rng.random() < 0.3
            else ""
        )
        events = f"""        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: {rng.choice([1, 5, 10])}
{report}{scaling}"""
        policies = (
            "        - SQSPollerPolicy:\n            QueueName: !GetAtt WorkQueue.QueueName\n"
        )
        out.append(_function(rng, logical, events, policies))
    if has_dlq and rng.random() < 0.5:
        out.append(
            _alarm(
                "DeadLetterAlarm",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "QueueName",
                "!GetAtt WorkDLQ.QueueName",
            )
        )
    return _with_outputs("".join(out), {"QueueUrl": "!Ref WorkQueue"})


def sam_scheduled(rng: random.Random, name: str, runtime: str) -> str:
    out = [_sam_header(rng, name, runtime)]
    out.append("""  FailureQueue:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600

""")
    for i in range(rng.randint(2, 5)):
        logical = _camel(
            rng.choice(["nightly", "hourly", "cleanup", "report", "assess"]), "job", str(i)
        )
        events = f"""        Schedule:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: {rng.choice(["rate(1 hour)", "rate(1 day)", "cron(0 3 * * ? *)"])}
"""
        dlq = ""
        if rng.random() < 0.5:
            dlq = "      DeadLetterQueue:\n        Type: SQS\n        TargetArn: !GetAtt FailureQueue.Arn\n"
        log = ""
        if rng.random() < 0.5:
            log = f"      LoggingConfig:\n        LogGroup: !Ref {logical}Logs\n"
        out.append(
            _function(rng, logical, events, "        - AWSLambdaBasicExecutionRole\n", dlq + log)
        )
        if log:
            out.append(f"""  {logical}Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: {rng.choice([7, 30, 90, 365])}

""")
    return _with_outputs("".join(out))


def sam_http_cognito(rng: random.Random, name: str, runtime: str) -> str:
    out = [_sam_header(rng, name, runtime)]
    mfa = rng.choice(["OFF", "OPTIONAL", "ON"])
    mfa_extra = "\n      EnabledMfas:\n        - SOFTWARE_TOKEN_MFA" if mfa != "OFF" else ""
    length = rng.choice([8, 10, 12, 14])
    out.append(f"""  UserPool:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: !Sub ${{AWS::StackName}}-users
      MfaConfiguration: "{mfa}"{mfa_extra}
      AutoVerifiedAttributes:
        - email
      Policies:
        PasswordPolicy:
          MinimumLength: {length}
          RequireLowercase: true
          RequireNumbers: true
          RequireSymbols: {str(rng.random() < 0.5).lower()}
          RequireUppercase: true

  UserPoolClient:
    Type: AWS::Cognito::UserPoolClient
    Properties:
      UserPoolId: !Ref UserPool
      GenerateSecret: false
      PreventUserExistenceErrors: {rng.choice(["ENABLED", "LEGACY"])}

  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: !Ref Stage
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: !Sub https://cognito-idp.${{AWS::Region}}.amazonaws.com/${{UserPool}}
              audience:
                - !Ref UserPoolClient

""")
    for i in range(rng.randint(2, 5)):
        word = rng.choice(WORDS)
        logical = _camel(word, "route", str(i))
        events = f"""        Route:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Path: /{word}/{i}
            Method: {rng.choice(["GET", "POST"])}
"""
        out.append(_function(rng, logical, events, ""))
    if rng.random() < 0.3:
        out.append("""  PublicUrlFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: cmd/public/
      FunctionUrlConfig:
        AuthType: NONE

""")
    return _with_outputs("".join(out))


def sam_state_machine(rng: random.Random, name: str, runtime: str) -> str:
    out = [_sam_header(rng, name, runtime)]
    steps = [_camel(rng.choice(WORDS), "step", str(i)) for i in range(rng.randint(2, 4))]
    out.extend(
        _function(rng, step, "", "        - AWSLambdaBasicExecutionRole\n") for step in steps
    )
    states = {}
    for i, step in enumerate(steps):
        state: dict[str, object] = {"Type": "Task", "Resource": "${" + step + "Arn}"}
        if i + 1 < len(steps):
            state["Next"] = steps[i + 1]
        else:
            state["End"] = True
        states[step] = state
    definition = json.dumps({"StartAt": steps[0], "States": states}, indent=2, sort_keys=True)
    definition = "\n".join("        " + line for line in definition.splitlines())
    subs = "\n".join(f"        {s}Arn: !GetAtt {s}.Arn" for s in steps)
    policies = "\n".join(
        f"        - LambdaInvokePolicy:\n            FunctionName: !Ref {s}" for s in steps
    )
    logging = ""
    if rng.random() < 0.5:
        logging = """      Logging:
        Level: ERROR
        IncludeExecutionData: false
        Destinations:
          - CloudWatchLogsLogGroup:
              LogGroupArn: !GetAtt WorkflowLogs.Arn
"""
    out.append(f"""  Workflow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Tracing:
        Enabled: {str(rng.random() < 0.5).lower()}
{logging}      DefinitionSubstitutions:
{subs}
      Policies:
{policies}
        - CloudWatchLogsFullAccess
      Definition:
{definition}

  WorkflowLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 30
""")
    return _with_outputs("".join(out))


def sam_nested_parent(rng: random.Random, name: str, runtime: str, child: str) -> str:
    out = [_sam_header(rng, name, runtime)]
    out.append(f"""  Storage:
    Type: AWS::Serverless::Application
    Properties:
      Location: {child}
      Parameters:
        BucketSuffix: {name}

""")
    out.append(
        _function(
            rng,
            "ApiHandler",
            """        Get:
          Type: Api
          Properties:
            Path: /items
            Method: get
""",
            "        - S3ReadPolicy:\n            BucketName: !GetAtt Storage.Outputs.BucketName\n",
        )
    )
    return _with_outputs("".join(out))


# --------------------------------------------------------------------------- plain shapes


def plain_bucket(rng: random.Random, name: str) -> str:
    flags = ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"]
    pab = ""
    r = rng.random()
    if r < 0.7:
        pab = "      PublicAccessBlockConfiguration:\n" + "".join(
            f"        {f}: {str(rng.random() < 0.9).lower()}\n" for f in flags
        )
    enc = "aws:kms" if rng.random() < 0.6 else "AES256"
    key = "\n              KMSMasterKeyID: !GetAtt DataKey.Arn" if enc == "aws:kms" else ""
    rotation = str(rng.random() < 0.8).lower()
    deny = ""
    if rng.random() < 0.6:
        deny = """          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource:
              - !GetAtt DataBucket.Arn
              - !Sub ${DataBucket.Arn}/*
            Condition:
              Bool:
                aws:SecureTransport: "false"
"""
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Description: {name} - data bucket and key (generated benchmark stack)

Parameters:
  BucketSuffix:
    Type: String
    Default: {name}

Resources:
  DataKey:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: {rotation}
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              AWS: !Sub arn:aws:iam::${{AWS::AccountId}}:root
            Action: kms:*
            Resource: "*"

  DataBucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BucketName: !Sub ${{AWS::StackName}}-${{BucketSuffix}}
      VersioningConfiguration:
        Status: Enabled
{pab}      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: {enc}{key}

  DataBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref DataBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
{deny}          - Sid: AccountRead
            Effect: Allow
            Principal:
              AWS: !Sub arn:aws:iam::${{AWS::AccountId}}:root
            Action: s3:GetObject
            Resource: !Sub ${{DataBucket.Arn}}/*

Outputs:
  BucketName:
    Value: !Ref DataBucket
"""


def plain_fargate(rng: random.Random, name: str) -> str:
    public = "ENABLED" if rng.random() < 0.3 else "DISABLED"
    cpu, memory = rng.choice([(256, 512), (256, 1024), (512, 1024), (512, 2048), (1024, 2048)])
    port = rng.choice([80, 443, 8080, 22, 5432])
    readonly = "\n          ReadonlyRootFilesystem: true" if rng.random() < 0.5 else ""
    logs = (
        """
          LogConfiguration:
            LogDriver: awslogs
            Options:
              awslogs-group: !Ref ServiceLogs
              awslogs-region: !Ref AWS::Region
              awslogs-stream-prefix: app"""
        if rng.random() < 0.7
        else ""
    )
    breaker = (
        """
      DeploymentConfiguration:
        DeploymentCircuitBreaker:
          Enable: true
          Rollback: true"""
        if rng.random() < 0.5
        else ""
    )
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Description: {name} - Fargate service (generated benchmark stack)

Parameters:
  VpcId:
    Type: AWS::EC2::VPC::Id
  SubnetIds:
    Type: List<AWS::EC2::Subnet::Id>
  Image:
    Type: String
    Default: public.ecr.aws/docker/library/nginx:stable

Resources:
  Cluster:
    Type: AWS::ECS::Cluster
    Properties:
      ClusterSettings:
        - Name: containerInsights
          Value: enabled

  ServiceLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: {rng.choice([7, 30, 90])}

  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: ecs-tasks.amazonaws.com
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy

  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: {name}
      Cpu: "{cpu}"
      Memory: "{memory}"
      NetworkMode: awsvpc
      RequiresCompatibilities:
        - FARGATE
      ExecutionRoleArn: !GetAtt ExecutionRole.Arn
      ContainerDefinitions:
        - Name: app
          Image: !Ref Image
          Essential: true{readonly}
          PortMappings:
            - ContainerPort: {port}{logs}

  ServiceSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: {name} tasks
      VpcId: !Ref VpcId
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: {port}
          ToPort: {port}
          CidrIp: {rng.choice(["10.0.0.0/8", "0.0.0.0/0"])}

  Service:
    Type: AWS::ECS::Service
    Properties:
      Cluster: !Ref Cluster
      LaunchType: FARGATE
      DesiredCount: {rng.choice([1, 2, 3])}
      TaskDefinition: !Ref TaskDefinition{breaker}
      NetworkConfiguration:
        AwsvpcConfiguration:
          AssignPublicIp: {public}
          Subnets: !Ref SubnetIds
          SecurityGroups:
            - !Ref ServiceSecurityGroup
"""


def _rest_api_dict(rng: random.Random, name: str, runtime: str) -> dict[str, object]:
    handler = "bootstrap" if runtime.startswith(("provided", "go")) else "index.handler"
    auth = rng.choice(["NONE", "AWS_IAM", "AWS_IAM", "NONE"])
    timeout = rng.choice([10, 29, 30, 60])
    resources: dict[str, object] = {
        "FunctionRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": [
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
                ],
            },
        },
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": runtime,
                "Handler": handler,
                "Code": {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": f"{name}/bootstrap.zip"},
                "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
                "MemorySize": rng.choice(MEMORY),
                "Timeout": timeout,
            },
        },
        "RestApi": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": f"{name}-api"}},
        "ItemsResource": {
            "Type": "AWS::ApiGateway::Resource",
            "Properties": {
                "RestApiId": {"Ref": "RestApi"},
                "ParentId": {"Fn::GetAtt": ["RestApi", "RootResourceId"]},
                "PathPart": "items",
            },
        },
        "ItemsMethod": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "RestApi"},
                "ResourceId": {"Ref": "ItemsResource"},
                "HttpMethod": "GET",
                "AuthorizationType": auth,
                "Integration": {
                    "Type": "AWS_PROXY",
                    "IntegrationHttpMethod": "POST",
                    "Uri": {
                        "Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Function.Arn}/invocations"
                    },
                },
            },
        },
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "DependsOn": ["ItemsMethod"],
            "Properties": {"RestApiId": {"Ref": "RestApi"}},
        },
        "Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": {"Ref": "RestApi"},
                "DeploymentId": {"Ref": "Deployment"},
                "StageName": "prod",
                "TracingEnabled": rng.random() < 0.5,
            },
        },
        "InvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": "Function"},
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": {
                    "Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${RestApi}/*"
                },
            },
        },
    }
    if rng.random() < 0.5:
        resources["Stage"]["Properties"]["MethodSettings"] = [  # type: ignore[index]
            {
                "ResourcePath": "/*",
                "HttpMethod": "*",
                "ThrottlingRateLimit": 50,
                "ThrottlingBurstLimit": 100,
            }
        ]
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{name} - REST API on Lambda (generated benchmark stack)",
        "Parameters": {"ArtifactBucket": {"Type": "String"}},
        "Resources": resources,
        "Outputs": {
            "Endpoint": {
                "Value": {
                    "Fn::Sub": "https://${RestApi}.execute-api.${AWS::Region}.amazonaws.com/prod"
                }
            }
        },
    }


def plain_rest_api_json(rng: random.Random, name: str, runtime: str) -> str:
    return json.dumps(_rest_api_dict(rng, name, runtime), indent=2) + "\n"


def plain_nested_child(rng: random.Random, name: str) -> str:
    versioning = "Enabled" if rng.random() < 0.7 else "Suspended"
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Description: {name} - nested storage stack (generated benchmark stack)

Parameters:
  BucketSuffix:
    Type: String

Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub ${{AWS::StackName}}-${{BucketSuffix}}
      VersioningConfiguration:
        Status: {versioning}
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true

Outputs:
  BucketName:
    Value: !Ref Bucket
"""


def plain_trail(rng: random.Random, name: str) -> str:
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Description: {name} - audit trail (generated benchmark stack)

Parameters:
  TrailBucket:
    Type: String

Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      S3BucketName: !Ref TrailBucket
      IsMultiRegionTrail: {str(rng.random() < 0.7).lower()}
      EnableLogFileValidation: {str(rng.random() < 0.7).lower()}
"""


SAM_SHAPES: list[Callable[[random.Random, str, str], str]] = [
    sam_api_table,
    sam_api_table,
    sam_queue_worker,
    sam_queue_worker,
    sam_scheduled,
    sam_http_cognito,
    sam_state_machine,
]
PLAIN_SHAPES: list[Callable[[random.Random, str], str]] = [plain_bucket, plain_fargate, plain_trail]


# --------------------------------------------------------------------------- manifests


def go_mod(rng: random.Random, module: str) -> str:
    go = rng.choice(["1.24", "1.24.6", "1.24.6", "1.23.4", "1.22"])
    toolchain = "\ntoolchain go1.24.6\n" if go == "1.24" else ""
    v2 = rng.choice(["v1.36.3", "v1.36.3", "v1.32.7"])
    reqs = [
        ("github.com/aws/aws-lambda-go", "v1.47.0"),
        ("github.com/aws/aws-sdk-go-v2", v2),
        ("github.com/aws/aws-sdk-go-v2/service/dynamodb", "v1.42.0"),
        ("github.com/example/tabularium", rng.choice(["v0.4.2", "v0.4.2", "v0.3.1"])),
        ("github.com/stretchr/testify", "v1.10.0"),
    ]
    reqs.append(
        rng.choice(
            [("github.com/gorilla/mux", "v1.8.1")] * 4 + [("github.com/gin-gonic/gin", "v1.10.0")]
        )
    )
    if rng.random() < 0.15:
        reqs.append(("github.com/aws/aws-sdk-go", "v1.55.5"))
    body = "\n".join(f"\t{m} {v}" for m, v in sorted(reqs))
    return f"module github.com/example/{module}\n\ngo {go}\n{toolchain}\nrequire (\n{body}\n)\n"


def package_json(rng: random.Random, module: str) -> str:
    react = rng.choice(["^18.3.1", "^18.2.0", "^18.3.1", "17.0.2"])
    deps = {
        "react": react,
        "react-dom": react,
        rng.choice(["@tanstack/react-query", "@tanstack/react-query", "swr"]): rng.choice(
            ["^5.51.1", "^2.2.5"]
        ),
    }
    dev = {"typescript": rng.choice(["~5.4.0", "^5.5.3", "^4.9.5"]), "jest": "^29.7.0"}
    if rng.random() < 0.6:
        dev["@playwright/test"] = "^1.45.1"
    pkg = {
        "name": f"@example/{module}",
        "version": "1.0.0",
        "private": True,
        "scripts": {"build": "tsc", "test": "jest"},
        "dependencies": dict(sorted(deps.items())),
        "devDependencies": dict(sorted(dev.items())),
    }
    return json.dumps(pkg, indent=2) + "\n"


def lockfile(module: str) -> str:
    return (
        json.dumps(
            {
                "name": f"@example/{module}",
                "version": "1.0.0",
                "lockfileVersion": 3,
                "requires": True,
                "packages": {"": {"name": f"@example/{module}", "version": "1.0.0"}},
            },
            indent=2,
        )
        + "\n"
    )


# --------------------------------------------------------------------------- tree


def _plan_kind(rng: random.Random) -> str:
    r = rng.random()
    if r < SAM_SHARE:
        return "sam"
    if r < SAM_SHARE + JSON_SHARE:
        return "json"
    return "yaml"


def generate(
    out: Path | str, templates: int = DEFAULT_TEMPLATES, seed: int = DEFAULT_SEED
) -> Stats:
    """Write the tree under ``out`` (created; must be empty or absent) and return its counts."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    rng = random.Random(seed)
    stats = Stats()
    w = _Writer(root, stats)
    submodules: list[str] = []

    def add(rel: str, text: str, kind: str) -> None:
        w.write(rel, text)
        stats.templates += 1
        if kind == "sam":
            stats.sam += 1
        elif kind == "json":
            stats.plain_json += 1
        else:
            stats.plain_yaml += 1
        if rel.rsplit("/", 1)[-1].startswith("template."):
            stats.named_template += 1

    index = 0
    while stats.templates < templates:
        left = templates - stats.templates
        index += 1
        r = rng.random()
        if r < 0.04:
            # shared plain CloudFormation in a top-level folder, found by content only
            name = f"shared-{index:03d}"
            shape = rng.choice(PLAIN_SHAPES)
            add(f"infra/{name}.yaml", shape(rng, name), "yaml")
            continue
        if r < 0.14:
            # front end: package.json, maybe a lockfile, a hosting stack
            module = f"web-{index:03d}"
            base = f"apps/{module}"
            w.write(f"{base}/package.json", package_json(rng, module))
            stats.package_json += 1
            if rng.random() < 0.7:
                w.write(f"{base}/package-lock.json", lockfile(module))
                stats.lockfiles += 1
            add(f"{base}/deploy/hosting.yaml", plain_bucket(rng, module), "yaml")
            stats.modules += 1
            submodules.append(base)
            continue
        # Go service module
        module = f"svc-{index:03d}"
        base = f"modules/{module}"
        runtime = rng.choice(GO_RUNTIMES) if rng.random() < 0.85 else rng.choice(OTHER_RUNTIMES)
        w.write(f"{base}/go.mod", go_mod(rng, module))
        stats.go_mod += 1
        stats.modules += 1
        submodules.append(base)
        count = min(left, rng.choice([1, 1, 1, 2, 2, 3]))
        for i in range(count):
            kind = "sam" if i == 0 and rng.random() < 0.95 else _plan_kind(rng)
            if kind == "sam":
                if i == 0 and count >= 2 and rng.random() < 0.15:
                    add(
                        f"{base}/template.yaml",
                        sam_nested_parent(rng, module, runtime, "nested/storage.yaml"),
                        "sam",
                    )
                    add(f"{base}/nested/storage.yaml", plain_nested_child(rng, module), "yaml")
                    stats.nested_children += 1
                    break
                shape = rng.choice(SAM_SHAPES)
                name = (
                    "template.yaml"
                    if i == 0
                    else f"cloudformation/{shape.__name__.replace('_', '-')}-{i}.yaml"
                )
                add(f"{base}/{name}", shape(rng, f"{module}-{i}", runtime), "sam")
            elif kind == "json":
                add(
                    f"{base}/cloudformation/api-{i}.json",
                    plain_rest_api_json(rng, f"{module}-{i}", runtime),
                    "json",
                )
            else:
                shape = rng.choice(PLAIN_SHAPES)
                add(
                    f"{base}/cloudformation/{shape.__name__.replace('_', '-')}-{i}.yaml",
                    shape(rng, f"{module}-{i}"),
                    "yaml",
                )

    gitmodules = "".join(
        f'[submodule "{p}"]\n\tpath = {p}\n\turl = https://github.com/example/{p.rsplit("/", 1)[-1]}.git\n'
        for p in submodules
    )
    w.write(".gitmodules", gitmodules)
    w.write(
        "README.md",
        f"# generated benchmark super-repository\n\n{templates} templates, seed {seed}.\n",
    )
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="folder to create (must be empty or absent)")
    ap.add_argument("--templates", "-n", type=int, default=DEFAULT_TEMPLATES)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    if args.templates < 1:
        ap.error("--templates must be at least 1")
    try:
        stats = generate(args.out, args.templates, args.seed)
    except FileExistsError as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {stats.templates} templates ({stats.sam} SAM, {stats.plain_yaml} plain YAML, "
        f"{stats.plain_json} plain JSON; {stats.named_template} named template.*, "
        f"{stats.nested_children} nested children), {stats.go_mod} go.mod, "
        f"{stats.package_json} package.json ({stats.lockfiles} with a lockfile), "
        f"{stats.modules} modules, {stats.bytes / 1e6:.2f} MB to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
