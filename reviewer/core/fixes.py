"""What a fix is (issue 22): the edits that resolve one finding, and how safe they are to apply.

A check declares what should change (a FixIntent, on its Hit); reviewer.fixes turns the intent
into Edits on the file as written, with the locator's spans. These types are the contract
between checks, the fix stage, the outputs (SARIF fixes, JSON, Markdown/HTML diffs, pull
request suggestions) and `archreview fix`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Safety(StrEnum):
    SAFE = "safe"  # cannot break a running system or take away access anyone relies on
    UNSAFE = "unsafe"  # changes what users or callers experience


@dataclass(frozen=True)
class Edit:
    """Replace the text from (line, column) up to, not including, (end_line, end_column) of
    `file` (1-based lines and columns, counted in characters) with `replacement`. An insertion
    has the same start and end."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str
    # lines `line` through `end_line` of the file as scanned, whole, joined by "\n" (whatever
    # the file's line breaks) without the last one's break: what the outputs show as the
    # removed side of a diff and build a pull request suggestion from (they read no files);
    # None when not known
    original: str | None = None


@dataclass(frozen=True)
class Fix:
    safety: Safety
    description: str  # one sentence: what the edits do
    edits: tuple[Edit, ...]
    # the SHA-256 (hex) of the file's bytes the edits were made for: `archreview fix` touches
    # no file whose bytes differ from it ("" when not known)
    file_sha256: str = ""


@dataclass(frozen=True)
class FixIntent:
    """What a check wants changed, in the model's terms (a path below the finding's subject);
    subclasses say how. reviewer.fixes renders it into Edits in the file's own style."""

    safety: Safety
    description: str


# -- intents ----------------------------------------------------------------------------------
# The values an intent may write: a literal, or a reference that the renderer writes in the
# file's own style (`!Ref X` where the file uses short-form intrinsics, `Ref: X` or
# {"Ref": "X"} where it uses the long form).


@dataclass(frozen=True)
class Ref:
    """A reference to a parameter or resource of the same template."""

    target: str


@dataclass(frozen=True)
class GetAtt:
    """An attribute of a resource of the same template."""

    target: str
    attribute: str


FixValue = bool | int | str | Ref | GetAtt


@dataclass(frozen=True)
class Setting:
    """One key to set, by its path below the resource (`("Properties", "VisibilityTimeout")`,
    `("DeletionPolicy",)`): the literal written there is replaced, or the key is added with
    any mapping above it that is missing. `comment` is written after the value in YAML (JSON
    has no comments: it is dropped there)."""

    path: tuple[str, ...]
    value: FixValue
    comment: str = ""


@dataclass(frozen=True)
class SetValues(FixIntent):
    """Set one or more keys of the resource `resource` (its logical id)."""

    resource: str
    settings: tuple[Setting, ...]


def set_value(
    safety: Safety,
    description: str,
    resource: str,
    path: tuple[str, ...],
    value: FixValue,
    comment: str = "",
) -> SetValues:
    """The intent to set one property below the resource: `path` starts at the resource
    (`("Properties", "RetentionInDays")`)."""
    return SetValues(safety, description, resource, (Setting(path, value, comment),))


def add_properties(
    safety: Safety, description: str, resource: str, values: tuple[tuple[str, FixValue], ...]
) -> SetValues:
    """The intent to set resource-level keys (DeletionPolicy, UpdateReplacePolicy)."""
    return SetValues(
        safety, description, resource, tuple(Setting((key,), value) for key, value in values)
    )


# The retention a log group is given by AR-OBS-003's fix when the profile declares none: one
# year, long enough for a yearly audit and an incident found months later, and one of the
# values CloudWatch Logs accepts.
DEFAULT_LOG_RETENTION_DAYS = 365
# AR-EVT-002's fix: the longest retention SQS allows (14 days), so a dead-letter queue always
# outlives any source queue.
MAX_QUEUE_RETENTION_S = 1_209_600
