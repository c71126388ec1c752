"""The repository as the checks see it: templates, manifests, modules, and the cross-template
facts (exports for Fn::ImportValue, local nested stacks)."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.cfn.resolve import Unresolved, resolve
from reviewer.discover import Inventory, Submodule

if TYPE_CHECKING:
    from reviewer.cfn.template import Template
    from reviewer.stack.gomod import GoMod
    from reviewer.stack.npm import PackageJson


@dataclass
class RepoIndex:
    inventory: Inventory
    templates: dict[str, Template] = field(default_factory=dict)
    gomods: dict[str, GoMod] = field(default_factory=dict)
    packages: dict[str, PackageJson] = field(default_factory=dict)
    module_of_file: dict[str, str] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # cross-template facts, computed once
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
        return self._children.get((parent.file, logical_id))

    def template(self, file: str) -> Template | None:
        return self.templates.get(file)


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
