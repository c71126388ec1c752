"""The OpenAPI (Swagger) definitions of API Gateway APIs: written inline, or read from a local
file of the repository.

An API's definition is, by resource type:

* AWS::Serverless::Api / AWS::Serverless::HttpApi: `DefinitionBody` (a mapping, or
  `Fn::Transform: {Name: AWS::Include, Parameters: {Location: ...}}`) or `DefinitionUri` (a
  path or S3 URI string, or `{Bucket, Key}`);
* AWS::ApiGateway::RestApi / AWS::ApiGatewayV2::Api: `Body` (a mapping, a JSON string, or the
  same AWS::Include) or `BodyS3Location` (a local path that `cloudformation package` uploads,
  or `{Bucket, Key}`).

A local file is resolved relative to the template's folder, and read only when it lies inside
the scanned root, with the guards templates have: no link is followed on its path (each folder
is opened below its parent's descriptor with O_NOFOLLOW, reviewer.core.safefs), only a regular file
of at most the template size cap is read, the text must be UTF-8 (or UTF-16 with a BOM), and it
is decoded by the template decoder (reviewer.decode.load: the libyaml fast path or cfn-lint's
decoder, the same node cap against alias bombs and the same nesting guard). Reading happens when
the template is loaded (`attach`), on the template's per-file budget (reviewer.core.bounds), so a
slow or huge included file stops that template's loading like a slow template would.

The files a template includes are kept on it (`Template.documents`, by repository path) with
their content digest: the cache (reviewer.runner.pipeline) keeps a template's results only while
every included file still has the digest it had (`fresh`).

A definition that cannot be read (an S3 location, a location computed at deploy time, a path
leaving the repository, a link, a missing, binary, too large or unparsable file) has no body:
the routes it would declare are not judged, and `Definition.problem` says why.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import posixpath
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reviewer.core import safefs
from reviewer.core.types import Path, Span

if TYPE_CHECKING:
    from reviewer.model.template import Resource, Template

REST_API_TYPES = ("AWS::ApiGateway::RestApi", "AWS::Serverless::Api")
HTTP_API_TYPES = ("AWS::ApiGatewayV2::Api", "AWS::Serverless::HttpApi")
API_TYPES = (*REST_API_TYPES, *HTTP_API_TYPES)
MAX_DOCUMENTS = 16  # distinct files one template may include; the others are not read
_PROBE_BYTES = 8192  # a NUL byte in this many first bytes: binary
_LINE = "__line__"  # a located path: ("__line__", line, column)


@dataclass(frozen=True)
class Document:
    """A local file a template includes, as read when the template was loaded."""

    file: str  # repository path, forward slashes
    digest: str  # sha256 of the bytes read; "!" + the reason when nothing could be read
    tree: Any = None  # the decoded mapping (marked nodes), None when it could not be used
    lines: tuple[str, ...] = ()
    problem: str = ""  # why it cannot be used ("" when it can)


@dataclass(frozen=True)
class Definition:
    """An API's OpenAPI definition: where it is, and its body when it can be read."""

    api: str  # the API's logical id
    key: str  # DefinitionBody | DefinitionUri | Body | BodyS3Location
    where: Path  # the value that names or holds it, below the API resource
    body: Mapping[str, Any] | None  # the OpenAPI document; None when it cannot be read
    file: str | None = None  # the repository file it was read from (None: inline)
    problem: str = ""  # why the body cannot be read
    local: bool = True  # inline or a file of the repository (False: S3, computed)
    # SAM applies the API's Auth (DefaultAuthorizer ...) to the definition: an inline
    # DefinitionBody or an included one, never a DefinitionUri it does not open
    sam_auth: bool = True


@dataclass(frozen=True)
class _Source:
    key: str
    where: Path
    inline: Any = None  # the inline body (a mapping, or a JSON string of Body)
    location: str | None = None  # a local path as written
    remote: str = ""  # why the definition is not local ("" when it is)


def _include_location(value: Any) -> tuple[Any, bool]:
    """(Location, True) when `value` is an `Fn::Transform` of AWS::Include; (None, False)."""
    if not isinstance(value, Mapping) or len(value) != 1 or "Fn::Transform" not in value:
        return None, False
    spec = value["Fn::Transform"]
    if not isinstance(spec, Mapping) or spec.get("Name") != "AWS::Include":
        return None, True  # another transform: the body is made at deploy time
    params = spec.get("Parameters")
    return (params.get("Location") if isinstance(params, Mapping) else None), True


def _remote(location: Any) -> str:
    """Why a location is not a local path ("" when it is one)."""
    if not isinstance(location, str):
        return "its location is computed at deploy time"
    lowered = location.strip().lower()
    if lowered.startswith("s3://"):
        return "it is read from S3"
    if lowered.startswith(("http://", "https://")):
        return "it is read from a URL"
    if not location.strip():
        return "its location is empty"
    return ""


def _source(res: Resource) -> _Source | None:
    serverless = res.type.startswith("AWS::Serverless::")
    body_key, uri_key = (
        ("DefinitionBody", "DefinitionUri") if serverless else ("Body", "BodyS3Location")
    )
    props = res.properties
    if body_key in props and props[body_key] is not None:
        value = props[body_key]
        location, transform = _include_location(value)
        where: Path = ("Properties", body_key)
        if not transform:
            return _Source(body_key, where, inline=value)
        if location is None:
            return _Source(body_key, where, remote="it is made by a transform at deploy time")
        where = (*where, "Fn::Transform", "Parameters", "Location")
        why = _remote(location)
        return _Source(body_key, where, location=None if why else location, remote=why)
    if uri_key in props and props[uri_key] is not None:
        value = props[uri_key]
        where = ("Properties", uri_key)
        if isinstance(value, Mapping):
            return _Source(uri_key, where, remote="it is read from S3")
        why = _remote(value)
        return _Source(uri_key, where, location=None if why else value, remote=why)
    return None


def resolve_location(template_file: str, location: str) -> str | None:
    """The repository path of a local location written in `template_file` (relative to its
    folder), or None when it leaves the repository (an absolute path, `..` above the root)."""
    text = location.strip()
    if text.startswith("file://"):
        text = text[len("file://") :]
    if (
        not text
        or text.startswith(("/", "\\"))
        or "\0" in text
        or (len(text) > 1 and text[1] == ":")
    ):
        return None
    folder = posixpath.dirname(template_file)
    joined = (
        posixpath.normpath(posixpath.join(folder, text)) if folder else posixpath.normpath(text)
    )
    if joined in (".", "..") or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined


def _outside(location: str) -> str:
    return f"its location {location.strip()[:200]!r} leaves the repository"


# definitions found, per template and API (checks ask once per route): dropped when the
# template is collected, made again when its included files change (attach)
_KNOWN: dict[int, tuple[weakref.ref[Template], int, dict[str, Definition | None]]] = {}


def definition(t: Template, res: Resource) -> Definition | None:
    """The API's definition (None: it has none, or `res` is not an API)."""
    if res.type not in API_TYPES:
        return None
    known = _KNOWN.get(id(t))
    if known is None or known[0]() is not t or known[1] != len(t.documents):
        if known is None or known[0]() is not t:
            weakref.finalize(t, _KNOWN.pop, id(t), None)
        known = _KNOWN[id(t)] = (weakref.ref(t), len(t.documents), {})
    memo = known[2]
    if res.logical_id not in memo:
        memo[res.logical_id] = _definition(t, res)
    return memo[res.logical_id]


def _definition(t: Template, res: Resource) -> Definition | None:
    src = _source(res)
    if src is None:
        return None
    if src.remote:
        return Definition(res.logical_id, src.key, src.where, None, problem=src.remote, local=False)
    if src.location is not None:
        sam_auth = src.key == "DefinitionBody"
        file = resolve_location(t.file, src.location)
        if file is None:
            return Definition(
                res.logical_id,
                src.key,
                src.where,
                None,
                problem=_outside(src.location),
                sam_auth=sam_auth,
            )
        doc = t.documents.get(file)
        if not isinstance(doc, Document):
            return Definition(
                res.logical_id, src.key, src.where, None, file, "it was not read", sam_auth=sam_auth
            )
        body = doc.tree if isinstance(doc.tree, Mapping) else None
        return Definition(
            res.logical_id,
            src.key,
            src.where,
            body,
            file,
            doc.problem if body is None else "",
            sam_auth=sam_auth,
        )
    inline = src.inline
    if isinstance(inline, str):
        try:
            inline = json.loads(inline)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            return Definition(
                res.logical_id, src.key, src.where, None, problem="its JSON does not parse"
            )
    from reviewer.model.resolve import intrinsic

    if not isinstance(inline, Mapping) or intrinsic(inline) is not None:
        return Definition(
            res.logical_id,
            src.key,
            src.where,
            None,
            problem="it is computed at deploy time",
            local=False,
        )
    return Definition(res.logical_id, src.key, src.where, inline)


# -- reading -------------------------------------------------------------------------------------


def _text(data: bytes) -> str | None:
    """UTF-8 (BOM dropped) or UTF-16 with a BOM, CRLF as LF; None for binary or other bytes."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            if data.startswith(codecs.BOM_UTF32_LE):
                return None
            encoding = "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
            text = data[2:].decode(encoding)
        else:
            if b"\0" in data[:_PROBE_BYTES]:
                return None
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return text.replace("\r\n", "\n")


def _read_bytes(root: str | os.PathLike[str], rel: str, max_bytes: int) -> bytes | str:
    """The bytes of repository file `rel`, read without following a link anywhere below the
    root; or why not (a str)."""
    parts = rel.split("/")
    try:
        anchor = safefs.open_anchor(root)
    except OSError as err:
        return f"the repository cannot be opened ({err.strerror or type(err).__name__})"
    try:
        try:
            folder = safefs.open_dir(anchor, parts[:-1]) if len(parts) > 1 else os.dup(anchor)
        except FileNotFoundError:
            return "it does not exist"
        try:
            label = "/".join(parts[:-1])
            return safefs.read_file_at(folder, parts[-1], max_bytes=max_bytes, label=label)
        finally:
            os.close(folder)
    except FileNotFoundError:
        return "it does not exist"
    except safefs.UnsafePath as err:
        return _unsafe_reason(err, max_bytes)
    except (OSError, ValueError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
        return f"it cannot be read ({why})"
    finally:
        os.close(anchor)


def _unsafe_reason(err: safefs.UnsafePath, max_bytes: int) -> str:
    if "symbolic link" in err.reason:
        return f"{err.path} is a symbolic link (links are not followed)"
    if "larger than" in err.reason:
        return f"it is larger than the size limit ({max_bytes:,} bytes)"
    if "not a folder" in err.reason:
        return f"{err.path} is not a folder"
    return f"it {err.reason}"


def fingerprint(root: str | os.PathLike[str], rel: str, max_bytes: int) -> str:
    """What `Document.digest` would be for the file as it is now."""
    data = _read_bytes(root, rel, max_bytes)
    if isinstance(data, str):
        return "!" + data
    return hashlib.sha256(data).hexdigest()


def read_document(root: str | os.PathLike[str], rel: str, max_bytes: int) -> Document:
    """Read and decode one included file (see the module docstring for the guards)."""
    from reviewer.decode.load import decode

    data = _read_bytes(root, rel, max_bytes)
    if isinstance(data, str):
        return Document(rel, "!" + data, problem=data)
    digest = hashlib.sha256(data).hexdigest()
    text = _text(data)
    if text is None:
        return Document(rel, digest, problem="it is not UTF-8 or UTF-16 text")
    lines = tuple(text.split("\n"))
    if not text.strip():
        return Document(rel, digest, lines=lines, problem="it is empty")
    try:
        tree, problems = decode(text, json_first=rel.lower().endswith(".json"))
    except RecursionError:
        return Document(rel, digest, lines=lines, problem="it is nested too deep to decode")
    if problems:
        head = problems[0]
        return Document(
            rel,
            digest,
            lines=lines,
            problem=f"it could not be parsed: {head.message[:300]} at line {head.line}",
        )
    if not isinstance(tree, Mapping):
        return Document(rel, digest, lines=lines, problem="it holds no mapping")
    return Document(rel, digest, tree, lines)


def attach(t: Template, root: str | os.PathLike[str], max_bytes: int) -> None:
    """Read the local files the template's APIs include (at most MAX_DOCUMENTS) into
    `t.documents`. Called when the template is loaded, on its budget."""
    from reviewer.core.bounds import checkpoint

    for res in t.of_type(*API_TYPES):
        if res.implicit:
            continue
        src = _source(res)
        if src is None or src.location is None:
            continue
        file = resolve_location(t.file, src.location)
        if file is None or file in t.documents or len(t.documents) >= MAX_DOCUMENTS:
            continue
        checkpoint()
        t.documents[file] = read_document(root, file, max_bytes)


def fresh(t: Template, root: str | os.PathLike[str], max_bytes: int) -> bool:
    """Every file the template included still has the content it had when it was read."""
    return all(
        isinstance(doc, Document) and fingerprint(root, doc.file, max_bytes) == doc.digest
        for doc in t.documents.values()
    )


def documents_digest(t: Template) -> list[tuple[str, str]]:
    """The included files and their digests, for cache keys."""
    return sorted(
        (doc.file, doc.digest) for doc in t.documents.values() if isinstance(doc, Document)
    )


# -- locating ------------------------------------------------------------------------------------


def _document_of(t: Template, subject: str | None, path: Path) -> tuple[Document, Path] | None:
    """The document a (subject, path) lies in, and the path below its top, when the path goes
    into a definition read from a file."""
    if subject is None or len(path) < 3 or path[0] != "Properties":
        return None
    res = t.get(subject)
    if res is None:
        return None
    found = definition(t, res)
    if found is None or found.file is None or found.body is None or found.key != path[1]:
        return None
    doc = t.documents.get(found.file)
    if not isinstance(doc, Document):
        return None
    return doc, tuple(path[2:])


def node_at(t: Template, res: Resource, path: Path) -> Any:
    """The value at `path` below the resource, reading into an included definition."""
    from reviewer.model.template import MISSING, walk

    found = _document_of(t, res.logical_id, path)
    if found is None:
        return res.attr(*path)
    doc, below = found
    return walk(doc.tree, below, MISSING)


def place(t: Template, subject: str | None, path: Path) -> tuple[str | None, Path]:
    """Where a hit on (subject, path) is written: (None, path) in the template itself, or
    (the included file, ("__line__", line, column)) for a path into a definition read from a
    file, located at the deepest element of the path that is written there."""
    from reviewer.model.template import locate_in

    found = _document_of(t, subject, path)
    if found is None:
        return None, path
    doc, below = found
    span = locate_in(doc.tree, below, Span(1, 1, 1, 1))
    return doc.file, (_LINE, span.line, span.column)


def file_label(t: Template, subject: str | None, path: Path) -> str:
    """' (in FILE line N)' for a path into an included definition, else ''."""
    file, where = place(t, subject, path)
    if file is None:
        return ""
    return f" (in {file} line {where[1]})"
