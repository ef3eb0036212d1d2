"""The documentation's structure holds: every relative link in the repository's Markdown
points at a file that exists and, with ``#anchor``, at a heading that exists there; every
``docs/<page>.md#section`` a comment or docstring cites names a section of that page; no
comment cites an outside spec. (Prose is not pinned here: the pages' examples run as tests.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_HTML_ID = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.I)
# [text](target) and [text](target "title"), not images' data URIs; targets without spaces.
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_CITE = re.compile(r"\b(docs/[\w./-]+\.md)#([\w-]+)((?:, #[\w-]+)*)")


def _slug(heading: str) -> str:
    """GitHub's heading anchor: markup and punctuation dropped, lowercase, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"[^\w\- ]", "", text.replace("`", "")).strip().lower()
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor a page defines: its headings (GitHub's ``-1``, ``-2`` suffixes for
    repeats) outside code fences, explicit ``<a id=...>`` targets, and the objects a
    ``::: path`` (mkdocstrings) line renders."""
    prose = _FENCE.sub("", markdown)
    found: set[str] = set(_HTML_ID.findall(prose))
    found.update(re.findall(r"^::: ([\w.]+)", prose, re.M))  # mkdocstrings: the object's path
    seen: dict[str, int] = {}
    for heading in _HEADING.findall(prose):
        slug = _slug(heading)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def _markdown_files() -> list[Path]:
    """The Markdown files git tracks (and untracked ones it does not ignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:  # not a git checkout (an sdist): every Markdown file
        return sorted(p for p in ROOT.rglob("*.md") if ".venv" not in p.parts)
    return sorted(ROOT / line for line in listed.stdout.splitlines() if (ROOT / line).exists())


def broken_links(page: Path) -> list[str]:
    """The relative links of ``page`` whose file or anchor does not exist."""
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in _LINK.findall(_FENCE.sub("", text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, mailto:, ...
            continue
        path, _, anchor = target.partition("#")
        there = (page.parent / path).resolve() if path else page
        if not there.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and there.suffix == ".md" and anchor not in anchors(there.read_text("utf-8")):
            broken.append(f"{target} (no such section)")
    return broken


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_and_section_that_exist(page: Path) -> None:
    assert broken_links(page) == [], f"{page.relative_to(ROOT)}: broken links"


def test_every_cited_docs_section_exists() -> None:
    cited: dict[tuple[str, str], set[str]] = {}
    outside = []
    for path in sorted([*(ROOT / "extend_frames").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]):
        text = path.read_text(encoding="utf-8")
        for page, first, more in _CITE.findall(text):
            for anchor in [first, *re.findall(r"#([\w-]+)", more)]:
                cited.setdefault((page, anchor), set()).add(path.name)
        if ROOT / "extend_frames" in path.parents and re.search(r"SPEC(\.md)? ?(§|section)", text):
            outside.append(path.name)
    assert outside == [], f"cite docs/extend-api.md, not the outside spec: {outside}"
    assert sum(page == "docs/extend-api.md" for page, _ in cited) >= 15
    missing = {
        f"{page}#{anchor}": sorted(files)
        for (page, anchor), files in cited.items()
        if not (ROOT / page).exists() or anchor not in anchors((ROOT / page).read_text("utf-8"))
    }
    assert missing == {}, f"no such section: {missing}"


def test_the_checks_see_a_broken_link_and_a_missing_section(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\n## Two words\n\n```\n# not a heading\n```\n")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md#two-words) [ok](#here) [web](https://x.y/z#q)\n\n## Here\n\n"
        "[gone](missing.md) [nosection](a.md#not-a-heading) [self](#nowhere)\n"
    )
    assert broken_links(page) == [
        "missing.md (no such file)",
        "a.md#not-a-heading (no such section)",
        "#nowhere (no such section)",
    ]
    assert anchors('# A\n# A\n<a id="x"></a>\n::: pkg.mod.Name') == {
        "a",
        "a-1",
        "x",
        "pkg.mod.Name",
    }


def _table_rows(page: str) -> dict[str, str]:
    """A docs page's table rows by their first cell (backticks dropped)."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return {r.split("|")[1].strip().replace("`", ""): r for r in rows}


def test_results_guide_lists_every_status_the_code_can_produce() -> None:
    from extend_frames._columns import STATUS_VALUES

    row = _table_rows("guides/results.md")["status"]
    listed = re.findall(r"`([A-Z_]+)`", row.split("(rows are never")[0])
    assert listed == list(STATUS_VALUES)


def test_results_guide_lists_every_result_column() -> None:
    from extend_frames._columns import RESULT_COLUMNS

    rows = _table_rows("guides/results.md")
    documented = {c.strip() for first in rows for c in first.split(",")}
    assert [c for c in RESULT_COLUMNS if c not in documented] == []


def test_results_guide_lists_every_client_side_failure_reason() -> None:
    from extend_frames.jobs import _spec

    reasons = {
        value
        for name, value in vars(_spec).items()
        if name.isupper() and isinstance(value, str) and value == name
    }
    rows = _table_rows("guides/results.md")
    assert {"INVALID_INPUT", "SUBMIT_FAILED"} <= reasons
    assert sorted(r for r in reasons if r not in rows) == []


def test_cli_guide_lists_every_exit_code() -> None:
    from extend_frames.cli._exit import EXIT_CODES

    rows = _table_rows("guides/cli.md")
    assert sorted(int(k) for k in rows if k.isdigit()) == sorted(EXIT_CODES)


def test_docs_state_the_processor_version_rule_the_code_follows() -> None:
    page = " ".join((ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8").split())
    assert "newest published version, or the draft when none is published" in page
    assert "An unpublished processor is not pinned" in page
    results = (ROOT / "docs" / "guides" / "results.md").read_text(encoding="utf-8")
    assert "out.to_pandas()" in results
    assert "out.to_arrow()" in results


def test_readme_is_short_and_links_into_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "bash scripts/demo.sh" in readme
    assert "bash scripts/test.sh" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link
