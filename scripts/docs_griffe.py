"""A griffe extension for the API reference (mkdocs.yml loads it): functions made at import time.

The public operations are built by calls (``extract = blocking(aextract, doc)``,
``aextract = _processor_op("extract")``), so reading the source finds attributes with neither a
signature nor a docstring. This replaces each such attribute with the function the module
really holds: its signature (``__signature__``), its docstring and whether it is async. Only
modules that have such an attribute are imported; one that cannot be imported (``pyspark``
missing, say) keeps what the source says.

It also writes the docstrings' reStructuredText habits as Markdown: a role
(:func:`extract`) becomes code, and doctest lines (``>>> ...``, which Markdown would read
as nested quotes) become a ``pycon`` block without their ``# doctest:`` directives.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import griffe


def _modules(module: griffe.Module) -> Iterator[griffe.Module]:
    yield module
    for sub in module.modules.values():
        if not sub.is_alias:
            yield from _modules(sub)


_ROLE = re.compile(r":(?:func|class|meth|mod|attr|exc|data|obj):`~?([^`]+)`")
_DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")


def markdown(text: str) -> str:
    r"""``text`` with roles as code and doctest lines fenced as ``pycon``.

    >>> markdown("See :func:`~x.extract`.\n\n>>> f(1)  # doctest: +SKIP\n2")
    'See `x.extract`.\n\n```pycon\n>>> f(1)\n2\n```'
    """
    out: list[str] = []
    fenced = False
    for line in _ROLE.sub(r"`\1`", text).splitlines():
        prompt = line.lstrip().startswith((">>>", "... "))
        if prompt and not fenced:
            out.append("```pycon")
            fenced = True
        elif fenced and not line.strip():
            out.append("```")
            fenced = False
        out.append(_DIRECTIVE.sub("", line) if prompt else line)
    if fenced:
        out.append("```")
    return "\n".join(out)


def _annotation(value: Any) -> str | None:
    if value is inspect.Parameter.empty:
        return None
    return value if isinstance(value, str) else inspect.formatannotation(value)


def _function(name: str, obj: Any, attribute: griffe.Attribute) -> griffe.Function:
    """A griffe Function for the runtime function ``obj`` found under ``name``."""
    signature = inspect.signature(obj)
    parameters = griffe.Parameters(
        *(
            griffe.Parameter(
                p.name,
                annotation=_annotation(p.annotation),
                kind=griffe.ParameterKind(p.kind.description),
                default=None if p.default is inspect.Parameter.empty else repr(p.default),
            )
            for p in signature.parameters.values()
        )
    )
    function = griffe.Function(
        name,
        lineno=attribute.lineno,
        endlineno=attribute.endlineno,
        parameters=parameters,
        returns=_annotation(signature.return_annotation),
        docstring=griffe.Docstring(inspect.cleandoc(obj.__doc__)) if obj.__doc__ else None,
    )
    if inspect.iscoroutinefunction(obj):
        function.labels.add("async")
    return function


class RuntimeFunctions(griffe.Extension):
    """Attributes assigned from a call whose value is a function become that function."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._functions(pkg)
        for module in _modules(pkg):
            for obj in [module, *module.members.values()]:
                self._rewrite(obj)

    def _rewrite(self, obj: griffe.Object | griffe.Alias) -> None:
        if obj.is_alias:
            return
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
        if isinstance(obj, griffe.Class):
            for member in obj.members.values():
                self._rewrite(member)

    def _functions(self, pkg: griffe.Module) -> None:
        # Import the package griffe read (mkdocs.yml's paths), not another installed copy.
        if isinstance(pkg.filepath, Path):
            root = str(pkg.filepath.parent.parent)
            if root not in sys.path:
                sys.path.insert(0, root)
        for module in _modules(pkg):
            made = [
                a
                for a in module.members.values()
                if isinstance(a, griffe.Attribute) and isinstance(a.value, griffe.ExprCall)
            ]
            if not made or module.name == "__main__":
                continue
            try:
                runtime = importlib.import_module(module.path)
            except ImportError:
                continue
            for attribute in made:
                obj = getattr(runtime, attribute.name, None)
                if inspect.isfunction(obj):
                    function = _function(attribute.name, obj, attribute)
                    module.set_member(attribute.name, function)
                    if function.docstring is not None:
                        function.docstring.parent = function
