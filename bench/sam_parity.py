"""Parity of archreview's native SAM model with aws-sam-translator on a corpus.

    python bench/sam_parity.py [CORPUS_DIR] [--all-types] [--json]

For every template with the SAM transform that decodes (default corpus:
../shared/corpora/serverless-patterns), compare the set of (type, logical id) that
aws-sam-translator generates with the set our native model (`reviewer.model.build.build`)
holds, for the resource types the rules read:

    AWS::ApiGateway::Stage, AWS::ApiGatewayV2::Stage, AWS::ApiGateway::Method,
    AWS::ApiGatewayV2::Route, AWS::Lambda::EventSourceMapping, AWS::Lambda::Permission,
    AWS::IAM::Role

Declared resources of those types count on both sides (the translator copies them through).
SAM writes the REST methods and HTTP routes of its APIs into the OpenAPI body, so neither side
has an AWS::ApiGateway::Method / AWS::ApiGatewayV2::Route for them: only declared ones compare.

The translator runs offline: local CodeUri / ContentUri / DefinitionUri / Location values become
`s3://bucket/key` placeholders (as `sam package` would make them), a missing CodeUri gets one
(`sam build` defaults it to "."), an Image function without ImageUri gets a registry placeholder,
a local `AWS::Include` is inlined (or, when the corpus lacks the file, an empty OpenAPI document
under DefinitionBody), the managed-policy map and the Serverless Application Repository client
are stubs. Parameters take their defaults (the translator's own behaviour). A template the
translator rejects counts as "translator refused" and is left out of the comparison.

`--all-types` compares every generated type instead, less the types whose ids hash code or
bodies (Lambda Version, LayerVersion, API Deployment) and the SAM resources our model keeps under
their SAM type (Function -> AWS::Lambda::Function under the same id).

Timings: decoding is shared (cfnlint.decode, done once per file); "model" is `build()` on the
decoded tree, "translator" is the placeholder pass plus `Translator.translate` on a plain copy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpora" / "serverless-patterns"

TYPES = (
    "AWS::ApiGateway::Stage",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGateway::Method",
    "AWS::ApiGatewayV2::Route",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Permission",
    "AWS::IAM::Role",
)

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIP_DIRS = {
    ".git",
    "node_modules",
    "vendor",
    "dist",
    "build",
    "target",
    ".next",
    ".aws-sam",
    "cdk.out",
}
MANIFESTS = {"package.json", "package-lock.json", "tsconfig.json", "cdk.json"}
PLACEHOLDER_S3 = "s3://bucket/key"
PLACEHOLDER_HTTPS = "https://s3.amazonaws.com/bucket/key"
EMPTY_OPENAPI = {"swagger": "2.0", "info": {"title": "placeholder", "version": "1"}, "paths": {}}
PLACEHOLDER_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:latest"

Pair = tuple[str, str]  # (type, logical id)


# -- corpus ---------------------------------------------------------------------------------
def corpus_files(corpus: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(corpus):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name.endswith(SUFFIXES) and name not in MANIFESTS:
                yield Path(dirpath) / name


def has_sam_transform(tree: Mapping[str, Any]) -> bool:
    transform = tree.get("Transform")
    items = transform if isinstance(transform, list) else [transform]
    return any(item == SAM_TRANSFORM for item in items)


@dataclass
class Source:
    rel: str
    text: str
    tree: dict[str, Any]
    path: Path | None = None


def sam_templates(corpus: Path) -> tuple[list[Source], int, float]:
    """(decoded SAM templates, SAM-looking files that did not decode, decode seconds)."""
    from reviewer.decode.load import decode

    out: list[Source] = []
    undecodable = 0
    seconds = 0.0
    for path in corpus_files(corpus):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "AWS::Serverless" not in text:
            continue
        start = time.perf_counter()
        tree, problems = decode(text, json_first=path.suffix == ".json")
        seconds += time.perf_counter() - start
        if tree is None or problems:
            undecodable += 1
            continue
        if has_sam_transform(tree):
            out.append(Source(path.relative_to(corpus).as_posix(), text, tree, path))
    return out, undecodable, seconds


# Types whose translator ids hash the code or the API body (Version, LayerVersion,
# Deployment): left out of the --all-types comparison on both sides.
HASHED_TYPES = {"AWS::Lambda::Version", "AWS::Lambda::LayerVersion", "AWS::ApiGateway::Deployment"}


def in_scope(rtype: str, all_types: bool) -> bool:
    if all_types:
        return rtype not in HASHED_TYPES and not rtype.startswith("AWS::Serverless::")
    return rtype in TYPES


# -- our model ------------------------------------------------------------------------------
def model_pairs(src: Source, all_types: bool = False) -> tuple[set[Pair], set[str]]:
    """(our (type, logical id) pairs in scope, the logical ids our model keeps as SAM types)."""
    from reviewer.model.build import build

    template = build(src.rel, ".", src.tree, src.text)
    pairs = {
        (r.type, r.logical_id) for r in template.resources.values() if in_scope(r.type, all_types)
    }
    sam_ids = {
        r.logical_id for r in template.resources.values() if r.type.startswith("AWS::Serverless::")
    }
    return pairs, sam_ids


# -- aws-sam-translator ---------------------------------------------------------------------
def _local(value: Any) -> bool:
    return isinstance(value, str) and not value.startswith(("s3://", "https://", "http://"))


def _includes(node: Any, base: Path | None, key: str = "") -> Any:
    """AWS::Include of a local file: inlined when the file is there (CloudFormation expands the
    include before the SAM transform edits a DefinitionBody); a missing file (the corpus keeps
    templates only) becomes an empty OpenAPI document under DefinitionBody, else an S3
    placeholder. Logical ids do not depend on the paths of the document."""
    if isinstance(node, dict):
        spec = node.get("Fn::Transform")
        if len(node) == 1 and isinstance(spec, dict) and spec.get("Name") == "AWS::Include":
            params = spec.get("Parameters")
            location = params.get("Location") if isinstance(params, dict) else None
            if isinstance(params, dict) and _local(location):
                included = _read_include(base / str(location)) if base else None
                if included is not None:
                    return included
                if key == "DefinitionBody":
                    return dict(EMPTY_OPENAPI)
                params["Location"] = PLACEHOLDER_S3
            return node
        return {k: _includes(v, base, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_includes(v, base, key) for v in node]
    return node


def _read_include(path: Path) -> Any:
    from reviewer.decode.load import decode
    from reviewer.decode.nodes import plain

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    tree, problems = decode(text, json_first=path.suffix == ".json")
    return plain(tree) if tree is not None and not problems else None


def with_placeholders(tree: Mapping[str, Any], base: Path | None = None) -> dict[str, Any]:
    """What `sam build && sam package` would hand to the transform, as far as ids go.
    `base`: the template's folder, for local AWS::Include files."""
    from reviewer.decode.nodes import plain

    doc: dict[str, Any] = _includes(plain(tree), base)
    glb = doc.get("Globals")
    gfn = glb.get("Function") if isinstance(glb, dict) else None
    if isinstance(gfn, dict) and _local(gfn.get("CodeUri")):
        gfn["CodeUri"] = PLACEHOLDER_S3
    gfn = gfn if isinstance(gfn, dict) else {}
    resources = doc.get("Resources")
    if not isinstance(resources, dict):
        return doc
    for res in resources.values():
        if not isinstance(res, dict):
            continue
        props = res.get("Properties")
        if props is None and res.get("Type") == "AWS::Serverless::Function":
            props = res["Properties"] = {}
        if not isinstance(props, dict):
            continue
        rtype = res.get("Type")
        if rtype == "AWS::Serverless::Function":
            image = (props.get("PackageType") or gfn.get("PackageType")) == "Image"
            if image:
                if not props.get("ImageUri") and not gfn.get("ImageUri"):
                    props["ImageUri"] = PLACEHOLDER_IMAGE
            elif _local(props.get("CodeUri")) or not any(
                k in props or k in gfn for k in ("CodeUri", "InlineCode", "ImageUri")
            ):
                props["CodeUri"] = PLACEHOLDER_S3
        elif rtype == "AWS::Serverless::LayerVersion":
            if _local(props.get("ContentUri")) or "ContentUri" not in props:
                props["ContentUri"] = PLACEHOLDER_S3
        elif rtype in (
            "AWS::Serverless::Api",
            "AWS::Serverless::HttpApi",
            "AWS::Serverless::StateMachine",
        ):
            if _local(props.get("DefinitionUri")):
                props["DefinitionUri"] = PLACEHOLDER_S3
        elif rtype == "AWS::Serverless::Application":
            if _local(props.get("Location")):
                props["Location"] = PLACEHOLDER_HTTPS
        elif rtype == "AWS::Serverless::GraphQLApi":
            if _local(props.get("SchemaUri")):
                props["SchemaUri"] = PLACEHOLDER_S3
            for section in ("Functions", "Resolvers"):
                _graphql_code(props.get(section))
    return doc


def _graphql_code(node: Any) -> None:
    if not isinstance(node, dict):
        return
    for value in node.values():
        if isinstance(value, dict):
            if _local(value.get("CodeUri")):
                value["CodeUri"] = PLACEHOLDER_S3
            _graphql_code({k: v for k, v in value.items() if isinstance(v, dict)})


class _StubSar:
    """The Serverless Application Repository, offline."""

    def create_cloud_formation_template(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "TemplateUrl": PLACEHOLDER_HTTPS,
            "Status": "ACTIVE",
            "ApplicationId": kwargs.get("ApplicationId"),
            "TemplateId": "stub",
        }

    def get_application(self, **kwargs: Any) -> dict[str, Any]:
        return {}


class _StubPolicies:
    """Managed policy names SAM resolves by name (Policies: [AWSLambdaExecute] ...)."""

    def __getitem__(self, name: str) -> str:
        return f"arn:aws:iam::aws:policy/{name}"

    def get(self, name: str, default: Any = None) -> str:
        return self[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)


class Refused(Exception):
    """The translator rejected the template."""


def translate(tree: Mapping[str, Any], base: Path | None = None) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from samtranslator.parser.parser import Parser
    from samtranslator.plugins.application.serverless_app_plugin import ServerlessAppPlugin
    from samtranslator.translator.translator import Translator

    doc = with_placeholders(tree, base)
    translator = Translator(None, Parser(), plugins=[ServerlessAppPlugin(sar_client=_StubSar())])
    try:
        out: dict[str, Any] = translator.translate(
            doc,
            parameter_values={},
            get_managed_policy_map=_StubPolicies,
        )
    except Exception as err:  # any refusal: InvalidDocumentException and friends
        raise Refused(f"{type(err).__name__}: {err}") from err
    return out


def translator_pairs(
    src: Source, all_types: bool = False, sam_ids: set[str] | None = None
) -> set[Pair]:
    """The translator's pairs in scope; with all_types, less the ids in `sam_ids` (a SAM
    resource translated in place, e.g. Function -> AWS::Lambda::Function under the same id, is
    the SAM resource itself in our model)."""
    out = translate(src.tree, src.path.parent if src.path else None)
    resources = out.get("Resources") or {}
    skip = sam_ids if all_types and sam_ids else set()
    return {
        (str(r.get("Type")), str(lid))
        for lid, r in resources.items()
        if isinstance(r, Mapping) and in_scope(str(r.get("Type")), all_types) and lid not in skip
    }


# -- comparison -----------------------------------------------------------------------------
@dataclass
class Result:
    templates: int = 0
    undecodable: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    compared: int = 0
    same: Counter[str] = field(default_factory=Counter)
    only_translator: dict[str, set[Pair]] = field(default_factory=dict)
    only_model: dict[str, set[Pair]] = field(default_factory=dict)
    decode_seconds: float = 0.0
    model_seconds: float = 0.0
    translator_seconds: float = 0.0
    all_types: bool = False

    def mismatches(self) -> set[tuple[str, str, str, str]]:
        """{(template, side, type, logical id)}, side "translator" = only the translator has it."""
        out: set[tuple[str, str, str, str]] = set()
        for rel, pairs in self.only_translator.items():
            out |= {(rel, "translator", t, lid) for t, lid in pairs}
        for rel, pairs in self.only_model.items():
            out |= {(rel, "model", t, lid) for t, lid in pairs}
        return out

    def per_type(self) -> dict[str, tuple[int, int, int]]:
        """type -> (matching ids, only in the translator, only in our model)."""
        only_t: Counter[str] = Counter(t for p in self.only_translator.values() for t, _ in p)
        only_m: Counter[str] = Counter(t for p in self.only_model.values() for t, _ in p)
        types = TYPES if not self.all_types else sorted(set(self.same) | set(only_t) | set(only_m))
        return {t: (self.same[t], only_t[t], only_m[t]) for t in types}


def run(corpus: Path = CORPUS, all_types: bool = False) -> Result:
    sources, undecodable, decode_seconds = sam_templates(corpus)
    result = Result(
        templates=len(sources),
        undecodable=undecodable,
        decode_seconds=decode_seconds,
        all_types=all_types,
    )
    for src in sources:
        start = time.perf_counter()
        ours, sam_ids = model_pairs(src, all_types)
        result.model_seconds += time.perf_counter() - start
        start = time.perf_counter()
        try:
            theirs = translator_pairs(src, all_types, sam_ids)
        except Refused as err:
            result.translator_seconds += time.perf_counter() - start
            result.refused[src.rel] = str(err).splitlines()[0][:200]
            continue
        result.translator_seconds += time.perf_counter() - start
        result.compared += 1
        for t, _ in ours & theirs:
            result.same[t] += 1
        if theirs - ours:
            result.only_translator[src.rel] = theirs - ours
        if ours - theirs:
            result.only_model[src.rel] = ours - theirs
    return result


def report(result: Result) -> str:
    lines = [
        f"SAM templates decoded: {result.templates} (SAM-looking files not decoded: "
        f"{result.undecodable})",
        f"translator refused: {len(result.refused)}; compared: {result.compared}",
        "",
        f"{'type':40} {'match':>6} {'only SAM':>9} {'only ours':>9}",
    ]
    total = [0, 0, 0]
    for t, (same, only_t, only_m) in result.per_type().items():
        lines.append(f"{t:40} {same:6} {only_t:9} {only_m:9}")
        total = [total[0] + same, total[1] + only_t, total[2] + only_m]
    lines.append(f"{'total':40} {total[0]:6} {total[1]:9} {total[2]:9}")
    mismatching = sorted(set(result.only_translator) | set(result.only_model))
    lines += ["", f"mismatching templates: {len(mismatching)}"]
    for rel in mismatching:
        lines.append(f"  {rel}")
        for t, lid in sorted(result.only_translator.get(rel, ())):
            lines.append(f"    only SAM:  {t} {lid}")
        for t, lid in sorted(result.only_model.get(rel, ())):
            lines.append(f"    only ours: {t} {lid}")
    lines += ["", "translator refused:"]
    lines += [f"  {rel}: {why}" for rel, why in sorted(result.refused.items())]
    lines += [
        "",
        f"timings (s): decode {result.decode_seconds:.2f} (shared), "
        f"native model {result.model_seconds:.2f}, "
        f"aws-sam-translator {result.translator_seconds:.2f} "
        f"(over {result.templates} templates)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--all-types",
        action="store_true",
        help="compare every generated type (less Version, LayerVersion, Deployment), "
        "not only the types the rules read",
    )
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    import logging

    logging.disable(logging.WARNING)
    result = run(args.corpus, args.all_types)
    if args.json:
        print(
            json.dumps(
                {
                    "templates": result.templates,
                    "refused": result.refused,
                    "compared": result.compared,
                    "per_type": result.per_type(),
                    "mismatches": sorted(result.mismatches()),
                    "seconds": {
                        "decode": round(result.decode_seconds, 3),
                        "model": round(result.model_seconds, 3),
                        "translator": round(result.translator_seconds, 3),
                    },
                },
                indent=2,
            )
        )
    else:
        print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
