"""IDN: identity (Cognito user pools and clients)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from reviewer.checks.facts import property_hits
from reviewer.checks.iam import Leaf, branches, lowest, nested, when
from reviewer.checks.registry import Check, TemplateContext, Yielded, template_check
from reviewer.core.fixes import Safety, Setting, SetValues
from reviewer.core.types import Confidence, Hit, Related, Severity
from reviewer.model.resolve import number, truthy
from reviewer.model.template import MISSING, Resource, Template

POOL = "AWS::Cognito::UserPool"
CLIENT = "AWS::Cognito::UserPoolClient"


def _upper(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) else None


def _note(leaf: Leaf) -> str:
    return when(leaf.conditions) + (" (from a parameter default)" if leaf.assumed else "")


# -- AR-IDN-001 ----------------------------------------------------------------------------------

IDENTITY_POOL = "AWS::Cognito::IdentityPool"


def credential_pools(t: Template) -> dict[str, str]:
    """User pools whose sign-in an identity pool of the template exchanges for AWS
    credentials (listed in its CognitoIdentityProviders, directly or through one of their app
    clients): user pool logical id -> identity pool logical id."""
    client_pool: dict[str, str] = {}
    for client in t.of_type(CLIENT):
        for edge in t.outgoing(client.logical_id):
            target = t.get(edge.target)
            if (
                edge.path[:2] == ("Properties", "UserPoolId")
                and target is not None
                and target.type == POOL
            ):
                client_pool[client.logical_id] = target.logical_id
    out: dict[str, str] = {}
    for ip in t.of_type(IDENTITY_POOL):
        for edge in t.outgoing(ip.logical_id):
            if edge.path[:2] != ("Properties", "CognitoIdentityProviders"):
                continue
            target = t.get(edge.target)
            if target is None:
                continue
            pool = target.logical_id if target.type == POOL else client_pool.get(edge.target)
            if pool is not None:
                out.setdefault(pool, ip.logical_id)
    return out


@template_check("AR-IDN-001")
def pool_without_mfa(ctx: TemplateContext) -> Iterator[Yielded]:
    """MFA is the pool owner's decision (auditor) unless the pool's sign-in yields AWS
    credentials through an identity pool: then a password alone opens the AWS account to
    whoever guesses or steals it (regular)."""
    t = ctx.template
    exchanged = credential_pools(t)
    for pool in t.of_type(POOL):
        identity_pool = exchanged.get(pool.logical_id)
        leaves = nested(t, pool, "MfaConfiguration")
        if not leaves:
            leaves = [Leaf("OFF", ("Properties", "MfaConfiguration"))]
        for leaf in leaves:
            hit = _mfa_mode(pool, leaf, identity_pool, not pool.has("MfaConfiguration"))
            if hit is not None:
                yield hit


def _mfa_mode(pool: Resource, leaf: Leaf, identity_pool: str | None, unset: bool) -> Hit | None:
    """The finding on one possible MfaConfiguration (None for ON or an unresolvable value)."""
    name = pool.logical_id
    mode = _upper(leaf.value)
    if mode not in ("OFF", "OPTIONAL"):
        return None
    if identity_pool is not None:
        effect = (
            f"and identity pool {identity_pool} exchanges that sign-in for AWS credentials, so "
            "a stolen or guessed password is enough to act in the AWS account"
        )
        related: tuple[Related, ...] = (Related(identity_pool, (), "identity pool"),)
    else:
        effect = "a stolen or guessed password is enough to sign in"
        related = ()
    if mode == "OFF":
        state = (
            "sets no MfaConfiguration, so MFA is OFF"
            if unset
            else f"has MfaConfiguration OFF{_note(leaf)}"
        )
        return Hit(
            name,
            leaf.path,
            f"User pool {name} {state}: {effect}"
            if identity_pool is None
            else f"User pool {name} {state}, {effect}",
            confidence=leaf.confidence,
            variant="credentials" if identity_pool is not None else "mfa-off",
            related=related,
        )
    return Hit(
        name,
        leaf.path,
        f"User pool {name} has MfaConfiguration OPTIONAL{_note(leaf)}: only users who chose "
        "to enrol a second factor are protected"
        + (
            f", and identity pool {identity_pool} exchanges a password-only sign-in for AWS "
            "credentials"
            if identity_pool is not None
            else ""
        ),
        severity=Severity.MEDIUM if identity_pool is not None else None,
        confidence=leaf.confidence,
        variant="credentials" if identity_pool is not None else "mfa-optional",
        related=related,
    )


# -- AR-IDN-002 ----------------------------------------------------------------------------------

MIN_LENGTH = 12  # OWASP ASVS (V2.1.1) recommends at least 12 characters
FLOOR_LENGTH = 8  # NIST SP 800-63B's minimum, and Cognito's default
CLASSES = ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
_ASVS = f"shorter than the {MIN_LENGTH} characters OWASP ASVS recommends"


@template_check("AR-IDN-002")
def weak_password_policy(ctx: TemplateContext) -> Iterator[Yielded]:
    """One finding per pool (and Fn::If branch of its policy): the length and the character
    classes are one policy, so a short minimum and missing classes are one cause, the
    second a related location."""
    t = ctx.template
    for pool in t.of_type(POOL):
        name = pool.logical_id
        policies = nested(t, pool, "Policies", "PasswordPolicy")
        if not policies:
            policies = [Leaf(MISSING, ("Properties", "Policies", "PasswordPolicy"))]
        for policy in policies:
            if not isinstance(policy.value, dict):
                if policy.value is MISSING:
                    yield Hit(
                        name,
                        policy.path,
                        f"User pool {name} sets no Policies.PasswordPolicy{_note(policy)}: "
                        f"Cognito's default policy accepts {FLOOR_LENGTH}-character passwords, "
                        f"{_ASVS}",
                        confidence=policy.confidence,
                        variant="weak-policy",
                        fix=_password_fix(name, policy, True),
                    )
                continue
            length = list(_length(t, name, policy))
            classes = list(_classes(t, name, policy))
            fix = _password_fix(name, policy, bool(length))
            for hit in length or classes[:1]:
                if not length:
                    yield replace(hit, fix=fix)
                    continue
                also = classes[0] if classes else None
                if also is None:
                    yield replace(hit, fix=fix)
                    continue
                yield replace(
                    hit,
                    message=f"{hit.message}; it also {also.message.split(' PasswordPolicy ', 1)[1]}",
                    confidence=lowest(hit.confidence, also.confidence),
                    related=(Related(name, also.path, "character classes"),),
                    fix=fix,
                )


_POLICY_PATH = ("Properties", "Policies", "PasswordPolicy")


def _password_fix(name: str, policy: Leaf, length: bool) -> SetValues | None:
    """A MinimumLength of 12 (when it is shorter or unset) and all four character classes
    (unsafe: every new or changed password must meet it); none for a policy chosen by a
    condition or a parameter (a value from one is not replaced either)."""
    if policy.conditions or policy.assumed or policy.path != _POLICY_PATH:
        return None
    settings = [Setting((*_POLICY_PATH, "MinimumLength"), MIN_LENGTH)] if length else []
    settings += [Setting((*_POLICY_PATH, cls), True) for cls in CLASSES]
    return SetValues(
        Safety.UNSAFE,
        f"Require passwords of {MIN_LENGTH} characters or more with all four character classes "
        f"in user pool {name}.",
        name,
        tuple(settings),
    )


def _length(t: Template, name: str, policy: Leaf) -> Iterator[Hit]:
    assert isinstance(policy.value, dict)
    node = policy.value.get("MinimumLength", MISSING)
    if node is MISSING:
        yield Hit(
            name,
            (*policy.path, "MinimumLength"),
            f"User pool {name} PasswordPolicy sets no MinimumLength{_note(policy)}: Cognito "
            f"uses {FLOOR_LENGTH}, {_ASVS}",
            confidence=policy.confidence,
            variant="weak-policy",
        )
        return
    for leaf in branches(
        t, node, (*policy.path, "MinimumLength"), policy.conditions, policy.assumed
    ):
        length = number(leaf.value)
        if length is None or length >= MIN_LENGTH:
            continue
        if length < FLOOR_LENGTH:
            yield Hit(
                name,
                leaf.path,
                f"User pool {name} PasswordPolicy MinimumLength is {length:g}{_note(leaf)}: "
                f"passwords that short fall to online guessing (NIST SP 800-63B sets "
                f"{FLOOR_LENGTH} as the floor, OWASP ASVS recommends {MIN_LENGTH})",
                confidence=leaf.confidence,
                variant="very-short",
            )
        else:
            yield Hit(
                name,
                leaf.path,
                f"User pool {name} PasswordPolicy MinimumLength is {length:g}{_note(leaf)}, "
                f"{_ASVS}",
                confidence=leaf.confidence,
                variant="weak-policy",
            )


def _classes(t: Template, name: str, policy: Leaf) -> Iterator[Hit]:
    assert isinstance(policy.value, dict)
    weak: list[str] = []
    first_false: Leaf | None = None
    conf: Confidence | None = policy.confidence
    conds: list[str] = list(policy.conditions)
    for cls in CLASSES:
        node = policy.value.get(cls, MISSING)
        if node is MISSING:
            weak.append(f"{cls} not set (false)")
            continue
        for leaf in branches(t, node, (*policy.path, cls), policy.conditions, policy.assumed):
            if truthy(leaf.value) is False:
                weak.append(f"{cls} false")
                first_false = first_false or leaf
                conf = lowest(conf, leaf.confidence)
                conds.extend(leaf.conditions)
                break
    if not weak:
        return
    path = first_false.path if first_false is not None else policy.path
    yield Hit(
        name,
        path,
        f"User pool {name} PasswordPolicy does not require all four character classes"
        f"{when(conds)}: {', '.join(weak)}",
        confidence=conf,
        variant="weak-policy",
    )


# -- AR-IDN-003 ----------------------------------------------------------------------------------


@template_check("AR-IDN-003")
def pool_without_threat_protection(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for pool in t.of_type(POOL):
        name = pool.logical_id
        tiers = nested(t, pool, "UserPoolTier")
        modes = nested(t, pool, "UserPoolAddOns", "AdvancedSecurityMode")
        if not modes:
            modes = [Leaf(MISSING, ("Properties", "UserPoolAddOns", "AdvancedSecurityMode"))]
        for mode_leaf in modes:
            mode = _upper(mode_leaf.value)
            if mode == "ENFORCED":
                yield from _enforced_without_plus(name, mode_leaf, tiers)
                continue
            if mode_leaf.value is not MISSING and mode is None:
                continue  # unresolvable: no guess
            state = {
                None: "sets no UserPoolAddOns.AdvancedSecurityMode (threat protection off)",
                "OFF": "has AdvancedSecurityMode OFF",
                "AUDIT": "has AdvancedSecurityMode AUDIT, which only logs risky sign-ins",
            }.get(mode, f"has AdvancedSecurityMode {mode}")
            undeployable = mode == "AUDIT" and not _plus(tiers)
            if undeployable:
                state += (
                    " (AUDIT also needs UserPoolTier PLUS, which is not set: the stack fails "
                    "to deploy as written)"
                )
            yield Hit(
                name,
                mode_leaf.path,
                f"User pool {name} {state}{_note(mode_leaf)}: compromised credentials and "
                "account-takeover attempts are not blocked",
                confidence=mode_leaf.confidence,
                variant="fails-to-deploy" if undeployable else "not-enforced",
            )


def _plus(tiers: list[Leaf]) -> bool:
    """True when every possible tier is PLUS or cannot be resolved (no guess)."""
    return bool(tiers) and all(_upper(t.value) in ("PLUS", None) for t in tiers)


def _enforced_without_plus(name: str, mode: Leaf, tiers: list[Leaf]) -> Iterator[Hit]:
    if not tiers:
        tiers = [Leaf(None, ("Properties", "UserPoolTier"))]
    for tier in tiers:
        value = _upper(tier.value)
        if value == "PLUS" or (value is None and tier.value is not None):
            continue  # PLUS, or an unresolvable tier: no guess
        shown = f"UserPoolTier {value}" if value else "no UserPoolTier (ESSENTIALS by default)"
        yield Hit(
            name,
            mode.path,
            f"User pool {name} sets AdvancedSecurityMode ENFORCED with {shown}"
            f"{when((*mode.conditions, *tier.conditions))}: threat protection needs the PLUS "
            "feature plan, so the stack fails to deploy as written (set UserPoolTier: PLUS)",
            confidence=lowest(mode.confidence, tier.confidence),
            related=(Related(name, tier.path, "UserPoolTier"),),
            variant="fails-to-deploy",
        )
        return


# -- AR-IDN-004 ----------------------------------------------------------------------------------

MAX_REFRESH_DAYS = 30.0
_UNIT_DAYS = {"seconds": 1 / 86400, "minutes": 1 / 1440, "hours": 1 / 24, "days": 1.0}


@template_check("AR-IDN-004")
def client_enumeration_and_refresh(ctx: TemplateContext) -> Iterator[Yielded]:
    t = ctx.template
    for client in t.of_type(CLIENT):
        for hit in property_hits(
            t,
            client,
            "PreventUserExistenceErrors",
            f"User pool client {client.logical_id} sets no PreventUserExistenceErrors (LEGACY): "
            "sign-in and password-reset errors tell an attacker which user names exist",
            nested,
            _existence_errors,
        ):
            certain = hit.path == _EXISTENCE_PATH and hit.confidence in (None, Confidence.HIGH)
            yield replace(
                hit, variant="existence-errors", fix=_existence_fix(client) if certain else None
            )
        yield from _refresh(t, client)


_EXISTENCE_PATH = ("Properties", "PreventUserExistenceErrors")


def _existence_fix(client: Resource) -> SetValues:
    """ENABLED (unsafe: a client that tells "no such user" apart from "wrong password" gets
    one generic error for both)."""
    return SetValues(
        Safety.UNSAFE,
        f"Set PreventUserExistenceErrors of user pool client {client.logical_id} to ENABLED.",
        client.logical_id,
        (Setting(_EXISTENCE_PATH, "ENABLED"),),
    )


def _existence_errors(client: Resource, leaf: Leaf) -> Hit | None:
    """The finding on one possible PreventUserExistenceErrors other than ENABLED."""
    value = _upper(leaf.value)
    if value is None or value == "ENABLED":
        return None
    return Hit(
        client.logical_id,
        leaf.path,
        f"User pool client {client.logical_id} has PreventUserExistenceErrors {value}"
        f"{_note(leaf)}: sign-in and password-reset errors tell an attacker "
        "which user names exist",
        confidence=leaf.confidence,
    )


def _refresh(t: Template, client: Resource) -> Iterator[Hit]:
    name = client.logical_id
    units = nested(t, client, "TokenValidityUnits", "RefreshToken")
    if not units:
        units = [Leaf("days", ("Properties", "TokenValidityUnits", "RefreshToken"))]
    for validity in nested(t, client, "RefreshTokenValidity"):
        amount = number(validity.value)
        if amount is None:
            continue
        for unit in units:
            unit_name = unit.value.lower() if isinstance(unit.value, str) else "days"
            factor = _UNIT_DAYS.get(unit_name)
            if factor is None:
                continue
            days = amount * factor
            if days <= MAX_REFRESH_DAYS:
                continue
            yield Hit(
                name,
                validity.path,
                f"User pool client {name} issues refresh tokens valid for {amount:g} "
                f"{unit_name}{'' if unit_name == 'days' else f' ({days:.1f} days)'}"
                f"{when((*validity.conditions, *unit.conditions))}, "
                f"over {MAX_REFRESH_DAYS:g} days: a stolen refresh token keeps working that long",
                confidence=lowest(validity.confidence, unit.confidence),
                variant="long-refresh",
            )
            return


CHECKS: tuple[Check, ...] = (
    pool_without_mfa,
    weak_password_policy,
    pool_without_threat_protection,
    client_enumeration_and_refresh,
)

# Rules of this layer whose check is not built yet (their YAML exists in rules/).
PLANNED: frozenset[str] = frozenset()
