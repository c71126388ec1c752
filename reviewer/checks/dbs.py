"""DBS: data stores and recovery."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reviewer.checks.facts import confidence_of
from reviewer.checks.lifecycle import lifecycle
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.fixes import Safety, SetValues, add_properties
from reviewer.core.types import Checked, Confidence, Hit, NotJudged, Path, Related, Severity
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import (
    NOVALUE,
    Outcome,
    Unresolved,
    intrinsic,
    references,
    resolve,
    targets,
    truthy,
)
from reviewer.model.template import MISSING, Resource, Template

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


@dataclass(frozen=True)
class Store:
    """What CloudFormation does to a stateful resource type, and what that loses."""

    kind: str  # how messages name it
    noun: str  # what a replacement creates ("a new table")
    snapshot: bool  # DeletionPolicy / UpdateReplacePolicy Snapshot is supported
    # the property naming its physical resource: a replacing update of a resource with a fixed
    # name fails (CloudFormation cannot create the new one under the old one's name) instead
    # of deleting it
    name_prop: str | None
    protection: tuple[str, str] | None  # (property, value) that makes its deletion fail
    deleted: str  # what its deletion does, said of "it"
    severity: Severity = Severity.MEDIUM
    snapshot_by_default: bool = False  # no DeletionPolicy means Snapshot (RDS)


KEY_TYPE = "AWS::KMS::Key"
_TABLE_LOSS = "deletes it and every item in it"
_KEY_LOSS = (
    "schedules it for deletion: once the waiting period ends (30 days unless "
    "PendingWindowInDays says less), everything encrypted under it is unreadable"
)
STORES: dict[str, Store] = {
    TABLE: Store(
        "DynamoDB table",
        "table",
        False,
        "TableName",
        ("DeletionProtectionEnabled", "true"),
        _TABLE_LOSS,
    ),
    GLOBAL_TABLE: Store(
        "DynamoDB global table",
        "table",
        False,
        "TableName",
        None,
        _TABLE_LOSS + ", in every replica region",
    ),
    SIMPLE_TABLE: Store("SAM SimpleTable", "table", False, "TableName", None, _TABLE_LOSS),
    "AWS::S3::Bucket": Store("S3 bucket", "bucket", False, "BucketName", None, "deletes it"),
    "AWS::RDS::DBInstance": Store(
        "RDS instance",
        "instance",
        True,
        "DBInstanceIdentifier",
        ("DeletionProtection", "true"),
        "deletes it with its data and automated backups",
        snapshot_by_default=True,
    ),
    "AWS::RDS::DBCluster": Store(
        "RDS cluster",
        "cluster",
        True,
        "DBClusterIdentifier",
        ("DeletionProtection", "true"),
        "deletes it with its data and automated backups",
        snapshot_by_default=True,
    ),
    "AWS::Neptune::DBCluster": Store(
        "Neptune cluster",
        "cluster",
        True,
        "DBClusterIdentifier",
        ("DeletionProtection", "true"),
        "deletes it and its data",
    ),
    "AWS::DocDB::DBCluster": Store(
        "DocumentDB cluster",
        "cluster",
        True,
        "DBClusterIdentifier",
        ("DeletionProtection", "true"),
        "deletes it and its data",
    ),
    "AWS::ElastiCache::ReplicationGroup": Store(
        "ElastiCache replication group",
        "replication group",
        True,
        "ReplicationGroupId",
        None,
        "deletes it and the data it holds",
        Severity.LOW,
    ),
    "AWS::ElastiCache::CacheCluster": Store(
        "ElastiCache cluster",
        "cluster",
        True,
        "ClusterName",
        None,
        "deletes it and the data it holds",
        Severity.LOW,
    ),
    KEY_TYPE: Store("KMS key", "key", False, None, None, _KEY_LOSS),
    "AWS::Cognito::UserPool": Store(
        "Cognito user pool",
        "user pool",
        False,
        None,
        ("DeletionProtection", "ACTIVE"),
        "deletes it with every user and their credentials",
    ),
}
STATEFUL: dict[str, bool] = {rtype: store.snapshot for rtype, store in STORES.items()}
CACHE_TYPES = ("AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::CacheCluster")

# a custom resource that empties a bucket on deletion (CDK's autoDeleteObjects, or a
# hand-written one named for it), and the tag CDK puts on such a bucket
_EMPTIER_TYPE = re.compile(r"auto-?delete|empty|purge|clean", re.IGNORECASE)
CDK_AUTO_DELETE_TAG = "aws-cdk:auto-delete-objects"


def _judged_store(t: Template, res: Resource) -> bool:
    if res.type == "AWS::RDS::DBInstance":
        # an Aurora cluster member or a read replica holds no data of its own to protect
        return not (res.has("DBClusterIdentifier") or res.has("SourceDBInstanceIdentifier"))
    if res.type == "AWS::ElastiCache::CacheCluster":
        engine = resolve(t, res.get("Engine"))[0].value
        return isinstance(engine, str) and engine.lower() in ("redis", "valkey")
    return True


def _policy_gap(
    t: Template, res: Resource, attr: str, store: Store
) -> tuple[str, Confidence | None] | None:
    """Why the DeletionPolicy / UpdateReplacePolicy does not keep the data, or None."""
    node = res.attr(attr)
    if node is MISSING:
        if attr == "DeletionPolicy" and store.snapshot_by_default:
            return None  # CloudFormation takes a final snapshot by default
        return f"no {attr}", None
    allowed = {"Retain"} | ({"Snapshot"} if store.snapshot else set())
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
            return f"{attr} Snapshot{_when(outcome)}, which {res.type} does not support", conf
        if value is NOVALUE and attr == "DeletionPolicy" and store.snapshot_by_default:
            continue
        shown = "AWS::NoValue" if value is NOVALUE else str(value)
        return f"{attr} {shown}{_when(outcome)}", conf
    return None


def _fixed_name(t: Template, res: Resource, store: Store) -> bool:
    """A physical name written in the template: CloudFormation then refuses a replacing update
    (it cannot create the new resource under the old one's name) instead of deleting it."""
    if store.name_prop is None or not res.has(store.name_prop):
        return False
    return all(o.value is not NOVALUE for o in resolve(t, res.get(store.name_prop)))


def _is_true(t: Template, node: Any, want: str = "true") -> bool:
    """The value is `want` (true, or a string such as ACTIVE) in every branch."""
    if node is MISSING:
        return False
    for outcome in resolve(t, node):
        value = outcome.value
        if want == "true":
            if value is NOVALUE or truthy(value) is not True:
                return False
        elif value != want:
            return False
    return True


def _replicas(res: Resource) -> list[tuple[int, Mapping[str, Any]]]:
    replicas = res.get("Replicas")
    return [
        (i, r)
        for i, r in enumerate(replicas if isinstance(replicas, list) else [])
        if isinstance(r, Mapping) and intrinsic(r) is None
    ]


def _protection_gaps(t: Template, res: Resource, store: Store) -> list[tuple[Path, str]]:
    """Where deletion protection could be switched on and is not (path, label); an empty list
    means the resource cannot be deleted by a stack operation without turning it off first."""
    if res.type == GLOBAL_TABLE:
        out: list[tuple[Path, str]] = []
        replicas = _replicas(res)
        for i, replica in replicas:
            if _is_true(t, replica.get("DeletionProtectionEnabled", MISSING)):
                continue
            region = resolve(t, replica.get("Region"))[0].value
            where = f"the replica in {region}" if isinstance(region, str) else f"replica #{i}"
            out.append(
                (
                    ("Properties", "Replicas", i, "DeletionProtectionEnabled"),
                    f"{where} does not set DeletionProtectionEnabled true",
                )
            )
        return out if replicas else [(("Properties", "Replicas"), "no replica is protected")]
    if res.type == SIMPLE_TABLE:
        return [
            (
                ("Properties", "DeletionProtectionEnabled"),
                "a SAM SimpleTable cannot set DeletionProtectionEnabled (an AWS::DynamoDB::Table "
                "can)",
            )
        ]
    if store.protection is None:
        return [((), "")]  # nothing to switch on: never protected
    prop, want = store.protection
    if _is_true(t, res.get(prop), want):
        return []
    return [(("Properties", prop), f"{prop} is not {want}")]


def _pitr(t: Template, res: Resource) -> bool:
    """Point-in-time recovery is on (every replica of a global table): DynamoDB then keeps a
    system backup of the deleted table for 35 days."""
    path = ("PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")
    if res.type == GLOBAL_TABLE:
        replicas = _replicas(res)
        return bool(replicas) and all(
            isinstance(r.get(path[0]), Mapping) and _is_true(t, r[path[0]].get(path[1], MISSING))
            for _, r in replicas
        )
    return _is_true(t, res.get(*path))


def _emptiers(t: Template) -> dict[str, str]:
    """Buckets that something empties when they are deleted (bucket id -> what empties it):
    CDK's auto-delete tag, or a custom resource whose type or id says it empties, naming the
    bucket. S3 refuses to delete a bucket that still holds objects; these are the buckets a
    deletion really empties."""
    out: dict[str, str] = {}
    for res in sorted(t, key=lambda r: r.type == "AWS::S3::Bucket"):  # custom resources first
        if res.type == "AWS::S3::Bucket" and not res.implicit:
            tags = res.get("Tags")
            for tag in tags if isinstance(tags, list) else []:
                if (
                    isinstance(tag, Mapping)
                    and tag.get("Key") == CDK_AUTO_DELETE_TAG
                    and truthy(resolve(t, tag.get("Value"))[0].value) is True
                ):
                    out.setdefault(
                        res.logical_id,
                        f"the CDK auto-delete custom resource its {CDK_AUTO_DELETE_TAG} tag marks",
                    )
        custom = (
            res.type.startswith("Custom::") or res.type == "AWS::CloudFormation::CustomResource"
        )
        if not custom or not (
            _EMPTIER_TYPE.search(res.type) or _EMPTIER_TYPE.search(res.logical_id)
        ):
            continue
        for ref in references(t, res.get()):
            target = t.get(ref.target)
            if target is not None and target.type == "AWS::S3::Bucket":
                out.setdefault(ref.target, f"custom resource {res.logical_id} ({res.type})")
    return out


def _key_users(t: Template) -> dict[str, list[Resource]]:
    """The resources of the template that name each KMS key (Ref or GetAtt below their
    Properties), by key id."""
    keys = {k.logical_id for k in t.of_type(KEY_TYPE)}
    out: dict[str, list[Resource]] = {}
    for res in t:
        if res.type == KEY_TYPE or res.implicit:
            continue
        for ref in references(t, res.get()):
            if ref.target in keys:
                users = out.setdefault(ref.target, [])
                if res not in users:
                    users.append(res)
    return out


def _outlives_the_stack(t: Template, res: Resource) -> bool:
    """What a resource encrypts survives the stack's deletion: a bucket (S3 refuses to delete
    one that holds objects), a resource kept by its DeletionPolicy (or snapshotted), an RDS
    database's default final snapshot, a table its deletion protection keeps."""
    if res.type == "AWS::S3::Bucket":
        return True
    node = res.attr("DeletionPolicy")
    store = STORES.get(res.type)
    if node is MISSING:
        if store is not None and store.snapshot_by_default and _judged_store(t, res):
            return True
    elif any(o.value in ("Retain", "RetainExceptOnCreate", "Snapshot") for o in resolve(t, node)):
        return True
    return res.type == TABLE and _is_true(t, res.get("DeletionProtectionEnabled"))


def _key_loss(t: Template, key: Resource, users: list[Resource]) -> str | None:
    """What deleting a KMS key loses, said of "it" (None: nothing it encrypts outlives the
    stack, so the key goes with the data)."""
    if not users:
        return (
            "schedules it for deletion: nothing in this template uses it, so what it encrypts "
            "lives elsewhere, and is unreadable once the waiting period ends (30 days unless "
            "PendingWindowInDays says less)"
        )
    kept = [u.logical_id for u in users if _outlives_the_stack(t, u)]
    if not kept:
        return None
    names = ", ".join(kept[:3]) + (f" and {len(kept) - 3} more" if len(kept) > 3 else "")
    return (
        f"schedules it for deletion while {names} keep{'s' if len(kept) == 1 else ''} data "
        "encrypted under it, unreadable once the waiting period ends (30 days unless "
        "PendingWindowInDays says less)"
    )


def _policy_fix(store: Store, attrs: list[str], res: Resource) -> str:
    what = " and ".join(attrs)
    verb = "set " + what + (" to Retain" if len(attrs) > 1 else ": Retain")
    if store.snapshot:
        verb += " (or Snapshot)"
    if store.protection is not None and res.type != SIMPLE_TABLE:
        prop, want = store.protection
        verb += f", or {prop}: {want}"
    return verb


@template_check("AR-DBS-002")
def stateful_without_retain(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    emptied = _emptiers(t) if t.of_type("AWS::S3::Bucket") else {}
    users: dict[str, list[Resource]] | None = None  # KMS key -> what names it
    for res in t:
        store = STORES.get(res.type)
        if store is None or res.implicit or not _judged_store(t, res):
            continue
        yield Checked(res.logical_id)
        if res.type == "AWS::S3::Bucket" and res.logical_id not in emptied:
            continue  # S3 refuses to delete a bucket that holds objects: nothing is lost
        key_loss = None
        if res.type == KEY_TYPE:
            if users is None:
                users = _key_users(t)
            key_loss = _key_loss(t, res, users.get(res.logical_id, []))
            if key_loss is None:
                continue  # only what the stack deletes with it is encrypted under it
        unprotected = _protection_gaps(t, res, store)
        if not unprotected:
            continue  # a stack deletion or replacement fails on it: the data stays
        deletion = _policy_gap(t, res, "DeletionPolicy", store)
        replace = (
            None
            if _fixed_name(t, res, store)
            else _policy_gap(t, res, "UpdateReplacePolicy", store)
        )
        table = res.type in TABLE_TYPES
        protect: tuple[Related, ...] = tuple(
            Related(res.logical_id, path, f"also: {label}")
            for path, label in unprotected
            if path and table
        )
        if deletion is None and replace is None:
            if table:  # kept by its policies, yet anyone with DeleteTable can delete it
                path, label = unprotected[0]
                yield Hit(
                    res.logical_id,
                    path,
                    f"{store.kind} {res.logical_id}: {label}, so anyone with "
                    "dynamodb:DeleteTable (a script, a console click) can delete it and its "
                    "items; its DeletionPolicy keeps it through stack operations",
                    variant="no-deletion-protection",
                    related=protect[1:],
                )
            continue
        gaps = [g for g in (deletion, replace) if g is not None]
        confidence = next((c for _, c in gaps if c is not None), None)
        loss = key_loss or store.deleted
        if res.type == "AWS::S3::Bucket":
            loss = f"empties and deletes it ({emptied[res.logical_id]} deletes its objects first)"
        unnamed = f" (it sets no {store.name_prop})" if store.name_prop else ""
        events = []
        if deletion is not None:
            events.append(f"a stack deletion, or removing it from the template, {loss}")
        if replace is not None and deletion is not None:
            events.append(
                f"a replacing update{unnamed} does the same to the {store.noun} it replaces"
            )
        elif replace is not None:
            old = loss.replace("it", f"the old {store.noun}", 1)
            events.append(f"a replacing update{unnamed} creates a new {store.noun} and {old}")
        attrs = [
            a for a, g in (("DeletionPolicy", deletion), ("UpdateReplacePolicy", replace)) if g
        ]
        severity = store.severity
        note = ""
        if table and _pitr(t, res):
            severity = Severity.LOW
            note = (
                " (point-in-time recovery is on: DynamoDB keeps a system backup of a deleted "
                "table for 35 days)"
            )
        related = list(protect)
        if deletion is not None and replace is not None:
            related.insert(
                0, Related(res.logical_id, ("UpdateReplacePolicy",), f"also: {replace[0]}")
            )
        yield Hit(
            res.logical_id,
            ("DeletionPolicy",) if deletion is not None else ("UpdateReplacePolicy",),
            f"{store.kind} {res.logical_id} has {' and '.join(g[0] for g in gaps)}: "
            f"{', and '.join(events)}{note}; {_policy_fix(store, attrs, res)}",
            severity=severity,
            confidence=confidence,
            related=tuple(related),
            variant="cache" if res.type in CACHE_TYPES else None,
            fix=_retain_fix(res, deletion, replace),
        )


def _retain_fix(
    res: Resource,
    deletion: tuple[str, Confidence | None] | None,
    replace: tuple[str, Confidence | None] | None,
) -> SetValues | None:
    """Set the missing or wrong policies to Retain; None when a policy is uncertain (a
    condition, a parameter) or Retain would not keep the data (an emptied bucket loses its
    objects to the custom resource that empties it, whatever its policy)."""
    gaps = [g for g in (deletion, replace) if g is not None]
    if res.type == "AWS::S3::Bucket" or any(conf is not None for _, conf in gaps):
        return None
    attrs = ["DeletionPolicy"] if deletion is not None else []
    # both policies together (cfn-lint warns on one without the other, W3011)
    if replace is not None or res.attr("UpdateReplacePolicy") is MISSING:
        attrs.append("UpdateReplacePolicy")
    return add_properties(
        Safety.SAFE,
        f"Set {' and '.join(attrs)} of {res.logical_id} to Retain.",
        res.logical_id,
        tuple((attr, "Retain") for attr in attrs),
    )


# -- AR-DBS-003 -------------------------------------------------------------------------------


@template_check("AR-DBS-003")
def too_many_tables(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    tables = _tables(t)
    declared = ctx.profile.single_table_limit
    if declared is None:  # the rule requires dynamodb.single_table_limit: not judged without it
        yield NotJudged("the profile declares no single-table limit")
        return
    for table in tables:
        yield Checked(table.logical_id)
    limit = max(declared, 0)
    if len(tables) <= limit:
        return
    unconditional = [tb for tb in tables if tb.condition is None]
    extra = tables[limit]
    names = ", ".join(tb.logical_id for tb in tables)
    yield Hit(
        extra.logical_id,
        (),
        f"This template declares {len(tables)} DynamoDB tables ({names}) where the declared "
        f"single-table design allows {limit}: record why the service needs "
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
        yield NotJudged("the profile does not declare multi-region recovery")
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


# -- AR-DBS-006 -------------------------------------------------------------------------------

_ENGINE_TYPES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::RDS::GlobalCluster")
_KIND = {
    "AWS::RDS::DBInstance": "DB instance",
    "AWS::RDS::DBCluster": "DB cluster",
    "AWS::RDS::GlobalCluster": "global cluster",
}
_NO_EXTENDED_SUPPORT = "open-source-rds-extended-support-disabled"


def _texts_of(t: Template, node: Any) -> list[tuple[str, Outcome]]:
    """The literal strings a value can take, one per Fn::If branch (unresolved ones left out)."""
    if node is MISSING or node is None:
        return []
    return [(o.value, o) for o in resolve(t, node) if isinstance(o.value, str)]


@template_check("AR-DBS-006")
def past_end_of_support(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    table = lifecycle()
    for res in t:
        retired = table.service(res.type)
        if retired is not None:
            yield Checked(res.logical_id)
            if retired.end <= ctx.today:
                yield Hit(
                    res.logical_id,
                    (),
                    f"{res.type} {res.logical_id} belongs to {retired.name}, which AWS ended on "
                    f"{retired.end.isoformat()}: the service is discontinued, so the stack "
                    f"cannot create or use it; move the data to {retired.successor}",
                    variant="retired-service",
                )
            continue
        if res.type not in _ENGINE_TYPES:
            continue
        if res.type == "AWS::RDS::DBInstance" and res.has("DBClusterIdentifier"):
            continue  # an Aurora instance: its cluster carries the engine version
        engines = _texts_of(t, res.get("Engine"))
        if not engines:
            continue
        yield Checked(res.logical_id)
        versions: list[tuple[str | None, Outcome | None]] = list(
            _texts_of(t, res.get("EngineVersion"))
        ) or [(None, None)]
        for engine, e_out in engines:
            for version, v_out in versions:
                retired = table.engine(engine, version)
                if retired is None or retired.end > ctx.today:
                    continue
                outcomes = [o for o in (e_out, v_out) if o is not None]
                confidence = min(
                    (confidence_of(o) for o in outcomes), key=lambda c: c.rank, default=None
                )
                when = "".join(_when(o) for o in outcomes)
                written = f"{engine} {version}" if version else engine
                lifecycle_support = [v for v, _ in _texts_of(t, res.get("EngineLifecycleSupport"))]
                end = retired.end.isoformat()
                if not retired.extended_support:
                    consequence = (
                        f"it reached its end of life on {end}, before RDS Extended Support "
                        "existed, and is no longer offered: creating it fails"
                    )
                elif _NO_EXTENDED_SUPPORT in lifecycle_support:
                    consequence = (
                        f"its standard support ended on {end} and EngineLifecycleSupport turns "
                        "RDS Extended Support off, so RDS refuses to create a database on this "
                        "version and upgrades an existing one to a supported major version"
                    )
                else:
                    consequence = (
                        f"its standard support ended on {end}, so RDS enrols it in RDS Extended "
                        "Support, billed per vCPU-hour with fixes for critical and high CVEs "
                        "only, and upgrades it automatically when that ends"
                    )
                kind = _KIND[res.type]
                yield Hit(
                    res.logical_id,
                    ("Properties", "EngineVersion" if version else "Engine"),
                    f"{kind[0].upper()}{kind[1:]} {res.logical_id} runs {written}{when} "
                    f"({retired.name}): {consequence}; move to {retired.successor}",
                    confidence=None if confidence is Confidence.HIGH else confidence,
                    variant=None if retired.extended_support else "not-offered",
                )
                break


CHECKS: tuple[Check, ...] = (
    provisioned_without_autoscaling,
    stateful_without_retain,
    too_many_tables,
    no_multi_region_copy,
    cache_or_search_single_az,
    past_end_of_support,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
