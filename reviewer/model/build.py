"""The model of a decoded template: declared resources, then SAM's implicit ones.

Building sits apart from reviewer.model.template so that the dependency goes one way:
template (resources, the reference graph, the locator) <- sam (expansion) <- build.
"""

from __future__ import annotations

from typing import Any

from reviewer.model.sam import expand
from reviewer.model.template import Resource, Template, anchor_of, drop_nulls


def build(file: str, module: str, tree: dict[str, Any], text: str) -> Template:
    """Build the model of a decoded template: declared resources, then SAM expansion."""
    resources: dict[str, Resource] = {}
    section = tree.get("Resources")
    globals_section = tree.get("Globals")
    if isinstance(globals_section, dict):
        drop_nulls(globals_section)  # a null in Globals sets nothing for the functions
    if isinstance(section, dict):
        for logical_id, node in section.items():
            anchor = anchor_of(section, logical_id)
            if not isinstance(node, dict):
                node = {}
            rtype = node.get("Type")
            props = node.get("Properties")
            if isinstance(props, dict):
                drop_nulls(props)
            resources[str(logical_id)] = Resource(
                logical_id=str(logical_id),
                type=rtype if isinstance(rtype, str) else "",
                properties=props if isinstance(props, dict) else {},
                node=node,
                anchor=anchor,
                condition=node.get("Condition") if isinstance(node.get("Condition"), str) else None,
            )
    template = Template(
        file=file, module=module, tree=tree, resources=resources, lines=tuple(text.split("\n"))
    )
    if template.is_sam:
        expand(template)
    return template
