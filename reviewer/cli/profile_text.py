"""The profile `archreview init` writes: every schema key documented, commented out, with the
Chariot preset's values as examples and the rules that read each key (from the catalogue, which
is why it is written here and not by reviewer.profile.document, which the checks build on)."""

from __future__ import annotations

from typing import Any

from reviewer.checks.catalogue import load_catalogue
from reviewer.profile.document import architecture_document, join_notes, preset, render_yaml

SCHEMA_NOTES: dict[str, str] = {
    "extends": "a preset the profile is laid over: chariot (the Chariot platform's declared "
    "architecture) or baseline (declares nothing; the default)",
    "stack.go.version": "the newer of each go.mod's go and toolchain lines is compared with it",
    "stack.go.required_modules": "declared frameworks and the AWS SDK",
    "stack.go.forbidden_modules": "frameworks competing with the declared ones",
    "stack.node.packages": "package -> npm range ('*': declared, any version)",
    "stack.node.forbidden_packages": "packages competing with the declared ones",
    "layers": "the five security layers; identity is L3 (the IDN and IAM rules)",
    "layers.api.authorizer_kinds": "of COGNITO_USER_POOLS, JWT, TOKEN, REQUEST, AWS_IAM",
    "layers.data.tls_minimum": "the enforced floor; tls_preferred is recorded, not enforced",
    "events.visibility_timeout_s": "AR-EVT-003 judges visibility against 6 x function timeout",
    "sizing.classes": "memory_mb / timeout_s; patterns match logical ids and FunctionNames "
    "(never resources a generator made)",
    "persona": "what is worth saying: regular (defects with a consequence, the default), "
    "pedantic (also hygiene), auditor (also prompts to record a decision)",
    "rules": "per rule: enabled, severity, persona (moves the rule to another persona)",
    "exclude": "paths not reviewed (globs, as in .gitignore); --exclude adds to them",
    "suppressions": "path + id + reason (+ until, subject); no reason or past until: AR-MOD-004",
    "modules": "module path glob -> what those modules declare for themselves (any key of "
    "stack, layers, events, sizing, dynamodb, platform, and extends)",
}


def _rules_by_key() -> dict[str, list[str]]:
    """Which rules read which profile key (their YAML's profile.requires / tunes)."""

    out: dict[str, list[str]] = {}
    for rid, meta in sorted(load_catalogue().items()):
        for key in meta.profile_keys:
            out.setdefault(key, []).append(rid)
    return out


def _commented(text: str) -> str:
    """Every line of a YAML text behind a "#" (what `init` documents but does not declare):
    removing the first "#" of each line gives the YAML back, its notes still comments."""
    return "".join(f"#{line}\n" for line in text.splitlines())


def default_profile_text() -> str:
    """`archreview init`: a profile that declares nothing (the repository is reviewed against
    the built-in baseline) and documents every key, commented out, with the Chariot preset's
    values as examples."""
    notes: dict[str, str] = dict(SCHEMA_NOTES)
    for key, rules in _rules_by_key().items():
        notes[key] = join_notes(notes.get(key), f"read by {', '.join(rules)}")
    header = [
        "archreview profile: the architecture this repository declares, which the review holds",
        "it to. Written by `archreview init`. It declares nothing yet: the review uses the",
        "built-in baseline (generic AWS good practice; rules that need a declaration do not",
        "run). Uncomment (remove the first '#' of) what the repository declares, or just",
        "`extends: chariot` for the whole Chariot platform preset; the values shown are that",
        "preset's. Unknown keys and wrong types are errors (exit 2). `archreview profile show`",
        "prints the effective profile.",
    ]
    example = preset("chariot")
    doc: dict[str, Any] = {"extends": "chariot"}
    doc.update(architecture_document(example, example.declared_keys()))
    # the one key the preset leaves out: 6 x its longest class timeout (900 s)
    doc["events"] = {**doc["events"], "visibility_timeout_s": 5400}
    doc["persona"] = "regular"
    doc["rules"] = {"AR-OBS-003": {"persona": "regular", "severity": "low", "enabled": True}}
    doc["exclude"] = ["legacy/**", "examples/**"]
    doc["modules"] = {"apps/*": {"stack": {"node": {"packages": {"react": "18.3.1"}}}}}
    body = _commented(render_yaml(doc, notes))
    return render_yaml({"version": 1}, {}, header) + body
