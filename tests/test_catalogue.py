"""The registration list, rules/*.yaml, the spec catalogue and the fixtures agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewer.checks.catalogue import ID_RE, load_catalogue
from reviewer.runner.engine import all_checks

from .conftest import FIXTURES, ROOT, SHARED


def _spec_ids() -> set[str]:
    text = (SHARED / "spec" / "rules.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| (AR-[A-Z]{3}-\d{3}) \|", text, flags=re.M))


def test_registered_ids_are_unique_and_well_formed() -> None:
    ids = [c.rule_id for c in all_checks()]
    assert len(ids) == len(set(ids))
    assert all(ID_RE.match(i) for i in ids)


def test_every_registered_rule_has_metadata_and_adr_text() -> None:
    catalogue = load_catalogue()
    for check in all_checks():
        meta = catalogue.get(check.rule_id)
        assert meta is not None, f"{check.rule_id} has no rules/{check.rule_id}.yaml"
        assert meta.layer == check.rule_id.split("-")[1]
        assert meta.context
        assert meta.decision
        assert meta.consequences
        assert meta.references, f"{check.rule_id} has no references"
        assert all(r.url.startswith("https://") for r in meta.references)


def test_every_rule_yaml_is_registered() -> None:
    from reviewer.checks import PLANNED

    registered = {c.rule_id for c in all_checks()}
    unregistered = set(load_catalogue()) - registered
    assert unregistered == set(PLANNED), (
        "rules/ YAML without a check must be listed in reviewer.checks.PLANNED: "
        f"{sorted(unregistered ^ set(PLANNED))}"
    )
    assert not registered & set(PLANNED)


def test_registered_ids_are_in_the_spec_catalogue() -> None:
    from .conftest import require_shared

    require_shared("spec", "rules.md")
    spec = _spec_ids()
    assert len(spec) > 70
    extra = {c.rule_id for c in all_checks()} - spec
    assert not extra, f"registered but not in shared/spec/rules.md: {sorted(extra)}"


def test_every_registered_rule_has_fixtures_and_cases() -> None:
    catalogue = load_catalogue()
    for check in all_checks():
        meta = catalogue[check.rule_id]
        assert meta.cases, f"{check.rule_id}: rules/{check.rule_id}.yaml lists no cases"
        expects = {c.expect for c in meta.cases}
        assert expects == {"fail", "pass"}, f"{check.rule_id}: needs failing and passing cases"
        for case in meta.cases:
            target = FIXTURES / case.fixture
            assert target.exists(), f"{check.rule_id} case {case.id}: {case.fixture} is missing"


def test_rules_dir_ships_in_the_wheel_config() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"rules" = "reviewer/_rules"' in text


def test_the_parsed_catalogue_is_kept_in_the_user_cache_and_follows_the_rule_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import shutil

    import yaml

    from reviewer.checks import catalogue

    rules = tmp_path / "rules"
    shutil.copytree(catalogue.rules_dir(), rules)
    monkeypatch.setattr(catalogue, "rules_dir", lambda: rules)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    parse = load_catalogue.__wrapped__  # past the in-process memo

    first = parse()
    assert list((tmp_path / "user-cache" / "archreview" / "catalogue").rglob("*"))
    real_load = yaml.load

    def no_yaml(*args: object, **kwargs: object) -> object:
        raise AssertionError("the kept catalogue should have been used")

    monkeypatch.setattr(yaml, "load", no_yaml)
    kept = parse()
    assert kept == first and kept["AR-API-001"].adr == first["AR-API-001"].adr

    monkeypatch.setattr(yaml, "load", real_load)
    target = rules / "AR-API-001.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("title:", "title: Edited -", 1), encoding="utf-8")
    os.utime(target, ns=(1, 1))  # a different modification time: a different key
    edited = parse()
    assert edited["AR-API-001"].title.startswith("Edited -")

    monkeypatch.setenv("ARCHREVIEW_USER_CACHE", "off")
    monkeypatch.setattr(yaml, "load", no_yaml)
    with pytest.raises(AssertionError):
        parse()  # nothing kept is read when the user cache is off


# -- issue 16: persona, profile requires/tunes, calibration, variants --------------------------------


def _rule_text(rule_id: str = "AR-EVT-001") -> dict[str, object]:
    import yaml

    from reviewer.checks import catalogue

    return yaml.safe_load((catalogue.rules_dir() / f"{rule_id}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", ["persona", "profile", "calibration"])
def test_persona_profile_and_calibration_are_required(key: str) -> None:
    from reviewer.checks.catalogue import CatalogueError, parse_rule

    data = _rule_text()
    parse_rule(data, "AR-EVT-001.yaml")  # as shipped: valid
    del data[key]
    with pytest.raises(CatalogueError, match=key):
        parse_rule(data, "AR-EVT-001.yaml")


def test_the_first_versions_profile_keys_is_no_longer_read() -> None:
    from reviewer.checks.catalogue import CatalogueError, parse_rule

    data = _rule_text()
    data["profile_keys"] = ["events.retention_days"]
    with pytest.raises(CatalogueError, match="profile_keys"):
        parse_rule(data, "AR-EVT-001.yaml")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("persona", "everyone"),
        ("profile", ["stack.go.version"]),
        ("profile", {"requires": "stack.go.version"}),
        ("profile", {"needs": []}),
        ("calibration", ""),
        ("variants", {"x": {"persona": "everyone"}}),
        ("variants", {"x": {"colour": "red"}}),
        ("cases", [{"id": "c", "fixture": "f", "expect": "fail", "persona": "nobody"}]),
        ("cases", [{"id": "c", "fixture": "f", "expect": "fail", "sayz": "x"}]),
    ],
)
def test_wrong_issue_16_keys_are_catalogue_errors(key: str, value: object) -> None:
    from reviewer.checks.catalogue import CatalogueError, parse_rule

    data = _rule_text()
    data[key] = value
    with pytest.raises(CatalogueError):
        parse_rule(data, "AR-EVT-001.yaml")


def test_every_rule_names_its_persona_profile_keys_and_calibration() -> None:
    """Each rule file's `profile` keys are keys of the profile schema (or a section of them: a
    rule that requires `stack` runs when anything of the stack is declared): a misspelt key
    would keep a rule from ever running."""
    from reviewer.profile import SCHEMA_KEYS

    sections = {k.rsplit(".", i)[0] for k in SCHEMA_KEYS for i in range(1, k.count(".") + 1)}
    for rule_id, meta in load_catalogue().items():
        assert meta.calibration, rule_id
        for key in (*meta.requires, *meta.tunes):
            assert key in SCHEMA_KEYS or key in sections, f"{rule_id}: unknown profile key {key!r}"
        for variant in meta.variants:
            assert any((variant.title, variant.persona, variant.severity, variant.confidence, variant.decision)), (
                f"{rule_id}: variant {variant.id} changes nothing"
            )


def test_every_variant_a_check_names_is_declared() -> None:
    """`Hit(..., variant="id")` in the checks names a variant of some rule's `variants:`
    (tests/test_rules.py runs every rule strictly, where an unknown variant of the rule itself
    is an error)."""
    declared = {v.id for meta in load_catalogue().values() for v in meta.variants}
    named = set()
    for path in (ROOT / "reviewer" / "checks").glob("*.py"):
        named |= set(re.findall(r'variant="([A-Za-z0-9_.-]+)"', path.read_text(encoding="utf-8")))
    assert named <= declared, sorted(named - declared)


def test_a_variants_decision_is_its_own_adr_text() -> None:
    for meta in load_catalogue().values():
        for variant in meta.variants:
            adr = meta.adr_for(variant.id)
            if variant.decision:
                assert adr.decision == variant.decision and adr is meta.adr_for(variant.id)
                assert (adr.context, adr.consequences) == (meta.context, meta.consequences)
            else:
                assert adr is meta.adr
        assert meta.adr_for(None) is meta.adr and meta.adr_for("no-such-variant") is meta.adr
