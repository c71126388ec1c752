"""Live mode (`scan --aws`): read deployed CloudFormation stacks, and match them with the
repository's templates for the drift rules (AR-DRF-*).

This is the only module that imports boto3/botocore, and it imports them only when `fetch` runs,
so a scan without --aws never loads them. It is read-only: ListStacks (paginated, live statuses
only), DescribeStacks (parameter values), GetTemplate with TemplateStage=Processed (real AWS
returns SAM expanded; moto returns it as written: the SAM model handles both) and
ListStackResources (paginated; DescribeStackResources stops at 100).

Credentials come from boto3's standard chain (or --aws-profile) and never appear in a message:
errors are reported by their AWS error code and operation, never by AWS's message text, and
every message is scrubbed of the credential values as a second guard. See
docs/adr/0002-live-aws-review.md.
"""

from __future__ import annotations

import json
import os
import posixpath
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.checks.drf import LiveFacts, LiveStack

if TYPE_CHECKING:
    from reviewer.model.repo import RepoIndex

ENDPOINT_ENV = "ARCHREVIEW_AWS_ENDPOINT_URL"  # tests point boto3 at moto (or a proxy) with this
PERMISSIONS = (
    "cloudformation:ListStacks",
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplate",
    "cloudformation:ListStackResources",
)
# Statuses of stacks that are not reviewed: gone, being deleted, never executed (a change set
# under review), or a failed creation whose resources were all rolled back.
NOT_LIVE = frozenset(
    {"DELETE_COMPLETE", "DELETE_IN_PROGRESS", "REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE"}
)
CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidSignatureException",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidAccessKeyId",
        "AuthFailure",
        "MissingAuthenticationToken",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
    }
)
NO_CREDENTIALS = (
    "no AWS credentials found: --aws uses the standard boto3 chain (environment variables, "
    "~/.aws/credentials or config, --aws-profile, SSO, container or instance roles)"
)


@dataclass(frozen=True)
class AwsOptions:
    regions: tuple[str, ...] = ()  # default: the profile's / environment's region
    stacks: tuple[str, ...] = ()  # only these stack names (default: every live stack)
    profile: str | None = None  # a named AWS profile (default: the standard chain)
    endpoint_url: str | None = None  # tests only (moto, the fault proxy); else ENDPOINT_ENV
    stack_map: Mapping[str, str] = field(default_factory=dict)  # repo template -> stack name
    max_attempts: int = 8  # per call in all, adaptive retry mode (throttling backs off, retries)


class AwsUsageError(Exception):
    """No credentials, credentials refused, unknown profile, no region: exit 2."""


class AwsFailure(Exception):
    """AWS could not be reached at all: the scan itself failed (exit 3)."""


@dataclass(frozen=True)
class DeployedStack:
    region: str
    name: str
    stack_id: str
    status: str
    text: str  # the processed template (JSON re-serialised when the API returned a mapping)
    is_json: bool
    parameters: Mapping[str, str]  # NoEcho values ("****") left out
    resources: Mapping[str, str]  # ListStackResources: logical id -> type

    @property
    def file(self) -> str:
        return f"aws://{self.region}/{self.name}"

    @property
    def module(self) -> str:
        return f"aws://{self.region}"


@dataclass(frozen=True)
class Unreviewed:
    """A stack (or a whole region) that could not be read: AR-MOD-006, and the scan goes on."""

    file: str
    module: str
    message: str


@dataclass(frozen=True)
class Fetched:
    stacks: tuple[DeployedStack, ...] = ()
    unreviewed: tuple[Unreviewed, ...] = ()


class _CallFailed(Exception):
    def __init__(self, operation: str, code: str, attempts: int) -> None:
        super().__init__(f"{operation}: {code}")
        self.operation = operation
        self.code = code
        self.attempts = attempts


class _Scrub:
    """Removes credential values from a message (a second guard: messages are built from error
    codes and names, never from AWS's message text)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self.secrets = tuple(s for s in secrets if s and len(s) >= 4)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return text


# -- fetching ---------------------------------------------------------------------------------


def fetch(options: AwsOptions) -> Fetched:
    """Every live stack (or the named ones) of each region, with its processed template,
    parameters and resource listing."""
    import boto3  # type: ignore[import-untyped,unused-ignore]
    from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        BotoCoreError,
        ProfileNotFound,
    )

    try:
        session: Any = boto3.Session(profile_name=options.profile)
    except ProfileNotFound:
        raise AwsUsageError(f"the AWS profile {options.profile!r} is not configured") from None
    try:
        credentials: Any = session.get_credentials()
        frozen: Any = credentials.get_frozen_credentials() if credentials is not None else None
    except BotoCoreError as err:
        raise AwsUsageError(f"could not load AWS credentials ({type(err).__name__})") from None
    if frozen is None or not frozen.access_key:
        raise AwsUsageError(NO_CREDENTIALS)
    scrub = _Scrub((frozen.access_key, frozen.secret_key, frozen.token))
    regions = tuple(dict.fromkeys(options.regions)) or (
        (session.region_name,) if session.region_name else ()
    )
    if not regions:
        raise AwsUsageError(
            "no AWS region: pass --region, or set AWS_REGION or a region in the AWS profile"
        )
    config = client_config(options)
    endpoint = options.endpoint_url or os.environ.get(ENDPOINT_ENV) or None
    stacks: list[DeployedStack] = []
    gone: list[Unreviewed] = []
    seen: set[str] = set()
    for region in regions:
        client: Any = session.client(
            "cloudformation", region_name=region, endpoint_url=endpoint, config=config
        )
        _review_region(client, region, options.stacks, stacks, gone, seen, scrub)
    for name in options.stacks:
        if name not in seen:
            gone.append(
                Unreviewed(
                    f"aws://{regions[0]}/{name}",
                    f"aws://{regions[0]}",
                    scrub(
                        f"aws://{regions[0]}/{name} was not reviewed: no live stack named "
                        f"{name} in {', '.join(regions)}"
                    ),
                )
            )
    return Fetched(tuple(stacks), tuple(gone))


def client_config(options: AwsOptions) -> Any:
    """botocore's adaptive retry mode: throttled calls back off, the client rate-limits itself,
    and each call is tried at most `max_attempts` times in all."""
    from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

    return Config(
        retries={"mode": "adaptive", "total_max_attempts": options.max_attempts},
        connect_timeout=10,
        read_timeout=60,
        user_agent_appid="archreview",
    )


def _guard(
    region: str, operation: str, scrub: _Scrub, call: Callable[..., Any], **kwargs: Any
) -> Any:
    """Run one API call (with its pagination); turn botocore's errors into ours."""
    from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )
    from botocore.parsers import ResponseParserError  # type: ignore[import-untyped,unused-ignore]

    try:
        return call(**kwargs)
    except ClientError as err:
        response: Any = getattr(err, "response", None) or {}
        code = str(response.get("Error", {}).get("Code") or "Unknown")
        attempts = int(response.get("ResponseMetadata", {}).get("RetryAttempts") or 0) + 1
        if code in CREDENTIAL_CODES:
            raise AwsUsageError(
                scrub(f"AWS refused the credentials ({code}) for cloudformation:{operation}")
            ) from None
        raise _CallFailed(operation, code, attempts) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise AwsUsageError(NO_CREDENTIALS) from None
    except (BotoCoreError, ResponseParserError) as err:  # the latter: a reply that is not XML
        raise AwsFailure(
            scrub(f"cloudformation:{operation} in {region} failed ({type(err).__name__})")
        ) from None


def _why(err: _CallFailed) -> str:
    op = f"cloudformation:{err.operation}"
    if err.code in DENIED_CODES:
        return f"access denied to {op} ({err.code}); it needs read-only {', '.join(PERMISSIONS)}"
    if err.code in THROTTLE_CODES:
        return f"{op} was still throttled after {err.attempts} attempts ({err.code})"
    return f"{op} failed ({err.code})"


def _review_region(
    client: Any,
    region: str,
    names: tuple[str, ...],
    stacks: list[DeployedStack],
    gone: list[Unreviewed],
    seen: set[str],
    scrub: _Scrub,
) -> None:
    module = f"aws://{region}"
    try:
        summaries = _guard(region, "ListStacks", scrub, _live_stacks, client=client)
    except _CallFailed as err:
        gone.append(Unreviewed(module, module, scrub(f"{module} was not reviewed: {_why(err)}")))
        return
    for summary in summaries:
        name = str(summary.get("StackName", ""))
        stack_id = str(summary.get("StackId") or name)
        if not name or (names and name not in names and stack_id not in names):
            continue
        seen.add(name)
        file = f"aws://{region}/{name}"
        try:
            text, is_json = _template(client, region, stack_id, scrub)
            described = _guard(
                region, "DescribeStacks", scrub, client.describe_stacks, StackName=stack_id
            )
            listing = _guard(
                region,
                "ListStackResources",
                scrub,
                _stack_resources,
                client=client,
                stack_id=stack_id,
            )
        except _CallFailed as err:
            gone.append(Unreviewed(file, module, scrub(f"{file} was not reviewed: {_why(err)}")))
            continue
        described_stacks = described.get("Stacks") or [{}]
        stacks.append(
            DeployedStack(
                region=region,
                name=name,
                stack_id=stack_id,
                status=str(summary.get("StackStatus", "")),
                text=text,
                is_json=is_json,
                parameters=_parameters(described_stacks[0].get("Parameters") or ()),
                resources=listing,
            )
        )


def _live_stacks(client: Any) -> list[Mapping[str, Any]]:
    statuses = sorted(set(client.meta.service_model.shape_for("StackStatus").enum or ()) - NOT_LIVE)
    out: list[Mapping[str, Any]] = []
    paginator = client.get_paginator("list_stacks")
    for page in paginator.paginate(StackStatusFilter=statuses):
        for summary in page.get("StackSummaries") or ():
            if summary.get("StackStatus") not in NOT_LIVE:
                out.append(summary)
    out.sort(key=lambda s: str(s.get("StackName", "")))
    return out


def _stack_resources(client: Any, stack_id: str) -> dict[str, str]:
    out: dict[str, str] = {}
    paginator = client.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_id):
        for item in page.get("StackResourceSummaries") or ():
            logical_id = item.get("LogicalResourceId")
            if logical_id:  # moto lists the types it does not model with an empty id
                out[str(logical_id)] = str(item.get("ResourceType") or "")
    return out


def _template(client: Any, region: str, stack_id: str, scrub: _Scrub) -> tuple[str, bool]:
    try:
        response = _guard(
            region,
            "GetTemplate",
            scrub,
            lambda: client.get_template(StackName=stack_id, TemplateStage="Processed"),
        )
    except _CallFailed as err:
        if err.code != "ValidationError":  # no processed stage: the original is all there is
            raise
        response = _guard(
            region,
            "GetTemplate",
            scrub,
            lambda: client.get_template(StackName=stack_id, TemplateStage="Original"),
        )
    body = response.get("TemplateBody")
    if isinstance(body, Mapping):  # botocore decodes JSON bodies
        return json.dumps(body, indent=2) + "\n", True
    if isinstance(body, str) and body.strip():
        return body, body.lstrip().startswith("{")
    raise _CallFailed("GetTemplate", "EmptyTemplate", 1)


def _parameters(items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key = item.get("ParameterKey")
        value = item.get("ResolvedValue", item.get("ParameterValue"))
        if isinstance(key, str) and isinstance(value, str) and value != "****":
            out[key] = value
    return out


# -- matching repository templates with deployed stacks ----------------------------------------


def attach(
    repo: RepoIndex,
    live: RepoIndex,
    fetched: Fetched,
    options: AwsOptions,
    sam_env: str | None = None,
    max_bytes: int = 5_000_000,
) -> None:
    """Record on live.cache["aws"] (the index of the deployed templates) every deployed stack
    with the repository template it is matched with (see `stack_names`)."""
    wanted = stack_names(repo, options.stack_map, sam_env, max_bytes)
    rank = {"mapping": 0, "samconfig": 1, "name": 2}
    by_name: dict[str, tuple[str, str]] = {}
    for file, (name, how) in sorted(wanted.items(), key=lambda kv: (rank[kv[1][1]], kv[0])):
        by_name.setdefault(name, (file, how))
    stacks: dict[str, LiveStack] = {}
    for stack in fetched.stacks:
        match = by_name.get(stack.name)
        stacks[stack.file] = LiveStack(
            file=stack.file,
            region=stack.region,
            name=stack.name,
            resources=dict(stack.resources),
            parameters=dict(stack.parameters),
            repo_file=match[0] if match else None,
            matched_by=match[1] if match else None,
        )
    from reviewer.checks import CHECKS  # AR-DRF-004 runs them on both sides of each pair

    live.cache["aws"] = LiveFacts(stacks, repo, CHECKS)


def stack_names(
    repo: RepoIndex,
    stack_map: Mapping[str, str] | None = None,
    sam_env: str | None = None,
    max_bytes: int = 5_000_000,
) -> dict[str, tuple[str, str]]:
    """The stack name each repository template is deployed as, and why: an explicit mapping;
    else `stack_name` in the samconfig.toml of the template's folder (for the template it deploys:
    its `template_file`, else template.yaml/.yml/.json, else the folder's only template); else
    the template's own name — the folder's name for a template named template.*, the file's
    stem otherwise."""
    from reviewer.discover.inventory import read_text

    files = sorted(f for f in repo.templates if not f.startswith("aws://"))
    by_folder: dict[str, list[str]] = {}
    for file in files:
        by_folder.setdefault(posixpath.dirname(file), []).append(file)
    from_samconfig: dict[str, str] = {}
    for source in repo.inventory.files:
        if source.kind != "samconfig":
            continue
        text = read_text(repo.inventory.root, source.path, max_bytes)
        if not isinstance(text, str):
            continue
        folder = posixpath.dirname(source.path)
        name, template_file = samconfig_stack(text, sam_env)
        if not name:
            continue
        siblings = by_folder.get(folder, [])
        if template_file:
            target = posixpath.normpath(posixpath.join(folder, template_file))
            chosen = [target] if target in siblings else []
        else:
            chosen = [f for f in siblings if posixpath.basename(f).startswith("template.")]
            if not chosen and len(siblings) == 1:
                chosen = siblings
        for file in chosen[:1]:
            from_samconfig[file] = name
    out: dict[str, tuple[str, str]] = {}
    for file in files:
        if stack_map and file in stack_map:
            out[file] = (stack_map[file], "mapping")
        elif file in from_samconfig:
            out[file] = (from_samconfig[file], "samconfig")
        else:
            out[file] = (_own_name(file, repo.inventory.root.name), "name")
    return out


def _own_name(file: str, root_name: str) -> str:
    folder, base = posixpath.split(file)
    stem = base.rsplit(".", 1)[0]
    if stem == "template":
        return posixpath.basename(folder) if folder else root_name
    return stem


def samconfig_stack(text: str, sam_env: str | None = None) -> tuple[str | None, str | None]:
    """(stack_name, template_file) of a samconfig.toml environment (default: "default"),
    from its deploy parameters, else its global parameters."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):  # RecursionError: nested too deep
        return None, None
    env = data.get(sam_env or "default")
    if not isinstance(env, dict):
        return None, None
    name: str | None = None
    template: str | None = None
    for command in ("deploy", "global"):
        section = env.get(command)
        params = section.get("parameters") if isinstance(section, dict) else None
        if not isinstance(params, dict):
            continue
        if name is None and isinstance(params.get("stack_name"), str):
            name = params["stack_name"]
        for key in ("template_file", "template"):
            if template is None and isinstance(params.get(key), str):
                template = params[key]
    return name, template
