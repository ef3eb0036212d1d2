"""Every example in docs/ runs, and the API reference names every public name.

The convention (docs/guides pages follow it; see COORDINATION's "docs convention"):

- the ```python blocks of a page run in page order, in one namespace per page;
- its ```bash blocks run with ``bash -e`` in the same directory and environment, with
  ``extend-frames`` on PATH;
- the current directory is a fresh temp directory holding ``samples/`` (12 seeded sample
  documents), and ``EXTEND_API_KEY`` / ``EXTEND_BASE_URL`` point at a fresh emulator (in
  process, instant, no limits, no faults);
- a block preceded by ``<!-- not-run: REASON -->`` (other comment lines may sit between) is
  skipped, and the reason is shown in the test's report.

One test per page, so a failure names the page (and the block's line).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import extend_frames as xf

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
RUN = ("python", "bash")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.+?)\s*-->\s*$")
_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page: its language, first line (1-based) and code."""

    language: str
    line: int
    code: str
    not_run: str | None  # the reason, for a block marked not-run


def blocks(text: str) -> Iterator[Block]:
    """The fenced blocks of a markdown text, in order (indented ones, e.g. in lists, too)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        found = _FENCE.match(lines[i])
        if not found:
            i += 1
            continue
        indent, fence = found.group("indent"), found.group("fence")
        language = found.group("info").strip().split(" ")[0].lower()
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        yield Block(language, start + 1, "\n".join(body) + "\n", _not_run(lines, start))


def _not_run(lines: list[str], fence: int) -> str | None:
    """The reason of a ``<!-- not-run: ... -->`` among the comment lines just above a fence."""
    j = fence - 1
    while j >= 0 and _COMMENT.match(lines[j]):
        marked = _NOT_RUN.match(lines[j])
        if marked:
            return marked.group("reason")
        j -= 1
    return None


@pytest.fixture(scope="module")
def samples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded sample corpus, generated once and copied into each page's directory."""
    from extend_frames.emulator.samples import generate_samples

    root = tmp_path_factory.mktemp("corpus")
    generate_samples(root / "samples", count=12, seed=1)
    return root / "samples"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(
    page: str, samples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from extend_frames.emulator import Emulator

    path = DOCS / page
    found = [b for b in blocks(path.read_text(encoding="utf-8")) if b.language in RUN]
    skipped = [f"{page}:{b.line} ({b.language}): {b.not_run}" for b in found if b.not_run]
    runnable = [b for b in found if not b.not_run]
    if not runnable:
        pytest.skip("; ".join(skipped) if skipped else f"{page} has no example to run")
    for reason in skipped:  # shown in the warnings summary
        warnings.warn(f"not run: {reason}", UserWarning, stacklevel=1)
    shutil.copytree(samples_dir, tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    saved = dict(os.environ)  # a page may set variables for its shell blocks
    bin_dir = str(Path(sys.executable).parent)
    with Emulator() as emu:
        monkeypatch.setenv("EXTEND_API_KEY", emu.api_key)
        monkeypatch.setenv("EXTEND_BASE_URL", emu.url)
        monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ.get("PATH", ""))
        monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        namespace: dict[str, object] = {"__name__": f"docs_{page}"}
        try:
            for block in runnable:
                where = f"{page}:{block.line}"
                if block.language == "python":
                    code = compile(block.code, where, "exec")
                    exec(code, namespace)  # noqa: S102
                else:
                    done = subprocess.run(
                        ["bash", "-e", "-c", block.code],
                        capture_output=True,
                        text=True,
                        timeout=240,
                        check=False,
                    )
                    assert done.returncode == 0, (
                        f"{where}: bash exited {done.returncode}\n"
                        f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
                    )
        finally:
            os.environ.clear()
            os.environ.update(saved)


def test_blocks_are_found_with_their_not_run_reasons() -> None:
    text = (
        "# t\n\n```python\nx = 1\n```\n\n- item\n\n    ```bash\n    echo hi\n    ```\n\n"
        "<!-- not-run: needs the real API -->\n<!-- recipe: r -->\n```python\nboom()\n```\n"
        "```text\nnot code\n```\n"
    )
    found = list(blocks(text))
    assert [(b.language, b.line, b.code, b.not_run) for b in found] == [
        ("python", 3, "x = 1\n", None),
        ("bash", 9, "echo hi\n", None),
        ("python", 15, "boom()\n", "needs the real API"),
        ("text", 18, "not code\n", None),
    ]


def test_the_reference_names_every_public_name() -> None:
    reference = (DOCS / "reference" / "index.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: extend_frames\.(\w+)\s*$", reference, re.M))
    missing = [name for name in xf.__all__ if name not in documented]
    assert missing == [], f"add '::: extend_frames.NAME' to docs/reference/index.md: {missing}"
    spark = (DOCS / "reference" / "spark.md").read_text(encoding="utf-8")
    assert re.search(r"^::: extend_frames\.spark\s*$", spark, re.M)


def test_the_reference_shows_the_operations_made_at_import_time() -> None:
    """extract = blocking(aextract, doc): the reference's griffe extension gives it the
    signature and docstring it has at run time (static reading finds neither)."""
    griffe = pytest.importorskip("griffe", reason="the docs extra is not installed")
    extensions = griffe.load_extensions(f"{ROOT}/scripts/docs_griffe.py:RuntimeFunctions")
    package = griffe.load("extend_frames", search_paths=[ROOT], extensions=extensions)
    for name in ("extract", "aextract", "plan", "read_batch", "collect"):
        function = package[name].final_target
        assert isinstance(function, griffe.Function), name
        assert function.docstring is not None, name
        assert "df" in function.parameters or name in ("read_batch", "collect"), name
    assert "async" in package["aextract"].final_target.labels
    assert package["extract"].final_target.docstring.value.startswith("Extract typed fields")
