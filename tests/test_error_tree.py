"""Every exception class the client side of the package defines is under ``ExtendError``.

The emulator is excepted (its errors are HTTP answers, not the library's). Warning categories
(``warnings.warn``) are not raised. A private class (``_Name``) may stay outside the tree only
as a value that never crosses its module: its name appears in no other module.

Classes are found by reading every client source file (``ast``), so modules whose optional
dependency is missing here (Spark, Airflow, Dagster) are checked too; for the modules that
import, the real method resolution order confirms what the source reading found.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
from pathlib import Path

import extend_frames
from extend_frames import ExtendError

PACKAGE = Path(extend_frames.__file__).parent
BUILTIN_EXCEPTIONS = {
    name: obj
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
}


def _client_files() -> dict[str, Path]:
    """Module name -> source file, for every client module (not the emulator, not __main__)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1:2] == ("emulator",) or parts[-1] == "__main__":
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _classes(files: dict[str, Path]) -> dict[str, list[str]]:
    """``module.Class`` -> names of its bases, from the source."""
    out: dict[str, list[str]] = {}
    for module, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                out[f"{module}.{node.name}"] = [
                    b for b in map(_base_name, node.bases) if b is not None
                ]
    return out


def _roots(name: str, by_name: dict[str, list[list[str]]], seen: set[str]) -> set[str]:
    """The builtin exceptions and ``ExtendError`` that a class named ``name`` leads to (every
    class of that name in the package, so a shadowing name cannot hide a base)."""
    if name == "ExtendError" or name in BUILTIN_EXCEPTIONS:
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    return set().union(
        *(_roots(b, by_name, seen) for bases in by_name.get(name, []) for b in bases)
    )


def _exception_classes() -> dict[str, set[str]]:
    """Exception classes defined on the client side: ``module.Class`` -> its roots."""
    classes = _classes(_client_files())
    by_name: dict[str, list[list[str]]] = {}
    for qualified, bases in classes.items():
        by_name.setdefault(qualified.rsplit(".", 1)[1], []).append(bases)
    out = {}
    for qualified, bases in classes.items():
        roots = set().union(*(_roots(b, by_name, set()) for b in bases)) if bases else set()
        if qualified == f"{ExtendError.__module__}.ExtendError":
            roots.add("ExtendError")  # the root of the tree is in it
        if roots:
            out[qualified] = roots
    return out


def _is_warning(roots: set[str]) -> bool:
    return all(
        r in BUILTIN_EXCEPTIONS and issubclass(BUILTIN_EXCEPTIONS[r], Warning) for r in roots
    )


def _used_elsewhere(name: str, module: str, files: dict[str, Path]) -> list[str]:
    return [m for m, path in files.items() if m != module and name in path.read_text()]


def test_every_client_exception_class_is_under_extend_error() -> None:
    files = _client_files()
    outside = []
    for qualified, roots in sorted(_exception_classes().items()):
        module, name = qualified.rsplit(".", 1)
        if "ExtendError" in roots or _is_warning(roots):
            continue
        if name.startswith("_") and not _used_elsewhere(name, module, files):
            continue  # a private value that never crosses its module
        outside.append(f"{qualified} derives from {sorted(roots)}")
    assert outside == [], "exception classes outside the ExtendError tree"


def test_the_source_reading_agrees_with_the_real_classes() -> None:
    """For every importable client module, the classes found by reading its source are the
    exception classes it defines, and the ones read as under ExtendError are."""
    found = _exception_classes()
    checked = 0
    missing: list[str | None] = []  # the optional dependencies absent here
    for module in sorted(_client_files()):
        try:
            loaded = importlib.import_module(module)
        except ImportError as exc:  # an optional dependency absent here (its install hint)
            cause = exc if isinstance(exc, ModuleNotFoundError) else exc.__cause__
            missing.append(cause.name if isinstance(cause, ModuleNotFoundError) else None)
            continue
        for name, obj in vars(loaded).items():
            if inspect.isclass(obj) and obj.__module__ == module:
                qualified = f"{module}.{name}"
                is_exception = issubclass(obj, BaseException)
                assert (qualified in found) == is_exception, qualified
                if is_exception:
                    checked += 1
                    under = issubclass(obj, ExtendError)
                    assert ("ExtendError" in found[qualified]) == under, qualified
    assert checked >= 15  # the tree itself, at least
    assert not [m for m in missing if m is None or m.startswith("extend_frames")]


def test_source_refusals_are_terminal_input_errors() -> None:
    from extend_frames import InputError
    from extend_frames.jobs._sources import SourceRefusedError

    refusal = SourceRefusedError("FILE_SIZE_TOO_LARGE", "a.pdf is too large")
    assert isinstance(refusal, InputError)
    assert refusal.transient is False
    assert (refusal.reason, refusal.message, str(refusal)) == (
        "FILE_SIZE_TOO_LARGE",
        "a.pdf is too large",
        "a.pdf is too large",
    )
