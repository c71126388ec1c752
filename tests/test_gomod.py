"""Tests for reviewer.model.manifests.gomod: the go.mod parser and the Go version helpers."""

from __future__ import annotations

import functools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.model.manifests import ManifestError
from reviewer.model.manifests.gomod import (
    GoDirective,
    GoMod,
    GoReplace,
    GoRequire,
    compare_go_versions,
    gap_kind,
    go_version_key,
    is_directory_path,
    locate,
    newest_go,
    parse_gomod,
    replace_points_outside,
    toolchain_version,
)

PROPERTY = settings(derandomize=True, deadline=None, max_examples=300)

CHARIOT = """\
module github.com/example/chariot

go 1.24

toolchain go1.24.6

require (
\tgithub.com/aws/aws-lambda-go v1.47.0
\tgithub.com/aws/aws-sdk-go-v2 v1.36.3
\tgithub.com/aws/aws-sdk-go-v2/config v1.29.9
\tgithub.com/aws/aws-sdk-go-v2/service/dynamodb v1.42.0
\tgithub.com/example/tabularium v0.4.2
\tgithub.com/gorilla/mux v1.8.1
\tgithub.com/stretchr/testify v1.10.0
)

require (
\tgithub.com/aws/smithy-go v1.22.2 // indirect
\tgithub.com/davecgh/go-spew v1.1.1 // indirect
\tgopkg.in/yaml.v3 v3.0.1 // indirect
)

replace github.com/example/tabularium => ../tabularium
"""

JANUS = """\
module github.com/example/janus

go 1.23.4

require (
\tgithub.com/aws/aws-sdk-go v1.55.5
\tgithub.com/aws/aws-sdk-go-v2 v1.30.3
\tgithub.com/gin-gonic/gin v1.10.0
\tgithub.com/go-playground/validator/v10 v10.20.0 // indirect
)

// Local fork kept beside the super-repository while the schema change is reviewed upstream.
replace github.com/example/tabularium => ../../../tabularium-fork
"""


def err(text: str) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        parse_gomod(text)
    return info.value


# ---------------------------------------------------------------------------------------------
# realistic files


def test_chariot_directives_with_positions() -> None:
    mod = parse_gomod(CHARIOT)
    assert mod.module == GoDirective("github.com/example/chariot", 1, 8)
    assert mod.go == GoDirective("1.24", 3, 4)
    assert mod.toolchain == GoDirective("go1.24.6", 5, 11)
    assert mod.requires[0] == GoRequire("github.com/aws/aws-lambda-go", "v1.47.0", False, 8, 2)
    assert mod.requires[5] == GoRequire("github.com/gorilla/mux", "v1.8.1", False, 13, 2)
    assert [r.path for r in mod.requires if r.indirect] == [
        "github.com/aws/smithy-go",
        "github.com/davecgh/go-spew",
        "gopkg.in/yaml.v3",
    ]
    assert mod.requires[-1] == GoRequire("gopkg.in/yaml.v3", "v3.0.1", True, 20, 2)
    assert mod.replaces == (
        GoReplace("github.com/example/tabularium", None, "../tabularium", None, 23, 9),
    )
    assert mod.excludes == ()
    assert mod.retracts == ()


def test_chariot_newest_go_is_the_toolchain() -> None:
    mod = parse_gomod(CHARIOT)
    assert newest_go(mod) == GoDirective("1.24.6", 5, 11)
    assert gap_kind("1.24", "1.24.6") == "patch"
    newest = newest_go(mod)
    assert newest is not None
    assert gap_kind(newest.value, "1.24.6") == "equal"


def test_janus_v1_sdk_and_replace_outside_the_repository() -> None:
    mod = parse_gomod(JANUS)
    assert locate(mod, ("require", "github.com/aws/aws-sdk-go")) == (6, 2)
    assert locate(mod, ("require", "github.com/aws/aws-sdk-go-v2")) == (7, 2)
    assert mod.requires[3] == GoRequire(
        "github.com/go-playground/validator/v10", "v10.20.0", True, 9, 2
    )
    assert gap_kind("1.23.4", "1.24.6") == "minor"
    (rep,) = mod.replaces
    assert (rep.line, rep.column) == (13, 9)
    assert replace_points_outside(rep, "modules/janus")
    chariot_rep = parse_gomod(CHARIOT).replaces[0]
    assert not replace_points_outside(chariot_rep, "modules/chariot")
    assert replace_points_outside(chariot_rep, "modules/chariot", "modules/chariot")


def test_crlf_line_endings_and_tabs() -> None:
    mod = parse_gomod(CHARIOT.replace("\n", "\r\n"))
    assert mod.go == GoDirective("1.24", 3, 4)
    assert mod.requires[-1] == GoRequire("gopkg.in/yaml.v3", "v3.0.1", True, 20, 2)


def test_empty_and_comment_only_files() -> None:
    empty = GoMod(None, None, None, (), (), (), ())
    assert parse_gomod("") == empty
    assert parse_gomod("// just a comment\n\n   \n// another") == empty


# ---------------------------------------------------------------------------------------------
# directives


def test_single_line_require_and_indirect_variants() -> None:
    mod = parse_gomod(
        "require a.com/x v1.0.0 // indirect\n"
        "require a.com/y v1.0.0 // indirect; kept for the CVE fix\n"
        "require a.com/z v1.0.0 // not indirect\n"
        "require a.com/w v1.0.0 //indirect\n"
        "require a.com/v v1.0.0 // indirectly\n"
    )
    assert [(r.path, r.indirect, r.line, r.column) for r in mod.requires] == [
        ("a.com/x", True, 1, 9),
        ("a.com/y", True, 2, 9),
        ("a.com/z", False, 3, 9),
        ("a.com/w", True, 4, 9),
        ("a.com/v", False, 5, 9),
    ]


def test_versions_are_canonicalised_like_go() -> None:
    mod = parse_gomod(
        "require (\n"
        "  a.com/x v1\n"
        "  a.com/y v1.2\n"
        "  a.com/z v1.2.3-rc.1+meta\n"
        "  a.com/w v2.0.0+incompatible\n"
        "  a.com/p v0.0.0-20240101000000-abcdef123456\n"
        ")\n"
    )
    assert [r.version for r in mod.requires] == [
        "v1.0.0",
        "v1.2.0",
        "v1.2.3-rc.1",
        "v2.0.0+incompatible",
        "v0.0.0-20240101000000-abcdef123456",
    ]


def test_major_version_suffixes() -> None:
    mod = parse_gomod(
        "require example.com/m/v2 v2.1.0\nrequire gopkg.in/yaml.v3 v3.0.1\n"
        "require gopkg.in/check.v1 v0.0.0-20161208181325-20d25e280405\n"
    )
    assert [r.version for r in mod.requires] == [
        "v2.1.0",
        "v3.0.1",
        "v0.0.0-20161208181325-20d25e280405",
    ]
    assert "should be v2, not v1" in err("require example.com/m/v2 v1.0.0\n").message
    assert "should be v0 or v1, not v3" in err("require example.com/m v3.0.0\n").message
    assert "invalid module path" in err("require example.com/m/v1 v1.0.0\n").message
    assert "invalid module path" in err("require gopkg.in/yaml v1.0.0\n").message


def test_quoted_paths_and_escapes() -> None:
    mod = parse_gomod(
        'module "example.com/quoted"\n'
        'require "github.com/a/b" v1.0.0\n'
        'replace "github.com/c/d" => "./local dir"\n'
        'require "example.com/\\u00e9t\\x65" v1.0.0\n'
    )
    assert mod.module == GoDirective("example.com/quoted", 1, 8)
    assert mod.requires[0] == GoRequire("github.com/a/b", "v1.0.0", False, 2, 9)
    assert mod.replaces[0] == GoReplace("github.com/c/d", None, "./local dir", None, 3, 9)
    assert mod.requires[1].path == "example.com/\u00e9te"


def test_replace_forms() -> None:
    mod = parse_gomod(
        "replace a.com/x => ../x\n"
        "replace a.com/y v1.2.3 => ./y\n"
        "replace a.com/z => b.com/z v1.4.0\n"
        "replace (\n"
        "\ta.com/w v1.0.0 => b.com/w v1.0.1 // pinned fork\n"
        "\ta.com/v => /abs/v\n"
        "\ta.com/u => C:\\src\\u\n"
        "\ta.com/t => .\n"
        ")\n"
    )
    assert mod.replaces == (
        GoReplace("a.com/x", None, "../x", None, 1, 9),
        GoReplace("a.com/y", "v1.2.3", "./y", None, 2, 9),
        GoReplace("a.com/z", None, "b.com/z", "v1.4.0", 3, 9),
        GoReplace("a.com/w", "v1.0.0", "b.com/w", "v1.0.1", 5, 2),
        GoReplace("a.com/v", None, "/abs/v", None, 6, 2),
        GoReplace("a.com/u", None, "C:\\src\\u", None, 7, 2),
        GoReplace("a.com/t", None, ".", None, 8, 2),
    )
    outside = [replace_points_outside(r, "svc") for r in mod.replaces]
    assert outside == [False, False, False, False, True, True, False]
    assert replace_points_outside(mod.replaces[0], ".") is True


def test_exclude_retract_godebug_tool_ignore() -> None:
    mod = parse_gomod(
        "module example.com/m\n"
        "exclude a.com/x v1.2.3\n"
        "retract v1.0.0 // published by mistake\n"
        "retract [v1.1.0, v1.1.9]\n"
        "retract (\n"
        "    v0.9.0\n"
        "    [v0.1.0,v0.2.0]\n"
        ")\n"
        "godebug default=go1.21\n"
        "godebug (\n"
        "    panicnil=1\n"
        ")\n"
        "tool golang.org/x/tools/cmd/stringer\n"
        "ignore ./node_modules\n"
    )
    assert mod.excludes == (GoRequire("a.com/x", "v1.2.3", False, 2, 9),)
    assert mod.retracts == (
        GoDirective("v1.0.0", 3, 9),
        GoDirective("[v1.1.0, v1.1.9]", 4, 9),
        GoDirective("v0.9.0", 6, 5),
        GoDirective("[v0.1.0, v0.2.0]", 7, 5),
    )
    assert mod.godebugs == (GoDirective("default=go1.21", 9, 9), GoDirective("panicnil=1", 11, 5))
    assert mod.tools == (GoDirective("golang.org/x/tools/cmd/stringer", 13, 6),)
    assert mod.ignores == (GoDirective("./node_modules", 14, 8),)
    assert locate(mod, ("retract", "[v1.1.0, v1.1.9]")) == (4, 9)
    assert locate(mod, ("godebug", "panicnil")) == (11, 5)
    assert locate(mod, ("exclude", "a.com/x")) == (2, 9)
    assert locate(mod, ("tool", "golang.org/x/tools/cmd/stringer")) == (13, 6)


def test_comments_anywhere() -> None:
    mod = parse_gomod(
        "// header\n"
        "module example.com/m // trailing\n"
        "\n"
        "require ( // opening comment\n"
        "    // a whole-line comment inside the block\n"
        "    a.com/x v1.0.0 // indirect\n"
        "\n"
        "    a.com/y v1.0.0// indirect\n"
        ") // closing comment\n"
        "go 1.22 // go\n"
        "// footer"
    )
    assert mod.module == GoDirective("example.com/m", 2, 8)
    assert [(r.path, r.indirect, r.line) for r in mod.requires] == [
        ("a.com/x", True, 6),
        ("a.com/y", True, 8),
    ]
    assert mod.go == GoDirective("1.22", 10, 4)


def test_empty_block_and_parens_mid_line() -> None:
    assert parse_gomod("require ()\nrequire (\n)\n").requires == ()
    assert "usage: require" in err("require a.com/x ( ) v1.0.0\n").message


def test_columns_count_code_points() -> None:
    mod = parse_gomod('module "é/x"\nrequire "é/ü" v1.0.0 // ünïcode\ngo 1.21\n')
    assert mod.requires[0] == GoRequire("é/ü", "v1.0.0", False, 2, 9)
    assert parse_gomod("module é.com/x\n\tgo 1.21").go == GoDirective("1.21", 2, 5)


def test_go_and_toolchain_values() -> None:
    for value in ("1.21", "1.21.0", "1.21rc1", "1.9", "1.100.2"):
        assert parse_gomod(f"go {value}\n").go == GoDirective(value, 1, 4)
    for name in ("go1.24.6", "default", "go1.21rc2", "go1"):
        assert parse_gomod(f"toolchain {name}\n").toolchain == GoDirective(name, 1, 11)


# ---------------------------------------------------------------------------------------------
# errors: the first one, with its line and column


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("module x\nfrobnicate a b\n", 2, 1, "unknown directive: frobnicate"),
        ("module x\n\n  go.mod v1\n", 3, 3, "unknown directive: go.mod"),
        ("module x\nrequire (\n\ta.com/x v1.0.0\n", 2, 1, "unterminated block"),
        ("require (\n\ta.com/x v1.0.0 )\n", 1, 1, "unterminated block"),
        ("module x\nrequire a.com/x\n", 2, 1, "usage: require module/path v1.2.3"),
        ("require (\n\ta.com/x\n)\n", 2, 2, "usage: require module/path v1.2.3"),
        ("require a.com/x 1.2.3\n", 1, 1, "must be of the form v1.2.3"),
        ("require a.com/x latest\n", 1, 1, "must be of the form v1.2.3"),
        ("require a.com/x v1.2.3.4\n", 1, 1, "must be of the form v1.2.3"),
        ("require a.com/x v01.2.3\n", 1, 1, "must be of the form v1.2.3"),
        ('module "a.com/x\n', 1, 16, "unexpected newline in string"),
        ('module x\nrequire "a.com/x', 2, 9, "unexpected EOF in string"),
        ('require "a.com/\\q" v1.0.0\n', 1, 1, "invalid quoted string"),
        ("require `a.com/x` v1.0.0\n", 1, 1, "unquoted string cannot contain quote"),
        ("require a.com/'x' v1.0.0\n", 1, 1, "unquoted string cannot contain quote"),
        ("module x /* old */\n", 1, 10, "must use // comments"),
        ("module x\n/* block\n comment */\n", 2, 1, "must use // comments"),
        ("go 1.21\ngo 1.22\n", 2, 1, "repeated go statement"),
        ("go 1.21 1.22\n", 1, 1, "go directive expects exactly one argument"),
        ("go 1.21.x\n", 1, 1, "invalid go version '1.21.x'"),
        ("go v1.21\n", 1, 1, "invalid go version"),
        ("go 1\n", 1, 1, "invalid go version"),
        ("toolchain 1.21\n", 1, 1, "invalid toolchain version"),
        ("toolchain go1.21\ntoolchain go1.22\n", 2, 1, "repeated toolchain statement"),
        ("module a\nmodule b\n", 2, 1, "repeated module statement"),
        ("module\n", 1, 1, "usage: module module/path"),
        ("go (\n\t1.21\n)\n", 1, 1, "unknown block type: go"),
        ("require foo (\n)\n", 1, 1, "unknown block type: require foo"),
        ("replace a.com/x => b.com/x\n", 1, 1, "must be directory path"),
        ("replace a.com/x => b.com/x@v1.0.0\n", 1, 1, "not 'path@version'"),
        ("replace a.com/x => ./x v1.0.0\n", 1, 1, "cannot have version"),
        ("replace a.com/x ../x\n", 1, 1, "usage: replace"),
        ("replace a.com/x v1 v2 => ../x\n", 1, 1, "usage: replace"),
        ("retract\n", 1, 1, "expected '[' or version"),
        ("module m\nretract [v1.0.0 v1.1.0]\n", 2, 1, "expected ','"),
        ("module m\nretract [v1.0.0, v1.1.0\n", 2, 1, "expected ']'"),
        ("module m\nretract v1.0.0 v1.1.0\n", 2, 1, "unexpected token after version"),
        ("retract v1.0.0\n", 1, 9, "no module directive found"),
        ("godebug nokeyvalue\n", 1, 1, "usage: godebug key=value"),
        ("godebug a=b,c\n", 1, 1, "usage: godebug key=value"),
        ("tool\n", 1, 1, "tool directive expects exactly one argument"),
        ("require (\n) x\n", 2, 3, "expected newline after closing paren"),
        ("\ufeffmodule x\n", 1, 1, "byte-order mark"),
        ("module x\x00y\n", 1, 9, "unexpected input character"),
        ("module x\u00a0y\n", 1, 9, "unexpected input character"),
        ("module a\n)\n", 2, 1, "unknown directive: )"),
    ],
)
def test_errors(text: str, line: int, column: int, fragment: str) -> None:
    e = err(text)
    assert fragment in e.message
    assert (e.line, e.column) == (line, column)
    assert str(e).startswith(f"{line}:{column}: ")


def test_syntax_errors_come_before_directive_errors() -> None:
    # As in the go command: the whole file is parsed before directives are checked.
    e = err("frobnicate\nmodule x\nrequire (\n")
    assert "unterminated block" in e.message
    assert e.line == 3


def test_first_directive_error_wins() -> None:
    e = err("module x\nrequire a.com/x\nfrobnicate\n")
    assert e.line == 2


# ---------------------------------------------------------------------------------------------
# Go versions


ORDERED = [
    "1.19",  # = 1.19.0 before Go 1.21
    "1.20rc1",
    "1.20",
    "1.20.1",
    "1.21",  # language version
    "1.21beta1",
    "1.21rc1",
    "1.21rc2",
    "1.21.0",
    "1.21.1",
    "1.24",
    "1.24.6",
    "1.25rc1",
    "1.25.0",
    "1.100",
]


def test_go_versions_sort_like_the_go_command() -> None:
    shuffled = random.Random(0).sample(ORDERED, len(ORDERED))
    assert sorted(shuffled, key=go_version_key) == ORDERED
    assert sorted(ORDERED[1::2] + ORDERED[::2], key=go_version_key) == ORDERED
    for i, a in enumerate(ORDERED):
        for j, b in enumerate(ORDERED):
            assert compare_go_versions(a, b) == (i > j) - (i < j), (a, b)


def test_go_version_equivalences() -> None:
    assert compare_go_versions("1.20", "1.20.0") == 0  # before 1.21, x.y means x.y.0
    assert compare_go_versions("1.21", "1.21.0") == -1
    assert compare_go_versions("go1.24.6", "1.24.6") == 0
    assert compare_go_versions("go1.24.6", "go1.25rc1") == -1
    assert compare_go_versions("1", "1.0.0") == 0


def test_malformed_go_versions_sort_first_and_tie() -> None:
    assert compare_go_versions("junk", "1.0") == -1
    assert compare_go_versions("junk", "1.21.x") == 0
    assert go_version_key("01.2") == go_version_key("") == (0,)
    assert compare_go_versions("1.21.3rc1", "1.0") == -1  # no prereleases of patch releases


def test_toolchain_version() -> None:
    assert toolchain_version("go1.24.6") == "1.24.6"
    assert toolchain_version("go1.21rc1") == "1.21rc1"
    assert toolchain_version("go1.21.3-custom") == "1.21.3"
    assert toolchain_version("gccgo-go1.21.0") == "1.21.0"
    assert toolchain_version("default") == ""
    assert toolchain_version("local") == ""
    assert toolchain_version("go/1.21") == ""


@pytest.mark.parametrize(
    ("have", "want", "kind"),
    [
        ("1.24", "1.24.6", "patch"),
        ("1.24.5", "1.24.6", "patch"),
        ("1.24rc1", "1.24.0", "patch"),
        ("1.23.4", "1.24.6", "minor"),
        ("1.23", "1.24.6", "minor"),
        ("1.24.6", "1.24.6", "equal"),
        ("go1.24.6", "1.24.6", "equal"),
        ("1.25.0", "1.24.6", "newer"),
        ("1.24.7", "1.24.6", "newer"),
        ("1.24.6", "2.0", "major"),
    ],
)
def test_gap_kind(have: str, want: str, kind: str) -> None:
    assert gap_kind(have, want) == kind


def test_gap_kind_rejects_malformed_versions() -> None:
    with pytest.raises(ValueError, match="not a Go version"):
        gap_kind("1.24.x", "1.24.6")


def test_newest_go() -> None:
    assert newest_go(parse_gomod("go 1.24.6\ntoolchain go1.24.2\n")) == GoDirective("1.24.6", 1, 4)
    assert newest_go(parse_gomod("go 1.24\ntoolchain go1.24.6\n")) == GoDirective("1.24.6", 2, 11)
    assert newest_go(parse_gomod("go 1.24\ntoolchain default\n")) == GoDirective("1.24", 1, 4)
    assert newest_go(parse_gomod("go 1.24.6\ntoolchain go1.24.6\n")) == GoDirective("1.24.6", 1, 4)
    assert newest_go(parse_gomod("toolchain go1.22.1\n")) == GoDirective("1.22.1", 1, 11)
    assert newest_go(parse_gomod("module x\n")) is None


# ---------------------------------------------------------------------------------------------
# locate and helpers


def test_locate() -> None:
    mod = parse_gomod(CHARIOT)
    assert locate(mod, ("module",)) == (1, 8)
    assert locate(mod, ("go",)) == (3, 4)
    assert locate(mod, ("toolchain",)) == (5, 11)
    assert locate(mod, ("require", "github.com/gorilla/mux")) == (13, 2)
    assert locate(mod, ("require", 0)) == (8, 2)
    assert locate(mod, ("require", -1)) is None
    assert locate(mod, ("require", 99)) is None
    assert locate(mod, ("replace", "github.com/example/tabularium")) == (23, 9)
    assert locate(mod, ("require", "github.com/gin-gonic/gin")) is None
    assert locate(mod, ("go", "extra")) is None
    assert locate(mod, ("frobnicate", "x")) is None
    assert locate(mod, ()) is None
    assert locate(parse_gomod("module x\n"), ("toolchain",)) is None


def test_is_directory_path() -> None:
    for p in (".", "..", "./x", "../x", "/x", ".\\x", "..\\x", "\\x", "C:\\x", "c:/x"):
        assert is_directory_path(p), p
    for p in ("x", "example.com/x", ".x", "...", "~/x"):
        assert not is_directory_path(p), p


def test_manifest_error_pickles() -> None:
    import pickle

    e = pickle.loads(pickle.dumps(ManifestError("boom", 3, 4)))
    assert (e.message, e.line, e.column) == ("boom", 3, 4)


# ---------------------------------------------------------------------------------------------
# properties

GO_ATOMS = [
    "module",
    "go",
    "toolchain",
    "require",
    "replace",
    "exclude",
    "retract",
    "godebug",
    "tool",
    "ignore",
    "(",
    ")",
    "[",
    "]",
    ",",
    "=>",
    "//",
    "// indirect",
    "/*",
    '"',
    '"a.com/x"',
    "`x`",
    "\\",
    "v1.2.3",
    "v2.0.0",
    "v1",
    "1.24",
    "go1.24.6",
    "default",
    "a.com/x",
    "a.com/x/v2",
    "gopkg.in/y.v3",
    "../x",
    "./y",
    "a=b",
    "é",
    "\x00",
    "\ufeff",
]
go_like = st.lists(
    st.tuples(st.sampled_from(GO_ATOMS), st.sampled_from([" ", "\t", "\n", "", "\r\n"])),
    max_size=30,
).map(lambda parts: "".join(a + b for a, b in parts))


@PROPERTY
@given(st.one_of(st.text(), go_like))
def test_parse_gomod_only_raises_manifest_error_and_is_deterministic(text: str) -> None:
    def outcome() -> object:
        try:
            return parse_gomod(text)
        except ManifestError as e:
            return ("error", e.message, e.line, e.column)

    first = outcome()
    assert first == outcome()
    if isinstance(first, tuple):
        assert 1 <= first[2] <= text.count("\n") + 1
        assert first[3] >= 1


@PROPERTY
@given(go_like)
def test_parsed_positions_point_at_their_values(text: str) -> None:
    try:
        mod = parse_gomod(text)
    except ManifestError:
        return
    lines = text.split("\n")

    def at(line: int, column: int) -> str:
        return lines[line - 1][column - 1 :]

    for r in mod.requires + mod.excludes:
        assert at(r.line, r.column).startswith((r.path, '"'))
    for rep in mod.replaces:
        assert at(rep.line, rep.column).startswith((rep.old_path, '"'))
    for d in (mod.go, mod.toolchain):
        if d is not None:
            assert at(d.line, d.column).startswith(d.value)


versions = st.builds(
    lambda major, minor, tail: f"{major}.{minor}{tail}",
    st.integers(1, 3),
    st.integers(0, 30),
    st.one_of(
        st.just(""),
        st.integers(0, 12).map(lambda p: f".{p}"),
        st.tuples(st.sampled_from(["alpha", "beta", "rc"]), st.integers(1, 3)).map(
            lambda kp: f"{kp[0]}{kp[1]}"
        ),
    ),
)


@PROPERTY
@given(versions, versions, versions)
def test_go_version_order_is_a_total_order(a: str, b: str, c: str) -> None:
    assert compare_go_versions(a, b) == -compare_go_versions(b, a)
    assert compare_go_versions(a, a) == 0
    if compare_go_versions(a, b) <= 0 and compare_go_versions(b, c) <= 0:
        assert compare_go_versions(a, c) <= 0
    assert compare_go_versions(a, b) == compare_go_versions(f"go{a}", b)


@PROPERTY
@given(versions, versions)
def test_gap_kind_agrees_with_the_order(a: str, b: str) -> None:
    kind = gap_kind(a, b)
    c = compare_go_versions(a, b)
    assert (kind == "newer") == (c > 0)
    assert (kind == "equal") == (c == 0)


@PROPERTY
@given(st.text(max_size=40))
def test_go_version_helpers_never_raise(text: str) -> None:
    go_version_key(text)
    compare_go_versions(text, "1.24.6")
    toolchain_version(text)


@functools.cache
def _large() -> str:
    body = "".join(f"\tgithub.com/org/mod{i} v1.{i}.0\n" for i in range(5000))
    return f"module example.com/big\n\ngo 1.24\n\nrequire (\n{body})\n"


def test_large_file_parses_quickly() -> None:
    import time

    start = time.perf_counter()
    mod = parse_gomod(_large())
    assert len(mod.requires) == 5000
    assert mod.requires[-1].line == 5005
    assert time.perf_counter() - start < 2.0
