"""Tests for reviewer.model.manifests.npm: package.json parsing and npm range helpers."""

from __future__ import annotations

import json
import time
from typing import Any

import nodesemver
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.model.manifests import ManifestError, npm
from reviewer.model.manifests.npm import (
    LOCKFILES,
    SECTIONS,
    NpmDep,
    PackageJson,
    _intersection_witness,
    _key_of,
    _parse_exact,
    _parse_range,
    admits,
    locate,
    major_of_range,
    min_version,
    parse_package_json,
    points_outside,
    ranges_intersect,
    spec_kind,
)

PROPERTY = settings(derandomize=True, deadline=None, max_examples=300)

COMPONENTS = """\
{
  "name": "@example/chariot-ui-components",
  "version": "2.7.0",
  "private": true,
  "scripts": {
    "build": "tsc -p tsconfig.json",
    "test": "jest"
  },
  "dependencies": {
    "@tanstack/react-query": "^5.51.1",
    "react": "^18.2.0",
    "react-dom": "^18.2.0",
    "schema": "workspace:*",
    "legacy-grid": "git+https://github.com/example/legacy-grid.git#v1.2.0",
    "icons": "github:example/icons",
    "shared": "file:../shared",
    "react18": "npm:react@^18.3.0"
  },
  "devDependencies": {
    "@playwright/test": "^1.45.1",
    "jest": "^29.7.0",
    "typescript": "~5.4.0"
  },
  "peerDependencies": {
    "react": ">=17 <19"
  },
  "jest": {"preset": "ts-jest", "nested": [1, 2.5e3, -0.5, null, false, {"deep": []}]}
}
"""


def err(text: str) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        parse_package_json(text)
    return info.value


# ---------------------------------------------------------------------------------------------
# parsing


def test_realistic_package_json() -> None:
    pkg = parse_package_json(COMPONENTS)
    assert pkg.name == "@example/chariot-ui-components"
    assert pkg.version == "2.7.0"
    assert pkg.private is True
    assert pkg.line_of_name == 2
    assert pkg.workspaces == ()
    assert pkg.deps[0] == NpmDep("@tanstack/react-query", "^5.51.1", "dependencies", 10, 5)
    assert pkg.deps[1] == NpmDep("react", "^18.2.0", "dependencies", 11, 5)
    assert [d.name for d in pkg.deps if d.section == "devDependencies"] == [
        "@playwright/test",
        "jest",
        "typescript",
    ]
    assert pkg.deps[-1] == NpmDep("react", ">=17 <19", "peerDependencies", 25, 5)
    assert locate(pkg, ("devDependencies", "typescript")) == (22, 5)
    assert locate(pkg, ("react",)) == (11, 5)
    assert locate(pkg, ("peerDependencies", "react")) == (25, 5)
    assert locate(pkg, ("dependencies", "typescript")) is None
    assert locate(pkg, ("left-pad",)) is None
    assert locate(pkg, ()) is None


def test_fixture_style_kinds_and_ranges() -> None:
    pkg = parse_package_json(COMPONENTS)
    kinds = {d.name: spec_kind(d.spec) for d in pkg.deps if d.section == "dependencies"}
    assert kinds == {
        "@tanstack/react-query": "range",
        "react": "range",
        "react-dom": "range",
        "schema": "workspace",
        "legacy-grid": "git",
        "icons": "github",
        "shared": "file",
        "react18": "alias",
    }
    react = next(d for d in pkg.deps if d.name == "react")
    assert admits(react.spec, "18.3.1") is True
    ts = next(d for d in pkg.deps if d.name == "typescript")
    assert major_of_range(ts.spec) == 5
    assert admits("npm:react@^18.3.0", "18.3.1") is True


def test_minimal_and_odd_but_valid_documents() -> None:
    assert parse_package_json("{}") == PackageJson(None, None, (), (), False, 1)
    assert parse_package_json(" \n\t{ }\r\n ") == PackageJson(None, None, (), (), False, 1)
    pkg = parse_package_json('{"name": 5, "version": null, "private": "yes", "dependencies": {}}')
    assert (pkg.name, pkg.version, pkg.private, pkg.deps) == (None, None, True, ())
    assert parse_package_json('{"private": 0}').private is False
    assert parse_package_json('{"private": []}').private is True  # JavaScript truthiness
    assert parse_package_json('{"private": ""}').private is False


def test_byte_order_mark_is_skipped() -> None:
    pkg = parse_package_json('\ufeff{"dependencies": {"a": "1"}}')
    assert pkg.deps == (NpmDep("a", "1", "dependencies", 1, 19),)


def test_duplicate_keys_last_wins_like_json_parse() -> None:
    pkg = parse_package_json(
        '{"name": "a", "dependencies": {"x": "1"},\n'
        ' "dependencies": {"y": "2", "y": "3"}, "name": "b"}'
    )
    assert pkg.name == "b"
    assert pkg.line_of_name == 2
    assert pkg.deps == (NpmDep("y", "3", "dependencies", 2, 29),)


def test_escaped_keys_and_unicode_columns() -> None:
    pkg = parse_package_json('{"dependencies": {"é": "1", "a\\"b": "2", "\\u0063": "3"}}')
    assert [(d.name, d.column) for d in pkg.deps] == [("é", 19), ('a"b', 29), ("c", 42)]


def test_workspaces() -> None:
    assert parse_package_json('{"workspaces": ["packages/*", "apps/*"]}').workspaces == (
        "packages/*",
        "apps/*",
    )
    yarn = '{"workspaces": {"packages": ["libs/*"], "nohoist": ["**/x"]}}'
    assert parse_package_json(yarn).workspaces == ("libs/*",)
    assert parse_package_json('{"workspaces": {"nohoist": []}}').workspaces == ()


def test_sections_in_file_order() -> None:
    pkg = parse_package_json(
        '{"optionalDependencies": {"o": "1"}, "devDependencies": {"d": "1"},'
        ' "dependencies": {"p": "1"}, "peerDependencies": {"q": "1"}}'
    )
    assert [(d.section, d.name) for d in pkg.deps] == [
        ("optionalDependencies", "o"),
        ("devDependencies", "d"),
        ("dependencies", "p"),
        ("peerDependencies", "q"),
    ]
    assert set(SECTIONS) == {d.section for d in pkg.deps}


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('{\n  "a": 1,\n}', 2, 9, "trailing comma"),
        ('{"a": [1, 2,\n  ]}', 1, 12, "trailing comma"),
        ('{\n  // the name\n  "name": "x"\n}', 2, 3, "comments are not allowed"),
        ('{"name": "x" /* why */}', 1, 14, "comments are not allowed"),
        ('{"name": "x",\n  "dependencies": {\n    "a": "1", // pinned\n  }\n}', 3, 15, "comments"),
        ('{"a": 1,\n// c\n}', 2, 1, "comments are not allowed"),
        ("[1, 2]", 1, 1, "JSON object at the top level"),
        ('\n\n  "just a string"', 3, 3, "JSON object at the top level"),
        ("null", 1, 1, "JSON object at the top level"),
        ('{\n  "dependencies": ["react"]\n}', 2, 19, '"dependencies" must be an object'),
        ('{\n  "devDependencies": {\n    "jest": 29\n  }\n}', 3, 13, '"jest" must be'),
        ('{"peerDependencies": {"react": null}}', 1, 32, "must be a version string"),
        ('{"optionalDependencies": {"x": {"version": "1"}}}', 1, 32, "must be a version string"),
        ('{"workspaces": "packages/*"}', 1, 16, '"workspaces" must be an array'),
        ('{"workspaces": ["a", 1]}', 1, 16, '"workspaces" must be an array'),
        ("", 1, 1, "unexpected end of input"),
        ("   \n  ", 2, 3, "unexpected end of input"),
        ('{"a": 1', 1, 8, "object opened at 1:1 is not closed"),
        ('{"a": [1', 1, 9, "array opened at 1:7 is not closed"),
        ('{"a": "b', 1, 7, "Unterminated string"),
        ('{"a": "b\nc"}', 1, 9, "Invalid control character"),
        ('{"a": "\\q"}', 1, 8, "Invalid \\escape"),
        ('{"a": NaN}', 1, 7, "expected a value"),
        ('{"a": Infinity}', 1, 7, "expected a value"),
        ('{"a": 01}', 1, 8, "expected ',' or '}'"),
        ('{"a": .5}', 1, 7, "expected a value"),
        ('{"a": -}', 1, 7, "invalid number"),
        ('{"a": tru}', 1, 7, "expected a value"),
        ("{'a': 1}", 1, 2, "double-quoted property name"),
        ("{a: 1}", 1, 2, "double-quoted property name"),
        ('{"a" 1}', 1, 6, "expected ':'"),
        ('{"a": 1 "b": 2}', 1, 9, "expected ',' or '}'"),
        ('{"a": [1 2]}', 1, 10, "expected ',' or ']'"),
        ("{,}", 1, 2, "double-quoted property name"),
        ('{"a": 1}}', 1, 9, "end of input after the top-level value"),
        ('{"a": 1} // done', 1, 10, "comments are not allowed"),
    ],
)
def test_errors(text: str, line: int, column: int, fragment: str) -> None:
    e = err(text)
    assert fragment in e.message, e.message
    assert (e.line, e.column) == (line, column), e


def test_clean_files_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(text: str) -> PackageJson:
        raise AssertionError("the exact parser should not be needed")

    monkeypatch.setattr(npm, "_parse_exact", boom)
    assert parse_package_json(COMPONENTS).deps[1] == NpmDep(
        "react", "^18.2.0", "dependencies", 11, 5
    )


def test_deep_nesting_is_fine() -> None:
    deep = '{"x": ' + "[" * 5000 + "]" * 5000 + ', "dependencies": {"a": "1"}}'
    assert parse_package_json(deep).deps[0].name == "a"
    e = err('{"x": ' + "[" * 5000 + "]" * 4999 + "}")
    assert "expected ',' or ']'" in e.message


def test_large_package_json_parses_in_milliseconds() -> None:
    deps = {f"@scope/pkg-{i}": f"^{i % 20}.{i % 7}.0" for i in range(2500)}
    text = json.dumps({"name": "big", "dependencies": deps, "devDependencies": deps}, indent=2)
    parse_package_json(text)  # warm-up
    start = time.perf_counter()
    pkg = parse_package_json(text)
    elapsed = time.perf_counter() - start
    assert len(pkg.deps) == 5000
    assert pkg.deps[2500] == NpmDep("@scope/pkg-0", "^0.0.0", "devDependencies", 2506, 5)
    assert elapsed < 0.25, elapsed  # typically a few milliseconds


# ---------------------------------------------------------------------------------------------
# spec kinds


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("^18.2.0", "range"),
        ("~5.4.0", "range"),
        ("18.3.1", "range"),
        ("19.x", "range"),
        (">=5 <6", "range"),
        ("1.2.3 - 2.3.4", "range"),
        ("^1 || ^2", "range"),
        ("*", "range"),
        ("", "range"),
        ("  ^1.0.0  ", "range"),
        ("x", "range"),
        ("1.2.3beta", "range"),  # loose, as npm reads it
        ("latest", "tag"),
        ("next", "tag"),
        ("beta-2", "tag"),
        ("git+https://github.com/u/r.git", "git"),
        ("git+ssh://git@github.com/u/r.git#semver:^1.0", "git"),
        ("git://github.com/u/r.git", "git"),
        ("git@github.com:u/r.git", "git"),
        ("ssh://git@example.com/r.git", "git"),
        ("https://github.com/u/r", "git"),
        ("https://gitlab.com/u/r.git#main", "git"),
        ("https://git.example.com/team/r.git", "git"),
        ("gitlab:u/r", "git"),
        ("bitbucket:u/r", "git"),
        ("github:u/r", "github"),
        ("user/repo", "github"),
        ("user/repo#v1.2.3", "github"),
        ("expressjs/express#semver:^4", "github"),
        ("file:../x", "file"),
        ("file:vendor/x.tgz", "file"),
        ("../lib", "file"),
        ("./lib", "file"),
        ("/abs/lib", "file"),
        ("~/lib", "file"),
        ("C:\\lib", "file"),
        ("vendor/pkg/sub", "file"),
        ("pkg.tgz", "file"),
        ("link:../y", "link"),
        ("portal:../z", "link"),
        ("https://registry.example.com/x/-/x-1.0.0.tgz", "url"),
        ("http://example.com/x.tar.gz", "url"),
        ("npm:react@^18", "alias"),
        ("npm:@scope/pkg@1.x", "alias"),
        ("npm:react", "alias"),
        ("npm:react@latest", "alias"),
        ("npm:", "invalid"),
        ("npm:react@not a range", "invalid"),
        ("workspace:*", "workspace"),
        ("workspace:^1.2.0", "workspace"),
        ("catalog:", "workspace"),
        ("not a range", "invalid"),
        ("foo%20bar", "invalid"),
        ("^" * 2000, "invalid"),
    ],
)
def test_spec_kind(spec: str, kind: str) -> None:
    assert spec_kind(spec) == kind


# ---------------------------------------------------------------------------------------------
# admits


@pytest.mark.parametrize(
    ("spec", "version", "expected"),
    [
        ("^18.2.0", "18.3.1", True),
        ("^18.2.0", "18.2.0", True),
        ("^18.2.0", "19.0.0", False),
        ("^18.2.0", "18.1.9", False),
        ("~18.2.0", "18.3.1", False),
        ("~18.2.0", "18.2.9", True),
        ("19.x", "18.3.1", False),
        ("19.x", "19.1.0", True),
        ("~5.4.0", "5.4.5", True),
        ("~5.4.0", "5.5.0", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("^0.0.3", "0.0.4", False),
        ("*", "18.3.1", True),
        ("", "0.0.1", True),
        (">=17 <19", "18.3.1", True),
        (">=17 <19", "19.0.0", False),
        ("17.0.2", "18.3.1", False),
        ("=18.3.1", "18.3.1", True),
        ("v18.3.1", "18.3.1", True),
        ("1.2.3 - 2.3.4", "2.3.4", True),
        ("1.2.3 - 2.3.4", "2.3.5", False),
        ("1.2 - 2.3", "2.3.9", True),
        ("^16 || ^18", "18.3.1", True),
        ("^16 || ^17", "18.3.1", False),
        ("<=1.2", "1.2.9", True),
        (">1.2", "1.2.9", False),
        # prereleases only when the range names one of the same major.minor.patch
        ("*", "19.0.0-rc.1", False),
        ("^18.2.0", "18.3.0-canary.1", False),
        ("^18.3.0-rc.1", "18.3.0-rc.2", True),
        ("^18.3.0-rc.1", "18.3.0-beta.1", False),
        ("^18.3.0-rc.1", "18.4.0-rc.1", False),
        ("^18.3.0-rc.1", "18.4.0", True),
        (">=1.0.0-0 <1.0.0", "1.0.0-alpha", True),
        ("npm:react@^18", "18.3.1", True),
        ("npm:react@17", "18.3.1", False),
        ("npm:react", "18.3.1", True),
    ],
)
def test_admits(spec: str, version: str, expected: bool) -> None:
    assert admits(spec, version) is expected


@pytest.mark.parametrize(
    "spec",
    [
        "latest",
        "workspace:*",
        "git+https://github.com/u/r.git",
        "github:u/r",
        "file:../x",
        "link:../x",
        "https://x.org/a.tgz",
        "npm:react@latest",
        "not a range",
    ],
)
def test_admits_is_none_for_non_ranges(spec: str) -> None:
    assert admits(spec, "1.0.0") is None


def test_admits_is_none_for_invalid_versions() -> None:
    assert admits("^1.0.0", "one") is None
    assert admits("^1.0.0", "1.0") is None
    assert admits("^1.0.0", "") is None


# ---------------------------------------------------------------------------------------------
# min_version, major_of_range, ranges_intersect


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("^18.2.0", "18.2.0"),
        ("~18.2", "18.2.0"),
        (">=5 <6", "5.0.0"),
        (">5", "6.0.0"),
        (">1.2.3", "1.2.4"),
        (">1.2.3-beta", "1.2.3-beta.0"),
        ("^5.0.0-beta.2", "5.0.0-beta.2"),
        ("*", "0.0.0"),
        ("19.x || 18.x", "18.0.0"),
        ("<0.0.0", None),
        (">=2 <1", None),
        ("latest", None),
        ("npm:typescript@~5.4.0", "5.4.0"),
    ],
)
def test_min_version(spec: str, expected: str | None) -> None:
    assert min_version(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("^5.4.0", 5),
        ("~5.0", 5),
        ("5.x", 5),
        ("5", 5),
        ("~5.4.0", 5),
        (">=5.0.0 <6.0.0", 5),
        (">=5.0.0 <=5.9.9", 5),
        (">=5.0.0 <6.0.0-0", 5),
        (">=5.0.0 <=6.0.0", None),
        ("^0.2.3", 0),
        ("^5.0.0-beta.1", 5),
        ("^4 || ^5", None),
        ("5.1 || 5.3", 5),
        (">=4", None),
        ("*", None),
        ("<0.0.0", None),
        ("latest", None),
        ("npm:typescript@^5.4", 5),
    ],
)
def test_major_of_range(spec: str, expected: int | None) -> None:
    assert major_of_range(spec) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected", "witness"),
    [
        ("^18.2.0", "~18.2.0", True, "18.2.0"),
        ("^18.2.0", "18.3.1", True, "18.3.1"),
        ("^18", "19.x", False, None),
        ("<1.0.0", ">=1.0.0", False, None),
        ("<=1.0.0", ">=1.0.0", True, "1.0.0"),
        (">1.0.0", "<1.0.1", False, None),
        ("^1 || ^3", "^2 || 3.4.x", True, "3.4.0"),
        ("*", "^0.0.1", True, "0.0.1"),
        (">=1.0.0-alpha <1.0.0", ">=1.0.0-beta <1.0.0", True, "1.0.0-beta"),
        (">=1.0.0-alpha <1.0.0", ">=0.9.0 <1.0.0", False, None),  # no shared prerelease tuple
        (">1.2.3-beta <1.2.3", "1.2.3-beta.0 - 1.2.3-beta.5", True, "1.2.3-beta.0"),
        (">1.2.3-beta.0 <1.2.3-beta.0.0", "*", False, None),
        ("npm:react@^18", "18.3.1", True, "18.3.1"),
    ],
)
def test_ranges_intersect(a: str, b: str, expected: bool, witness: str | None) -> None:
    assert ranges_intersect(a, b) is expected
    assert ranges_intersect(b, a) is expected
    assert _intersection_witness(a, b) == witness


def test_ranges_intersect_is_none_for_non_ranges() -> None:
    assert ranges_intersect("latest", "^1") is None
    assert ranges_intersect("^1", "workspace:*") is None
    assert ranges_intersect("github:u/r", "git+ssh://x") is None


# ---------------------------------------------------------------------------------------------
# points_outside


@pytest.mark.parametrize(
    ("spec", "manifest_dir", "root", "expected"),
    [
        ("file:../shared", "modules/web", "", False),
        ("file:../../../shared", "modules/web", "", True),
        ("file:../shared", "modules/web", "modules/web", True),
        ("file:./vendor/x.tgz", "modules/web", "modules/web", False),
        ("file:vendor/x", ".", "", False),
        ("file:..", "", "", True),
        ("../x", "a", "", False),
        ("../../x", "a", "", True),
        ("link:../y", "apps/console", "", False),
        ("link:../../../y", "apps/console", "", True),
        ("portal:../../../y", "apps/console", "", True),
        ("file:/opt/lib", "a", "", True),
        ("file:///opt/lib", "a", "", True),
        ("file:~/lib", "a", "", True),
        ("~/lib", "a", "", True),
        ("C:\\lib", "a", "", True),
        ("file:..\\..\\x", "a", "", True),
        ("file:a/../../x", "", "", True),
        ("git+https://github.com/u/r.git", "a", "", False),
        ("^1.0.0", "a", "", False),
        ("workspace:../../x", "a", "", False),
    ],
)
def test_points_outside(spec: str, manifest_dir: str, root: str, expected: bool) -> None:
    assert points_outside(spec, manifest_dir, root) is expected


def test_lockfile_names() -> None:
    assert "package-lock.json" in LOCKFILES
    assert "bun.lockb" in LOCKFILES
    assert len(set(LOCKFILES)) == 6


# ---------------------------------------------------------------------------------------------
# properties

JSON_ATOMS = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\n",
    '"name"',
    '"dependencies"',
    '"devDependencies"',
    '"workspaces"',
    '"private"',
    '"packages"',
    '"a"',
    '"^1.2.3"',
    "1",
    "-1.5e3",
    "true",
    "false",
    "null",
    "NaN",
    "//",
    "/*",
    "*/",
    '"\\u12"',
    '"\\n"',
    "\x00",
    "\ufeff",
]
json_like = st.lists(st.sampled_from(JSON_ATOMS), max_size=40).map("".join)


@PROPERTY
@given(st.one_of(st.text(), json_like))
def test_parse_package_json_only_raises_manifest_error_and_is_deterministic(text: str) -> None:
    def outcome() -> object:
        try:
            return parse_package_json(text)
        except ManifestError as e:
            return ("error", e.message, e.line, e.column)

    first = outcome()
    assert first == outcome()
    if isinstance(first, tuple):
        assert 1 <= first[2] <= text.count("\n") + 1
        assert first[3] >= 1


specs = st.text(st.sampled_from(list("0123456789.^~<>=*xX|- v+abr:/@npm")), max_size=20)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=10),
        "private": json_values,
        "workspaces": st.lists(st.text(max_size=6), max_size=3),
        "dependencies": st.dictionaries(st.text(max_size=8), specs, max_size=6),
        "devDependencies": st.dictionaries(st.text(max_size=8), specs, max_size=6),
        "scripts": json_values,
    },
)


@PROPERTY
@given(documents, st.sampled_from([None, 0, 2, "\t"]), st.booleans())
def test_fast_and_exact_parsers_agree(doc: dict[str, Any], indent: Any, ascii_only: bool) -> None:
    text = json.dumps(doc, indent=indent, ensure_ascii=ascii_only)
    pkg = parse_package_json(text)
    assert pkg == _parse_exact(text)
    lines = text.split("\n")
    for dep in pkg.deps:
        assert lines[dep.line - 1][dep.column - 1] == '"'
        assert doc[dep.section][dep.name] == dep.spec


@PROPERTY
@given(st.text(max_size=30), st.text(max_size=30))
def test_range_helpers_never_raise(a: str, b: str) -> None:
    assert admits(a, b) in (True, False, None)
    assert ranges_intersect(a, b) in (True, False, None)
    spec_kind(a)
    min_version(a)
    major_of_range(a)
    points_outside(a, b)


@PROPERTY
@given(specs, specs)
def test_range_helpers_never_raise_on_range_like_text(a: str, b: str) -> None:
    assert ranges_intersect(a, b) in (True, False, None)
    assert admits(a, "1.2.3") in (True, False, None)


# Generated ranges and a grid of versions, judged against nodesemver itself.

partials = st.builds(
    lambda parts, pre: ".".join(parts) + pre,
    st.lists(st.sampled_from(["0", "1", "2", "3", "x"]), min_size=1, max_size=3),
    st.sampled_from(["", "", "", "-0", "-alpha", "-beta.1", "-rc.2"]),
)
comparators = st.one_of(
    st.builds(
        lambda op, p: op + p, st.sampled_from(["^", "~", ">", ">=", "<", "<=", "=", ""]), partials
    ),
    st.builds(lambda a, b: f"{a} - {b}", partials, partials),
    st.just("*"),
)
ranges = st.lists(
    st.lists(comparators, min_size=1, max_size=2).map(" ".join), min_size=1, max_size=2
).map(" || ".join)
GRID = [
    f"{a}.{b}.{c}{p}"
    for a in range(5)
    for b in range(5)
    for c in range(5)
    for p in ("", "-0", "-1", "-alpha", "-alpha.0", "-beta", "-beta.1", "-rc.2", "-0.0")
]


def admitted(spec: str) -> set[str]:
    parsed = _parse_range(spec)
    assert parsed is not None
    return {v for v in GRID if parsed[0].test(v)}


@PROPERTY
@given(ranges, ranges)
def test_intersection_is_sound_and_its_witness_is_admitted(a: str, b: str) -> None:
    if _parse_range(a) is None or _parse_range(b) is None:
        assert ranges_intersect(a, b) is None
        return
    both = admitted(a) & admitted(b)
    result = ranges_intersect(a, b)
    if both:
        assert result is True
    witness = _intersection_witness(a, b)
    assert (witness is not None) == result
    if witness is not None:
        assert admits(a, witness)
        assert admits(b, witness)
        if both:
            assert all(nodesemver.compare(witness, v, False) <= 0 for v in both)


@PROPERTY
@given(ranges)
def test_min_version_and_major_agree_with_nodesemver(spec: str) -> None:
    if _parse_range(spec) is None:
        return
    found = admitted(spec)
    low = min_version(spec)
    if found:
        assert low is not None
    if low is not None:
        assert admits(spec, low)
        assert all(nodesemver.compare(low, v, False) <= 0 for v in found)
    major = major_of_range(spec)
    if major is not None:
        assert all(nodesemver.SemVer(v, False, False).major == major for v in found)


@PROPERTY
@given(ranges, st.sampled_from(GRID))
def test_interval_model_matches_nodesemver(spec: str, version: str) -> None:
    parsed = _parse_range(spec)
    if parsed is None:
        return
    key = _key_of(nodesemver.SemVer(version, False, False))

    def inside(s: Any) -> bool:
        if s.lo is not None and (key < s.lo.key or (key == s.lo.key and not s.lo.inclusive)):
            return False
        if s.hi is not None and (key > s.hi.key or (key == s.hi.key and not s.hi.inclusive)):
            return False
        return not key[4] or key[:3] in s.pre

    assert any(inside(s) for s in parsed[1]) == bool(parsed[0].test(version))


# Work bounds: one parse per range text, one index per manifest for locate (issue 15, item 4).


class _CountingDeps(tuple[NpmDep, ...]):
    """A manifest's dependencies that count how often they are walked."""

    walks = 0

    def __iter__(self) -> Any:
        type(self).walks += 1
        return super().__iter__()


def test_locate_walks_the_dependencies_once_per_manifest() -> None:
    deps = [NpmDep(f"p{i}", "^1.0.0", "dependencies", i + 3, 5) for i in range(5_000)]
    deps.append(NpmDep("p7", "^2.0.0", "devDependencies", 9_000, 5))
    _CountingDeps.walks = 0
    pkg = PackageJson("x", None, _CountingDeps(deps), (), False, 1)
    for i in range(5_000):
        assert locate(pkg, ("dependencies", f"p{i}")) == (i + 3, 5)
    assert locate(pkg, ("devDependencies", "p7")) == (9_000, 5)
    assert locate(pkg, ("p7",)) == (10, 5)  # the first in file order, whatever the section
    assert locate(pkg, ("devDependencies", "p8")) is None
    assert locate(pkg, ()) is None
    assert _CountingDeps.walks == 1


def test_each_range_text_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = nodesemver.Range

    def counting(text: str, loose: bool) -> Any:
        calls.append(text)
        return real(text, loose)

    monkeypatch.setattr(nodesemver, "Range", counting)
    for memo in (npm.spec_kind, npm.spans, npm._range_sets, npm._parse_range):
        memo.cache_clear()
    texts = [f"^7.{i}.{i % 13}" for i in range(6_000)]  # more than _parse_range keeps
    for _ in range(2):
        for text in texts:
            assert spec_kind(text) == "range"
            assert npm.spans(text)
            assert ranges_intersect(text, "^7.0.0") is True
    assert sorted(calls) == sorted(texts)  # "^7.0.0" is the first of them


@PROPERTY
@given(ranges, ranges)
def test_spans_meet_exactly_when_a_comparator_set_pair_admits_a_version(a: str, b: str) -> None:
    """The span model against the comparator-set model (the lowest version of each merged
    pair of sets, `_intersection_witness`), and the span order used for sorting."""
    sa, sb = npm.spans(a), npm.spans(b)
    if sa is None or sb is None:
        assert ranges_intersect(a, b) is None
        return
    assert npm.spans_meet(sa, sb) == (_intersection_witness(a, b) is not None)
    for x in (*sa, *sb):
        assert x.start < x.end  # a span is never empty
        for y in (*sa, *sb):
            if x.channel == y.channel:
                assert npm.spans_meet((x,), (y,)) == (x.start < y.end and y.start < x.end)


_simple_like = st.builds(
    lambda op, parts, tail: op + ".".join(parts) + tail,
    st.sampled_from(["", "^", "~", ">=", "<=", ">", "<", "=", "v", "=="]),
    st.lists(
        st.sampled_from(["0", "1", "01", "12", "999999999", "1234567890", "x", "X", "*", ""]),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["", "", "", "-0", " ", "a"]),
)


@PROPERTY
@given(_simple_like)
def test_ranges_classified_without_parsing_are_ranges_for_nodesemver(spec: str) -> None:
    if npm._SIMPLE_RANGE.fullmatch(spec.strip()):
        npm._range_sets.cache_clear()
        assert npm._range_sets(spec.strip()) is not None
        assert spec_kind(spec) == "range"


# -- engines.node (AR-STK-010) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spec", "at"),
    [
        ('{\n  "name": "a",\n  "engines": {"node": ">=14 <17"}\n}', ">=14 <17", (3, 3)),
        ('{"engines": {"npm": ">=9", "node": "^18"}}', "^18", (1, 2)),
        ('{"engines": {"node": 18}}', None, None),  # not a string: npm ignores it
        ('{"engines": ["node"]}', None, None),
        ('{"engines": {"node": "' + "1" * 2000 + '"}}', None, None),  # over the spec cap
    ],
)
def test_engines_node_and_its_position(
    text: str, spec: str | None, at: tuple[int, int] | None
) -> None:
    fast = npm.parse_package_json(text)
    exact = npm._parse_exact(text)  # the fallback parser agrees with the fast path
    for pkg in (fast, exact):
        assert (pkg.engines_node, pkg.engines_at) == (spec, at)
        assert npm.locate(pkg, ("engines", "node")) == at
    assert fast.deps == ()  # engines are not dependencies
