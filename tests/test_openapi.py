"""OpenAPI definitions (reviewer.model.openapi): where an API's definition is, how a local file is
read (inside the root only, with the template guards), how operations map to routes and
integrations, where findings on them are located, and that the cache sees an included file
change."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from reviewer.checks.routes import AWS_IAM, COGNITO, NONE, UNKNOWN, operation_security
from reviewer.core.types import Finding, Persona
from reviewer.decode.load import decode
from reviewer.model import openapi
from reviewer.model.build import build
from reviewer.runner import pipeline
from reviewer.runner.engine import ScanOptions, all_checks, scan

CHECKS = {c.rule_id: c for c in all_checks()}

SAM = "Transform: AWS::Serverless-2016-10-31\nResources:\n"


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")


def _template(text: str, file: str = "app/template.yaml") -> Any:
    tree, problems = decode(text)
    assert not problems, problems
    return build(file, "app", tree, text)


def _api(definition: str, kind: str = "AWS::Serverless::Api") -> str:
    return f"{SAM}  Api:\n    Type: {kind}\n    Properties:\n{definition}"


def _scan(root: Path, *rules: str, **options: Any) -> list[Finding]:
    opts = ScanOptions(
        checks=tuple(CHECKS[r] for r in rules), persona=Persona.AUDITOR, strict=True, **options
    )
    return [f for f in scan(root, opts).findings if f.rule_id in rules]


# -- where the definition is ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("./api.yaml", "app/api.yaml"),
        ("api.yaml", "app/api.yaml"),
        ("specs/../api.json", "app/api.json"),
        ("../shared/api.yaml", "shared/api.yaml"),
        ("../../api.yaml", None),  # above the root
        ("/etc/passwd", None),
        ("C:\\specs\\api.yaml", None),
        ("", None),
        (".", "app"),  # a folder: read, it is "not a regular file"
    ],
)
def test_a_location_resolves_from_the_template_folder_inside_the_root_only(
    location: str, expected: str | None
) -> None:
    assert openapi.resolve_location("app/template.yaml", location) == expected


INCLUDE_LONG = (
    "      DefinitionBody:\n        Fn::Transform:\n          Name: AWS::Include\n"
    "          Parameters:\n            Location: ./api.yaml\n"
)
INCLUDE_SHORT = (
    "      DefinitionBody: !Transform\n        Name: AWS::Include\n"
    "        Parameters: {Location: api.yaml}\n"
)


@pytest.mark.parametrize(
    ("kind", "definition", "file", "local", "sam_auth"),
    [
        ("AWS::Serverless::Api", INCLUDE_LONG, "app/api.yaml", True, True),
        ("AWS::Serverless::Api", INCLUDE_SHORT, "app/api.yaml", True, True),
        (
            "AWS::Serverless::HttpApi",
            "      DefinitionUri: api.yaml\n",
            "app/api.yaml",
            True,
            False,
        ),
        (
            "AWS::ApiGateway::RestApi",
            "      BodyS3Location: ./api.yaml\n",
            "app/api.yaml",
            True,
            False,
        ),
        (
            "AWS::ApiGatewayV2::Api",
            INCLUDE_LONG.replace("DefinitionBody", "Body"),
            "app/api.yaml",
            True,
            False,  # not SAM: no SAM Auth applies
        ),
        ("AWS::Serverless::Api", "      DefinitionUri: s3://b/api.yaml\n", None, False, True),
        (
            "AWS::Serverless::Api",
            "      DefinitionUri: {Bucket: b, Key: api.yaml}\n",
            None,
            False,
            True,
        ),
        (
            "AWS::ApiGateway::RestApi",
            "      BodyS3Location: {Bucket: b, Key: k}\n",
            None,
            False,
            True,
        ),
        (
            "AWS::Serverless::Api",
            INCLUDE_LONG.replace("./api.yaml", "!Sub 's3://${AWS::AccountId}/api.yaml'"),
            None,
            False,
            True,
        ),
    ],
)
def test_where_an_api_definition_is(
    kind: str, definition: str, file: str | None, local: bool, sam_auth: bool
) -> None:
    t = _template(_api(definition, kind))
    found = openapi.definition(t, t.resources["Api"])
    assert found is not None
    assert found.file == file
    assert found.local is local
    assert found.body is None  # nothing was read: no root was given
    if local:
        assert found.problem == "it was not read"
        assert found.sam_auth is sam_auth
    else:
        assert found.problem  # says why it is not local


def test_an_inline_body_and_a_json_string_body_are_definitions() -> None:
    t = _template(
        _api(
            '      Name: x\n      Body: \'{"paths": {"/a": {"get": {}}}}\'\n',
            "AWS::ApiGateway::RestApi",
        )
    )
    found = openapi.definition(t, t.resources["Api"])
    assert found is not None and found.file is None
    assert found.body == {"paths": {"/a": {"get": {}}}}
    broken = _template(
        _api("      Name: x\n      Body: '{\"paths\": '\n", "AWS::ApiGateway::RestApi")
    )
    bad = openapi.definition(broken, broken.resources["Api"])
    assert bad is not None and bad.body is None and bad.local and "JSON" in bad.problem


# -- reading a local file ------------------------------------------------------------------------


def test_a_local_file_is_read_as_yaml_or_json_with_marks(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/api.yaml": "\ufeffopenapi: 3.0.1\r\npaths:\r\n  /a:\r\n    get: {}\r\n",
            "app/api.json": '{"paths": {"/b": {"post": {}}}}',
        },
    )
    yaml_doc = openapi.read_document(tmp_path, "app/api.yaml", 10_000)
    assert yaml_doc.problem == ""
    assert list(yaml_doc.tree["paths"]) == ["/a"]
    assert yaml_doc.lines[3] == "    get: {}"  # CRLF read as LF, the BOM dropped
    json_doc = openapi.read_document(tmp_path, "app/api.json", 10_000)
    assert json_doc.problem == "" and list(json_doc.tree["paths"]["/b"]) == ["post"]
    assert yaml_doc.digest == openapi.fingerprint(tmp_path, "app/api.yaml", 10_000)


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        ("missing", "does not exist"),
        ("link", "is a symbolic link"),
        ("folder-link", "app/specs is a symbolic link"),
        ("large", "larger than the size limit"),
        ("folder", "not a regular file"),
        ("binary", "not UTF-8"),
        ("broken", "could not be parsed"),
        ("list", "the top level is not a mapping"),
        ("empty", "is empty"),
    ],
)
def test_a_local_file_that_cannot_be_used_says_why(tmp_path: Path, setup: str, says: str) -> None:
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    _write(outside, {"specs/api.yaml": "paths: {}\n", "api.yaml": "paths: {}\n"})
    rel = "app/specs/api.yaml" if setup == "folder-link" else "app/api.yaml"
    (root / "app").mkdir(parents=True)
    if setup == "link":
        os.symlink(outside / "api.yaml", root / "app/api.yaml")
    elif setup == "folder-link":
        os.symlink(outside / "specs", root / "app/specs")
    elif setup == "large":
        _write(root, {rel: "paths: {}\n#" + "x" * 2_000})
    elif setup == "folder":
        (root / rel).mkdir()
    elif setup == "binary":
        _write(root, {rel: b"paths:\0\0\xff"})
    elif setup == "broken":
        _write(root, {rel: "paths: [unclosed\n"})
    elif setup == "list":
        _write(root, {rel: "- a\n- b\n"})
    elif setup == "empty":
        _write(root, {rel: "\n"})
    doc = openapi.read_document(root, rel, 1_000)
    assert doc.tree is None
    assert says in doc.problem, doc.problem
    assert doc.digest == openapi.fingerprint(root, rel, 1_000)


def test_at_most_max_documents_files_are_read_per_template(tmp_path: Path) -> None:
    count = openapi.MAX_DOCUMENTS + 3
    files: dict[str, str | bytes] = {f"app/api{i}.yaml": "paths: {}\n" for i in range(count)}
    apis = "".join(
        f"  Api{i}:\n    Type: AWS::Serverless::Api\n    Properties:\n"
        f"      StageName: p\n      DefinitionUri: api{i}.yaml\n"
        for i in range(count)
    )
    _write(tmp_path, {**files, "app/template.yaml": SAM + apis})
    t = _template(SAM + apis)
    openapi.attach(t, tmp_path, 10_000)
    assert len(t.documents) == openapi.MAX_DOCUMENTS
    unread = [
        api
        for api in t.resources.values()
        if api.type == "AWS::Serverless::Api"
        and (d := openapi.definition(t, api)) is not None
        and d.body is None
    ]
    assert len(unread) == 3


# -- how an operation is authorized --------------------------------------------------------------

SCHEMES = {
    "components": {
        "securitySchemes": {
            "Pool": {"type": "apiKey", "x-amazon-apigateway-authtype": "cognito_user_pools"},
            "Key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
        }
    }
}


@pytest.mark.parametrize(
    ("body", "op", "kind", "api_key"),
    [
        ({}, {}, None, False),  # nothing said
        ({"security": [{"Pool": []}]}, {}, COGNITO, False),  # the API-level default
        ({"security": [{"Pool": []}]}, {"security": []}, NONE, False),  # an empty list: none
        ({}, {"security": [{}]}, NONE, False),  # an anonymous alternative
        ({}, {"security": [{"Key": []}]}, NONE, True),  # an API key alone
        ({}, {"x-amazon-apigateway-auth": {"type": "aws_iam"}}, AWS_IAM, False),
        ({"security": [{"Pool": []}]}, {"x-amazon-apigateway-auth": {"type": "NONE"}}, NONE, False),
        ({}, {"security": [], "x-amazon-apigateway-auth": {"type": "AWS_IAM"}}, AWS_IAM, False),
        ({}, {"x-amazon-apigateway-auth": {"type": "OTHER"}}, UNKNOWN, False),
        ({}, {"security": "Pool"}, UNKNOWN, False),  # the wrong type: not a guess
    ],
)
def test_operation_security(
    body: dict[str, Any], op: dict[str, Any], kind: str | None, api_key: bool
) -> None:
    decided = operation_security(
        {**SCHEMES, **body}, op, ("Properties", "Body", "paths", "/a", "get"), "Body"
    )
    if kind is None:
        assert decided is None
    else:
        assert decided is not None
        assert (decided[0], decided[3]) == (kind, api_key)


# -- findings on an included definition ----------------------------------------------------------

TEMPLATE = (
    SAM
    + "  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: prod\n"
    + INCLUDE_LONG
    + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
    "      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: src/\n"
    "      Timeout: 60\n"
)
DEFINITION = """openapi: "3.0.1"
info: {title: t, version: "1"}
paths:
  /items:
    get:
      security: []
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations
"""


def test_a_finding_on_an_included_operation_is_located_in_that_file(tmp_path: Path) -> None:
    _write(tmp_path, {"app/template.yaml": TEMPLATE, "app/api.yaml": DEFINITION})
    (auth,) = _scan(tmp_path, "AR-API-005")
    assert (auth.file, auth.line, auth.resource) == ("app/api.yaml", 6, "Api")
    assert auth.source is not None and "security: []" in auth.source
    assert "(in app/api.yaml)" in auth.message
    (api,) = auth.related
    assert (api.file, api.line) == ("app/template.yaml", 11)  # the Location line
    (timeout,) = _scan(tmp_path, "AR-CMP-003")
    assert (timeout.file, timeout.resource, timeout.property) == (
        "app/template.yaml",
        "Fn",
        "Timeout",
    )
    assert "(in app/api.yaml line 10)" in timeout.message
    (integration,) = timeout.related
    assert (integration.file, integration.line) == ("app/api.yaml", 10)


def test_the_same_findings_with_the_template_pool(tmp_path: Path) -> None:
    """Templates loaded in worker processes carry their included files too."""
    files: dict[str, str | bytes] = {}
    for i in range(pipeline.POOL_MIN_FILES + 2):
        files[f"s{i}/template.yaml"] = TEMPLATE.replace("app/", f"s{i}/")
        files[f"s{i}/api.yaml"] = DEFINITION
    _write(tmp_path, files)

    def seen(jobs: int) -> list[tuple[str, int, str]]:
        return sorted((f.file, f.line, f.message) for f in _scan(tmp_path, "AR-API-005", jobs=jobs))

    one = seen(1)
    assert len(one) == pipeline.POOL_MIN_FILES + 2
    assert all(file.endswith("/api.yaml") for file, _, _ in one)
    assert seen(2) == one


def test_the_cache_sees_an_included_file_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    cache = tmp_path / "cache"
    _write(root, {"app/template.yaml": TEMPLATE, "app/api.yaml": DEFINITION})
    sessions: list[pipeline.Session] = []
    finish = pipeline.Session.finish

    def keep(session: pipeline.Session) -> None:
        sessions.append(session)
        finish(session)

    monkeypatch.setattr(pipeline.Session, "finish", keep)

    def run() -> list[str]:
        found = _scan(root, "AR-API-005", cache_dir=str(cache), jobs=1)
        return [f"{f.file}:{f.line}" for f in found]

    assert run() == ["app/api.yaml:6"]
    assert run() == ["app/api.yaml:6"]
    assert sessions[-1].stats.get("report_hit") == 1  # nothing changed: the whole report
    secured = DEFINITION.replace("security: []", "x-amazon-apigateway-auth: {type: AWS_IAM}")
    _write(root, {"app/api.yaml": secured})  # the template itself is unchanged
    assert run() == []
    assert "report_hit" not in sessions[-1].stats
    assert sessions[-1].stats.get("loaded_from_cache") == 0  # the model was read again
    assert run() == []
    assert sessions[-1].stats.get("report_hit") == 1
    _write(root, {"app/api.yaml": DEFINITION})  # back to the first content: its entries
    assert run() == ["app/api.yaml:6"]
    assert sessions[-1].stats.get("report_hit") == 1
    (root / "app/api.yaml").unlink()  # gone: the API is not judged, and that is said
    found = _scan(root, "AR-API-005", cache_dir=str(cache), jobs=1)
    assert [(f.severity.value, "does not exist" in f.message) for f in found] == [("info", True)]


def test_documents_travel_with_the_pickled_template(tmp_path: Path) -> None:
    import pickle

    _write(tmp_path, {"app/api.yaml": DEFINITION})
    t = _template(TEMPLATE)
    openapi.attach(t, tmp_path, 100_000)
    back = pickle.loads(pickle.dumps(t))
    found = openapi.definition(back, back.resources["Api"])
    assert found is not None and found.body is not None
    assert openapi.place(
        back, "Api", ("Properties", "DefinitionBody", "paths", "/items", "get")
    ) == (
        "app/api.yaml",
        ("__line__", 5, 5),
    )
    assert json.loads(json.dumps(openapi.documents_digest(back))) == [
        ["app/api.yaml", openapi.fingerprint(tmp_path, "app/api.yaml", 100_000)]
    ]


# -- siblings: other rules that read the definition ----------------------------------------------

OBS_TEMPLATE = (
    "Transform: AWS::Serverless-2016-10-31\nResources:\n"
    "  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: prod\n"
    "      DefinitionUri: api.yaml\n"
    "  Api5xx:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n"
    "      Namespace: AWS/ApiGateway\n      MetricName: 5XXError\n      Dimensions:\n"
    "        - {Name: ApiName, Value: NAME}\n        - {Name: Stage, Value: prod}\n"
    "      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 0\n"
    "      ComparisonOperator: GreaterThanThreshold\n"
)


@pytest.mark.parametrize(("name", "found"), [("orders-api", False), ("another-api", True)])
def test_an_api_named_by_its_included_definition_title_is_matched_by_name(
    tmp_path: Path, name: str, found: bool
) -> None:
    """AR-OBS-005: CloudWatch publishes a REST API under its name, which an API without a Name
    takes from its definition's title: read from the included file, it is matched exactly
    (before, any ApiName alarm of the template got the benefit of the doubt)."""
    _write(
        tmp_path,
        {
            "app/template.yaml": OBS_TEMPLATE.replace("NAME", name),
            "app/api.yaml": "openapi: 3.0.1\ninfo: {title: orders-api, version: '1'}\npaths: {}\n",
        },
    )
    stages = [f for f in _scan(tmp_path, "AR-OBS-005") if "5XXError" in f.message]
    assert bool(stages) is found, stages


def test_an_inline_suppression_on_the_api_covers_its_included_operations(tmp_path: Path) -> None:
    """A finding located in the included file is suppressed by the template's inline entry on
    the API resource (where the include is written); another file's finding is not."""
    suppressed = TEMPLATE.replace(
        "    Type: AWS::Serverless::Api\n",
        "    Type: AWS::Serverless::Api\n    Metadata:\n      archreview:\n        ignore:\n"
        "          - {id: AR-API-005, reason: public catalogue by design}\n",
    )
    _write(tmp_path, {"app/template.yaml": suppressed, "app/api.yaml": DEFINITION})
    opts = ScanOptions(checks=(CHECKS["AR-API-005"],), persona=Persona.AUDITOR, strict=True)
    (finding,) = [f for f in scan(tmp_path, opts).findings if f.rule_id == "AR-API-005"]
    assert finding.file == "app/api.yaml"
    assert finding.suppressed is not None and finding.suppressed.kind == "inline"
