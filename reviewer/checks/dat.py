"""DAT: data protection (KMS at rest, TLS in transit, secrets).

The rules that ask for a customer managed KMS key (AR-DAT-001, AR-DAT-004's encryption
clause, AR-DAT-005's key clauses, AR-DAT-009) judge only when the repository declares
`layers.data.kms_required` true: S3, SQS, DynamoDB, SNS and CloudWatch Logs already encrypt at
rest by default, so a key nobody asked for is not a defect. What is left without the
declaration is the absence of any encryption at all (a queue with SSE-SQS turned off).
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reviewer.checks.facts import property_hits
from reviewer.checks.iam import Doc, Leaf, branches, lowest, nested, statements, when
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.fixes import Safety, Setting, SetValues, set_value
from reviewer.core.types import Checked, Confidence, Hit, NotJudged, Related
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import intrinsic, number, references, resolve, targets, truthy
from reviewer.model.template import MISSING, Resource, Template
from reviewer.profile import Profile

KMS_KEY = "layers.data.kms_required"
_REQUIRED = "the profile requires customer managed KMS keys (layers.data.kms_required)"
_NOT_REQUIRED = "the profile does not require customer managed KMS keys (layers.data.kms_required)"


def kms_required(profile: Profile) -> bool:
    """The repository declared that its data must be encrypted with customer managed keys."""
    return profile.declares(KMS_KEY) and bool(profile.kms_required)


TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable"


def _note(leaf: Leaf) -> str:
    return when(leaf.conditions) + (" (from a parameter default)" if leaf.assumed else "")


def _is_false(leaf: Leaf) -> bool:
    """Written false (or the property absent below a written parent)."""
    return leaf.value is MISSING or truthy(leaf.value) is False


def _kind(res: Resource) -> str:
    return {
        "AWS::DynamoDB::Table": "DynamoDB table",
        "AWS::Serverless::SimpleTable": "SAM SimpleTable",
        GLOBAL_TABLE: "DynamoDB global table",
    }.get(res.type, res.type)


def _regions(t: Template, table: Resource) -> Iterator[tuple[Leaf, str]]:
    """The replicas of a global table, with their Region for messages."""
    for replicas in branches(t, table.get("Replicas"), ("Properties", "Replicas")):
        if not isinstance(replicas.value, list):
            continue
        for i, item in enumerate(replicas.value):
            for replica in branches(
                t, item, (*replicas.path, i), replicas.conditions, replicas.assumed
            ):
                if isinstance(replica.value, Mapping):
                    region = resolve(t, replica.value.get("Region", MISSING))[0].value
                    yield replica, region if isinstance(region, str) else f"replica {i}"


def _child(t: Template, parent: Leaf, key: str) -> list[Leaf]:
    """The values of `key` inside a mapping leaf (a MISSING leaf when absent)."""
    if not isinstance(parent.value, Mapping) or key not in parent.value:
        return [Leaf(MISSING, (*parent.path, key), parent.conditions, parent.assumed)]
    return list(
        branches(t, parent.value[key], (*parent.path, key), parent.conditions, parent.assumed)
    )


def one_per_cause(hits: Iterable[Hit]) -> Iterator[Hit]:
    """The hits a check makes for one root cause (every replica of a global table) as one:
    the first, with the others as related locations labelled by their messages."""
    found = list(hits)
    if not found:
        return
    first, rest = found[0], found[1:]
    yield replace(
        first,
        related=(
            *first.related,
            *(Related(h.subject, h.path, "also: " + h.message) for h in rest),
        ),
    )


# -- AR-DAT-001: DynamoDB customer managed key ---------------------------------------------------

_AWS_MANAGED_DDB = re.compile(r"(^|:)alias/aws/dynamodb$")


@template_check("AR-DAT-001")
def table_without_cmk(ctx: TemplateContext) -> Iterator[Yielded]:
    if not kms_required(ctx.profile):
        yield NotJudged(_NOT_REQUIRED)
        return
    t = ctx.template
    for table in t.of_type(*TABLE_TYPES, GLOBAL_TABLE):
        name = table.logical_id
        kind = _kind(table)
        specs = nested(t, table, "SSESpecification")
        if not specs:
            yield Hit(
                name,
                ("Properties", "SSESpecification"),
                f"{kind} {name} has no SSESpecification: it is encrypted with an AWS owned key "
                f"that the account cannot see, audit or revoke, and {_REQUIRED}",
            )
            continue
        for spec in specs:
            for enabled in _child(t, spec, "SSEEnabled"):
                if not enabled.known or (
                    enabled.value is not MISSING and truthy(enabled.value) is None
                ):
                    continue
                if _is_false(enabled):
                    yield Hit(
                        name,
                        enabled.path,
                        f"{kind} {name} has SSEEnabled "
                        f"{'not set' if enabled.value is MISSING else 'false'}{_note(enabled)}: it "
                        "is encrypted with an AWS owned key that the account cannot see, audit "
                        f"or revoke, and {_REQUIRED}",
                        confidence=enabled.confidence,
                    )
                    continue
                if table.type == GLOBAL_TABLE:
                    yield from one_per_cause(_replica_keys(t, table, enabled))
                    continue
                for key in _child(t, spec, "KMSMasterKeyId"):
                    yield from _aws_managed(name, kind, key, enabled)


def _aws_managed(name: str, kind: str, key: Leaf, enabled: Leaf, where: str = "") -> Iterator[Hit]:
    text = key.value if isinstance(key.value, str) else None
    if key.value is not MISSING and not (text and _AWS_MANAGED_DDB.search(text)):
        return
    what = "sets no KMSMasterKeyId" if key.value is MISSING else f"uses {text}"
    yield Hit(
        name,
        key.path,
        f"{kind} {name}{where} {what}{when((*enabled.conditions, *key.conditions))}: SSE uses "
        f"the AWS managed key aws/dynamodb, whose key policy the team cannot change, and "
        f"{_REQUIRED}",
        confidence=lowest(enabled.confidence, key.confidence),
        variant="aws-managed-key",
    )


def _replica_keys(t: Template, table: Resource, enabled: Leaf) -> Iterator[Hit]:
    for replica, region in _regions(t, table):
        for spec in _child(t, replica, "SSESpecification"):
            for key in _child(t, spec, "KMSMasterKeyId"):
                yield from _aws_managed(
                    table.logical_id, _kind(table), key, enabled, where=f" replica {region}"
                )


# -- AR-DAT-002: point-in-time recovery ----------------------------------------------------------


@template_check("AR-DAT-002")
def table_without_pitr(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for table in t.of_type(*TABLE_TYPES):
        spec = nested(t, table, "PointInTimeRecoverySpecification")
        if not spec:
            yield Hit(
                table.logical_id,
                ("Properties", "PointInTimeRecoverySpecification"),
                f"{_kind(table)} {table.logical_id} has no PointInTimeRecoverySpecification: "
                "a bad write or delete cannot be rolled back to a point in time",
                fix=_pitr_fix(table),
            )
            continue
        for leaf in spec:
            yield from _pitr(t, table, leaf, "")
    for table in t.of_type(GLOBAL_TABLE):
        yield from one_per_cause(
            hit
            for replica, region in _regions(t, table)
            for leaf in _child(t, replica, "PointInTimeRecoverySpecification")
            for hit in _pitr(t, table, leaf, f" replica {region}")
        )


_PITR_PATH = ("Properties", "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")


def _pitr_fix(table: Resource) -> SetValues:
    return set_value(
        Safety.SAFE,
        f"Turn on point-in-time recovery for {table.logical_id}.",
        table.logical_id,
        _PITR_PATH,
        True,
    )


def _pitr(t: Template, table: Resource, spec: Leaf, where: str) -> Iterator[Hit]:
    name = table.logical_id
    if spec.value is MISSING:
        yield Hit(
            name,
            spec.path,
            f"{_kind(table)} {name}{where} has no PointInTimeRecoverySpecification"
            f"{_note(spec)}: a bad write or delete cannot be rolled back to a point in time",
            confidence=spec.confidence,
        )
        return
    for enabled in _child(t, spec, "PointInTimeRecoveryEnabled"):
        if enabled.known and _is_false(enabled):
            yield Hit(
                name,
                enabled.path,
                f"{_kind(table)} {name}{where} has PointInTimeRecoveryEnabled "
                f"{'not set' if enabled.value is MISSING else 'false'}{_note(enabled)}: a bad "
                "write or delete cannot be rolled back to a point in time",
                confidence=enabled.confidence,
                # a table's own literal (not a replica's, a parameter's or one branch's)
                fix=_pitr_fix(table) if enabled.path == _PITR_PATH and not _note(enabled) else None,
            )
            return


# -- AR-DAT-003: S3 Block Public Access ----------------------------------------------------------

PAB_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


@template_check("AR-DAT-003")
def bucket_public_access(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for bucket in t.of_type("AWS::S3::Bucket"):
        name = bucket.logical_id
        configs = nested(t, bucket, "PublicAccessBlockConfiguration")
        if not configs:
            yield Hit(
                name,
                ("Properties", "PublicAccessBlockConfiguration"),
                f"Bucket {name} has no PublicAccessBlockConfiguration: S3 blocks public access "
                "on new buckets by default since April 2023, but the template does not state "
                "the decision",
                variant="not-stated",
                fix=_block_public_fix(bucket, PAB_FLAGS),
            )
            continue
        for config in configs:
            if not config.known:
                continue
            if config.value is MISSING:
                yield Hit(
                    name,
                    config.path,
                    f"Bucket {name} has no PublicAccessBlockConfiguration{_note(config)}: S3 "
                    "blocks public access on new buckets by default, but the template does not "
                    "state the decision",
                    confidence=config.confidence,
                    variant="not-stated",
                )
                continue
            weak: list[str] = []
            first: Leaf | None = None
            conds = list(config.conditions)
            conf = config.confidence
            for flag in PAB_FLAGS:
                for leaf in _child(t, config, flag):
                    if leaf.value is MISSING:
                        weak.append(f"{flag} not set (false)")
                        break
                    if truthy(leaf.value) is False:
                        weak.append(f"{flag} false")
                        first = first or leaf
                        conds.extend(leaf.conditions)
                        conf = lowest(conf, leaf.confidence)
                        break
            if weak:
                yield Hit(
                    name,
                    first.path if first is not None else config.path,
                    f"Bucket {name} PublicAccessBlockConfiguration leaves public access open"
                    f"{when(conds)}: {', '.join(weak)}"
                    + (
                        " (once the configuration is present, an omitted flag is false)"
                        if any("not set" in w for w in weak)
                        else ""
                    ),
                    confidence=conf,
                    fix=_block_public_fix(bucket, tuple(w.split(" ")[0] for w in weak))
                    if not conds
                    and conf in (None, Confidence.HIGH)
                    and config.path == _PAB_PATH
                    and (first is None or first.path[: len(_PAB_PATH)] == _PAB_PATH)
                    else None,
                )


_PAB_PATH = ("Properties", "PublicAccessBlockConfiguration")


def _block_public_fix(bucket: Resource, flags: tuple[str, ...]) -> SetValues | None:
    """Block public access with the flags given (unsafe: a bucket something reads publicly
    stops being readable); none for a bucket the template itself serves publicly (a website,
    a public-read ACL)."""
    acl = bucket.get("AccessControl")
    if bucket.has("WebsiteConfiguration") or (isinstance(acl, str) and acl.startswith("Public")):
        return None
    return SetValues(
        Safety.UNSAFE,
        f"Block public access to bucket {bucket.logical_id} ({', '.join(flags)}).",
        bucket.logical_id,
        tuple(Setting((*_PAB_PATH, flag), True) for flag in flags),
    )


# -- AR-DAT-004: S3 KMS encryption and TLS-only policy -------------------------------------------

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@dataclass(frozen=True)
class _BucketPolicy:
    template: Template
    resource: Resource
    refs: frozenset[tuple[str, str]]
    names: frozenset[str]
    tls_only: bool


def _secure_transport_false(t: Template, condition: Any) -> bool:
    block = resolve(t, condition)[0].value if intrinsic(condition) is not None else condition
    if not isinstance(block, Mapping):
        return False
    for operator, entries in block.items():
        if operator not in ("Bool", "BoolIfExists") or not isinstance(entries, Mapping):
            continue
        for key, value in entries.items():
            if isinstance(key, str) and key.lower() == "aws:securetransport":
                values = value if isinstance(value, list) else [value]
                if any(truthy(v) is False for v in values):
                    return True
    return False


def _everyone(value: Any) -> bool:
    if value == "*":
        return True
    if isinstance(value, Mapping):
        aws = value.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _denies_plain_http(t: Template, policy: Resource) -> bool:
    for doc_leaf in branches(t, policy.get("PolicyDocument"), ("Properties", "PolicyDocument")):
        document = doc_leaf.value
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except (ValueError, RecursionError):  # RecursionError: nested too deep
                continue
        if not isinstance(document, Mapping):
            continue
        doc = Doc(policy, doc_leaf.path, document, (), False, "bucket policy")
        for stmt in statements(t, doc):
            if stmt.node.get("Effect") != "Deny" or not _everyone(stmt.node.get("Principal")):
                continue
            if _secure_transport_false(t, stmt.node.get("Condition")):
                return True
    return False


def _bucket_policies(repo: RepoIndex) -> list[_BucketPolicy]:
    cached: list[_BucketPolicy] | None = repo.cache.get("dat004_bucket_policies")
    if cached is not None:
        return cached
    found: list[_BucketPolicy] = []
    for tpl in repo.templates.values():
        for policy in tpl.of_type("AWS::S3::BucketPolicy"):
            node = policy.get("Bucket")
            refs = frozenset((r.file, r.target) for r in targets(tpl, node))
            names: set[str] = set()
            for outcome in resolve(tpl, node):
                if isinstance(outcome.value, str):
                    names.add(outcome.value)
            found.append(
                _BucketPolicy(tpl, policy, refs, frozenset(names), _denies_plain_http(tpl, policy))
            )
    repo.cache["dat004_bucket_policies"] = found
    return found


@template_check("AR-DAT-004", cross_file=True)
def bucket_without_kms_or_tls(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    policies = _bucket_policies(ctx.repo)
    for bucket in t.of_type("AWS::S3::Bucket"):
        yield Checked(bucket.logical_id)
        if kms_required(ctx.profile):
            yield from _bucket_encryption(t, bucket)
        yield from _bucket_tls(t, bucket, policies)


def _bucket_encryption(t: Template, bucket: Resource) -> Iterator[Hit]:
    name = bucket.logical_id
    configs = nested(t, bucket, "BucketEncryption", "ServerSideEncryptionConfiguration")
    if not configs:
        yield Hit(
            name,
            ("Properties", "BucketEncryption"),
            f"Bucket {name} has no BucketEncryption: S3 encrypts objects with SSE-S3 (AES256, "
            f"an S3-owned key) by default, not with an aws:kms key, and {_REQUIRED}",
        )
        return
    for config in configs:
        if not isinstance(config.value, list):
            continue
        for i, rule in enumerate(config.value):
            for rule_leaf in branches(
                t, rule, (*config.path, i), config.conditions, config.assumed
            ):
                for default in _child(t, rule_leaf, "ServerSideEncryptionByDefault"):
                    for algo in _child(t, default, "SSEAlgorithm"):
                        value = algo.value
                        if not algo.known or value in KMS_ALGORITHMS:
                            continue
                        shown = "not set" if value is MISSING else str(value)
                        yield Hit(
                            name,
                            algo.path,
                            f"Bucket {name} default encryption is {shown}{_note(algo)}: SSE-S3 "
                            f"uses an S3-owned key, not an aws:kms key, and {_REQUIRED}",
                            confidence=algo.confidence,
                        )


def _bucket_tls(t: Template, bucket: Resource, policies: list[_BucketPolicy]) -> Iterator[Hit]:
    name = bucket.logical_id
    bucket_name = (
        resolve(t, bucket.get("BucketName"))[0].value if bucket.has("BucketName") else None
    )
    attached = [
        p
        for p in policies
        if (t.file, name) in p.refs or (isinstance(bucket_name, str) and bucket_name in p.names)
    ]
    if any(p.tls_only for p in attached):
        return
    if attached:
        first = attached[0]
        related = (
            (Related(first.resource.logical_id, ("Properties", "PolicyDocument"), "bucket policy"),)
            if first.template is t
            else ()
        )
        yield Hit(
            name,
            (),
            f"Bucket {name} has a bucket policy ({first.resource.logical_id}) without a Deny "
            "for Principal '*' on aws:SecureTransport false: a client that chooses plain HTTP "
            "is served (the AWS SDKs and services use HTTPS)",
            related=related,
            variant="tls-policy",
        )
        return
    yield Hit(
        name,
        (),
        f"Bucket {name} has no AWS::S3::BucketPolicy denying aws:SecureTransport false: a "
        "client that chooses plain HTTP is served (the AWS SDKs and services use HTTPS)",
        variant="tls-policy",
    )


# -- AR-DAT-005: SNS and SQS encryption ---------------------------------------------------------


@template_check("AR-DAT-005")
def topic_or_queue_without_cmk(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    required = kms_required(ctx.profile)
    for topic in t.of_type("AWS::SNS::Topic") if required else ():
        yield Checked(topic.logical_id)  # without the declaration topics are not judged
        yield from _no_key_hits(
            t,
            topic,
            "SNS topic",
            "KmsMasterKeyId",
            unset="SNS keeps messages awaiting delivery on its encrypted disks but does not "
            f"encrypt them with a KMS key, and {_REQUIRED}",
            no_value=f"messages are not encrypted with a KMS key, and {_REQUIRED}",
        )
    for queue in t.of_type("AWS::SQS::Queue"):
        if queue.implicit:
            continue  # generated by SAM: no property to set on it
        yield Checked(queue.logical_id)
        yield from _queue(required, t, queue)


def _no_value_branches(t: Template, res: Resource, prop: str) -> list[Leaf]:
    """The branches of a written property that leave it unset (AWS::NoValue or empty)."""
    node = res.get(prop)
    found: list[Leaf] = []

    def walk(n: Any, path: tuple[str | int, ...], conds: tuple[str, ...], assumed: bool) -> None:
        fn = intrinsic(n)
        if fn is not None and fn[0] == "Fn::If" and isinstance(fn[1], list) and len(fn[1]) == 3:
            cond = str(fn[1][0])
            walk(fn[1][1], (*path, "Fn::If", 1), (*conds, cond), assumed)
            walk(fn[1][2], (*path, "Fn::If", 2), (*conds, "!" + cond), assumed)
            return
        if fn is not None and fn[0] == "Ref" and fn[1] == "AWS::NoValue":
            found.append(Leaf(None, path, conds, assumed))
            return
        for outcome in resolve(t, n):
            # an empty literal; an empty parameter default is usually guarded by a condition
            if isinstance(outcome.value, str) and not outcome.value.strip() and not outcome.assumed:
                found.append(
                    Leaf(None, path, (*conds, *outcome.conditions), assumed or outcome.assumed)
                )
                return

    walk(node, ("Properties", prop), (), False)
    return found


def _no_key_hits(
    t: Template, res: Resource, label: str, prop: str, *, unset: str, no_value: str
) -> Iterator[Hit]:
    """AR-DAT-005/009: "<label> <id> has no <prop>" for a resource without its KMS key
    property: it does not write it (then `unset` says what follows), or the first branch that
    leaves it unset (AWS::NoValue or empty; then `no_value`, at MEDIUM confidence)."""
    name = res.logical_id

    def no_value_hit(_: Resource, leaf: Leaf) -> Hit:
        return Hit(
            name,
            leaf.path,
            f"{label} {name} has no {prop}{when(leaf.conditions)} (AWS::NoValue or empty): "
            f"{no_value}",
            confidence=Confidence.MEDIUM,
        )

    return property_hits(
        t,
        res,
        prop,
        f"{label} {name} has no {prop}: {unset}",
        _no_value_branches,
        no_value_hit,
        first=True,
    )


def _queue(required: bool, t: Template, queue: Resource) -> Iterator[Hit]:
    name = queue.logical_id
    keyless: list[Leaf] = (
        [Leaf(None, ("Properties", "KmsMasterKeyId"))]
        if not queue.has("KmsMasterKeyId")
        else _no_value_branches(t, queue, "KmsMasterKeyId")
    )
    if not keyless:
        return
    off = [leaf for leaf in nested(t, queue, "SqsManagedSseEnabled") if truthy(leaf.value) is False]
    key = keyless[0]
    if off:
        leaf = off[0]
        yield Hit(
            name,
            leaf.path,
            f"SQS queue {name} turns SSE-SQS off (SqsManagedSseEnabled false)"
            f"{when((*leaf.conditions, *key.conditions))} and sets no KmsMasterKeyId: messages "
            "are stored unencrypted",
            confidence=lowest(leaf.confidence, Confidence.MEDIUM if key.conditions else None),
        )
        return
    if not required:
        return
    yield Hit(
        name,
        key.path,
        f"SQS queue {name} has no KmsMasterKeyId{when(key.conditions)}: it is encrypted with the "
        "SQS-owned key (SSE-SQS, the default), so there is no key policy to limit who can read "
        f"messages and no CloudTrail record of key use, and {_REQUIRED}",
        confidence=Confidence.MEDIUM if key.conditions else None,
    )


# -- AR-DAT-006: KMS key rotation ----------------------------------------------------------------

NON_ROTATING_ORIGINS = ("EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")


_ROTATION_PATH = ("Properties", "EnableKeyRotation")


def _rotation_fix(name: str) -> SetValues:
    """Yearly automatic rotation: KMS keeps the older key material, so what it encrypted stays
    readable and no caller's access changes."""
    return set_value(
        Safety.SAFE, f"Turn on automatic rotation of KMS key {name}.", name, _ROTATION_PATH, True
    )


@template_check("AR-DAT-006")
def key_without_rotation(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for key in t.of_type("AWS::KMS::Key"):
        name = key.logical_id
        specs = [leaf for leaf in nested(t, key, "KeySpec") if leaf.known]
        if key.has("KeySpec") and not specs:
            continue  # unresolvable: no guess
        if specs and all(str(s.value) != "SYMMETRIC_DEFAULT" for s in specs):
            continue  # asymmetric or HMAC keys cannot rotate automatically
        origins = [leaf for leaf in nested(t, key, "Origin") if leaf.known]
        if key.has("Origin") and (
            not origins or all(str(o.value) in NON_ROTATING_ORIGINS for o in origins)
        ):
            continue
        spec_conf = lowest(*(s.confidence for s in specs if str(s.value) == "SYMMETRIC_DEFAULT"))
        if not key.has("EnableKeyRotation"):
            yield Hit(
                name,
                ("Properties", "EnableKeyRotation"),
                f"Symmetric KMS key {name} sets no EnableKeyRotation (off by default): the key "
                "material is never rotated",
                confidence=spec_conf,
                fix=_rotation_fix(name) if spec_conf in (None, Confidence.HIGH) else None,
            )
            continue
        for leaf in nested(t, key, "EnableKeyRotation"):
            if truthy(leaf.value) is False:
                yield Hit(
                    name,
                    leaf.path,
                    f"Symmetric KMS key {name} has EnableKeyRotation false{_note(leaf)}: the key "
                    "material is never rotated",
                    confidence=lowest(leaf.confidence, spec_conf),
                    fix=_rotation_fix(name)
                    if leaf.path == _ROTATION_PATH
                    and not _note(leaf)
                    and spec_conf in (None, Confidence.HIGH)
                    else None,
                )
                break


# -- AR-DAT-007: plaintext secrets ---------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_CREDENTIAL_NOUNS = frozenset(
    {"password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "credential"}
)
_KEY_QUALIFIERS = frozenset(
    {"api", "secret", "private", "signing", "encryption", "master", "hmac", "jwt", "app"}
)
_VERBS = frozenset(
    {
        "generate",
        "require",
        "rotate",
        "enable",
        "disable",
        "manage",
        "reset",
        "allow",
        "create",
        "use",
        "include",
        "exclude",
        "prevent",
        "revoke",
    }
)
_NOT_SECRET_NAMES = frozenset(
    {
        "eventsourcetoken",
        "clienttoken",
        "nexttoken",
        "idempotencytoken",
        "continuationtoken",
        "paginationtoken",
        "tasktoken",
        "verificationtoken",
    }
)
# Subtrees whose keys are not credential names (policies, definitions, mapping templates)
_SKIP_KEYS = frozenset(
    {
        "PolicyDocument",
        "AssumeRolePolicyDocument",
        "KeyPolicy",
        "Policies",
        "Tags",
        "TokenValidityUnits",
        "Definition",
        "DefinitionBody",
        "DefinitionString",
        "DefinitionSubstitutions",
        "Body",
        "EventPattern",
        "InputTemplate",
        "RequestTemplates",
        "ResponseTemplates",
        "RequestParameters",
        "ResponseParameters",
        "Code",
        "InlineCode",
    }
)
_REFERENCE_VALUE = re.compile(
    r"^(\$|\{\{resolve:|arn:|method\.|integration\.|context\.|stageVariables\.)", re.IGNORECASE
)
_PATH_LIKE = re.compile(r"^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+/?$")
# an AWS secret access key: 40 characters of base64's alphabet, which may include "/"
_AWS_SECRET_KEY = re.compile(r"^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])[A-Za-z0-9/+]{40}$")
_DIGIT_IN_WORD = re.compile(r"[A-Za-z][0-9]+[A-Za-z]")
# Placeholders: values that stand for a credential someone still has to supply
_PLACEHOLDER_MARKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<[^<>]*>"), "text in angle brackets"),
    (re.compile(r"EXAMPLE", re.IGNORECASE), "an EXAMPLE marker, as in AWS's documented keys"),
    (
        re.compile(
            r"(?<![a-z])(change[ _-]?(me|it|this)|update[ _-]?me|replace|(enter|insert|"
            r"fill[ _-]?in|todo|fixme|tbd|sample)(?![a-z])|placeholder|dummy|fake|unused|"
            r"not[ _-]?used|redacted|your[ _-])",
            re.IGNORECASE,
        ),
        "a word such as CHANGE_ME, REPLACE, DUMMY or your-...",
    ),
    (re.compile(r"^(.)\1{3,}$|x{4,}", re.IGNORECASE), "a repeated character such as xxxx"),
)
# a describing value names the thing rather than being it when one of these is in it
_NAMING_WORDS = frozenset(
    {"value", "here", "string", "your", "api", "key", "token", "client", "id", "access", "auth"}
)
# words a self-describing placeholder is made of ("MyApiKey", "KeyValue", "dummy-value")
_DESCRIBING_WORDS = frozenset(
    {
        "my",
        "your",
        "the",
        "a",
        "api",
        "key",
        "keys",
        "value",
        "secret",
        "password",
        "passwd",
        "pass",
        "pwd",
        "token",
        "client",
        "id",
        "access",
        "auth",
        "bearer",
        "basic",
        "here",
        "string",
    }
)
_NOT_VALUES = frozenset({"true", "false", "yes", "no", "none", "null", "n/a", "undefined"})


_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def words(name: str) -> list[str]:
    out: list[str] = []
    for part in _NOT_ALNUM.split(name):
        out.extend(w.lower() for w in _WORD.findall(part))
    return out


@functools.lru_cache(maxsize=4096)
def is_credential_name(name: str) -> bool:
    """A name that denotes a credential (DB_PASSWORD, ClientSecret, ApiKey, AuthToken), not one
    that merely contains such a word (PasswordPolicy, RefreshTokenValidity, GenerateSecret,
    SecretArn). Remembered by name (the same property names come back in every template)."""
    ws = words(name)
    if not ws or "".join(ws) in _NOT_SECRET_NAMES or ws[0] in _VERBS:
        return False
    last = ws[-1]
    prev = ws[-2] if len(ws) > 1 else ""
    if last in _CREDENTIAL_NOUNS:
        return True
    if last == "key":
        return prev in _KEY_QUALIFIERS or (prev == "access" and len(ws) > 2 and ws[-3] == "secret")
    if last == "pass":
        return len(ws) > 1
    if last == "value":
        return ws[-3:] == ["api", "key", "value"]
    return False


def path_like(text: str) -> bool:
    """A value that names where a secret lives rather than being one: an absolute or relative
    path (/aws/lambda/x, ./certs/key), a URL (s3://, https://), or slash-separated names
    (prod/db/password). Slash-separated text that looks random (an AWS secret access key, a
    segment with digits inside a word or made of very short case-alternating runs) is not
    path-like: "/" is one of base64's characters."""
    if text.startswith(("/", "./", "../", "~/")) or "://" in text:
        return True
    if _AWS_SECRET_KEY.match(text) or not _PATH_LIKE.match(text):
        return False
    return not any(_random_segment(seg) for seg in text.split("/"))


def _random_segment(segment: str) -> bool:
    for run in re.split(r"[_.-]+", segment):
        if _DIGIT_IN_WORD.search(run):
            return True
        tokens = _WORD.findall(run)
        if len(tokens) >= 3 and len(run) / len(tokens) < 3:
            return True
    return False


def placeholder_kind(value: Any) -> str | None:
    """Why a literal is a placeholder rather than a credential ('<>', '<<Enter your secret>>',
    CHANGE_ME, DUMMY..., xxxx, AWS's documented ...EXAMPLE... keys, "MyApiKey"), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    for pattern, kind in _PLACEHOLDER_MARKS:
        if pattern.search(text):
            return kind
    if len(text) > 64:
        return None
    split = [_describing(c.lower()) for c in re.split(r"[^A-Za-z]+", text) if c]
    found = [w for ws in split if ws is not None for w in ws]
    # "MyApiKey", "KeyValue": a name standing for the value; "MyPassword" may be the real one
    if all(ws is not None for ws in split) and len(found) >= 2 and _NAMING_WORDS & set(found):
        return "only words that describe a credential"
    return None


def _describing(chunk: str) -> list[str] | None:
    """The describing words `chunk` is made of ("myapikey": my, api, key), or None."""
    best: list[list[str] | None] = [[]] + [None] * len(chunk)
    for end in range(1, len(chunk) + 1):
        for start in range(max(0, end - 8), end):
            prefix = best[start]
            if prefix is not None and chunk[start:end] in _DESCRIBING_WORDS:
                best[end] = [*prefix, chunk[start:end]]
                break
    return best[len(chunk)]


def plaintext(value: Any) -> bool:
    """A literal that could be a secret: a non-empty string that is not an ARN, a boolean, a
    number, a dynamic reference, a path-like name or an expression."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text or text.lower() in _NOT_VALUES or number(text) is not None:
        return False
    if _REFERENCE_VALUE.match(text) or "{{resolve:" in text or "${" in text:
        return False
    return not path_like(text)


@dataclass(frozen=True)
class _Secret:
    name: str
    leaf: Leaf
    where: str


def _secrets_in(
    t: Template, node: Any, path: tuple[str | int, ...], where: str
) -> Iterator[_Secret]:
    """Literal secrets below a properties node: a credential-named key holding a literal, and
    Name/Value pairs (container and build environments) whose Name is a credential."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(node, path)]
    while stack:
        cur, cur_path = stack.pop()
        if isinstance(cur, list):
            for i, item in enumerate(cur):
                if not isinstance(item, _SCALARS):  # (scalars hold no key: not pushed)
                    stack.append((item, (*cur_path, i)))
            continue
        if not isinstance(cur, (dict, Mapping)) or (len(cur) == 1 and intrinsic(cur) is not None):
            continue
        if "Name" in cur and "Value" in cur:
            pair = _name_value(t, cur, cur_path)
            if pair is not None:
                yield _Secret(pair[0], pair[1], where)
                continue
        for key, value in cur.items():
            if not isinstance(key, str):
                continue
            kind = _key_kind(key)
            if kind is _KeyKind.SKIPPED:
                continue
            if key == "SecretString" and isinstance(value, str):
                yield from _secret_string(value, (*cur_path, key), where)
                continue
            if kind is _KeyKind.CREDENTIAL:
                for leaf in _literal_leaves(t, value, (*cur_path, key)):
                    yield _Secret(key, leaf, where)
                continue
            if isinstance(value, _CONTAINERS) or (
                not isinstance(value, _SCALARS) and isinstance(value, Mapping)
            ):
                stack.append((value, (*cur_path, key)))


# cheap type tests first in the walk (Mapping's isinstance goes through the ABC machinery)
_SCALARS = (str, int, float, type(None))
_CONTAINERS = (dict, list)


class _KeyKind(enum.Enum):
    SKIPPED = "skipped"  # _SKIP_KEYS: not searched
    CREDENTIAL = "credential"  # a credential name: its literal values are secrets
    OTHER = "other"  # searched below


@functools.lru_cache(maxsize=8192)
def _key_kind(key: str) -> _KeyKind:
    """What the secrets walk does with a property key (the same keys come back in every
    template: asked once per key)."""
    if key in _SKIP_KEYS:
        return _KeyKind.SKIPPED
    return _KeyKind.CREDENTIAL if is_credential_name(key) else _KeyKind.OTHER


def _literal_leaves(t: Template, node: Any, path: tuple[str | int, ...]) -> Iterator[Leaf]:
    """Literal string values written at `node` (Fn::If branches followed; Ref, GetAtt, Sub and
    the other intrinsics are not literals)."""
    fn = intrinsic(node)
    if fn is not None and fn[0] == "Fn::If":
        for leaf in branches(t, node, path):
            if plaintext(leaf.value) and intrinsic(_at(node, leaf.path[len(path) :])) is None:
                yield leaf
        return
    if fn is None and plaintext(node):
        yield Leaf(node, path)


def _at(node: Any, rel: tuple[str | int, ...]) -> Any:
    cur = node
    for elem in rel:
        if isinstance(cur, Mapping) and isinstance(elem, str):
            cur = cur.get(elem)
        elif isinstance(cur, list) and isinstance(elem, int) and 0 <= elem < len(cur):
            cur = cur[elem]
        else:
            return None
    return cur


def _name_value(
    t: Template, cur: Mapping[str, Any], path: tuple[str | int, ...]
) -> tuple[str, Leaf] | None:
    if "Name" not in cur or "Value" not in cur:
        return None
    name = cur.get("Name")
    kind = cur.get("Type")
    if not isinstance(name, str) or not is_credential_name(name):
        return None
    if isinstance(kind, str) and kind.upper() in ("PARAMETER_STORE", "SECRETS_MANAGER"):
        return None  # CodeBuild: the value is a reference
    for leaf in _literal_leaves(t, cur.get("Value"), (*path, "Value")):
        return name, leaf
    return None


def _secret_string(value: str, path: tuple[str | int, ...], where: str) -> Iterator[_Secret]:
    """AWS::SecretsManager::Secret SecretString written in the template: a JSON object is read
    key by key; any other literal is the secret itself."""
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        if plaintext(value):
            yield _Secret("SecretString", Leaf(value, path), where)
        return
    if isinstance(data, Mapping):
        for key, item in data.items():
            if isinstance(key, str) and is_credential_name(key) and plaintext(item):
                yield _Secret(f"SecretString {key}", Leaf(item, path), where)
                return


# attributes that return a credential, by resource type
SECRET_ATTRIBUTES = {
    "AWS::AppSync::ApiKey": ("ApiKey", "AppSync API key"),
    "AWS::IAM::AccessKey": ("SecretAccessKey", "IAM secret access key"),
    "AWS::Cognito::UserPoolClient": ("ClientSecret", "Cognito app client secret"),
}


@template_check("AR-DAT-007")
def plaintext_secret(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for res in t:
        if res.implicit:
            continue  # SAM-generated: judged on the SAM source
        for secret in _secrets_in(t, res.properties, ("Properties",), res.logical_id):
            leaf = secret.leaf
            kind = placeholder_kind(leaf.value)
            if kind is not None:
                yield Hit(
                    res.logical_id,
                    leaf.path,
                    f"{res.logical_id} writes a placeholder ({kind}) under the credential name "
                    f"{secret.name}{when(leaf.conditions)}: it is not a credential, but the "
                    "template has to be edited to put the real one here, where anyone who can "
                    "read the template or the stack would read it; take it from a NoEcho "
                    "parameter without a Default or a {{resolve:secretsmanager:...}} reference",
                    variant="placeholder",
                )
                continue
            yield Hit(
                res.logical_id,
                leaf.path,
                f"{res.logical_id} writes a {len(str(leaf.value).strip())}-character literal "
                f"under the credential name {secret.name}{when(leaf.conditions)}: anyone who can "
                "read the template, the stack or the resource configuration can read it (value "
                "not shown)",
                confidence=Confidence.MEDIUM if leaf.conditions else None,
            )
    yield from _parameter_defaults(t)
    yield from _published_in_outputs(t)


def _parameter_defaults(t: Template) -> Iterator[Hit]:
    for pname, decl in t.parameters.items():
        if not isinstance(pname, str) or not isinstance(decl, Mapping) or "Default" not in decl:
            continue
        ptype = decl.get("Type")
        if isinstance(ptype, str) and ptype.startswith("AWS::SSM::Parameter"):
            continue  # the default names an SSM parameter
        if not is_credential_name(pname) or not plaintext(decl.get("Default")):
            continue
        noecho = truthy(decl.get("NoEcho")) is True
        kind = placeholder_kind(decl.get("Default"))
        if kind is not None:
            yield Hit(
                None,
                ("Parameters", pname, "Default"),
                f"Parameter {pname} has a placeholder Default ({kind}) under a credential name: "
                "it is not a credential, but a deployment that does not pass the parameter runs "
                "with the placeholder as the credential; remove the Default so the real value "
                "must be given"
                + ("" if noecho else ", and set NoEcho so it is masked in the console and API"),
                variant="placeholder",
            )
            continue
        masked = " (NoEcho only masks it in the console and API, not in the template)"
        yield Hit(
            None,
            ("Parameters", pname, "Default"),
            f"Parameter {pname} has a literal Default under a credential name"
            + (masked if noecho else "")
            + ": the secret is stored in the template (value not shown)",
        )


def _published_in_outputs(t: Template) -> Iterator[Hit]:
    """Outputs whose value is a credential the stack created (an AppSync API key, an IAM
    secret access key, a Cognito client secret): DescribeStacks returns it to anyone allowed
    to describe the stack, and an Export hands it to every stack of the account and region."""
    outputs = t.outputs
    if not outputs:
        return
    # (what there is to look for: without parameters no output shows one, and without a
    # resource that makes a credential no output publishes one; the walks are skipped)
    parameters = bool(t.parameters)
    makers = bool(t.of_type(*SECRET_ATTRIBUTES))
    for oname, node in outputs.items():
        if not isinstance(oname, str) or not isinstance(node, Mapping) or "Value" not in node:
            continue
        exported = (
            " and its Export hands it to every stack in the account and region"
            if "Export" in node
            else ""
        )
        secret_parameter = (
            next(
                (
                    name
                    for name in parameter_refs(t, node.get("Value"))
                    if _secret_parameter(t, name)
                ),
                None,
            )
            if parameters
            else None
        )
        if secret_parameter is not None:
            yield Hit(
                None,
                ("Outputs", oname, "Value"),
                f"Output {oname} shows the value of parameter {secret_parameter}, a credential: "
                "CloudFormation masks NoEcho parameters in the console and API but not in "
                f"Outputs, so anyone allowed cloudformation:DescribeStacks reads it{exported}; "
                "remove the output",
                variant="output",
            )
            continue
        if not makers:
            continue
        for ref in references(t, node.get("Value"), ("Outputs", oname, "Value")):
            res = t.get(ref.target)
            if res is None or res.type not in SECRET_ATTRIBUTES:
                continue
            attr, what = SECRET_ATTRIBUTES[res.type]
            if ref.attr != attr:
                continue  # Ref gives the ARN or the id, not the credential
            yield Hit(
                None,
                ("Outputs", oname, "Value"),
                f"Output {oname} publishes the {what} of {res.logical_id} "
                f"({res.logical_id}.{attr}): anyone allowed cloudformation:DescribeStacks on the "
                f"stack reads it{exported}; hand it over through Secrets Manager or read it "
                "where it is needed",
                variant="appsync-key-output" if res.type == "AWS::AppSync::ApiKey" else "output",
                related=(Related(res.logical_id, (), what),),
            )
            break


def _secret_parameter(t: Template, name: str) -> bool:
    decl = t.parameters.get(name)
    if not isinstance(decl, Mapping):
        return False
    ptype = decl.get("Type")
    if isinstance(ptype, str) and ptype.startswith("AWS::SSM::Parameter"):
        return False  # the value names an SSM parameter
    return truthy(decl.get("NoEcho")) is True or is_credential_name(name)


_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)\}")
MAX_OUTPUT_NODES = 10_000


def parameter_refs(t: Template, node: Any) -> list[str]:
    """The template parameters a value reads (Ref and ${Name} in Fn::Sub), in order; the walk
    stops after MAX_OUTPUT_NODES nodes."""
    found: list[str] = []
    stack: list[Any] = [node]
    seen = 0
    while stack and seen < MAX_OUTPUT_NODES:
        cur = stack.pop()
        seen += 1
        fn = intrinsic(cur)
        if fn is not None and fn[0] == "Ref" and isinstance(fn[1], str):
            if fn[1] in t.parameters and fn[1] not in found:
                found.append(fn[1])
            continue
        if fn is not None and fn[0] == "Fn::Sub":
            body = fn[1][0] if isinstance(fn[1], list) and fn[1] else fn[1]
            local = fn[1][1] if isinstance(fn[1], list) and len(fn[1]) > 1 else {}
            if isinstance(body, str):
                for name in _SUB_NAME.findall(body):
                    own = isinstance(local, Mapping) and name in local
                    if not own and name in t.parameters and name not in found:
                        found.append(name)
            if isinstance(local, Mapping):
                stack.extend(local.values())
            continue
        if isinstance(cur, Mapping):
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return found


# -- AR-DAT-008: data stores without encryption --------------------------------------------------


def _flag_hits(
    t: Template, res: Resource, flags: tuple[tuple[str, ...], ...], what: str, why: str
) -> Iterator[Hit]:
    """One hit for the encryption flags (property paths) that are not true."""
    yield from _store_hit(res, what, [(flag, why) for flag in flags], t)


_Gap = tuple[Leaf, str, str]  # where, what is wrong ("StorageEncrypted not set"), what follows


def _flag_gaps(t: Template, res: Resource, flags: list[tuple[tuple[str, ...], str]]) -> list[_Gap]:
    """The encryption flags (property path, what follows) that are not true."""
    gaps: list[_Gap] = []
    for flag, why in flags:
        leaves_ = nested(t, res, *flag) or [Leaf(MISSING, ("Properties", *flag))]
        for leaf in leaves_:
            if leaf.known and _is_false(leaf):
                state = "not set" if leaf.value is MISSING else "false"
                gaps.append((leaf, f"{'.'.join(flag)} {state}{_note(leaf)}", why))
                break
    return gaps


def _gaps_hit(res: Resource, what: str, gaps: list[_Gap]) -> Iterator[Hit]:
    """One hit for a store that lacks protections: one root cause (the store was created
    without them). It points at the first gap and names them all; the others are related."""
    if not gaps:
        return
    yield Hit(
        res.logical_id,
        gaps[0][0].path,
        f"{what} {res.logical_id} has {' and '.join(g for _, g, _ in gaps)}: "
        + "; ".join(w for _, _, w in gaps),
        confidence=lowest(*(leaf.confidence for leaf, _, _ in gaps)),
        related=tuple(Related(res.logical_id, leaf.path, f"also: {g}") for leaf, g, _ in gaps[1:]),
    )


def _store_hit(
    res: Resource, what: str, flags: list[tuple[tuple[str, ...], str]], t: Template
) -> Iterator[Hit]:
    yield from _gaps_hit(res, what, _flag_gaps(t, res, flags))


@template_check("AR-DAT-008")
def store_without_encryption(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    storage = "data, snapshots and backups are stored unencrypted"
    for db in t.of_type("AWS::RDS::DBInstance"):
        if any(
            db.has(k)
            for k in (
                "DBClusterIdentifier",
                "SourceDBInstanceIdentifier",
                "DBSnapshotIdentifier",
                "SourceDBClusterIdentifier",
            )
        ):
            continue  # inherits encryption from its cluster, source or snapshot
        engine = resolve(t, db.get("Engine"))[0].value
        if isinstance(engine, str) and engine.lower().startswith("aurora"):
            continue
        yield Checked(db.logical_id)
        yield from _flag_hits(t, db, (("StorageEncrypted",),), "RDS instance", storage)
    for cluster in t.of_type(
        "AWS::RDS::DBCluster", "AWS::Neptune::DBCluster", "AWS::DocDB::DBCluster"
    ):
        if any(
            cluster.has(k)
            for k in ("SnapshotIdentifier", "SourceDBClusterIdentifier", "RestoreType")
        ):
            continue  # inherits encryption from its snapshot or source
        mode = resolve(t, cluster.get("EngineMode"))[0].value
        if isinstance(mode, str) and mode.lower() == "serverless":
            yield Checked(cluster.logical_id)
            continue  # Aurora Serverless v1 always encrypts
        yield Checked(cluster.logical_id)
        label = {
            "AWS::RDS::DBCluster": "DB cluster",
            "AWS::Neptune::DBCluster": "Neptune cluster",
            "AWS::DocDB::DBCluster": "DocumentDB cluster",
        }[cluster.type]
        yield from _flag_hits(t, cluster, (("StorageEncrypted",),), label, storage)
    for group in t.of_type("AWS::ElastiCache::ReplicationGroup"):
        yield Checked(group.logical_id)
        # one finding per store: the first missing protection, the others related
        yield from _store_hit(
            group,
            "ElastiCache replication group",
            [
                (("AtRestEncryptionEnabled",), "cached data and backups are stored unencrypted"),
                (("TransitEncryptionEnabled",), "clients and replicas talk in plain text"),
            ],
            t,
        )
    for cache in t.of_type("AWS::ElastiCache::CacheCluster"):
        yield Checked(cache.logical_id)
        engine = resolve(t, cache.get("Engine"))[0].value
        memcached = isinstance(engine, str) and engine.lower() == "memcached"
        yield Hit(
            cache.logical_id,
            (),
            f"ElastiCache cluster {cache.logical_id} is a standalone CacheCluster, which cannot "
            "encrypt data at rest: "
            + (
                "use an AWS::ElastiCache::ServerlessCache, which always encrypts"
                if memcached
                else "use an AWS::ElastiCache::ReplicationGroup with AtRestEncryptionEnabled "
                "and TransitEncryptionEnabled, or a ServerlessCache"
            ),
            variant="standalone-cache",
        )
    for domain in t.of_type("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain"):
        yield Checked(domain.logical_id)
        label = (
            "OpenSearch domain"
            if domain.type.startswith("AWS::OpenSearch")
            else "Elasticsearch domain"
        )
        yield from _store_hit(
            domain,
            label,
            [
                (
                    ("EncryptionAtRestOptions", "Enabled"),
                    "indices and snapshots are stored unencrypted",
                ),
                (("NodeToNodeEncryptionOptions", "Enabled"), "traffic between nodes is plain text"),
                (("DomainEndpointOptions", "EnforceHTTPS"), "the endpoint accepts plain HTTP"),
            ],
            t,
        )


# -- AR-DAT-009: log groups without a KMS key ----------------------------------------------------


@template_check("AR-DAT-009")
def log_group_without_kms(ctx: TemplateContext) -> Iterator[Yielded]:
    if not kms_required(ctx.profile):
        yield NotJudged(_NOT_REQUIRED)
        return
    t = ctx.template
    for group in t.of_type("AWS::Logs::LogGroup"):
        yield from _no_key_hits(
            t,
            group,
            "Log group",
            "KmsKeyId",
            unset="CloudWatch Logs encrypts it with a service-owned key, so no key policy limits "
            f"who can read the logs, and {_REQUIRED}",
            no_value=f"logs are encrypted with a service-owned key, and {_REQUIRED}",
        )


# -- AR-DAT-010: DAX -----------------------------------------------------------------------------


@template_check("AR-DAT-010")
def dax_without_encryption(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for cluster in t.of_type("AWS::DAX::Cluster"):
        gaps = _flag_gaps(
            t,
            cluster,
            [
                (
                    ("SSESpecification", "SSEEnabled"),
                    "cached items are stored unencrypted on the nodes",
                )
            ],
        )
        plain = "clients talk to the cluster in plain text"
        types = nested(t, cluster, "ClusterEndpointEncryptionType")
        if not types:
            where = Leaf(MISSING, ("Properties", "ClusterEndpointEncryptionType"))
            gaps.append((where, "ClusterEndpointEncryptionType not set (NONE by default)", plain))
        for leaf in types:
            if leaf.known and str(leaf.value).upper() != "TLS":
                gaps.append(
                    (leaf, f"ClusterEndpointEncryptionType {leaf.value}{_note(leaf)}", plain)
                )
                break
        yield from _gaps_hit(cluster, "DAX cluster", gaps)


CHECKS: tuple[Check, ...] = (
    table_without_cmk,
    table_without_pitr,
    bucket_public_access,
    bucket_without_kms_or_tls,
    topic_or_queue_without_cmk,
    key_without_rotation,
    plaintext_secret,
    store_without_encryption,
    log_group_without_kms,
    dax_without_encryption,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
