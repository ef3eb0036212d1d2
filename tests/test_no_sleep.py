"""Tests never sleep: a test that waits in real time (``time.sleep``, ``asyncio.sleep`` or an
``Event``/``Condition`` ``wait`` with a non-zero delay, directly or through a helper of its
module) is marked ``realtime`` with a reason, and only where real time is the point (a real
signal, another process, a real server's clock). Everything else runs on the emulator's manual
clock, ``api.VirtualClock`` or events."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _pauses(tree: ast.AST) -> set[int]:
    """ids of the ``x.wait(seconds)`` calls used as a pause: on a fresh ``Event()``, as a
    ``while`` loop's test, or as a statement of a loop's body (the result thrown away)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.While):
            found.update(id(c) for c in ast.walk(node.test) if isinstance(c, ast.Call))
        if isinstance(node, ast.While | ast.For | ast.AsyncFor):
            for stmt in node.body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                    found.add(id(stmt.value))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and ast.unparse(node.func.value) in ("threading.Event()", "Event()")
        ):
            found.add(id(node))
    return found


def _delay(call: ast.Call, pauses: set[int]) -> bool:
    """A call that waits in real time: ``sleep(x)`` with x not a literal 0, or a pause
    ``wait(seconds)`` (a bounded wait for something that is set is not one)."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name == "sleep" and call.args:
        arg = call.args[0]
        return not (isinstance(arg, ast.Constant) and arg.value in (0, 0.0))
    if name == "wait" and len(call.args) == 1 and id(call) in pauses:
        arg = call.args[0]
        return not isinstance(arg, ast.Constant) or arg.value not in (0, 0.0)
    return False


def _marked(node: ast.AST) -> bool:
    decorators = getattr(node, "decorator_list", [])
    return any("realtime" in ast.unparse(d) for d in decorators)


def offenders(source: str) -> list[str]:
    """The test functions of a module that wait in real time without the ``realtime`` mark."""
    tree = ast.parse(source)
    module_marked = any(
        isinstance(n, ast.Assign)
        and any(getattr(t, "id", "") == "pytestmark" for t in n.targets)
        and "realtime" in ast.unparse(n.value)
        for n in tree.body
    )
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    pauses = _pauses(tree)
    waiting = {
        f.name
        for f in functions
        if any(isinstance(c, ast.Call) and _delay(c, pauses) for c in ast.walk(f))
    }
    changed = True
    while changed:  # helpers that call a waiting helper wait too
        changed = False
        for f in functions:
            names = {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}
            if f.name not in waiting and names & waiting:
                waiting.add(f.name)
                changed = True
    if module_marked:
        return []
    return sorted(
        f.name
        for f in functions
        if f.name.startswith("test_") and f.name in waiting and not _marked(f)
    )


def test_every_test_that_waits_in_real_time_is_marked_realtime() -> None:
    found = {}
    for path in sorted(TESTS.rglob("*.py")):
        names = offenders(path.read_text(encoding="utf-8"))
        if names:
            found[str(path.relative_to(TESTS))] = names
    assert found == {}, "mark them @pytest.mark.realtime(reason=...) or use a virtual clock"


def test_the_check_sees_a_sleep_through_a_helper() -> None:
    source = """
import time, asyncio, threading, pytest
def _until(p):
    while not p():
        threading.Event().wait(0.02)
def test_a(): _until(lambda: True)
@pytest.mark.realtime(reason="a real signal")
def test_b(): time.sleep(1)
async def test_c(): await asyncio.sleep(0)
async def test_d(): await asyncio.sleep(0.5)
"""
    assert offenders(source) == ["test_a", "test_d"]
