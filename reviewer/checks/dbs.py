"""DBS: data stores and recovery."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reviewer.cfn.resolve import (
    NOVALUE,
    Outcome,
    Unresolved,
    intrinsic,
    references,
    resolve,
    targets,
    truthy,
)
from reviewer.cfn.template import MISSING, Resource, Template
from reviewer.checks.facts import confidence_of
from reviewer.model import Checked, Confidence, Hit, NotJudged, Path, Related
from reviewer.registry import Check, TemplateContext, Yielded, template_check
from reviewer.repo import RepoIndex

TABLE = "AWS::DynamoDB::Table"
GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable"
SIMPLE_TABLE = "AWS::Serverless::SimpleTable"
TABLE_TYPES = (TABLE, GLOBAL_TABLE, SIMPLE_TABLE)


def _when(outcome: Outcome) -> str:
    if outcome.conditions:
        return " when " + " and ".join(
            f"condition {c[1:]} is false" if c.startswith("!") else f"condition {c} is true"
            for c in outcome.conditions
        )
    if outcome.assumed:
        return " (from a parameter default)"
    return ""


def _tables(t: Template) -> list[Resource]:
    return [r for r in t.of_type(*TABLE_TYPES) if not r.implicit]


# -- AR-DBS-001 -------------------------------------------------------------------------------

READ_DIMENSION = "dynamodb:table:ReadCapacityUnits"
WRITE_DIMENSION = "dynamodb:table:WriteCapacityUnits"


def _scaling_targets(repo: RepoIndex) -> list[tuple[set[tuple[str, str]], str | None, str]]:
    """Every DynamoDB table scalable target of the repository: (resources its ResourceId points
    at, its literal ResourceId, its dimension)."""
    cached: list[tuple[set[tuple[str, str]], str | None, str]] | None = repo.cache.get(
        "dbs_scaling_targets"
    )
    if cached is not None:
        return cached
    out: list[tuple[set[tuple[str, str]], str | None, str]] = []
    for t in repo.templates.values():
        for target in t.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
            namespace = resolve(t, target.get("ServiceNamespace"))[0].value
            dimension = resolve(t, target.get("ScalableDimension"))[0].value
            if namespace != "dynamodb" or not isinstance(dimension, str):
                continue
            node = target.get("ResourceId")
            refs = {(r.file, r.target) for r in targets(t, node)}
            refs |= {(t.file, r.target) for r in references(t, node)}
            value = resolve(t, node)[0].value
            text = value if isinstance(value, str) else None
            out.append((refs, text, dimension))
    repo.cache["dbs_scaling_targets"] = out
    return out


def _table_name(t: Template, table: Resource) -> str | None:
    value = resolve(t, table.get("TableName"))[0].value if table.has("TableName") else None
    return value if isinstance(value, str) else None


def _scaled(repo: RepoIndex, t: Template, table: Resource) -> set[str]:
    name = _table_name(t, table)
    dims: set[str] = set()
    for refs, text, dimension in _scaling_targets(repo):
        if (t.file, table.logical_id) in refs or (name is not None and text == f"table/{name}"):
            dims.add(dimension)
    return dims


@template_check("AR-DBS-001", cross_file=True)
def provisioned_without_autoscaling(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for table in _tables(t):
        if table.type == GLOBAL_TABLE:
            yield from _global_table_autoscaling(t, table)
            continue
        if table.type == SIMPLE_TABLE:
            if not table.has("ProvisionedThroughput"):
                yield Checked(table.logical_id)
                continue
            where: Path = ("Properties", "ProvisionedThroughput")
            mode = "sets ProvisionedThroughput (provisioned mode)"
            confidence = None
        else:
            mode_node = table.get("BillingMode")
            if mode_node is MISSING:
                mode = "has no BillingMode (provisioned by default)"
                confidence = None
            else:
                outcome = next(
                    (o for o in resolve(t, mode_node) if o.value in ("PROVISIONED", NOVALUE)),
                    None,
                )
                if outcome is None:
                    yield Checked(table.logical_id)
                    continue
                mode = f"is in PROVISIONED mode{_when(outcome)}"
                confidence = (
                    confidence_of(outcome) if outcome.conditions or outcome.assumed else None
                )
            where = (
                ("Properties", "ProvisionedThroughput")
                if table.has("ProvisionedThroughput")
                else ("Properties", "BillingMode")
            )
        yield Checked(table.logical_id)
        dims = _scaled(ctx.repo, t, table)
        missing = [
            label
            for label, dim in (("reads", READ_DIMENSION), ("writes", WRITE_DIMENSION))
            if dim not in dims
        ]
        if not missing:
            continue
        yield Hit(
            table.logical_id,
            where,
            f"{'SAM SimpleTable' if table.type == SIMPLE_TABLE else 'DynamoDB table'} "
            f"{table.logical_id} {mode} and has no Application Auto Scaling target for "
            f"{' and '.join(missing)}: bursts are throttled and idle capacity is billed",
            confidence=confidence,
        )


def _global_table_autoscaling(t: Template, table: Resource) -> Iterator[Yielded]:
    mode = resolve(t, table.get("BillingMode"))[0].value if table.has("BillingMode") else None
    if mode is None and not table.has("WriteProvisionedThroughputSettings"):
        mode = "unknown"  # no BillingMode and no provisioned settings: not judged
    if mode not in (None, "PROVISIONED"):
        yield Checked(table.logical_id)
        return
    yield Checked(table.logical_id)
    write = ("Properties", "WriteProvisionedThroughputSettings", "WriteCapacityAutoScalingSettings")
    if not table.has(*write[1:]):
        yield Hit(
            table.logical_id,
            write,
            f"Global table {table.logical_id} is provisioned without "
            "WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings: write capacity "
            "is fixed",
        )
    replicas = table.get("Replicas")
    if not isinstance(replicas, list):
        return
    for i, replica in enumerate(replicas):
        if not isinstance(replica, Mapping) or intrinsic(replica) is not None:
            continue
        settings = replica.get("ReadProvisionedThroughputSettings")
        if isinstance(settings, Mapping) and "ReadCapacityAutoScalingSettings" in settings:
            continue
        region = resolve(t, replica.get("Region"))[0].value
        label = f"replica in {region}" if isinstance(region, str) else f"replica #{i}"
        yield Hit(
            table.logical_id,
            (
                "Properties",
                "Replicas",
                i,
                "ReadProvisionedThroughputSettings",
                "ReadCapacityAutoScalingSettings",
            ),
            f"Global table {table.logical_id}: the {label} has no "
            "ReadProvisionedThroughputSettings.ReadCapacityAutoScalingSettings: read capacity is "
            "fixed",
        )


# -- AR-DBS-002 -------------------------------------------------------------------------------

# type -> whether CloudFormation supports DeletionPolicy/UpdateReplacePolicy Snapshot for it
STATEFUL: dict[str, bool] = {
    TABLE: False,
    GLOBAL_TABLE: False,
    SIMPLE_TABLE: False,
    "AWS::S3::Bucket": False,
    "AWS::RDS::DBInstance": True,
    "AWS::RDS::DBCluster": True,
    "AWS::Neptune::DBCluster": True,
    "AWS::DocDB::DBCluster": True,
    "AWS::ElastiCache::ReplicationGroup": True,
    "AWS::ElastiCache::CacheCluster": True,
    "AWS::KMS::Key": False,
    "AWS::Cognito::UserPool": False,
}


_LOSS = {
    "AWS::KMS::Key": "schedules the key for deletion, after which everything encrypted under it "
    "is unreadable",
    "AWS::Cognito::UserPool": "deletes every user and their credentials",
}


def _judged_store(t: Template, res: Resource) -> bool:
    if res.type == "AWS::RDS::DBInstance":
        # an Aurora cluster member or a read replica holds no data of its own to protect
        return not (res.has("DBClusterIdentifier") or res.has("SourceDBInstanceIdentifier"))
    if res.type == "AWS::ElastiCache::CacheCluster":
        engine = resolve(t, res.get("Engine"))[0].value
        return isinstance(engine, str) and engine.lower() in ("redis", "valkey")
    return True


def _policy_gap(
    t: Template, res: Resource, attr: str, snapshot: bool
) -> tuple[str, Confidence | None] | None:
    """Why the DeletionPolicy / UpdateReplacePolicy does not retain the data, or None."""
    node = res.attr(attr)
    if node is MISSING:
        return f"has no {attr} (CloudFormation deletes it)", None
    allowed = {"Retain"} | ({"Snapshot"} if snapshot else set())
    if attr == "DeletionPolicy":
        allowed.add("RetainExceptOnCreate")
    for outcome in resolve(t, node):
        value = outcome.value
        if isinstance(value, Unresolved):
            return None  # unknown: no finding
        if isinstance(value, str) and value in allowed:  # a mapping or list is not hashable
            continue
        conf = Confidence.MEDIUM if outcome.conditions or outcome.assumed else None
        if value == "Snapshot":
            return (
                f"has {attr} Snapshot{_when(outcome)}, which {res.type} does not support "
                "(use Retain)",
                conf,
            )
        shown = "AWS::NoValue" if value is NOVALUE else str(value)
        return f"has {attr} {shown}{_when(outcome)}", conf
    return None


def _dynamodb_protection(
    t: Template, res: Resource
) -> Iterator[tuple[Path, str, Confidence | None]]:
    if res.type == SIMPLE_TABLE:
        yield (
            ("Properties", "DeletionProtectionEnabled"),
            "is a SAM SimpleTable, which cannot set DeletionProtectionEnabled (declare an "
            "AWS::DynamoDB::Table instead)",
            None,
        )
        return
    if res.type == TABLE:
        places: list[tuple[Path, Any, str]] = [
            (("Properties", "DeletionProtectionEnabled"), res.get("DeletionProtectionEnabled"), "")
        ]
    else:
        places = []
        replicas = res.get("Replicas")
        for i, replica in enumerate(replicas if isinstance(replicas, list) else []):
            if isinstance(replica, Mapping) and intrinsic(replica) is None:
                region = resolve(t, replica.get("Region"))[0].value
                label = (
                    f" in its replica in {region}"
                    if isinstance(region, str)
                    else f" in replica #{i}"
                )
                places.append(
                    (
                        ("Properties", "Replicas", i, "DeletionProtectionEnabled"),
                        replica.get("DeletionProtectionEnabled", MISSING),
                        label,
                    )
                )
    for path, node, label in places:
        if node is MISSING:
            yield path, f"does not set DeletionProtectionEnabled true{label}", None
            continue
        for outcome in resolve(t, node):
            flag = truthy(outcome.value) if outcome.value is not NOVALUE else False
            if flag is False:
                conf = Confidence.MEDIUM if outcome.conditions or outcome.assumed else None
                yield path, f"has DeletionProtectionEnabled false{label}{_when(outcome)}", conf
                break


@template_check("AR-DBS-002")
def stateful_without_retain(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for res in t:
        snapshot = STATEFUL.get(res.type)
        if snapshot is None or res.implicit or not _judged_store(t, res):
            continue
        yield Checked(res.logical_id)
        if res.type == "AWS::Cognito::UserPool":
            protection = (
                resolve(t, res.get("DeletionProtection"))[0].value
                if res.has("DeletionProtection")
                else None
            )
            if protection == "ACTIVE":
                continue
        kind = res.type.split("::", 1)[1]
        alternative = " (or Snapshot)" if snapshot else ""
        if res.type == "AWS::Cognito::UserPool":
            alternative = " (or DeletionProtection ACTIVE)"
        for attr in ("DeletionPolicy", "UpdateReplacePolicy"):
            gap = _policy_gap(t, res, attr, snapshot)
            if gap is None:
                continue
            reason, conf = gap
            event = (
                "a stack deletion or removal" if attr == "DeletionPolicy" else "a replacing update"
            )
            yield Hit(
                res.logical_id,
                (attr,),
                f"{kind} {res.logical_id} {reason}: {event} "
                f"{_LOSS.get(res.type, 'destroys its data')}; set {attr}: "
                f"Retain{alternative}",
                confidence=conf,
            )
        if res.type in TABLE_TYPES:
            for path, reason, conf in _dynamodb_protection(t, res):
                yield Hit(
                    res.logical_id,
                    path,
                    f"DynamoDB table {res.logical_id} {reason}: anyone with DeleteTable "
                    "permission, or a stack operation, can delete it",
                    confidence=conf,
                )


# -- AR-DBS-003 -------------------------------------------------------------------------------


@template_check("AR-DBS-003")
def too_many_tables(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    tables = _tables(t)
    for table in tables:
        yield Checked(table.logical_id)
    limit = max(ctx.profile.single_table_limit, 0)
    if len(tables) <= limit:
        return
    unconditional = [tb for tb in tables if tb.condition is None]
    extra = tables[limit]
    names = ", ".join(tb.logical_id for tb in tables)
    yield Hit(
        extra.logical_id,
        (),
        f"This template declares {len(tables)} DynamoDB tables ({names}) where the profile "
        f"allows {limit} under a single-table design: record why the service needs "
        f"{'them' if len(tables) > 1 else 'it'}, or consolidate"
        + (" (some tables exist only under a Condition)" if len(unconditional) <= limit else ""),
        confidence=Confidence.MEDIUM if len(unconditional) <= limit else None,
        related=tuple(Related(tb.logical_id, (), "table") for tb in tables if tb is not extra),
    )


# -- AR-DBS-004 -------------------------------------------------------------------------------


def _non_state_buckets(t: Template) -> dict[str, str]:
    """Buckets that hold no primary state: log destinations, replicas, static websites."""
    out: dict[str, str] = {}

    def mark(node: Any, why: str) -> None:
        if node is MISSING or node is None:
            return
        for ref in references(t, node):
            target = t.get(ref.target)
            if target is not None and target.type == "AWS::S3::Bucket":
                out.setdefault(ref.target, why)

    for res in t:
        if res.type == "AWS::S3::Bucket":
            mark(
                res.get("LoggingConfiguration", "DestinationBucketName"),
                "an access-log destination",
            )
            rules = res.get("ReplicationConfiguration", "Rules")
            for rule in rules if isinstance(rules, list) else []:
                if isinstance(rule, Mapping):
                    dest = rule.get("Destination")
                    if isinstance(dest, Mapping):
                        mark(dest.get("Bucket", MISSING), "a replication destination")
            if resolve(t, res.get("AccessControl"))[0].value == "LogDeliveryWrite":
                out.setdefault(res.logical_id, "a log-delivery bucket")
            if res.has("WebsiteConfiguration"):
                out.setdefault(res.logical_id, "a static website bucket, rebuilt from source")
        elif res.type == "AWS::CloudTrail::Trail":
            mark(res.get("S3BucketName"), "a CloudTrail log destination")
        elif res.type == "AWS::CloudFront::Distribution":
            mark(res.get("DistributionConfig", "Logging", "Bucket"), "a CloudFront log destination")
        elif res.type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            attrs = res.get("LoadBalancerAttributes")
            for item in attrs if isinstance(attrs, list) else []:
                if isinstance(item, Mapping) and str(item.get("Key", "")).endswith(
                    "logs.s3.bucket"
                ):
                    mark(item.get("Value", MISSING), "a load balancer log destination")
        elif res.type == "AWS::EC2::FlowLog":
            mark(res.get("LogDestination"), "a flow log destination")
        elif res.type == "AWS::Config::DeliveryChannel":
            mark(res.get("S3BucketName"), "an AWS Config delivery bucket")
    return out


@template_check("AR-DBS-004")
def no_multi_region_copy(ctx: TemplateContext) -> Iterator[Yielded]:
    if not ctx.profile.multi_region:
        yield NotJudged("the profile does not declare multi_region")
        return
    t = ctx.template
    for table in _tables(t):
        yield Checked(table.logical_id)
        if table.type == GLOBAL_TABLE:
            replicas = table.get("Replicas")
            if isinstance(replicas, list) and len(replicas) >= 2:
                continue
            if not isinstance(replicas, list):
                continue  # an intrinsic: unknown
            yield Hit(
                table.logical_id,
                ("Properties", "Replicas"),
                f"Global table {table.logical_id} has a single replica: the declared "
                "multi-region recovery has no copy of this data in another region",
                confidence=Confidence.HIGH,
            )
            continue
        kind = "SAM SimpleTable" if table.type == SIMPLE_TABLE else "DynamoDB table"
        yield Hit(
            table.logical_id,
            (),
            f"{kind} {table.logical_id} is not a global table: the declared multi-region "
            "recovery has no copy of this data in another region (declare an "
            "AWS::DynamoDB::GlobalTable with a replica in the recovery region)",
            confidence=Confidence.HIGH,
        )
    skipped = _non_state_buckets(t)
    for bucket in t.of_type("AWS::S3::Bucket"):
        if bucket.implicit or bucket.logical_id in skipped:
            continue
        yield Checked(bucket.logical_id)
        node = bucket.get("ReplicationConfiguration")
        if node is not MISSING:
            unset = [o for o in resolve(t, node) if o.value is NOVALUE]
            if not unset:
                continue
            yield Hit(
                bucket.logical_id,
                ("Properties", "ReplicationConfiguration"),
                f"S3 bucket {bucket.logical_id} has no ReplicationConfiguration{_when(unset[0])}: "
                "the declared multi-region recovery has no copy of its objects in another region",
            )
            continue
        yield Hit(
            bucket.logical_id,
            ("Properties", "ReplicationConfiguration"),
            f"S3 bucket {bucket.logical_id} has no ReplicationConfiguration: the declared "
            "multi-region recovery has no copy of its objects in another region",
        )


# -- AR-DBS-005 -------------------------------------------------------------------------------


def _flag(t: Template, res: Resource, path: tuple[str, ...]) -> tuple[bool, Outcome | None]:
    node = res.get(*path)
    if node is MISSING:
        return False, None
    for outcome in resolve(t, node):
        if outcome.value is NOVALUE or truthy(outcome.value) is not True:
            if isinstance(outcome.value, Unresolved):
                return True, None  # unknown: no finding
            return False, outcome
    return True, None


@template_check("AR-DBS-005")
def cache_or_search_single_az(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for group in t.of_type("AWS::ElastiCache::ReplicationGroup"):
        for prop, effect in (
            ("AutomaticFailoverEnabled", "a primary failure is not failed over automatically"),
            ("MultiAZEnabled", "its nodes may sit in one Availability Zone"),
        ):
            ok, outcome = _flag(t, group, (prop,))
            if ok:
                continue
            state = "not set (false)" if outcome is None else f"false{_when(outcome)}"
            yield Hit(
                group.logical_id,
                ("Properties", prop),
                f"ElastiCache replication group {group.logical_id}: {prop} is {state}, so {effect}",
                confidence=confidence_of(outcome) if outcome is not None else None,
            )
    for domain in t.of_type("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain"):
        key = (
            "ClusterConfig"
            if domain.type == "AWS::OpenSearchService::Domain"
            else "ElasticsearchClusterConfig"
        )
        ok, outcome = _flag(t, domain, (key, "ZoneAwarenessEnabled"))
        if ok:
            continue
        state = "not set (false)" if outcome is None else f"false{_when(outcome)}"
        yield Hit(
            domain.logical_id,
            ("Properties", key, "ZoneAwarenessEnabled"),
            f"Search domain {domain.logical_id}: {key}.ZoneAwarenessEnabled is {state}, so a "
            "zone outage takes the whole domain down",
            confidence=confidence_of(outcome) if outcome is not None else None,
        )


CHECKS: tuple[Check, ...] = (
    provisioned_without_autoscaling,
    stateful_without_retain,
    too_many_tables,
    no_multi_region_copy,
    cache_or_search_single_az,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
