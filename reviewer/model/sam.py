"""SAM semantics without the transform: Globals merged into each serverless resource (keeping
where each inherited value was written), and the implicit resources SAM would generate, named
as aws-sam-translator names them, built from the nodes of the SAM source so that every
property keeps its line. See docs/adr/0001-native-sam-model.md for why this is native, and
bench/sam_parity.py for the measured parity with the translator.

Naming follows aws-sam-translator 1.115: logical ids derived from a *written* value (a stage
name, a permission suffix) use the raw value, not a resolved parameter — an intrinsic gives the
short form (`MyApiStage`, `...PermissionStage`), and a value that is not alphanumeric is replaced
by the first 10 hex digits of its SHA-1, as the translator's LogicalIdGenerator does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from reviewer.core.bounds import OverBudget
from reviewer.core.types import Span
from reviewer.model.resolve import first, intrinsic, truthy
from reviewer.model.template import Resource, Template, anchor_of, key_object

GLOBAL_SECTIONS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::Api": "Api",
    "AWS::Serverless::HttpApi": "HttpApi",
    "AWS::Serverless::SimpleTable": "SimpleTable",
    "AWS::Serverless::StateMachine": "StateMachine",
    "AWS::Serverless::LayerVersion": "LayerVersion",
    "AWS::Serverless::CapacityProvider": "CapacityProvider",
    "AWS::Serverless::NetworkConnector": "NetworkConnector",
    "AWS::Serverless::WebSocketApi": "WebSocketApi",
}

# The CloudFormation type a SAM resource becomes, as connectors see it.
SAM_TO_CFN = {
    "AWS::Serverless::Function": "AWS::Lambda::Function",
    "AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::Api": "AWS::ApiGateway::RestApi",
    "AWS::Serverless::HttpApi": "AWS::ApiGatewayV2::Api",
    "AWS::Serverless::SimpleTable": "AWS::DynamoDB::Table",
    "AWS::Serverless::GraphQLApi": "AWS::AppSync::GraphQLApi",
    "AWS::Serverless::Application": "AWS::CloudFormation::Stack",
}

# Connector profiles (aws-sam-translator connector_profiles/profiles.json): source type ->
# destination type -> what the connector generates: an IAM managed policy on the source's
# ("policy-source") or destination's ("policy-destination") role, a Lambda permission, an SQS
# queue policy or an SNS topic policy.
_LAMBDA = "AWS::Lambda::Function"
_QUEUE = "AWS::SQS::Queue"
_TOPIC = "AWS::SNS::Topic"
_BUS = "AWS::Events::EventBus"
_TABLE = "AWS::DynamoDB::Table"
_SFN = "AWS::StepFunctions::StateMachine"
_BUCKET = "AWS::S3::Bucket"
CONNECTOR_PROFILES: dict[str, dict[str, str]] = {
    _TABLE: {_LAMBDA: "policy-destination"},
    "AWS::Events::Rule": {
        _TOPIC: "sns",
        _LAMBDA: "lambda",
        _QUEUE: "sqs",
        _BUS: "policy-source",
        _SFN: "policy-source",
    },
    _LAMBDA: dict.fromkeys(
        (_TABLE, _BUS, _LAMBDA, "AWS::Location::PlaceIndex", _BUCKET, _TOPIC, _QUEUE, _SFN),
        "policy-source",
    ),
    "AWS::ApiGatewayV2::Api": {_LAMBDA: "lambda"},
    "AWS::ApiGateway::RestApi": {_LAMBDA: "lambda"},
    _TOPIC: {_QUEUE: "sqs", _LAMBDA: "lambda"},
    _QUEUE: {_LAMBDA: "policy-destination"},
    _BUCKET: {_LAMBDA: "lambda"},
    _SFN: dict.fromkeys((_TABLE, _BUS, _LAMBDA, _BUCKET, _TOPIC, _QUEUE, _SFN), "policy-source"),
    "AWS::AppSync::DataSource": dict.fromkeys((_TABLE, _BUS, _LAMBDA), "policy-source"),
    "AWS::AppSync::GraphQLApi": {_LAMBDA: "lambda"},
}

# Generated once for the whole template: they do not take the Condition of the resource that
# happened to generate them first.
SHARED_IDS = {
    "ServerlessRestApi",
    "ServerlessHttpApi",
    "CodeDeployServiceRole",
    "ServerlessDeploymentApplication",
    "ServerlessUsagePlan",
    "ServerlessApiKey",
    "ServerlessUsagePlanKey",
}

PULL_EVENTS = {
    "SQS": "Queue",
    "Kinesis": "Stream",
    "DynamoDB": "Stream",
    "MSK": "Stream",
    "MQ": "Broker",
    "SelfManagedKafka": None,
    "DocumentDB": "Cluster",
}
ESM_PROPERTIES = (
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
    "SourceAccessConfigurations",
    "KmsKeyArn",
)
PUSH_PRINCIPALS = {
    "S3": "s3.amazonaws.com",
    "CloudWatchLogs": "logs.amazonaws.com",
    "IoTRule": "iot.amazonaws.com",
    "AlexaSkill": "alexa-appkit.amazon.com",
    "Cognito": "cognito-idp.amazonaws.com",
}


def implicit_value(what: str) -> dict[str, str]:
    """A value SAM computes that no source node holds (e.g. the ARN of the event's source)."""
    return {"archreview::implicit": what}


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


# Entries the Globals merge may copy into the resources of one template (the size of the largest
# tree the decoder accepts): Globals are shared by reference where a resource does not write the
# same key, but every map and list both sides write is copied into each resource, so a large
# Globals list merged into thousands of functions would otherwise grow the model without bound.
MAX_GLOBALS_COPIES = 200_000  # a large SAM template (500 resources) copies some 20,000


def merge_globals(global_node: Any, local: Any, copies: list[int] | None = None) -> Any:
    """SAM's merge: maps merge key by key, lists append (globals first), scalars: local wins.
    Intrinsic functions count as scalars. `copies[0]` counts the entries copied."""
    if (
        isinstance(global_node, Mapping)
        and isinstance(local, Mapping)
        and intrinsic(global_node) is None
        and intrinsic(local) is None
    ):
        if copies is not None:
            copies[0] += len(global_node) + len(local)
        merged: dict[Any, Any] = {}
        for key, value in global_node.items():
            merged[key] = value
        for key, value in local.items():
            if key in merged:
                gvalue = merged.pop(key)  # (the local key object takes the global one's place)
                merged[key] = merge_globals(gvalue, value, copies)
            else:
                merged[key] = value
        return merged
    if isinstance(global_node, list) and isinstance(local, list):
        if copies is not None:
            copies[0] += len(global_node) + len(local)
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


def sam_hash(data: str) -> str:
    """LogicalIdGenerator.get_hash: the first 10 hex digits of SHA-1, empty for no data."""
    return hashlib.sha1(data.encode("utf-8")).hexdigest()[:10] if data else ""


def suffixed(prefix: str, suffix: str) -> str:
    """`prefix + suffix` when the suffix is alphanumeric, else prefix + sam_hash(suffix)."""
    return prefix + suffix if suffix.isalnum() else prefix + sam_hash(suffix)


def written_name(value: Any) -> str:
    """A written name as SAM uses it in logical ids: the string, or "" for an intrinsic."""
    return str(value) if isinstance(value, str) else ""


def logical_ref(value: Any) -> str | None:
    """The logical id a RestApiId / ApiId / Id names: a plain string or a Ref."""
    if isinstance(value, str):
        return str(value)
    fn = intrinsic(value)
    if fn is not None and fn[0] == "Ref" and isinstance(fn[1], str):
        return str(fn[1])
    return None


def _no_value(node: Any) -> bool:
    fn = intrinsic(node)
    return fn is not None and fn[0] == "Ref" and fn[1] == "AWS::NoValue"


def _as_map(node: Any) -> Mapping[str, Any]:
    return node if isinstance(node, Mapping) else {}


def assume_role(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sts:AssumeRole"],
                "Principal": {"Service": [service]},
            }
        ],
    }


class _Expander:
    def __init__(self, template: Template) -> None:
        self.t = template
        self.globals = template.globals
        self.implicit_rest_events: list[tuple[str, Span]] = []
        self.implicit_http_events: list[tuple[str, Span]] = []
        self.copies = 0

    def add(
        self,
        logical_id: str,
        rtype: str,
        props: dict[Any, Any],
        anchor: Span,
        source: str,
        extra: Mapping[str, Any] | None = None,
        condition: str | None = None,
    ) -> Resource:
        existing = self.t.resources.get(logical_id)
        if existing is not None:
            return existing
        owner = self.t.resources.get(source)
        if condition is None and owner is not None and logical_id not in SHARED_IDS:
            condition = owner.condition  # SAM passes the Condition through
        node: dict[str, Any] = {"Type": rtype, **(extra or {})}
        if condition is not None:
            node["Condition"] = condition
        res = Resource(
            logical_id=logical_id,
            type=rtype,
            properties=props,
            node=node,
            anchor=anchor,
            source=source,
            condition=condition,
        )
        self.t.add_resource(res)
        return res

    def enabled(self, value: Any) -> bool:
        """False only when the value is (or resolves to) false."""
        if value is None:
            return True
        outcome = first(self.t, value)
        return truthy(outcome.value) is not False

    # -- driver ------------------------------------------------------------------------------
    def copied(self, entries: int) -> None:
        """Count entries copied per resource from what Globals gave it (the merge, a function's
        Policies made into its role's): over MAX_GLOBALS_COPIES, the modelling stops."""
        self.copies += entries
        if self.copies > MAX_GLOBALS_COPIES:
            raise OverBudget(f"{MAX_GLOBALS_COPIES:,} entries copied from Globals into resources")

    def run(self) -> None:
        for res in list(self.t.resources.values()):
            section = GLOBAL_SECTIONS.get(res.type)
            if section is not None:
                glb = self.globals.get(section)
                if isinstance(glb, Mapping):
                    counter = [0]
                    res.properties = merge_globals(glb, res.properties, counter)
                    res.view = {}
                    res.__post_init__()
                    self.copied(counter[0])
        handlers: dict[str, Callable[[Resource], None]] = {
            "AWS::Serverless::Function": self.function,
            "AWS::Serverless::Api": self.rest_api,
            "AWS::Serverless::HttpApi": self.http_api,
            "AWS::Serverless::StateMachine": self.state_machine,
            "AWS::Serverless::GraphQLApi": self.graphql_api,
            "AWS::Serverless::WebSocketApi": self.websocket_api,
            "AWS::Serverless::CapacityProvider": self.operator_role,
            "AWS::Serverless::NetworkConnector": self.operator_role,
        }
        declared = [r for r in self.t.resources.values() if not r.implicit]
        for res in declared:
            handler = handlers.get(res.type)
            if handler is not None:
                handler(res)
        self.implicit_apis()
        # connectors last: they see the types of the resources they connect
        for res in declared:
            if res.type == "AWS::Serverless::Connector":
                self.connector(res.logical_id, res.properties, res.anchor, res.logical_id)
            embedded = res.node.get("Connectors")
            if isinstance(embedded, Mapping):
                self.embedded_connectors(res, embedded)

    # -- functions ---------------------------------------------------------------------------
    def function(self, fn: Resource) -> None:
        fid = fn.logical_id
        props = fn.properties
        self.function_role(fn)
        alias = props.get("AutoPublishAlias")
        alias_id: str | None = None
        alias_name: Any = None
        if alias is not None:
            resolved = first(self.t, alias).value
            if isinstance(resolved, str) and resolved:
                alias_name = alias
                alias_id = f"{fid}Alias{_alnum(resolved)}"
        if alias_id is not None:
            self.t.aliases[f"{fid}.Alias"] = alias_id
            alias_anchor = anchor_of(props, "AutoPublishAlias", fn.anchor)
            extra: dict[str, Any] = {}
            pref = props.get("DeploymentPreference")
            if (
                isinstance(pref, Mapping)
                and intrinsic(pref) is None
                and self.enabled(pref.get("Enabled"))
            ):
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
                {
                    renamed(key_object(props, "AutoPublishAlias"), "Name"): alias_name,
                    "FunctionName": {"Ref": fid},
                },
                alias_anchor,
                fid,
                extra,
            )
        target = {"Ref": alias_id} if alias_id else {"Ref": fid}
        url = props.get("FunctionUrlConfig")
        if isinstance(url, Mapping):
            self.function_url(fn, url, alias_id, alias_name, target)
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
            cfg["Qualifier"] = alias_name if alias_id else "$LATEST"
            self.add(f"{fid}EventInvokeConfig", "AWS::Lambda::EventInvokeConfig", cfg, anchor, fid)
        events = props.get("Events")
        if isinstance(events, Mapping):
            for name, event in events.items():
                if isinstance(event, Mapping):
                    self.event(fn, str(name), event, anchor_of(events, name, fn.anchor))

    def function_role(self, fn: Resource) -> None:
        """`<Fn>Role` unless Role is given; with `Role: !If [C, !Ref AWS::NoValue, X]` the
        role exists under C (under NOTC for the other branch), as SAM makes it."""
        role = fn.properties.get("Role")
        if role is None:
            self.role(fn, f"{fn.logical_id}Role", "lambda.amazonaws.com")
            return
        fn_if = intrinsic(role)
        if fn_if is None or fn_if[0] != "Fn::If":
            return
        items = fn_if[1]
        if not isinstance(items, list) or len(items) != 3 or not isinstance(items[0], str):
            return
        cond, if_true, if_false = items
        if _no_value(if_true) and _no_value(if_false):
            self.role(fn, f"{fn.logical_id}Role", "lambda.amazonaws.com")
        elif _no_value(if_true):
            self.role(fn, f"{fn.logical_id}Role", "lambda.amazonaws.com", condition=cond)
        elif _no_value(if_false):
            # SAM adds the negated condition to the template's Conditions
            conditions = self.t.tree.get("Conditions")
            if isinstance(conditions, dict) and f"NOT{cond}" not in conditions:
                conditions[f"NOT{cond}"] = {"Fn::Not": [{"Condition": cond}]}
            self.role(fn, f"{fn.logical_id}Role", "lambda.amazonaws.com", condition=f"NOT{cond}")

    def function_url(
        self,
        fn: Resource,
        url: Mapping[str, Any],
        alias_id: str | None,
        alias_name: Any,
        target: dict[str, Any],
    ) -> None:
        fid = fn.logical_id
        anchor = anchor_of(fn.properties, "FunctionUrlConfig", fn.anchor)
        url_props = pick(url, {"AuthType": "AuthType", "Cors": "Cors", "InvokeMode": "InvokeMode"})
        url_props["TargetFunctionArn"] = target
        if alias_id:
            url_props["Qualifier"] = alias_name
        self.add(f"{fid}Url", "AWS::Lambda::Url", url_props, anchor, fid)
        if intrinsic(url) is not None or url.get("AuthType") != "NONE":
            return
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
        self.add(
            f"{fid}URLInvokeAllowPublicAccess",
            "AWS::Lambda::Permission",
            {
                "Action": "lambda:InvokeFunction",
                "Principal": "*",
                "FunctionName": target,
                "InvokedViaFunctionUrl": True,
            },
            anchor,
            fid,
        )

    def role(self, res: Resource, role_id: str, service: str, condition: str | None = None) -> None:
        props = res.properties
        role_props: dict[Any, Any] = {"AssumeRolePolicyDocument": assume_role(service)}
        if "AssumeRolePolicyDocument" in props:
            role_props.update(pick(props, {"AssumeRolePolicyDocument": "AssumeRolePolicyDocument"}))
        role_props.update(pick(props, {"PermissionsBoundary": "PermissionsBoundary"}))
        role_props.update(pick(props, {"RolePath": "Path"}))
        policies = props.get("Policies")
        inline: list[Any] = []
        managed: list[Any] = []
        items = policies if isinstance(policies, list) else [policies] if policies else []
        self.copied(len(items))
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
        self.add(role_id, "AWS::IAM::Role", role_props, anchor, res.logical_id, condition=condition)

    def service_role(
        self,
        role_id: str,
        service: str,
        anchor: Span,
        owner: Resource,
        managed: list[Any] | None = None,
    ) -> None:
        """A role SAM generates for a service acting for `owner` (event rules, schedulers,
        AppSync, capacity providers); PermissionsBoundary comes from the owner, as in SAM."""
        props: dict[Any, Any] = {"AssumeRolePolicyDocument": assume_role(service)}
        props.update(pick(owner.properties, {"PermissionsBoundary": "PermissionsBoundary"}))
        if managed:
            props["ManagedPolicyArns"] = managed
        self.add(role_id, "AWS::IAM::Role", props, anchor, owner.logical_id)

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
        if "Role" in pref:
            props.update(pick(pref, {"Role": "ServiceRoleArn"}))
        else:
            props["ServiceRoleArn"] = {"Fn::GetAtt": ["CodeDeployServiceRole", "Arn"]}
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
                    "AssumeRolePolicyDocument": assume_role("codedeploy.amazonaws.com"),
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
        eprops = _as_map(event.get("Properties"))
        oid = owner.logical_id
        eid = f"{oid}{name}"
        is_fn = owner.type == "AWS::Serverless::Function"
        fn_ref = {"Ref": oid}
        target_arn = {"Fn::GetAtt": [oid, "Arn"]} if is_fn else {"Ref": oid}
        if not isinstance(etype, str):
            return
        if etype in PULL_EVENTS and is_fn:
            source_key = PULL_EVENTS[etype]
            names = {k: k for k in ESM_PROPERTIES}
            if source_key:
                names = {source_key: "EventSourceArn", **names}
            props = pick(eprops, names)
            props["FunctionName"] = fn_ref
            self.add(eid, "AWS::Lambda::EventSourceMapping", props, anchor, oid)
            return
        if etype == "SNS" and is_fn:
            self.sns_event(owner, eid, eprops, anchor)
            return
        if etype in ("Schedule", "CloudWatchEvent", "EventBridgeRule"):
            self.rule_event(owner, eid, etype, eprops, anchor)
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
                    "KmsKeyArn": "KmsKeyArn",
                },
            )
            tgt: dict[Any, Any] = {"Arn": target_arn}
            tgt.update(
                pick(eprops, {"DeadLetterConfig": "DeadLetterConfig", "RetryPolicy": "RetryPolicy"})
            )
            if eprops.get("RoleArn"):
                tgt.update(pick(eprops, {"RoleArn": "RoleArn"}))
            else:
                tgt["RoleArn"] = {"Fn::GetAtt": [f"{eid}Role", "Arn"]}
                self.service_role(f"{eid}Role", "scheduler.amazonaws.com", anchor, owner)
            sched["Target"] = tgt
            self.add(eid, "AWS::Scheduler::Schedule", sched, anchor, oid)
            return
        if etype == "Api":
            rest = eprops.get("RestApiId")
            if rest is None:
                self.implicit_rest_events.append((oid, anchor))
            if is_fn:
                suffix = self.rest_permission_suffix(rest)
                self.permission(
                    suffixed(f"{eid}Permission", suffix),
                    owner,
                    "apigateway.amazonaws.com",
                    eprops,
                    None,
                    anchor,
                )
            else:
                self.service_role(f"{eid}Role", "apigateway.amazonaws.com", anchor, owner)
            return
        if etype == "HttpApi" and is_fn:
            if eprops.get("ApiId") is None:
                self.implicit_http_events.append((oid, anchor))
            self.permission(
                f"{eid}Permission", owner, "apigateway.amazonaws.com", eprops, None, anchor
            )
            return
        if not is_fn or etype not in PUSH_PRINCIPALS:
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
        elif etype == "IoTRule":
            self.add(eid, "AWS::IoT::TopicRule", pick(eprops, {"Sql": "Sql"}), anchor, oid)
        if etype == "Cognito":
            # one permission per function (per alias when published), whatever the number of
            # Cognito events
            prefix = self.t.aliases.get(f"{oid}.Alias", oid)
            self.permission(
                f"{prefix}CognitoPermission", owner, PUSH_PRINCIPALS[etype], eprops, None, anchor
            )
        else:
            self.permission(f"{eid}Permission", owner, PUSH_PRINCIPALS[etype], eprops, None, anchor)

    def sns_event(self, fn: Resource, eid: str, eprops: Mapping[str, Any], anchor: Span) -> None:
        oid = fn.logical_id
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
        sqs = eprops.get("SqsSubscription")
        if not sqs:
            sub.update({"Protocol": "lambda", "Endpoint": {"Fn::GetAtt": [oid, "Arn"]}})
            self.add(eid, "AWS::SNS::Subscription", sub, anchor, oid)
            self.permission(f"{eid}Permission", fn, "sns.amazonaws.com", eprops, "Topic", anchor)
            return
        sqs_anchor = anchor_of(eprops, "SqsSubscription", anchor)
        esm: dict[Any, Any] = {"FunctionName": {"Ref": oid}}
        if isinstance(sqs, Mapping):
            # an existing queue
            queue_arn: Any = sqs.get("QueueArn")
            esm[renamed(key_object(sqs, "QueueArn"), "EventSourceArn")] = queue_arn
            esm.update(pick(sqs, {"BatchSize": "BatchSize", "Enabled": "Enabled"}))
            policy_id = sqs.get("QueuePolicyLogicalId")
            policy_id = policy_id if isinstance(policy_id, str) else f"{eid}QueuePolicy"
            queues: Any = [sqs.get("QueueUrl")]
        else:
            queue_id = f"{eid}Queue"
            self.add(queue_id, "AWS::SQS::Queue", {}, sqs_anchor, oid)
            queue_arn = {"Fn::GetAtt": [queue_id, "Arn"]}
            esm.update({"EventSourceArn": queue_arn, "BatchSize": 10, "Enabled": True})
            policy_id = f"{eid}QueuePolicy"
            queues = [{"Ref": queue_id}]
        self.add(policy_id, "AWS::SQS::QueuePolicy", {"Queues": queues}, sqs_anchor, oid)
        sub.update({"Protocol": "sqs", "Endpoint": queue_arn})
        self.add(eid, "AWS::SNS::Subscription", sub, anchor, oid)
        self.add(
            f"{eid}EventSourceMapping", "AWS::Lambda::EventSourceMapping", esm, sqs_anchor, oid
        )

    def rule_event(
        self, owner: Resource, eid: str, etype: str, eprops: Mapping[str, Any], anchor: Span
    ) -> None:
        oid = owner.logical_id
        is_fn = owner.type == "AWS::Serverless::Function"
        rule = pick(
            eprops,
            {
                "Schedule": "ScheduleExpression",
                "Pattern": "EventPattern",
                "EventBusName": "EventBusName",
                "Description": "Description",
                "Name": "Name",
                "RuleName": "Name",
                "State": "State",
            },
        )
        target_arn = {"Fn::GetAtt": [oid, "Arn"]} if is_fn else {"Ref": oid}
        target: dict[Any, Any] = {
            "Arn": target_arn,
            "Id": f"{eid}{'LambdaTarget' if is_fn else 'StepFunctionsTarget'}",
        }
        target.update(
            pick(eprops, {"RetryPolicy": "RetryPolicy", "Input": "Input", "InputPath": "InputPath"})
        )
        dlq = eprops.get("DeadLetterConfig")
        if isinstance(dlq, Mapping):
            dlq_key = key_object(eprops, "DeadLetterConfig")
            if "Arn" in dlq:
                target[dlq_key] = {renamed(key_object(dlq, "Arn"), "Arn"): dlq["Arn"]}
            elif dlq.get("Type") == "SQS":
                queue_id = str(dlq.get("QueueLogicalId") or f"{eid}Queue")
                dlq_anchor = anchor_of(eprops, "DeadLetterConfig", anchor)
                self.add(queue_id, "AWS::SQS::Queue", {}, dlq_anchor, oid)
                self.add(
                    f"{queue_id}Policy",
                    "AWS::SQS::QueuePolicy",
                    {"Queues": [{"Ref": queue_id}]},
                    dlq_anchor,
                    oid,
                )
                target[dlq_key] = {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        if not is_fn:
            # Schedule honours RoleArn; CloudWatchEvent / EventBridgeRule always make a role
            if etype == "Schedule" and eprops.get("RoleArn"):
                target.update(pick(eprops, {"RoleArn": "RoleArn"}))
            else:
                target["RoleArn"] = {"Fn::GetAtt": [f"{eid}Role", "Arn"]}
                self.service_role(f"{eid}Role", "events.amazonaws.com", anchor, owner)
        rule["Targets"] = [target]
        self.add(eid, "AWS::Events::Rule", rule, anchor, oid)
        if is_fn:
            self.permission(f"{eid}Permission", owner, "events.amazonaws.com", eprops, None, anchor)

    def rest_permission_suffix(self, rest: Any) -> str:
        """SAM's suffix of an Api event's permission: "Prod" for the implicit API, the
        written StageName of the explicit one ("Stage" when it is not a plain string),
        "AllStages" when RestApiId is not a Ref to a logical id."""
        if rest is None:
            return "Prod"
        api_id = logical_ref(rest)
        if api_id is None:
            return "AllStages"
        api = self.t.resources.get(api_id)
        stage = api.properties.get("StageName") if api is not None else None
        return str(stage) if isinstance(stage, str) and stage else "Stage"

    def permission(
        self,
        logical_id: str,
        fn: Resource,
        principal: str,
        eprops: Mapping[str, Any],
        source_key: str | None,
        anchor: Span,
    ) -> None:
        props: dict[Any, Any] = {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": fn.logical_id},
            "Principal": principal,
        }
        if source_key and source_key in eprops:
            props[renamed(key_object(eprops, source_key), "SourceArn")] = eprops[source_key]
        else:
            props["SourceArn"] = implicit_value("source of the SAM event")
        self.add(logical_id, "AWS::Lambda::Permission", props, anchor, fn.logical_id)

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

    def rest_api(self, api: Resource, stage_value: Any = None, anchor: Span | None = None) -> None:
        aid = api.logical_id
        props = api.properties
        if stage_value is None:
            stage_value = props.get("StageName")
        name = written_name(stage_value)
        stage_id = f"{aid}{name}Stage" if name.isalnum() else f"{aid}Stage{sam_hash(name)}"
        if anchor is None:
            anchor = (
                anchor_of(props, "StageName", api.anchor) if "StageName" in props else api.anchor
            )
        self.add(
            stage_id,
            "AWS::ApiGateway::Stage",
            self.rest_stage_props(aid, props, stage_value),
            anchor,
            aid,
        )
        self.t.aliases[f"{aid}.Stage"] = stage_id
        self.t.aliases[f"{aid}.Deployment"] = f"{aid}Deployment"
        self.rest_api_extras(api, anchor)

    def authorizers(self, api: Resource) -> Mapping[str, Any]:
        auth = api.properties.get("Auth")
        if not isinstance(auth, Mapping) or intrinsic(auth) is not None:
            return {}
        return _as_map(auth.get("Authorizers"))

    def authorizer_permission(
        self, api: Resource, name: str, spec: Mapping[str, Any], anchor: Span
    ) -> None:
        aid = api.logical_id
        self.add(
            f"{aid}{name}AuthorizerPermission",
            "AWS::Lambda::Permission",
            {
                renamed(key_object(spec, "FunctionArn"), "FunctionName"): spec["FunctionArn"],
                "Action": "lambda:InvokeFunction",
                "Principal": "apigateway.amazonaws.com",
                "SourceArn": implicit_value("the API's authorizers"),
            },
            anchor,
            aid,
        )

    def rest_api_extras(self, api: Resource, anchor: Span) -> None:
        aid = api.logical_id
        authorizers = self.authorizers(api)
        for name, spec in authorizers.items():
            if (
                isinstance(spec, Mapping)
                and spec.get("FunctionArn")
                and not truthy(spec.get("DisableFunctionDefaultPermissions"))
            ):
                self.authorizer_permission(
                    api, str(name), spec, anchor_of(authorizers, name, anchor)
                )
        auth = _as_map(api.properties.get("Auth"))
        plan = auth.get("UsagePlan")
        if isinstance(plan, Mapping) and plan.get("CreateUsagePlan") in ("PER_API", "SHARED"):
            per_api = plan.get("CreateUsagePlan") == "PER_API"
            plan_id = f"{aid}UsagePlan" if per_api else "ServerlessUsagePlan"
            key_id = f"{aid}ApiKey" if per_api else "ServerlessApiKey"
            plan_anchor = anchor_of(auth, "UsagePlan", anchor)
            self.add(
                plan_id,
                "AWS::ApiGateway::UsagePlan",
                pick(plan, {"Throttle": "Throttle", "Quota": "Quota"}),
                plan_anchor,
                aid,
            )
            self.add(
                key_id,
                "AWS::ApiGateway::ApiKey",
                {"Enabled": True, "StageKeys": [{"RestApiId": {"Ref": aid}}]},
                plan_anchor,
                aid,
            )
            self.add(
                f"{aid}UsagePlanKey" if per_api else "ServerlessUsagePlanKey",
                "AWS::ApiGateway::UsagePlanKey",
                {"KeyId": {"Ref": key_id}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": plan_id}},
                plan_anchor,
                aid,
            )

    def http_api(self, api: Resource) -> None:
        aid = api.logical_id
        props = api.properties
        stage_value = props.get("StageName") or "$default"
        name = written_name(stage_value)
        if name.isalnum():
            stage_id = f"{aid}{name}Stage"
        elif name == "$default":
            stage_id = f"{aid}ApiGatewayDefaultStage"
        else:
            stage_id = f"{aid}Stage{sam_hash(name)}"
        anchor = anchor_of(props, "StageName", api.anchor) if "StageName" in props else api.anchor
        self.add(
            stage_id, "AWS::ApiGatewayV2::Stage", self.http_stage_props(aid, props), anchor, aid
        )
        self.t.aliases[f"{aid}.Stage"] = stage_id
        # HTTP APIs make authorizer permissions only when asked to
        authorizers = self.authorizers(api)
        for name_, spec in authorizers.items():
            if (
                isinstance(spec, Mapping)
                and spec.get("FunctionArn")
                and truthy(spec.get("EnableFunctionDefaultPermissions"))
            ):
                self.authorizer_permission(
                    api, str(name_), spec, anchor_of(authorizers, name_, anchor)
                )

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

    def websocket_api(self, api: Resource) -> None:
        aid = api.logical_id
        props = api.properties
        stage_value = props.get("StageName")
        name = "default" if stage_value is None else written_name(stage_value)
        stage_id = f"{aid}DefaultStage" if name == "default" else f"{aid}{name}Stage"
        anchor = anchor_of(props, "StageName", api.anchor) if "StageName" in props else api.anchor
        stage = self.http_stage_props(aid, props)
        stage["StageName"] = stage_value if stage_value is not None else "default"
        stage.pop("Tags", None)
        self.add(stage_id, "AWS::ApiGatewayV2::Stage", stage, anchor, aid)
        self.t.aliases[f"{aid}.Stage"] = stage_id
        routes = _as_map(props.get("Routes"))
        for key, spec in routes.items():
            if not isinstance(key, str) or not isinstance(spec, Mapping):
                continue
            if key in ("$connect", "$disconnect", "$default"):
                clean = key.replace("$", "").capitalize()
            elif key.isalnum():
                clean = key.capitalize()
            else:
                continue  # the translator refuses such a route key
            route_anchor = anchor_of(routes, key, api.anchor)
            route = pick(
                spec,
                {
                    "ApiKeyRequired": "ApiKeyRequired",
                    "ModelSelectionExpression": "ModelSelectionExpression",
                    "OperationName": "OperationName",
                    "RequestModels": "RequestModels",
                    "RequestParameters": "RequestParameters",
                    "RouteResponseSelectionExpression": "RouteResponseSelectionExpression",
                },
            )
            route.update({"RouteKey": key, "ApiId": {"Ref": aid}})
            integration_id = f"{aid}{clean}Integration"
            route["Target"] = {"Fn::Join": ["/", ["integrations", {"Ref": integration_id}]]}
            self.add(f"{aid}{clean}Route", "AWS::ApiGatewayV2::Route", route, route_anchor, aid)
            if "FunctionArn" in spec:
                self.add(
                    integration_id,
                    "AWS::ApiGatewayV2::Integration",
                    {
                        "ApiId": {"Ref": aid},
                        "IntegrationType": "AWS_PROXY",
                        renamed(key_object(spec, "FunctionArn"), "IntegrationUri"): spec[
                            "FunctionArn"
                        ],
                        **pick(spec, {"IntegrationTimeout": "TimeoutInMillis"}),
                    },
                    route_anchor,
                    aid,
                )
                self.add(
                    f"{aid}{clean}Permission",
                    "AWS::Lambda::Permission",
                    {
                        renamed(key_object(spec, "FunctionArn"), "FunctionName"): spec[
                            "FunctionArn"
                        ],
                        "Action": "lambda:InvokeFunction",
                        "Principal": "apigateway.amazonaws.com",
                        "SourceArn": implicit_value("the WebSocket API route"),
                    },
                    route_anchor,
                    aid,
                )
        auth = props.get("Auth")
        if (
            isinstance(auth, Mapping)
            and "$connect" in routes
            and auth.get("AuthType") == "CUSTOM"
            and auth.get("AuthArn")
            and not auth.get("InvokeRole")
        ):
            self.add(
                f"{aid}AuthorizerPermission",
                "AWS::Lambda::Permission",
                {
                    renamed(key_object(auth, "AuthArn"), "FunctionName"): auth["AuthArn"],
                    "Action": "lambda:InvokeFunction",
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": implicit_value("the WebSocket API authorizer"),
                },
                anchor_of(props, "Auth", api.anchor),
                aid,
            )

    def implicit_apis(self) -> None:
        if self.implicit_rest_events:
            owner, anchor = self.implicit_rest_events[0]
            glb = self.globals.get("Api")
            props: Mapping[str, Any] = glb if isinstance(glb, Mapping) else {}
            api = self.add("ServerlessRestApi", "AWS::Serverless::Api", dict(props), anchor, owner)
            if api.source is not None:
                self.rest_api(api, "Prod", anchor)
        if self.implicit_http_events:
            owner, anchor = self.implicit_http_events[0]
            glb = self.globals.get("HttpApi")
            props = glb if isinstance(glb, Mapping) else {}
            api = self.add(
                "ServerlessHttpApi", "AWS::Serverless::HttpApi", dict(props), anchor, owner
            )
            if api.source is not None:
                self.http_api(api)

    # -- state machines ----------------------------------------------------------------------
    def state_machine(self, sm: Resource) -> None:
        if not sm.properties.get("Role"):
            self.role(sm, f"{sm.logical_id}Role", "states.amazonaws.com")
        events = sm.properties.get("Events")
        if isinstance(events, Mapping):
            for name, event in events.items():
                if isinstance(event, Mapping):
                    self.event(sm, str(name), event, anchor_of(events, name, sm.anchor))

    # -- AppSync, capacity providers ---------------------------------------------------------
    def graphql_api(self, api: Resource) -> None:
        aid = api.logical_id
        props = api.properties
        logging = props.get("Logging")
        if logging is not False and not (
            isinstance(logging, Mapping) and logging.get("CloudWatchLogsRoleArn")
        ):
            anchor = anchor_of(props, "Logging", api.anchor) if "Logging" in props else api.anchor
            self.service_role(
                f"{aid}CloudWatchRole",
                "appsync.amazonaws.com",
                anchor,
                api,
                [
                    {
                        "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AWSAppSyncPushToCloudWatchLogs"
                    }
                ],
            )
        sources = _as_map(props.get("DataSources"))
        for section, label, dest in (
            ("DynamoDb", "DynamoDB", "Table"),
            ("Lambda", "Lambda", "Lambda"),
        ):
            group = _as_map(sources.get(section))
            for name, spec in group.items():
                if isinstance(spec, Mapping) and not spec.get("ServiceRoleArn"):
                    ds_id = f"{aid}{name}{label}DataSource"
                    ds_anchor = anchor_of(group, name, api.anchor)
                    self.service_role(f"{ds_id}Role", "appsync.amazonaws.com", ds_anchor, api)
                    # the data source's connector to its table / function
                    self.add(
                        f"{ds_id}To{dest}ConnectorPolicy",
                        "AWS::IAM::ManagedPolicy",
                        {
                            "PolicyDocument": implicit_value("the connector profile's statements"),
                            "Roles": [{"Ref": f"{ds_id}Role"}],
                        },
                        ds_anchor,
                        aid,
                    )
        auth = props.get("Auth")
        if not isinstance(auth, Mapping):
            return
        lambda_auths: list[tuple[Mapping[str, Any], str]] = []
        if auth.get("Type") == "AWS_LAMBDA" and isinstance(auth.get("LambdaAuthorizer"), Mapping):
            lambda_auths.append((auth, "LambdaAuthorizer"))
        extra = auth.get("Additional")
        for item in extra if isinstance(extra, list) else []:
            if (
                isinstance(item, Mapping)
                and item.get("Type") == "AWS_LAMBDA"
                and isinstance(item.get("LambdaAuthorizer"), Mapping)
            ):
                lambda_auths.append((item, "LambdaAuthorizer"))
        for n, (holder, key) in enumerate(lambda_auths, 1):
            spec = holder[key]
            arn_key = "FunctionArn" if "FunctionArn" in spec else "AuthorizerUri"
            self.add(
                f"{aid}ToLambdaAuthConnector{n}WriteLambdaPermission",
                "AWS::Lambda::Permission",
                {
                    **pick(spec, {arn_key: "FunctionName"}),
                    "Action": "lambda:InvokeFunction",
                    "Principal": "appsync.amazonaws.com",
                    "SourceArn": {"Ref": aid},
                },
                anchor_of(holder, key, api.anchor),
                aid,
            )

    def operator_role(self, res: Resource) -> None:
        if res.properties.get("OperatorRole"):
            return
        policy = (
            "AWSLambdaManagedEC2ResourceOperator"
            if res.type == "AWS::Serverless::CapacityProvider"
            else "AWSLambdaNetworkConnectorOperatorPolicy"
        )
        self.service_role(
            f"{res.logical_id}OperatorRole",
            "lambda.amazonaws.com",
            res.anchor,
            res,
            [{"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{policy}"}],
        )

    # -- connectors --------------------------------------------------------------------------
    def embedded_connectors(self, res: Resource, connectors: Mapping[str, Any]) -> None:
        for name, spec in connectors.items():
            if not isinstance(spec, Mapping):
                continue
            props = _as_map(spec.get("Properties"))
            source: dict[str, Any] = {"Id": res.logical_id}
            ref = props.get("SourceReference")
            if isinstance(ref, Mapping):
                source.update({k: v for k, v in ref.items() if k != "Id"})
            merged = {**props, "Source": source}
            self.connector(
                f"{res.logical_id}{name}",
                merged,
                anchor_of(connectors, name, res.anchor),
                res.logical_id,
            )

    def connector_type(self, ref: Any) -> str | None:
        if not isinstance(ref, Mapping):
            return None
        lid = ref.get("Id")
        if isinstance(lid, str):
            res = self.t.resources.get(lid)
            return SAM_TO_CFN.get(res.type, res.type) if res is not None else None
        rtype = ref.get("Type")
        return SAM_TO_CFN.get(rtype, rtype) if isinstance(rtype, str) else None

    def connector(self, cid: str, props: Mapping[str, Any], anchor: Span, source_id: str) -> None:
        """What a connector generates: a Lambda permission, a queue or topic policy, or an IAM
        managed policy on the role of one side (the statements are the profile's, not modelled)."""
        dests = props.get("Destination")
        multi = isinstance(dests, list)
        items = dests if isinstance(dests, list) else [dests]
        perms = props.get("Permissions")
        perms = perms if isinstance(perms, list) else []
        src_type = self.connector_type(props.get("Source"))
        profiles = CONNECTOR_PROFILES.get(src_type or "", {})
        for i, dest in enumerate(items):
            kind = profiles.get(self.connector_type(dest) or "")
            if kind is None:
                continue  # the translator refuses an unsupported pair
            tail = f"Destination{i}" if multi else ""
            perm_anchor = (
                anchor_of(props, "Permissions", anchor) if "Permissions" in props else anchor
            )
            if kind == "lambda":
                if "Write" in perms:
                    self.add(
                        f"{cid}WriteLambdaPermission{tail}",
                        "AWS::Lambda::Permission",
                        {
                            "Action": "lambda:InvokeFunction",
                            "FunctionName": implicit_value("the connector's destination"),
                            "Principal": implicit_value("the connector's source service"),
                            "SourceArn": implicit_value("the connector's source"),
                        },
                        perm_anchor,
                        source_id,
                    )
            elif kind == "sqs":
                self.add(
                    f"{cid}QueuePolicy{tail}",
                    "AWS::SQS::QueuePolicy",
                    {"Queues": [implicit_value("the connector's destination queue")]},
                    perm_anchor,
                    source_id,
                )
            elif kind == "sns":
                self.add(
                    f"{cid}TopicPolicy{tail}",
                    "AWS::SNS::TopicPolicy",
                    {"Topics": [implicit_value("the connector's destination topic")]},
                    perm_anchor,
                    source_id,
                )
            else:
                self.add(
                    f"{cid}Policy{tail}",
                    "AWS::IAM::ManagedPolicy",
                    {
                        "PolicyDocument": implicit_value("the connector profile's statements"),
                        "Roles": [implicit_value(f"the role of the connector's {kind[7:]}")],
                    },
                    perm_anchor,
                    source_id,
                )


def expand(template: Template) -> None:
    _Expander(template).run()
