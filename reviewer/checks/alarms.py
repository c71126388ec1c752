"""CloudWatch alarm matching through the dimensions CloudWatch really publishes.

An alarm watches a metric named by (namespace, metric name, dimensions). A rule that asks
"does an alarm watch this queue / stage / function?" must compare the dimension *values* with
what the service publishes: SQS publishes QueueName (the name: `!GetAtt Q.QueueName`, never
`!Ref Q`, which is the URL), REST APIs publish ApiName (the API's Name) and Stage, HTTP APIs
publish ApiId (`!Ref Api`) and Stage, Lambda publishes FunctionName (`!Ref Fn`).

Both the single-metric form (MetricName/Namespace/Dimensions) and metric math (Metrics[].MetricStat)
are read, in every template of the repository.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reviewer.model.repo import RepoIndex
from reviewer.model.resolve import RefTo, Unresolved, resolve, targets
from reviewer.model.template import MISSING, Resource, Template


@dataclass(frozen=True)
class Watched:
    """One metric an alarm watches."""

    template: Template
    alarm: Resource
    namespace: str | None
    metric: str | None
    dimensions: tuple[tuple[str, Any], ...]  # (name, value node)

    @property
    def condition(self) -> str | None:
        return self.alarm.condition

    def dimension(self, name: str) -> Any:
        for key, value in self.dimensions:
            if key == name:
                return value
        return MISSING


def text_of(template: Template, node: Any) -> str | None:
    """A value as text: the resolved string, or its rendering with unknown parts as ${...}."""
    if node is MISSING or node is None:
        return None
    value = resolve(template, node)[0].value
    if isinstance(value, bool):
        return None
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, Unresolved):
        return value.text
    return None


def _dimensions(template: Template, node: Any) -> tuple[tuple[str, Any], ...]:
    out: list[tuple[str, Any]] = []
    items = node if isinstance(node, list) else []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        name = text_of(template, item.get("Name"))
        if name is not None and "Value" in item:
            out.append((name, item["Value"]))
    return tuple(out)


def _watched(template: Template, alarm: Resource) -> Iterator[Watched]:
    if alarm.has("MetricName"):
        yield Watched(
            template,
            alarm,
            text_of(template, alarm.get("Namespace")),
            text_of(template, alarm.get("MetricName")),
            _dimensions(template, alarm.get("Dimensions")),
        )
    metrics = alarm.get("Metrics")
    if isinstance(metrics, list):
        for query in metrics:
            if not isinstance(query, Mapping):
                continue
            stat = query.get("MetricStat")
            metric = stat.get("Metric") if isinstance(stat, Mapping) else None
            if not isinstance(metric, Mapping):
                continue
            yield Watched(
                template,
                alarm,
                text_of(template, metric.get("Namespace")),
                text_of(template, metric.get("MetricName")),
                _dimensions(template, metric.get("Dimensions")),
            )


def watched_metrics(repo: RepoIndex) -> list[Watched]:
    """Every metric watched by an AWS::CloudWatch::Alarm anywhere in the repository."""
    cached: list[Watched] | None = repo.cache.get("alarms.watched")
    if cached is not None:
        return cached
    out: list[Watched] = []
    for template in repo.templates.values():
        for alarm in template.of_type("AWS::CloudWatch::Alarm"):
            out.extend(_watched(template, alarm))
    repo.cache["alarms.watched"] = out
    return out


def alarms_on(repo: RepoIndex, namespace: str, metrics: tuple[str, ...]) -> list[Watched]:
    return [
        w
        for w in watched_metrics(repo)
        if w.metric in metrics and (w.namespace is None or w.namespace == namespace)
    ]


def points_at(
    template: Template, node: Any, owner: Template, logical_id: str, attr: str | None
) -> bool:
    """The value is `Ref logical_id` (attr None) or `GetAtt logical_id.attr` of `owner`,
    directly or through Sub, ImportValue or SAM aliases."""
    if node is MISSING or node is None:
        return False
    return any(
        isinstance(ref, RefTo)
        and ref.target == logical_id
        and ref.attr == attr
        and ref.file == owner.file
        for ref in targets(template, node)
    )


def same_text(template: Template, node: Any, owner: Template, expected: str | None) -> bool:
    """The value renders to the expected text. Texts with unknown ${...} parts (the stack name,
    a parameter) only compare within one template: another stack renders them differently."""
    if expected is None:
        return False
    text = text_of(template, node)
    if text is None:
        return False
    if "${" in expected or "${" in text:
        return template is owner and text == expected
    return text == expected


def alarms_naming(
    repo: RepoIndex,
    namespace: str,
    metrics: tuple[str, ...],
    dimension: str,
    *,
    refs: tuple[tuple[str, str, str | None], ...] = (),
    texts: tuple[str | None, ...] = (),
    template: Template | None = None,
) -> list[Watched]:
    """The alarms of `alarms_on(repo, namespace, metrics)` whose `dimension` value could point
    at one of `refs` ((file, logical id, attribute), as `points_at` asks), could render as one
    of `texts` (as `same_text` asks), or that belong to `template` — in `alarms_on`'s order.

    A superset of the alarms a check's matching accepts, found through an index built once
    per repository: checks loop over these instead of every alarm of the repository for every
    resource, which grows with the square of the repository."""
    key = f"alarms.naming|{namespace}|{','.join(metrics)}|{dimension}"
    index: _NamingIndex | None = repo.cache.get(key)
    if index is None:
        index = _NamingIndex(alarms_on(repo, namespace, metrics), dimension)
        repo.cache[key] = index
    found: set[int] = set()
    for ref in refs:
        found.update(index.by_ref.get(ref, ()))
    for text in texts:
        if text is not None:
            found.update(index.by_text.get(text, ()))
    if template is not None:
        found.update(index.by_template.get(id(template), ()))
    return [index.alarms[i] for i in sorted(found)]


class _NamingIndex:
    def __init__(self, alarms: list[Watched], dimension: str) -> None:
        self.alarms = alarms
        self.by_ref: dict[tuple[str, str, str | None], list[int]] = {}
        self.by_text: dict[str, list[int]] = {}
        self.by_template: dict[int, list[int]] = {}
        for i, w in enumerate(alarms):
            self.by_template.setdefault(id(w.template), []).append(i)
            node = w.dimension(dimension)
            if node is MISSING or node is None:
                continue
            for ref in targets(w.template, node):
                if isinstance(ref, RefTo):
                    self.by_ref.setdefault((ref.file, ref.target, ref.attr), []).append(i)
            text = text_of(w.template, node)
            if text is not None:
                self.by_text.setdefault(text, []).append(i)
