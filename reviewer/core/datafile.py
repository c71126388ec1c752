"""archreview's own YAML data files (reviewer/data/*.yaml), parsed with libyaml's C loader.

PyYAML's pure-Python loader costs a scan a tenth of a second on these tables; the C loader
resolves the same plain YAML to the same values. Only archreview's own files come through here:
repository content is decoded by reviewer.decode."""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # a safe loader: CSafeLoader, else SafeLoader
