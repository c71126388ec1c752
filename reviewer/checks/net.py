"""NET: network (VPC, security groups, edge)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reviewer.checks.edge import (
    TlsPolicy,
    Val,
    confidence,
    is_false,
    is_true,
    protocol_label,
    protocol_version,
    tls_tables,
    values,
    with_note,
)
from reviewer.checks.facts import pointed
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.fixes import GetAtt, Safety, SetValues, set_value
from reviewer.core.types import (
    Checked,
    Confidence,
    Hit,
    NotJudged,
    Path,
    Persona,
    Related,
    Severity,
    lower_confidence,
)
from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import intrinsic, number, references, resolve
from reviewer.model.template import MISSING, Resource, Template

WORLD = ("0.0.0.0/0", "::/0")
WEB_PORTS = (80, 443)
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
DB_PORTS = {
    1433: "SQL Server",
    1521: "Oracle",
    3306: "MySQL/Aurora",
    5432: "PostgreSQL",
    6379: "Redis/Valkey",
    7474: "Neo4j HTTP",
    7687: "Neo4j Bolt",
    8182: "Neptune",
    9200: "OpenSearch",
    9300: "OpenSearch transport",
    27017: "MongoDB/DocumentDB",
}
CRITICAL_PORTS = {**ADMIN_PORTS, **DB_PORTS}
ICMP = ("icmp", "icmpv6")

# -- security group rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ingress:
    subject: str  # the security group, or the AWS::EC2::SecurityGroupIngress resource
    path: Path  # to the rule mapping
    rule: Mapping[str, Any]
    conditions: tuple[str, ...]
    group: str | None  # logical id of the group the rule opens (same template), if known


def _protocol(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip().lower()
    return {
        "-1": "all",
        "all": "all",
        "6": "tcp",
        "tcp": "tcp",
        "17": "udp",
        "udp": "udp",
        "1": "icmp",
        "icmp": "icmp",
        "58": "icmpv6",
        "icmpv6": "icmpv6",
    }.get(text, text)


def ingress_rules(repo: RepoIndex, t: Template) -> Iterator[Ingress]:
    """Every ingress rule of the template: inline in a group, or a separate resource."""
    for sg in t.of_type("AWS::EC2::SecurityGroup"):
        node = sg.get("SecurityGroupIngress")
        if node is MISSING:
            continue
        if isinstance(node, list):
            for i, item in enumerate(node):
                for v in values(t, item):
                    if isinstance(v.value, Mapping):
                        yield Ingress(
                            sg.logical_id,
                            ("Properties", "SecurityGroupIngress", i),
                            v.value,
                            v.conditions,
                            sg.logical_id,
                        )
            continue
        for v in values(t, node):
            if isinstance(v.value, list):
                for item in v.value:
                    if isinstance(item, Mapping):
                        yield Ingress(
                            sg.logical_id,
                            ("Properties", "SecurityGroupIngress"),
                            item,
                            v.conditions,
                            sg.logical_id,
                        )
    for res in t.of_type("AWS::EC2::SecurityGroupIngress"):
        group = pointed(repo, t, res.get("GroupId"), ("AWS::EC2::SecurityGroup",))
        group_id = group[1].logical_id if group is not None and group[0] is t else None
        yield Ingress(res.logical_id, ("Properties",), res.properties, (), group_id)


@dataclass(frozen=True)
class PortRange:
    protocol: str | None  # all, tcp, udp, icmp, icmpv6, another protocol number, None unknown
    low: int | None
    high: int | None
    vals: tuple[Val, ...]

    @property
    def known(self) -> bool:
        if self.protocol is None:
            return False
        if self.protocol in ("tcp", "udp"):
            return self.low is not None and self.high is not None
        return True

    def includes(self, port: int) -> bool:
        if self.protocol == "all":
            return True
        if self.protocol not in ("tcp", "udp") or self.low is None or self.high is None:
            return False
        return self.low <= port <= self.high

    @property
    def web_only(self) -> bool:
        return self.protocol == "tcp" and self.low == self.high and self.low in WEB_PORTS

    def describe(self) -> str:
        if self.protocol == "all":
            return "all protocols and ports (IpProtocol -1)"
        if self.protocol in ("tcp", "udp"):
            if self.low == 0 and self.high == 65535:
                return f"{self.protocol} ports 0-65535 (every port)"
            if self.low == self.high:
                return f"{self.protocol} port {self.low}"
            return f"{self.protocol} ports {self.low}-{self.high}"
        return f"protocol {self.protocol}"


def _first(t: Template, node: Any) -> Val:
    vals = values(t, node)
    # the widest value matters for ports; the caller combines confidences
    return vals[0]


def port_range(t: Template, rule: Mapping[str, Any]) -> PortRange:
    pv = _first(t, rule.get("IpProtocol", MISSING))
    protocol = None if pv.missing or not pv.known else _protocol(pv.value)
    fv = _first(t, rule.get("FromPort", MISSING))
    tv = _first(t, rule.get("ToPort", MISSING))
    low = number(fv.value) if not fv.missing else None
    high = number(tv.value) if not tv.missing else None
    if protocol in ("tcp", "udp"):
        if (fv.missing and tv.missing) or (low == -1 and high == -1):
            low, high = 0.0, 65535.0
        elif (fv.missing or tv.missing) or low is None or high is None:
            return PortRange(protocol, None, None, (pv, fv, tv))
    return PortRange(
        protocol,
        int(low) if low is not None else None,
        int(high) if high is not None else None,
        (pv, fv, tv),
    )


# -- subnets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubnetFacts:
    subnet: Resource
    template: Template
    map_public_ip: Val | None  # a true value of MapPublicIpOnLaunch
    igw_route: Resource | None  # a route to an internet gateway in its route table

    @property
    def public(self) -> bool:
        return self.map_public_ip is not None or self.igw_route is not None

    def reason(self) -> str:
        parts: list[str] = []
        if self.map_public_ip is not None:
            parts.append(with_note("MapPublicIpOnLaunch true", self.map_public_ip))
        if self.igw_route is not None:
            parts.append(f"a route to an internet gateway ({self.igw_route.logical_id})")
        return " and ".join(parts)


def _igw_routes(repo: RepoIndex, t: Template) -> dict[str, Resource]:
    """Subnet logical id -> a route to an internet gateway in its route table."""
    key = f"net:igw_routes:{t.file}"
    cached: dict[str, Resource] | None = repo.cache.get(key)
    if cached is not None:
        return cached
    tables_with_igw: dict[str, Resource] = {}
    for route in t.of_type("AWS::EC2::Route"):
        gateway = route.get("GatewayId")
        if gateway is MISSING:
            continue
        is_igw = pointed(repo, t, gateway, ("AWS::EC2::InternetGateway",)) is not None
        if not is_igw:
            for v in values(t, gateway):
                if isinstance(v.value, str) and v.value.startswith("igw-"):
                    is_igw = True
        if not is_igw:
            continue
        table = pointed(repo, t, route.get("RouteTableId"), ("AWS::EC2::RouteTable",))
        if table is not None and table[0] is t:
            tables_with_igw.setdefault(table[1].logical_id, route)
    out: dict[str, Resource] = {}
    for assoc in t.of_type("AWS::EC2::SubnetRouteTableAssociation"):
        table = pointed(repo, t, assoc.get("RouteTableId"), ("AWS::EC2::RouteTable",))
        subnet = pointed(repo, t, assoc.get("SubnetId"), ("AWS::EC2::Subnet",))
        if table is None or subnet is None or table[0] is not t or subnet[0] is not t:
            continue
        igw_route = tables_with_igw.get(table[1].logical_id)
        if igw_route is not None:
            out.setdefault(subnet[1].logical_id, igw_route)
    repo.cache[key] = out
    return out


def subnet_facts(repo: RepoIndex, t: Template, node: Any) -> SubnetFacts | None:
    found = pointed(repo, t, node, ("AWS::EC2::Subnet",))
    if found is None:
        return None
    owner, subnet = found
    map_public: Val | None = None
    for v in values(owner, subnet.get("MapPublicIpOnLaunch")):
        if is_true(v):
            map_public = v
            break
    return SubnetFacts(subnet, owner, map_public, _igw_routes(repo, owner).get(subnet.logical_id))


def _items(node: Any) -> list[tuple[int, Any]]:
    return list(enumerate(node)) if isinstance(node, list) else []


def awsvpc_configuration(res: Resource) -> tuple[Mapping[str, Any] | None, Path]:
    """The awsvpc network configuration of an ECS service (AwsvpcConfiguration) or task set
    (AwsVpcConfiguration: the two resource types spell it differently), and its path."""
    for key in ("AwsvpcConfiguration", "AwsVpcConfiguration"):
        cfg = res.get("NetworkConfiguration", key)
        if isinstance(cfg, Mapping):
            return cfg, ("Properties", "NetworkConfiguration", key)
    return None, ("Properties", "NetworkConfiguration")


# -- AR-NET-001 -----------------------------------------------------------------------------------

PUBLIC_FLAG_TYPES = {
    "AWS::RDS::DBInstance": "RDS DB instance",
    "AWS::RDS::DBCluster": "RDS DB cluster",
    "AWS::Neptune::DBInstance": "Neptune DB instance",
    "AWS::AmazonMQ::Broker": "Amazon MQ broker",
    "AWS::Redshift::Cluster": "Redshift cluster",
    "AWS::DMS::ReplicationInstance": "DMS replication instance",
}
# what guards a store that has a public address, by type (RDS-like stores: the default below)
_GUARDS = {
    "AWS::AmazonMQ::Broker": "its security group and the broker's users",
    "AWS::DMS::ReplicationInstance": "its security group, while it holds the credentials of "
    "its source and target endpoints",
}
DOMAIN_TYPES = {
    "AWS::OpenSearchService::Domain": "OpenSearch domain",
    "AWS::Elasticsearch::Domain": "Elasticsearch domain",
}


def _db_ports_by_group(repo: RepoIndex, t: Template) -> dict[str, list[tuple[int, Ingress]]]:
    """Security group logical id -> database ports its ingress rules open (narrow ranges only:
    a rule that opens every port says nothing about what the host serves)."""
    out: dict[str, list[tuple[int, Ingress]]] = {}
    for ing in ingress_rules(repo, t):
        if ing.group is None:
            continue
        rng = port_range(t, ing.rule)
        if rng.protocol != "tcp" or rng.low is None or rng.high is None:
            continue
        if rng.high - rng.low > 10:
            continue
        for port in DB_PORTS:
            if rng.low <= port <= rng.high:
                out.setdefault(ing.group, []).append((port, ing))
    return out


def _groups(repo: RepoIndex, t: Template, nodes: list[Any]) -> list[str]:
    ids: list[str] = []
    for node in nodes:
        for _, item in _items(node):
            found = pointed(repo, t, item, ("AWS::EC2::SecurityGroup",))
            if found is not None and found[0] is t and found[1].logical_id not in ids:
                ids.append(found[1].logical_id)
    return ids


def _eip_attached(t: Template, instance: Resource) -> bool:
    for res in t.of_type("AWS::EC2::EIP", "AWS::EC2::EIPAssociation"):
        for edge in t.outgoing(res.logical_id):
            if edge.target == instance.logical_id and edge.path[:2] == ("Properties", "InstanceId"):
                return True
    return False


@template_check("AR-NET-001")
def datastore_reachable_from_internet(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for res in t.of_type(*PUBLIC_FLAG_TYPES):
        kind = PUBLIC_FLAG_TYPES[res.type]
        yield Checked(res.logical_id)
        node = res.get("PubliclyAccessible")
        if node is MISSING and res.type == "AWS::DMS::ReplicationInstance":
            yield Hit(
                res.logical_id,
                ("Properties", "PubliclyAccessible"),
                f"{kind} {res.logical_id} does not set PubliclyAccessible, which defaults to "
                "true for DMS: the instance gets a public IP address, reachable from the "
                "internet wherever its subnets route to an internet gateway, and it holds the "
                "credentials of its source and target endpoints; set PubliclyAccessible: false",
                confidence=Confidence.MEDIUM,
            )
            continue
        if node is MISSING:
            if (
                res.type == "AWS::RDS::DBInstance"
                and not res.has("DBSubnetGroupName")
                and not res.has("DBClusterIdentifier")
                and not res.has("SourceDBInstanceIdentifier")
            ):
                yield Hit(
                    res.logical_id,
                    ("Properties", "PubliclyAccessible"),
                    f"{kind} {res.logical_id} sets neither PubliclyAccessible nor "
                    "DBSubnetGroupName: it is created in the default VPC, and RDS makes it "
                    "publicly accessible when that VPC has an internet gateway (the default VPC "
                    "has one); set PubliclyAccessible: false and a subnet group of private subnets",
                    confidence=Confidence.LOW,
                )
            continue
        guard = _GUARDS.get(res.type, "its security group and credentials")
        engine = values(t, res.get("EngineType"))
        if res.type == "AWS::AmazonMQ::Broker" and all(
            (v.text() or "").upper() == "RABBITMQ" for v in engine
        ):
            guard = "the broker's users (a public RabbitMQ broker takes no security group)"
        for v in values(t, node):
            if is_true(v):
                yield Hit(
                    res.logical_id,
                    ("Properties", "PubliclyAccessible"),
                    with_note(
                        f"{kind} {res.logical_id} has PubliclyAccessible true: it gets an "
                        f"address that the internet can route to, guarded only by {guard}",
                        v,
                    ),
                    confidence=v.confidence,
                )
                break
    for res in t.of_type(*DOMAIN_TYPES):
        kind = DOMAIN_TYPES[res.type]
        yield Checked(res.logical_id)
        node = res.get("VPCOptions")
        for v in values(t, node):
            if v.missing:
                absent = "has no VPCOptions" if v.value is MISSING else "drops VPCOptions"
                open_to = open_domain_statement(t, res)
                if open_to is not None:
                    yield Hit(
                        res.logical_id,
                        ("Properties", "AccessPolicies"),
                        with_note(
                            f"{kind} {res.logical_id} {absent}, so its endpoint is public, and "
                            f"its access policy allows {open_to} to Principal * without a "
                            "condition, with no fine-grained access control: anyone on the "
                            "internet can call it, reading, writing and deleting every index",
                            v,
                        ),
                        confidence=v.confidence,
                        variant="open-domain",
                        related=(Related(res.logical_id, ("Properties",), absent),),
                    )
                    break
                fgac = res.get("AdvancedSecurityOptions", "Enabled")
                guarded = (
                    "by its access policy and fine-grained access control"
                    if fgac is not MISSING and any(is_true(f) for f in values(t, fgac))
                    else "only by the access policy"
                )
                yield Hit(
                    res.logical_id,
                    ("Properties", "VPCOptions"),
                    with_note(
                        f"{kind} {res.logical_id} {absent}: its endpoint is public, "
                        f"reachable from the internet and guarded {guarded}",
                        v,
                    ),
                    confidence=v.confidence,
                    variant="public-domain",
                )
                break
    yield from _self_managed_databases(ctx)


def _principal_everyone(value: Any) -> bool:
    if value == "*":
        return True
    if isinstance(value, Mapping):
        aws = value.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def open_domain_statement(t: Template, domain: Resource) -> str | None:
    """The actions a search domain's access policy allows to everyone (Principal *) without a
    Condition, when fine-grained access control does not stand behind it; else None."""
    fgac = domain.get("AdvancedSecurityOptions", "Enabled")
    if fgac is not MISSING and any(is_true(v) for v in values(t, fgac)):
        return None  # users must still sign in to the domain
    for v in values(t, domain.get("AccessPolicies")):
        doc = v.value
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except (ValueError, RecursionError):
                continue
        if not isinstance(doc, Mapping):
            continue
        body = doc.get("Statement")
        for stmt in body if isinstance(body, list) else [body]:
            if not isinstance(stmt, Mapping) or stmt.get("Effect") != "Allow":
                continue
            if "Condition" in stmt or not _principal_everyone(stmt.get("Principal")):
                continue
            action = stmt.get("Action", "*")
            if isinstance(action, list):
                shown = ", ".join(str(a) for a in action[:3] if isinstance(a, str))
                return shown or "every action"
            return str(action) if isinstance(action, str) else "every action"
    return None


def _self_managed_databases(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    repo = ctx.repo
    db_ports = _db_ports_by_group(repo, t)
    if not db_ports:
        return
    for inst in t.of_type("AWS::EC2::Instance"):
        nics = inst.get("NetworkInterfaces")
        nic_groups = [n.get("GroupSet") for _, n in _items(nics) if isinstance(n, Mapping)]
        groups = _groups(repo, t, [inst.get("SecurityGroupIds"), *nic_groups])
        ports = [(p, g) for g in groups for p, _ in db_ports.get(g, [])]
        if not ports:
            continue
        yield Checked(inst.logical_id)
        subnet_path: Path = ("Properties", "SubnetId")
        subnet_node = inst.get("SubnetId")
        associate: Val | None = None
        for i, nic in _items(nics):
            if not isinstance(nic, Mapping):
                continue
            if subnet_node is MISSING and "SubnetId" in nic:
                subnet_node = nic["SubnetId"]
                subnet_path = ("Properties", "NetworkInterfaces", i, "SubnetId")
            if "AssociatePublicIpAddress" in nic:
                associate = values(t, nic["AssociatePublicIpAddress"])[0]
        facts = subnet_facts(repo, t, subnet_node)
        if facts is None:
            continue
        public_ip = (associate is not None and is_true(associate)) or _eip_attached(t, inst)
        if facts.map_public_ip is not None and not (associate is not None and is_false(associate)):
            public_ip = True
        if not facts.public:
            continue
        port, group = ports[0]
        what = f"{DB_PORTS[port]} port {port} open in security group {group}"
        if public_ip:
            conf = Confidence.MEDIUM
            tail = "it gets a public address, so the database is reachable from the internet"
        else:
            conf = Confidence.LOW
            tail = (
                "it has no public address in this template, but an Elastic IP or a later "
                "change to the subnet would expose the database directly"
            )
        yield Hit(
            inst.logical_id,
            subnet_path,
            f"EC2 instance {inst.logical_id} hosts a database ({what}) in subnet "
            f"{facts.subnet.logical_id}, which has {facts.reason()}: {tail}",
            confidence=conf,
            related=(Related(group, ("Properties",), "security group"),),
        )
    for svc in t.of_type("AWS::ECS::Service"):
        cfg, base = awsvpc_configuration(svc)
        if cfg is None:
            continue
        groups = _groups(repo, t, [cfg.get("SecurityGroups")])
        ports = [(p, g) for g in groups for p, _ in db_ports.get(g, [])]
        if not ports:
            continue
        yield Checked(svc.logical_id)
        assign = values(t, cfg.get("AssignPublicIp", MISSING))
        enabled = next((v for v in assign if v.value == "ENABLED"), None)
        if enabled is None:
            continue
        subnets = [subnet_facts(repo, t, item) for _, item in _items(cfg.get("Subnets"))]
        known = [s for s in subnets if s is not None]
        public = [s for s in known if s.public]
        if known and not public:
            continue
        port, group = ports[0]
        where = (
            f"subnet {public[0].subnet.logical_id}, which has {public[0].reason()}"
            if public
            else "subnets this template does not define"
        )
        yield Hit(
            svc.logical_id,
            (*base, "AssignPublicIp"),
            with_note(
                f"ECS service {svc.logical_id} hosts a database ({DB_PORTS[port]} port {port} "
                f"open in security group {group}) with AssignPublicIp ENABLED in {where}: "
                "each task gets a public address, so the database is reachable from the internet",
                enabled,
            ),
            confidence=lower_confidence(Confidence.MEDIUM, enabled.confidence),
            related=(Related(group, ("Properties",), "security group"),),
        )


# -- AR-NET-002 -----------------------------------------------------------------------------------


# Resources that never get a public address: a world-open rule on their security group reaches
# them only from inside the VPC and the networks routed into it (peering, VPN, transit gateway).
VPC_INTERNAL_TYPES = frozenset(
    {
        "AWS::EFS::MountTarget",
        "AWS::FSx::FileSystem",
        "AWS::DocDB::DBCluster",
        "AWS::DocDB::DBInstance",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::ElastiCache::ServerlessCache",
        "AWS::MemoryDB::Cluster",
        "AWS::Neptune::DBCluster",
        "AWS::RDS::DBProxy",
        "AWS::RDS::DBProxyEndpoint",
        "AWS::EC2::VPCEndpoint",
        "AWS::OpenSearchService::Domain",
        "AWS::Elasticsearch::Domain",
    }
)
# Resources public only when a flag says so (PubliclyAccessible true)
PUBLIC_WHEN_FLAGGED = frozenset(
    {
        "AWS::RDS::DBCluster",
        "AWS::AmazonMQ::Broker",
        "AWS::Neptune::DBInstance",
        "AWS::Redshift::Cluster",
    }
)
# what references a security group without attaching it
_NOT_ATTACHED = frozenset(
    {
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::SecurityGroupVpcAssociation",
    }
)


@dataclass(frozen=True)
class Reach:
    """Who a world-open rule of a security group exposes, from what the template attaches the
    group to and how its network is routed: `internet` (something that can have a public
    address, or attachments this template does not show), `vpc` (only resources that live
    inside the VPC), `no-route` (resources that could face the internet, but the template
    gives them no route from it: a VPC without an internet gateway, private subnets, no public
    address), `none` (only Lambda functions, which accept no inbound connections). `route`
    says why for `no-route`; `unknown_vpc` names the VpcId the template takes from outside."""

    kind: str
    attached: tuple[str, ...] = ()
    route: str = ""
    unknown_vpc: str = ""
    # attachments public only when a parameter (whose default says private) says so
    public_by_parameter: tuple[str, ...] = ()


def _public_flag(t: Template, res: Resource) -> bool:
    return any(is_true(v) for v in values(t, res.get("PubliclyAccessible")))


def output_targets(t: Template) -> frozenset[str]:
    """The resources the template's Outputs refer to (handed to other stacks or scripts)."""
    return frozenset(
        r.target
        for node in t.outputs.values()
        if isinstance(node, Mapping)
        for r in references(t, node)
    )


def vpc_gateways(repo: RepoIndex, t: Template) -> dict[str, str]:
    """VPC logical id -> the AWS::EC2::VPCGatewayAttachment that attaches an internet gateway to
    it (a VPN gateway attachment does not count)."""
    key = f"net:vpc_gateways:{t.file}"
    cached: dict[str, str] | None = repo.cache.get(key)
    if cached is not None:
        return cached
    out: dict[str, str] = {}
    for att in t.of_type("AWS::EC2::VPCGatewayAttachment"):
        if att.get("InternetGatewayId") is MISSING:
            continue
        vpc = pointed(repo, t, att.get("VpcId"), ("AWS::EC2::VPC",))
        if vpc is not None and vpc[0] is t:
            out.setdefault(vpc[1].logical_id, att.logical_id)
    repo.cache[key] = out
    return out


@dataclass(frozen=True)
class _Vpc:
    kind: str  # default (no VpcId), routed (an internet gateway), closed (none), unknown
    name: str


def _group_vpc(repo: RepoIndex, t: Template, group: Resource) -> _Vpc:
    node = group.get("VpcId")
    if node is MISSING:
        return _Vpc("default", "the default VPC")
    found = pointed(repo, t, node, ("AWS::EC2::VPC",))
    if found is None:
        return _Vpc("unknown", _origin(t, node))
    owner, vpc = found
    if vpc.logical_id in vpc_gateways(repo, owner):
        return _Vpc("routed", vpc.logical_id)
    return _Vpc("closed", vpc.logical_id)


def _origin(t: Template, node: Any) -> str:
    """Where a value the template does not define comes from, for a message."""
    fn = intrinsic(node)
    if fn is not None and fn[0] == "Ref" and isinstance(fn[1], str):
        return f"parameter {fn[1]}" if fn[1] in t.parameters else f"{fn[1]}"
    if fn is not None and fn[0] == "Fn::ImportValue":
        return "an imported value (Fn::ImportValue)"
    if isinstance(node, str):
        return f"the literal {node[:40]}"
    return "a value computed at deployment"


def _placement(repo: RepoIndex, t: Template, res: Resource) -> str | None:
    """Why an instance or an ECS service has no path from the internet (no public address, or
    only subnets without a route to an internet gateway), or None when it may have one or the
    template does not say. A load balancer's target is not judged: an internet-facing network
    load balancer hands it the clients' own addresses, which the world-open rule admits."""
    behind = {
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::ElasticLoadBalancing::LoadBalancer",
    }
    if any(
        (src := t.get(e.source)) is not None and src.type in behind
        for e in t.incoming(res.logical_id)
    ):
        return None
    if res.type == "AWS::EC2::Instance":
        nics = [n for _, n in _items(res.get("NetworkInterfaces")) if isinstance(n, Mapping)]
        nodes = [res.get("SubnetId")] + [n.get("SubnetId", MISSING) for n in nics]
        nodes = [n for n in nodes if n is not MISSING]
        if not nodes:
            return None  # the default VPC's subnets: public addresses by default
        facts = [subnet_facts(repo, t, n) for n in nodes]
        known = [f for f in facts if f is not None]
        if len(known) != len(facts):
            return None
        if all(f.igw_route is None for f in known):
            names = ", ".join(f.subnet.logical_id for f in known)
            return (
                f"{res.logical_id} sits in subnet {names}, which has no route to an internet "
                "gateway"
            )
        associate = any(
            is_true(v) for n in nics for v in values(t, n.get("AssociatePublicIpAddress", MISSING))
        )
        if associate or _eip_attached(t, res) or any(f.map_public_ip for f in known):
            return None
        return f"{res.logical_id} gets no public address"
    if res.type in ("AWS::ECS::Service", "AWS::ECS::TaskSet"):
        cfg, _ = awsvpc_configuration(res)
        balanced = res.get("LoadBalancers")
        if cfg is None or (isinstance(balanced, list) and balanced) or intrinsic(balanced):
            return None
        flags = values(t, cfg.get("AssignPublicIp", MISSING))
        if all(v.missing or v.value == "DISABLED" for v in flags):
            return f"{res.logical_id} runs tasks without public IPs (AssignPublicIp DISABLED)"
        facts = [subnet_facts(repo, t, n) for _, n in _items(cfg.get("Subnets"))]
        if facts and all(f is not None and f.igw_route is None for f in facts):
            return f"{res.logical_id} runs in subnets without a route to an internet gateway"
    return None


def security_group_reach(
    t: Template,
    group: str | None,
    handed_out: frozenset[str] | None = None,
    repo: RepoIndex | None = None,
) -> Reach:
    if group is None:
        return Reach("internet")
    kinds: set[str] = set()
    attached: list[str] = []
    routes: list[str] = []
    certain = False  # attached to something the internet can only reach through a gateway
    by_parameter: list[str] = []
    exported = group in (output_targets(t) if handed_out is None else handed_out)
    for edge in t.incoming(group):
        res = t.get(edge.source)
        if res is None or res.type in _NOT_ATTACHED:
            continue
        if res.logical_id not in attached:
            attached.append(res.logical_id)
        if res.type in ("AWS::Lambda::Function", "AWS::Serverless::Function"):
            kinds.add("none" if edge.path[:2] == ("Properties", "VpcConfig") else "internet")
        elif res.type in VPC_INTERNAL_TYPES:
            kinds.add("vpc")
        elif res.type in PUBLIC_WHEN_FLAGGED:
            flags = values(t, res.get("PubliclyAccessible"))
            public = any(is_true(v) for v in flags)
            # a parameter's default is one choice of the deployer: the flag may be true
            maybe = not public and any(v.assumed for v in flags)
            if maybe:
                by_parameter.append(res.logical_id)
            certain = certain or public
            kinds.add("internet" if public or maybe else "vpc")
        elif res.type == "AWS::DMS::ReplicationInstance":  # public unless said otherwise
            flags = values(t, res.get("PubliclyAccessible"))
            kinds.add("vpc" if all(is_false(v) for v in flags) else "internet")
        elif res.type == "AWS::RDS::DBInstance":
            private = not _public_flag(t, res) and (
                res.has("DBSubnetGroupName") or res.has("DBClusterIdentifier")
            )
            certain = certain or not private
            kinds.add("vpc" if private else "internet")
        elif res.type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            schemes = values(t, res.get("Scheme"))
            internal = all((v.text() or "").lower() == "internal" for v in schemes)
            certain = certain or not internal
            kinds.add("vpc" if internal else "internet")
        else:
            why = _placement(repo, t, res) if repo is not None else None
            if why is not None:
                routes.append(why)
                kinds.add("no-route")
            else:
                kinds.add("internet")
    # handed to other stacks: attached there too, unseen here (but still in its own VPC)
    internet = exported or not kinds or "internet" in kinds
    owner = t.get(group)
    if repo is not None and owner is not None and owner.type == "AWS::EC2::SecurityGroup":
        vpc = _group_vpc(repo, t, owner)
        if vpc.kind == "closed" and (internet or "no-route" in kinds):
            return Reach(
                "no-route",
                tuple(attached),
                f"its VPC {vpc.name} has no internet gateway attached in the template",
            )
        if internet and vpc.kind == "unknown" and not certain:
            return Reach(
                "internet",
                tuple(attached),
                unknown_vpc=vpc.name,
                public_by_parameter=tuple(by_parameter),
            )
    if internet:
        return Reach("internet", tuple(attached), public_by_parameter=tuple(by_parameter))
    if "no-route" in kinds:
        return Reach("no-route", tuple(attached), "; ".join(routes[:2]))
    return Reach("vpc" if "vpc" in kinds else "none", tuple(attached))


@dataclass(frozen=True)
class _OpenRule:
    ing: Ingress
    key: str
    cidr: Val
    rng: PortRange
    critical: tuple[int, ...]
    confidence: Confidence
    conditions: tuple[str, ...]

    @property
    def rank(self) -> tuple[int, int]:
        return (1 if self.critical else 0, self.confidence.rank)

    def short(self) -> str:
        """The opened range, naming a single critical port."""
        rng = self.rng
        if len(self.critical) == 1 and rng.low == rng.high and rng.protocol != "all":
            return f"{rng.describe()} ({CRITICAL_PORTS[self.critical[0]]})"
        return rng.describe()

    def described(self) -> str:
        rng = self.rng
        critical = self.critical
        named = ", ".join(f"{p} {CRITICAL_PORTS[p]}" for p in critical[:6])
        if len(critical) > 6:
            named += ", ..."
        single = rng.low is not None and rng.low == rng.high and rng.protocol != "all"
        if critical and single:
            return f"{rng.describe()} ({CRITICAL_PORTS[critical[0]]})"
        if critical:
            return f"{rng.describe()}, including {named},"
        return rng.describe()


def _open_rules(repo: RepoIndex, t: Template) -> Iterator[_OpenRule]:
    for ing in ingress_rules(repo, t):
        for key in ("CidrIp", "CidrIpv6"):
            if key not in ing.rule:
                continue
            world = [v for v in values(t, ing.rule[key]) if v.value in WORLD]
            if not world:
                continue
            cidr = world[0]
            rng = port_range(t, ing.rule)
            if not rng.known or rng.protocol in ICMP or rng.web_only:
                continue
            critical = tuple(sorted(p for p in CRITICAL_PORTS if rng.includes(p)))
            vals = (cidr, *[v for v in rng.vals if not v.missing])
            conds = tuple(ing.conditions)
            yield _OpenRule(
                ing,
                key,
                cidr,
                rng,
                critical,
                lower_confidence(
                    confidence(*vals), Confidence.MEDIUM if conds else Confidence.HIGH
                ),
                conds,
            )


@template_check("AR-NET-002")
def security_group_open_to_world(ctx: TemplateContext) -> Iterator[Yielded]:
    """One finding per security group: its world-open rules share the cause (the group faces
    everything that can route to what it is attached to); how far that reaches depends on
    what the template attaches the group to."""
    t = ctx.template
    by_group: dict[str, list[_OpenRule]] = {}
    for rule in _open_rules(ctx.repo, t):
        by_group.setdefault(rule.ing.group or f"?{rule.ing.subject}", []).append(rule)
    handed_out = output_targets(t) if by_group else frozenset()
    for group_key, rules in by_group.items():
        primary = max(rules, key=lambda r: r.rank)  # the first of the most severe
        ing = primary.ing
        reach = security_group_reach(
            t, None if group_key.startswith("?") else group_key, handed_out, ctx.repo
        )
        owner = t.get(ing.subject)
        if owner is not None and owner.type == "AWS::EC2::SecurityGroupIngress":
            who = f"Ingress rule {ing.subject}" + (
                f" of security group {ing.group}" if ing.group else ""
            )
        else:
            who = f"Security group {ing.subject}"
        opened = f"{who} allows {primary.described()} from {primary.cidr.value}"
        others = [r for r in rules if r is not primary]
        if others:
            opened += "; it also allows " + ", ".join(
                f"{r.short()} from {r.cidr.value}" for r in others[:4]
            )
            if len(others) > 4:
                opened += ", ..."
        attached = ", ".join(reach.attached[:3]) + (", ..." if len(reach.attached) > 3 else "")
        if reach.kind == "none":
            variant = "no-inbound-path"
            message = (
                f"{opened}, but the template attaches the group only to Lambda functions "
                f"({attached}), which accept no inbound connections: the rule has no effect "
                "today and would expose whatever the group is attached to next; remove it"
            )
            severity = None
        elif reach.kind == "no-route":
            variant = "no-internet-route"
            message = (
                f"{opened}, but the internet has no way in: {reach.route}; everything in the "
                "VPC and in the networks routed into it can connect, and the rule would expose "
                "the port as soon as a route or a public address is added; name the caller's "
                "security group as the source instead"
            )
            severity = None
        elif reach.kind == "vpc":
            variant = "vpc-internal"
            message = (
                f"{opened}, but every resource the template attaches the group to ({attached}) "
                "lives only inside the VPC: everything in the VPC and in the networks routed "
                "into it can connect, not just the calling tier; name the caller's security "
                "group as the source instead"
            )
            severity = None
        else:
            variant = "internet"
            message = f"{opened}: " + (
                "administration and database ports must never face the whole internet"
                if primary.critical
                else "only 80/443 of a public endpoint may be open to the world"
            )
            severity = Severity.CRITICAL if any(r.critical for r in rules) else None
            if reach.unknown_vpc:
                message += (
                    f" (the group's VPC comes from {reach.unknown_vpc}: whether the internet can "
                    "route to it is not in the template)"
                )
            if reach.public_by_parameter:
                message += (
                    f" (when {', '.join(reach.public_by_parameter)} is deployed with "
                    "PubliclyAccessible true, which its parameter allows; by default it stays "
                    "inside the VPC)"
                )
        note_val = Val(
            primary.cidr.value,
            (*primary.conditions, *primary.cidr.conditions),
            primary.cidr.assumed,
        )
        yield Hit(
            ing.subject,
            (*ing.path, primary.key),
            with_note(message, note_val, *primary.rng.vals),
            severity=severity,
            confidence=lower_confidence(
                primary.confidence,
                Confidence.MEDIUM
                if reach.unknown_vpc or reach.public_by_parameter
                else Confidence.HIGH,
            ),
            variant=variant,
            related=tuple(
                Related(r.ing.subject, (*r.ing.path, r.key), f"also open: {r.short()}")
                for r in others
            ),
        )


# -- AR-NET-003 -----------------------------------------------------------------------------------

VPC_STORES = {
    "AWS::RDS::DBInstance": "RDS DB instance",
    "AWS::RDS::DBCluster": "RDS DB cluster",
    "AWS::RDS::DBProxy": "RDS Proxy",
    "AWS::Neptune::DBCluster": "Neptune cluster",
    "AWS::Neptune::DBInstance": "Neptune instance",
    "AWS::ElastiCache::CacheCluster": "ElastiCache cluster",
    "AWS::ElastiCache::ReplicationGroup": "ElastiCache replication group",
    "AWS::ElastiCache::ServerlessCache": "ElastiCache serverless cache",
    "AWS::MemoryDB::Cluster": "MemoryDB cluster",
    "AWS::DocDB::DBCluster": "DocumentDB cluster",
    "AWS::DocDB::DBInstance": "DocumentDB instance",
    "AWS::OpenSearchService::Domain": "OpenSearch domain",
    "AWS::Elasticsearch::Domain": "Elasticsearch domain",
}
# where a function's reference to a store says nothing about a network connection
_NOT_A_CONNECTION = ("Policies", "Role", "Events", "VpcConfig", "Tags", "Layers")


def _vpc_only(t: Template, store: Resource) -> bool:
    if store.type in ("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain"):
        return any(not v.missing for v in values(t, store.get("VPCOptions")))
    if store.type in (
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::Neptune::DBInstance",
    ) and any(is_true(v) for v in values(t, store.get("PubliclyAccessible"))):
        return False  # reachable from outside: AR-NET-001's business
    # the RDS Data API (EnableHttpEndpoint) needs no network path
    return not (
        store.type == "AWS::RDS::DBCluster"
        and any(is_true(v) for v in values(t, store.get("EnableHttpEndpoint")))
    )


@template_check("AR-NET-003")
def lambda_outside_vpc_of_store(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for fn in t.functions():
        stores: list[tuple[Resource, Path]] = []
        for edge in t.outgoing(fn.logical_id):
            if (
                len(edge.path) > 1
                and edge.path[0] == "Properties"
                and edge.path[1] in _NOT_A_CONNECTION
            ):
                continue
            target = t.get(edge.target)
            if target is None or target.type not in VPC_STORES:
                continue
            if any(target is s for s, _ in stores) or not _vpc_only(t, target):
                continue
            stores.append((target, edge.path))
        if not stores:
            continue
        yield Checked(fn.logical_id)
        vpc = values(t, fn.get("VpcConfig"))
        without = None
        for v in vpc:
            if v.missing:
                without = v
                break
            if isinstance(v.value, Mapping):
                subnets = v.value.get("SubnetIds", MISSING)
                if (
                    subnets is not MISSING
                    and isinstance(resolve(t, subnets)[0].value, list)
                    and not resolve(t, subnets)[0].value
                ):
                    without = v
                    break
        if without is None:
            continue
        store, where = stores[0]
        others = f" (and {len(stores) - 1} more)" if len(stores) > 1 else ""
        what = "has no VpcConfig" if without.value is MISSING else "has no VPC attachment"
        where_text = ".".join(str(p) for p in where[1:]) or "its properties"
        yield Hit(
            fn.logical_id,
            ("Properties", "VpcConfig"),
            with_note(
                f"Function {fn.logical_id} uses {VPC_STORES[store.type]} {store.logical_id}"
                f"{others} (referenced in {where_text}) but {what}: the store lives inside the "
                "VPC, so the call either fails or works only because the store was opened to "
                "the outside",
                without,
            ),
            confidence=Confidence.MEDIUM,
            related=(Related(store.logical_id, (), VPC_STORES[store.type]),),
        )


# -- AR-NET-004 -----------------------------------------------------------------------------------


TLS_KEY = "layers.data.tls_minimum"


def _tls_floor(profile_minimum: str | None) -> str:
    """The CloudFront security policy matching a TLS minimum (the baseline's 1.2 without one)."""
    tables = tls_tables()
    version = (protocol_version(profile_minimum) if profile_minimum else None) or (1, 2)
    key = ".".join(str(p) for p in version[:2])
    return tables.cloudfront_floor.get(key, tables.cloudfront_floor["1.2"])


def _behaviors(config: Mapping[str, Any]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    base: Path = ("Properties", "DistributionConfig")
    default = config.get("DefaultCacheBehavior")
    if isinstance(default, Mapping):
        yield (*base, "DefaultCacheBehavior"), default
    others = config.get("CacheBehaviors")
    for i, beh in _items(others):
        if isinstance(beh, Mapping):
            yield (*base, "CacheBehaviors", i), beh


@template_check("AR-NET-004")
def cloudfront_weak_viewer_tls_or_no_waf(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    tables = tls_tables()
    declared = ctx.profile.declares(TLS_KEY)
    floor = _tls_floor(ctx.profile.tls_minimum if declared else None)
    floor_rank = tables.cloudfront[floor].rank
    base: Path = ("Properties", "DistributionConfig")
    for dist in t.of_type("AWS::CloudFront::Distribution"):
        config = dist.get("DistributionConfig")
        if not isinstance(config, Mapping):
            continue
        did = dist.logical_id
        for path, beh in _behaviors(config):
            for v in values(t, beh.get("ViewerProtocolPolicy", MISSING)):
                if v.value == "allow-all":
                    label = (
                        "DefaultCacheBehavior"
                        if path[-1] == "DefaultCacheBehavior"
                        else f"CacheBehaviors[{path[-1]}]"
                    )
                    yield Hit(
                        did,
                        (*path, "ViewerProtocolPolicy"),
                        with_note(
                            f"Distribution {did} {label} has ViewerProtocolPolicy allow-all: "
                            "viewers can use plain HTTP (set redirect-to-https or https-only)",
                            v,
                        ),
                        confidence=v.confidence,
                        variant="http-allowed",
                        fix=_https_fix(did, path, label, v),
                    )
                    break
        yield from _viewer_certificate(t, did, config, base, floor, floor_rank, declared)
        waf = values(t, config.get("WebACLId", MISSING))
        for v in waf:
            if v.missing or v.value == "":
                absent = "has no WebACLId" if v.value is MISSING else "drops its WebACLId"
                yield Hit(
                    did,
                    (*base, "WebACLId"),
                    with_note(
                        f"Distribution {did} {absent}: no AWS WAF web ACL inspects requests "
                        "at the edge before they reach the origin",
                        v,
                    ),
                    confidence=v.confidence,
                    variant="no-waf",
                    fix=_web_acl_fix(t, did) if v.value is MISSING else None,
                )
                break


def _https_fix(did: str, path: Path, label: str, v: Val) -> SetValues | None:
    """redirect-to-https for a behaviour written allow-all (unsafe: a plain HTTP client is
    redirected); not for a value from a condition or a parameter."""
    if v.note or not all(isinstance(p, str) for p in path):
        return None
    return set_value(
        Safety.UNSAFE,
        f"Redirect HTTP viewers of distribution {did} {label} to HTTPS.",
        did,
        (*(str(p) for p in path), "ViewerProtocolPolicy"),
        "redirect-to-https",
    )


def _web_acl_fix(t: Template, did: str) -> SetValues | None:
    """Associate the template's one CloudFront-scope web ACL (unsafe: its rules start blocking
    requests); none when there is not exactly one, or it is conditional."""
    acls = [
        acl
        for acl in t.of_type("AWS::WAFv2::WebACL")
        if not acl.implicit and acl.condition is None and acl.get("Scope") == "CLOUDFRONT"
    ]
    if len(acls) != 1:
        return None
    return set_value(
        Safety.UNSAFE,
        f"Associate web ACL {acls[0].logical_id} with distribution {did}.",
        did,
        ("Properties", "DistributionConfig", "WebACLId"),
        GetAtt(acls[0].logical_id, "Arn"),
    )


def _viewer_certificate(
    t: Template,
    did: str,
    config: Mapping[str, Any],
    base: Path,
    floor: str,
    floor_rank: int,
    declared: bool,
) -> Iterator[Hit]:
    tables = tls_tables()
    fixed = tables.cloudfront_default_certificate
    for branch in values(t, config.get("ViewerCertificate", MISSING)):
        cert = branch.value
        if branch.missing or (isinstance(cert, Mapping) and not cert):
            what = (
                "an empty ViewerCertificate"
                if isinstance(cert, Mapping)
                else ("no ViewerCertificate")
            )
            yield Hit(
                did,
                (*base, "ViewerCertificate"),
                with_note(
                    f"Distribution {did} has {what}, so it serves the default "
                    f"*.cloudfront.net certificate, with which CloudFront fixes the security "
                    f"policy at {fixed} whatever MinimumProtocolVersion says: serve an ACM "
                    f"certificate with MinimumProtocolVersion {floor} or newer",
                    branch,
                ),
                confidence=branch.confidence,
                variant="default-certificate",
            )
            return
        if isinstance(cert, Mapping):
            hit = _certificate_hit(t, did, cert, base, floor, floor_rank, declared, branch)
            if hit is not None:
                yield hit
                return


def _certificate_sources(t: Template, cert: Mapping[str, Any]) -> list[str]:
    """The certificate sources a ViewerCertificate names: an ACM certificate, an IAM server
    certificate, or CloudFrontDefaultCertificate true (a false flag is no source)."""
    sources = [k for k in ("AcmCertificateArn", "IamCertificateId") if k in cert]
    flag = cert.get("CloudFrontDefaultCertificate", MISSING)
    if flag is not MISSING and any(is_true(v) for v in values(t, flag)):
        sources.append("CloudFrontDefaultCertificate")
    return sources


def _certificate_hit(
    t: Template,
    did: str,
    cert: Mapping[str, Any],
    base: Path,
    floor: str,
    floor_rank: int,
    declared: bool,
    branch: Val,
) -> Hit | None:
    tables = tls_tables()
    fixed = tables.cloudfront_default_certificate
    sources = _certificate_sources(t, cert)
    if len(sources) != 1:
        written = ", ".join(str(k) for k in cert if isinstance(k, str))
        problem = (
            f"names no certificate source ({written} but no AcmCertificateArn, IamCertificateId "
            "or CloudFrontDefaultCertificate true)"
            if not sources
            else f"names {len(sources)} certificate sources ({', '.join(sources)})"
        )
        return Hit(
            did,
            (*base, "ViewerCertificate"),
            with_note(
                f"Distribution {did} ViewerCertificate {problem}: CloudFront requires exactly "
                "one, so the distribution does not deploy; name the ACM certificate (with "
                f"SslSupportMethod sni-only and MinimumProtocolVersion {floor} or newer) or "
                "only CloudFrontDefaultCertificate true",
                branch,
            ),
            confidence=branch.confidence,
            variant="no-certificate-source",
        )
    if sources == ["CloudFrontDefaultCertificate"]:
        flag = next(v for v in values(t, cert.get("CloudFrontDefaultCertificate")) if is_true(v))
        return Hit(
            did,
            (*base, "ViewerCertificate", "CloudFrontDefaultCertificate"),
            with_note(
                f"Distribution {did} uses CloudFrontDefaultCertificate, with which CloudFront "
                f"fixes the security policy at {fixed} whatever MinimumProtocolVersion says: "
                f"serve an ACM certificate with MinimumProtocolVersion {floor} or newer",
                branch,
                flag,
            ),
            confidence=lower_confidence(branch.confidence, flag.confidence),
            variant="default-certificate",
        )
    for v in values(t, cert.get("MinimumProtocolVersion", MISSING)):
        name = tables.cloudfront_default if v.missing else v.value
        if not isinstance(name, str):
            continue
        policy = tables.cloudfront.get(name)
        if policy is None or policy.rank >= floor_rank:
            continue
        how = (
            f"leaves MinimumProtocolVersion unset (CloudFront then uses {name})"
            if v.missing
            else f"has MinimumProtocolVersion {name}"
        )
        mine = protocol_version(policy.min) or (0,)
        deprecated = mine < (1, 2)
        # below the protocol version the repository declared (not only its cipher suites)
        breaks_declared = declared and mine < (
            protocol_version(tables.cloudfront[floor].min) or (1, 2)
        )
        below = f"below the declared minimum ({floor})" if breaks_declared else f"below {floor}"
        return Hit(
            did,
            (*base, "ViewerCertificate", "MinimumProtocolVersion"),
            with_note(f"Distribution {did} {how}, {below}: {_weaker(policy, floor)}", v),
            confidence=v.confidence,
            variant="tls-deprecated" if deprecated else "tls-below-floor",
            # a protocol floor the repository declared is a defect to say by default
            persona=Persona.REGULAR if breaks_declared and not deprecated else None,
        )
    return None


def _weaker(policy: TlsPolicy, floor: str) -> str:
    floor_policy = tls_tables().cloudfront[floor]
    mine = protocol_version(policy.min) or (0,)
    wanted = protocol_version(floor_policy.min) or (1, 2)
    if mine < wanted:
        return f"viewers can still connect with {protocol_label(policy.min)}"
    return f"it keeps older cipher suites that {floor} drops"


# -- AR-NET-005 -----------------------------------------------------------------------------------


@template_check("AR-NET-005")
def cloudfront_without_geo_restriction(ctx: TemplateContext) -> Iterator[Yielded]:
    if not ctx.profile.geo_restriction:
        yield NotJudged("the profile does not declare geo_restriction")
        return
    t = ctx.template
    declared: tuple[str, ...] = tuple(
        str(c).upper() for c in getattr(ctx.profile, "geo_countries", ()) or ()
    )
    base: Path = ("Properties", "DistributionConfig", "Restrictions", "GeoRestriction")
    for dist in t.of_type("AWS::CloudFront::Distribution"):
        config = dist.get("DistributionConfig")
        if not isinstance(config, Mapping):
            continue
        did = dist.logical_id
        geo = dist.get("DistributionConfig", "Restrictions", "GeoRestriction")
        if not isinstance(geo, Mapping):
            yield Hit(
                did,
                base,
                f"Distribution {did} has no Restrictions.GeoRestriction, but the profile "
                "declares CloudFront with geographic restrictions: it serves every country",
            )
            continue
        for v in values(t, geo.get("RestrictionType", MISSING)):
            if v.missing or (isinstance(v.value, str) and v.value.lower() == "none"):
                yield Hit(
                    did,
                    (*base, "RestrictionType"),
                    with_note(
                        f"Distribution {did} has GeoRestriction RestrictionType none, but the "
                        "profile declares CloudFront with geographic restrictions",
                        v,
                    ),
                    confidence=v.confidence,
                )
                break
            if declared and v.value == "whitelist":
                locations = resolve(t, geo.get("Locations", MISSING))[0].value
                if isinstance(locations, list):
                    extra = sorted(
                        str(c).upper()
                        for c in locations
                        if isinstance(c, str) and c.upper() not in declared
                    )
                    if extra:
                        yield Hit(
                            did,
                            (*base, "Locations"),
                            f"Distribution {did} allows {', '.join(extra)}, which the profile "
                            f"does not declare (declared: {', '.join(declared)})",
                        )
                        break


# -- AR-NET-006 -----------------------------------------------------------------------------------


@template_check("AR-NET-006")
def ecs_task_with_public_ip(ctx: TemplateContext) -> Iterator[Yielded]:
    """A public address and a public subnet are one cause when both hold (a task is reachable
    from the internet only with both): one finding at AssignPublicIp, the subnet related."""
    if not ctx.profile.private_subnets_behind_lb:
        yield NotJudged("the profile does not declare private_subnets_behind_lb")
        return
    t = ctx.template
    for svc in t.of_type("AWS::ECS::Service", "AWS::ECS::TaskSet"):
        kind = "ECS service" if svc.type == "AWS::ECS::Service" else "ECS task set"
        yield Checked(svc.logical_id)
        cfg, base = awsvpc_configuration(svc)
        if cfg is None:
            continue
        public: tuple[int, SubnetFacts] | None = None
        for i, item in _items(cfg.get("Subnets")):
            facts = subnet_facts(ctx.repo, t, item)
            if facts is not None and facts.public:
                public = (i, facts)
                break
        subnet_related: tuple[Related, ...] = ()
        if public is not None and public[1].template is t:
            subnet_related = (
                Related(public[1].subnet.logical_id, (), "public subnet"),
                Related(svc.logical_id, (*base, "Subnets", public[0]), "placed in it"),
            )
        enabled = next(
            (v for v in values(t, cfg.get("AssignPublicIp", MISSING)) if v.value == "ENABLED"),
            None,
        )
        if enabled is not None:
            where = (
                f" in subnet {public[1].subnet.logical_id}, which has {public[1].reason()}"
                if public is not None
                else ""
            )
            yield Hit(
                svc.logical_id,
                (*base, "AssignPublicIp"),
                with_note(
                    f"{kind} {svc.logical_id} has AssignPublicIp ENABLED{where}: each task gets "
                    "a public address that the internet can reach around the load balancer, "
                    "while the profile declares services in private subnets behind a load "
                    "balancer",
                    enabled,
                ),
                confidence=enabled.confidence,
                related=subnet_related,
                variant="public-ip",
            )
        elif public is not None:
            i, facts = public
            yield Hit(
                svc.logical_id,
                (*base, "Subnets", i),
                f"{kind} {svc.logical_id} places tasks in subnet {facts.subnet.logical_id}, "
                f"which has {facts.reason()}: it is a public subnet, while the profile declares "
                "services in private subnets behind a load balancer (without a public address "
                "the tasks are not reachable from the internet, and they cannot reach it "
                "either: image pulls and AWS API calls need VPC endpoints)",
                confidence=Confidence.MEDIUM,
                related=(Related(facts.subnet.logical_id, (), "subnet"),)
                if facts.template is t
                else (),
                variant="public-subnet",
            )


CHECKS: tuple[Check, ...] = (
    datastore_reachable_from_internet,
    security_group_open_to_world,
    lambda_outside_vpc_of_store,
    cloudfront_weak_viewer_tls_or_no_waf,
    cloudfront_without_geo_restriction,
    ecs_task_with_public_ip,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
