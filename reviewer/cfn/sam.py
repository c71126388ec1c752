"""SAM semantics without the transform: Globals merged into each serverless resource (keeping
where each inherited value was written), and the implicit resources SAM would generate, named
as aws-sam-translator names them, built from the nodes of the SAM source so that every
property keeps its line. See docs/adr/0001-native-sam-model.md for why this is native.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reviewer.cfn.resolve import first, intrinsic
from reviewer.cfn.template import Resource, Template, anchor_of, key_object
from reviewer.model import Span

GLOBAL_SECTIONS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::Api": "Api",
    "AWS::Serverless::HttpApi": "HttpApi",
    "AWS::Serverless::SimpleTable": "SimpleTable",
    "AWS::Serverless::StateMachine": "StateMachine",
    "AWS::Serverless::LayerVersion": "LayerVersion",
}


class MarkedStr(str):
    """A renamed key that keeps the marks of the key it was derived from."""

    start_mark: Any
    end_mark: Any


def renamed(key: Any, new: str) -> Any:
    if getattr(key, "start_mark", None) is None:
        return new
    out = MarkedStr(new)
    out.start_mark = key.start_mark
    out.end_mark = getattr(key, "end_mark", key.start_mark)
    return out


def merge_globals(global_node: Any, local: Any) -> Any:
    """SAM's merge: maps merge key by key, lists append (globals first), scalars: local wins.
    Intrinsic functions count as scalars."""
    if (
        isinstance(global_node, Mapping)
        and isinstance(local, Mapping)
        and intrinsic(global_node) is None
        and intrinsic(local) is None
    ):
        merged: dict[Any, Any] = {}
        for key, value in global_node.items():
            merged[key] = value
        for key, value in local.items():
            if key in merged:
                gkey = key_object(merged, key)
                gvalue = merged.pop(gkey)
                merged[key] = merge_globals(gvalue, value)
            else:
                merged[key] = value
        return merged
    if isinstance(global_node, list) and isinstance(local, list):
        return [*global_node, *local]
    return local


def pick(source: Mapping[str, Any], names: Mapping[str, str]) -> dict[Any, Any]:
    """Copy selected keys (renamed per `names`) keeping their marked key objects."""
    out: dict[Any, Any] = {}
    for old, new in names.items():
        if old in source:
            out[renamed(key_object(source, old), new)] = source[old]
    return out


def _alnum(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", str(value))


class _Expander:
    def __init__(self, template: Template) -> None:
        self.t = template
        self.globals = template.globals
        self.implicit_rest_events: list[tuple[str, Span]] = []
        self.implicit_http_events: list[tuple[str, Span]] = []
        self.codedeploy_anchor: Span | None = None

    def add(
        self,
        logical_id: str,
        rtype: str,
        props: dict[Any, Any],
        anchor: Span,
        source: str,
        extra: Mapping[str, Any] | None = None,
        condition: str | None = None,
    ) -> None:
        if logical_id in self.t.resources:
            return
        node: dict[str, Any] = {"Type": rtype, **(extra or {})}
        self.t.resources[logical_id] = Resource(
            logical_id=logical_id,
            type=rtype,
            properties=props,
            node=node,
            anchor=anchor,
            source=source,
            condition=condition,
        )

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> None:
        for res in list(self.t.resources.values()):
            section = GLOBAL_SECTIONS.get(res.type)
            if section is not None:
                glb = self.globals.get(section)
                if isinstance(glb, Mapping):
                    res.properties = merge_globals(glb, res.properties)
                    res.view = {}
                    res.__post_init__()
        for res in list(self.t.resources.values()):
            if res.implicit:
                continue
            if res.type == "AWS::Serverless::Function":
                self.function(res)
            elif res.type == "AWS::Serverless::Api":
                self.rest_api(res)
            elif res.type == "AWS::Serverless::HttpApi":
                self.http_api(res)
            elif res.type == "AWS::Serverless::StateMachine":
                self.state_machine(res)
        self.implicit_apis()

    # -- functions ---------------------------------------------------------------------------
    def function(self, fn: Resource) -> None:
        fid = fn.logical_id
        props = fn.properties
        if "Role" not in props:
            self.role(fn, f"{fid}Role", "lambda.amazonaws.com")
        events = props.get("Events")
        if isinstance(events, Mapping):
            for name, event in events.items():
                if isinstance(event, Mapping):
                    self.event(fn, str(name), event, anchor_of(events, name, fn.anchor))
        alias = props.get("AutoPublishAlias")
        alias_id: str | None = None
        if isinstance(alias, str):
            alias_id = f"{fid}Alias{_alnum(alias)}"
            self.t.aliases[f"{fid}.Alias"] = alias_id
            alias_anchor = anchor_of(props, "AutoPublishAlias", fn.anchor)
            extra: dict[str, Any] = {}
            pref = props.get("DeploymentPreference")
            if isinstance(pref, Mapping) and intrinsic(pref) is None:
                group = f"{fid}DeploymentGroup"
                extra["UpdatePolicy"] = {
                    "CodeDeployLambdaAliasUpdate": {
                        "ApplicationName": {"Ref": "ServerlessDeploymentApplication"},
                        "DeploymentGroupName": {"Ref": group},
                    }
                }
                self.deployment_group(fn, group, pref, anchor_of(props, "DeploymentPreference"))
            self.add(
                alias_id,
                "AWS::Lambda::Alias",
                {"Name": alias, "FunctionName": {"Ref": fid}},
                alias_anchor,
                fid,
                extra,
            )
        url = props.get("FunctionUrlConfig")
        if isinstance(url, Mapping):
            anchor = anchor_of(props, "FunctionUrlConfig", fn.anchor)
            target = {"Ref": alias_id} if alias_id else {"Ref": fid}
            url_props = pick(
                url, {"AuthType": "AuthType", "Cors": "Cors", "InvokeMode": "InvokeMode"}
            )
            url_props["TargetFunctionArn"] = target
            if alias_id:
                url_props["Qualifier"] = alias
            self.add(f"{fid}Url", "AWS::Lambda::Url", url_props, anchor, fid)
            if url.get("AuthType") == "NONE":
                self.add(
                    f"{fid}UrlPublicPermissions",
                    "AWS::Lambda::Permission",
                    {
                        **pick(url, {"AuthType": "FunctionUrlAuthType"}),
                        "Action": "lambda:InvokeFunctionUrl",
                        "Principal": "*",
                        "FunctionName": target,
                    },
                    anchor,
                    fid,
                )
        invoke = props.get("EventInvokeConfig")
        if isinstance(invoke, Mapping):
            anchor = anchor_of(props, "EventInvokeConfig", fn.anchor)
            cfg = pick(
                invoke,
                {
                    "DestinationConfig": "DestinationConfig",
                    "MaximumEventAgeInSeconds": "MaximumEventAgeInSeconds",
                    "MaximumRetryAttempts": "MaximumRetryAttempts",
                },
            )
            cfg["FunctionName"] = {"Ref": fid}
            cfg["Qualifier"] = alias if isinstance(alias, str) else "$LATEST"
            self.add(f"{fid}EventInvokeConfig", "AWS::Lambda::EventInvokeConfig", cfg, anchor, fid)

    def role(self, res: Resource, role_id: str, service: str) -> None:
        props = res.properties
        role_props: dict[Any, Any] = {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["sts:AssumeRole"],
                        "Principal": {"Service": [service]},
                    }
                ],
            }
        }
        role_props.update(pick(props, {"PermissionsBoundary": "PermissionsBoundary"}))
        policies = props.get("Policies")
        inline: list[Any] = []
        managed: list[Any] = []
        items = policies if isinstance(policies, list) else [policies] if policies else []
        for i, item in enumerate(items):
            if isinstance(item, Mapping) and "Statement" in item:
                inline.append({"PolicyName": f"{role_id}Policy{i}", "PolicyDocument": item})
            elif isinstance(item, str) or intrinsic(item) is not None:
                managed.append(item)
        if managed:
            role_props["ManagedPolicyArns"] = managed
        if inline:
            role_props[renamed(key_object(props, "Policies"), "Policies")] = inline
        anchor = anchor_of(props, "Policies", res.anchor) if "Policies" in props else res.anchor
        self.add(role_id, "AWS::IAM::Role", role_props, anchor, res.logical_id)

    def deployment_group(
        self, fn: Resource, group: str, pref: Mapping[str, Any], anchor: Span
    ) -> None:
        props: dict[Any, Any] = {}
        if "Type" in pref:
            kind = pref["Type"]
            value = (
                f"CodeDeployDefault.Lambda{kind}"
                if isinstance(kind, str) and not kind.startswith("CodeDeployDefault")
                else kind
            )
            props[renamed(key_object(pref, "Type"), "DeploymentConfigName")] = value
        if "Alarms" in pref:
            props[renamed(key_object(pref, "Alarms"), "AlarmConfiguration")] = {
                "Enabled": True,
                "Alarms": pref["Alarms"],
            }
            props["AutoRollbackConfiguration"] = {
                "Enabled": True,
                "Events": [
                    "DEPLOYMENT_FAILURE",
                    "DEPLOYMENT_STOP_ON_ALARM",
                    "DEPLOYMENT_STOP_ON_REQUEST",
                ],
            }
        else:
            props["AutoRollbackConfiguration"] = {
                "Enabled": True,
                "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"],
            }
        props.update(pick(pref, {"Hooks": "Hooks", "Enabled": "Enabled"}))
        props["ApplicationName"] = {"Ref": "ServerlessDeploymentApplication"}
        props["DeploymentStyle"] = {
            "DeploymentType": "BLUE_GREEN",
            "DeploymentOption": "WITH_TRAFFIC_CONTROL",
        }
        self.add(group, "AWS::CodeDeploy::DeploymentGroup", props, anchor, fn.logical_id)
        self.add(
            "ServerlessDeploymentApplication",
            "AWS::CodeDeploy::Application",
            {"ComputePlatform": "Lambda"},
            anchor,
            fn.logical_id,
        )
        if "Role" not in pref:
            self.add(
                "CodeDeployServiceRole",
                "AWS::IAM::Role",
                {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["sts:AssumeRole"],
                                "Principal": {"Service": ["codedeploy.amazonaws.com"]},
                            }
                        ],
                    },
                    "ManagedPolicyArns": [
                        "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"
                    ],
                },
                anchor,
                fn.logical_id,
            )

    # -- events ------------------------------------------------------------------------------
    def event(self, owner: Resource, name: str, event: Mapping[str, Any], anchor: Span) -> None:
        etype = event.get("Type")
        eprops = event.get("Properties")
        if not isinstance(eprops, Mapping):
            eprops = {}
        oid = owner.logical_id
        eid = f"{oid}{name}"
        is_fn = owner.type == "AWS::Serverless::Function"
        fn_ref = {"Ref": oid}
        target_arn = {"Fn::GetAtt": [oid, "Arn"]}
        if etype in ("SQS", "Kinesis", "DynamoDB", "MSK", "MQ", "SelfManagedKafka", "DocumentDB"):
            source_key = {
                "SQS": "Queue",
                "Kinesis": "Stream",
                "DynamoDB": "Stream",
                "MSK": "Stream",
                "MQ": "Broker",
                "DocumentDB": "Cluster",
            }.get(str(etype))
            names = {
                k: k
                for k in (
                    "BatchSize",
                    "Enabled",
                    "FilterCriteria",
                    "FunctionResponseTypes",
                    "MaximumBatchingWindowInSeconds",
                    "ScalingConfig",
                    "StartingPosition",
                    "StartingPositionTimestamp",
                    "DestinationConfig",
                    "BisectBatchOnFunctionError",
                    "MaximumRetryAttempts",
                    "MaximumRecordAgeInSeconds",
                    "ParallelizationFactor",
                    "TumblingWindowInSeconds",
                    "MetricsConfig",
                    "ProvisionedPollerConfig",
                    "Topics",
                    "Queues",
                )
            }
            if source_key:
                names = {source_key: "EventSourceArn", **names}
            props = pick(eprops, names)
            props["FunctionName"] = fn_ref
            self.add(eid, "AWS::Lambda::EventSourceMapping", props, anchor, oid)
            return
        if etype == "SNS":
            sub = pick(
                eprops,
                {
                    "Topic": "TopicArn",
                    "FilterPolicy": "FilterPolicy",
                    "FilterPolicyScope": "FilterPolicyScope",
                    "Region": "Region",
                    "RedrivePolicy": "RedrivePolicy",
                },
            )
            if eprops.get("SqsSubscription") is True or isinstance(
                eprops.get("SqsSubscription"), Mapping
            ):
                queue_id = f"{eid}Queue"
                self.add(queue_id, "AWS::SQS::Queue", {}, anchor, oid)
                self.add(
                    f"{eid}QueuePolicy",
                    "AWS::SQS::QueuePolicy",
                    {"Queues": [{"Ref": queue_id}]},
                    anchor,
                    oid,
                )
                sub.update({"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": [queue_id, "Arn"]}})
                self.add(eid, "AWS::SNS::Subscription", sub, anchor, oid)
                self.add(
                    f"{eid}EventSourceMapping",
                    "AWS::Lambda::EventSourceMapping",
                    {"EventSourceArn": {"Fn::GetAtt": [queue_id, "Arn"]}, "FunctionName": fn_ref},
                    anchor,
                    oid,
                )
                return
            sub.update({"Protocol": "lambda", "Endpoint": target_arn})
            self.add(eid, "AWS::SNS::Subscription", sub, anchor, oid)
            self.permission(eid, owner, "sns.amazonaws.com", eprops, "Topic", anchor)
            return
        if etype in ("Schedule", "CloudWatchEvent", "EventBridgeRule"):
            rule = pick(
                eprops,
                {
                    "Schedule": "ScheduleExpression",
                    "Pattern": "EventPattern",
                    "EventBusName": "EventBusName",
                    "Description": "Description",
                    "Name": "Name",
                    "State": "State",
                },
            )
            target: dict[Any, Any] = {
                "Arn": target_arn,
                "Id": f"{eid}{'LambdaTarget' if is_fn else 'StepFunctionsTarget'}",
            }
            target.update(
                pick(
                    eprops,
                    {"RetryPolicy": "RetryPolicy", "Input": "Input", "InputPath": "InputPath"},
                )
            )
            dlq = eprops.get("DeadLetterConfig")
            if isinstance(dlq, Mapping):
                dlq_key = key_object(eprops, "DeadLetterConfig")
                if "Arn" in dlq:
                    target[dlq_key] = {renamed(key_object(dlq, "Arn"), "Arn"): dlq["Arn"]}
                elif dlq.get("Type") == "SQS":
                    queue_id = str(dlq.get("QueueLogicalId") or f"{eid}Queue")
                    self.add(
                        queue_id,
                        "AWS::SQS::Queue",
                        {},
                        anchor_of(eprops, "DeadLetterConfig", anchor),
                        oid,
                    )
                    self.add(
                        f"{queue_id}Policy",
                        "AWS::SQS::QueuePolicy",
                        {"Queues": [{"Ref": queue_id}]},
                        anchor,
                        oid,
                    )
                    target[dlq_key] = {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
            if not is_fn:
                self.add(f"{eid}Role", "AWS::IAM::Role", {}, anchor, oid)
            rule["Targets"] = [target]
            self.add(eid, "AWS::Events::Rule", rule, anchor, oid)
            if is_fn:
                self.permission(eid, owner, "events.amazonaws.com", eprops, None, anchor)
            return
        if etype == "ScheduleV2":
            sched = pick(
                eprops,
                {
                    "ScheduleExpression": "ScheduleExpression",
                    "FlexibleTimeWindow": "FlexibleTimeWindow",
                    "Name": "Name",
                    "State": "State",
                    "GroupName": "GroupName",
                },
            )
            tgt: dict[Any, Any] = {"Arn": target_arn}
            tgt.update(
                pick(eprops, {"DeadLetterConfig": "DeadLetterConfig", "RetryPolicy": "RetryPolicy"})
            )
            sched["Target"] = tgt
            self.add(eid, "AWS::Scheduler::Schedule", sched, anchor, oid)
            if "RoleArn" not in eprops:
                self.add(f"{eid}Role", "AWS::IAM::Role", {}, anchor, oid)
            return
        if etype == "S3":
            self.permission(eid, owner, "s3.amazonaws.com", eprops, None, anchor)
            return
        if etype == "Api":
            rest = eprops.get("RestApiId")
            if rest is None:
                self.implicit_rest_events.append((oid, anchor))
            if is_fn:
                self.permission(
                    eid, owner, "apigateway.amazonaws.com", eprops, None, anchor, "Prod"
                )
            else:
                self.add(f"{eid}Role", "AWS::IAM::Role", {}, anchor, oid)
            return
        if etype == "HttpApi":
            if eprops.get("ApiId") is None:
                self.implicit_http_events.append((oid, anchor))
            self.permission(eid, owner, "apigateway.amazonaws.com", eprops, None, anchor)
            return
        if etype == "CloudWatchLogs":
            self.add(
                eid,
                "AWS::Logs::SubscriptionFilter",
                {
                    **pick(
                        eprops, {"LogGroupName": "LogGroupName", "FilterPattern": "FilterPattern"}
                    ),
                    "DestinationArn": target_arn,
                },
                anchor,
                oid,
            )
            self.permission(eid, owner, "logs.amazonaws.com", eprops, None, anchor)
            return
        if etype == "IoTRule":
            self.add(eid, "AWS::IoT::TopicRule", pick(eprops, {"Sql": "Sql"}), anchor, oid)
            self.permission(eid, owner, "iot.amazonaws.com", eprops, None, anchor)
            return
        if etype in ("Cognito", "AlexaSkill"):
            principal = (
                "cognito-idp.amazonaws.com" if etype == "Cognito" else "alexa-appkit.amazon.com"
            )
            self.permission(eid, owner, principal, eprops, None, anchor)
            return

    def permission(
        self,
        eid: str,
        fn: Resource,
        principal: str,
        eprops: Mapping[str, Any],
        source_key: str | None,
        anchor: Span,
        suffix: str = "",
    ) -> None:
        props: dict[Any, Any] = {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": fn.logical_id},
            "Principal": principal,
        }
        if source_key and source_key in eprops:
            props[renamed(key_object(eprops, source_key), "SourceArn")] = eprops[source_key]
        else:
            props["SourceArn"] = {"archreview::implicit": "source of the SAM event"}
        self.add(
            f"{eid}Permission{suffix}", "AWS::Lambda::Permission", props, anchor, fn.logical_id
        )

    # -- APIs --------------------------------------------------------------------------------
    def rest_stage_props(self, api_id: str, props: Mapping[str, Any], stage: Any) -> dict[Any, Any]:
        out = pick(
            props,
            {
                "StageName": "StageName",
                "MethodSettings": "MethodSettings",
                "AccessLogSetting": "AccessLogSetting",
                "TracingEnabled": "TracingEnabled",
                "CacheClusterEnabled": "CacheClusterEnabled",
                "CacheClusterSize": "CacheClusterSize",
                "Variables": "Variables",
                "CanarySetting": "CanarySetting",
                "Tags": "Tags",
            },
        )
        if "StageName" not in out:
            out["StageName"] = stage
        out["RestApiId"] = {"Ref": api_id}
        out["DeploymentId"] = {"Ref": f"{api_id}Deployment"}
        return out

    def rest_api(self, api: Resource) -> None:
        aid = api.logical_id
        stage_value = api.get("StageName")
        resolved = first(self.t, stage_value).value if stage_value is not None else None
        stage_name = _alnum(resolved) if isinstance(resolved, str) else "Stage"
        stage_id = f"{aid}{stage_name}Stage"
        anchor = (
            anchor_of(api.properties, "StageName", api.anchor)
            if "StageName" in api.properties
            else api.anchor
        )
        self.add(
            stage_id,
            "AWS::ApiGateway::Stage",
            self.rest_stage_props(aid, api.properties, stage_value),
            anchor,
            aid,
        )
        self.t.aliases[f"{aid}.Stage"] = stage_id
        self.t.aliases[f"{aid}.Deployment"] = f"{aid}Deployment"
        self.api_extras(api, anchor)

    def api_extras(self, api: Resource, anchor: Span) -> None:
        aid = api.logical_id
        auth = api.get("Auth")
        if isinstance(auth, Mapping):
            authorizers = auth.get("Authorizers")
            if isinstance(authorizers, Mapping):
                for name, spec in authorizers.items():
                    if isinstance(spec, Mapping) and "FunctionArn" in spec:
                        self.add(
                            f"{aid}{name}AuthorizerPermission",
                            "AWS::Lambda::Permission",
                            {
                                "Action": "lambda:InvokeFunction",
                                "FunctionName": spec["FunctionArn"],
                                "Principal": "apigateway.amazonaws.com",
                            },
                            anchor_of(authorizers, name, anchor),
                            aid,
                        )
            plan = auth.get("UsagePlan")
            if isinstance(plan, Mapping) and plan.get("CreateUsagePlan") in ("PER_API", "SHARED"):
                per_api = plan.get("CreateUsagePlan") == "PER_API"
                plan_id = f"{aid}UsagePlan" if per_api else "ServerlessUsagePlan"
                self.add(
                    plan_id,
                    "AWS::ApiGateway::UsagePlan",
                    pick(plan, {"Throttle": "Throttle", "Quota": "Quota"}),
                    anchor_of(auth, "UsagePlan", anchor),
                    aid,
                )

    def http_api(self, api: Resource) -> None:
        aid = api.logical_id
        stage_value = api.get("StageName")
        resolved = first(self.t, stage_value).value if stage_value is not None else None
        if stage_value is None or resolved == "$default":
            stage_id = f"{aid}ApiGatewayDefaultStage"
        else:
            stage_id = f"{aid}{_alnum(resolved) if isinstance(resolved, str) else ''}Stage"
        props = self.http_stage_props(aid, api.properties)
        anchor = (
            anchor_of(api.properties, "StageName", api.anchor)
            if "StageName" in api.properties
            else api.anchor
        )
        self.add(stage_id, "AWS::ApiGatewayV2::Stage", props, anchor, aid)
        self.t.aliases[f"{aid}.Stage"] = stage_id

    def http_stage_props(self, api_id: str, props: Mapping[str, Any]) -> dict[Any, Any]:
        out = pick(
            props,
            {
                "StageName": "StageName",
                "AccessLogSettings": "AccessLogSettings",
                "DefaultRouteSettings": "DefaultRouteSettings",
                "RouteSettings": "RouteSettings",
                "StageVariables": "StageVariables",
                "Tags": "Tags",
            },
        )
        if "StageName" not in out:
            out["StageName"] = "$default"
        out["ApiId"] = {"Ref": api_id}
        out["AutoDeploy"] = True
        return out

    def state_machine(self, sm: Resource) -> None:
        if "Role" not in sm.properties:
            self.role(sm, f"{sm.logical_id}Role", "states.amazonaws.com")
        events = sm.get("Events")
        if isinstance(events, Mapping):
            for name, event in events.items():
                if isinstance(event, Mapping):
                    self.event(sm, str(name), event, anchor_of(events, name, sm.anchor))

    def implicit_apis(self) -> None:
        if self.implicit_rest_events:
            anchor = self.implicit_rest_events[0][1]
            glb = self.globals.get("Api")
            props: Mapping[str, Any] = glb if isinstance(glb, Mapping) else {}
            self.add(
                "ServerlessRestApi",
                "AWS::Serverless::Api",
                dict(props),
                anchor,
                self.implicit_rest_events[0][0],
            )
            stage_props = self.rest_stage_props("ServerlessRestApi", props, "Prod")
            self.add(
                "ServerlessRestApiProdStage",
                "AWS::ApiGateway::Stage",
                stage_props,
                anchor,
                "ServerlessRestApi",
            )
            self.t.aliases["ServerlessRestApi.Stage"] = "ServerlessRestApiProdStage"
        if self.implicit_http_events:
            anchor = self.implicit_http_events[0][1]
            glb = self.globals.get("HttpApi")
            props = glb if isinstance(glb, Mapping) else {}
            self.add(
                "ServerlessHttpApi",
                "AWS::Serverless::HttpApi",
                {**props},
                anchor,
                self.implicit_http_events[0][0],
            )
            self.add(
                "ServerlessHttpApiApiGatewayDefaultStage",
                "AWS::ApiGatewayV2::Stage",
                self.http_stage_props("ServerlessHttpApi", props),
                anchor,
                "ServerlessHttpApi",
            )
            self.t.aliases["ServerlessHttpApi.Stage"] = "ServerlessHttpApiApiGatewayDefaultStage"


def expand(template: Template) -> None:
    _Expander(template).run()
