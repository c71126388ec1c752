"""The repository as the checks see it: templates, manifests, modules, and the cross-template
facts (exports for Fn::ImportValue, local nested stacks)."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.discover.inventory import Inventory, Submodule
from reviewer.model import reads
from reviewer.model.resolve import Unresolved, resolve

if TYPE_CHECKING:
    from reviewer.model.manifests.gomod import GoMod
    from reviewer.model.manifests.npm import PackageJson
    from reviewer.model.template import Template


class TemplateMap(dict[str, "Template"]):
    """The repository's templates by file. While a check's reads are recorded
    (reviewer.model.reads), looking one up is a read of it, walking them is a read of the
    listing, and their names or number are an exact read of it."""

    def __getitem__(self, file: str) -> Template:
        log = reads.LOG
        if log is not None:
            log.read_whole(file)
        return super().__getitem__(file)

    def get(self, file: str, default: Any = None) -> Any:
        log = reads.LOG
        if log is not None:
            log.read_whole(file)
        return super().get(file, default)

    def __contains__(self, file: object) -> bool:
        log = reads.LOG
        if log is not None and isinstance(file, str):
            log.read_whole(file)
        return super().__contains__(file)

    def values(self) -> Any:
        log = reads.LOG
        if log is not None:
            log.walked()
        return super().values()

    def items(self) -> Any:
        log = reads.LOG
        if log is not None:
            log.named_listing()
        return super().items()

    def keys(self) -> Any:
        log = reads.LOG
        if log is not None:
            log.named_listing()
        return super().keys()

    def __iter__(self) -> Iterator[str]:
        log = reads.LOG
        if log is not None:
            log.named_listing()
        return super().__iter__()

    def __len__(self) -> int:
        log = reads.LOG
        if log is not None:
            log.named_listing()
        return super().__len__()


class MemoMap(dict[str, Any]):
    """Facts the checks compute once per scan from the whole repository (RepoIndex.cache).
    A memo made while a run was recorded keeps what that run had read; reading it adds that to
    the reader's record. A memo made while nothing was recorded has no such record: reading it
    while recording makes the reader's result one that is not kept."""

    def __init__(self) -> None:
        super().__init__()
        self.made_from: dict[str, reads.ReadLog] = {}

    def _read(self, key: str) -> None:
        log = reads.LOG
        if log is None:
            return
        if not super().__contains__(key):
            log.start_memo(key)  # a miss: the memo is about to be made
            return
        source = self.made_from.get(key)
        if source is None:
            log.cannot_record(f"memo {key}")
        else:
            log.read_memo(key, source)

    def get(self, key: str, default: Any = None) -> Any:
        self._read(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._read(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._read(key)
        return super().__contains__(key)

    def __setitem__(self, key: str, value: Any) -> None:
        log = reads.LOG
        if log is not None:
            self.made_from[key] = log.end_memo(key)
        else:
            self.made_from.pop(key, None)
        super().__setitem__(key, value)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if super().__contains__(key):
            return self[key]
        self[key] = default
        return default

    def clear(self) -> None:
        self.made_from.clear()
        super().clear()


@dataclass
class RepoIndex:
    inventory: Inventory
    templates: TemplateMap = field(default_factory=TemplateMap)
    gomods: dict[str, GoMod] = field(default_factory=dict)
    packages: dict[str, PackageJson] = field(default_factory=dict)
    module_of_file: dict[str, str] = field(default_factory=dict)
    cache: MemoMap = field(default_factory=MemoMap)  # cross-template facts, computed once
    _exports: dict[str, tuple[Template, Any]] | None = None
    _patterns: list[tuple[str, Template, Any]] = field(default_factory=list)
    _children: dict[tuple[str, str], Template] = field(default_factory=dict)
    _indexing: bool = False  # the export index is being built (an export name may import)

    @property
    def submodules(self) -> tuple[Submodule, ...]:
        return self.inventory.submodules

    # -- exports ---------------------------------------------------------------------------------
    def _index_exports(self) -> dict[str, tuple[Template, Any]]:
        if self._exports is None:
            if self._indexing:  # an export name that imports (itself, maybe): nothing known yet
                return {}
            self._indexing = True
            try:
                self._exports = self._build_export_index()
            finally:
                self._indexing = False
        return self._exports

    def _build_export_index(self) -> dict[str, tuple[Template, Any]]:
        exact: dict[str, tuple[Template, Any]] = {}
        for template in self.templates.values():
            for output in template.outputs.values():
                if not isinstance(output, Mapping):
                    continue
                export = output.get("Export")
                if not isinstance(export, Mapping) or "Value" not in output:
                    continue
                name = resolve(template, export.get("Name"))[0].value
                if isinstance(name, str):
                    exact.setdefault(name, (template, output["Value"]))
                elif isinstance(name, Unresolved) and name.text:
                    pattern = _wildcard(name.text)
                    self._patterns.append((pattern, template, output["Value"]))
        return exact

    def export(self, name: str) -> tuple[Template, Any, bool] | None:
        """The template and value node exported under `name`; exact is False when matched by
        a pattern (an export name built from the stack name or an unknown parameter)."""
        reads.note_fact("exports")
        exact = self._index_exports()
        if "${" not in name and name in exact:
            template, node = exact[name]
            return template, node, True
        wanted = _wildcard(name)
        for export_name, (template, node) in sorted(exact.items()):
            if fnmatch.fnmatchcase(export_name, wanted):
                return template, node, False
        for pattern, template, node in self._patterns:
            if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(pattern, wanted):
                return template, node, False
        return None

    # -- nested stacks ---------------------------------------------------------------------------
    def link_nested_stacks(self) -> None:
        """Bind each local child template's parameters to the values its parent passes."""
        for parent in self.templates.values():
            for res in parent.of_type("AWS::CloudFormation::Stack", "AWS::Serverless::Application"):
                key = "TemplateURL" if res.type == "AWS::CloudFormation::Stack" else "Location"
                location = res.get(key)
                if not isinstance(location, str) or "://" in location:
                    continue
                child_file = posixpath.normpath(
                    posixpath.join(posixpath.dirname(parent.file), location)
                )
                child = self.templates.get(child_file)
                if child is None or child is parent:
                    continue
                self._children[(parent.file, res.logical_id)] = child
                params = res.get("Parameters")
                if isinstance(params, Mapping):
                    for name, value in params.items():
                        if name in child.parameters and name not in child.parameter_values:
                            child.parameter_sources.setdefault(str(name), (parent, value))

    def child_of(self, parent: Template, logical_id: str) -> Template | None:
        reads.note_opaque("nested stacks")
        return self._children.get((parent.file, logical_id))

    def template(self, file: str) -> Template | None:
        found: Template | None = self.templates.get(file)  # a read of it (TemplateMap)
        return found


def _wildcard(text: str) -> str:
    """A rendered name with unknown ${...} parts turned into a glob."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("${", i):
            end = text.find("}", i)
            if end == -1:
                out.append(text[i:])
                break
            out.append("*")
            i = end + 1
        else:
            ch = text[i]
            out.append("[" + ch + "]" if ch in "*?[]" else ch)
            i += 1
    return "".join(out)
