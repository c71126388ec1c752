"""cfn-lint's decoder, imported on its own (see docs/adr/0003-cfn-lint-decoder-without-the-linter.md).

`import cfnlint.decode` runs `cfnlint/__init__.py`, which imports the whole linter — its rules,
templates, graph and condition solver (networkx, sympy): about 0.45 s before one byte is
decoded, a second import in every scan that has to decode a template. The decoder needs none
of that: its modules (`cfnlint.decode.{mark,node,cfn_yaml,cfn_json,decode}` and `cfnlint.match`)
import PyYAML, the standard library and each other, plus two names from the rule engine that
only label a parse error (`cfnlint.rules.Match`, which is `cfnlint.match.Match`, and the
`ParseError` rule, of which a match keeps only the instance).

`load()` executes those module files, unchanged, into private module objects: their imports of
`cfnlint.*` are answered from this private set (the two rule-engine names by a stand-in that
carries the rule's id and texts), every other import goes through Python's import system as
usual. The private modules are registered under their own prefix (`_archreview_cfnlint.*`:
dataclasses look their module up in `sys.modules`), never under `cfnlint.*`, so a real
`import cfnlint` elsewhere in the process is unaffected, and the decoded trees are those of cfn-lint's decoder (tests hold the two against
each other on every fixture and the corpus). If the package ever changes shape so that this
fails, `load()` falls back to the ordinary import and the scan only loses the time.
"""

from __future__ import annotations

import builtins
import importlib.util
import logging
import os
import sys
import threading
import types
from typing import Any

# The decoder's modules, in an order in which each one's cfnlint imports are already loaded.
_MODULES = (
    "cfnlint.decode.mark",
    "cfnlint.decode.node",
    "cfnlint.match",
    "cfnlint.decode.cfn_yaml",
    "cfnlint.decode.cfn_json",
    "cfnlint.decode.decode",
)
_PACKAGES = ("cfnlint", "cfnlint.decode", "cfnlint.rules", "cfnlint.rules.errors")
PREFIX = "_archreview_cfnlint"  # the private modules' names: cfnlint.x.y -> _archreview_cfnlint.x.y


def _private_name(name: str) -> str:
    return PREFIX + name[len("cfnlint") :]


class ParseError:
    """Stands for cfn-lint's `ParseError` rule in the matches the decoder makes: what the rule
    says of itself (a match only holds the instance; archreview reads the match's message and
    position)."""

    id = "E0000"
    shortdesc = "Parsing error found when parsing the template"
    description = "Checks for JSON/YAML formatting errors in your template"
    source_url = "https://github.com/aws-cloudformation/cfn-lint"
    tags = ("base",)

    def __str__(self) -> str:
        return self.id


class _Private:
    """A private copy of the decoder's modules and the import hook that serves them."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.modules: dict[str, types.ModuleType] = {}
        for name in _PACKAGES:
            package = types.ModuleType(_private_name(name))
            package.__path__ = []
            package.__package__ = _private_name(name)
            self.modules[name] = package
        self.builtins = dict(vars(builtins))
        self.builtins["__import__"] = self._import

    def load(self, name: str) -> types.ModuleType:
        found = self.modules.get(name)
        if found is not None:
            return found
        if name not in _MODULES:
            raise ImportError(f"{name} is not part of cfn-lint's decoder")
        relative = name.split(".", 1)[1].replace(".", os.sep) + ".py"
        private = _private_name(name)
        spec = importlib.util.spec_from_file_location(private, os.path.join(self.root, relative))
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot find {name} under {self.root}")
        module = importlib.util.module_from_spec(spec)
        module.__builtins__ = self.builtins  # type: ignore[attr-defined]
        self.modules[name] = module
        sys.modules[private] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del self.modules[name]
            sys.modules.pop(private, None)
            raise
        parent, _, leaf = name.rpartition(".")
        setattr(self.modules[parent], leaf, module)
        return module

    def _import(
        self,
        name: str,
        globals: dict[str, Any] | None = None,
        locals: dict[str, Any] | None = None,
        fromlist: tuple[str, ...] | list[str] | None = (),
        level: int = 0,
    ) -> Any:
        if level or not (name == "cfnlint" or name.startswith("cfnlint.")):
            return builtins.__import__(name, globals, locals, fromlist or (), level)
        module = self.load(name)
        if not fromlist:  # `import cfnlint.x.y` binds the top package
            return self.modules["cfnlint"]
        for entry in fromlist:
            if not hasattr(module, entry) and f"{name}.{entry}" in _MODULES:
                self.load(f"{name}.{entry}")
        return module

    def build(self) -> types.ModuleType:
        match = self.load("cfnlint.match")
        rules = self.modules["cfnlint.rules"]
        rules.Match = match.Match  # type: ignore[attr-defined]  # what `cfnlint.rules` re-exports
        self.modules["cfnlint.rules.errors"].ParseError = ParseError  # type: ignore[attr-defined]
        for name in _MODULES:
            self.load(name)
        # cfn-lint logs a malformed template before returning it as a parse error; here the
        # error becomes a finding, so the log line would only say it twice
        quiet = logging.getLogger(PREFIX)
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
        return self.modules["cfnlint.decode.decode"]


_LOCK = threading.Lock()
_DECODER: types.ModuleType | None = None
PRIVATE = True  # False once load() had to fall back to the ordinary import


def load() -> types.ModuleType:
    """The decoder module (`cfnlint.decode.decode`): `decode_str`, and `cfn_json` / `cfn_yaml`
    as its attributes. Loaded once per process."""
    global _DECODER
    if _DECODER is not None:
        return _DECODER
    with _LOCK:
        if _DECODER is None:
            _DECODER = _load()
    return _DECODER


def _load() -> types.ModuleType:
    global PRIVATE
    if os.environ.get("ARCHREVIEW_CFNLINT_IMPORT") != "full":
        try:
            spec = importlib.util.find_spec("cfnlint")
            locations = spec.submodule_search_locations if spec is not None else None
            if locations:
                return _Private(next(iter(locations))).build()
        except Exception:  # any surprise in cfn-lint's layout: the ordinary import below
            pass
    PRIVATE = False
    return importlib.import_module("cfnlint.decode.decode")
